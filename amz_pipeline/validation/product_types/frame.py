"""`validate_attributes`: product-type issues for a frame of catalog rows, in the shared issue shape.

Rows whose payload comes only from the template are validated column-wise (`columnwise.py`: the schema compiled
through the template into Polars expressions, no per-row Python). Rows carrying free-form `attributes_json`, and rows
emitting an attribute whose schema uses a construct the column-wise compiler does not evaluate, are validated by the
per-payload validator (`CompiledProductType`) on the merged payload, once per distinct payload.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from typing import Any

import jsonschema_rs
import polars as pl

from amz_pipeline.catalog import mapping

from .columnwise import Check, Compiled, _field, compile_for_plan
from .compiled import CompiledProductType
from .hybrid import UserAttributes, top_level_names
from .issues import ERROR, Issue
from .registry import ProductTypeRegistry, UnknownProductType, default_registry
from .staging import Staged, stage

ISSUE_COLUMNS = {"row": pl.Int64, "sku": pl.String, "field": pl.String, "rule": pl.String, "severity": pl.String,
                 "message": pl.String, "code": pl.String, "categories": pl.String}
_N = "__n"
_TYPE = "__type"
_COMPILED: dict[tuple[int, str], tuple[mapping.Plan, Compiled]] = {}
_EVALUATORS: dict[tuple[int, str], tuple[mapping.Plan, _Evaluator]] = {}
_EVALUATOR_LOCK = threading.Lock()
_MAX_KEY_SETS = 32  # distinct sets of user attribute names judged column-wise per group; more go per-payload


def validate_attributes(frame: pl.DataFrame, marketplace_id: str, *, columnwise: bool = True) -> pl.DataFrame:
    """Product-type issues for `frame` (canonical columns incl. `row`, `sku`, `product_type`, optional
    `attributes_json`) in `marketplace_id`: columns row, sku, field, rule, severity, message, code, categories.

    Each row's payload is what `build_payloads` sends (template output with `attributes_json` merged over it).
    `columnwise=False` judges every row with the per-payload validator (the reference the column-wise path is
    tested against).
    """
    if not frame.height:
        return pl.DataFrame(schema=ISSUE_COLUMNS)
    registry = default_registry()
    types = pl.col("product_type").cast(pl.String).str.strip_chars().str.to_uppercase() \
        if "product_type" in frame.columns else pl.lit(None, pl.String)
    work = frame.with_columns(types.alias(_TYPE)).with_row_index(_N)
    work, bad_json, parsed = _user_json(work)
    parts = [bad_json]
    for (product_type,), group in work.partition_by(_TYPE, as_dict=True, maintain_order=True).items():
        parts.extend(_group_issues(group, product_type, marketplace_id, registry, columnwise, parsed))
    parts = [p for p in parts if p.height]
    if not parts:
        return pl.DataFrame(schema=ISSUE_COLUMNS)
    out = pl.concat([p.select(*ISSUE_COLUMNS, _N) for p in parts], how="vertical_relaxed")
    return out.unique(subset=[_N, "field", "rule"], keep="first", maintain_order=True).sort(_N, maintain_order=True) \
        .drop(_N).cast(ISSUE_COLUMNS)  # type: ignore[arg-type]


def _user_json(work: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame, dict[int, dict[str, Any]]]:
    """`attributes_json` that is not a JSON object becomes a `json` issue and is dropped from the row (such rows get
    no schema issues: the seller must fix the JSON first). Also the parsed objects, by row index."""
    parsed: dict[int, dict[str, Any]] = {}
    if "attributes_json" not in work.columns:
        return work.with_columns(pl.lit(None, pl.String).alias("__user")), pl.DataFrame(), parsed
    user = work.select(_N, "row", "sku", pl.col("attributes_json").cast(pl.String)).filter(
        pl.col("attributes_json").is_not_null())
    problems: list[tuple[int, str]] = []
    for n, text in user.select(_N, "attributes_json").iter_rows():
        try:
            parsed[n] = mapping.parse_user_attributes(text)
        except ValueError as error:
            problems.append((n, str(error)))
    bad = pl.DataFrame(problems, schema={_N: pl.UInt32, "message": pl.String}, orient="row")
    bad_issues = bad.join(work.select(_N, "row", "sku"), on=_N).with_columns(
        pl.lit("attributes_json").alias("field"), pl.lit("json").alias("rule"), pl.lit(ERROR).alias("severity"),
        pl.lit(Issue("", "json", "", ()).code).alias("code"),
        pl.lit(Issue("", "json", "", ()).category).alias("categories"))
    flagged = pl.col(_N).is_in(bad[_N].implode())
    work = work.with_columns(
        pl.when(flagged).then(None).otherwise(pl.col("attributes_json").cast(pl.String)).alias("attributes_json"),
        pl.when(flagged).then(None).otherwise(pl.col("attributes_json").cast(pl.String)).alias("__user"),
        flagged.alias("__bad_json"))
    return work, bad_issues, parsed


def _static(rows: pl.DataFrame, issue: Issue) -> pl.DataFrame:
    return rows.select(_N, "row", "sku").with_columns(
        pl.lit(issue.field).alias("field"), pl.lit(issue.rule).alias("rule"), pl.lit(issue.severity).alias("severity"),
        pl.lit(issue.message).alias("message"), pl.lit(issue.code).alias("code"),
        pl.lit(issue.category).alias("categories"))


def _group_issues(group: pl.DataFrame, product_type: str | None, marketplace_id: str, registry: ProductTypeRegistry,
                  columnwise: bool, parsed: dict[int, dict[str, Any]]) -> list[pl.DataFrame]:
    source = group.drop(_N, _TYPE, "__user", "__bad_json", strict=False)
    plan = mapping.compile_plan(mapping.template_for(product_type), marketplace_id, dict(source.schema))
    if columnwise and product_type:
        try:
            validators = {r: registry.get(product_type, r) for r in ("LISTING", "LISTING_OFFER_ONLY")}
        except UnknownProductType:
            pass
        else:
            return _fast_group_issues(group, source.columns, plan, marketplace_id, validators, parsed)
    work = mapping.materialize(plan, group)
    out = [_cast_issues(work, plan)]
    judged = work.filter(~pl.col("__bad_json")) if "__bad_json" in work.columns else work
    if not judged.height:
        return out
    if not product_type:
        return [*out, _static(judged, Issue("product_type", "required", "the product type is missing.", ()))]
    try:
        validators = {r: registry.get(product_type, r) for r in ("LISTING", "LISTING_OFFER_ONLY")}
    except UnknownProductType as error:
        return [*out, _static(judged, Issue("product_type", "product_type", str(error), (), ERROR))]
    per_payload = pl.col("__user").is_not_null()
    if columnwise:
        compiled = _compiled(validators, plan)
        fallback = compiled.fallback
        if fallback is not False:
            per_payload = per_payload | (pl.lit(True) if fallback is True else fallback)
        flagged = judged.with_columns(per_payload.fill_null(False).alias("__per_payload"))
        template_rows = flagged.filter(~pl.col("__per_payload"))
        if template_rows.height:
            out.append(_evaluate(template_rows, compiled))
        judged = flagged.filter(pl.col("__per_payload"))
    if judged.height:
        out.append(_per_payload_issues(judged, source.columns, marketplace_id, validators))
    return out


def _compiled(validators: dict[str, CompiledProductType], plan: mapping.Plan) -> Compiled:
    """The compiled checks of a (plan, schema version), cached (plans are cached and never mutated)."""
    key = (id(plan), "|".join(f"{v.checksum}:{','.join(v.required)}" for v in validators.values()))
    found = _COMPILED.get(key)
    if found is None or found[0] is not plan:
        found = (plan, compile_for_plan(validators, plan))
        _COMPILED[key] = found
    return found[1]


# --- the fast path: staged column-wise flags, free-form rows cleared without building their payload -------------


@dataclass
class _Evaluator:
    """A product type's compiled checks against one plan, prepared for evaluation: the plan columns they read
    (staged), the flag of each cast test (`__cf<i>`) and check (`__f<i>`) and the fallback (`__fb`), staged."""

    compiled: Compiled
    materialize: Staged
    flags: Staged
    casts: list[tuple[str, str, mapping.Leaf, pl.Expr, pl.Expr]]
    flag_names: list[str]
    top_names: frozenset[str] | None
    users: UserAttributes


def _cast_checks(plan: mapping.Plan) -> list[tuple[str, str, mapping.Leaf, pl.Expr, pl.Expr]]:
    checks = []
    for name, instances in plan.attributes.items():
        for compiled in instances:
            for path, leaf in compiled.leaves.items():
                if leaf.failed is None or not leaf.columns:
                    continue
                label = f"{name}.{'.'.join(str(p) for p in path)}"
                field = label.replace(".0.", "[0].").replace(".0", "[0]")
                value = pl.coalesce([pl.col(c).cast(pl.String) for c in leaf.columns])
                checks.append((field, label, leaf, (compiled.present & leaf.failed).fill_null(False), value))
    return checks


def _evaluator(validators: dict[str, CompiledProductType], plan: mapping.Plan) -> _Evaluator:
    """The staged evaluator of a (plan, schema version), built once: ingestion's worker threads ask for the same
    product types at the same moment, and staging one costs ~0.3 s of Python (GIL held)."""
    key = (id(plan), "|".join(f"{v.checksum}:{','.join(v.required)}" for v in validators.values()))
    found = _EVALUATORS.get(key)
    if found is not None and found[0] is plan:
        return found[1]
    with _EVALUATOR_LOCK:
        found = _EVALUATORS.get(key)
        if found is not None and found[0] is plan:
            return found[1]
        return _build_evaluator(key, validators, plan)


def _build_evaluator(key: tuple[int, str], validators: dict[str, CompiledProductType], plan: mapping.Plan
                     ) -> _Evaluator:
    compiled = _compiled(validators, plan)
    casts = _cast_checks(plan)
    flag_exprs = [cond.alias(f"__cf{i}") for i, (*_, cond, _) in enumerate(casts)]
    flag_exprs += [check.when.fill_null(False).alias(f"__f{i}") for i, check in enumerate(compiled.checks)]
    if isinstance(compiled.fallback, pl.Expr):
        flag_exprs.append(compiled.fallback.fill_null(False).alias("__fb"))
    read: list[pl.Expr] = [*flag_exprs, *(value for *_, value in casts)]
    for check in compiled.checks:
        read.extend(p for p in check.path if isinstance(p, pl.Expr))
        if check.value is not None:
            read.append(check.value)
    for pc in compiled.python_checks:
        read.extend(e for e in (pc.value, pc.present, pc.fast_ok) if isinstance(e, pl.Expr))
    needed = {name for expr in read for name in expr.meta.root_names()}
    columns = [c for c in plan.columns if c.meta.output_name() in needed]
    evaluator = _Evaluator(compiled, stage(columns, "__ptv_s"), stage(flag_exprs, "__ptv_t"), casts,
                           [e.meta.output_name() for e in flag_exprs if e.meta.output_name() != "__fb"],
                           top_level_names(validators["LISTING"].schema), UserAttributes(validators["LISTING"]))
    _EVALUATORS[key] = (plan, evaluator)
    return evaluator


def _fast_group_issues(group: pl.DataFrame, columns: list[str], plan: mapping.Plan, marketplace_id: str,
                       validators: dict[str, CompiledProductType], parsed: dict[int, dict[str, Any]]
                       ) -> list[pl.DataFrame]:
    """`_group_issues` for a known product type, column-wise: the same issues, in the same order."""
    ev = _evaluator(validators, plan)
    compiled = ev.compiled
    work = ev.flags.apply(_with_python_checks(ev.materialize.apply(group), compiled))
    hot = work.filter(pl.any_horizontal(ev.flag_names)) if ev.flag_names else work.clear()
    out = [_cast_from_flags(hot, ev)]
    judged = work.filter(~pl.col("__bad_json")) if "__bad_json" in work.columns else work
    if not judged.height:
        return out
    if compiled.fallback is True:
        return [*out, _per_payload_issues(judged, columns, marketplace_id, validators)]
    free = pl.col("__user").is_not_null()
    fallback = pl.col("__fb") if isinstance(compiled.fallback, pl.Expr) else pl.lit(False)
    template_hot = hot.filter(~pl.col("__bad_json")) if "__bad_json" in hot.columns else hot
    template_hot = template_hot.filter(~free & ~fallback)
    if template_hot.height:
        out.append(_issues_from_flags(template_hot, compiled))
    per_payload = judged.filter(fallback | free)
    if per_payload.height:
        hybrid = per_payload.filter(~fallback)
        dirty = _hybrid_dirty(hybrid, ev, parsed) if hybrid.height else pl.Series(_N, [], pl.UInt32)
        per_payload = per_payload.filter(fallback | pl.col(_N).is_in(dirty.implode()))
    if per_payload.height:
        out.append(_per_payload_issues(per_payload, columns, marketplace_id, validators))
    return out


def _cast_from_flags(hot: pl.DataFrame, ev: _Evaluator) -> pl.DataFrame:
    """`_cast_issues` from the `__cf<i>` flags."""
    if not ev.casts or not hot.height:
        return pl.DataFrame()
    hits = hot.select(pl.col(f"__cf{i}").any() for i in range(len(ev.casts))).row(0)
    parts = []
    for i, (hit, (field, label, leaf, _, value)) in enumerate(zip(hits, ev.casts, strict=True)):
        if not hit:
            continue
        parts.append(_cast_issue_rows(hot.filter(pl.col(f"__cf{i}")), field, label, leaf, value))
    return pl.concat(parts) if parts else pl.DataFrame()


def _issues_from_flags(rows: pl.DataFrame, compiled: Compiled) -> pl.DataFrame:
    """`_evaluate` from the `__f<i>` flags."""
    if not compiled.checks:
        return pl.DataFrame()
    hits = rows.select(pl.col(f"__f{i}").any() for i in range(len(compiled.checks))).row(0)
    parts = [_check_issues(rows.filter(pl.col(f"__f{i}")), compiled.checks[i]) for i, hit in enumerate(hits) if hit]
    return pl.concat(parts, how="vertical_relaxed") if parts else pl.DataFrame()


def _hybrid_dirty(rows: pl.DataFrame, ev: _Evaluator, parsed: dict[int, dict[str, Any]]) -> pl.Series:
    """`_N` of the free-form `rows` that may have an issue (judged per payload); the others have none
    (see hybrid.py)."""
    key_sets: dict[frozenset[str], int] = {}
    ids: list[int] = []
    clean: list[bool] = []
    users = ev.users
    for n, text in rows.select(_N, "__user").iter_rows():
        attributes = parsed[n]
        names = frozenset(attributes)
        ids.append(key_sets.setdefault(names, len(key_sets)))
        clean.append(users.clean(text, attributes))
    flags = [(name, check.scope) for name, check in zip(ev.flag_names[len(ev.casts):], ev.compiled.checks,
                                                        strict=True)]
    verdict = pl.when(pl.lit(False)).then(pl.lit(True))
    for names, key in key_sets.items():
        if key >= _MAX_KEY_SETS or ev.top_names is None or names & ev.top_names:
            continue
        unmasked = [pl.col(flag) for flag, scope in flags if scope is None or scope not in names]
        verdict = verdict.when(pl.col("__key") == key).then(pl.any_horizontal(unmasked) if unmasked else pl.lit(False))
    judged = rows.with_columns(pl.Series("__key", ids, pl.Int64), pl.Series("__clean", clean, pl.Boolean))
    return judged.filter(~pl.col("__clean") | verdict.otherwise(pl.lit(True)))[_N]


# --- template cells that could not be cast ---------------------------------------------------------------------


def _cast_issues(work: pl.DataFrame, plan: mapping.Plan) -> pl.DataFrame:
    """Template cells that could not be cast to the attribute's type (rule `template_type`), column-wise."""
    checks = _cast_checks(plan)
    if not checks:
        return pl.DataFrame()
    hits = work.select(cond.any().alias(str(i)) for i, (*_, cond, _) in enumerate(checks)).row(0)
    parts = []
    for hit, (field, label, leaf, cond, value) in zip(hits, checks, strict=True):
        if not hit:
            continue
        parts.append(_cast_issue_rows(work.filter(cond), field, label, leaf, value))
    return pl.concat(parts) if parts else pl.DataFrame()


