"""Duplicate SKUs: the pre-filtered grouping reports exactly what grouping every key reported (reference below:
the earlier implementation, verbatim)."""

from __future__ import annotations

import random

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from amz_pipeline.validation.duplicates import duplicate_issues
from amz_pipeline.validation.issues import ERROR, conform

_MAX_LISTED_ROWS = 20


def reference_duplicate_issues(keys: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    frame = keys.lazy().filter(pl.col("sku").is_not_null() & pl.col("marketplace_id").is_not_null())
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


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_matches_grouping_every_key(seed):
    rng = random.Random(seed)
    rows = 5000
    skus = [rng.choice([None, *(f"S{i}" for i in range(3000))]) for _ in range(rows)]
    skus[100:130] = ["MANY"] * 30  # more than the 20 rows listed
    markets = [rng.choice(["M1", "M1", "M2", None]) for _ in range(rows)]
    order = list(range(2, rows + 2))
    rng.shuffle(order)
    keys = pl.DataFrame({"row": order, "sku": skus, "marketplace_id": markets},
                        schema={"row": pl.Int64, "sku": pl.String, "marketplace_id": pl.String})
    expected = reference_duplicate_issues(keys)
    assert expected.height > 100
    assert_frame_equal(duplicate_issues(keys), expected)
    assert_frame_equal(duplicate_issues(keys.lazy()), expected)


def test_no_duplicates():
    keys = pl.DataFrame({"row": [2, 3], "sku": ["A", "B"], "marketplace_id": ["M", "M"]})
    assert_frame_equal(duplicate_issues(keys), reference_duplicate_issues(keys))
