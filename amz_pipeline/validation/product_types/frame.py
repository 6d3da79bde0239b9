"""`validate_attributes`: product-type issues for a frame of catalog rows, in the shared issue shape.

Rows whose payload comes only from the template are validated column-wise (`columnwise.py`: the schema compiled
through the template into Polars expressions, no per-row Python). Rows carrying free-form `attributes_json`, and rows
emitting an attribute whose schema uses a construct the column-wise compiler does not evaluate, are validated by the
per-payload validator (`CompiledProductType`) on the merged payload, once per distinct payload.
"""

from __future__ import annotations

import json
from typing import Any

import jsonschema_rs
import polars as pl

from amz_pipeline.catalog import mapping

from .columnwise import Check, Compiled, _field, compile_for_plan
from .compiled import CompiledProductType
from .issues import ERROR, Issue
from .registry import ProductTypeRegistry, UnknownProductType, default_registry

ISSUE_COLUMNS = {"row": pl.Int64, "sku": pl.String, "field": pl.String, "rule": pl.String, "severity": pl.String,
                 "message": pl.String, "code": pl.String, "categories": pl.String}
_N = "__n"
_TYPE = "__type"
_COMPILED: dict[tuple[int, str], tuple[mapping.Plan, Compiled]] = {}


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
    work, bad_json = _user_json(work)
    parts = [bad_json]
    for (product_type,), group in work.partition_by(_TYPE, as_dict=True, maintain_order=True).items():
        parts.extend(_group_issues(group, product_type, marketplace_id, registry, columnwise))
    parts = [p for p in parts if p.height]
    if not parts:
        return pl.DataFrame(schema=ISSUE_COLUMNS)
    out = pl.concat([p.select(*ISSUE_COLUMNS, _N) for p in parts], how="vertical_relaxed")
    return out.unique(subset=[_N, "field", "rule"], keep="first", maintain_order=True).sort(_N, maintain_order=True) \
        .drop(_N).cast(ISSUE_COLUMNS)  # type: ignore[arg-type]


def _user_json(work: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """`attributes_json` that is not a JSON object becomes a `json` issue and is dropped from the row (such rows get
    no schema issues: the seller must fix the JSON first)."""
    if "attributes_json" not in work.columns:
        return work.with_columns(pl.lit(None, pl.String).alias("__user")), pl.DataFrame()
    user = work.select(_N, "row", "sku", pl.col("attributes_json").cast(pl.String)).filter(
        pl.col("attributes_json").is_not_null())
    problems: list[tuple[int, str]] = []
    for n, text in user.select(_N, "attributes_json").iter_rows():
        try:
            mapping.parse_user_attributes(text)
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
    return work, bad_issues


def _static(rows: pl.DataFrame, issue: Issue) -> pl.DataFrame:
    return rows.select(_N, "row", "sku").with_columns(
        pl.lit(issue.field).alias("field"), pl.lit(issue.rule).alias("rule"), pl.lit(issue.severity).alias("severity"),
        pl.lit(issue.message).alias("message"), pl.lit(issue.code).alias("code"),
        pl.lit(issue.category).alias("categories"))


def _group_issues(group: pl.DataFrame, product_type: str | None, marketplace_id: str, registry: ProductTypeRegistry,
                  columnwise: bool) -> list[pl.DataFrame]:
    source = group.drop(_N, _TYPE, "__user", "__bad_json", strict=False)
    plan = mapping.compile_plan(mapping.template_for(product_type), marketplace_id, dict(source.schema))
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


# --- template cells that could not be cast ---------------------------------------------------------------------


def _cast_issues(work: pl.DataFrame, plan: mapping.Plan) -> pl.DataFrame:
    """Template cells that could not be cast to the attribute's type (rule `template_type`), column-wise."""
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
    if not checks:
        return pl.DataFrame()
    hits = work.select(cond.any().alias(str(i)) for i, (*_, cond, _) in enumerate(checks)).row(0)
    parts = []
    for hit, (field, label, leaf, cond, value) in zip(hits, checks, strict=True):
        if not hit:
            continue
        issue = Issue(field, "template_type", "", (label.split(".")[0],))
        parts.append(work.filter(cond).select(
            _N, "row", "sku", pl.lit(field).alias("field"), pl.lit("template_type").alias("rule"),
            pl.lit(ERROR).alias("severity"),
            pl.format("column {} value {} is not a valid {} for '{}'.", pl.lit("/".join(leaf.columns)),
                      _python_repr(value), pl.lit(leaf.kind), pl.lit(label)).alias("message"),
            pl.lit(issue.code).alias("code"), pl.lit(issue.category).alias("categories")))
    return pl.concat(parts) if parts else pl.DataFrame()


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
