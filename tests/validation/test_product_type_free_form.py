"""Free-form rows (`attributes_json`) judged by the fast path give exactly the per-payload validator's issues (same
rows, fields, rules, messages, codes, order): over seeded mutations of the user attributes and of the template cells
behind them, across every product type. Most rows are cleared without building their payload (checked below)."""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from amz_pipeline.catalog import mapping
from amz_pipeline.catalog.normalize import helper_columns, normalize
from amz_pipeline.catalog.readers import read_catalog
from amz_pipeline.validation.product_types import default_registry, validate_attributes
from amz_pipeline.validation.product_types import frame as frame_module
from amz_pipeline.validation.product_types.hybrid import top_level_names

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "samples"
PRODUCT_TYPES = ["PRODUCT", "SHIRT", "SHOES", "LUGGAGE", "HOME", "TOY"]


def _base(marketplace_id: str) -> pl.DataFrame:
    """Every sample row (all marketplaces), as a row of `marketplace_id`, once per product type."""
    frames = []
    for path in sorted(SAMPLES.glob("catalog_*")):
        frame = normalize(read_catalog(path), None)
        frames.append(frame.drop(helper_columns(frame), "attributes_json", strict=False))
    rows = pl.concat(frames, how="diagonal_relaxed")
    out = pl.concat([rows.with_columns(pl.lit(t).alias("product_type")) for t in PRODUCT_TYPES], how="vertical")
    return out.with_columns(pl.lit(marketplace_id).alias("marketplace_id"))


def _instance(value: Any, marketplace_id: str, **extra: Any) -> list[dict[str, Any]]:
    return [{"value": value, "marketplace_id": marketplace_id, **extra}]


