"""Run the pandera row models (`schemas/row_models.py`) and turn their failure cases into issues.

Pandera evaluates each check as its own query with a fixed cost of a few milliseconds, whatever the number of
rows, so a batch is first screened in ONE Polars query evaluating the very expressions the checks select
(`schemas.row_models.CHECK_OUTCOMES`, with pandera's null handling and the non-nullable columns). Pandera then
validates only the rows where a check fails, with only the checks that fail somewhere in the batch: the failure
cases are the ones a whole-frame validation reports (every check is row-wise), at a fraction of the cost. The
schema-level part (columns, dtypes) is validated once per distinct frame schema on an empty slice.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from functools import cache

import pandera.polars as pa
import polars as pl

from amz_pipeline.validation.issues import ERROR, WARNING, concat, empty_issues
from schemas.row_models import CHECK_OUTCOMES, CHECK_SCREENS, RULE_MESSAGES, WARNING_RULES, CatalogRow

# Batches are small (≤ 100k rows): the in-memory engine keeps one chunk per column and costs less here than
# the streaming engine a lazy query otherwise defaults to.
_ENGINE = "in-memory"

# pandera's built-in check names → our rule names
_BUILTIN_RULES = {"not_nullable": "required"}
_NOT_NULLABLE = "not_nullable"
_SCHEMA_CACHE_SIZE = 64
_schema_verdicts: OrderedDict[tuple, pl.DataFrame | None] = OrderedDict()
_schema_verdicts_lock = threading.Lock()


@dataclass(frozen=True)
class _Probe:
    """One pandera check on one column (or a non-nullable column's null check), as a Polars expression that is
    true where the row fails it."""

    column: str
    check: str  # the pandera check name, or `not_nullable`
    failed: pl.Expr


@cache
def _schema() -> pa.DataFrameSchema:
    return CatalogRow.to_schema()


@cache
def _schema_without_checks() -> pa.DataFrameSchema:
    """Columns, dtypes and nullability only: what an empty slice can fail. (With the model's columns present in
    their dtypes, the checks' expressions are well typed; an expression failing on data makes the screen fail,
    and the whole frame then goes to pandera.)"""
    schema = _schema().select_columns(list(_schema().columns))
    for name, column in list(schema.columns.items()):
        schema.columns[name] = column.update_checks([])
    return schema


@cache
def _model_columns_cached() -> tuple[tuple[str, pl.DataType], ...]:
    return tuple((name, column.dtype.type) for name, column in _schema().columns.items())


def _model_columns() -> dict[str, pl.DataType]:
    return dict(_model_columns_cached())


@cache
def _probes() -> tuple[_Probe, ...] | None:
    """Every check of the model as a failure expression, or None when the model holds something the screen
    cannot reproduce exactly (then the whole frame goes to pandera)."""
    schema = _schema()
    if schema.checks or schema.unique or getattr(schema, "parsers", None):
        return None
    probes = []
    for name, column in schema.columns.items():
        if column.regex or column.unique or getattr(column, "parsers", None):
            return None
        if not column.nullable:
            probes.append(_Probe(name, _NOT_NULLABLE, pl.col(name).is_null()))
        for check in column.checks:
            outcome = CHECK_OUTCOMES.get(check.name)
            if outcome is None or check.element_wise or check.groupby is not None or check.raise_warning:
                return None
            if check.name in CHECK_SCREENS:  # a sufficient condition of passing: other rows go to pandera
                probes.append(_Probe(name, check.name, CHECK_SCREENS[check.name](name).fill_null(False).not_()))
                continue
            result = outcome(name)
            # pandera's treatment of a null check output (backends/polars/checks.py)
            passed = (result | result.is_null()) if check.ignore_na else result.fill_null(False)
            probes.append(_Probe(name, check.name, passed.not_()))
    return tuple(probes)


@cache
def _restricted_schema(failing: frozenset[tuple[str, str]]) -> tuple[pa.DataFrameSchema, frozenset[str]]:
    """The model with only the columns and checks in `failing` (null checks stay with their column), and the
    frame columns its validation reads (those columns, the ones their checks refer to, `row` and `sku`)."""
    schema = _schema()
    names = [name for name in schema.columns if any(column == name for column, _ in failing)]
    restricted = schema.select_columns(names)
    needed = {"row", "sku", *names}
    for name in names:
        column = restricted.columns[name]
        checks = [check for check in column.checks if (name, check.name) in failing]
        restricted.columns[name] = column.update_checks(checks)
        for check in checks:
            needed.update(CHECK_OUTCOMES[check.name](name).meta.root_names())
    return restricted, frozenset(needed)


def _validate(schema: pa.DataFrameSchema, frame: pl.DataFrame) -> pl.DataFrame:
    try:
        schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        return _issues_from_failures(frame, exc.failure_cases)
    return empty_issues()


def _check_frame_schema(frame: pl.DataFrame) -> None:
    """Schema-level validation (columns, dtypes) of `frame`'s schema, once per distinct schema: raises like a
    whole-frame validation would."""
    key = tuple(frame.schema.items())
    with _schema_verdicts_lock:
        known = key in _schema_verdicts
        failures = _schema_verdicts.get(key)
        if known:
            _schema_verdicts.move_to_end(key)
    if not known:
        failures = None
        try:
            _schema_without_checks().validate(frame.head(0), lazy=True)
        except pa.errors.SchemaErrors:
            try:  # the full model, so the report lists what a whole-frame validation lists
                _schema().validate(frame.head(0), lazy=True)
            except pa.errors.SchemaErrors as exc:
                failures = exc.failure_cases
        with _schema_verdicts_lock:
            _schema_verdicts[key] = failures
            while len(_schema_verdicts) > _SCHEMA_CACHE_SIZE:
                _schema_verdicts.popitem(last=False)
    if failures is not None:
        _issues_from_failures(frame.head(0), failures)


def validate_rows(frame: pl.DataFrame) -> pl.DataFrame:
    """Issues for every row-rule failure in an EAGER normalised frame (`row` and `sku` columns required).

    Columns the model knows but the frame lacks are added as nulls first, so "missing column" surfaces per row
    as `required` instead of one file-level schema error.
    """
    columns = _model_columns()
    missing = [pl.lit(None, dtype=dtype).alias(name) for name, dtype in columns.items() if name not in frame.columns]
    checked = frame.with_columns(missing) if missing else frame
    probes = _probes()
    if probes is None:
        return _validate(_schema(), checked)
    _check_frame_schema(checked)
    float_columns = {name for name, dtype in checked.schema.items() if dtype in (pl.Float32, pl.Float64)}
    screen = [
        (p.failed | pl.col(p.column).is_nan() if p.check == _NOT_NULLABLE and p.column in float_columns
         else p.failed).alias(str(i))
        for i, p in enumerate(probes)
    ]
    try:
        failed = checked.lazy().select(screen).collect(engine=_ENGINE)
    except pl.exceptions.PolarsError:
        return _validate(_schema(), checked)  # a check that errors is reported the way pandera reports it
    anywhere = failed.select(pl.all().any()).row(0)
    failing = [str(i) for i, bad in enumerate(anywhere) if bad]
    if not failing:
        return empty_issues()
    schema, needed = _restricted_schema(frozenset((probes[int(i)].column, probes[int(i)].check) for i in failing))
    rows = checked.select(c for c in checked.columns if c in needed).filter(
        failed.select(pl.any_horizontal(failing)).to_series()
    )
    return _validate(schema, rows)


def _issues_from_failures(frame: pl.DataFrame, failures: pl.DataFrame) -> pl.DataFrame:
    whole_frame = failures.filter(pl.col("index").is_null())
    if whole_frame.height:
        # A schema-level failure (wrong dtype, missing column) is a bug in normalisation, not a seller error.
        raise RuntimeError(f"row model schema mismatch: {whole_frame.to_dicts()}")
    positions = frame.select(pl.int_range(pl.len(), dtype=pl.Int64).alias("index"), "row", "sku")
    located = failures.with_columns(pl.col("index").cast(pl.Int64)).join(positions, on="index", how="left")
    rule = pl.col("check").replace(_BUILTIN_RULES)
    field = pl.col("column").replace({"_read_error": "row"})
    explanation = rule.replace_strict({**RULE_MESSAGES, **WARNING_RULES}, default=rule)
    got = pl.col("failure_case").str.slice(0, 80)
    message = (
        pl.when(got.is_null()).then(field + pl.lit(": ") + explanation)
        .when(rule == "unreadable_row").then(explanation + pl.lit(": ") + got)
        .otherwise(field + pl.lit(": ") + explanation + pl.lit(" (got '") + got + pl.lit("')"))
    )
    severity = pl.when(rule.is_in(list(WARNING_RULES))).then(pl.lit(WARNING)).otherwise(pl.lit(ERROR))
    issues = located.select(
        "row", "sku", field.alias("field"), rule.alias("rule"), severity.alias("severity"), message.alias("message"),
    )
    return concat([issues.sort("row", "field", "rule")])
