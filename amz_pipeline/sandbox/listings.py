"""Listings Items API 2021-08-01 and Listings Restrictions API 2021-08-01."""

from __future__ import annotations

import base64
import json
import re
import time
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from .errors import ApiError, json_response
from .listing_model import build_item, fn_sku, fulfillment, statuses
from .messages import DEFAULT_LOCALE, localized, resolve_locale, text
from .runtime import Call, new_id
from .state import Listing, parse_iso
from .submissions import records, refresh_suppression, submit

# Amazon's static sandbox fixture: this SKU always answers 400 (x-amzn-api-sandbox in the model).
BAD_SKU = "BadSKU"
BAD_SKU_ERROR = ApiError(400, "Invalid input", "Invalid input", code="BAD_REQUEST")
SEARCH_CAP = 1000
ASIN_RE = re.compile(r"^[A-Z0-9]{10}$")


def _common(call: Call, sku: str | None = None) -> list[str]:
    call.sandbox.check_seller(call, call.path["sellerId"])
    if sku == BAD_SKU:
        raise BAD_SKU_ERROR
    marketplace_ids = call.query["marketplaceIds"]
    call.sandbox.check_marketplaces(call, marketplace_ids)
    return marketplace_ids


def _locale(call: Call, marketplace_ids: list[str]) -> str:
    return resolve_locale(call.query.get("issueLocale"), marketplace_ids)


def _finish(call: Call, marketplace_ids: list[str], sku: str, submission_id: str, outcome: Any,
            included: list[str]) -> Response:
    body: dict[str, Any] = {"sku": sku, "status": outcome.status, "submissionId": submission_id}
    if "issues" in included:
        body["issues"] = localized(outcome.issues, _locale(call, marketplace_ids))
    if "identifiers" in included:
        body["identifiers"] = outcome.identifiers
    return json_response(body)


def _submit_included(call: Call) -> tuple[list[str], bool]:
    included = call.query.get("includedData") or ["issues"]
    preview = call.query.get("mode") == "VALIDATION_PREVIEW"
    if "identifiers" in included and not preview:
        raise ApiError(400, "Invalid input", "includedData=identifiers is allowed only with mode=VALIDATION_PREVIEW.")
    return included, preview


async def put_item(call: Call) -> Response:
    sku = call.path["sku"]
    marketplace_ids = _common(call, sku)
    included, preview = _submit_included(call)
    body = call.body
    submission_id = new_id()
    outcome = submit(call.sandbox, seller_id=call.seller_id, sku=sku, marketplace_ids=marketplace_ids,
                     operation="PUT", product_type=body["productType"], requirements=body.get("requirements"),
                     attributes=body["attributes"], preview=preview, channel="listings", ref=submission_id, payload=body)
    return _finish(call, marketplace_ids, sku, submission_id, outcome, included)


async def patch_item(call: Call) -> Response:
    sku = call.path["sku"]
    marketplace_ids = _common(call, sku)
    included, preview = _submit_included(call)
    body = call.body
    submission_id = new_id()
    outcome = submit(call.sandbox, seller_id=call.seller_id, sku=sku, marketplace_ids=marketplace_ids,
                     operation="PATCH", product_type=body["productType"], patches=body["patches"], preview=preview,
                     channel="listings", ref=submission_id, payload=body["patches"])
    return _finish(call, marketplace_ids, sku, submission_id, outcome, included)


async def delete_item(call: Call) -> Response:
    sku = call.path["sku"]
    marketplace_ids = _common(call, sku)
    submission_id = new_id()
    outcome = submit(call.sandbox, seller_id=call.seller_id, sku=sku, marketplace_ids=marketplace_ids,
                     operation="DELETE", product_type=None, channel="listings", ref=submission_id, payload=None)
    return _finish(call, marketplace_ids, sku, submission_id, outcome, ["issues"])


async def get_item(call: Call) -> Response:
    sku = call.path["sku"]
    marketplace_ids = _common(call, sku)
    found = records(call.sandbox, call.seller_id, sku)
    selected = [found[m] for m in marketplace_ids if m in found]
    if not selected:
        raise ApiError(404, f"SKU '{sku}' not found in marketplace(s) {', '.join(marketplace_ids)}.", "")
    included = call.query.get("includedData") or ["summaries"]
    return json_response(build_item(sku, selected, included, _locale(call, marketplace_ids)))


IDENTIFIER_ATTRIBUTES = {"EAN": "ean", "UPC": "upc", "GTIN": "gtin", "ISBN": "isbn", "JAN": "jan"}


def _identifier_match(sku: str, records_: list[Listing], kind: str, wanted: set[str]) -> bool:
    if kind == "SKU":
        return sku in wanted
    if kind == "ASIN":
        return any(r.asin in wanted for r in records_)
    if kind == "FNSKU":
        return any(fn_sku(r) in wanted for r in records_)
    for record in records_:
        for ident in record.attributes.get("externally_assigned_product_identifier", []) or []:
            if isinstance(ident, dict) and str(ident.get("type", "")).lower() == IDENTIFIER_ATTRIBUTES.get(kind) \
                    and str(ident.get("value")) in wanted:
                return True
    return False