def _cast_issue_rows(hit: pl.DataFrame, field: str, label: str, leaf: mapping.Leaf, value: pl.Expr) -> pl.DataFrame:
    """`template_type` issues for the rows in `hit` (the cell in `value` could not be cast)."""
    issue = Issue(field, "template_type", "", (label.split(".")[0],))
    return hit.select(
        _N, "row", "sku", pl.lit(field).alias("field"), pl.lit("template_type").alias("rule"),
        pl.lit(ERROR).alias("severity"),
        pl.format("column {} value {} is not a valid {} for '{}'.", pl.lit("/".join(leaf.columns)),
                  _python_repr(value), pl.lit(leaf.kind), pl.lit(label)).alias("message"),
        pl.lit(issue.code).alias("code"), pl.lit(issue.category).alias("categories"))


def _python_repr(text: pl.Expr) -> pl.Expr:
    """`repr()` of a str for the common case (no quote or backslash inside): `'value'`."""
    return pl.concat_str([pl.lit("'"), text, pl.lit("'")])


# --- column-wise evaluation ------------------------------------------------------------------------------------


def _evaluate(rows: pl.DataFrame, compiled: Compiled) -> pl.DataFrame:
    work = _with_python_checks(rows, compiled)
    if not compiled.checks:
        return pl.DataFrame()
    flags = work.select(check.when.fill_null(False).alias(str(i)) for i, check in enumerate(compiled.checks))
    hits = flags.select(pl.all().any()).row(0)
    parts = []
    for i, hit in enumerate(hits):
        if hit:
            parts.append(_check_issues(work.filter(flags[str(i)]), compiled.checks[i]))
    return pl.concat(parts, how="vertical_relaxed") if parts else pl.DataFrame()


