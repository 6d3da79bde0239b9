"""pandera.polars works here the way the row gate relies on: eager lazy=True collects every failure, with row
positions, as a Polars frame; a LazyFrame is only schema-checked by default."""

from __future__ import annotations

import pandera.polars as pa
import polars as pl
import pytest
from pandera.api.polars.types import PolarsData


class Positive(pa.DataFrameModel):
    value: int

    @pa.check("value", name="positive")
    def _positive(cls, data: PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col(data.key) > 0)


def test_lazy_true_collects_every_failure_with_its_index():
    frame = pl.DataFrame({"value": [1, -1, 2, -3]})
    with pytest.raises(pa.errors.SchemaErrors) as caught:
        Positive.validate(frame, lazy=True)
    failures = caught.value.failure_cases
    assert isinstance(failures, pl.DataFrame)
    assert failures.filter(pl.col("check") == "positive")["index"].to_list() == [1, 3]
    assert {"failure_case", "column", "check", "index"} <= set(failures.columns)


def test_lazyframe_checks_only_the_schema_by_default():
    bad_values = pl.DataFrame({"value": [-1, -2]})
    Positive.validate(bad_values.lazy(), lazy=True).collect()  # passes: data checks are skipped on LazyFrames
    with pytest.raises(pa.errors.SchemaErrors):
        Positive.validate(bad_values, lazy=True)
