"""The screened row gate (`validate_rows`: one Polars pass, then pandera on the failing rows with the failing
checks) reports exactly what pandera reports when it validates the whole frame with every check: same issues,
same order, on the sample catalogs and on a seeded frame where most rules fail somewhere."""

from __future__ import annotations

import random
from pathlib import Path

import pandera.polars as pa
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from amz_pipeline.catalog.marketplaces import resolve
from amz_pipeline.catalog.normalize import normalize
from amz_pipeline.catalog.readers import read_catalog
from amz_pipeline.validation import row_schema
from amz_pipeline.validation.issues import empty_issues
from amz_pipeline.validation.row_schema import validate_rows
from schemas.row_models import CatalogRow

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "samples"


def whole_frame_pandera(frame: pl.DataFrame) -> pl.DataFrame:
    """The reference: every check of `CatalogRow` on every row, as the gate did before it screened."""
    columns = row_schema._model_columns()
    missing = [pl.lit(None, dtype=dtype).alias(name) for name, dtype in columns.items() if name not in frame.columns]
    checked = frame.with_columns(missing) if missing else frame
    try:
        CatalogRow.validate(checked, lazy=True)
    except pa.errors.SchemaErrors as exc:
        return row_schema._issues_from_failures(checked, exc.failure_cases)
    return empty_issues()


@pytest.mark.parametrize("name", sorted(p.name for p in SAMPLES.iterdir() if p.name.startswith("catalog_")))
@pytest.mark.parametrize("marketplace", [None, "US"])
def test_samples_match_whole_frame_pandera(name, marketplace):
    frame = normalize(read_catalog(SAMPLES / name), resolve(marketplace) if marketplace else None)
    expected = whole_frame_pandera(frame)
    assert_frame_equal(validate_rows(frame), expected)
    if marketplace is None:
        assert expected.height > 0  # the samples hold deliberately bad rows


# Values that break (or pass) the rules, per column; drawn at random per cell.
BAD_VALUES: dict[str, list[str | None]] = {
    "sku": [None, "X" * 41, "A\u0007B", "OK-1"],
    "product_type": [None, "shirt wear", "GADGET", "SHIRT"],
    "operation": ["upsertify", "delete", "Delete", None],
    "price": ["abc", "0", "-3", "12.999", "1,5,3", "1.234,5", "99.99", None],
    "list_price": ["1,5,3", "-1", "12.345", "10"],
    "sale_price": ["15.00", "abc", "1"],
    "business_price": ["0", "x"],
    "minimum_seller_allowed_price": ["13", "-1", "a"],
    "maximum_seller_allowed_price": ["1", "1000"],
    "currency": ["EUR", "USD", "usd", None],
    "quantity": ["-1", "2.5", "4", "x"],
    "number_of_batteries": ["two", "2"],
    "handling_time": ["45", "-1", "3", "3.0"],
    "condition_type": ["like new-ish", "New", "Used - Like New"],
    "fulfillment_channel": ["DROPSHIP", "FBA", "MFN", "AMAZON_EU"],
    "external_product_id": ["036000291453", "12345", "0306406153", "036000291452", "978-0-306-40615-7", "ABC"],
    "external_product_id_type": ["SKU", "ISBN", "UPC", "EAN", None],
    "merchant_suggested_asin": ["B0-BAD", "b00abcdefg", "B00ABCDEFG"],
    "sale_start_date": ["2024-02-30", "2024-03-10", "tomorrow"],
    "sale_end_date": ["2024-03-01", "2024-13-01", "2024-03-31T23:59:59Z"],
    "restock_date": ["31/12/2024", "2024-12-31"],
    "item_package_weight": ["heavy", "0", "1,5", "2"],
    "item_package_height": ["-2", "3"],
    "main_image_url": ["ftp://x/y.jpg", "https://no host/y.jpg", "https://a.example/x 1.jpg"],
    "batteries_required": ["maybe", "Ja", "no"],
    "country_of_origin": ["China", "cn", "C1"],
    "attributes_json": ["[1, 2]", "{\"a\": 1}", "x"],
    "_read_error": ["row has 3 more fields than the header", None, None, None],
    "marketplace": ["US", "DE", "JP", "XX", None],
}


def mutated_frame(seed: int, rows: int = 600) -> pl.DataFrame:
    rng = random.Random(seed)
    base = read_catalog(SAMPLES / "catalog_us.csv")
    base = base.sample(rows, with_replacement=True, seed=seed).with_columns(
        pl.int_range(2, rows + 2, dtype=pl.Int64).alias("row"))
    mutations = {}
    for column, values in BAD_VALUES.items():
        original = base[column].to_list() if column in base.columns else [None] * rows
        mutations[column] = [rng.choice(values) if rng.random() < 0.08 else value for value in original]
    return base.with_columns(pl.Series(column, values, dtype=pl.String) for column, values in mutations.items())


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("marketplace", [None, "US"])
def test_mutated_frame_matches_whole_frame_pandera(seed, marketplace):
    frame = normalize(mutated_frame(seed), resolve(marketplace) if marketplace else None)
    expected = whole_frame_pandera(frame)
    assert expected["rule"].n_unique() >= 25, expected["rule"].unique().to_list()  # most rules fail somewhere
    assert_frame_equal(validate_rows(frame), expected)