def _user_attributes(rng: random.Random, product_type: str, payload: dict[str, Any], marketplace_id: str
                     ) -> dict[str, Any]:
    """A free-form object: overrides of the row's own attributes (kept, broken or replaced) and extra ones."""
    properties = default_registry().get(product_type).properties
    user: dict[str, Any] = {}
    for _ in range(rng.choice([1, 1, 2, 3])):
        roll = rng.random()
        name = rng.choice(sorted(payload)) if payload else "item_name"
        if roll < 0.22:  # the template's own value again (valid), or another instance
            user[name] = copy.deepcopy(payload.get(name, []))
            if user[name] and rng.random() < 0.3:
                user[name].append(copy.deepcopy(user[name][0]))
        elif roll < 0.32:  # an attribute the template does not emit, valid or not
            extra = rng.choice(["generic_keyword", "item_type_name", "special_feature", "style", "model_name"])
            if extra in properties:
                user[extra] = _instance(rng.choice(["kw", "", "x" * 300, 5]), marketplace_id,
                                        language_tag="en_US")
            else:
                user[extra] = _instance("x", marketplace_id)
        elif roll < 0.42:  # wrong JSON types
            user[name] = rng.choice(["not an array", {"value": 1}, [1], [{"value": None}], [], [{}]])
        elif roll < 0.52:  # byte lengths
            field = rng.choice(["item_name", "brand", "product_description", "bullet_point"])
            user[field] = _instance(rng.choice(["é", "😀", "a", "漢"]) * rng.choice([1, 50, 100, 199, 200, 201, 2001]),
                                    marketplace_id, language_tag="en_US")
        elif roll < 0.60:  # enum violations
            field = rng.choice(["condition_type", "country_of_origin", "department", "batteries_required"])
            user[field] = _instance(rng.choice(["bogus", "new_new", "CN", "girls", True, "true"]), marketplace_id)
        elif roll < 0.70:  # attributes read by conditional rules
            pick = rng.choice(["batteries", "kids", "wheels", "expand", "identifier", "neck"])
            if pick == "batteries":
                user["batteries_required"] = _instance(rng.choice([True, False]), marketplace_id)
                if rng.random() < 0.5:
                    user["num_batteries"] = [{"quantity": rng.randint(0, 3), "type": rng.choice(["aa", "bogus"]),
                                              "marketplace_id": marketplace_id}]
            elif pick == "kids":
                user["department"] = _instance(rng.choice(["girls", "mens", "baby_boys"]), marketplace_id,
                                               language_tag="en_US")
            elif pick == "wheels":
                user["number_of_wheels"] = _instance(rng.choice([0, 2, 4]), marketplace_id)
            elif pick == "expand":
                user["is_expandable"] = _instance(rng.choice([True, False]), marketplace_id)
            elif pick == "identifier":
                user["supplier_declared_has_product_identifier_exemption"] = _instance(rng.random() < 0.5,
                                                                                        marketplace_id)
            else:
                user["shirt_size"] = [{"size_system": "as1", "size_class": rng.choice(["neck_sleeve", "alpha"]),
                                       "size": "m", "marketplace_id": marketplace_id}]
        elif roll < 0.76:  # unknown attributes, or an unknown property inside a known one
            if rng.random() < 0.5:
                user[rng.choice(["colour", "made_up_attribute"])] = _instance("x", marketplace_id)
            else:
                value = copy.deepcopy(payload.get(name) or [{}])
                if value and isinstance(value[0], dict):
                    value[0]["surprise"] = "x"
                user[name] = value
        elif roll < 0.86:  # a leaf of the row's own attribute changed
            value = copy.deepcopy(payload.get(name) or _instance("x", marketplace_id))
            leaf = value[0]
            key = rng.choice(sorted(leaf)) if isinstance(leaf, dict) and leaf else "value"
            leaf[key] = rng.choice(["", "x" * 2100, -5, 0, 1.5, True, None, "not_an_enum_value", [], {"a": 1}])
            user[name] = value
        else:  # the offer attributes replaced (price, FBA with quantity)
            if rng.random() < 0.5:
                user["fulfillment_availability"] = [{"fulfillment_channel_code": rng.choice(["DEFAULT", "AMAZON_NA"]),
                                                     "quantity": rng.randint(-1, 5)}]
            else:
                offer = copy.deepcopy(payload.get("purchasable_offer") or [])
                if offer and offer[0].get("our_price"):
                    offer[0]["our_price"][0]["schedule"][0]["value_with_tax"] = rng.choice([19.99, 0, -1, "19.99"])
                user["purchasable_offer"] = offer or [{"currency": "USD"}]
    return user


def _template_mutation(rng: random.Random, row: dict[str, Any]) -> dict[str, Any]:
    """The template side: a required cell blanked, a bad cast, a conditional rule triggered, or nothing."""
    row = dict(row)
    roll = rng.random()
    if roll < 0.15:
        row[rng.choice(["item_name", "brand", "country_of_origin", "color", "product_description"])] = None
    elif roll < 0.22:
        row[rng.choice(["price", "quantity", "item_package_weight"])] = rng.choice(["abc", "-3", "1e400"])
    elif roll < 0.30:
        row.update({"batteries_required": "yes", "battery_type": None, "number_of_batteries": None})
    elif roll < 0.36:
        row["department"] = rng.choice(["girls", "baby_boys"])
        row["age_range_description"] = None
    elif roll < 0.40:
        row["item_name"] = "漢" * 100
    return row


