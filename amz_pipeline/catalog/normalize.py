"""Normalise a batch read as text: trim, resolve each row's marketplace, decimal commas, value aliases.

Output keeps every value as text (so templates and rules read one representation): numbers become plain
`1234.56` strings, enumerations their canonical spelling. Values that cannot be normalised are left as the seller
wrote them so that the row rules report them verbatim. Helper columns starting with `_` carry the marketplace's
facts (currency, decimals, region, language) for the rules and are dropped before rows leave ingestion.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from amz_pipeline.catalog.aliases import canonical_columns, value_aliases
from amz_pipeline.catalog.marketplaces import marketplace_frame
from amz_pipeline.catalog.readers import READ_ERROR, ROW

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
    text_columns = [c for c, t in batch.schema.items() if t == pl.String and c != READ_ERROR]
    return batch.with_columns(pl.col(c).str.strip_chars().replace("", None) for c in text_columns)


def normalize(batch: pl.DataFrame, requested: dict[str, Any] | None, *, trimmed: bool = False) -> pl.DataFrame:
    """`batch` as read (all text, `row`); `requested` the marketplace the caller asked for, or None.
    `trimmed=True` when `trim` already ran on it."""
    frame = batch if trimmed else trim(batch)
    missing = [c for c in canonical_columns() if c not in frame.columns]
    frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias(c) for c in missing)
    frame = _attach_marketplace(frame, requested)
    comma = pl.col("_decimal_comma").fill_null(False)
    frame = frame.with_columns(
        *(_decimal(c, comma) for c in (*MONEY_COLUMNS, *MEASURE_COLUMNS)),
        *(pl.col(c).str.replace(r"^(\d+)\.0*$", "$1") for c in INTEGER_COLUMNS),
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
    return frame.with_columns(_external_id_type())


def _attach_marketplace(frame: pl.DataFrame, requested: dict[str, Any] | None) -> pl.DataFrame:
    facts = marketplace_frame()
    given = pl.col("marketplace").str.to_uppercase()
    frame = frame.with_columns(given.alias(MARKETPLACE_GIVEN))
    row_market = frame.select(MARKETPLACE_GIVEN).join(
        facts.select("_key", pl.col("marketplace_id").alias("_given_id")),
        left_on=MARKETPLACE_GIVEN, right_on="_key", how="left", maintain_order="left",
    )["_given_id"]
    frame = frame.with_columns(row_market.alias("_given_marketplace_id"))
    if requested is not None:
        frame = frame.with_columns(pl.lit(requested["id"]).alias("marketplace_id"))
    else:
        frame = frame.with_columns(pl.col("_given_marketplace_id").alias("marketplace_id"))
    return frame.join(
        facts.drop("_key").unique("marketplace_id"), on="marketplace_id", how="left", maintain_order="left",
    )


def _decimal(column: str, comma: pl.Expr) -> pl.Expr:
    """`1.234,56` → `1234.56` where the marketplace writes decimal commas; `1,234.56` → `1234.56` elsewhere.

    A value with only dots is read with a decimal point everywhere (Parquet, JSON and most tools write that).
    Spaces, no-break spaces and apostrophes used as thousands separators are dropped.
    """
    value = pl.col(column).str.replace_all(r"[\s\u00a0\u202f']", "")
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
