"""Product Type Definitions API 2020-09-01, the schema documents it links to, and the approval page link."""

from __future__ import annotations

import base64
import hashlib
import html
import json
from functools import cache

from starlette.requests import Request
from starlette.responses import Response

from .errors import ApiError, error_response, json_response
from .product_types import CATALOG, REQUIREMENTS
from .runtime import Call


@cache
def schema_document(product_type: str, requirements: str) -> bytes:
    """The schema served for one requirements value: the product type's schema with that required set."""
    schema = dict(CATALOG.schema(product_type))
    required = (CATALOG.info(product_type) or {}).get("requirements", {}).get(requirements)
    if required is not None:
        schema["required"] = required
    return json.dumps(schema, ensure_ascii=False, indent=2).encode("utf-8")


def checksum(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode("ascii")


@cache
def catalog_version() -> str:
    versions = "|".join(f"{name}:{CATALOG.info(name).get('version', '')}" for name in CATALOG.names())
    return base64.b64encode(hashlib.sha256(versions.encode()).digest()[:9]).decode()


async def search(call: Call) -> Response:
    q = call.query
    call.sandbox.check_marketplaces(call, q["marketplaceIds"])
    if q.get("keywords") and q.get("itemName"):
        raise ApiError(400, "Invalid input", "keywords and itemName cannot be used together.")
    words = [w.lower() for w in q.get("keywords") or []]
    if q.get("itemName"):
        words = [w.lower() for w in q["itemName"].split() if len(w) > 2]
    found = []
    for name in CATALOG.names():
        info = CATALOG.info(name) or {}
        text = f"{name} {info.get('display_name', '')}".lower().replace("_", " ")
        if words and not any(word in text for word in words):
            continue
        found.append({"name": name, "displayName": info.get("display_name", name),
                      "marketplaceIds": list(q["marketplaceIds"])})
    return json_response({"productTypes": found, "productTypeVersion": catalog_version()})


async def get_definition(call: Call) -> Response:
    q = call.query
    product_type = call.path["productType"]
    marketplace_ids = q["marketplaceIds"]
    if len(marketplace_ids) != 1:
        raise ApiError(400, "Invalid input", "Exactly one marketplaceId is allowed.")
    call.sandbox.check_marketplaces(call, marketplace_ids)
    if "sellerId" in q:
        call.sandbox.check_seller(call, q["sellerId"])
    info = CATALOG.info(product_type)
    if info is None:
        raise ApiError(404, f"Product type '{product_type}' was not found.", "")
    version = q.get("productTypeVersion", "LATEST")
    if version not in ("LATEST", "RELEASE_CANDIDATE", info.get("version")):
        raise ApiError(400, "Invalid input", f"Unknown productTypeVersion '{version}'.")
    requirements = q.get("requirements", "LISTING")
    data = schema_document(product_type, requirements)
    resource = call.sandbox.url(f"/_sandbox/definitions/{product_type}.json?requirements={requirements}")
    locale = q.get("locale", "DEFAULT")
    groups = {name: {k: group[k] for k in ("title", "description", "propertyNames") if k in group}
              for name, group in info.get("property_groups", {}).items()}
    return json_response({
        "schema": {"link": {"resource": resource, "verb": "GET"}, "checksum": checksum(data)},
        "requirements": requirements,
        "requirementsEnforced": q.get("requirementsEnforced", "ENFORCED"),
        "propertyGroups": groups,
        "locale": "en_US" if locale == "DEFAULT" else locale,
        "marketplaceIds": marketplace_ids,
        "productType": product_type,
        "displayName": info.get("display_name", product_type),
        "productTypeVersion": {"version": info.get("version", "1"), "latest": True, "releaseCandidate": False},
    })


async def serve_schema(request: Request) -> Response:
    product_type = request.path_params["productType"]
    requirements = request.query_params.get("requirements", "LISTING")
    if CATALOG.info(product_type) is None or requirements not in REQUIREMENTS:
        return error_response(ApiError(404, f"No schema for '{product_type}' ({requirements}).", ""))
    return Response(schema_document(product_type, requirements), 200, media_type="application/json")


async def approval_page(request: Request) -> Response:
    asin = html.escape(request.query_params.get("asin", ""))
    return Response(f"<html><body><h1>Request approval for {asin}</h1><p>Sandbox placeholder for Seller "
                    "Central's approval request page.</p></body></html>", 200, media_type="text/html")
