"""The product-type schemas in schemas/product_types/ are valid draft 2019-09 documents in Amazon's meta-schema
style, consistent with index.json, and accept/reject representative attribute payloads."""

from __future__ import annotations

import copy

import pytest
from jsonschema import Draft201909Validator

import schemas

META_SCHEMA = "https://schemas.amazon.com/selling-partners/definitions/product-types/meta-schema/v1"
PRODUCT_TYPES = ["PRODUCT", "SHIRT", "SHOES", "LUGGAGE", "HOME", "TOY"]
REQUIREMENTS = ["LISTING", "LISTING_OFFER_ONLY", "LISTING_PRODUCT_ONLY"]
US = "ATVPDKIKX0DER"


def load(pt: str) -> dict:
    return schemas.load_json(f"product_types/{pt}.json")


INDEX = schemas.load_json("product_types/index.json")


def then_required(schema: dict) -> set[str]:
    """Every attribute name a conditional (`allOf` then/anyOf) can require."""
    names: set[str] = set()
    for rule in schema.get("allOf", []):
        then = rule["then"]
        names.update(then.get("required", []))
        for alt in then.get("anyOf", []):
            names.update(alt.get("required", []))
    return names


def text(value: str, tag: str = "en_US") -> list[dict]:
    return [{"value": value, "language_tag": tag, "marketplace_id": US}]


def plain(value) -> list[dict]:
    return [{"value": value, "marketplace_id": US}]


def listing_payload(pt: str) -> dict:
    """A complete, valid LISTING payload for `pt` (US marketplace)."""
    payload = {
        "item_name": text("Acme Everyday Item, Blue"),
        "brand": text("Acme"),
        "bullet_point": text("Durable build") + text("Easy to clean"),
        "product_description": text("A durable everyday item."),
        "item_type_keyword": plain("home-decor"),
        "country_of_origin": plain("CN"),
        "supplier_declared_dg_hz_regulation": plain("not_applicable"),
        "externally_assigned_product_identifier": [{"type": "ean", "value": "4006381333931", "marketplace_id": US}],
        "condition_type": plain("new_new"),
        "purchasable_offer": [{"marketplace_id": US, "currency": "USD", "audience": "ALL",
                               "our_price": [{"schedule": [{"value_with_tax": 19.99}]}]}],
        "fulfillment_availability": [{"fulfillment_channel_code": "DEFAULT", "quantity": 7,
                                      "lead_time_to_ship_max_days": 2}],
        "batteries_required": plain(False),
        "color": text("Blue"),
        "material": text("Cotton"),
    }
    extras = {
        "SHIRT": {"department": text("mens"), "fabric_type": text("100% Cotton"),
                  "shirt_size": [{"size_system": "as1", "size_class": "alpha", "size": "M", "marketplace_id": US}]},
        "SHOES": {"department": text("womens"), "outer_material_type": text("Leather"),
                  "footwear_size": [{"size_system": "us_footwear_size_system", "age_range_description": "adult",
                                     "gender": "women", "size_class": "numeric", "size": "8.5", "width": "medium",
                                     "marketplace_id": US}]},
        "LUGGAGE": {"capacity": [{"value": 40, "unit": "liters", "marketplace_id": US}]},
        "TOY": {"age_range_description": text("Kid"),
                "manufacturer_minimum_age": [{"value": 36, "unit": "months", "marketplace_id": US}],
                "safety_warning": plain("choking_hazard_small_parts")},
    }
    payload.update(extras.get(pt, {}))
    return payload


def validator(pt: str, requirements: str = "LISTING") -> Draft201909Validator:
    schema = copy.deepcopy(load(pt))
    schema["required"] = INDEX[pt]["requirements"][requirements]
    return Draft201909Validator(schema)


def errors(pt: str, payload: dict, requirements: str = "LISTING") -> list[str]:
    return [e.message for e in validator(pt, requirements).iter_errors(payload)]


def test_index_lists_exactly_the_schema_files():
    # index.json and the meta-schema sit beside the product-type schemas; every other file is a product type.
    on_disk = {p.stem for p in schemas.path("product_types").glob("*.json")} - {"index", "meta-schema-v1"}
    assert set(INDEX) == on_disk == set(PRODUCT_TYPES)


@pytest.mark.parametrize("pt", PRODUCT_TYPES)
def test_schema_is_valid_draft_2019_09_in_amazon_style(pt):
    schema = load(pt)
    Draft201909Validator.check_schema(schema)
    assert schema["$schema"] == META_SCHEMA
    assert {"marketplace_id", "language_tag", "currency"} <= set(schema["$defs"])
    assert len(schema["properties"]) >= 25
    for name, attr in schema["properties"].items():
        assert attr["type"] == "array", name
        assert attr["selectors"], name
        assert attr["items"]["type"] == "object", name
        assert 1 <= attr["minUniqueItems"] <= attr["maxUniqueItems"], name


@pytest.mark.parametrize("pt", PRODUCT_TYPES)
def test_index_entry_is_consistent_with_schema(pt):
    schema, entry = load(pt), INDEX[pt]
    props = set(schema["properties"])
    assert entry["display_name"] and entry["version"]
    assert set(entry["requirements"]) == set(REQUIREMENTS)
    assert schema["required"] == entry["requirements"]["LISTING"]
    for requirement in REQUIREMENTS:
        assert set(entry["requirements"][requirement]) <= props, requirement
    assert then_required(schema) <= props
    listing = set(entry["requirements"]["LISTING"])
    assert set(entry["requirements"]["LISTING_OFFER_ONLY"]) | set(entry["requirements"]["LISTING_PRODUCT_ONLY"]) == listing
    grouped = [n for group in entry["property_groups"].values() for n in group["propertyNames"]]
    assert sorted(grouped) == sorted(props), "every attribute belongs to exactly one property group"


