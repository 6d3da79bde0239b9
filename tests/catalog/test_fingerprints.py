"""Payload fingerprints: equal fingerprints mean equal payloads; a change to anything the payload is built from changes
the fingerprint; the offer fingerprint moves with price/quantity only."""

from __future__ import annotations

import json
import random

import polars as pl
import pytest

from amz_pipeline.catalog import fingerprints
from amz_pipeline.catalog.fingerprints import payload_fingerprints, template_digest, template_sources
from amz_pipeline.catalog.mapping import build_payloads, load_template, template_for
from tests.catalog.text_frames import text_frame

US = "ATVPDKIKX0DER"
DE = "A1PA6795UKMFR9"
PRODUCT_TYPES = ["PRODUCT", "SHIRT", "SHOES", "LUGGAGE", "HOME", "TOY"]
OFFER = ("fulfillment_availability", "purchasable_offer")
PINNED = ["1284960245530853393905379987089302498167", "0278624322238390111011279757693146528644"]


def _row(i: int, product_type: str = "SHIRT", **extra: object) -> dict:
    row = {"row": i, "sku": f"SKU-{i}", "product_type": product_type, "item_name": f"Item {i}", "brand": "Acme",
           "bullet_point_1": "one", "product_description": "desc", "price": "19.99", "quantity": "5",
           "fulfillment_channel": "DEFAULT", "color": "red", "size": "M", "material": "cotton", "department": "mens",
           "external_product_id": "4006381333931", "external_product_id_type": "EAN", "notes": "internal"}
    row.update(extra)
    return row


def _one(product_type: str = "SHIRT", marketplace: str = US, **extra: object) -> dict:
    return payload_fingerprints(text_frame([_row(1, product_type, **extra)]), marketplace).row(0, named=True)


@pytest.mark.parametrize("product_type", PRODUCT_TYPES)
def test_every_source_cell_moves_the_fingerprint(product_type):
    base = _one(product_type)
    payload_sources, offer_sources = template_sources(template_for(product_type))
    assert set(offer_sources) < set(payload_sources)
    for column in payload_sources:
        changed = _one(product_type, **{column: "something else 7"})
        assert changed["payload_hash"] != base["payload_hash"], column
        assert (changed["offer_only_hash"] != base["offer_only_hash"]) == (column in offer_sources), column


def test_columns_the_template_does_not_read_do_not_count():
    assert "notes" not in template_sources(template_for("SHIRT"))[0]
    hashes = ("requirements", "payload_hash", "offer_only_hash")
    assert [_one(notes="changed")[h] for h in hashes] == [_one()[h] for h in hashes]


def test_missing_column_equals_empty_cell_and_moved_values_differ():
    with_null = payload_fingerprints(text_frame([_row(1, color=None)]), US)
    without = payload_fingerprints(text_frame([_row(1)]).drop("color"), US)
    assert with_null["payload_hash"].to_list() == without["payload_hash"].to_list()
    shifted = [_row(1, brand="a\x1fb", color=None), _row(1, brand="a", color="b"), _row(1, brand="b", color="a"),
               _row(1, brand="a\x00", color=None), _row(1, brand="a", color="\x00"), _row(1, brand="a\x1b0"),
               _row(1, brand=None, color=None), _row(1, brand="", color=None)]
    hashes = payload_fingerprints(text_frame(shifted), US)["payload_hash"].to_list()
    assert len(set(hashes)) == len(hashes)


def test_marketplace_product_type_and_template_version_are_in_the_fingerprint(monkeypatch):
    assert _one(marketplace=US)["payload_hash"] != _one(marketplace=DE)["payload_hash"]
    assert _one("SHIRT")["payload_hash"] != _one("shoes")["payload_hash"]
    assert _one("toy")["payload_hash"] == _one("TOY")["payload_hash"]
    before = _one()
    template_digest.cache_clear()
    monkeypatch.setattr(fingerprints, "FINGERPRINT_VERSION", fingerprints.FINGERPRINT_VERSION + 1)
    try:
        assert _one()["payload_hash"] != before["payload_hash"]
    finally:
        template_digest.cache_clear()


