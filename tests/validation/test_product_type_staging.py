"""Staged evaluation (shared sub-expressions moved into helper columns) computes exactly what the expressions as
given compute: the template plans' columns and the compiled checks of every product type, on the sample rows."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from amz_pipeline.catalog import mapping
from amz_pipeline.catalog.normalize import helper_columns, normalize
from amz_pipeline.catalog.readers import read_catalog
from amz_pipeline.validation.product_types import default_registry
from amz_pipeline.validation.product_types.columnwise import compile_for_plan
from amz_pipeline.validation.product_types.staging import stage

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "samples"
ROWS = pl.concat([normalize(read_catalog(p), None) for p in sorted(SAMPLES.glob("catalog_*"))], how="diagonal_relaxed")
ROWS = ROWS.drop(helper_columns(ROWS))


@pytest.mark.parametrize("product_type", ["PRODUCT", "SHIRT", "SHOES", "LUGGAGE", "HOME", "TOY"])
def test_staged_plan_columns_and_checks_equal_the_expressions(product_type):
    frame = ROWS.with_columns(pl.lit(product_type).alias("product_type"))
    plan = mapping.compile_plan(mapping.template_for(product_type), "ATVPDKIKX0DER", dict(frame.schema))
    staged = stage(plan.columns, "__st")
    assert staged.stages  # there is something shared to stage
    names = [c.meta.output_name() for c in plan.columns]
    work = mapping.materialize(plan, frame)
    assert staged.apply(frame).select(names).equals(work.select(names))
    registry = default_registry()
    compiled = compile_for_plan({r: registry.get(product_type, r) for r in ("LISTING", "LISTING_OFFER_ONLY")}, plan)
    work = work.with_columns(pl.lit(False).alias(pc.column) for pc in compiled.python_checks)
    whens = [c.when.fill_null(False).alias(f"__w{i}") for i, c in enumerate(compiled.checks)]
    flags = stage(whens, "__sw")
    assert flags.stages
    expected = work.select(whens)
    assert expected.select(pl.any_horizontal(pl.all()).any()).item()  # some check fails on the samples
    assert flags.apply(work).select(expected.columns).equals(expected)


def test_struct_inputs_keep_their_names_and_dynamic_literals_stay_inline():
    frame = pl.DataFrame({"a": [" x", "y ", None], "b": [1, 2, 3]})
    text = pl.col("a").str.strip_chars()
    exprs = [pl.struct(text.alias("v")).struct.json_encode().alias("j"), pl.struct(text).struct.json_encode().alias("k"),
             text.str.len_chars().alias("l"), (pl.col("b") + 1).alias("p"), ((pl.col("b") + 1) * 2).alias("q")]
    staged = stage(exprs, "__h")
    assert staged.stages  # the stripped text is shared
    assert staged.apply(frame).select("j", "k", "l", "p", "q").equals(frame.select(exprs))
    assert not any("+" in str(e) for s in staged.stages for e in s)  # `b + 1` holds a dynamic literal
