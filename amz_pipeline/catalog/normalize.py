"""Normalise a batch read as text: trim, resolve each row's marketplace, decimal commas, value aliases.

Output keeps every value as text (so templates and rules read one representation): numbers become plain
`1234.56` strings, enumerations their canonical spelling. Values that cannot be normalised are left as the seller
wrote them so that the row rules report them verbatim. Helper columns starting with `_` carry the marketplace's
facts (currency, decimals, region, language) for the rules and are dropped before rows leave ingestion.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import polars as pl

from amz_pipeline.catalog.aliases import canonical_columns, value_aliases
from amz_pipeline.catalog.marketplaces import marketplace_frame
from amz_pipeline.catalog.readers import READ_ERROR, ROW

# Batches are small (≤ 100k rows): the in-memory engine keeps one chunk per column and costs less here than
# the streaming engine a lazy query otherwise defaults to.
_ENGINE = "in-memory"

MONEY_COLUMNS = (
    "price", "list_price", "sale_price", "business_price", "minimum_seller_allowed_price",
    "maximum_seller_allowed_price",
)
MEASURE_COLUMNS = ("item_package_weight", "item_package_length", "item_package_width", "item_package_height")
INTEGER_COLUMNS = ("quantity", "handling_time", "number_of_batteries")
MARKETPLACE_GIVEN = "_marketplace_given"
_TRUE = ("true", "yes", "y", "1", "ja", "oui", "si", "sí", "x")
_FALSE = ("false", "no", "n", "0", "nein", "non")


def helper_columns(frame: pl.DataFrame | pl.LazyFrame) -> list[str]:
    names = frame.collect_schema().names() if isinstance(frame, pl.LazyFrame) else frame.columns
    return [c for c in names if c.startswith("_")]


def trim(batch: pl.DataFrame) -> pl.DataFrame:
    """Surrounding blanks removed from every text cell; a cell left empty becomes null."""
    height = batch.height
    # all-null columns are left as they are (nothing to strip); each column is stripped and emptied in one
    # expression, while its data is still in cache
    text_columns = [c for c, t in batch.schema.items()
                    if t == pl.String and c != READ_ERROR and batch[c].null_count() < height]
    if not text_columns:
        return batch
    return batch.with_columns(pl.col(c).str.strip_chars().replace("", None) for c in text_columns)


def normalize(batch: pl.DataFrame, requested: dict[str, Any] | None, *, trimmed: bool = False) -> pl.DataFrame:
    """`batch` as read (all text, `row`); `requested` the marketplace the caller asked for, or None.
    `trimmed=True` when `trim` already ran on it."""
    frame = batch if trimmed else trim(batch)
    if frame.n_chunks() > 1:
        # one chunk per column, as the earlier join-based version returned (the gates after it, and the mapping,
        # run faster on one chunk than they lose here)
        frame = frame.rechunk()
    missing = [c for c in canonical_columns() if c not in frame.columns]
    lazy = frame.lazy().with_columns(pl.lit(None, dtype=pl.String).alias(c) for c in missing)
    lazy = _attach_marketplace(lazy, requested)
    comma = pl.col("_decimal_comma").fill_null(False)
    numbers, integers = _columns_to_rewrite(frame)
    lazy = lazy.with_columns(
        *(_decimal(c, comma) for c in numbers),
        *(pl.col(c).str.replace(r"^(\d+)\.0*$", "$1") for c in integers),
        _aliased("condition_type", lower=True),
        _aliased("operation", lower=True),
        _fulfillment_channel(),
        _boolean("batteries_required"),
        pl.col("currency").str.to_uppercase().fill_null(pl.col("_currency")),
        pl.col("product_type").str.to_uppercase(),
        pl.col("merchant_suggested_asin").str.to_uppercase(),
        pl.col("country_of_origin").str.to_uppercase(),
        pl.col("external_product_id").str.replace_all(r"[\s-]", ""),
        # Spreadsheet links often hold raw spaces ("casa nova/x.jpg"); a URI cannot, so encode them.
        pl.col("main_image_url").str.replace_all(" ", "%20", literal=True),
    )
    # one chunk per column, as downstream gates expect (a lazy query may return the batch in pieces)
    return lazy.with_columns(_external_id_type()).collect(engine=_ENGINE)


def _columns_to_rewrite(frame: pl.DataFrame) -> tuple[list[str], list[str]]:
    """The money/measure columns holding a separator `_decimal` acts on (a blank, an apostrophe or a comma:
    `_decimal` leaves other values as they are) and the integer columns holding a dot; one cheap query instead
    of rewriting every column."""
    numbers = [c for c in (*MONEY_COLUMNS, *MEASURE_COLUMNS) if c in frame.columns]
    integers = [c for c in INTEGER_COLUMNS if c in frame.columns]
    if not numbers and not integers:
        return [], []
    found = frame.lazy().select(
        *(pl.col(c).str.contains(_NUMBER_SEPARATORS).any().alias(f"n{i}") for i, c in enumerate(numbers)),
        *(pl.col(c).str.contains(".", literal=True).any().alias(f"i{i}") for i, c in enumerate(integers)),
    ).collect(engine=_ENGINE).row(0)
    return ([c for c, hit in zip(numbers, found[:len(numbers)], strict=True) if hit],
            [c for c, hit in zip(integers, found[len(numbers):], strict=True) if hit])


@cache
def _marketplace_lookups() -> tuple[dict[str, str], dict[str, dict[str, Any]], dict[str, pl.DataType]]:
    """(spelling → marketplace id, marketplace id → its facts, fact column → dtype), from `marketplace_frame`."""
    facts = marketplace_frame()
    ids = dict(zip(facts["_key"], facts["marketplace_id"], strict=True))
    by_id = {row["marketplace_id"]: row for row in facts.drop("_key").unique("marketplace_id", keep="first",
                                                                              maintain_order=True).to_dicts()}
    dtypes = {name: dtype for name, dtype in facts.schema.items() if name not in ("_key", "marketplace_id")}
    return ids, by_id, dtypes


def _attach_marketplace(frame: pl.LazyFrame, requested: dict[str, Any] | None) -> pl.LazyFrame:
    """`_marketplace_given`, `_given_marketplace_id`, `marketplace_id` and the marketplace's facts (`_currency`,
    ...), appended in that order: a lookup per row, or constants when the run is for one marketplace."""
    ids, by_id, dtypes = _marketplace_lookups()
    names = frame.collect_schema().names()
    if any(name in names for name in (MARKETPLACE_GIVEN, "_given_marketplace_id", "marketplace_id", *dtypes)):
        return _attach_marketplace_by_join(frame, requested)
    given = pl.col("marketplace").str.to_uppercase()
    given_id = pl.col(MARKETPLACE_GIVEN).replace_strict(ids, default=None, return_dtype=pl.String)
    frame = frame.with_columns(given.alias(MARKETPLACE_GIVEN)).with_columns(given_id.alias("_given_marketplace_id"))
    if requested is not None:
        facts = by_id.get(requested["id"], {})
        return frame.with_columns(pl.lit(requested["id"]).alias("marketplace_id")).with_columns(
            pl.lit(facts.get(name), dtype=dtype).alias(name) for name, dtype in dtypes.items()
        )
    frame = frame.with_columns(pl.col("_given_marketplace_id").alias("marketplace_id"))
    return frame.with_columns(
        pl.col("marketplace_id").replace_strict({i: f[name] for i, f in by_id.items()}, default=None,
                                                return_dtype=dtype).alias(name)
        for name, dtype in dtypes.items()
    )


def _attach_marketplace_by_join(frame: pl.LazyFrame, requested: dict[str, Any] | None) -> pl.LazyFrame:
    facts = marketplace_frame().lazy()
    frame = frame.with_columns(pl.col("marketplace").str.to_uppercase().alias(MARKETPLACE_GIVEN))
    frame = frame.with_columns(
        pl.col(MARKETPLACE_GIVEN).replace_strict(_marketplace_lookups()[0], default=None, return_dtype=pl.String)
        .alias("_given_marketplace_id")
    )
    if requested is not None:
        frame = frame.with_columns(pl.lit(requested["id"]).alias("marketplace_id"))
    else:
        frame = frame.with_columns(pl.col("_given_marketplace_id").alias("marketplace_id"))
    return frame.join(
        facts.drop("_key").unique("marketplace_id"), on="marketplace_id", how="left", maintain_order="left",
    )


_THOUSANDS_BLANKS = r"[\s\u00a0\u202f']"
_NUMBER_SEPARATORS = r"[\s\u00a0\u202f',]"


def _decimal(column: str, comma: pl.Expr) -> pl.Expr:
    """`1.234,56` → `1234.56` where the marketplace writes decimal commas; `1,234.56` → `1234.56` elsewhere.

    A value with only dots is read with a decimal point everywhere (Parquet, JSON and most tools write that).
    Spaces, no-break spaces and apostrophes used as thousands separators are dropped.
    """
    value = pl.col(column).str.replace_all(_THOUSANDS_BLANKS, "")
    comma_style = value.str.replace_all(r"\.", "").str.replace(",", ".", literal=True)
    grouped = value.str.contains(r"^\d{1,3}(,\d{3})+(\.\d+)?$")
    return (
        pl.when(comma & value.str.contains(r"^[\d.]*,\d*$"))
        .then(comma_style)
        .when(~comma & grouped)
        .then(value.str.replace_all(",", "", literal=True))
        .otherwise(value)
        .alias(column)
    )


def _aliased(column: str, *, lower: bool) -> pl.Expr:
    value = pl.col(column)
    key = value.str.to_lowercase()
    mapped = key.replace_strict(value_aliases(column), default=key if lower else value)
    return mapped.alias(column)


def _fulfillment_channel() -> pl.Expr:
    """MFN/merchant → DEFAULT; FBA/AFN/AMAZON → AMAZON_<region of the row's marketplace>."""
    value = pl.col("fulfillment_channel")
    mapped = value.str.to_lowercase().replace_strict(value_aliases("fulfillment_channel"), default=value.str.to_uppercase())
    return (
        pl.when((mapped == "AMAZON") & pl.col("_region").is_not_null())
        .then(pl.lit("AMAZON_") + pl.col("_region"))
        .otherwise(mapped)
        .alias("fulfillment_channel")
    )


def _boolean(column: str) -> pl.Expr:
    key = pl.col(column).str.to_lowercase()
    return (
        pl.when(key.is_in(_TRUE)).then(pl.lit("true"))
        .when(key.is_in(_FALSE)).then(pl.lit("false"))
        .otherwise(pl.col(column))
        .alias(column)
    )


def _external_id_type() -> pl.Expr:
    """Upper-case the type; when it is missing, infer it from a numeric code's length (12 UPC, 13 EAN, 8/14 GTIN)."""
    kind = pl.col("external_product_id_type").str.to_uppercase()
    code = pl.col("external_product_id")
    length = code.str.len_chars()
    numeric = code.str.contains(r"^\d+$")
    inferred = (
        pl.when(numeric & (length == 12)).then(pl.lit("UPC"))
        .when(numeric & (length == 13)).then(pl.lit("EAN"))
        .when(numeric & length.is_in((8, 14))).then(pl.lit("GTIN"))
    )
    return kind.fill_null(inferred).alias("external_product_id_type")


__all__ = ["MARKETPLACE_GIVEN", "ROW", "helper_columns", "normalize", "trim"]
