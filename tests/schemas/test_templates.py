"""Templates in schemas/templates/ target real attributes of their product type, declare their columns honestly,
and (through a small reference interpreter of the format in schemas/templates/README.md) turn a complete row into a
payload that its product-type schema accepts."""

from __future__ import annotations

import copy
import importlib
import importlib.util
import json
import re
from datetime import date, datetime
from pathlib import Path

import polars as pl
import pytest
from jsonschema import Draft201909Validator

import schemas

PRODUCT_TYPES = ["PRODUCT", "SHIRT", "SHOES", "LUGGAGE", "HOME", "TOY"]
INDEX = schemas.load_json("product_types/index.json")
MARKETPLACES = {m["country_code"]: m for m in schemas.load_json("marketplaces.json")["marketplaces"]}
BOOLEANS = {"true": True, "yes": True, "y": True, "1": True, "t": True, "ja": True, "oui": True, "si": True,
            "sí": True, "false": False, "no": False, "n": False, "0": False, "f": False, "nein": False,
            "non": False}
SOURCE_KEYS = {"column", "type", "case", "default", "map", "const"}
TYPES = {"string", "number", "integer", "boolean", "date", "datetime"}


def template(name: str) -> dict:
    return schemas.load_json(f"templates/{name}.json")


def chain(name: str) -> list[dict]:
    out = []
    while name:
        doc = template(name)
        out.append(doc)
        name = doc["extends"]
    return out


def effective_attributes(name: str) -> dict:
    attrs: dict = {}
    for doc in reversed(chain(name)):
        attrs.update(doc["attributes"])
    return attrs


def effective_columns(name: str) -> set[str]:
    return {c for doc in chain(name) for c in doc["source_columns"]}


def instances(spec: dict) -> list[dict]:
    """Normal form of an attribute spec (README: shorthands)."""
    if "instances" in spec:
        return spec["instances"]
    if "values" in spec:
        return [{"fields": {"value": s}} for s in spec["values"]]
    fields = spec["fields"] if "fields" in spec else {"value": spec["value"]}
    inst = {"fields": fields}
    if "present_if_any" in spec:
        inst["present_if_any"] = spec["present_if_any"]
    return [inst]


def columns(source: dict) -> list[str]:
    if "column" not in source:
        return []
    return source["column"] if isinstance(source["column"], list) else [source["column"]]


def referenced_columns(attrs: dict) -> set[str]:
    found: set[str] = set()
    for spec in attrs.values():
        for inst in instances(spec):
            found.update(inst.get("present_if_any", []))
            for source in inst["fields"].values():
                found.update(columns(source))
    return found


# ---------------------------------------------------------------- reference interpreter


def interpolate(value, mkt: dict, row: dict):
    if not isinstance(value, str):
        return value
    subst = {"marketplace_id": mkt["id"], "language_tag": row.get("language_tag") or mkt["default_language_tag"],
             "currency": mkt["currency"], "region": mkt["region"], "country_code": mkt["country_code"]}
    return re.sub(r"\{(\w+)\}", lambda m: subst[m.group(1)], value)


def raw(row: dict, source: dict):
    for col in columns(source):
        value = row.get(col)
        if isinstance(value, str):
            value = value.strip() or None
        if value is not None:
            return value
    return None


def cast(value, type_: str):
    if type_ == "string":
        return str(value)
    if type_ == "number":
        return float(value)
    if type_ == "integer":
        number = float(value)
        if number != int(number):
            raise ValueError(f"not a whole number: {value!r}")
        return int(number)
    if type_ == "boolean":
        return value if isinstance(value, bool) else BOOLEANS[str(value).strip().lower()]
    if type_ == "date":
        return value.isoformat() if isinstance(value, date) else date.fromisoformat(str(value)).isoformat()
    if type_ == "datetime":
        parsed = value if isinstance(value, date) else datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        if not isinstance(parsed, datetime):
            parsed = datetime(parsed.year, parsed.month, parsed.day)
        return parsed.strftime("%Y-%m-%dT%H:%M:%SZ")
    raise AssertionError(type_)


