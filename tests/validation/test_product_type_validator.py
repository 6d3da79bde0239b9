"""The per-payload product-type validator: draft 2019-09 plus every keyword of Amazon's vocabulary."""

from __future__ import annotations

import copy

import pytest

from amz_pipeline.validation.product_types import CompiledProductType, ProductTypeRegistry, checksum_of
from amz_pipeline.validation.product_types.vocabulary import compile_checks

M = "ATVPDKIKX0DER"

SMALL = {
    "$schema": "https://schemas.amazon.com/selling-partners/definitions/product-types/meta-schema/v1",
    "$defs": {"marketplace_id": {"type": "string", "editable": False, "hidden": True}},
    "type": "object",
    "required": ["item_name", "bullet_point"],
    "properties": {
        "item_name": {"type": "array", "minItems": 1, "maxUniqueItems": 1, "minUniqueItems": 1,
                      "selectors": ["marketplace_id", "language_tag"],
                      "items": {"type": "object", "required": ["value"], "additionalProperties": False,
                                "properties": {"value": {"type": "string", "maxLength": 10, "maxUtf8ByteLength": 12,
                                                         "minUtf8ByteLength": 2},
                                               "language_tag": {"type": "string"},
                                               "marketplace_id": {"$ref": "#/$defs/marketplace_id"}}}},
        "bullet_point": {"type": "array", "maxUniqueItems": 2, "minUniqueItems": 2, "selectors": ["marketplace_id"],
                         "items": {"type": "object", "properties": {"value": {"type": "string"},
                                                                    "marketplace_id": {"type": "string"}}}},
        "color": {"type": "array", "items": {"type": "object", "properties": {
            "value": {"type": "string", "enum": ["red", "blue"], "enumNames": ["Red", "Blue"]}}}},
        "legacy": {"type": "array", "$lifecycle": {"deprecated": True, "replacedBy": "color"}},
        "batteries_required": {"type": "array", "items": {"type": "object", "properties": {"value": {"type": "boolean"}}}},
        "num_batteries": {"type": "array", "items": {"type": "object", "properties": {
            "quantity": {"type": "integer", "minimum": 1, "maximum": 4}}}},
        "ean": {"type": "array", "items": {"type": "object", "properties": {
            "value": {"type": "string", "pattern": "^[0-9]{13}$"}}}},
        "start": {"type": "array", "items": {"type": "object", "properties": {
            "value": {"type": "string", "format": "date-time"}}}},
    },
    "allOf": [{"if": {"required": ["batteries_required"], "properties": {"batteries_required": {"contains": {
        "required": ["value"], "properties": {"value": {"const": True}}}}}},
        "then": {"required": ["num_batteries"]}}],
}


def _valid() -> dict:
    return {"item_name": [{"value": "Shirt", "language_tag": "en_US", "marketplace_id": M}],
            "bullet_point": [{"value": "a", "marketplace_id": M}, {"value": "b", "marketplace_id": M}]}


@pytest.fixture
def small() -> CompiledProductType:
    return ProductTypeRegistry().compile(SMALL, "LISTING", product_type="SMALL", required=SMALL["required"])


def _rules(validator: CompiledProductType, attributes: dict) -> set[tuple[str, str]]:
    return {(i.field, i.rule) for i in validator.validate(attributes) if i.severity == "error"}


def test_valid_payload_has_no_issue(small):
    assert small.validate(_valid()) == []


@pytest.mark.parametrize(("mutate", "expected"), [
    (lambda a: a.pop("item_name"), ("item_name", "required")),
    (lambda a: a["item_name"].append(dict(a["item_name"][0])), ("item_name", "maxUniqueItems")),
    (lambda a: a["bullet_point"].append({"value": "c", "marketplace_id": M}), ("bullet_point", "maxUniqueItems")),
    (lambda a: a["bullet_point"].pop(), ("bullet_point", "minUniqueItems")),
    (lambda a: a["item_name"][0].update(value="ééééééé"), ("item_name[0].value", "maxUtf8ByteLength")),
    (lambda a: a["item_name"][0].update(value="x"), ("item_name[0].value", "minUtf8ByteLength")),
    (lambda a: a["item_name"][0].update(value="abcdefghijk"), ("item_name[0].value", "maxLength")),
    (lambda a: a["item_name"][0].update(extra=1), ("item_name[0].extra", "additionalProperties")),
    (lambda a: a.update(color=[{"value": "green"}]), ("color[0].value", "enum")),
    (lambda a: a.update(num_batteries=[{"quantity": 9}]), ("num_batteries[0].quantity", "maximum")),
    (lambda a: a.update(num_batteries=[{"quantity": 1.5}]), ("num_batteries[0].quantity", "type")),
    (lambda a: a.update(ean=[{"value": "123"}]), ("ean[0].value", "pattern")),
    (lambda a: a.update(start=[{"value": "tomorrow"}]), ("start[0].value", "format")),
    (lambda a: a.update(batteries_required=[{"value": True}]), ("num_batteries", "conditional_required")),
    (lambda a: a.update(nonsense=[{"value": 1}]), ("nonsense", "additionalProperties")),
])
def test_each_keyword_is_enforced(small, mutate, expected):
    attributes = _valid()
    mutate(attributes)
    assert expected in _rules(small, attributes)


