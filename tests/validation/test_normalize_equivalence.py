"""`trim` and `normalize` give exactly what they gave before they were made cheaper (the reference below is the
earlier implementation, verbatim): same columns, order, dtypes and values, on the sample catalogs, on a synthetic
benchmark-style catalog and on values chosen to exercise every normalisation."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from amz_pipeline.catalog.aliases import canonical_columns, value_aliases
from amz_pipeline.catalog.marketplaces import marketplace_frame, resolve
from amz_pipeline.catalog.normalize import normalize, trim
from amz_pipeline.catalog.readers import READ_ERROR, open_catalog

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "samples"
MARKETPLACE_GIVEN = "_marketplace_given"
MONEY_COLUMNS = (
    "price", "list_price", "sale_price", "business_price", "minimum_seller_allowed_price",
    "maximum_seller_allowed_price",
)
MEASURE_COLUMNS = ("item_package_weight", "item_package_length", "item_package_width", "item_package_height")
INTEGER_COLUMNS = ("quantity", "handling_time", "number_of_batteries")
_TRUE = ("true", "yes", "y", "1", "ja", "oui", "si", "sí", "x")
_FALSE = ("false", "no", "n", "0", "nein", "non")


# --- the reference: amz_pipeline/catalog/normalize.py as of b168ad6 -------------------------------------------


def reference_trim(batch: pl.DataFrame) -> pl.DataFrame:
    """Surrounding blanks removed from every text cell; a cell left empty becomes null."""
    text_columns = [c for c, t in batch.schema.items() if t == pl.String and c != READ_ERROR]
    return batch.with_columns(pl.col(c).str.strip_chars().replace("", None) for c in text_columns)


def reference_normalize(batch: pl.DataFrame, requested: dict[str, Any] | None, *, trimmed: bool = False) -> pl.DataFrame:
    """`batch` as read (all text, `row`); `requested` the marketplace the caller asked for, or None.
    `trimmed=True` when `trim` already ran on it."""
    frame = batch if trimmed else reference_trim(batch)
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




# --- the comparisons ------------------------------------------------------------------------------------------


def _batches(path: Path, rows: int = 5000) -> list[pl.DataFrame]:
    with open_catalog(path) as source:
        return list(source.batches(rows))


@pytest.mark.parametrize("name", sorted(p.name for p in SAMPLES.iterdir() if p.name.startswith("catalog_")))
@pytest.mark.parametrize("marketplace", [None, "US", "DE", "JP"])
def test_samples(name, marketplace):
    requested = resolve(marketplace) if marketplace else None
    for batch in _batches(SAMPLES / name):
        assert_frame_equal(trim(batch), reference_trim(batch))
        assert_frame_equal(normalize(trim(batch), requested, trimmed=True),
                           reference_normalize(reference_trim(batch), requested, trimmed=True))
        assert_frame_equal(normalize(batch, requested), reference_normalize(batch, requested))


AWKWARD: dict[str, list[str | None]] = {
    "price": ["1.234,56", "1,234.56", "12,5", " 12 ", "1 234,5", "1\u00a0234,50", "1'234.5", "12.990", "abc", "", "  ",
              "-3", "1.234", "1,5,3", None],
    "list_price": ["9,99", "1.000", "1,000", None],
    "item_package_weight": ["0,5", "1.234,5", "2", None],
    "quantity": ["5.0", "5.00", "5.", "5.5", " 7 ", None],
    "handling_time": ["2.0", "x", None],
    "condition_type": ["New", "Used - Like New", "used_good", "weird", None],
    "operation": ["Delete", "UPDATE", "x", None],
    "fulfillment_channel": ["MFN", "FBA", "AFN", "amazon", "Merchant", "dropship", None],
    "batteries_required": ["Ja", "NEIN", "sí", "x", "maybe", None],
    "currency": ["usd", "EUR", None],
    "product_type": ["shirt", "Luggage", None],
    "merchant_suggested_asin": ["b00abcdefg", None],
    "country_of_origin": ["cn", "De", None],
    "external_product_id": ["036000291452", "978-0-306-40615-7", "4006381333931", "12345678", "1234 5678 9012 3", None],
    "external_product_id_type": ["isbn", "UPC", None, None],
    "main_image_url": ["https://a.example/x 1.jpg", "https://a.example/y.jpg", None],
    "marketplace": ["US", "de", "GB", "uk", "A1PA6795UKMFR9", "XX", "", None],
    "item_name": ["  padded  ", "\u00a0nbsp\u00a0", "\t", "plain", None],
}


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("marketplace", [None, "US", "DE"])
def test_awkward_values(seed, marketplace):
    rng = random.Random(seed)
    rows = 500
    data: dict[str, Any] = {"row": list(range(2, rows + 2))}
    for column, values in AWKWARD.items():
        data[column] = [rng.choice(values) for _ in range(rows)]
    data["extra_column"] = [rng.choice([" a ", "", None]) for _ in range(rows)]
    data[READ_ERROR] = [None] * rows
    batch = pl.DataFrame(data, schema={"row": pl.Int64, **{c: pl.String for c in data if c != "row"}})
    requested = resolve(marketplace) if marketplace else None
    assert_frame_equal(trim(batch), reference_trim(batch))
    assert_frame_equal(normalize(batch, requested), reference_normalize(batch, requested))


def test_benchmark_style_catalog(tmp_path):
    import subprocess
    import sys

    generator = Path(__file__).resolve().parents[2] / "benchmarks" / "gen_catalog.py"
    if not generator.exists():
        pytest.skip("benchmarks/gen_catalog.py not available")
    path = tmp_path / "bench.csv"
    done = subprocess.run([sys.executable, str(generator), "--help"], capture_output=True, text=True)
    if "--rows" not in done.stdout or "--out" not in done.stdout:
        pytest.skip("unexpected gen_catalog.py interface")
    subprocess.run([sys.executable, str(generator), "--rows", "3000", "--out", str(path)], check=True,
                   capture_output=True)
    for batch in _batches(path, 1000):
        assert_frame_equal(normalize(trim(batch), resolve("US"), trimmed=True),
                           reference_normalize(reference_trim(batch), resolve("US"), trimmed=True))


@pytest.mark.parametrize("marketplace", [None, "US"])
def test_empty_batch(marketplace):
    with open_catalog(SAMPLES / "catalog_us.csv") as source:
        batch = source.lazy().head(0).collect()
    requested = resolve(marketplace) if marketplace else None
    assert_frame_equal(trim(batch), reference_trim(batch))
    assert_frame_equal(normalize(batch, requested), reference_normalize(batch, requested))