def resolve(source: dict, row: dict, mkt: dict):
    if "const" in source:
        return interpolate(source["const"], mkt, row)
    value = raw(row, source)
    if value is None:
        default = source.get("default")
        if isinstance(default, dict):
            default = default["by_marketplace"].get(mkt["country_code"], default["by_marketplace"]["*"])
        return interpolate(default, mkt, row)
    if isinstance(value, str) and source.get("case"):
        value = value.lower() if source["case"] == "lower" else value.upper()
    mapping = {k.lower(): v for k, v in source.get("map", {}).items()}
    if isinstance(value, str) and value.lower() in mapping:
        value = interpolate(mapping[value.lower()], mkt, row)
    return cast(value, source["type"])


def put_path(target: dict, path: str, value) -> None:
    parts = path.split(".")
    for part in parts[:-1]:
        if part.endswith("[0]"):
            target = target.setdefault(part[:-3], [{}])[0]
        else:
            target = target.setdefault(part, {})
    last = parts[-1]
    if last.endswith("[0]"):
        target[last[:-3]] = [value]
    else:
        target[last] = value


def apply_template(name: str, row: dict, country: str) -> dict:
    mkt = MARKETPLACES[country]
    payload: dict = {}
    for attr, spec in effective_attributes(name).items():
        emitted = []
        for inst in instances(spec):
            trigger = inst.get("present_if_any") or [
                c for s in inst["fields"].values() if "default" not in s for c in columns(s)]
            if trigger and all(raw(row, {"column": c}) is None for c in trigger):
                continue
            obj: dict = {}
            for path, source in inst["fields"].items():
                value = resolve(source, row, mkt)
                if value is not None:
                    put_path(obj, path, value)
            if spec.get("localized"):
                obj["language_tag"] = interpolate("{language_tag}", mkt, row)
            if spec.get("marketplace_id", True):
                obj["marketplace_id"] = mkt["id"]
            emitted.append(obj)
        if emitted:
            payload[attr] = emitted
    return payload


# ---------------------------------------------------------------- sample rows


def complete_row(pt: str) -> dict:
    row = {
        "sku": f"{pt}-0001", "item_name": "Acme Everyday Item, Blue", "brand": "Acme",
        "bullet_point_1": "Durable build", "bullet_point_2": "Easy to clean", "bullet_point_3": "",
        "product_description": "A durable everyday item.", "external_product_id": "4006381333931",
        "external_product_id_type": "EAN", "condition_type": "new_new", "list_price": 29.99, "price": 19.99,
        "currency": "USD", "sale_price": 17.49, "sale_start_date": "2026-11-27", "sale_end_date": "2026-12-01",
        "business_price": 18.5, "minimum_seller_allowed_price": 10, "maximum_seller_allowed_price": 40,
        "quantity": "12", "fulfillment_channel": "MFN", "handling_time": 2, "restock_date": "2026-12-20",
        "color": "Blue", "size": "M", "material": "Cotton", "country_of_origin": "cn", "batteries_required": "no",
        "item_package_weight": 0.8, "item_package_length": 30, "item_package_width": 20, "item_package_height": 10,
        "main_image_url": "https://images.example.com/acme/1.jpg", "model_number": "AC-1", "manufacturer": "Acme",
        "item_type_keyword": "home-decor",
    }
    extras = {
        "SHIRT": {"department": "Mens", "item_type_keyword": None, "fit_type": "slim_fit",
                  "sleeve_type": "long_sleeve", "collar_style": "button_down", "care_instructions": "machine_wash"},
        "SHOES": {"department": "womens", "shoe_size": "8.5", "item_type_keyword": None, "closure_type": "lace_up",
                  "heel_type": "flat", "material": "Leather"},
        "LUGGAGE": {"capacity": 40, "number_of_wheels": 4, "wheel_type": "spinner", "is_expandable": "yes",
                    "expanded_capacity": 48, "lock_type": "tsa_lock", "shell_type": "hard"},
        "HOME": {"room_type": "living_room", "is_assembly_required": "true",
                 "assembly_instructions": "Screw the legs on.", "number_of_pieces": 5},
        "TOY": {"age_range_description": "Kid", "manufacturer_minimum_age": 36, "safety_warning":
                "choking_hazard_small_parts", "batteries_required": "yes", "battery_type": "AA",
                "number_of_batteries": 2},
    }
    row.update(extras.get(pt, {}))
    return row


