"""Product Type Definitions API 2020-09-01, the schema documents it links to, and the approval page link."""

from __future__ import annotations

import base64
import hashlib
import html
import json
from functools import cache
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

import schemas

from .errors import ApiError, error_response, json_response
from .product_types import CATALOG, REQUIREMENTS
from .runtime import Call


@cache
def schema_document(product_type: str, requirements: str, enforced: bool = True) -> bytes:
    """The schema served for one requirements value: the product type's schema with that required set.

    Not enforced (`requirementsEnforced=NOT_ENFORCED`), it keeps every structural rule but no required or
    conditionally required attributes, so a partial payload (a single attribute) can be checked with it.
    """
    schema = dict(CATALOG.schema(product_type))
    required = (CATALOG.info(product_type) or {}).get("requirements", {}).get(requirements)
    if required is not None:
        schema["required"] = required
    if not enforced:
        schema = _without_requirements(schema)
    return json.dumps(schema, ensure_ascii=False, indent=2).encode("utf-8")


def _without_requirements(schema: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in schema.items() if k != "required"}
    conditions = []
    for entry in schema.get("allOf", []):
        branches = {k: _drop_required(entry[k]) for k in ("then", "else") if k in entry}
        if any(branches.values()):
            conditions.append({**entry, **branches})
    if conditions:
        out["allOf"] = conditions
    else:
        out.pop("allOf", None)
    return out


def _drop_required(node: Any) -> Any:
    """A then/else branch without its `required` keywords (also inside anyOf/oneOf/allOf); {} when nothing is left."""
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "required":
            continue
        if key in ("anyOf", "oneOf", "allOf") and isinstance(value, list):
            kept = [b for b in (_drop_required(v) for v in value) if b]
            if kept:
                out[key] = kept
            continue
        out[key] = value
    return {} if set(out) <= {"$comment"} else out


def checksum(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode("ascii")


META_SCHEMA_FILE = "product_types/meta-schema-v1.json"
META_SCHEMA_PATH = "/_sandbox/definitions/meta-schema/v1.json"


@cache
def meta_schema_document() -> bytes:
    """The meta-schema every product-type schema names in `$schema`, served byte for byte from `schemas/`."""
    return schemas.path(META_SCHEMA_FILE).read_bytes()


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
    enforced = q.get("requirementsEnforced", "ENFORCED")
    data = schema_document(product_type, requirements, enforced == "ENFORCED")
    resource = call.sandbox.url(f"/_sandbox/definitions/{product_type}.json?requirements={requirements}"
                                f"&requirementsEnforced={enforced}")
    locale = q.get("locale", "DEFAULT")
    groups = {name: {k: group[k] for k in ("title", "description", "propertyNames") if k in group}
              for name, group in info.get("property_groups", {}).items()}
    meta = meta_schema_document()
    return json_response({
        "metaSchema": {"link": {"resource": call.sandbox.url(META_SCHEMA_PATH), "verb": "GET"},
                       "checksum": checksum(meta)},
        "schema": {"link": {"resource": resource, "verb": "GET"}, "checksum": checksum(data)},
        "requirements": requirements,
        "requirementsEnforced": enforced,
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
    enforced = request.query_params.get("requirementsEnforced", "ENFORCED")
    if CATALOG.info(product_type) is None or requirements not in REQUIREMENTS \
            or enforced not in ("ENFORCED", "NOT_ENFORCED"):
        return error_response(ApiError(404, f"No schema for '{product_type}' ({requirements}, {enforced}).", ""))
    return Response(schema_document(product_type, requirements, enforced == "ENFORCED"), 200,
                    media_type="application/json")


async def serve_meta_schema(request: Request) -> Response:
    return Response(meta_schema_document(), 200, media_type="application/json")


async def approval_page(request: Request) -> Response:
    asin = html.escape(request.query_params.get("asin", ""))
    return Response(f"<html><body><h1>Request approval for {asin}</h1><p>Sandbox placeholder for Seller "
                    "Central's approval request page.</p></body></html>", 200, media_type="text/html")
