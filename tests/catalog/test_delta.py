"""Delta against stored listings on SQLite and PostgreSQL: unchanged skipped, new, changed, offer-only, deletes
only when asked for."""

from __future__ import annotations

import json

import polars as pl
import pytest

from amz_pipeline.catalog.delta import classify, compute_delta
from amz_pipeline.hashing import payload_hash
from amz_pipeline.storage.db import make_engine, session_factory
from amz_pipeline.storage.models import Listing, Seller

US = "ATVPDKIKX0DER"
SELLER = "A1SELLERDELTA"


def _attributes(title: str, price: float) -> dict:
    return {
        "item_name": [{"value": title, "marketplace_id": US, "language_tag": "en_US"}],
        "purchasable_offer": [{"marketplace_id": US, "currency": "USD",
                               "our_price": [{"schedule": [{"value_with_tax": price}]}]}],
    }


def _row(row: int, sku: str, title: str, price: float, operation: str | None = None) -> dict:
    attributes = _attributes(title, price)
    return {
        "row": row, "marketplace_id": US, "sku": sku, "product_type": "SHIRT", "operation": operation,
        "attributes": json.dumps(attributes),
        "payload_hash": payload_hash({"productType": "SHIRT", "requirements": "LISTING", "attributes": attributes}),
        "offer_only_hash": payload_hash(attributes["purchasable_offer"]),
    }


def _store(session, sku: str, title: str, price: float, *, accepted_known: bool = True) -> None:
    attributes = _attributes(title, price)
    digest = payload_hash({"productType": "SHIRT", "requirements": "LISTING", "attributes": attributes})
    session.add(Listing(
        seller_id=SELLER, marketplace_id=US, sku=sku, product_type="SHIRT", requirements="LISTING",
        desired_attributes=attributes, desired_payload_hash=digest if accepted_known else "other",
        accepted_payload_hash=digest, accepted_offer_hash=payload_hash(attributes["purchasable_offer"]),
    ))


@pytest.fixture
def session(db_url):
    engine = make_engine(db_url)
    with session_factory(engine)() as session:
        session.add(Seller(seller_id=SELLER, name="delta test"))
        session.flush()
        _store(session, "SAME", "Shirt", 10.0)
        _store(session, "TITLE", "Shirt", 10.0)
        _store(session, "PRICE", "Shirt", 10.0)
        _store(session, "PRICE_UNKNOWN_BASE", "Shirt", 10.0, accepted_known=False)
        _store(session, "GONE", "Shirt", 10.0)
        _store(session, "DEL", "Shirt", 10.0)
        session.commit()
        yield session
    engine.dispose()


def _valid() -> pl.DataFrame:
    return pl.DataFrame([
        _row(2, "SAME", "Shirt", 10.0),
        _row(3, "TITLE", "Shirt, blue", 10.0),
        _row(4, "PRICE", "Shirt", 12.5),
        _row(5, "PRICE_UNKNOWN_BASE", "Shirt", 12.5),
        _row(6, "NEW", "Shirt", 10.0),
        _row(7, "DEL", "Shirt", 10.0, operation="delete"),
    ])


def _actions(delta: pl.DataFrame) -> dict[str, str]:
    return dict(zip(delta["sku"], delta["action"], strict=True))


def test_each_row_is_classified(session):
    delta = compute_delta(_valid(), session, SELLER)
    assert _actions(delta) == {
        "SAME": "unchanged", "TITLE": "changed", "PRICE": "offer_only", "PRICE_UNKNOWN_BASE": "changed",
        "NEW": "new", "DEL": "delete",
    }
    assert delta["row"].to_list() == [2, 3, 4, 5, 6, 7]


def test_missing_skus_are_deleted_only_when_asked(session):
    assert "GONE" not in _actions(compute_delta(_valid(), session, SELLER, full_catalog=True))
    delta = compute_delta(_valid(), session, SELLER, full_catalog=True, delete_missing=True)
    assert _actions(delta)["GONE"] == "delete"
    assert delta.filter(pl.col("sku") == "GONE")["row"].to_list() == [None]
    with pytest.raises(ValueError, match="full_catalog"):
        compute_delta(_valid(), session, SELLER, delete_missing=True)


def test_other_sellers_state_is_ignored(session):
    delta = compute_delta(_valid(), session, "A2OTHERSELLER")
    assert set(delta["action"]) == {"new", "delete"}


def test_classify_is_exact_on_many_rows():
    n = 20_000
    base = pl.DataFrame({
        "row": range(2, n + 2), "marketplace_id": [US] * n, "sku": [f"S{i}" for i in range(n)],
        "product_type": ["SHIRT"] * n, "operation": [None] * n, "attributes": ["{}"] * n,
        "payload_hash": [f"h{i}" for i in range(n)], "offer_only_hash": [f"o{i}" for i in range(n)],
    }, schema_overrides={"operation": pl.String})
    state = base.select("marketplace_id", "sku", pl.col("payload_hash").alias("accepted_payload_hash"))
    changed = set(range(0, n, 100))
    current = base.with_columns(
        pl.when(pl.int_range(pl.len()).is_in(list(changed))).then(pl.col("payload_hash") + "x")
        .otherwise(pl.col("payload_hash")).alias("payload_hash")
    )
    delta = classify(current, state, accepted_attributes=lambda keys: {})
    assert delta["row"].to_list() == base["row"].to_list()
    assert set(delta.filter(pl.col("action") == "changed")["sku"]) == {f"S{i}" for i in changed}
    assert delta.filter(pl.col("action") == "unchanged").height == n - len(changed)


def test_streamed_valid_rows_read_attributes_only_for_changed_rows(session):
    full = _valid()
    slim = full.drop("attributes")
    delta = compute_delta(slim, session, SELLER, attributes_source=full.lazy())
    assert _actions(delta)["PRICE"] == "offer_only"
    with pytest.raises(ValueError, match="attributes_source"):
        compute_delta(slim, session, SELLER)


def test_a_new_product_type_is_never_offer_only(session):
    row = _row(4, "PRICE", "Shirt", 12.5) | {"product_type": "HOME"}
    delta = compute_delta(pl.DataFrame([row]), session, SELLER)
    assert _actions(delta) == {"PRICE": "changed"}