def validate(pt: str, payload: dict, requirements: str = "LISTING") -> list[str]:
    schema = copy.deepcopy(schemas.load_json(f"product_types/{pt}.json"))
    schema["required"] = INDEX[pt]["requirements"][requirements]
    return [f"{list(e.absolute_path)}: {e.message}" for e in Draft201909Validator(schema).iter_errors(payload)]


# ---------------------------------------------------------------- structure


def schema_at(attr_schema: dict, path: str, defs: dict) -> dict:
    """The schema of the leaf at `path` inside one instance of the attribute."""
    node = attr_schema["items"]
    for part in path.split("."):
        name = part[:-3] if part.endswith("[0]") else part
        assert name in node.get("properties", {}), path
        node = node["properties"][name]
        if "$ref" in node:
            node = defs[node["$ref"].split("/")[-1]]
        if part.endswith("[0]"):
            assert node["type"] == "array", path
            node = node["items"]
    return node


def test_every_product_type_has_a_template_and_chains_resolve():
    files = {p.stem for p in schemas.path("templates").glob("*.json")}
    assert files == {"_offer", *PRODUCT_TYPES}
    for pt in PRODUCT_TYPES:
        doc = template(pt)
        assert doc["template"] == doc["product_type"] == pt
        assert chain(pt)[-1]["template"] == "_offer"
    assert template("_offer")["extends"] is None


@pytest.mark.parametrize("pt", PRODUCT_TYPES)
def test_template_targets_exist_in_the_product_type_schema(pt):
    schema = schemas.load_json(f"product_types/{pt}.json")
    for attr, spec in effective_attributes(pt).items():
        assert attr in schema["properties"], f"{pt}: {attr} is not an attribute of the schema"
        attr_schema = schema["properties"][attr]
        item_props = attr_schema["items"]["properties"]
        assert ("language_tag" in item_props) == bool(spec.get("localized")), attr
        assert ("marketplace_id" in item_props) == spec.get("marketplace_id", True), attr
        for inst in instances(spec):
            for path, source in inst["fields"].items():
                leaf = schema_at(attr_schema, path, schema["$defs"])
                assert set(source) <= SOURCE_KEYS, (attr, path)
                assert ("const" in source) != ("column" in source), (attr, path)
                if "column" in source:
                    assert source["type"] in TYPES, (attr, path)
                for literal in literals(source):
                    for country in MARKETPLACES:
                        value = interpolate(literal, MARKETPLACES[country], {})
                        if "enum" in leaf:
                            assert value in leaf["enum"], (attr, path, value)


def literals(source: dict) -> list:
    out = [source["const"]] if "const" in source else []
    default = source.get("default")
    if isinstance(default, dict):
        out.extend(default["by_marketplace"].values())
    elif default is not None:
        out.append(default)
    out.extend(source.get("map", {}).values())
    return out


@pytest.mark.parametrize("name", ["_offer", *PRODUCT_TYPES])
def test_source_columns_are_exactly_the_columns_read(name):
    doc = template(name)
    assert sorted(doc["source_columns"]) == sorted(referenced_columns(doc["attributes"]))
    assert len(doc["source_columns"]) == len(set(doc["source_columns"]))


@pytest.mark.parametrize("pt", PRODUCT_TYPES)
def test_completes_required_covers_the_listing_set_with_real_columns(pt):
    doc = template(pt)
    assert list(doc["completes_required"]) == INDEX[pt]["requirements"]["LISTING"]
    known = effective_columns(pt)
    for attr, alternatives in doc["completes_required"].items():
        assert alternatives, attr
        for alternative in alternatives:
            assert set(alternative) <= known, (attr, alternative)
    for rule in doc["conditionally_required"]:
        assert set(rule["attributes"]) <= set(schemas.load_json(f"product_types/{pt}.json")["properties"])
        for alternative in rule["columns"]:
            assert set(alternative) <= known, rule