async def search_items(call: Call) -> Response:
    marketplace_ids = _common(call)
    q = call.query
    identifiers = q.get("identifiers")
    if identifiers and not q.get("identifiersType"):
        raise ApiError(400, "Invalid input", "identifiersType is required with identifiers.")
    if identifiers and (q.get("variationParentSku") or q.get("packageHierarchySku")):
        raise ApiError(400, "Invalid input", "identifiers cannot be combined with variationParentSku or "
                       "packageHierarchySku.")
    if q.get("variationParentSku") and q.get("packageHierarchySku"):
        raise ApiError(400, "Invalid input", "variationParentSku and packageHierarchySku are mutually exclusive.")
    bounds = {}
    for name in ("createdAfter", "createdBefore", "lastUpdatedAfter", "lastUpdatedBefore"):
        if name in q:
            try:
                bounds[name] = parse_iso(q[name])
            except ValueError:
                raise ApiError(400, "Invalid input", f"{name} must be an ISO 8601 date-time.") from None
    page_size = q.get("pageSize", 10)
    if page_size < 1:
        raise ApiError(400, "Invalid input", "pageSize must be at least 1.")
    now = time.time()
    matches: list[tuple[str, list[Listing]]] = []
    for (seller_id, sku), by_market in call.sandbox.state.listings.items():
        if seller_id != call.seller_id:
            continue
        selected = [by_market[m] for m in marketplace_ids if m in by_market]
        if not selected:
            continue
        for record in selected:
            refresh_suppression(record, now)
        if identifiers and not _identifier_match(sku, selected, q["identifiersType"], set(identifiers)):
            continue
        if q.get("variationParentSku") or q.get("packageHierarchySku"):
            continue  # the sandbox keeps no relationships
        created = min(r.created for r in selected)
        updated = max(r.updated for r in selected)
        if "createdAfter" in bounds and created < bounds["createdAfter"]:
            continue
        if "createdBefore" in bounds and created > bounds["createdBefore"]:
            continue
        if "lastUpdatedAfter" in bounds and updated < bounds["lastUpdatedAfter"]:
            continue
        if "lastUpdatedBefore" in bounds and updated > bounds["lastUpdatedBefore"]:
            continue
        status_set = {s for r in selected for s in statuses(r)}
        if q.get("withStatus") and not status_set.intersection(q["withStatus"]):
            continue
        if q.get("withoutStatus") and status_set.intersection(q["withoutStatus"]):
            continue
        if q.get("withIssueSeverity"):
            severities = {i["severity"] for r in selected for i in r.issues}
            if not severities.intersection(q["withIssueSeverity"]):
                continue
        matches.append((sku, selected))
    sort_by = q.get("sortBy", "lastUpdatedDate")
    keys = {"sku": lambda m: m[0], "createdDate": lambda m: (min(r.created for r in m[1]), m[0]),
            "lastUpdatedDate": lambda m: (max(r.updated for r in m[1]), m[0])}
    matches.sort(key=keys[sort_by], reverse=q.get("sortOrder", "DESC") == "DESC")
    matches = matches[:SEARCH_CAP]
    offset = _decode_page_token(q.get("pageToken"))
    page = matches[offset:offset + page_size]
    included = q.get("includedData") or ["summaries"]
    locale = _locale(call, marketplace_ids)
    body: dict[str, Any] = {"numberOfResults": len(matches),
                            "items": [build_item(sku, recs, included, locale) for sku, recs in page]}
    pagination = {}
    if offset + page_size < len(matches):
        pagination["nextToken"] = _encode_page_token(offset + page_size)
    if offset > 0:
        pagination["previousToken"] = _encode_page_token(max(0, offset - page_size))
    if pagination:
        body["pagination"] = pagination
    return json_response(body)


def _encode_page_token(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"o": offset}).encode()).decode().rstrip("=")


def _decode_page_token(token: str | None) -> int:
    if not token:
        return 0
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        return max(0, int(data["o"]))
    except (ValueError, KeyError, TypeError):
        raise ApiError(400, "Invalid input", "Invalid pageToken.") from None


async def get_restrictions(call: Call) -> Response:
    q = call.query
    call.sandbox.check_seller(call, q["sellerId"])
    if not ASIN_RE.match(q["asin"]):
        raise ApiError(400, "Invalid 'asin' provided.", "")
    marketplace_ids = q["marketplaceIds"]
    call.sandbox.check_marketplaces(call, marketplace_ids)
    gated = call.sandbox.config.gated_asins
    restricted = q["asin"] in gated.get(call.seller_id, []) or q["asin"] in gated.get("*", [])
    restrictions = []
    if restricted:
        locale = resolve_locale(q.get("reasonLocale"), marketplace_ids)
        for marketplace_id in marketplace_ids:
            entry: dict[str, Any] = {"marketplaceId": marketplace_id}
            if "conditionType" in q:
                entry["conditionType"] = q["conditionType"]
            entry["reasons"] = [{
                "message": text("approval_required", locale),
                "reasonCode": "APPROVAL_REQUIRED",
                "links": [{"resource": call.sandbox.url(f"/_sandbox/approval?asin={q['asin']}"), "verb": "GET",
                           "title": text("approval_link_title", locale), "type": "text/html"}]}]
            restrictions.append(entry)
    return json_response({"restrictions": restrictions})


def sandbox_listing_view(listing: Listing) -> dict[str, Any]:
    """The admin API's view of one stored listing."""
    refresh_suppression(listing, time.time())
    return {"sku": listing.sku, "marketplace_id": listing.marketplace_id, "product_type": listing.product_type,
            "requirements": listing.requirements, "status": statuses(listing),
            "asin": None if listing.suppressed else listing.asin, "attributes": listing.attributes,
            "issues": localized(listing.issues, DEFAULT_LOCALE), "fulfillment_availability": fulfillment(listing)}


def route(operation_id: str, handler: Any) -> Any:
    async def endpoint(request: Request) -> Response:
        return await request.app.state.sandbox.handle(request, operation_id, handler)

    endpoint.__name__ = operation_id
    return endpoint
