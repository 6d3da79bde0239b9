"""The tracked sample catalogs through the real pipeline (product-type gate included): every documented bad row
is rejected, with the documented field where our own gates catch it, warnings stay valid, counts match."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

pytest.importorskip("amz_pipeline.catalog.mapping", reason="template mapping not available yet")

from amz_pipeline.catalog.ingest import ingest  # noqa: E402
from amz_pipeline.catalog.mapping import attributes_for  # noqa: E402

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "samples"
EXPECTED = json.loads((SAMPLES / "expected.json").read_text(encoding="utf-8"))
OWN_STAGES = {"row_schema", "duplicates", "content_policy"}


@pytest.fixture(scope="module", params=sorted(EXPECTED))
def outcome(request, tmp_path_factory):
    name = request.param
    result = ingest(SAMPLES / name, seller_id="A1DEMOSELLER01", rejects_root=tmp_path_factory.mktemp("rejected"))
    return name, EXPECTED[name], result


def test_counts_reconcile(outcome):
    name, expected, result = outcome
    assert result.rows == expected["rows"]
    assert result.rows == result.valid_count + result.rejected_count
    assert result.valid_count == expected["valid_rows"], result.rejects.to_dicts()


def test_every_documented_bad_row_is_rejected_for_its_reason(outcome):
    name, expected, result = outcome
    rejected = result.rejects.group_by("row").agg(pl.col("field"), pl.col("rule"))
    by_row = {row: set(fields) for row, fields, _ in rejected.iter_rows()}
    for bad in expected["rejected"]:
        assert bad["row"] in by_row, f"{name} row {bad['row']} ({bad['defect']}) was not rejected"
        if bad["stage"] in OWN_STAGES:
            assert bad["field"] in by_row[bad["row"]], f"{name} row {bad['row']}: {bad['defect']} → {by_row[bad['row']]}"
    assert set(by_row) == {bad["row"] for bad in expected["rejected"]}


def test_documented_warnings_keep_the_row_valid(outcome):
    name, expected, result = outcome
    valid_rows = set(result.valid["row"])
    for warning in expected["warnings"]:
        assert warning["row"] in valid_rows
        assert warning["row"] in set(result.warnings.filter(pl.col("field") == warning["field"])["row"])


def test_valid_rows_carry_fingerprints_and_build_payloads_on_demand(outcome):
    _, _, result = outcome
    listings = result.valid.filter(pl.col("operation").ne("delete").fill_null(True))
    for column in ("requirements", "payload_hash", "offer_only_hash"):
        assert listings[column].null_count() == 0, column
    assert listings.select("marketplace_id", "sku").is_duplicated().sum() == 0
    built = attributes_for(listings)
    assert built.height == listings.height and built["attributes"].null_count() == 0
    assert all(json.loads(a) for a in built["attributes"])