# ---------------------------------------------------------------- behaviour through the reference interpreter


@pytest.mark.parametrize("pt", PRODUCT_TYPES)
def test_a_complete_row_maps_to_a_valid_listing(pt):
    payload = apply_template(pt, complete_row(pt), "US")
    assert validate(pt, payload) == []
    offer = {o["audience"]: o for o in payload["purchasable_offer"]}
    assert offer["ALL"]["our_price"][0]["schedule"][0]["value_with_tax"] == 19.99
    assert offer["ALL"]["discounted_price"][0]["schedule"][0]["start_at"] == "2026-11-27T00:00:00Z"
    assert offer["B2B"]["our_price"][0]["schedule"][0]["value_with_tax"] == 18.5
    assert payload["fulfillment_availability"] == [
        {"fulfillment_channel_code": "DEFAULT", "quantity": 12, "lead_time_to_ship_max_days": 2,
         "restock_date": "2026-12-20"}]
    assert len(payload["bullet_point"]) == 2


@pytest.mark.parametrize("pt", PRODUCT_TYPES)
def test_emptying_the_columns_of_a_required_attribute_makes_the_listing_invalid(pt):
    doc = template(pt)
    for attr, alternatives in doc["completes_required"].items():
        if [] in alternatives:
            continue
        row = complete_row(pt)
        for alternative in alternatives:
            for col in alternative:
                row[col] = None
        found = validate(pt, apply_template(pt, row, "US"))
        assert any(attr in message for message in found), (attr, found)


def test_marketplace_placeholders_and_defaults_follow_the_row_marketplace():
    row = complete_row("SHOES") | {"currency": None, "fulfillment_channel": "FBA", "quantity": None,
                                    "handling_time": None, "restock_date": None}
    payload = apply_template("SHOES", row, "DE")
    de = MARKETPLACES["DE"]
    assert payload["item_name"][0] == {"value": row["item_name"], "language_tag": de["default_language_tag"],
                                       "marketplace_id": de["id"]}
    assert {o["currency"] for o in payload["purchasable_offer"]} == {de["currency"]}
    assert payload["fulfillment_availability"] == [{"fulfillment_channel_code": f"AMAZON_{de['region']}"}]
    size = payload["footwear_size"][0]
    assert (size["size_system"], size["gender"], size["age_range_description"]) == (
        "eu_footwear_size_system", "women", "adult")
    assert validate("SHOES", payload) == []


def test_fba_row_with_a_quantity_is_rejected_by_the_schema():
    row = complete_row("PRODUCT") | {"fulfillment_channel": "FBA"}
    payload = apply_template("PRODUCT", row, "US")
    assert payload["fulfillment_availability"][0]["fulfillment_channel_code"] == "AMAZON_NA"
    assert validate("PRODUCT", payload)


def test_battery_product_without_battery_type_is_invalid():
    row = complete_row("TOY") | {"battery_type": None}
    found = validate("TOY", apply_template("TOY", row, "US"))
    assert any("'type' is a required property" in m for m in found), found
    row = complete_row("TOY") | {"battery_type": None, "number_of_batteries": None}
    assert any("num_batteries" in m for m in validate("TOY", apply_template("TOY", row, "US")))


def test_sale_price_without_window_is_reported():
    row = complete_row("PRODUCT") | {"sale_start_date": None, "sale_end_date": None}
    found = validate("PRODUCT", apply_template("PRODUCT", row, "US"))
    assert any("'start_at' is a required property" in m for m in found), found


# ---------------------------------------------------------------- sample catalogs (data/samples, scripts/make_samples.py)


