"""From ingestion's valid rows and delta actions to queue changes — the one place that chooses an operation.

- `unchanged` → nothing.
- `delete` (declared with `operation=delete`) → DELETE.
- `offer_only` → PATCH, the price/quantity fast path: `replace` of `purchasable_offer` (the whole offer, so a removed
  sale price goes away) and `merge` of `fulfillment_availability` (quantity without resending restock date or lead
  time). Never a full UPDATE.
- `new` / `changed` → UPDATE only when the file is a declared full catalog and the row completes the product type's
  LISTING requirements (UPDATE replaces every attribute on Amazon), else PARTIAL_UPDATE.
- FBA: a fulfillment channel other than DEFAULT never carries a merchant quantity, whatever the row says.
"""

from __future__ import annotations

import json
from typing import Any

import polars as pl

from amz_pipeline.catalog.mapping import attributes_for
from amz_pipeline.publishing.queue import Change, Operation

OFFER_PATCH_OPS = {"purchasable_offer": "replace", "fulfillment_availability": "merge"}


def strip_fba_quantity(attributes: dict[str, Any]) -> dict[str, Any]:
    entries = attributes.get("fulfillment_availability")
    if not isinstance(entries, list):
        return attributes
    cleaned = []
    for entry in entries:
        if isinstance(entry, dict) and entry.get("fulfillment_channel_code", "DEFAULT") != "DEFAULT":
            entry = {k: v for k, v in entry.items() if k != "quantity"}
        cleaned.append(entry)
    return {**attributes, "fulfillment_availability": cleaned}


def offer_patches(attributes: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {"op": op, "path": f"/attributes/{name}", "value": attributes[name]}
        for name, op in OFFER_PATCH_OPS.items()
        if attributes.get(name)
    ]


def change_for(
    *,
    seller_id: str,
    marketplace_id: str,
    sku: str,
    action: str,
    product_type: str | None,
    attributes: dict[str, Any] | None,
    listing_hash: str | None,
    offer_hash: str | None,
    full_catalog: bool,
    requirements_complete: bool = True,
) -> Change | None:
    if action == "unchanged":
        return None
    if action == "delete":
        return Change(seller_id, marketplace_id, sku, Operation.DELETE, None)
    if product_type is None or attributes is None:
        raise ValueError(f"{sku}: a {action} change needs a product type and attributes")
    attributes = strip_fba_quantity(attributes)
    common = {"listing_hash": listing_hash, "offer_hash": offer_hash, "attributes": attributes}
    if action == "offer_only":
        patches = offer_patches(attributes)
        if patches:
            body = {"productType": product_type, "patches": patches}
            return Change(seller_id, marketplace_id, sku, Operation.PATCH, body, **common)
    if full_catalog and requirements_complete:
        body = {"productType": product_type, "requirements": "LISTING", "attributes": attributes}
        return Change(seller_id, marketplace_id, sku, Operation.UPDATE, body, **common)
    body = {"productType": product_type, "attributes": attributes}
    return Change(seller_id, marketplace_id, sku, Operation.PARTIAL_UPDATE, body, **common)


def changes_from_delta(valid: pl.DataFrame, delta: pl.DataFrame, *, seller_id: str, full_catalog: bool) -> list[Change]:
    """Changes for `catalog.delta.compute_delta(...)` output joined back to `IngestResult.valid` (all columns: the
    attribute JSON of the rows to send is built here, `mapping.attributes_for`, unless `valid` already has it)."""
    columns = ["marketplace_id", "sku", "product_type"]
    if "requirements" in valid.columns:
        columns.append("requirements")
    rows = delta.join(valid.select(columns), on=["marketplace_id", "sku"], how="left", maintain_order="left")
    if "attributes" in valid.columns:
        attributes = valid.select("marketplace_id", "sku", "attributes")
    else:
        sending = delta.filter(pl.col("action").is_in(["new", "changed", "offer_only"])).select("marketplace_id", "sku")
        attributes = attributes_for(valid.join(sending, on=["marketplace_id", "sku"], how="semi"))
    rows = rows.join(attributes, on=["marketplace_id", "sku"], how="left", maintain_order="left")
    changes = []
    for row in rows.iter_rows(named=True):
        attributes = json.loads(row["attributes"]) if row.get("attributes") else None
        change = change_for(
            seller_id=seller_id,
            marketplace_id=row["marketplace_id"],
            sku=row["sku"],
            action=row["action"],
            product_type=row.get("product_type"),
            attributes=attributes,
            listing_hash=row.get("payload_hash"),
            offer_hash=row.get("offer_only_hash"),
            full_catalog=full_catalog,
            requirements_complete=(row.get("requirements") or "LISTING") == "LISTING",
        )
        if change is not None:
            changes.append(change)
    return changes
