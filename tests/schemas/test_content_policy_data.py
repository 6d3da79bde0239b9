"""schemas/content_policy.json is well formed, its patterns work in both Python `re` and Polars (Rust regex), and a
reference evaluator of the semantics written in schemas/README.md flags every `bad` example and passes every `good`
one (so an engine that follows the README can be tested against the same examples)."""

from __future__ import annotations

import re

import polars as pl
import pytest
from jsonschema import Draft201909Validator

import schemas

POLICY = schemas.load_json("content_policy.json")
RULES = {rule["id"]: rule for rule in POLICY["rules"]}
WORD_CHAR = r"[0-9A-Za-z\u00C0-\u024F]"
HTML_TAG = r"</?([A-Za-z][A-Za-z0-9]*)(\s[^<>]*)?/?>"

PARAMS = {
    "max_length": {"type": "object", "required": ["max", "unit"], "additionalProperties": False,
                   "properties": {"max": {"type": "integer", "minimum": 1},
                                  "unit": {"enum": ["characters", "bytes"]}}},
    "min_length": {"type": "object", "required": ["min", "unit"], "additionalProperties": False,
                   "properties": {"min": {"type": "integer", "minimum": 1},
                                  "unit": {"enum": ["characters", "bytes"]}}},
    "forbidden_chars": {"type": "object", "required": ["chars"], "additionalProperties": False,
                        "properties": {"chars": {"type": "array", "minItems": 1, "uniqueItems": True,
                                                 "items": {"type": "string", "minLength": 1, "maxLength": 1}}}},
    "regex": {"type": "object", "required": ["pattern", "ignore_case"], "additionalProperties": False,
              "properties": {"pattern": {"type": "string", "minLength": 1}, "ignore_case": {"type": "boolean"}}},
    "phrase_list": {"type": "object", "required": ["phrases"], "additionalProperties": False,
                    "properties": {"phrases": {"type": "array", "minItems": 1, "uniqueItems": True,
                                               "items": {"type": "string", "minLength": 1}}}},
    "repeated_words": {"type": "object", "required": ["max_repeats", "ignore_case", "ignore_words"],
                       "additionalProperties": False,
                       "properties": {"max_repeats": {"type": "integer", "minimum": 1},
                                      "ignore_case": {"type": "boolean"},
                                      "ignore_words": {"type": "array", "items": {"type": "string"}}}},
    "html": {"type": "object", "required": ["allowed_tags"], "additionalProperties": False,
             "properties": {"allowed_tags": {"type": "array", "items": {"type": "string", "pattern": "^[a-z0-9]+$"}}}},
    "all_caps": {"type": "object", "required": ["min_letters", "uppercase_ratio"], "additionalProperties": False,
                 "properties": {"min_letters": {"type": "integer", "minimum": 1},
                                "uppercase_ratio": {"type": "number", "exclusiveMinimum": 0, "maximum": 1}}},
}

