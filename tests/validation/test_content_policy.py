"""Every content-policy rule flags its documented bad examples and passes its good ones."""

from __future__ import annotations

import re

import polars as pl
import pytest

import schemas
from amz_pipeline.validation.content_policy import PolicyRule, content_policy_issues, load_rules

RULES = schemas.load_json("content_policy.json")["rules"]
CASES = [
    pytest.param(rule["id"], column, verdict, example, id=f"{rule['id']}-{column}-{verdict}{i}")
    for rule in RULES
    for column in rule["applies_to"]["columns"][:2]
    for verdict in ("bad", "good")
    for i, example in enumerate(rule["examples"][verdict])
]


def _rule(rule_id: str) -> PolicyRule:
    return next(r for r in load_rules() if r.id == rule_id)


@pytest.mark.parametrize(("rule_id", "column", "verdict", "example"), CASES)
def test_documented_examples(rule_id, column, verdict, example):
    frame = pl.DataFrame({"row": [4], "sku": ["S-1"], column: [example]})
    issues = content_policy_issues(frame, [_rule(rule_id)])
    if verdict == "good":
        assert issues.to_dicts() == []
    else:
        assert issues.select("row", "sku", "field", "rule").to_dicts() == [
            {"row": 4, "sku": "S-1", "field": column, "rule": rule_id}
        ]
        assert issues["severity"][0] == _rule(rule_id).severity
        assert not re.search(r"\{[a-z_]+\}", issues["message"][0])  # every placeholder filled


def test_message_details_name_what_was_found():
    frame = pl.DataFrame({
        "row": [2, 3, 4, 5],
        "sku": ["a", "b", "c", "d"],
        "item_name": ["Acme Mug FREE SHIPPING", "Mug Mug Mug Blue", "Acme Cup {Blue}", "Wholesale mug salesman"],
    })
    issues = content_policy_issues(frame).sort("row")
    messages = dict(zip(issues["rule"], issues["message"], strict=True))
    assert messages["title_promotional_phrases"] == 'item_name: Title contains the promotional phrase "free shipping".'
    assert messages["title_repeated_words"] == 'item_name: Title repeats "mug" 3 times; at most 2 are allowed.'
    assert messages["title_forbidden_chars"] == "item_name: Title contains forbidden character(s) { }."
    assert 5 not in issues["row"].to_list()  # "sale" is not a word inside "wholesale"/"salesman"


def test_warnings_and_absent_columns():
    frame = pl.DataFrame({"row": [2], "sku": ["a"], "item_name": ["ACME CERAMIC COFFEE MUG BLUE"]})
    issues = content_policy_issues(frame)
    assert issues.select("rule", "severity").to_dicts() == [{"rule": "title_all_caps", "severity": "warning"}]


def test_unknown_kind_is_a_clear_error():
    rule = PolicyRule(id="x", kind="telepathy", columns=("item_name",), params={}, severity="error", message="m")
    with pytest.raises(ValueError, match="unknown kind 'telepathy'"):
        content_policy_issues(pl.DataFrame({"row": [1], "sku": ["a"], "item_name": ["t"]}), [rule])
