"""What a listing looks like from outside: patch application, ASINs, summaries, offers and availability.

Shared by the Listings Items API and the JSON_LISTINGS_FEED processor so both change state the same way.
"""

from __future__ import annotations

import hashlib
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any

import schemas

from .messages import DEFAULT_LOCALE, issue, localized
from .product_types import CATALOG
from .state import Listing, iso

DEFAULT_SELECTORS = ("marketplace_id", "language_tag")
ASIN_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
SUMMARY_IMAGE_PIXELS = 500


@cache
def marketplaces() -> dict[str, dict[str, Any]]:
    return {m["id"]: m for m in schemas.load_json("marketplaces.json")["marketplaces"]}


@cache
def currency_decimals() -> dict[str, int]:
    return {m["currency"]: m.get("currency_decimals", 2) for m in marketplaces().values()}


def assign_asin(seller_id: str, sku: str, attributes: dict[str, Any]) -> str:
    """The ASIN the catalog matches: the merchant-suggested one, else one derived from the external id or SKU."""
    suggested = _first_value(attributes.get("merchant_suggested_asin"))
    if isinstance(suggested, str) and len(suggested) == 10:
        return suggested
    ident = attributes.get("externally_assigned_product_identifier")
    basis = f"ext:{ident[0].get('value')}" if isinstance(ident, list) and ident and isinstance(ident[0], dict) \
        else f"sku:{seller_id}:{sku}"
    number = int.from_bytes(hashlib.sha256(basis.encode()).digest()[:8], "big")
    chars = []
    for _ in range(8):
        number, rest = divmod(number, 36)
        chars.append(ASIN_ALPHABET[rest])
    return "B0" + "".join(chars)


def _first_value(values: Any, marketplace_id: str | None = None) -> Any:
    if not isinstance(values, list):
        return None
    for item in values:
        if isinstance(item, dict) and (marketplace_id is None or item.get("marketplace_id") in (None, marketplace_id)):
            return item.get("value")
    return None


def selectors_of(product_type: str, attribute: str) -> tuple[str, ...]:
    info = CATALOG.info(product_type)
    if info is not None:
        prop = CATALOG.schema(product_type).get("properties", {}).get(attribute, {})
        found = prop.get("selectors") or prop.get("items", {}).get("selectors")
        if found:
            return tuple(found)
    return DEFAULT_SELECTORS


def _matches(item: dict[str, Any], probe: dict[str, Any], selectors: tuple[str, ...]) -> bool:
    keys = [s for s in selectors if s in probe] or list(probe)
    return all(item.get(k) == probe.get(k) for k in keys)


def _deep_merge(base: Any, update: Any) -> Any:
    if isinstance(base, dict) and isinstance(update, dict):
        out = dict(base)
        for key, value in update.items():
            out[key] = _deep_merge(base.get(key), value)
        return out
    return update


def apply_patches(product_type: str, attributes: dict[str, Any], patches: list[dict[str, Any]]
                  ) -> tuple[dict[str, Any], list[dict[str, Any]], list[str]]:
    """New attributes after JSON-Patch-like ops on top-level attributes, issues for unusable patches, and the names
    of the attributes the patches touched.

    Values are shared, not copied, between the request and the stored listing: stored attribute values are never
    changed in place (every operation builds new lists and dicts), so sharing is safe and saves a deep copy per
    request.
    """
    result = dict(attributes)
    problems: list[dict[str, Any]] = []
    touched: list[str] = []
    for patch in patches:
        op, path, value = patch.get("op"), patch.get("path", ""), patch.get("value")
        parts = path.split("/")
        if len(parts) != 3 or parts[0] != "" or parts[1] != "attributes" or not parts[2]:
            problems.append(issue("4000004", "patch_path_invalid", [], "INVALID_ATTRIBUTE", path=path))
            continue
        name = parts[2]
        touched.append(name)
        if op in ("add", "replace"):
            if value is None:
                problems.append(issue("4000005", "patch_no_value", [name], "INVALID_ATTRIBUTE", op=op, name=name))
                continue
            result[name] = value
        elif op == "merge":
            if value is None:
                problems.append(issue("4000005", "patch_no_value", [name], "INVALID_ATTRIBUTE", op=op, name=name))
                continue
            selectors = selectors_of(product_type, name)
            merged = list(result[name]) if isinstance(result.get(name), list) else []
            for item in value:
                for index, existing in enumerate(merged):
                    if isinstance(existing, dict) and _matches(existing, item, selectors):
                        merged[index] = _deep_merge(existing, item)
                        break
                else:
                    merged.append(item)
            result[name] = merged
        elif op == "delete":
            if not value:
                problems.append(issue("4000006", "patch_delete_selectors", [name], "INVALID_ATTRIBUTE", name=name))
                continue
            selectors = selectors_of(product_type, name)
            kept = [i for i in result.get(name, []) or []
                    if not any(isinstance(i, dict) and _matches(i, probe, selectors) for probe in value)]
            if kept:
                result[name] = kept
            else:
                result.pop(name, None)
    return result, problems, touched


def _amount(value: Any, currency: str | None) -> str | None:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    places = currency_decimals().get(currency or "", 2)
    return str(number.quantize(Decimal(1).scaleb(-places))) if places else str(number.quantize(Decimal(1)))


