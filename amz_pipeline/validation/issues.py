"""The one shape every gate reports in: one row per problem, tied to the file's row number.

`severity` is `error` (the row is rejected) or `warning` (reported, the row goes on).
"""

from __future__ import annotations

import polars as pl

ISSUE_SCHEMA = {
    "row": pl.Int64,
    "sku": pl.String,
    "field": pl.String,
    "rule": pl.String,
    "severity": pl.String,
    "message": pl.String,
}
ERROR = "error"
WARNING = "warning"


def empty_issues() -> pl.DataFrame:
    return pl.DataFrame(schema=ISSUE_SCHEMA)


def conform(issues: pl.DataFrame) -> pl.DataFrame:
    """Issues from any gate, cast to the shared schema, column order fixed, severities lower-case."""
    return issues.select(pl.col(name).cast(dtype) for name, dtype in ISSUE_SCHEMA.items()).with_columns(
        pl.col("severity").str.to_lowercase()
    )


def concat(frames: list[pl.DataFrame]) -> pl.DataFrame:
    frames = [conform(f) for f in frames if f.height]
    return pl.concat(frames) if frames else empty_issues()


def issues_where(
    frame: pl.DataFrame, failed: pl.Expr, *, field: str, rule: str, message: pl.Expr | str, severity: str = ERROR,
) -> pl.DataFrame:
    """One issue per row of `frame` where `failed` is true (a null counts as not failed)."""
    text = pl.lit(message) if isinstance(message, str) else message
    return frame.filter(failed.fill_null(False)).select(
        pl.col("row").cast(pl.Int64),
        pl.col("sku"),
        pl.lit(field).alias("field"),
        pl.lit(rule).alias("rule"),
        pl.lit(severity).alias("severity"),
        text.cast(pl.String).alias("message"),
    )


def quoted(column: str) -> pl.Expr:
    """`'value'` for messages; long values shortened so a rejects file stays readable."""
    value = pl.col(column).cast(pl.String)
    short = pl.when(value.str.len_chars() > 80).then(value.str.slice(0, 77) + "...").otherwise(value)
    return pl.lit("'") + short.fill_null("") + pl.lit("'")
