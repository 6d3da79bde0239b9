"""Applying one listing change (put, patch, delete, or a feed message) to the sandbox's state.

The Listings Items API and the JSON_LISTINGS_FEED processor both call `submit`, so a feed message changes a
listing exactly as the matching API call would.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from .listing_model import apply_patches, assign_asin
from .messages import Issue, issue
from .product_types import CATALOG
from .runtime import Sandbox
from .state import Listing


def suppression_issue() -> Issue:
    """What a listing that was accepted and later suppressed carries (the "accepted but not live" fault)."""
    found = issue("18200", "listing_suppressed", [], "INVALID_ATTRIBUTE")
    del found["attributeNames"]
    found["categories"] = []
    found["enforcements"] = {"actions": [{"action": "LISTING_SUPPRESSED"}], "exemption": {"status": "NOT_EXEMPT"}}
    return found



_ABSENT = object()


@dataclass
class Outcome:
    status: str  # ACCEPTED, INVALID or VALID (preview)
    issues: list[Issue] = field(default_factory=list)
    identifiers: list[dict[str, str]] = field(default_factory=list)


def records(sandbox: Sandbox, seller_id: str, sku: str) -> dict[str, Listing]:
    found = sandbox.state.listings.get((seller_id, sku))
    if found:
        now = time.time()
        for listing in found.values():
            refresh_suppression(listing, now)
    return found or {}


def refresh_suppression(listing: Listing, now: float) -> None:
    if listing.suppress_at is not None and listing.suppress_at <= now and not listing.suppressed:
        listing.suppressed = True
        listing.issues = [*listing.issues, suppression_issue()]


def submit(sandbox: Sandbox, *, seller_id: str, sku: str, marketplace_ids: list[str], operation: str,
           product_type: str | None, requirements: str | None = None, attributes: dict[str, Any] | None = None,
           patches: list[dict[str, Any]] | None = None, preview: bool = False, channel: str, ref: str,
           payload: Any, report_style: bool = False) -> Outcome:
    """Validate and (unless `preview`) apply one change for one SKU in the given marketplaces.

    `operation` is PUT/UPDATE (full replace), PARTIAL_UPDATE (replace the given attributes), PATCH or DELETE.
    """
    existing = records(sandbox, seller_id, sku)
    now = time.time()
    if operation == "DELETE":
        if preview:
            return Outcome("VALID")
        for marketplace_id in marketplace_ids:
            if existing.pop(marketplace_id, None) is not None:
                sandbox.state.record_history(seller_id, sku, marketplace_id, now, channel, ref, operation, payload)
        if not existing:
            sandbox.state.listings.pop((seller_id, sku), None)
        sandbox.mark_dirty()
        return Outcome("ACCEPTED")

    assert product_type is not None
    if CATALOG.info(product_type) is None:
        return Outcome("INVALID", [issue("4000001", "product_type_unsupported", [], "INVALID_ATTRIBUTE",
                                         product_type=product_type)])
    problems: list[Issue] = []
    planned: list[tuple[str, dict[str, Any], str]] = []
    for marketplace_id in marketplace_ids:
        current = existing.get(marketplace_id)
        before = current.attributes if current else {}
        reqs = requirements or (current.requirements if current and operation != "PUT" else "LISTING")
        changed: list[str] | None
        if operation in ("PUT", "UPDATE"):
            after = dict(attributes or {})
            changed = [n for n in {**before, **after} if after.get(n, _ABSENT) != before.get(n, _ABSENT)]
        elif operation == "PARTIAL_UPDATE":
            after = {**before, **(attributes or {})}
            changed = list(attributes or {})
        else:
            after, patch_issues, changed = apply_patches(product_type, before, patches or [])
            problems.extend(patch_issues)
        validator = CATALOG.validator(product_type, reqs)
        assert validator is not None
        if current is None or current.checked_by is not validator:
            changed = None  # the stored attributes did not pass this validator: check everything
        for found in validator.validate(after, before or None, report_style, changed):
            if found not in problems:
                problems.append(found)
        planned.append((marketplace_id, after, reqs))

    errors = [p for p in problems if p["severity"] == "ERROR"]
    asin = next((r.asin for r in existing.values() if r.asin), None)
    if errors:
        return Outcome("INVALID", problems)
    if preview:
        identifiers = [{"marketplaceId": m, "asin": asin or assign_asin(seller_id, sku, a)} for m, a, _ in planned]
        return Outcome("VALID", problems, identifiers)

    bucket = sandbox.state.listings.setdefault((seller_id, sku), {})
    identifiers = []
    for marketplace_id, after, reqs in planned:
        current = bucket.get(marketplace_id)
        listing_asin = asin or assign_asin(seller_id, sku, after)
        if current is None:
            current = bucket[marketplace_id] = Listing(seller_id, sku, marketplace_id, product_type, reqs, after,
                                                       listing_asin, now, now)
        else:
            current.product_type, current.requirements, current.attributes = product_type, reqs, after
            current.updated = now
            current.asin = current.asin or listing_asin
            current.suppressed, current.suppress_at = False, None
        current.issues = [p for p in problems if p["severity"] != "ERROR"]
        current.checked_by = CATALOG.validator(product_type, reqs)
        delay = sandbox.faults.suppression_delay() if sandbox.config.faults else None
        if delay is not None:
            current.suppress_at = now + delay
            refresh_suppression(current, now)
        identifiers.append({"marketplaceId": marketplace_id, "asin": current.asin})
        sandbox.state.record_history(seller_id, sku, marketplace_id, now, channel, ref, operation, payload)
    sandbox.mark_dirty()
    return Outcome("ACCEPTED", problems, identifiers)