def offers(listing: Listing) -> list[dict[str, Any]]:
    out = []
    for item in listing.attributes.get("purchasable_offer", []) or []:
        if not isinstance(item, dict) or item.get("marketplace_id") not in (None, listing.marketplace_id):
            continue
        try:
            price = item["our_price"][0]["schedule"][0]["value_with_tax"]
        except (KeyError, IndexError, TypeError):
            continue
        currency = item.get("currency") or marketplaces().get(listing.marketplace_id, {}).get("currency", "USD")
        amount = _amount(price, currency)
        if amount is None:
            continue
        audience = item.get("audience", "ALL")
        business = audience == "B2B"
        out.append({"marketplaceId": listing.marketplace_id, "offerType": "B2B" if business else "B2C",
                    "price": {"currencyCode": currency, "amount": amount},
                    "audience": {"value": audience, "displayName": "Amazon Business" if business
                                 else "Sell on Amazon"}})
    return out


def fulfillment(listing: Listing) -> list[dict[str, Any]]:
    out = []
    for item in listing.attributes.get("fulfillment_availability", []) or []:
        if not isinstance(item, dict) or not isinstance(item.get("fulfillment_channel_code"), str):
            continue
        entry: dict[str, Any] = {"fulfillmentChannelCode": item["fulfillment_channel_code"]}
        quantity = item.get("quantity")
        if item["fulfillment_channel_code"] == "DEFAULT" and isinstance(quantity, int) and quantity >= 0:
            entry["quantity"] = quantity
        out.append(entry)
    return out


def statuses(listing: Listing) -> list[str]:
    if listing.suppressed or not listing.asin:
        return []
    out = []
    available = any(f.get("quantity", 0) > 0 or f["fulfillmentChannelCode"] != "DEFAULT" for f in fulfillment(listing))
    if listing.requirements != "LISTING_PRODUCT_ONLY" and offers(listing) and available:
        out.append("BUYABLE")
    out.append("DISCOVERABLE")
    return out


def fn_sku(listing: Listing) -> str | None:
    """The FNSKU Amazon's fulfillment network labels an FBA item with (X00 + 7 characters, fixed per seller and
    SKU); None for merchant-fulfilled listings."""
    if not any(f["fulfillmentChannelCode"] != "DEFAULT" for f in fulfillment(listing)):
        return None
    number = int.from_bytes(hashlib.sha256(f"fnsku:{listing.seller_id}:{listing.sku}".encode()).digest()[:8], "big")
    chars = []
    for _ in range(7):
        number, rest = divmod(number, 36)
        chars.append(ASIN_ALPHABET[rest])
    return "X00" + "".join(chars)


def main_image(listing: Listing) -> dict[str, Any] | None:
    """The summary's `mainImage` from `main_product_image_locator`: the sandbox fetches nothing, so the link is the
    seller's own URL and the size the 500 x 500 rendition Amazon's summaries show (every example in the model)."""
    for item in listing.attributes.get("main_product_image_locator", []) or []:
        if isinstance(item, dict) and item.get("marketplace_id") in (None, listing.marketplace_id) \
                and isinstance(item.get("media_location"), str):
            return {"link": item["media_location"], "height": SUMMARY_IMAGE_PIXELS, "width": SUMMARY_IMAGE_PIXELS}
    return None


def summary(listing: Listing) -> dict[str, Any]:
    out: dict[str, Any] = {"marketplaceId": listing.marketplace_id}
    if listing.asin and not listing.suppressed:
        out["asin"] = listing.asin
    out["productType"] = listing.product_type
    condition = _first_value(listing.attributes.get("condition_type"), listing.marketplace_id)
    if condition in ITEM_CONDITIONS:
        out["conditionType"] = condition
    out["status"] = statuses(listing)
    fnsku = fn_sku(listing)
    if fnsku:
        out["fnSku"] = fnsku
    name = _first_value(listing.attributes.get("item_name"), listing.marketplace_id)
    if isinstance(name, str):
        out["itemName"] = name
    out["createdDate"] = iso(listing.created)
    out["lastUpdatedDate"] = iso(listing.updated)
    image = main_image(listing)
    if image:
        out["mainImage"] = image
    return out


ITEM_CONDITIONS = frozenset([
    "new_new", "new_open_box", "new_oem", "refurbished_refurbished", "used_like_new", "used_very_good",
    "used_good", "used_acceptable", "collectible_like_new", "collectible_very_good", "collectible_good",
    "collectible_acceptable", "club_club"])


def build_item(sku: str, records: list[Listing], included: list[str], locale: str = DEFAULT_LOCALE) -> dict[str, Any]:
    """The Listings API `Item` for a SKU across the requested marketplaces, with only `included` sections and
    issue messages in `locale`."""
    item: dict[str, Any] = {"sku": sku}
    if "summaries" in included:
        item["summaries"] = [summary(r) for r in records]
    if "attributes" in included:
        merged: dict[str, Any] = {}
        for record in records:
            for name, values in record.attributes.items():
                bucket = merged.setdefault(name, [])
                for value in values if isinstance(values, list) else [values]:
                    if value not in bucket:
                        bucket.append(value)
        item["attributes"] = merged
    if "issues" in included:
        item["issues"] = [dict(i, marketplaceIds=[r.marketplace_id]) for r in records
                          for i in localized(r.issues, locale)]
    if "offers" in included:
        item["offers"] = [o for r in records for o in offers(r)]
    if "fulfillmentAvailability" in included:
        seen: list[dict[str, Any]] = []
        for record in records:
            for entry in fulfillment(record):
                if entry not in seen:
                    seen.append(entry)
        item["fulfillmentAvailability"] = seen
    if "procurement" in included:
        item["procurement"] = []
    if "relationships" in included:
        item["relationships"] = [{"marketplaceId": r.marketplace_id, "relationships": []} for r in records]
    if "productTypes" in included:
        item["productTypes"] = [{"marketplaceId": r.marketplace_id, "productType": r.product_type} for r in records]
    return item