def test_informational_keywords_and_deprecation(small):
    attributes = _valid()
    attributes["legacy"] = [{"value": "x"}]
    issues = small.validate(attributes)
    assert [(i.field, i.rule, i.severity) for i in issues] == [("legacy", "deprecated", "warning")]
    attributes.pop("legacy")
    attributes["batteries_required"] = [{"value": False}]  # condition not met: nothing more required
    assert small.validate(attributes) == []


def test_issue_codes_and_categories(small):
    attributes = _valid()
    attributes.pop("item_name")
    attributes["color"] = [{"value": "green"}]
    by_rule = {i.rule: i for i in small.validate(attributes)}
    assert (by_rule["required"].code, by_rule["required"].category) == ("90220", "MISSING_ATTRIBUTE")
    assert (by_rule["enum"].code, by_rule["enum"].category) == ("99022", "INVALID_ATTRIBUTE")
    assert by_rule["enum"].attribute_names == ("color",)


def test_custom_keyword_fallback_agrees_with_check_tree():
    conditional = copy.deepcopy(SMALL)
    # An Amazon keyword under `then`: only the engine knows when it applies → custom-keyword mode.
    conditional["allOf"].append({"if": {"required": ["color"]},
                                 "then": {"properties": {"bullet_point": {"maxUniqueItems": 1,
                                                                          "selectors": ["marketplace_id"]}}}})
    _, covered = compile_checks(conditional)
    assert not covered
    engine = CompiledProductType("C", conditional, "LISTING", SMALL["required"], "x")
    attributes = _valid()
    assert not any(i.rule == "maxUniqueItems" for i in engine.validate(attributes))
    attributes["color"] = [{"value": "red"}]
    assert any(i.rule == "maxUniqueItems" and i.field == "bullet_point" for i in engine.validate(attributes))
    attributes["item_name"][0]["value"] = "ééééééé"
    assert ("item_name[0].value", "maxUtf8ByteLength") in _rules(engine, attributes)


def test_requirements_variants_change_the_required_set():
    registry = ProductTypeRegistry()
    offer_only = {"condition_type": [{"value": "new_new", "marketplace_id": M}],
                  "merchant_suggested_asin": [{"value": "B000000001", "marketplace_id": M}],
                  "purchasable_offer": [{"currency": "USD", "audience": "ALL", "marketplace_id": M,
                                         "our_price": [{"schedule": [{"value_with_tax": 9.5}]}]}],
                  "fulfillment_availability": [{"fulfillment_channel_code": "DEFAULT", "quantity": 1}]}
    assert [i for i in registry.get("SHIRT", "LISTING_OFFER_ONLY").validate(offer_only) if i.severity == "error"] == []
    missing = {i.field for i in registry.get("SHIRT", "LISTING").validate(offer_only) if i.rule == "required"}
    assert {"item_name", "brand", "shirt_size"} <= missing
    product_only = registry.get("SHIRT", "LISTING_PRODUCT_ONLY").validate(offer_only)
    assert "purchasable_offer" not in {i.field for i in product_only if i.rule == "required"}
    with pytest.raises(ValueError, match="unknown requirements"):
        registry.get("SHIRT", "EVERYTHING")


def test_registry_caches_by_checksum_and_uses_registered_schemas(tmp_path):
    registry = ProductTypeRegistry()
    first = registry.get("TOY")
    assert registry.get("TOY") is first
    raw = (registry.directory / "TOY.json").read_bytes()
    assert first.checksum == checksum_of(raw)
    downloaded = copy.deepcopy(SMALL)
    registry.register("TOY", downloaded, "checksum-v2", {"LISTING": ["item_name"]})
    second = registry.get("TOY")
    assert second is not first and second.checksum == "checksum-v2" and second.required == ("item_name",)
    assert registry.compile(downloaded, "LISTING", product_type="TOY", checksum="checksum-v2") is second
    with pytest.raises(LookupError, match="NOPE"):
        registry.get("NOPE")
