"""Template mapping: canonical attribute JSON built column-wise; the hashes are ingestion's fingerprints."""

from __future__ import annotations

import json
import random

import polars as pl
import pytest

from amz_pipeline.catalog.fingerprints import payload_fingerprints
from amz_pipeline.catalog.mapping import build_payloads
from amz_pipeline.hashing import canonical_json
from tests.catalog.text_frames import text_frame

OFFER_ATTRIBUTES = ("fulfillment_availability", "purchasable_offer")
US = "ATVPDKIKX0DER"
DE = "A1PA6795UKMFR9"
PRODUCT_TYPES = ["PRODUCT", "SHIRT", "SHOES", "LUGGAGE", "HOME", "TOY"]


def _row(i: int, product_type: str, **extra: object) -> dict:
    row = {"row": i, "sku": f"SKU-{i}", "product_type": product_type, "item_name": f"Item {i}", "brand": "Acme",
           "bullet_point_1": "one", "bullet_point_2": "two", "product_description": "desc", "price": "19.99",
           "quantity": "5", "fulfillment_channel": "DEFAULT", "color": "red", "size": "M", "material": "cotton",
           "department": "mens", "country_of_origin": "CN", "external_product_id": "4006381333931",
           "external_product_id_type": "EAN", "batteries_required": "false"}
    row.update(extra)
    return row


def _check_hashes(out: pl.DataFrame, marketplace_id: str) -> None:
    """Canonical JSON, and the same requirements and hashes as ingestion's fingerprints of the source rows."""
    for r in out.iter_rows(named=True):
        attributes = json.loads(r["attributes"])
        assert r["attributes"] == canonical_json(attributes).decode("utf-8")
    sources = out.drop("attributes", "requirements", "payload_hash", "offer_only_hash")
    fingerprints = payload_fingerprints(sources, marketplace_id)
    for column in ("requirements", "payload_hash", "offer_only_hash"):
        assert out[column].to_list() == fingerprints[column].to_list(), column


@pytest.mark.parametrize("product_type", PRODUCT_TYPES)
@pytest.mark.parametrize(("marketplace", "language"), [(US, "en_US"), (DE, "de_DE")])
def test_shape_for_each_product_type(product_type, marketplace, language):
    out = build_payloads(text_frame([_row(1, product_type)]), marketplace)
    assert out.columns[-4:] == ["attributes", "requirements", "payload_hash", "offer_only_hash"]
    attributes = json.loads(out["attributes"][0])
    assert out["requirements"][0] == "LISTING"
    assert attributes["item_name"] == [{"value": "Item 1", "language_tag": language, "marketplace_id": marketplace}]
    for name, instances in attributes.items():
        for instance in instances:
            if name != "fulfillment_availability":
                assert instance["marketplace_id"] == marketplace, name
    offer = attributes["purchasable_offer"]
    assert offer == [{"currency": "USD" if marketplace == US else "EUR", "audience": "ALL",
                      "marketplace_id": marketplace, "our_price": [{"schedule": [{"value_with_tax": 19.99}]}]}]
    assert attributes["fulfillment_availability"] == [{"fulfillment_channel_code": "DEFAULT", "quantity": 5}]
    _check_hashes(out, marketplace)


def test_fba_rows_never_get_a_quantity():
    rows = [_row(1, "SHIRT", fulfillment_channel="AMAZON_NA", quantity="7", handling_time="2"),
            _row(2, "SHIRT", fulfillment_channel="FBA", quantity="7"),
            _row(3, "SHIRT", fulfillment_channel="DEFAULT", quantity="7")]
    out = build_payloads(text_frame(rows), US)
    availability = [json.loads(a)["fulfillment_availability"] for a in out["attributes"]]
    assert availability == [[{"fulfillment_channel_code": "AMAZON_NA"}], [{"fulfillment_channel_code": "AMAZON_NA"}],
                            [{"fulfillment_channel_code": "DEFAULT", "quantity": 7}]]


