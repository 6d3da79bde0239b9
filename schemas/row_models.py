"""Row-level contract of a normalised catalog batch, as pandera.polars models.

Every catalog column arrives as text (see `amz_pipeline.catalog.readers`), normalised by
`amz_pipeline.catalog.normalize` (trimmed, decimal commas resolved per marketplace, value aliases applied) and
joined with its marketplace's facts in helper columns starting with `_` (`_currency`, `_currency_decimals`,
`_region`). Each check is a native Polars expression (no per-row Python) named after the rule it enforces; the
rule names and their messages are what a seller reads in the rejects file. A check passes on an absent value:
"required" is its own rule. Each check is declared with `row_rule`, which also records its expression in
`CHECK_OUTCOMES` so the row gate can evaluate every rule in one pass and hand pandera only the failing rows.

Title, description and bullet-point lengths are content-policy rules (`schemas/content_policy.json`, the one
place their limits live), evaluated by `amz_pipeline.validation.content_policy` on the same rows.

Validate EAGER frames: on a LazyFrame pandera runs only the schema-level checks unless the validation depth is
raised (see STACK-NOTES).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

import pandera.polars as pa
import polars as pl
from pandera.api.polars.types import PolarsData

from schemas import load_json

MAX_SKU_LENGTH = 40
MAX_HANDLING_DAYS = 30

CONDITION_TYPES = (
    "new_new", "new_open_box", "new_oem", "refurbished_refurbished", "used_like_new", "used_very_good",
    "used_good", "used_acceptable", "collectible_like_new", "collectible_very_good", "collectible_good",
    "collectible_acceptable", "club_club",
)  # Listings Restrictions API `conditionType` enum (schemas/spapi/reference)
FULFILLMENT_CHANNELS = ("DEFAULT", "AMAZON_NA", "AMAZON_EU", "AMAZON_FE")
EXTERNAL_ID_TYPES = ("EAN", "UPC", "GTIN", "ISBN")
OPERATIONS = ("update", "delete")

MONEY_COLUMNS = (
    "price", "list_price", "sale_price", "business_price", "minimum_seller_allowed_price",
    "maximum_seller_allowed_price",
)
DIMENSION_COLUMNS = ("item_package_weight", "item_package_length", "item_package_width", "item_package_height")
DATE_COLUMNS = ("sale_start_date", "sale_end_date", "restock_date")

RULE_MESSAGES = {
    "required": "a value is required",
    "sku_length": f"SKU is longer than {MAX_SKU_LENGTH} characters",
    "sku_control_characters": "SKU contains control characters (tabs, line breaks, ...)",
    "product_type_required": "product_type is required (except for operation=delete)",
    "product_type_format": "product_type must be an Amazon product type name such as SHIRT (letters, digits, _)",
    "product_type_unknown": "no schema for this product type in schemas/product_types (see index.json for the list)",
    "price_format": "not a number",
    "price_not_positive": "must be greater than 0",
    "price_decimals": "too many decimals for the marketplace's currency",
    "currency_mismatch": "currency does not match the marketplace's currency",
    "quantity_integer": "quantity must be a whole number ≥ 0",
    "integer_format": "must be a whole number ≥ 0",
    "handling_time_range": f"handling time must be a whole number of days from 0 to {MAX_HANDLING_DAYS}",
    "condition_type_value": "unknown condition; use one of " + ", ".join(CONDITION_TYPES),
    "fulfillment_channel_value": "unknown fulfillment channel; use DEFAULT (MFN) or AMAZON_NA/AMAZON_EU/AMAZON_FE (FBA)",
    "external_id_type_value": "external_product_id_type must be one of " + ", ".join(EXTERNAL_ID_TYPES),
    "external_id_format": "wrong length or characters for its type (UPC 12, EAN 8/13, GTIN 8/12/13/14, ISBN 10/13 digits)",
    "external_id_check_digit": "check digit is wrong",
    "asin_format": "an ASIN is 10 letters or digits",
    "date_format": "not a date (use YYYY-MM-DD)",
    "sale_window": "sale_end_date is before sale_start_date",
    "sale_price_above_price": "sale_price is higher than price",
    "price_outside_allowed_range": "price is outside minimum/maximum_seller_allowed_price",
    "dimension_format": "must be a number greater than 0",
    "image_url_format": "must be an http(s) URL",
    "boolean_value": "must be true or false (yes/no)",
    "operation_value": "operation must be update or delete",
    "country_code_format": "use a two-letter ISO country code such as CN or DE",
    "attributes_json_not_object": "attributes_json must be one JSON object",
    "fba_with_quantity": "an FBA (AMAZON_*) SKU takes no merchant quantity: Amazon counts its stock; leave quantity empty",
    "unreadable_row": "the row could not be read",
}
# Rules whose failures are reported but do not reject the row.
WARNING_RULES: dict[str, str] = {}

_DECIMAL = r"^\d+(\.\d+)?$"
_SIGNED_DECIMAL = r"^-?\d+(\.\d+)?$"
_INTEGER = r"^\d+$"
_DATE = r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$"


def passes(key: str, condition: pl.Expr) -> pl.Expr:
    """True where the value is absent or satisfies `condition` (a null condition counts as a failure)."""
    return pl.col(key).is_null() | condition.fill_null(False)


# check name -> the expression its pandera check selects, as a function of the checked column's name. The one
# definition of each rule: the pandera checks below evaluate it, and `amz_pipeline.validation.row_schema`
# evaluates the same expressions in one pass over a batch to find the rows worth handing to pandera.
CHECK_OUTCOMES: dict[str, Callable[[str], pl.Expr]] = {}
# check name -> a cheaper expression that is true only where the check surely passes (a sufficient condition),
# for rules whose own expression is costly; the row gate's screen uses it instead of the outcome, and pandera
# still judges every row it does not clear with the check's own expression.
CHECK_SCREENS: dict[str, Callable[[str], pl.Expr]] = {}


def row_rule(*columns: str, name: str, absent_passes: bool = True, ignore_na: bool = True,
             screen: Callable[[str], pl.Expr] | None = None):
    """Declare a row rule inside `CatalogRow`: the decorated `condition(key) -> pl.Expr` (true where the row
    passes) becomes a pandera check named `name` on `columns`, registered in `CHECK_OUTCOMES`.

    `absent_passes=True` wraps it as `passes(key, condition)` (an absent value passes); otherwise the condition
    is the check's output as is. Conditions must be row-wise (no aggregations or windows). `screen`, when given,
    is registered in `CHECK_SCREENS`: it must imply that the check passes (tests/validation hold it to that)."""

    def register(condition: Callable[[str], pl.Expr]) -> classmethod:
        if name in CHECK_OUTCOMES:
            raise ValueError(f"row rule {name!r} declared twice")
        outcome = (lambda key: passes(key, condition(key))) if absent_passes else condition
        CHECK_OUTCOMES[name] = outcome
        if screen is not None:
            CHECK_SCREENS[name] = screen

        def check(cls: type, data: PolarsData) -> pl.LazyFrame:
            return data.lazyframe.select(outcome(data.key))

        check.__name__ = check.__qualname__ = condition.__name__
        check.__doc__ = condition.__doc__
        return pa.check(*columns, name=name, ignore_na=ignore_na)(check)

    return register


@cache
def known_product_types() -> tuple[str, ...]:
    """Product types with a schema in `schemas/product_types/index.json`."""
    return tuple(load_json("product_types/index.json"))


def _number(column: str) -> pl.Expr:
    return pl.col(column).cast(pl.Float64, strict=False)


def _iso_date(column: str) -> pl.Expr:
    return pl.col(column).str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False)


def gtin_check_digit_ok(column: str) -> pl.Expr:
    """GS1 mod-10 check digit of an 8/12/13/14-digit code, as an expression (left-pad to 14, weights 3,1,3,...)."""
    padded = pl.col(column).str.zfill(14)
    weighted = pl.sum_horizontal(
        padded.str.slice(i, 1).cast(pl.Int32, strict=False) * (3 if i % 2 == 0 else 1) for i in range(13)
    )
    expected = (10 - weighted % 10) % 10
    return expected == padded.str.slice(13, 1).cast(pl.Int32, strict=False)


def _ascii_digits(column: str) -> tuple[pl.Expr, pl.Expr]:
    """(the code as an unsigned integer, true where the code is 1-20 ASCII digits): the integer cast takes
    `[0-9]+` and a leading `+`, nothing else."""
    code = pl.col(column)
    number = code.cast(pl.UInt64, strict=False)
    return number, number.is_not_null() & ~code.str.starts_with("+")


def ascii_gtin_check_digit_ok(column: str) -> pl.Expr:
    """`gtin_check_digit_ok` computed on the code as an integer: the same verdict for an 8/12/13/14-digit code
    written in ASCII digits, null or false for anything else. Many times cheaper than slicing characters."""
    number, digits = _ascii_digits(column)
    weighted = pl.sum_horizontal(
        (number // 10 ** (13 - i)) % 10 * (3 if i % 2 == 0 else 1) for i in range(13)
    )
    well_formed = digits & pl.col(column).str.len_bytes().is_in((8, 12, 13, 14))
    return well_formed & ((10 - weighted % 10) % 10 == number % 10)


def _screen_external_id_check_digit(key: str) -> pl.Expr:
    """Surely passes `external_id_check_digit`: absent, or not typed ISBN and an 8/12/13/14-digit ASCII code whose
    GS1 check digit is right (the check's GS1 branch, exactly). ISBN-10s and other shapes are left to the check."""
    not_isbn = (pl.col("external_product_id_type") != "ISBN").fill_null(True)
    return pl.col(key).is_null() | (not_isbn & ascii_gtin_check_digit_ok(key).fill_null(False))


def _screen_external_id_format(key: str) -> pl.Expr:
    """Surely passes `external_id_format`: absent, no known type (the check's `otherwise(True)`), or ASCII digits of
    a length the type allows (an ISBN-10 is left to the check)."""
    kind = pl.col("external_product_id_type")
    _number, digits = _ascii_digits(key)
    length = pl.col(key).str.len_bytes()
    fits = (
        pl.when(kind == "UPC").then(length == 12)
        .when(kind == "EAN").then(length.is_in((8, 13)))
        .when(kind == "GTIN").then(length.is_in((8, 12, 13, 14)))
        .when(kind == "ISBN").then(length == 13)
        .otherwise(False)
    )
    return pl.col(key).is_null() | kind.is_null() | ~kind.is_in(EXTERNAL_ID_TYPES) | (digits & fits).fill_null(False)


def _screen_price_positive(key: str) -> pl.Expr:
    """Surely passes `price_not_positive`: absent or a number greater than 0 (whatever its spelling)."""
    return pl.col(key).is_null() | (_number(key) > 0).fill_null(False)


def _screen_price_decimals(key: str) -> pl.Expr:
    """Surely passes `price_decimals`: absent, no dot (no fraction), or no more bytes after the first dot than the
    currency's decimals (the fraction the check counts is at most that many characters)."""
    value = pl.col(key)
    decimals = pl.col("_currency_decimals").fill_null(2)
    dot = value.str.find(".", literal=True).cast(pl.Int64)
    after_dot = value.str.len_bytes().cast(pl.Int64) - dot - 1
    return value.is_null() | (dot.is_null() & (decimals >= 0)) | (after_dot <= decimals)


def isbn10_check_digit_ok(column: str) -> pl.Expr:
    code = pl.col(column).str.to_uppercase()
    total = pl.sum_horizontal(code.str.slice(i, 1).cast(pl.Int32, strict=False) * (10 - i) for i in range(9))
    last = code.str.slice(9, 1)
    last_value = pl.when(last == "X").then(10).otherwise(last.cast(pl.Int32, strict=False))
    return (total + last_value) % 11 == 0


class CatalogRow(pa.DataFrameModel):
    """One normalised catalog row. Columns absent from a file are added as nulls before validation."""

    row: int = pa.Field(nullable=False)
    sku: str = pa.Field(nullable=False)
    product_type: str | None = pa.Field(nullable=True)
    operation: str | None = pa.Field(nullable=True)
    item_name: str | None = pa.Field(nullable=True)
    product_description: str | None = pa.Field(nullable=True)
    bullet_point_1: str | None = pa.Field(nullable=True)
    bullet_point_2: str | None = pa.Field(nullable=True)
    bullet_point_3: str | None = pa.Field(nullable=True)
    bullet_point_4: str | None = pa.Field(nullable=True)
    bullet_point_5: str | None = pa.Field(nullable=True)
    external_product_id: str | None = pa.Field(nullable=True)
    external_product_id_type: str | None = pa.Field(nullable=True)
    merchant_suggested_asin: str | None = pa.Field(nullable=True)
    condition_type: str | None = pa.Field(nullable=True)
    price: str | None = pa.Field(nullable=True)
    list_price: str | None = pa.Field(nullable=True)
    sale_price: str | None = pa.Field(nullable=True)
    business_price: str | None = pa.Field(nullable=True)
    minimum_seller_allowed_price: str | None = pa.Field(nullable=True)
    maximum_seller_allowed_price: str | None = pa.Field(nullable=True)
    currency: str | None = pa.Field(nullable=True)
    sale_start_date: str | None = pa.Field(nullable=True)
    sale_end_date: str | None = pa.Field(nullable=True)
    restock_date: str | None = pa.Field(nullable=True)
    quantity: str | None = pa.Field(nullable=True)
    number_of_batteries: str | None = pa.Field(nullable=True)
    handling_time: str | None = pa.Field(nullable=True)
    fulfillment_channel: str | None = pa.Field(nullable=True)
    batteries_required: str | None = pa.Field(nullable=True)
    country_of_origin: str | None = pa.Field(nullable=True)
    item_package_weight: str | None = pa.Field(nullable=True)
    item_package_length: str | None = pa.Field(nullable=True)
    item_package_width: str | None = pa.Field(nullable=True)
    item_package_height: str | None = pa.Field(nullable=True)
    main_image_url: str | None = pa.Field(nullable=True)
    attributes_json: str | None = pa.Field(nullable=True)
    read_error: str | None = pa.Field(nullable=True, alias="_read_error")
    marketplace_currency: str | None = pa.Field(nullable=True, alias="_currency")
    marketplace_currency_decimals: int | None = pa.Field(nullable=True, alias="_currency_decimals")

    class Config:
        strict = False  # product-type attribute columns and kept unknown columns pass through
        coerce = False

    # --- identity -------------------------------------------------------------------------------------------
    @row_rule("sku", name="sku_length")
    def _sku_length(key: str) -> pl.Expr:
        return pl.col(key).str.len_chars() <= MAX_SKU_LENGTH

    @row_rule("sku", name="sku_control_characters")
    def _sku_control(key: str) -> pl.Expr:
        return ~pl.col(key).str.contains(r"[\x00-\x1f\x7f-\x9f]")

    @row_rule("product_type", name="product_type_required", ignore_na=False, absent_passes=False)
    def _product_type_required(key: str) -> pl.Expr:
        return pl.col("product_type").is_not_null() | (pl.col("operation") == "delete").fill_null(False)

    @row_rule("product_type", name="product_type_format")
    def _product_type_format(key: str) -> pl.Expr:
        return pl.col(key).str.contains(r"^[A-Z][A-Z0-9_]*$")

    @row_rule("product_type", name="product_type_unknown")
    def _product_type_known(key: str) -> pl.Expr:
        value = pl.col(key)
        return ~value.str.contains(r"^[A-Z][A-Z0-9_]*$") | value.is_in(known_product_types())

    @row_rule("operation", name="operation_value")
    def _operation(key: str) -> pl.Expr:
        return pl.col(key).is_in(OPERATIONS)

    @row_rule("_read_error", name="unreadable_row", absent_passes=False)
    def _unreadable(key: str) -> pl.Expr:
        return pl.col(key).is_null()

    # --- money ----------------------------------------------------------------------------------------------
    @row_rule(*MONEY_COLUMNS, name="price_format")
    def _price_format(key: str) -> pl.Expr:
        return pl.col(key).str.contains(_SIGNED_DECIMAL)

    @row_rule(*MONEY_COLUMNS, name="price_not_positive", screen=_screen_price_positive)
    def _price_positive(key: str) -> pl.Expr:
        number = _number(key)
        not_a_number = ~pl.col(key).str.contains(_SIGNED_DECIMAL)
        return not_a_number | (number > 0)

    @row_rule(*MONEY_COLUMNS, name="price_decimals", screen=_screen_price_decimals)
    def _price_decimals(key: str) -> pl.Expr:
        fraction = pl.col(key).str.extract(r"^\d+\.(\d*?)0*$", 1).str.len_chars().fill_null(0)
        not_a_number = ~pl.col(key).str.contains(_DECIMAL)
        return not_a_number | (fraction <= pl.col("_currency_decimals").fill_null(2))

    @row_rule("currency", name="currency_mismatch")
    def _currency_matches(key: str) -> pl.Expr:
        return pl.col("_currency").is_null() | (pl.col(key) == pl.col("_currency"))

    @row_rule("sale_price", name="sale_price_above_price")
    def _sale_not_above_price(key: str) -> pl.Expr:
        sale, price = _number("sale_price"), _number("price")
        return sale.is_null() | price.is_null() | (sale <= price)

    @row_rule("price", name="price_outside_allowed_range")
    def _price_in_allowed_range(key: str) -> pl.Expr:
        price = _number("price")
        low, high = _number("minimum_seller_allowed_price"), _number("maximum_seller_allowed_price")
        above_low = low.is_null() | price.is_null() | (price >= low)
        below_high = high.is_null() | price.is_null() | (price <= high)
        return above_low & below_high

    # --- quantities and numbers -----------------------------------------------------------------------------
    @row_rule("quantity", name="quantity_integer")
    def _quantity(key: str) -> pl.Expr:
        return pl.col(key).str.contains(_INTEGER)

    @row_rule("number_of_batteries", name="integer_format")
    def _integer(key: str) -> pl.Expr:
        return pl.col(key).str.contains(_INTEGER)

    @row_rule("handling_time", name="handling_time_range")
    def _handling_time(key: str) -> pl.Expr:
        value = pl.col(key)
        return value.str.contains(_INTEGER) & (_number(key) <= MAX_HANDLING_DAYS)

    @row_rule(*DIMENSION_COLUMNS, name="dimension_format")
    def _dimension(key: str) -> pl.Expr:
        return pl.col(key).str.contains(_DECIMAL) & (_number(key) > 0)

    @row_rule("quantity", name="fba_with_quantity")
    def _fba_quantity(key: str) -> pl.Expr:
        fba = pl.col("fulfillment_channel").str.starts_with("AMAZON_").fill_null(False)
        return ~fba

    # --- enumerations ---------------------------------------------------------------------------------------
    @row_rule("condition_type", name="condition_type_value")
    def _condition(key: str) -> pl.Expr:
        return pl.col(key).is_in(CONDITION_TYPES)

    @row_rule("fulfillment_channel", name="fulfillment_channel_value")
    def _fulfillment_channel(key: str) -> pl.Expr:
        return pl.col(key).is_in(FULFILLMENT_CHANNELS)

    @row_rule("batteries_required", name="boolean_value")
    def _boolean(key: str) -> pl.Expr:
        return pl.col(key).is_in(("true", "false"))

    @row_rule("country_of_origin", name="country_code_format")
    def _country(key: str) -> pl.Expr:
        return pl.col(key).str.contains(r"^[A-Z]{2}$")

    # --- identifiers ----------------------------------------------------------------------------------------
    @row_rule("external_product_id_type", name="external_id_type_value")
    def _external_id_type(key: str) -> pl.Expr:
        return pl.col(key).is_in(EXTERNAL_ID_TYPES)

    @row_rule("external_product_id", name="external_id_format", screen=_screen_external_id_format)
    def _external_id_format(key: str) -> pl.Expr:
        code, kind = pl.col(key), pl.col("external_product_id_type")
        length = code.str.len_chars()
        digits = code.str.contains(_INTEGER)
        ok = (
            pl.when(kind == "UPC").then(digits & (length == 12))
            .when(kind == "EAN").then(digits & length.is_in((8, 13)))
            .when(kind == "GTIN").then(digits & length.is_in((8, 12, 13, 14)))
            .when(kind == "ISBN").then(
                (digits & (length == 13)) | code.str.contains(r"^\d{9}[\dXx]$")
            )
            .otherwise(True)  # unknown or missing type: reported by external_id_type_value / required
        )
        return ok

    @row_rule("external_product_id", name="external_id_check_digit", screen=_screen_external_id_check_digit)
    def _external_id_check_digit(key: str) -> pl.Expr:
        code = pl.col(key)
        length = code.str.len_chars()
        well_formed_gs1 = code.str.contains(_INTEGER) & length.is_in((8, 12, 13, 14))
        isbn10 = code.str.contains(r"^\d{9}[\dXx]$") & (pl.col("external_product_id_type") == "ISBN")
        ok = (
            pl.when(isbn10).then(isbn10_check_digit_ok(key))
            .when(well_formed_gs1).then(gtin_check_digit_ok(key))
            .otherwise(True)  # malformed codes are external_id_format's failure
        )
        return ok

    @row_rule("merchant_suggested_asin", name="asin_format")
    def _asin(key: str) -> pl.Expr:
        return pl.col(key).str.contains(r"^[A-Z0-9]{10}$")

    # --- dates and links ------------------------------------------------------------------------------------
    @row_rule(*DATE_COLUMNS, name="date_format")
    def _date(key: str) -> pl.Expr:
        return pl.col(key).str.contains(_DATE) & _iso_date(key).is_not_null()

    @row_rule("sale_end_date", name="sale_window")
    def _sale_window(key: str) -> pl.Expr:
        start, end = _iso_date("sale_start_date"), _iso_date("sale_end_date")
        return start.is_null() | end.is_null() | (end >= start)

    @row_rule("main_image_url", name="image_url_format")
    def _image_url(key: str) -> pl.Expr:
        # Spaces in the path are tolerated (Amazon percent-encodes them); the host must be well formed.
        return pl.col(key).str.contains(r"^https?://[^\s/?#]+\.[^\s/?#]+([/?#].*)?$")

    @row_rule("attributes_json", name="attributes_json_not_object")
    def _attributes_json(key: str) -> pl.Expr:
        value = pl.col(key)
        return value.str.starts_with("{") & value.str.ends_with("}")