def _load_sibling(name: str):
    """Load another test module of this folder by path (tests have no packages under importlib mode)."""
    spec = importlib.util.spec_from_file_location(f"_schemas_{name}", Path(__file__).with_name(f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SAMPLES = schemas.SCHEMAS_DIR.parent / "data" / "samples"
BY_ID = {m["id"]: code for code, m in MARKETPLACES.items()}


def _sample_rows() -> dict[str, list[dict]]:
    make_samples = importlib.import_module("scripts.make_samples")
    return make_samples.build_all()


def _country(row: dict) -> str:
    return BY_ID.get(row["marketplace"], row["marketplace"])


def _policy_errors(policy, row: dict) -> list[str]:
    found = []
    for rule in policy.POLICY["rules"]:
        for col in rule["applies_to"]["columns"]:
            value = row.get(col)
            if isinstance(value, str) and policy.violation(rule, value) is not None:
                found.append(f"{rule['severity']}:{rule['id']}:{col}")
    return found


def test_samples_are_generated_deterministically_and_committed_in_sync(tmp_path):
    make_samples = importlib.import_module("scripts.make_samples")
    make_samples.write_all(tmp_path)
    for name in ("catalog_us.csv", "catalog_de.csv", "catalog_small.ndjson", "expected.json", "README.md"):
        assert (tmp_path / name).read_bytes() == (SAMPLES / name).read_bytes(), name
    assert pl.read_parquet(tmp_path / "catalog_mixed.parquet").equals(pl.read_parquet(SAMPLES / "catalog_mixed.parquet"))
    assert pl.read_excel(tmp_path / "catalog_jp.xlsx").equals(pl.read_excel(SAMPLES / "catalog_jp.xlsx"))
    assert (SAMPLES / "catalog_de.csv").read_bytes().startswith(b"\xef\xbb\xbf")


def test_sample_mix_covers_marketplaces_product_types_and_defects():
    rows = _sample_rows()
    expected = json.loads((SAMPLES / "expected.json").read_text(encoding="utf-8"))
    total = sum(len(r) for r in rows.values())
    rejected = sum(len(e["rejected"]) for e in expected.values())
    assert 300 <= total <= 600
    assert 0.07 <= rejected / total <= 0.15
    assert {r["product_type"] for rs in rows.values() for r in rs} >= set(PRODUCT_TYPES)
    assert len({_country(r) for rs in rows.values() for r in rs}) >= 8
    defects = {e["defect"] for e in expected.values() for e in e["rejected"]}
    assert {"missing_brand", "negative_price", "price_three_decimals", "jpy_price_decimals", "bad_ean_check_digit",
            "sku_too_long", "duplicate_sku", "unknown_condition", "negative_quantity", "promotional_title",
            "html_description", "fba_with_quantity", "battery_missing_type", "wrong_currency"} <= defects
    readme = (SAMPLES / "README.md").read_text(encoding="utf-8")
    for name, entry in expected.items():
        for bad in entry["rejected"] + entry["warnings"]:
            assert f"| {name} | {bad['row']} | `{bad['sku']}` |" in readme, (name, bad["sku"])


def test_good_sample_rows_map_to_valid_listings_and_pass_the_content_policy():
    policy = _load_sibling("test_content_policy_data")
    for name, rows in _sample_rows().items():
        for row in rows:
            info = row.get("_defect")
            if info and info["severity"] == "error":
                continue
            country, pt = _country(row), row["product_type"]
            payload = apply_template(pt, {k: (str(v) if isinstance(v, int | float) else v) for k, v in row.items()
                                          if not isinstance(v, dict)}, country)
            assert validate(pt, payload) == [], (name, row["sku"])
            errors = [e for e in _policy_errors(policy, row) if e.startswith("error:")]
            assert errors == [], (name, row["sku"], errors)
            if info:
                assert any(e.startswith("warning:") for e in _policy_errors(policy, row)), (name, row["sku"])


def test_bad_sample_rows_are_caught_where_expected_says():
    policy = _load_sibling("test_content_policy_data")
    for name, rows in _sample_rows().items():
        for row in rows:
            info = row.get("_defect")
            if not info or info["severity"] != "error":
                continue
            if info["stage"] == "content_policy":
                assert any(e.startswith("error:") and e.endswith(":" + info["field"])
                           for e in _policy_errors(policy, row)), (name, row["sku"])
            elif info["stage"] == "product_type":
                pt = row["product_type"]
                if pt not in INDEX:
                    continue
                payload = apply_template(pt, {k: v for k, v in row.items() if not isinstance(v, dict)}, _country(row))
                assert validate(pt, payload), (name, row["sku"])
            else:
                assert info["field"] in row, (name, row["sku"])