def test_offer_only_rows_and_business_price():
    rows = [{"row": 1, "sku": "A", "product_type": "SHOES", "merchant_suggested_asin": "B000000001",
             "price": "10", "quantity": "1", "business_price": "9.5"}]
    out = build_payloads(text_frame(rows), US)
    attributes = json.loads(out["attributes"][0])
    assert out["requirements"][0] == "LISTING_OFFER_ONLY"
    assert set(attributes) == {"condition_type", "merchant_suggested_asin", "purchasable_offer",
                               "fulfillment_availability"}
    assert [o["audience"] for o in attributes["purchasable_offer"]] == ["ALL", "B2B"]
    _check_hashes(out, US)


def test_attributes_json_is_merged_over_the_template_and_hashes_hold():
    user = {"color": [{"value": "Blau", "language_tag": "de_DE", "marketplace_id": DE}],
            "special_feature": [{"value": "x"}]}
    rows = [_row(1, "HOME", attributes_json=json.dumps(user)), _row(2, "HOME")]
    out = build_payloads(text_frame(rows), DE)
    merged, plain = (json.loads(a) for a in out["attributes"])
    assert merged["color"] == user["color"] and merged["special_feature"] == user["special_feature"]
    assert plain["color"][0]["value"] == "red"
    assert merged["item_name"][0]["value"] == "Item 1" and merged["brand"] == plain["brand"]
    _check_hashes(out, DE)


def test_price_only_change_changes_only_the_offer():
    before = build_payloads(text_frame([_row(1, "TOY")]), US)
    after = build_payloads(text_frame([_row(1, "TOY", price="21.50", quantity="9")]), US)
    assert before["payload_hash"][0] != after["payload_hash"][0]
    assert before["offer_only_hash"][0] != after["offer_only_hash"][0]
    product = [{k: v for k, v in json.loads(f["attributes"][0]).items() if k not in OFFER_ATTRIBUTES}
               for f in (before, after)]
    assert product[0] == product[1]
    renamed = build_payloads(text_frame([_row(1, "TOY", item_name="Other")]), US)
    assert renamed["offer_only_hash"][0] == before["offer_only_hash"][0]
    assert renamed["payload_hash"][0] != before["payload_hash"][0]


def test_hash_equality_on_hostile_text_and_numbers():
    rng = random.Random(7)
    alphabet = ['"', "\\", "\n", "\t", "\x01", "\x1f", "\x7f", "\u2028", "é", "漢", "😀", "\u0301", "א", "=HYPERLINK(",
                "a", " ", "/", "<b>"]
    rows = []
    for i in range(300):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 12))).strip() or "x"
        price = rng.choice(["0.00001", "1e-7", "19.99", "100000000", "3", "0.1", "12345678.9", "7.25"])
        rows.append(_row(i, rng.choice(PRODUCT_TYPES), item_name=text, brand=text[::-1] or "b", price=price,
                         sale_price="0.5", sale_start_date="2026-01-01", sale_end_date="2026-01-02T10:00:00+02:00"))
    out = build_payloads(text_frame(rows), US)
    assert out.height == 300 and out["row"].to_list() == list(range(300))
    _check_hashes(out, US)
    first = json.loads(out["attributes"][0])
    schedule = first["purchasable_offer"][0]["discounted_price"][0]["schedule"][0]
    assert schedule["end_at"] == "2026-01-02T08:00:00Z" and schedule["start_at"] == "2026-01-01T00:00:00Z"


def test_bad_attributes_json_names_the_row_and_unknown_marketplace_is_clear():
    with pytest.raises(ValueError, match="row 4: attributes_json"):
        build_payloads(text_frame([_row(4, "HOME", attributes_json="[1]")]), US)
    with pytest.raises(ValueError, match="unknown marketplace"):
        build_payloads(text_frame([_row(1, "HOME")]), "NOWHERE")
