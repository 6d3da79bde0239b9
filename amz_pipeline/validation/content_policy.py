"""Content policy: the rules in `schemas/content_policy.json`, evaluated column-wise in Polars.

Each rule has a `kind` (max_length, min_length, forbidden_chars, regex, phrase_list, repeated_words, all_caps,
html), the catalog `columns` it applies to, a severity (error rejects the row, warning is only reported) and a
message template whose `{placeholders}` are filled per row. Rules are first evaluated as one vectorised
pass/fail test per column; the message details (the phrase found, the repeated word, ...) are computed only for
the few failing rows.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import polars as pl

import schemas
from amz_pipeline.validation.issues import concat, issues_where

_RUST_REGEX_META = set(r"\.+*?()|[]{}^$#&-~")
_PLACEHOLDER = re.compile(r"\{(\w+)\}")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uf900-\ufaff]")


def _escape(text: str) -> str:
    return "".join("\\" + ch if ch in _RUST_REGEX_META else ch for ch in text)


def _phrase_pattern(phrase: str) -> str:
    """A phrase as a whole-word match: a word boundary is required on a side that ends in a letter or digit
    ("sale" must not match "wholesale", "no. 1" must not match "No. 12"), except for CJK, which has no spaces."""
    core = _escape(phrase)
    left = r"(?:^|[^\p{L}\p{N}])" if phrase[:1].isalnum() and not _CJK.match(phrase[:1]) else ""
    right = r"(?:[^\p{L}\p{N}]|$)" if phrase[-1:].isalnum() and not _CJK.match(phrase[-1:]) else ""
    return left + core + right


@dataclass(frozen=True)
class PolicyRule:
    id: str
    kind: str
    columns: tuple[str, ...]
    params: dict[str, Any]
    severity: str
    message: str


@cache
def load_rules() -> tuple[PolicyRule, ...]:
    data = schemas.load_json("content_policy.json")
    return tuple(
        PolicyRule(
            id=r["id"], kind=r["kind"], columns=tuple(r["applies_to"]["columns"]), params=r.get("params", {}),
            severity=r["severity"].lower(), message=r["message"],
        )
        for r in data["rules"]
    )


def _format(template: str, values: dict[str, pl.Expr]) -> pl.Expr:
    parts: list[pl.Expr] = []
    position = 0
    for match in _PLACEHOLDER.finditer(template):
        parts.append(pl.lit(template[position:match.start()]))
        parts.append(values[match.group(1)].cast(pl.String) if match.group(1) in values else pl.lit(match.group(0)))
        position = match.end()
    parts.append(pl.lit(template[position:]))
    return pl.concat_str(parts, ignore_nulls=True)


# Each kind returns (cheap test on every row, exact test or None on the rows passing the cheap one, message
# values computed on failing rows only). The cheap test must be a necessary condition of the exact one.
Check = tuple[pl.Expr, pl.Expr | None, dict[str, pl.Expr]]
Kind = Callable[[pl.Expr, pl.Expr, dict[str, Any]], Check]  # (value, lower-cased value, params)


def _length(value: pl.Expr, params: dict[str, Any]) -> pl.Expr:
    return value.str.len_bytes() if params.get("unit") == "bytes" else value.str.len_chars()


def _max_length(value: pl.Expr, lowered: pl.Expr, params: dict[str, Any]) -> Check:
    length = _length(value, params)
    return length > params["max"], None, {"length": length, "max": pl.lit(params["max"])}


def _min_length(value: pl.Expr, lowered: pl.Expr, params: dict[str, Any]) -> Check:
    length = _length(value, params)
    return length < params["min"], None, {"length": length, "min": pl.lit(params["min"])}


def _forbidden_chars(value: pl.Expr, lowered: pl.Expr, params: dict[str, Any]) -> Check:
    char_class = "[" + "".join("\\" + c if c in _RUST_REGEX_META else c for c in params["chars"]) + "]"
    found = value.str.extract_all(char_class).list.unique(maintain_order=True).list.join(" ")
    return value.str.contains_any(list(params["chars"])), None, {"chars": found}


def _regex(value: pl.Expr, lowered: pl.Expr, params: dict[str, Any]) -> Check:
    pattern = ("(?i)" if params.get("ignore_case") else "") + params["pattern"]
    return value.str.contains(pattern), None, {"match": value.str.extract(pattern, 0)}


def _phrase_list(value: pl.Expr, lowered: pl.Expr, params: dict[str, Any]) -> Check:
    """Aho-Corasick substring search on lower-cased text first (fast, over-matches "sale" in "wholesale");
    whole-word regexes only on the rows it flags."""
    phrases = [p.lower() for p in params["phrases"]]
    exact = [(phrase, _phrase_pattern(phrase)) for phrase in phrases]
    which = pl.when(lowered.str.contains(exact[0][1])).then(pl.lit(exact[0][0]))
    for phrase, pattern in exact[1:]:
        which = which.when(lowered.str.contains(pattern)).then(pl.lit(phrase))
    which = which.otherwise(None)
    return lowered.str.contains_any(phrases), which.is_not_null(), {"match": which}


def _words(value: pl.Expr, params: dict[str, Any]) -> pl.Expr:
    text = value.str.to_lowercase() if params.get("ignore_case", True) else value
    ignored = [w.lower() for w in params.get("ignore_words", [])]
    return text.str.extract_all(r"[\p{L}\p{N}]+").list.eval(pl.element().filter(~pl.element().is_in(ignored)))


def _repeated_words(value: pl.Expr, lowered: pl.Expr, params: dict[str, Any]) -> Check:
    """Cheap pass: split on blanks and ASCII punctuation and compare the token count with the distinct count (a
    word seen more than `max_repeats` times leaves at least `max_repeats` duplicates). Exact pass: real word
    counts, ignoring the rule's ignore_words."""
    limit = params["max_repeats"]
    tokens = lowered.str.replace_all(r"[[:punct:]\s]+", " ").str.strip_chars().str.split(" ")
    maybe = (tokens.list.len() - tokens.list.n_unique()) >= limit
    worst = _words(value, params).list.eval(pl.element().value_counts(sort=True).first()).list.first()
    exact = (worst.struct.field("count") > limit).fill_null(False)
    details = {"word": worst.struct.field(""), "count": worst.struct.field("count"), "max_repeats": pl.lit(limit)}
    return maybe, exact, details


