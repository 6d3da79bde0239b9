"""The screened content policy (one pass finding the rows where a rule may fail, the rules themselves only on
those) reports exactly what evaluating every rule × column on every row reports: same issues, same order."""

from __future__ import annotations

import random
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import schemas
from amz_pipeline.catalog.marketplaces import resolve
from amz_pipeline.catalog.normalize import normalize
from amz_pipeline.catalog.readers import read_catalog
from amz_pipeline.validation.content_policy import (
    KINDS,
    _format,
    _lowered,
    content_policy_issues,
    load_rules,
    required_literals,
)
from amz_pipeline.validation.issues import concat, issues_where

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "samples"
TEXT_COLUMNS = ("item_name", "bullet_point_1", "bullet_point_2", "bullet_point_3", "bullet_point_4",
                "bullet_point_5", "product_description", "generic_keyword")


def every_rule_on_every_row(frame: pl.DataFrame, rules=None) -> pl.DataFrame:
    """The reference: each rule × column evaluated on the whole frame, as the gate did before it screened."""
    rules = load_rules() if rules is None else rules
    columns = sorted({c for rule in rules for c in rule.columns if c in frame.columns})
    work = frame.select("row", "sku", *columns, *(pl.col(c).str.to_lowercase().alias(_lowered(c)) for c in columns))
    found = []
    for rule in rules:
        kind = KINDS[rule.kind]
        for column in rule.columns:
            if column not in frame.columns:
                continue
            value = pl.col(column)
            maybe, exact, details = kind(value, pl.col(_lowered(column)), rule.params)
            failing = work.filter(value.is_not_null() & maybe.fill_null(False))
            if exact is not None and failing.height:
                failing = failing.filter(exact.fill_null(False))
            if failing.height:
                found.append(issues_where(
                    failing, pl.lit(True), field=column, rule=rule.id, severity=rule.severity,
                    message=pl.lit(f"{column}: ") + _format(rule.message, details),
                ))
    return concat(found)


@pytest.mark.parametrize("name", sorted(p.name for p in SAMPLES.iterdir() if p.name.startswith("catalog_")))
def test_samples_match_every_rule_on_every_row(name):
    frame = normalize(read_catalog(SAMPLES / name), None)
    assert_frame_equal(content_policy_issues(frame), every_rule_on_every_row(frame))


# Fragments that trip (or nearly trip) the rules, including the policy's own examples and Unicode edge cases.
FRAGMENTS = [
    example for rule in schemas.load_json("content_policy.json")["rules"] for verdict in ("bad", "good")
    for example in rule["examples"][verdict] if len(example) < 300
] + [
    "FREE SHIPPING", "Free\u00a0Shipping", "free  shipping", "wholesale", "secure", "Cures", "CURE!", "HEILT",
    "GUÉRIT", "Guérit", "ÉCOLOGIQUE", "ΣΟΦΟΣ", "οδός", "\u212aills germs", "\u017fanitizes", "İstanbul",
    "visit HTTP://x.example", "WWW.ACME.EXAMPLE", "mail\u00a0a@b.example", "a@b", "x@y.zz", "https:/ /x",
    "<b>", "< b>", "a<3", "</P>", "<br/>", "🙂", "☀", "⭕", "\ufe0f", "#1 seller", "No. 1", "100% QUALITY GUARANTEED",
    "mug mug mug", "Mug, mug; MUG", "mug–mug–mug", "mug\u2003mug\u2003mug", "x-mug y-mug z-mug", "the the the",
    "a a a", "1 1 1", "ＭＵＧ ＭＵＧ ＭＵＧ", "SHOUTING TITLE HERE", "A B C D E F G H I", "TV", "USB-C Cable",
    "ÄÖÜ ÄÖÜ ÄÖÜ ÄÖÜ", "Mug ~ Cup", "price $5?", "x" * 210, "y" * 520, "z" * 2100, "マグ" * 60, "", "   ",
    "short", "Acme Mug", "Ceramic Mug, Blue Mug, Coffee Mug", "eco friendly", "Eco-Friendly", "non-toxic",
]


def mutated_texts(seed: int, rows: int = 400) -> pl.DataFrame:
    rng = random.Random(seed)
    base = normalize(read_catalog(SAMPLES / "catalog_us.csv"), resolve("US"))
    base = base.sample(rows, with_replacement=True, seed=seed).with_columns(
        pl.int_range(2, rows + 2, dtype=pl.Int64).alias("row"))
    columns = {}
    for column in TEXT_COLUMNS:
        original = base[column].to_list() if column in base.columns else [None] * rows
        values = []
        for value in original:
            draw = rng.random()
            if draw < 0.25:
                fragment = rng.choice(FRAGMENTS)
                value = fragment if value is None or rng.random() < 0.3 else \
                    rng.choice([f"{value} {fragment}", f"{fragment} {value}", f"{value}{fragment}"])
            elif draw < 0.3:
                value = None
            values.append(value)
        columns[column] = values
    return base.with_columns(pl.Series(c, v, dtype=pl.String) for c, v in columns.items())


@pytest.mark.parametrize("seed", [11, 12, 13, 14])
def test_mutated_texts_match_every_rule_on_every_row(seed):
    frame = mutated_texts(seed)
    expected = every_rule_on_every_row(frame)
    assert expected["rule"].n_unique() >= 12, expected["rule"].unique().to_list()  # most rules fail somewhere
    assert_frame_equal(content_policy_issues(frame), expected)


def test_each_rule_alone_and_absent_columns():
    frame = mutated_texts(21).drop("bullet_point_2", "generic_keyword")
    for rule in load_rules():
        assert_frame_equal(content_policy_issues(frame, [rule]), every_rule_on_every_row(frame, [rule]))


def test_required_literals():
    contact = next(r for r in load_rules() if r.id == "text_contact_information").params["pattern"]
    assert required_literals(contact, True) == frozenset({"http", "www.", "@"})
    assert required_literals(r"abc|de", False) == frozenset({"abc", "de"})
    assert required_literals(r"https?://", True) == frozenset({"http"})
    assert required_literals(r"(ab)?c", False) == frozenset({"c"})
    assert required_literals(r"as?k", True) == frozenset({"a"})  # s and k have non-ASCII case variants
    assert required_literals(r"s?k", True) is None
    assert required_literals(r"\p{L}+x", False) is None  # not a Python regex
    assert required_literals(r"\<word", False) is None  # word boundary in Rust, a literal in Python
    assert required_literals(r"(?i:ab)c", False) is None
    assert required_literals(r"[a-z]+", False) is None