def test_template_digest_follows_the_template_files():
    shirt, offer = load_template("SHIRT"), load_template("_offer")
    assert template_digest(shirt, "SHIRT", US) != template_digest(offer, None, US)
    assert template_digest(shirt, "SHIRT", US) == template_digest(shirt, "SHIRT", US)


def test_equal_fingerprints_mean_equal_payloads():
    """Soundness over a seeded mix: rows that share a fingerprint build byte-identical payloads, and rows whose
    payloads differ never share one."""
    rng = random.Random(11)
    rows = []
    for i in range(400):
        extra = {column: rng.choice(values) for column, values in {
            "color": ["red", "blue", None], "price": ["19.99", "20", "19.990"], "quantity": ["5", "0", None],
            "item_name": ["Item", "Item ", "Other"], "fulfillment_channel": ["DEFAULT", "AMAZON_NA"],
            "notes": ["a", "b"], "attributes_json": [None, json.dumps({"special_feature": [{"value": "x"}]})],
        }.items()}
        rows.append(_row(i, rng.choice(["SHIRT", "TOY"]), sku="SAME", **extra))
    frame = text_frame(rows)
    built = build_payloads(frame, US)
    by_hash: dict[str, set[str]] = {}
    by_payload: dict[tuple[str, str], set[str]] = {}
    for r in built.iter_rows(named=True):
        payload = (r["product_type"], r["attributes"])
        by_hash.setdefault(r["payload_hash"], set()).add(json.dumps(payload))
        by_payload.setdefault(payload, set()).add(r["payload_hash"])
    assert all(len(payloads) == 1 for payloads in by_hash.values())
    assert len(by_hash) > 20  # the mix really varies


def test_offer_only_requirements_match_the_payload_builder():
    rows = [{"row": 1, "sku": "A", "product_type": "SHOES", "merchant_suggested_asin": "B000000001", "price": "10"},
            _row(2, "SHOES", merchant_suggested_asin="B000000002")]
    out = payload_fingerprints(text_frame(rows), US)
    assert out["requirements"].to_list() == ["LISTING_OFFER_ONLY", "LISTING"]
    assert out["requirements"].to_list() == build_payloads(text_frame(rows), US)["requirements"].to_list()


def test_rows_keep_their_order_across_product_types_and_unknown_marketplace_is_clear():
    rows = [_row(i, PRODUCT_TYPES[i % len(PRODUCT_TYPES)]) for i in range(30)]
    out = payload_fingerprints(text_frame(rows), US)
    assert out["row"].to_list() == list(range(30))
    singles = [payload_fingerprints(text_frame([r]), US)["payload_hash"][0] for r in rows]
    assert out["payload_hash"].to_list() == singles
    with pytest.raises(ValueError, match="unknown marketplace"):
        payload_fingerprints(text_frame(rows), "NOPE")


def test_cell_hash_is_the_published_xxh3():
    """Fingerprints are stored; the cell hash must stay XXH3-64 (reference vectors, seed 0) across upgrades."""
    import polars_hash as plh

    out = pl.DataFrame({"x": ["", "a"]}).select(plh.col("x").nchash.xxh3_64())["x"].to_list()
    assert out == [0x2D06800538D394C2, 0xE6C632B61E964E1F]


def test_the_fingerprint_function_is_pinned():
    """Stored fingerprints must not move with a refactoring: a change here republishes every catalog, so it must be
    deliberate (bump FINGERPRINT_VERSION and update the value). Templates are kept out (their digest is an input)."""
    frame = pl.DataFrame({"a": ["x", None], "b": ["y", "z"]})
    sources = {None: ("ab" * 32, ("a", "b", "missing"))}
    hashed = pl.concat([frame, fingerprints._cell_hashes(frame, {"a", "b"})], how="horizontal")
    out = hashed.select(fingerprints._fingerprint(pl.lit(None, pl.String), {"a", "b"}, sources))
    assert out.to_series().to_list() == PINNED
