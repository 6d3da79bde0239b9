"""Ingestion end to end on real files: counts reconcile, rejects carry file rows and reasons, nothing is lost.

The product-type gate (template mapping + product-type validator) is injected here with small stand-ins so these
tests exercise ingestion's own logic; the real gate runs in test_ingest_samples.py.
"""

from __future__ import annotations

import csv
import random

import polars as pl
import pytest

from amz_pipeline.catalog.errors import CatalogReadError
from amz_pipeline.catalog.fingerprints import payload_fingerprints
from amz_pipeline.catalog.ingest import ingest
from tests.catalog.gate_stand_ins import stand_in_validate_attributes

HEADER = ["item_sku", "feed_product_type", "marketplace", "title", "standard_price", "quantity", "color"]


GATE = {"fingerprint": payload_fingerprints, "validate_attributes": stand_in_validate_attributes}


def _write(path, rows, header=HEADER, delimiter=","):
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=delimiter)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def test_mixed_file_reconciles_and_writes_rejects(tmp_path):
    path = _write(tmp_path / "catalog.csv", [
        ["A", "SHIRT", "US", "Cotton Shirt Blue", "12.99", "3", "blue", ""],          # 2 valid
        ["B", "SHIRT", "US", "Cotton Shirt Plaid", "12.99", "3", "plaid", ""],        # 3 product-type reject
        ["", "", "", "", "", "", "", ""],                                              # 4 blank: not a row
        ["C", "SHIRT", "US", "Cotton Shirt - Best Seller", "9.99", "1", "red", ""],   # 5 content policy
        ["D", "SHIRT", "US", "Cotton Shirt Green", "-1", "x", "green", ""],           # 6 two row errors
        ["E", "", "US", "", "", "", "", ""],                                           # 7 product_type required
        ["F", "", "US", "", "", "", "", "delete"],                                     # 8 ...unless deleting
    ], header=[*HEADER, "update_delete"])
    result = ingest(path, seller_id="SELLER1", rejects_root=tmp_path / "rejected", **GATE)
    assert (result.rows, result.valid_count, result.rejected_count, result.blank_rows) == (6, 2, 4, 1)
    assert result.rows == result.valid_count + result.rejected_count
    assert result.valid["sku"].to_list() == ["A", "F"]
    assert result.valid["row"].to_list() == [2, 8]
    assert result.valid.filter(pl.col("sku") == "F")["payload_hash"].to_list() == [None]
    assert set(result.by_rule()) == {"enum", "title_promotional_phrases", "price_not_positive", "quantity_integer",
                                     "product_type_required"}
    assert result.rejects.filter(pl.col("sku") == "D")["rule"].to_list() == ["price_not_positive", "quantity_integer"]
    [rejects_file] = result.rejects_files
    assert rejects_file == tmp_path / "rejected" / "SELLER1" / "US" / "catalog.csv.rejects.csv"
    written = pl.read_csv(rejects_file, infer_schema=False)
    assert written.columns == ["file", "row", "sku", "field", "rule", "severity", "message"]
    assert written["row"].cast(pl.Int64).unique().sort().to_list() == [3, 5, 6, 7]
    assert set(written["file"]) == {"catalog.csv"}


def test_random_catalog_counts_always_reconcile(tmp_path):
    rng = random.Random(7)
    rows = []
    for _ in range(3_000):
        sku = f"SKU-{rng.randrange(2_800)}"  # some duplicates, far apart
        price = rng.choice(["12.99", "0", "abc", "1,5", "7", ""])
        quantity = rng.choice(["1", "-2", "3.0", ""])
        market = rng.choice(["US", "US", "DE", "XX", ""])
        color = rng.choice(["red", "plaid", ""])
        rows.append([sku, "SHIRT", market, "Cotton Shirt", price, quantity, color])
    path = _write(tmp_path / "random.csv", rows)
    result = ingest(path, seller_id="S", batch_rows=500, rejects_root=None, **GATE)
    assert result.rows == 3_000 == result.valid_count + result.rejected_count
    assert result.valid["row"].is_unique().all()
    assert not set(result.valid["row"]) & set(result.rejects["row"])
    # duplicates spanning batches are caught: no SKU repeats within a marketplace among valid rows
    assert result.valid.select("marketplace_id", "sku").is_duplicated().sum() == 0
    dupes = result.rejects.filter(pl.col("rule") == "duplicate_sku")
    assert dupes.height > 0 and (dupes["row"].max() - dupes["row"].min()) > 500


def test_requested_marketplace_rejects_rows_for_other_marketplaces(tmp_path):
    path = _write(tmp_path / "de.csv", [
        ["A", "SHIRT", "", "Baumwollhemd Blau", "12,99", "3", "blau"],
        ["B", "SHIRT", "DE", "Baumwollhemd Rot", "1.234,50", "3", "rot"],
        ["C", "SHIRT", "FR", "Chemise en coton", "12,99", "3", "bleu"],
    ], delimiter=";")
    result = ingest(path, seller_id="S", marketplace="DE", rejects_root=tmp_path / "rej", **GATE)
    assert result.valid["sku"].to_list() == ["A", "B"]
    assert result.valid["price"].to_list() == ["12.99", "1234.50"]
    assert set(result.valid["marketplace_id"]) == {"A1PA6795UKMFR9"}
    assert result.valid["currency"].to_list() == ["EUR", "EUR"]
    assert result.rejects.select("row", "rule").to_dicts() == [{"row": 4, "rule": "marketplace_mismatch"}]
    assert result.rejects_files == [tmp_path / "rej" / "S" / "DE" / "de.csv.rejects.csv"]


