"""The column-wise product-type validator (schemas compiled through templates into Polars expressions) reports the
same issues as the per-payload validator: over every sample catalog row and over seeded mutations of them."""

from __future__ import annotations

import random
from pathlib import Path

import jsonschema_rs
import polars as pl
import pytest

from amz_pipeline.catalog import mapping
from amz_pipeline.catalog.normalize import helper_columns, normalize
from amz_pipeline.catalog.readers import read_catalog
from amz_pipeline.validation.product_types import ISSUE_COLUMNS, default_registry, validate_attributes
from amz_pipeline.validation.product_types.columnwise import _FAST_FORMAT, compile_for_plan

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "samples"
PRODUCT_TYPES = ["PRODUCT", "SHIRT", "SHOES", "LUGGAGE", "HOME", "TOY"]
# Issues whose message is the same text on both paths (jsonschema-rs's own wording for leaf values, or ours).
SAME_MESSAGE_RULES = {"enum", "const", "maxLength", "minLength", "pattern", "minimum", "maximum", "exclusiveMinimum",
                      "format", "type", "required", "conditional_required", "maxUtf8ByteLength",
                      "minUtf8ByteLength", "additionalProperties", "deprecated", "template_type", "json",
                      "product_type"}


def _sample_groups() -> list[tuple[str, str, pl.DataFrame]]:
    groups = []
    for path in sorted(SAMPLES.glob("catalog_*")):
        frame = normalize(read_catalog(path), None)
        for (marketplace_id,), group in frame.partition_by("marketplace_id", as_dict=True).items():
            if marketplace_id is not None:
                groups.append((path.name, marketplace_id, group.drop(helper_columns(group))))
    return groups


GROUPS = _sample_groups()


def _template_columns() -> list[str]:
    columns: set[str] = set()
    for product_type in PRODUCT_TYPES:
        for instances in mapping.template_for(product_type).attributes.values():
            for instance in instances:
                for _, source in instance.fields:
                    if "column" in source:
                        names = source["column"]
                        columns.update(names if isinstance(names, list) else [names])
    return sorted(columns)


COLUMNS = _template_columns()
HOSTILE = ["", "x" * 301, "é" * 260, "\U0001F600" * 130, "0", "-1", "1e400", "2.5", "abc", "yes", "no", "ja", "0.00001",
           "2026-02-30", "2026-13-01", "2026-12-31", "2026-12-29T10:00:00Z", "2026-11-28 23:59:59", "tomorrow",
           "http://exa mple.com/a.jpg", "ftp://x.example/z.jpg", "https://img.example.com/a%zz.jpg",
           "https://img.example.com:8443/a.jpg", "B0ABCDEFGH", "b0x", "4006381333931", "123", "0123456789012",
           "girls", "baby_boys", "stiletto", "platform", "FBA", "AMAZON_EU", "MFN", "XYZ", "used_like_new",
           "brand_new", "<b>bold</b>", '"quoted" \\ back', "日本語の商品名です", "مرحبا بالعالم", "cafe\u0301",
           '=HYPERLINK("http://x")', "Bad Keyword", "kg", "centimeters", "liters", "ZZ", "de_DE", "100000001",
           "99", "3", "true"]
BATTERIES = {"batteries_required": "yes", "battery_type": None, "number_of_batteries": None}


def _mutate(rng: random.Random, row: dict) -> dict:
    row = dict(row)
    for _ in range(rng.randint(1, 3)):
        roll = rng.random()
        if roll < 0.08:  # an offer on an existing ASIN, no product facts
            for column in mapping.PRODUCT_FACT_COLUMNS:
                row[column] = None
            row["merchant_suggested_asin"] = rng.choice(["B0ABCDEFGH", "b0x", "B0ABCDEFG!"])
        elif roll < 0.14:  # identical bullet points / several instances
            value = rng.choice(["same", None, "x" * 600])
            for k in range(1, 6):
                row[f"bullet_point_{k}"] = value if rng.random() < 0.8 else None
        elif roll < 0.18:
            row.update(BATTERIES)
        elif roll < 0.24:
            row[rng.choice(["sale_price", "sale_start_date", "sale_end_date", "business_price", "list_price",
                            "minimum_seller_allowed_price", "maximum_seller_allowed_price"])] = \
                rng.choice(["12.5", "0", "-3", "2026-12-01", "2026-12-31T00:00:00Z", None])
        else:
            row[rng.choice(COLUMNS)] = rng.choice(HOSTILE) or None
    return row


def _mutations(frame: pl.DataFrame, seed: int, copies: int) -> pl.DataFrame:
    rng = random.Random(seed)
    rows = []
    for i, original in enumerate(frame.to_dicts()):
        for k in range(copies):
            mutated = _mutate(rng, original)
            mutated["row"] = i * copies + k + 2
            rows.append(mutated)
    columns = sorted({c for r in rows for c in r} | set(COLUMNS))
    return pl.DataFrame([{c: r.get(c) for c in columns} for r in rows],
                        schema={c: (pl.Int64 if c == "row" else pl.String) for c in columns})


def _keyed(issues: pl.DataFrame) -> dict[tuple, dict]:
    return {(r["row"], r["field"], r["rule"]): r for r in issues.to_dicts()}


