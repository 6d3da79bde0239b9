"""The product-type meta-schema: our reconstruction of Amazon's, served by getDefinitionsProductType's `metaSchema`
link, and every product-type schema in schemas/product_types/ validating against it (two independent engines)."""

from __future__ import annotations

import base64
import copy
import hashlib
import json

import jsonschema
import jsonschema_rs
import pytest

import schemas
from tests.support.sandbox import SANDBOX_BASE_URL, US

META_SCHEMA_URI = "https://schemas.amazon.com/selling-partners/definitions/product-types/meta-schema/v1"
AMAZON_KEYWORDS = ("editable", "enumNames", "hidden", "maxUniqueItems", "minUniqueItems", "maxUtf8ByteLength",
                   "minUtf8ByteLength", "selectors", "$lifecycle", "replacedBy", "replaces", "enumDeprecated")
PRODUCT_TYPE_FILES = sorted(p.stem for p in schemas.path("product_types").glob("*.json")
                            if p.name not in ("index.json", "meta-schema-v1.json"))


def meta_schema() -> dict:
    return json.loads(schemas.path("product_types/meta-schema-v1.json").read_text(encoding="utf-8"))


def errors_of(schema: dict) -> list[str]:
    """Errors from both engines (jsonschema-rs and the pure-Python reference implementation), which must agree."""
    meta = meta_schema()
    fast = [e.message for e in jsonschema_rs.Draft201909Validator(meta, validate_formats=True).iter_errors(schema)]
    checker = jsonschema.Draft201909Validator.FORMAT_CHECKER
    slow = [e.message for e in jsonschema.Draft201909Validator(meta, format_checker=checker).iter_errors(schema)]
    assert bool(fast) == bool(slow), (fast, slow)
    return fast


def test_meta_schema_is_draft_2019_09_with_amazons_vocabulary():
    meta = meta_schema()
    jsonschema.Draft201909Validator.check_schema(meta)
    assert meta["$id"] == META_SCHEMA_URI and "reconstructed" in meta["$comment"].lower()
    assert meta["$recursiveAnchor"] is True
    assert {"$ref": "https://json-schema.org/draft/2019-09/schema"} in meta["allOf"]
    assert set(AMAZON_KEYWORDS) <= set(meta["$defs"]["amazonVocabulary"]["properties"])


@pytest.mark.parametrize("product_type", PRODUCT_TYPE_FILES)
def test_every_product_type_schema_validates_against_the_meta_schema(product_type):
    schema = schemas.load_json(f"product_types/{product_type}.json")
    assert schema["$schema"] == META_SCHEMA_URI
    assert errors_of(schema) == []


@pytest.mark.parametrize(("where", "keyword", "value"), [
    ("root", "selectors", "marketplace_id"),
    ("attribute", "maxUniqueItems", -1),
    ("attribute", "selectors", ["marketplace_id", "marketplace_id"]),
    ("leaf", "editable", "no"),
    ("leaf", "hidden", 0),
    ("leaf", "maxUtf8ByteLength", 1.5),
    ("leaf", "enumNames", ["label without an enum"]),
    ("leaf", "$lifecycle", {"replacedBy": []}),
    ("leaf", "$lifecycle", {"sunsetDate": "next year"}),
    ("leaf", "enumDeprecated", ["a", "a"]),
])
def test_the_meta_schema_rejects_misused_keywords_at_any_depth(where, keyword, value):
    schema = copy.deepcopy(schemas.load_json("product_types/LUGGAGE.json"))
    item_name = schema["properties"]["item_name"]
    target = {"root": schema, "attribute": item_name, "leaf": item_name["items"]["properties"]["value"]}[where]
    target[keyword] = value
    assert errors_of(schema)


async def test_definition_links_the_meta_schema_with_its_checksum(api):
    body = (await api.get("/definitions/2020-09-01/productTypes/SHOES", params={"marketplaceIds": US})).json()
    link = body["metaSchema"]["link"]
    assert link["verb"] == "GET" and link["resource"].startswith(SANDBOX_BASE_URL + "/")
    served = await api.get(link["resource"], headers={"x-amz-access-token": ""})
    assert served.status_code == 200
    assert served.content == schemas.path("product_types/meta-schema-v1.json").read_bytes()
    assert body["metaSchema"]["checksum"] == base64.b64encode(hashlib.md5(served.content).digest()).decode()
    product_schema = (await api.get(body["schema"]["link"]["resource"])).json()
    assert product_schema["$schema"] == served.json()["$id"]
    assert jsonschema_rs.Draft201909Validator(served.json()).is_valid(product_schema)


async def test_not_enforced_requirements_keep_structure_but_drop_required_attributes(api):
    params = {"marketplaceIds": US, "requirementsEnforced": "NOT_ENFORCED"}
    body = (await api.get("/definitions/2020-09-01/productTypes/LUGGAGE", params=params)).json()
    assert body["requirementsEnforced"] == "NOT_ENFORCED"
    loose = (await api.get(body["schema"]["link"]["resource"])).json()
    enforced_body = (await api.get("/definitions/2020-09-01/productTypes/LUGGAGE",
                                   params={"marketplaceIds": US})).json()
    strict = (await api.get(enforced_body["schema"]["link"]["resource"])).json()
    assert body["schema"]["checksum"] != enforced_body["schema"]["checksum"]
    assert "required" not in loose and strict["required"]
    assert loose["properties"] == strict["properties"]
    single = {"batteries_required": [{"value": True, "marketplace_id": US}]}  # would need num_batteries
    assert jsonschema_rs.Draft201909Validator(loose).is_valid(single)
    assert not jsonschema_rs.Draft201909Validator(strict).is_valid(single)
    wrong = {"batteries_required": [{"value": "yes", "marketplace_id": US}]}
    assert not jsonschema_rs.Draft201909Validator(loose).is_valid(wrong)
    assert errors_of(loose) == []
