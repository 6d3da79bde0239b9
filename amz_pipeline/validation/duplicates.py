"""Duplicate SKUs per seller × marketplace, found over the whole file (not per batch).

Every occurrence is rejected and the message lists all of its row numbers: which copy the seller meant is
theirs to say, and publishing one of them at random would be a silent choice.
"""

from __future__ import annotations

import polars as pl

from amz_pipeline.validation.issues import ERROR, conform

_MAX_LISTED_ROWS = 20


def duplicate_issues(keys: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    """`keys` holds `row`, `sku`, `marketplace_id` for the whole file (one seller). Rows without a SKU or
    marketplace are ignored here: other rules reject them."""
    frame = keys.lazy().filter(pl.col("sku").is_not_null() & pl.col("marketplace_id").is_not_null())
    # one hash pass keeps the (usually few) repeated keys; only those are grouped and listed
    frame = frame.filter(pl.struct("marketplace_id", "sku").is_duplicated())
    groups = (
        frame.group_by("marketplace_id", "sku")
        .agg(pl.col("row").sort().alias("rows"))
        .filter(pl.col("rows").list.len() > 1)
    )
    listed = pl.col("rows").list.head(_MAX_LISTED_ROWS).cast(pl.List(pl.String)).list.join(", ")
    more = pl.col("rows").list.len().cast(pl.Int64) - _MAX_LISTED_ROWS
    rows_text = pl.when(more > 0).then(listed + pl.lit(f", ... ({_MAX_LISTED_ROWS} of ") +
                                       pl.col("rows").list.len().cast(pl.String) + pl.lit(")")).otherwise(listed)
    issues = groups.with_columns(
        (pl.lit("SKU '") + pl.col("sku") + pl.lit("' appears ") + pl.col("rows").list.len().cast(pl.String)
         + pl.lit(" times for this marketplace (rows ") + rows_text + pl.lit("); keep one row per SKU")).alias("message")
    ).explode("rows").select(
        pl.col("rows").alias("row"),
        "sku",
        pl.lit("sku").alias("field"),
        pl.lit("duplicate_sku").alias("rule"),
        pl.lit(ERROR).alias("severity"),
        "message",
    )
    return conform(issues.collect().sort("row"))