def _assert_same(frame: pl.DataFrame, marketplace_id: str) -> int:
    fast = validate_attributes(frame, marketplace_id)
    reference = validate_attributes(frame, marketplace_id, columnwise=False)
    assert fast.schema == pl.Schema(ISSUE_COLUMNS)
    a, b = _keyed(fast), _keyed(reference)
    assert set(a) == set(b), {"only column-wise": sorted(set(a) - set(b))[:10],
                              "only per-payload": sorted(set(b) - set(a))[:10]}
    for key, issue in a.items():
        other = b[key]
        assert (issue["severity"], issue["code"], issue["categories"], issue["sku"]) == \
            (other["severity"], other["code"], other["categories"], other["sku"]), key
        if issue["rule"] in SAME_MESSAGE_RULES and "|" not in issue["field"]:
            assert issue["message"] == other["message"], key
    return len(a)


@pytest.mark.parametrize(("name", "marketplace_id", "frame"), GROUPS, ids=[f"{n}-{m}" for n, m, _ in GROUPS])
def test_every_sample_row_gets_the_same_issues(name, marketplace_id, frame):
    _assert_same(frame, marketplace_id)


ALL_ROWS = pl.concat([frame.drop("attributes_json", strict=False) for _, _, frame in GROUPS], how="diagonal_relaxed")


@pytest.mark.parametrize(("seed", "marketplace_id"), [(1, "ATVPDKIKX0DER"), (2, "A1PA6795UKMFR9"),
                                                      (3, "A1VC38T7YXB528")])
def test_seeded_mutations_get_the_same_issues(seed, marketplace_id):
    """Every sample row, mutated (blank/overlong/multi-byte/out-of-range/badly formatted cells, conditional
    requirements, offer-only rows, repeated instances), mapped for one marketplace."""
    mutated = _mutations(ALL_ROWS, seed, 2)
    assert mutated.height >= 700
    assert _assert_same(mutated, marketplace_id) >= mutated.height / 2  # the mutations do produce issues


def test_free_form_rows_mixed_with_template_rows():
    _, marketplace_id, frame = next(g for g in GROUPS if g[0] == "catalog_us.csv")
    extra = [None, '{"generic_keyword": [{"value": "x", "language_tag": "en_US", "marketplace_id": "ATVPDKIKX0DER"}]}',
             '{"item_name": [{"value": ""}]}', '{"brand": "not an array"}', '{"unknown_attribute": []}', "[1]",
             "{not json"]
    with_json = frame.with_columns(pl.Series("attributes_json", [extra[i % len(extra)] for i in range(frame.height)]))
    assert _assert_same(with_json, marketplace_id) > 0


@pytest.mark.parametrize("product_type", PRODUCT_TYPES)
@pytest.mark.parametrize("marketplace_id", ["ATVPDKIKX0DER", "A1PA6795UKMFR9", "A1VC38T7YXB528"])
def test_every_product_type_compiles_without_fallback(product_type, marketplace_id):
    """The shipped schemas use only constructs the column-wise compiler evaluates: no row falls back."""
    schema = {c: pl.String for c in ["row", "sku", "product_type", *COLUMNS]}
    plan = mapping.compile_plan(mapping.template_for(product_type), marketplace_id, schema)
    registry = default_registry()
    validators = {r: registry.get(product_type, r) for r in ("LISTING", "LISTING_OFFER_ONLY")}
    compiled = compile_for_plan(validators, plan)
    assert compiled.fallback is False, compiled.fallback_reasons
    assert len(compiled.checks) > 50


def test_unsupported_construct_falls_back_to_the_per_payload_validator():
    registry = default_registry()
    schema, _ = registry.schema("SHIRT")
    altered = {**schema, "properties": {**schema["properties"], "color": {
        **schema["properties"]["color"], "items": {"oneOf": [{"required": ["value"]}, {"required": ["standardized_values"]}]}}}}
    plan = mapping.compile_plan(mapping.template_for("SHIRT"), "ATVPDKIKX0DER",
                                {c: pl.String for c in ["row", "sku", "product_type", *COLUMNS]})
    validators = {r: registry.compile(altered, r, product_type="SHIRT", checksum="altered-" + r)
                  for r in ("LISTING", "LISTING_OFFER_ONLY")}
    compiled = compile_for_plan(validators, plan)
    assert compiled.fallback is not False
    assert any("oneOf" in reason for reason in compiled.fallback_reasons)


FORMAT_CANDIDATES = {
    "date": ["2026-01-01", "2026-02-28", "2026-02-29", "2024-02-29", "2026-12-31", "2026-1-01", "0000-01-01",
             "2026-00-10", "2026-01-32", "2026-01-01T00:00:00Z"],
    "date-time": ["2026-01-01T00:00:00Z", "2026-01-01T23:59:59.123+05:30", "2026-01-01t00:00:00z",
                  "2026-12-31T00:00:00Z", "2026-01-01T24:00:00Z", "2026-01-01T00:00:60Z", "2026-01-01 00:00:00Z",
                  "2026-02-28T12:00:00-23:59"],
    "uri": ["http://x", "https://images.example.com/a/b-c_d.jpg?x=1&y=%20", "https://a.b/%41", "http://exa mple.com",
            "https://x.example/a%zz", "https://ä.example/", "https://x.example/#frag", "http://-a.example/",
            "https://x.example:99/", "https://x.example/a|b"],
}


@pytest.mark.parametrize("name", sorted(_FAST_FORMAT))
def test_fast_format_regexes_accept_only_values_jsonschema_rs_accepts(name):
    validator = jsonschema_rs.validator_for({"format": name}, validate_formats=True)
    values = pl.Series(FORMAT_CANDIDATES[name])
    fast = values.str.contains(_FAST_FORMAT[name]).to_list()
    assert any(fast)
    for value, accepted in zip(values.to_list(), fast, strict=True):
        if accepted:
            assert validator.is_valid(value), value