def _all_caps(value: pl.Expr, lowered: pl.Expr, params: dict[str, Any]) -> Check:
    """Cheap pass: few ASCII lower-case letters (necessary: lower-case letters ≤ (1 - ratio) × letters)."""
    ascii_lower = value.str.count_matches(r"[a-z]")
    maybe = ascii_lower <= value.str.len_chars() * (1 - params["uppercase_ratio"])
    letters = value.str.count_matches(r"\p{L}")
    upper = value.str.count_matches(r"\p{Lu}")
    exact = (letters >= params["min_letters"]) & (upper >= letters * params["uppercase_ratio"])
    return maybe, exact, {}


def _html(value: pl.Expr, lowered: pl.Expr, params: dict[str, Any]) -> Check:
    tag = r"</?([A-Za-z][A-Za-z0-9]*)(?:\s[^<>]*)?/?>"
    allowed = [t.lower() for t in params.get("allowed_tags", [])]
    names = value.str.extract_all(tag).list.eval(
        pl.element().str.extract(r"^</?([A-Za-z][A-Za-z0-9]*)", 1).str.to_lowercase()
    )
    disallowed = names.list.eval(pl.element().filter(~pl.element().is_in(allowed)))
    found = value.str.extract_all(tag).list.filter(
        pl.element().str.extract(r"^</?([A-Za-z][A-Za-z0-9]*)", 1).str.to_lowercase().is_in(allowed).not_()
    ).list.first()
    return value.str.contains("<", literal=True), value.str.contains(tag) & (disallowed.list.len() > 0), {"tag": found}


KINDS: dict[str, Kind] = {
    "max_length": _max_length,
    "min_length": _min_length,
    "forbidden_chars": _forbidden_chars,
    "regex": _regex,
    "phrase_list": _phrase_list,
    "repeated_words": _repeated_words,
    "all_caps": _all_caps,
    "html": _html,
}


def _lowered(column: str) -> str:
    return f"_lower_{column}"


def content_policy_issues(frame: pl.DataFrame, rules: Sequence[PolicyRule] | None = None) -> pl.DataFrame:
    """Issues for every rule × column of `frame` (needs `row`, `sku`); columns a file lacks are skipped."""
    rules = load_rules() if rules is None else rules
    columns = sorted({c for rule in rules for c in rule.columns if c in frame.columns})
    work = frame.select("row", "sku", *columns, *(pl.col(c).str.to_lowercase().alias(_lowered(c)) for c in columns))
    found = []
    for rule in rules:
        kind = KINDS.get(rule.kind)
        if kind is None:
            raise ValueError(f"content policy rule {rule.id!r}: unknown kind {rule.kind!r}")
        for column in rule.columns:
            if column not in frame.columns:
                continue
            value = pl.col(column)
            maybe, exact, details = kind(value, pl.col(_lowered(column)), rule.params)
            failing = work.select("row", "sku", column, _lowered(column)).filter(
                value.is_not_null() & maybe.fill_null(False)
            )
            if exact is not None and failing.height:
                failing = failing.filter(exact.fill_null(False))
            if not failing.height:
                continue
            found.append(issues_where(
                failing, pl.lit(True), field=column, rule=rule.id, severity=rule.severity,
                message=pl.lit(f"{column}: ") + _format(rule.message, details),
            ))
    return concat(found)
