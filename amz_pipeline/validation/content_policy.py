"""Content policy: the rules in `schemas/content_policy.json`, evaluated column-wise in Polars.

Each rule has a `kind` (max_length, min_length, forbidden_chars, regex, phrase_list, repeated_words, all_caps,
html), the catalog `columns` it applies to, a severity (error rejects the row, warning is only reported) and a
message template whose `{placeholders}` are filled per row. A batch is first screened in one query that finds
the rows where some rule may fail (merged literal searches and regexes per column, necessary conditions only);
the rules themselves (cheap test, exact test) and their message details (the phrase found, the repeated word,
...) are evaluated only on the rows it keeps. See `content_policy_issues` for the order of the issues.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import polars as pl

import schemas
from amz_pipeline.validation.issues import concat

# Batches are small (≤ 100k rows): the in-memory engine keeps one chunk per column and costs less here than
# the streaming engine a lazy query otherwise defaults to.
_ENGINE = "in-memory"

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


# --- screening: one pass over a batch finds the rows where some rule may fail ---------------------------------
#
# `content_policy_issues` first evaluates, in ONE query, a necessary condition of failing for every rule × column
# (a row that fails a rule always passes its screen), then evaluates the rules exactly as `KINDS` define them
# (cheap test, exact test, message) only on the rows the screen kept. Literal searches are merged: one
# Aho-Corasick pass on the lower-cased text per column (or per group of columns screened alike, on their text
# joined by a line break) for the phrase lists and the literals every match of a case-insensitive regex must
# contain; one regex pass on the text as written for the forbidden characters, HTML's `<`, other regexes and the
# ALL-CAPS shape.

_SEPARATOR = "\n"
_PLAN_CACHE_SIZE = 32
_plans: dict[str, _Plan] = {}
_plans_lock = threading.Lock()
# Rust regex escapes that mean the same in Python's parser (others, such as `\<` or `\p{L}`, stop the analysis).
_SAFE_ESCAPES = set(".\\/-+*?()[]{}|^$dDwWsSbB")
# Runs of separators other than one plain space: replacing just those gives the same text as replacing every run
# of `[[:punct:]\s]` (the repeated-words tokenisation), with far fewer replacements.
_SEPARATOR_RUN = (
    r"[[:punct:]\s]*[[:punct:]\t\n\x0b\x0c\r\x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}"
    r"\x{3000}][[:punct:]\s]*|  +"
)


@dataclass(frozen=True)
class _Screen:
    """A necessary condition of failing one rule on one column: literals to find in the lower-cased text, regexes
    to find in the text as written, or an expression (over columns `prelude` adds)."""

    lowered: frozenset[str] = frozenset()
    patterns: frozenset[str] = frozenset()
    expr: pl.Expr | None = None
    prelude: tuple[pl.Expr, ...] = ()


@dataclass(frozen=True)
class _Plan:
    pairs: tuple[tuple[PolicyRule, str], ...]
    inputs: tuple[str, ...]
    prelude: tuple[tuple[pl.Expr, ...], ...]
    screen: pl.Expr
    lowered: tuple[pl.Expr, ...]
    verdicts: tuple[pl.Expr, ...]


def _parse_regex(pattern: str) -> Any:
    try:
        from re import _parser as sre_parse  # Python ≥ 3.11
    except ImportError:  # pragma: no cover
        import sre_parse  # type: ignore[no-redef]
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return sre_parse.parse(pattern)


def required_literals(pattern: str, ignore_case: bool) -> frozenset[str] | None:
    """Literals of which every match of `pattern` contains at least one (lower-cased when `ignore_case`, to be
    found in lower-cased text), or None when the pattern holds no such literal or anything this analysis does not
    vouch for (escapes whose meaning differs between Rust and Python, inline flags, ...)."""
    import re as python_re

    for position, char in enumerate(pattern):
        if char == "\\" and pattern[position + 1:position + 2] not in _SAFE_ESCAPES:
            return None
    if pattern.replace("(?:", "").count("(?"):
        return None
    try:
        parsed = _parse_regex(pattern)
    except (python_re.error, ValueError, OverflowError, RecursionError):
        return None
    if parsed.state.flags & ~python_re.UNICODE:
        return None
    return _sequence_literals(list(parsed), ignore_case)


def _literal_char_ok(char: str, ignore_case: bool) -> bool:
    if not ignore_case:
        return True
    if char.lower() == char == char.upper() and not char.isalpha():
        return True  # no case variants
    # ASCII letters whose case-insensitive matches all lower-case to the letter itself (not k: Kelvin sign, not
    # s: long s "ſ" stays "ſ" when lower-cased)
    return char.isascii() and char.isalpha() and char.lower() not in "ks"


def _sequence_literals(items: list, ignore_case: bool) -> frozenset[str] | None:
    from re import _constants as c

    candidates: list[frozenset[str]] = []
    run = ""
    for op, value in items:
        if op is c.LITERAL and _literal_char_ok(chr(value), ignore_case):
            run += chr(value).lower() if ignore_case else chr(value)
            continue
        if run:
            candidates.append(frozenset([run]))
            run = ""
        inner = None
        if op is c.SUBPATTERN:
            _group, add_flags, del_flags, sub = value
            if add_flags or del_flags:
                return None
            inner = _sequence_literals(list(sub), ignore_case)
        elif op is c.BRANCH:
            branches = [_sequence_literals(list(branch), ignore_case) for branch in value[1]]
            inner = None if any(b is None for b in branches) else frozenset().union(*branches)
        elif op in (c.MAX_REPEAT, c.MIN_REPEAT, getattr(c, "POSSESSIVE_REPEAT", None)) and value[0] >= 1:
            inner = _sequence_literals(list(value[2]), ignore_case)
        if inner:
            candidates.append(inner)
    if run:
        candidates.append(frozenset([run]))
    if not candidates:
        return None
    return max(candidates, key=lambda found: min(len(literal) for literal in found))


def _char_class(chars: Sequence[str]) -> str:
    return "[" + "".join("\\" + c if c in _RUST_REGEX_META else c for c in chars) + "]"


def _joinable(pattern: str) -> bool:
    """Whether `pattern` matches a column's text exactly where it matches that text inside several columns joined
    by line breaks (no anchors, no inline flags other than a leading `(?i)`; `\b` sees a line break as the text's
    edge)."""
    body = pattern.removeprefix("(?i)")
    if any(token in body for token in ("\\A", "\\z", "\\Z")):
        return False
    plain = re.sub(r"\\.", "", body).replace("[^", "[")
    return not ("^" in plain or "$" in plain or plain.replace("(?:", "").count("(?"))


def _screen(rule: PolicyRule, column: str, tag: str) -> _Screen:
    """A necessary condition of `rule` failing on a non-null value of `column` (see the kinds above)."""
    params = rule.params
    value, lowered = pl.col(column), pl.col(_lowered(column))
    if rule.kind == "phrase_list":
        return _Screen(lowered=frozenset(p.lower() for p in params["phrases"]))
    if rule.kind == "forbidden_chars":
        return _Screen(patterns=frozenset([_char_class(params["chars"])]))
    if rule.kind == "html":
        return _Screen(patterns=frozenset(["<"]))
    if rule.kind == "regex":
        ignore_case = bool(params.get("ignore_case"))
        literals = required_literals(params["pattern"], ignore_case)
        if literals and ignore_case:
            return _Screen(lowered=literals)
        if literals:
            return _Screen(patterns=frozenset(_escape(literal) for literal in literals))
        return _Screen(patterns=frozenset([("(?i)" if ignore_case else "") + params["pattern"]]))
    if rule.kind == "repeated_words":
        tokens = lowered.str.replace_all(_SEPARATOR_RUN, " ").str.strip_chars().str.split(" ")
        name = f"_tokens_{tag}"
        duplicates = pl.col(name).list.len() - pl.col(name).list.n_unique()
        return _Screen(expr=duplicates >= params["max_repeats"], prelude=(tokens.alias(name),))
    if rule.kind == "all_caps":
        ratio, least = params["uppercase_ratio"], params["min_letters"]
        if ratio > 0.5 and least * (2 * ratio - 1) > 1:
            # ≥ `least` letters, of which at most (1 - ratio) not upper-case, leave two upper-case letters with
            # no other letter between them
            return _Screen(patterns=frozenset([r"\p{Lu}\P{L}*\p{Lu}"]))
    maybe, _exact, _details = KINDS[rule.kind](value, lowered, params)
    return _Screen(expr=maybe)


def _build_plan(rules: Sequence[PolicyRule], columns: tuple[str, ...]) -> _Plan:
    pairs = tuple((rule, column) for rule in rules for column in rule.columns if column in columns)
    used = sorted({column for _, column in pairs})
    lowered_needles: dict[str, set[str]] = {column: set() for column in used}
    patterns: dict[str, set[str]] = {column: set() for column in used}
    tests: list[pl.Expr] = []
    derived: list[pl.Expr] = []
    for index, (rule, column) in enumerate(pairs):
        screen = _screen(rule, column, str(index))
        lowered_needles[column].update(screen.lowered)
        patterns[column].update(screen.patterns)
        derived.extend(screen.prelude)
        if screen.expr is not None:
            tests.append(pl.col(column).is_not_null() & screen.expr.fill_null(False))
    groups: dict[tuple[frozenset[str], frozenset[str]], list[str]] = {}
    for column in used:
        if lowered_needles[column] or patterns[column]:
            groups.setdefault((frozenset(lowered_needles[column]), frozenset(patterns[column])), []).append(column)
    texts: list[pl.Expr] = []
    lowered_texts: list[pl.Expr] = []
    for number, ((needles, regexes), members) in enumerate(groups.items()):
        joinable = (len(members) > 1 and not any(_SEPARATOR in n for n in needles)
                    and all(_joinable(p) for p in regexes))
        units: list[tuple[str, pl.Expr | None]] = [(member, None) for member in members]
        if joinable:
            units = [(f"_text_{number}", pl.concat_str(members, separator=_SEPARATOR, ignore_nulls=True))]
        for name, text in units:
            if text is not None:
                texts.append(text.alias(name))
            if needles:
                lowered_name = f"_text_lower_{number}" if text is not None else _lowered(name)
                if text is not None:
                    lowered_texts.append(pl.col(name).str.to_lowercase().alias(lowered_name))
                tests.append(pl.col(lowered_name).str.contains_any(sorted(needles)).fill_null(False))
            if regexes:
                union = "|".join(f"(?:{p})" for p in sorted(regexes))
                tests.append(pl.col(name).str.contains(union).fill_null(False))
    screen = pl.any_horizontal(tests) if tests else pl.lit(False)
    verdicts = []
    for index, (rule, column) in enumerate(pairs):
        value = pl.col(column)
        maybe, exact, details = KINDS[rule.kind](value, pl.col(_lowered(column)), rule.params)
        failed = value.is_not_null() & maybe.fill_null(False)
        if exact is not None:
            failed = failed & exact.fill_null(False)
        message = (pl.lit(f"{column}: ") + _format(rule.message, details)).cast(pl.String)
        verdicts.append(pl.struct(failed.alias("failed"), message.alias("message")).alias(str(index)))
    lowered = tuple(pl.col(c).str.to_lowercase().alias(_lowered(c)) for c in used)
    needed = {name for test in (*tests, *derived) for name in test.meta.root_names()}
    screen_lowered = tuple(pl.col(c).str.to_lowercase().alias(_lowered(c)) for c in used if _lowered(c) in needed)
    prelude = tuple(stage for stage in ((*screen_lowered, *texts), (*lowered_texts, *derived)) if stage)
    return _Plan(pairs=pairs, inputs=tuple(used), prelude=prelude, screen=screen.alias("_screen"),
                 lowered=lowered, verdicts=tuple(verdicts))


def _plan(rules: Sequence[PolicyRule], columns: tuple[str, ...]) -> _Plan:
    import json

    key = json.dumps([[r.id, r.kind, r.columns, r.params, r.severity, r.message] for r in rules] + [columns],
                     sort_keys=True, default=str)
    with _plans_lock:
        plan = _plans.get(key)
    if plan is None:
        plan = _build_plan(rules, columns)
        with _plans_lock:
            while len(_plans) >= _PLAN_CACHE_SIZE:
                _plans.pop(next(iter(_plans)))
            _plans[key] = plan
    return plan


def content_policy_issues(frame: pl.DataFrame, rules: Sequence[PolicyRule] | None = None) -> pl.DataFrame:
    """Issues for every rule × column of `frame` (needs `row`, `sku`); columns a file lacks are skipped.

    Issues come rule by rule (in the rules' order), column by column (in the rule's order), row by row."""
    rules = load_rules() if rules is None else rules
    for rule in rules:
        if rule.kind not in KINDS:
            raise ValueError(f"content policy rule {rule.id!r}: unknown kind {rule.kind!r}")
    columns = tuple(sorted({c for rule in rules for c in rule.columns if c in frame.columns}))
    if not columns:
        frame.select("row", "sku")  # the columns every gate needs (raises when absent, as before)
        return concat([])
    plan = _plan(rules, columns)
    screening = frame.lazy().select(plan.inputs)
    for stage in plan.prelude:
        screening = screening.with_columns(stage)
    kept = screening.select(plan.screen).collect(engine=_ENGINE).to_series()
    candidates = frame.filter(kept).select("row", "sku", *columns)
    if not candidates.height:
        return concat([])
    found = (
        candidates.lazy().with_columns(plan.lowered)
        .select("row", "sku", pl.int_range(pl.len(), dtype=pl.Int64).alias("_position"), *plan.verdicts)
        .unpivot(index=["row", "sku", "_position"], variable_name="_pair", value_name="_verdict")
        .filter(pl.col("_verdict").struct.field("failed"))
        .sort(pl.col("_pair").cast(pl.Int64), "_position")  # rule × column order, then row order
        .collect(engine=_ENGINE)
    )
    if not found.height:
        return concat([])
    pair = pl.col("_pair")
    fields = {str(i): column for i, (_, column) in enumerate(plan.pairs)}
    rule_ids = {str(i): rule.id for i, (rule, _) in enumerate(plan.pairs)}
    severities = {str(i): rule.severity for i, (rule, _) in enumerate(plan.pairs)}
    issues = found.select(
        pl.col("row").cast(pl.Int64),
        pl.col("sku"),
        pair.replace_strict(fields, return_dtype=pl.String).alias("field"),
        pair.replace_strict(rule_ids, return_dtype=pl.String).alias("rule"),
        pair.replace_strict(severities, return_dtype=pl.String).alias("severity"),
        pl.col("_verdict").struct.field("message").alias("message"),
    )
    return concat([issues])
