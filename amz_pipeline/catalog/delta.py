"""Delta: what each valid row means against what Amazon last accepted for (seller, marketplace, SKU).

Actions:
- `unchanged` — the row's `payload_hash` equals the stored `accepted_payload_hash`: nothing to send.
- `new` — no stored listing, or none ever accepted.
- `offer_only` — the payload changed but only in price/quantity (`purchasable_offer`, `fulfillment_availability`):
  publishing can send a cheap patch. Decided by comparing the product part (product type and every other
  attribute) with the stored accepted payload; when the accepted attributes are not known, the row is `changed`
  (a full update is always correct, a wrong patch is not).
- `changed` — anything else that differs.
- `delete` — the row says `operation=delete`, or (only with `full_catalog=True` AND `delete_missing=True`) a
  stored listing's SKU is absent from the file. Never by default.

State is read in bulk (one `select` per marketplace, and the accepted attributes only for rows whose payload
changed, in chunks), never one query per row.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

import polars as pl
import sqlalchemy as sa
from sqlalchemy.orm import Session

from amz_pipeline.catalog.ingest import SLIM_COLUMNS
from amz_pipeline.catalog.mapping import attributes_for
from amz_pipeline.storage.models import Listing

OFFER_ATTRIBUTES = frozenset({"purchasable_offer", "fulfillment_availability"})
STATE_SCHEMA = {"marketplace_id": pl.String, "sku": pl.String, "accepted_payload_hash": pl.String}
DELTA_COLUMNS = ("row", "marketplace_id", "sku", "action", "payload_hash", "offer_only_hash")
_CHUNK = 500


def load_state(session: Session, seller_id: str, marketplace_ids: Iterable[str]) -> pl.DataFrame:
    """Stored listings of one seller in the given marketplaces (columns: `STATE_SCHEMA`, the least the
    classification needs, because this is the one read that scales with the catalog)."""
    statement = sa.select(Listing.marketplace_id, Listing.sku, Listing.accepted_payload_hash).where(Listing.seller_id == seller_id, Listing.marketplace_id.in_(sorted(set(marketplace_ids))))
    rows = session.execute(statement).all()
    return pl.DataFrame(rows, schema=STATE_SCHEMA, orient="row")


def load_accepted_attributes(
    session: Session, seller_id: str, keys: Sequence[tuple[str, str]],
) -> dict[tuple[str, str], tuple[str | None, dict[str, Any]]]:
    """(product type, accepted attributes) per (marketplace_id, sku), where known: the stored desired attributes
    when their hash is the accepted one."""
    found: dict[tuple[str, str], tuple[str | None, dict[str, Any]]] = {}
    by_marketplace: dict[str, list[str]] = {}
    for marketplace_id, sku in keys:
        by_marketplace.setdefault(marketplace_id, []).append(sku)
    for marketplace_id, skus in by_marketplace.items():
        for start in range(0, len(skus), _CHUNK):
            statement = sa.select(Listing.sku, Listing.product_type, Listing.desired_attributes).where(
                Listing.seller_id == seller_id,
                Listing.marketplace_id == marketplace_id,
                Listing.sku.in_(skus[start:start + _CHUNK]),
                Listing.desired_payload_hash == Listing.accepted_payload_hash,
                Listing.desired_attributes.is_not(None),
            )
            for sku, product_type, attributes in session.execute(statement):
                found[(marketplace_id, sku)] = (product_type, attributes)
    return found


def _product_part(attributes: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in attributes.items() if k not in OFFER_ATTRIBUTES}


def compute_delta(
    valid: pl.DataFrame,
    session: Session,
    seller_id: str,
    *,
    full_catalog: bool = False,
    delete_missing: bool = False,
    attributes_source: pl.LazyFrame | None = None,
) -> pl.DataFrame:
    """Classify every row of `IngestResult.valid` (plus, on request, deletes of missing SKUs).

    Attributes are needed only for rows whose payload changed and whose accepted attributes are known; they are
    built then (`mapping.attributes_for`) from `valid` or, when ingestion streamed to `valid_dir` and `valid` holds
    only the slim columns, from `attributes_source=result.scan_valid()`.
    Returns `DELTA_COLUMNS`; missing-SKU deletes have a null `row`.
    """
    marketplace_ids = valid["marketplace_id"].unique().drop_nulls().to_list()
    state = load_state(session, seller_id, marketplace_ids)
    return classify(
        valid, state,
        accepted_attributes=lambda keys: load_accepted_attributes(session, seller_id, keys),
        full_catalog=full_catalog, delete_missing=delete_missing, attributes_source=attributes_source,
    )


def classify(
    valid: pl.DataFrame,
    state: pl.DataFrame,
    *,
    accepted_attributes,
    full_catalog: bool = False,
    delete_missing: bool = False,
    attributes_source: pl.LazyFrame | None = None,
) -> pl.DataFrame:
    """Pure classification; `accepted_attributes(keys) -> {(marketplace_id, sku): (product_type, attributes)}` is
    asked only for rows whose payload changed."""
    if delete_missing and not full_catalog:
        raise ValueError("delete_missing needs full_catalog=True: a partial file says nothing about absent SKUs")
    columns = ["row", "marketplace_id", "sku", "product_type", "operation", "payload_hash", "offer_only_hash"]
    if attributes_source is None:
        if "attributes" not in valid.columns and set(valid.columns) <= set(SLIM_COLUMNS):
            raise ValueError("slim valid rows (ingestion streamed to valid_dir) need "
                             "attributes_source=IngestResult.scan_valid() to build the changed rows' payloads")
        attributes_source = valid.lazy()
    joined = valid.select(columns).join(state, on=["marketplace_id", "sku"], how="left", maintain_order="left")
    deleting = pl.col("operation").eq("delete").fill_null(False)
    action = (
        pl.when(deleting).then(pl.lit("delete"))
        .when(pl.col("accepted_payload_hash").is_null()).then(pl.lit("new"))
        .when(pl.col("payload_hash") == pl.col("accepted_payload_hash")).then(pl.lit("unchanged"))
        .otherwise(pl.lit("changed"))
    )
    joined = joined.with_columns(action.alias("action"))
    joined = _tag_offer_only(joined, accepted_attributes, attributes_source)
    result = joined.select(DELTA_COLUMNS)
    if full_catalog and delete_missing:
        missing = state.join(valid.select("marketplace_id", "sku"), on=["marketplace_id", "sku"], how="anti")
        deletes = missing.select(
            pl.lit(None, pl.Int64).alias("row"), "marketplace_id", "sku", pl.lit("delete").alias("action"),
            pl.lit(None, pl.String).alias("payload_hash"), pl.lit(None, pl.String).alias("offer_only_hash"),
        )
        result = pl.concat([result, deletes.sort("marketplace_id", "sku")])
    return result


def _tag_offer_only(joined: pl.DataFrame, accepted_attributes, attributes_source: pl.LazyFrame) -> pl.DataFrame:
    changed = joined.filter(pl.col("action") == "changed")
    if not changed.height:
        return joined
    accepted = accepted_attributes(list(zip(changed["marketplace_id"], changed["sku"], strict=True)))
    if not accepted:
        return joined  # nothing known to compare with: every change stays a full `changed`
    known = pl.DataFrame(list(accepted), schema={"marketplace_id": pl.String, "sku": pl.String}, orient="row")
    candidates = changed.join(known, on=["marketplace_id", "sku"], how="semi")
    # Filter on the SKU column first so Parquet readers skip every other row; build only these payloads.
    source_rows = (
        attributes_source.filter(pl.col("sku").is_in(candidates["sku"].implode())).collect()
        .join(candidates.select("marketplace_id", "sku"), on=["marketplace_id", "sku"], how="semi")
    )
    candidates = source_rows.select("marketplace_id", "sku", "attributes") if "attributes" in source_rows.columns \
        else attributes_for(source_rows)
    product_types = dict(zip(zip(changed["marketplace_id"], changed["sku"], strict=True), changed["product_type"],
                             strict=True))
    offer_only = []
    for marketplace_id, sku, attributes in candidates.iter_rows():
        stored_type, stored_attributes = accepted[(marketplace_id, sku)]
        if attributes is not None and stored_type == product_types[(marketplace_id, sku)] \
                and _product_part(json.loads(attributes)) == _product_part(stored_attributes):
            offer_only.append((marketplace_id, sku))
    if not offer_only:
        return joined
    tags = pl.DataFrame(offer_only, schema={"marketplace_id": pl.String, "sku": pl.String}, orient="row")
    tags = tags.with_columns(pl.lit(True).alias("_offer_only"))
    return joined.join(tags, on=["marketplace_id", "sku"], how="left", maintain_order="left").with_columns(
        pl.when(pl.col("_offer_only").fill_null(False)).then(pl.lit("offer_only")).otherwise(pl.col("action"))
        .alias("action")
    ).drop("_offer_only")
