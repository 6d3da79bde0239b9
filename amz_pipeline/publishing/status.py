"""Per-SKU state and issues as plain data (the `status` command and the Dagster layer)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, select

from amz_pipeline.storage.db import session_factory
from amz_pipeline.storage.models import Listing, ListingIssue


def listing_states(engine: Engine, seller_id: str, *, sku: str | None = None) -> list[dict[str, Any]]:
    """`[{"seller", "marketplace", "sku", "status", "asin", "issues": [{"code", "severity", "message",
    "attributeNames"}]}]`, ordered by marketplace and SKU."""
    with session_factory(engine)() as session:
        query = select(Listing.id, Listing.marketplace_id, Listing.sku, Listing.status, Listing.asin).where(
            Listing.seller_id == seller_id)
        if sku is not None:
            query = query.where(Listing.sku == sku)
        listings = session.execute(query.order_by(Listing.marketplace_id, Listing.sku)).all()
        issues: dict[int, list[dict[str, Any]]] = {}
        ids = [row.id for row in listings]
        for start in range(0, len(ids), 900):
            rows = session.execute(
                select(ListingIssue.listing_id, ListingIssue.code, ListingIssue.severity, ListingIssue.message,
                       ListingIssue.attribute_names)
                .where(ListingIssue.listing_id.in_(ids[start : start + 900]))
                .order_by(ListingIssue.listing_id, ListingIssue.id)
            )
            for listing_id, code, severity, message, names in rows:
                issues.setdefault(listing_id, []).append(
                    {"code": code, "severity": severity, "message": message, "attributeNames": list(names or [])})
    return [
        {"seller": seller_id, "marketplace": row.marketplace_id, "sku": row.sku, "status": row.status,
         "asin": row.asin, "issues": issues.get(row.id, [])}
        for row in listings
    ]