def _with_python_checks(rows: pl.DataFrame, compiled: Compiled) -> pl.DataFrame:
    """Add each `__py<n>` column: the leaf fails its jsonschema-rs check (judged once per distinct value)."""
    if not compiled.python_checks:
        return rows
    candidates = rows.select(
        pl.when(pc.present if not isinstance(pc.present, bool) else pl.lit(pc.present))
        .then(pc.value if pc.fast_ok is None else pl.when(~pc.fast_ok).then(pc.value))
        .drop_nulls().unique().implode().alias(pc.column)
        for pc in compiled.python_checks).row(0, named=True)
    columns = []
    for pc in compiled.python_checks:
        validator = jsonschema_rs.validator_for(pc.schema, validate_formats=True)
        bad = [v for v in candidates[pc.column] if not validator.is_valid(v)]
        bad_values = pl.Series(bad, dtype=rows.schema.get(pc.value.meta.output_name(), None))
        columns.append(pc.value.is_in(bad_values.implode()).fill_null(False).alias(pc.column))
    return rows.with_columns(columns)


def _check_issues(hit: pl.DataFrame, check: Check) -> pl.DataFrame:
    field = pl.lit(check.field_override) if check.field_override is not None else _field(check.path)
    field = pl.lit(field) if isinstance(field, str) else field
    quoted = pl.concat_str([pl.lit("'"), field, pl.lit("' ")])
    if check.field_override is not None:
        message = pl.lit(check.message)
    elif check.message is not None:
        message = pl.concat_str([quoted, pl.lit(check.message)])
    elif check.byte_bound is not None:
        bound, limit = check.byte_bound
        message = pl.concat_str([quoted, pl.lit("is "), check.value.str.len_bytes().cast(pl.String),  # type: ignore[union-attr]
                                 pl.lit(f" bytes long in UTF-8; the {bound} is {limit}.")])
    else:
        message = pl.concat_str([quoted, pl.lit(f"is invalid ({check.rule}): "), _details(hit, check)])
    issue = Issue("", check.rule, "", ())
    return hit.select(
        _N, "row", "sku", field.alias("field"), pl.lit(check.rule).alias("rule"),
        pl.lit(check.severity).alias("severity"), message.alias("message"), pl.lit(issue.code).alias("code"),
        pl.lit(issue.category).alias("categories"))