def _cases(seed: int, marketplace_id: str, count: int) -> pl.DataFrame:
    rng = random.Random(seed)
    base = _base(marketplace_id)
    base = base.with_columns(pl.int_range(pl.len()).alias("row"))
    clean = base.join(validate_attributes(base, marketplace_id).select("row"), on="row", how="anti")
    built = mapping.build_payloads(clean, marketplace_id, hashes=False)
    payloads = [json.loads(text) for text in built["attributes"].to_list()]
    originals = clean.to_dicts()
    rows = []
    for i in range(count):
        k = rng.randrange(len(originals))
        if rng.random() < 0.35:  # a valid row: the template's own attribute again, or a valid extra one
            row = dict(originals[k])
            names = [n for n in sorted(payloads[k]) if n not in (top_level_names(
                default_registry().get(row["product_type"]).schema) or ())]
            name = rng.choice(names)
            user = {name: payloads[k][name]} if rng.random() < 0.6 else {
                "generic_keyword": _instance(f"keyword {i}", marketplace_id, language_tag="en_US")}
        else:
            row = _template_mutation(rng, originals[k])
            user = _user_attributes(rng, row["product_type"], payloads[k], marketplace_id)
        row["attributes_json"] = json.dumps(user, ensure_ascii=False)
        row["row"] = i + 2
        row["sku"] = f"FF-{i}"
        rows.append(row)
    columns = list(rows[0])
    return pl.DataFrame(rows, schema={c: base.schema.get(c, pl.String) for c in columns}).with_columns(
        pl.col("row").cast(pl.Int64))


@pytest.mark.parametrize(("seed", "marketplace_id"), [(7, "ATVPDKIKX0DER"), (8, "A1PA6795UKMFR9")])
def test_free_form_rows_get_exactly_the_per_payload_issues(seed, marketplace_id, monkeypatch):
    frame = _cases(seed, marketplace_id, 1200)
    judged_per_payload = []
    original = frame_module._per_payload_issues

    def counting(rows, *args, **kwargs):
        judged_per_payload.append(rows.height)
        return original(rows, *args, **kwargs)

    monkeypatch.setattr(frame_module, "_per_payload_issues", counting)
    fast = validate_attributes(frame, marketplace_id)
    cleared = frame.height - sum(judged_per_payload)
    monkeypatch.setattr(frame_module, "_per_payload_issues", original)
    reference = validate_attributes(frame, marketplace_id, columnwise=False)
    assert fast.equals(reference), _first_difference(fast, reference)
    rows_with_issues = reference.filter(pl.col("severity") == "error")["row"].n_unique()
    assert rows_with_issues > frame.height / 3  # the mutations do break rows
    assert reference["rule"].n_unique() >= 10
    clean_rows = frame.height - reference["row"].n_unique()
    assert clean_rows > frame.height / 4
    # clean rows are cleared without building their payload, except those whose user attributes a conditional
    # rule reads
    assert 0.7 * clean_rows <= cleared <= clean_rows


def _first_difference(a: pl.DataFrame, b: pl.DataFrame) -> str:
    for i, (x, y) in enumerate(zip(a.iter_rows(named=True), b.iter_rows(named=True), strict=False)):
        if x != y:
            return f"at {i}: fast {x} reference {y}"
    return f"heights {a.height} vs {b.height}"


def test_top_level_names_are_those_the_conditional_rules_read():
    schema, _ = default_registry().schema("SHIRT")
    names = top_level_names(schema)
    assert names is not None
    assert {"batteries_required", "num_batteries", "department", "age_range_description", "shirt_size",
            "neck_size", "externally_assigned_product_identifier", "merchant_suggested_asin"} <= names
    assert "generic_keyword" not in names
    assert top_level_names({**schema, "minProperties": 3}) is None
    assert top_level_names({**schema, "allOf": [{"if": {"propertyNames": {"maxLength": 3}}, "then": {}}]}) is None


def test_a_user_attribute_read_by_a_conditional_rule_is_judged_per_payload():
    frame = _cases(11, "ATVPDKIKX0DER", 40).with_columns(
        pl.lit(json.dumps({"batteries_required": [{"value": True, "marketplace_id": "ATVPDKIKX0DER"}]}))
        .alias("attributes_json"))
    fast = validate_attributes(frame, "ATVPDKIKX0DER")
    assert fast.equals(validate_attributes(frame, "ATVPDKIKX0DER", columnwise=False))
    assert "num_batteries" in fast.filter(pl.col("rule") == "conditional_required")["field"].to_list()