def test_a_clean_run_removes_stale_rejects(tmp_path):
    path = _write(tmp_path / "c.csv", [["A", "SHIRT", "US", "Cotton Shirt Blue", "x", "3", "blue"]])
    first = ingest(path, seller_id="S", rejects_root=tmp_path / "rej", **GATE)
    assert first.rejects_files and first.rejects_files[0].exists()
    _write(path, [["A", "SHIRT", "US", "Cotton Shirt Blue", "5", "3", "blue"]])
    second = ingest(path, seller_id="S", rejects_root=tmp_path / "rej", **GATE)
    assert second.rejects_files == [] and not first.rejects_files[0].exists()


def test_ragged_rows_are_rejected_not_fatal(tmp_path):
    path = tmp_path / "ragged.csv"
    lines = [",".join(HEADER)] + [f"S{i},SHIRT,US,Cotton Shirt,5,1,red" for i in range(50)]
    lines[30] += ",surplus"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = ingest(path, seller_id="S", batch_rows=10, rejects_root=None, **GATE)
    assert (result.rows, result.valid_count, result.rejected_count) == (50, 49, 1)
    assert result.rejects.select("row", "rule").to_dicts() == [{"row": 31, "rule": "unreadable_row"}]


def test_warnings_do_not_reject(tmp_path):
    path = _write(tmp_path / "w.csv", [["A", "SHIRT", "US", "COTTON SHIRT BLUE LARGE", "5", "1", "blue"]])
    result = ingest(path, seller_id="S", rejects_root=None, **GATE)
    assert result.valid_count == 1 and result.rejected_count == 0
    assert result.warnings["rule"].to_list() == ["title_all_caps"]


def test_unreadable_file_and_unknown_marketplace(tmp_path):
    (tmp_path / "empty.csv").write_bytes(b"")
    with pytest.raises(CatalogReadError, match="empty"):
        ingest(tmp_path / "empty.csv", seller_id="S", rejects_root=None, **GATE)
    path = _write(tmp_path / "ok.csv", [["A", "SHIRT", "US", "Cotton Shirt", "5", "1", "red"]])
    with pytest.raises(ValueError, match="unknown marketplace 'Atlantis'"):
        ingest(path, seller_id="S", marketplace="Atlantis", rejects_root=None, **GATE)


def test_eligibility_gate_is_consulted(tmp_path):
    header = [*HEADER, "asin"]
    path = _write(tmp_path / "e.csv", [["A", "SHIRT", "US", "Cotton Shirt", "5", "1", "red", "B00RESTRCT"],
                                       ["B", "SHIRT", "US", "Cotton Shirt", "5", "1", "red", "B00FINE000"]], header)
    result = ingest(path, seller_id="S", rejects_root=None,
                    restrictions_lookup=lambda asin, m, c: ["brand approval required"] if asin == "B00RESTRCT" else [],
                    **GATE)
    assert result.valid["sku"].to_list() == ["B"]
    assert result.rejects["rule"].to_list() == ["listing_restricted"]


def test_unicode_titles_survive_and_emoji_is_rejected(tmp_path):
    titles = {
        "CJK": "綿のシャツ 青 Lサイズ",
        "RTL": "قميص قطني أزرق مقاس كبير",
        "COMBINING": "Cafe\u0301 Cotton Shirt Blue",
        "EMOJI": "Cotton Shirt Blue 😀",
    }
    path = _write(tmp_path / "u.csv", [[sku, "SHIRT", "US", title, "5", "1", "blue"] for sku, title in titles.items()])
    result = ingest(path, seller_id="S", rejects_root=None, **GATE)
    assert dict(zip(result.valid["sku"], result.valid["item_name"], strict=True)) == {
        k: v for k, v in titles.items() if k != "EMOJI"
    }
    assert result.rejects.select("sku", "rule").to_dicts() == [{"sku": "EMOJI", "rule": "title_emoji"}]


def test_streaming_valid_rows_to_parquet_keeps_only_slim_columns(tmp_path):
    rows = [[f"S{i}", "SHIRT", "US", "Cotton Shirt", "5", "1", "plaid" if i == 3 else "red"] for i in range(25)]
    path = _write(tmp_path / "s.csv", rows)
    in_memory = ingest(path, seller_id="S", rejects_root=None, batch_rows=10, **GATE)
    streamed = ingest(path, seller_id="S", rejects_root=None, batch_rows=10, valid_dir=tmp_path / "valid", **GATE)
    assert len(list((tmp_path / "valid").glob("part-*.parquet"))) == 3
    assert "attributes" not in streamed.valid.columns and "item_name" not in streamed.valid.columns
    assert streamed.valid["payload_hash"].to_list() == in_memory.valid["payload_hash"].to_list()
    full = streamed.scan_valid().collect()
    assert full.equals(in_memory.valid.select(full.columns))
    assert streamed.valid_count == in_memory.valid_count == 24