def _details(hit: pl.DataFrame, check: Check) -> pl.Expr:
    """jsonschema-rs's message for each distinct failing value (as the per-payload validator words it)."""
    if check.value is None or check.keyword is None:
        return pl.lit(f"the value does not satisfy {json.dumps(check.keyword)}")
    validator = jsonschema_rs.validator_for(check.keyword, validate_formats=True)
    values = hit.select(check.value.unique()).to_series().to_list()
    details = []
    for value in values:
        error = next(iter(validator.iter_errors(value)), None)
        text = error.message if error is not None else f"{value!r} is invalid"
        details.append(text if len(text) <= 200 else text[:197] + "...")
    return check.value.replace_strict(values, details, default=None, return_dtype=pl.String)


# --- the per-payload path --------------------------------------------------------------------------------------


def _per_payload_issues(rows: pl.DataFrame, columns: list[str], marketplace_id: str,
                        validators: dict[str, CompiledProductType]) -> pl.DataFrame:
    built = mapping.build_payloads(rows.select(*columns, _N), marketplace_id, hashes=False)
    verdicts: dict[tuple[str, str], list[Issue]] = {}
    records: list[tuple[Any, ...]] = []
    for n, row, sku, requirements, attributes in built.select(_N, "row", "sku", "requirements",
                                                              "attributes").iter_rows():
        key = (requirements, attributes)
        issues = verdicts.get(key)
        if issues is None:
            issues = validators[requirements].validate(json.loads(attributes))
            verdicts[key] = issues
        records.extend((n, row, sku, i.field, i.rule, i.severity, i.message, i.code, i.category) for i in issues)
    return pl.DataFrame(records, schema={_N: pl.UInt32, **ISSUE_COLUMNS}, orient="row")