RULE_SCHEMA = {
    "type": "object",
    "required": ["id", "description", "applies_to", "kind", "params", "severity", "message", "examples"],
    "additionalProperties": False,
    "properties": {
        "id": {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"},
        "description": {"type": "string", "minLength": 10},
        "applies_to": {"type": "object", "required": ["columns", "attributes"], "additionalProperties": False,
                       "properties": {"columns": {"type": "array", "items": {"type": "string"}},
                                      "attributes": {"type": "array", "items": {"type": "string"}}}},
        "kind": {"enum": sorted(PARAMS)},
        "params": {"type": "object"},
        "severity": {"enum": ["error", "warning"]},
        "message": {"type": "string", "minLength": 10},
        "examples": {"type": "object", "required": ["bad", "good"], "additionalProperties": False,
                     "properties": {"bad": {"type": "array", "minItems": 1, "items": {"type": "string"}},
                                    "good": {"type": "array", "minItems": 1, "items": {"type": "string"}}}},
    },
    "allOf": [{"if": {"properties": {"kind": {"const": kind}}}, "then": {"properties": {"params": params}}}
              for kind, params in PARAMS.items()],
}

POLICY_SCHEMA = {
    "type": "object",
    "required": ["version", "rules"],
    "properties": {"version": {"const": 1}, "rules": {"type": "array", "minItems": 1, "items": RULE_SCHEMA}},
}


def phrase_pattern(phrase: str) -> str:
    before = f"(?:^|[^{WORD_CHAR[1:-1]}])" if re.match(WORD_CHAR, phrase[0]) else ""
    after = f"(?:$|[^{WORD_CHAR[1:-1]}])" if re.match(WORD_CHAR, phrase[-1]) else ""
    return f"(?i){before}{re.escape(phrase)}{after}"


def violation(rule: dict, text: str) -> dict | None:
    """Reference evaluator: the placeholders of the violation, or None when `text` passes."""
    kind, p = rule["kind"], rule["params"]
    if not text:
        return None
    if kind in ("max_length", "min_length"):
        length = len(text.encode("utf-8")) if p["unit"] == "bytes" else len(text)
        if kind == "max_length" and length > p["max"]:
            return {"length": length, "max": p["max"]}
        if kind == "min_length" and length < p["min"]:
            return {"length": length, "min": p["min"]}
        return None
    if kind == "forbidden_chars":
        found = [c for c in p["chars"] if c in text]
        return {"chars": " ".join(found)} if found else None
    if kind == "regex":
        m = re.search(p["pattern"], text, re.IGNORECASE if p["ignore_case"] else 0)
        return {"match": m.group(0)} if m else None
    if kind == "phrase_list":
        for phrase in p["phrases"]:
            if re.search(phrase_pattern(phrase), text):
                return {"match": phrase}
        return None
    if kind == "repeated_words":
        ignore = {w.lower() for w in p["ignore_words"]}
        counts: dict[str, int] = {}
        for word in re.findall(r"[^\W_]+", text):
            word = word.lower() if p["ignore_case"] else word
            if word.lower() in ignore or word.isdigit() or len(word) < 2:
                continue
            counts[word] = counts.get(word, 0) + 1
        for word, count in counts.items():
            if count > p["max_repeats"]:
                return {"word": word, "count": count, "max_repeats": p["max_repeats"]}
        return None
    if kind == "html":
        for m in re.finditer(HTML_TAG, text):
            if m.group(1).lower() not in p["allowed_tags"]:
                return {"tag": m.group(0)}
        return None
    if kind == "all_caps":
        cased = [c for c in text if c.isupper() or c.islower()]
        upper = sum(c.isupper() for c in cased)
        if len(cased) >= p["min_letters"] and upper / len(cased) >= p["uppercase_ratio"]:
            return {}
        return None
    raise AssertionError(kind)


def test_policy_file_is_well_formed():
    Draft201909Validator.check_schema(POLICY_SCHEMA)
    found = sorted(e.message for e in Draft201909Validator(POLICY_SCHEMA).iter_errors(POLICY))
    assert found == []
    assert len(RULES) == len(POLICY["rules"]), "rule ids must be unique"


def test_policy_covers_the_required_rule_families():
    kinds = {rule["kind"] for rule in POLICY["rules"]}
    assert {"max_length", "forbidden_chars", "phrase_list", "repeated_words", "html", "all_caps", "regex"} <= kinds
    phrases = {p.lower() for rule in POLICY["rules"] if rule["kind"] == "phrase_list"
               for p in rule["params"]["phrases"]}
    assert {"best seller", "free shipping", "#1", "sale", "fda approved", "cures", "antibacterial",
            "eco-friendly"} <= phrases
    assert {rule["severity"] for rule in POLICY["rules"]} == {"error", "warning"}


def test_applies_to_names_real_columns_and_attributes():
    canonical = set(schemas.load_json("column_aliases.json")["canonical_columns"])
    attributes = {a for pt in schemas.load_json("product_types/index.json")
                  for a in schemas.load_json(f"product_types/{pt}.json")["properties"]}
    template_columns = {c for p in schemas.path("templates").glob("*.json")
                        for c in schemas.load_json(f"templates/{p.name}")["source_columns"]}
    for rule in POLICY["rules"]:
        assert rule["applies_to"]["columns"] or rule["applies_to"]["attributes"], rule["id"]
        assert set(rule["applies_to"]["columns"]) <= canonical | template_columns, rule["id"]
        assert set(rule["applies_to"]["attributes"]) <= attributes, rule["id"]


def test_message_placeholders_are_ones_the_kind_fills():
    fills = {"max_length": {"length", "max"}, "min_length": {"length", "min"}, "forbidden_chars": {"chars"},
             "regex": {"match"}, "phrase_list": {"match"}, "repeated_words": {"word", "count", "max_repeats"},
             "html": {"tag"}, "all_caps": set()}
    for rule in POLICY["rules"]:
        used = set(re.findall(r"\{(\w+)\}", rule["message"]))
        assert used <= fills[rule["kind"]] | {"column"}, rule["id"]


@pytest.mark.parametrize("rule_id", sorted(RULES))
def test_examples_behave_as_documented(rule_id):
    rule = RULES[rule_id]
    for text in rule["examples"]["bad"]:
        found = violation(rule, text)
        assert found is not None, f"{rule_id} should flag {text!r}"
        rule["message"].format(column="item_name", **found)
    for text in rule["examples"]["good"]:
        assert violation(rule, text) is None, f"{rule_id} should pass {text!r}"


def test_patterns_work_in_polars_with_the_same_results():
    """The engine compiles these into Polars (Rust regex); its verdicts must match Python's on the examples."""
    for rule in POLICY["rules"]:
        if rule["kind"] == "regex":
            pattern = ("(?i)" if rule["params"]["ignore_case"] else "") + rule["params"]["pattern"]
            patterns = [pattern]
        elif rule["kind"] == "phrase_list":
            patterns = [phrase_pattern(p) for p in rule["params"]["phrases"]]
        elif rule["kind"] == "html":
            patterns = [HTML_TAG]
        else:
            continue
        texts = rule["examples"]["bad"] + rule["examples"]["good"]
        series = pl.Series(texts)
        hits = pl.DataFrame({f"p{i}": series.str.contains(p) for i, p in enumerate(patterns)})
        polars_any = hits.select(pl.any_horizontal(pl.all())).to_series().to_list()
        python_any = [any(re.search(p, t) for p in patterns) for t in texts]
        assert polars_any == python_any, rule["id"]
        if rule["kind"] != "html":
            assert polars_any == [violation(rule, t) is not None for t in texts], rule["id"]