def test_marketplace_and_currency_enums_follow_marketplaces_json():
    marketplaces = schemas.load_json("marketplaces.json")["marketplaces"]
    for pt in PRODUCT_TYPES:
        defs = load(pt)["$defs"]
        assert defs["marketplace_id"]["enum"] == [m["id"] for m in marketplaces]
        assert {m["currency"] for m in marketplaces} == set(defs["currency"]["enum"])
        assert {m["default_language_tag"] for m in marketplaces} <= set(defs["language_tag"]["enum"])
        for d in defs.values():
            assert len(d["enum"]) == len(d["enumNames"])


@pytest.mark.parametrize("pt", PRODUCT_TYPES)
def test_complete_listing_payload_is_valid_and_each_required_attribute_is_enforced(pt):
    payload = listing_payload(pt)
    for requirement in REQUIREMENTS:
        assert errors(pt, payload, requirement) == [], requirement
    for name in INDEX[pt]["requirements"]["LISTING"]:
        broken = {k: v for k, v in payload.items() if k != name}
        assert f"'{name}' is a required property" in errors(pt, broken), name


@pytest.mark.parametrize("pt", PRODUCT_TYPES)
def test_offer_only_needs_offer_attributes_and_an_identifier_or_asin(pt):
    offer = {k: listing_payload(pt)[k] for k in INDEX[pt]["requirements"]["LISTING_OFFER_ONLY"]}
    assert errors(pt, offer, "LISTING_OFFER_ONLY"), "no identifier and no ASIN must fail"
    offer["merchant_suggested_asin"] = plain("B07XJ8C8F5")
    assert errors(pt, offer, "LISTING_OFFER_ONLY") == []
    assert errors(pt, offer, "LISTING"), "an offer alone is not a full listing"


@pytest.mark.parametrize("pt", PRODUCT_TYPES)
def test_batteries_required_makes_battery_type_and_count_required(pt):
    payload = listing_payload(pt)
    payload["batteries_required"] = plain(True)
    assert "'num_batteries' is a required property" in errors(pt, payload)
    payload["num_batteries"] = [{"quantity": 2, "marketplace_id": US}]
    assert any("'type' is a required property" in m for m in errors(pt, payload))
    payload["num_batteries"][0]["type"] = "aa"
    assert errors(pt, payload) == []


@pytest.mark.parametrize(
    ("mutate", "fragment"),
    [
        (lambda p: p["condition_type"][0].update(value="brand_new"), "is not one of"),
        (lambda p: p["purchasable_offer"][0]["our_price"][0]["schedule"][0].update(value_with_tax=-1), "less than or equal"),
        (lambda p: p["purchasable_offer"][0].update(audience="VIP"), "is not one of"),
        (lambda p: p["purchasable_offer"][0].update(currency="XXX"), "is not one of"),
        (lambda p: p["fulfillment_availability"][0].update(quantity=-1), "less than the minimum"),
        (lambda p: p["fulfillment_availability"][0].update(lead_time_to_ship_max_days=31), "greater than the maximum"),
        (lambda p: p["fulfillment_availability"][0].update(fulfillment_channel_code="AMAZON_NA"), "should not be valid"),
        (lambda p: p["externally_assigned_product_identifier"][0].update(value="40063813339"), "does not match"),
        (lambda p: p["item_name"][0].update(value="x" * 201), "is too long"),
        (lambda p: p["item_name"][0].update(marketplace_id="NOT_A_MARKETPLACE"), "is not one of"),
        (lambda p: p["item_type_keyword"][0].update(value="Home Decor"), "does not match"),
        (lambda p: p["country_of_origin"][0].update(value="XX"), "is not one of"),
        (lambda p: p["brand"][0].update(unexpected=1), "Additional properties are not allowed"),
    ],
)
def test_invalid_values_are_rejected(mutate, fragment):
    payload = listing_payload("PRODUCT")
    mutate(payload)
    found = errors("PRODUCT", payload)
    assert any(fragment in m for m in found), found


def test_product_type_specific_conditionals():
    shirt = listing_payload("SHIRT")
    shirt["department"] = text("girls")
    assert "'age_range_description' is a required property" in errors("SHIRT", shirt)
    shirt["shirt_size"][0]["size_class"] = "neck_sleeve"
    assert "'neck_size' is a required property" in errors("SHIRT", shirt)

    shoes = listing_payload("SHOES")
    shoes["heel_type"] = plain("stiletto")
    assert "'heel_height' is a required property" in errors("SHOES", shoes)
    shoes["heel_type"] = plain("flat")
    assert errors("SHOES", shoes) == []

    luggage = listing_payload("LUGGAGE")
    luggage["number_of_wheels"] = plain(4)
    luggage["is_expandable"] = plain(True)
    found = errors("LUGGAGE", luggage)
    assert "'wheel_type' is a required property" in found
    assert "'expanded_capacity' is a required property" in found

    for pt in ("HOME", "TOY"):
        payload = listing_payload(pt)
        payload["is_assembly_required"] = plain(True)
        assert "'assembly_instructions' is a required property" in errors(pt, payload)


def test_gtin_exemption_lifts_the_identifier_requirement():
    payload = listing_payload("PRODUCT")
    del payload["externally_assigned_product_identifier"]
    assert errors("PRODUCT", payload)
    payload["supplier_declared_has_product_identifier_exemption"] = plain(True)
    assert errors("PRODUCT", payload) == []
