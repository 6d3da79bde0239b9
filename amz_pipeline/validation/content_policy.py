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


# Each kind: (failure test on the column, message values computed on failing rows only).
Kind = Callable[[pl.Expr, dict[str, Any]], tuple[pl.Expr, dict[str, pl.Expr]]]


def _length(value: pl.Expr, params: dict[str, Any]) -> pl.Expr:
    return value.str.len_bytes() if params.get("unit") == "bytes" else value.str.len_chars()


def _max_length(value: pl.Expr, params: dict[str, Any]) -> tuple[pl.Expr, dict[str, pl.Expr]]:
    return _length(value, params) > params["max"], {"length": _length(value, params), "max": pl.lit(params["max"])}


def _min_length(value: pl.Expr, params: dict[str, Any]) -> tuple[pl.Expr, dict[str, pl.Expr]]:
    return _length(value, params) < params["min"], {"length": _length(value, params), "min": pl.lit(params["min"])}


def _forbidden_chars(value: pl.Expr, params: dict[str, Any]) -> tuple[pl.Expr, dict[str, pl.Expr]]:
    char_class = "[" + "".join("\\" + c if c in _RUST_REGEX_META else c for c in params["chars"]) + "]"
    found = value.str.extract_all(char_class).list.unique(maintain_order=True).list.join(" ")
    return value.str.contains(char_class), {"chars": found}


def _regex(value: pl.Expr, params: dict[str, Any]) -> tuple[pl.Expr, dict[str, pl.Expr]]:
    pattern = ("(?i)" if params.get("ignore_case") else "") + params["pattern"]
    return value.str.contains(pattern), {"match": value.str.extract(pattern, 0)}


def _phrase_list(value: pl.Expr, params: dict[str, Any]) -> tuple[pl.Expr, dict[str, pl.Expr]]:
    patterns = [(phrase, "(?i)" + _phrase_pattern(phrase)) for phrase in params["phrases"]]
    combined = "(?i)(?:" + "|".join(_phrase_pattern(p) for p, _ in patterns) + ")"
    which = pl.when(value.str.contains(patterns[0][1])).then(pl.lit(patterns[0][0]))
    for phrase, pattern in patterns[1:]:
        which = which.when(value.str.contains(pattern)).then(pl.lit(phrase))
    return value.str.contains(combined), {"match": which.otherwise(None)}


def _words(value: pl.Expr, params: dict[str, Any]) -> pl.Expr:
    text = value.str.to_lowercase() if params.get("ignore_case", True) else value
    ignored = [w.lower() for w in params.get("ignore_words", [])]
    return text.str.extract_all(r"[\p{L}\p{N}]+").list.eval(pl.element().filter(~pl.element().is_in(ignored)))


def _repeated_words(value: pl.Expr, params: dict[str, Any]) -> tuple[pl.Expr, dict[str, pl.Expr]]:
    limit = params["max_repeats"]
    words = _words(value, params)
    # Cheap necessary condition for the pass/fail pass; the exact count only for rows that pass it.
    maybe = (words.list.len() - words.list.n_unique()) >= limit
    counts = words.list.eval(pl.element().value_counts(sort=True).first())
    worst = counts.list.first()
    failed = maybe & (worst.struct.field("count") > limit).fill_null(False)
    return failed, {
        "word": worst.struct.field(""),
        "count": worst.struct.field("count"),
        "max_repeats": pl.lit(limit),
    }


def _all_caps(value: pl.Expr, params: dict[str, Any]) -> tuple[pl.Expr, dict[str, pl.Expr]]:
    letters = value.str.count_matches(r"\p{L}")
    upper = value.str.count_matches(r"\p{Lu}")
    failed = (letters >= params["min_letters"]) & (upper >= letters * params["uppercase_ratio"])
    return failed, {}


def _html(value: pl.Expr, params: dict[str, Any]) -> tuple[pl.Expr, dict[str, pl.Expr]]:
    tag = r"</?([A-Za-z][A-Za-z0-9]*)(?:\s[^<>]*)?/?>"
    allowed = [t.lower() for t in params.get("allowed_tags", [])]
    names = value.str.extract_all(tag).list.eval(
        pl.element().str.extract(r"^</?([A-Za-z][A-Za-z0-9]*)", 1).str.to_lowercase()
    )
    disallowed = names.list.eval(pl.element().filter(~pl.element().is_in(allowed)))
    found = value.str.extract_all(tag).list.filter(
        pl.element().str.extract(r"^</?([A-Za-z][A-Za-z0-9]*)", 1).str.to_lowercase().is_in(allowed).not_()
    ).list.first()
    return value.str.contains(tag) & (disallowed.list.len() > 0), {"tag": found}


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


def content_policy_issues(frame: pl.DataFrame, rules: Sequence[PolicyRule] | None = None) -> pl.DataFrame:
    """Issues for every rule × column of `frame` (needs `row`, `sku`); columns a file lacks are skipped."""
    found = []
    for rule in load_rules() if rules is None else rules:
        kind = KINDS.get(rule.kind)
        if kind is None:
            raise ValueError(f"content policy rule {rule.id!r}: unknown kind {rule.kind!r}")
        for column in rule.columns:
            if column not in frame.columns:
                continue
            value = pl.col(column)
            failed, details = kind(value, rule.params)
            failing = frame.select("row", "sku", column).filter(value.is_not_null() & failed.fill_null(False))
            if not failing.height:
                continue
            found.append(issues_where(
                failing, pl.lit(True), field=column, rule=rule.id, severity=rule.severity,
                message=pl.lit(f"{column}: ") + _format(rule.message, details),
            ))
    return concat(found)
