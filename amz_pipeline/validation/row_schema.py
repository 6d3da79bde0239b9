"""Run the pandera row models (`schemas/row_models.py`) and turn their failure cases into issues."""

from __future__ import annotations

import pandera.polars as pa
import polars as pl

from amz_pipeline.validation.issues import ERROR, WARNING, concat, empty_issues
from schemas.row_models import RULE_MESSAGES, WARNING_RULES, CatalogRow

# pandera's built-in check names → our rule names
_BUILTIN_RULES = {"not_nullable": "required"}


def _model_columns() -> dict[str, pl.DataType]:
    return {name: column.dtype.type for name, column in CatalogRow.to_schema().columns.items()}


def validate_rows(frame: pl.DataFrame) -> pl.DataFrame:
    """Issues for every row-rule failure in an EAGER normalised frame (`row` and `sku` columns required).

    Columns the model knows but the frame lacks are added as nulls first, so "missing column" surfaces per row
    as `required` instead of one file-level schema error.
    """
    columns = _model_columns()
    missing = [pl.lit(None, dtype=dtype).alias(name) for name, dtype in columns.items() if name not in frame.columns]
    checked = frame.with_columns(missing) if missing else frame
    try:
        CatalogRow.validate(checked, lazy=True)
    except pa.errors.SchemaErrors as exc:
        return _issues_from_failures(checked, exc.failure_cases)
    return empty_issues()


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