def test_clean_frame_and_missing_columns():
    frame = normalize(read_catalog(SAMPLES / "catalog_us.csv"), resolve("US"))
    clean_rows = frame.join(whole_frame_pandera(frame).select("row"), on="row", how="anti")
    assert validate_rows(clean_rows).height == 0
    narrow = frame.select("row", "sku", "price", "_currency", "_currency_decimals")
    assert_frame_equal(validate_rows(narrow), whole_frame_pandera(narrow))


def test_schema_level_mismatch_still_raises():
    frame = normalize(read_catalog(SAMPLES / "catalog_us.csv"), resolve("US"))
    wrong = frame.with_columns(pl.col("_currency_decimals").cast(pl.String))
    with pytest.raises(RuntimeError, match="row model schema mismatch"):
        whole_frame_pandera(wrong)
    with pytest.raises(RuntimeError, match="row model schema mismatch"):
        validate_rows(wrong)


def _text(rng: random.Random) -> str | None:
    """Strings shaped like the values the screened checks see, and near misses."""
    shape = rng.randrange(9)
    if shape == 0:
        return None
    if shape == 1:
        return "".join(rng.choice("0123456789") for _ in range(rng.choice([7, 8, 9, 10, 11, 12, 13, 14, 15, 21])))
    if shape == 2:  # money
        whole = str(rng.randrange(0, 100000))
        return whole + rng.choice(["", ".", "." + "".join(rng.choice("0123456789") for _ in range(rng.randrange(5)))])
    if shape == 3:  # ISBN-10 shapes
        return "".join(rng.choice("0123456789") for _ in range(9)) + rng.choice("0123456789Xx")
    if shape == 4:
        return rng.choice(["+", "-", " ", ""]) + "".join(rng.choice("0123456789") for _ in range(12))
    if shape == 5:  # non-ASCII digits and dots
        return "".join(rng.choice("0123456789٠١٢٣٤٥٦٧٨٩.") for _ in range(rng.randrange(1, 15)))
    if shape == 6:
        return rng.choice(["1.2.3", "1,50", "é.5", "12.50", "12.500", ".5", "5.", "0.000", "abc", "1e5", "-1.5", "inf",
                           "NaN", "-0", "+3", "1_000", "0x1f", " 4"])
    if shape == 7:
        return "".join(rng.choice("0123456789X-+ .") for _ in range(rng.randrange(1, 16)))
    return rng.choice(["036000291452", "036000291453", "4006381333931", "0306406152", "9780306406157", "12345670"])


@pytest.mark.parametrize("seed", [7, 8, 9])
def test_screens_imply_their_checks_pass(seed):
    """A screen may send a passing row to pandera, never clear a failing one."""
    from schemas.row_models import CHECK_OUTCOMES, CHECK_SCREENS

    assert set(CHECK_SCREENS) <= set(CHECK_OUTCOMES)
    rng = random.Random(seed)
    rows = 6000
    frame = pl.DataFrame({
        "value": [_text(rng) for _ in range(rows)],
        "external_product_id_type": [rng.choice(["UPC", "EAN", "GTIN", "ISBN", "SKU", None]) for _ in range(rows)],
        "_currency_decimals": [rng.choice([0, 2, 3, None, -1]) for _ in range(rows)],
    }, schema={"value": pl.String, "external_product_id_type": pl.String, "_currency_decimals": pl.Int64})
    for name, screen in CHECK_SCREENS.items():
        column = "external_product_id" if name.startswith("external_id") else "price"
        verdict = frame.rename({"value": column}).select(
            pl.col(column),
            screen(column).fill_null(False).alias("cleared"),
            CHECK_OUTCOMES[name](column).fill_null(False).alias("passes"),
        )
        wrongly_cleared = verdict.filter(pl.col("cleared") & ~pl.col("passes"))
        assert wrongly_cleared.height == 0, (name, wrongly_cleared.head(5).to_dicts())
        assert 0 < verdict["cleared"].sum() < verdict.height, name


def test_ascii_gtin_matches_the_character_check():
    from schemas.row_models import ascii_gtin_check_digit_ok, gtin_check_digit_ok

    rng = random.Random(5)
    codes = ["".join(rng.choice("0123456789") for _ in range(rng.choice([8, 12, 13, 14]))) for _ in range(5000)]
    frame = pl.DataFrame({"code": codes})
    verdict = frame.select(ascii_gtin_check_digit_ok("code").alias("fast"), gtin_check_digit_ok("code").alias("slow"))
    assert verdict["fast"].to_list() == verdict["slow"].to_list()
    assert 0 < verdict["fast"].sum() < len(codes)
