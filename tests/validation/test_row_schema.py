"""Row rules: each rule family fails on a bad value and passes on a good one; failures map to file rows."""

from __future__ import annotations

import polars as pl
import pytest

from amz_pipeline.catalog.marketplaces import resolve
from amz_pipeline.catalog.normalize import normalize
from amz_pipeline.validation.duplicates import duplicate_issues
from amz_pipeline.validation.row_schema import validate_rows

GOOD = {
    "sku": "SKU-1", "product_type": "SHIRT", "marketplace": "US", "item_name": "Shirt", "price": "12.99",
    "quantity": "5", "condition_type": "new_new", "external_product_id": "036000291452",
    "external_product_id_type": "UPC", "fulfillment_channel": "DEFAULT",
}


def _issues(overrides: dict, marketplace: str | None = None) -> pl.DataFrame:
    values = {**GOOD, **overrides}
    batch = pl.DataFrame({"row": [7], **{k: [v] for k, v in values.items()}, "_read_error": [None]},
                         schema_overrides={k: pl.String for k in [*values, "_read_error"]})
    frame = normalize(batch, resolve(marketplace) if marketplace else None)
    return validate_rows(frame)


def test_good_row_has_no_issues():
    assert _issues({}).height == 0


@pytest.mark.parametrize(
    ("overrides", "field", "rule"),
    [
        ({"sku": None}, "sku", "required"),
        ({"sku": "X" * 41}, "sku", "sku_length"),
        ({"sku": "A\u0007B"}, "sku", "sku_control_characters"),
        ({"product_type": None}, "product_type", "product_type_required"),
        ({"product_type": "shirt wear"}, "product_type", "product_type_format"),
        ({"product_type": "GADGET"}, "product_type", "product_type_unknown"),
        ({"price": "abc"}, "price", "price_format"),
        ({"price": "0"}, "price", "price_not_positive"),
        ({"price": "-3"}, "price", "price_not_positive"),
        ({"price": "12.999"}, "price", "price_decimals"),
        ({"list_price": "1,5,3"}, "list_price", "price_format"),
        ({"currency": "EUR"}, "currency", "currency_mismatch"),
        ({"quantity": "-1"}, "quantity", "quantity_integer"),
        ({"quantity": "2.5"}, "quantity", "quantity_integer"),
        ({"condition_type": "like new-ish"}, "condition_type", "condition_type_value"),
        ({"fulfillment_channel": "DROPSHIP"}, "fulfillment_channel", "fulfillment_channel_value"),
        ({"external_product_id": "036000291453"}, "external_product_id", "external_id_check_digit"),
        ({"external_product_id": "12345"}, "external_product_id", "external_id_format"),
        ({"external_product_id_type": "SKU"}, "external_product_id_type", "external_id_type_value"),
        ({"external_product_id": "0306406153", "external_product_id_type": "ISBN"}, "external_product_id",
         "external_id_check_digit"),
        ({"merchant_suggested_asin": "B0-BAD"}, "merchant_suggested_asin", "asin_format"),
        ({"sale_start_date": "2024-02-30"}, "sale_start_date", "date_format"),
        ({"sale_start_date": "2024-03-10", "sale_end_date": "2024-03-01"}, "sale_end_date", "sale_window"),
        ({"sale_price": "15.00"}, "sale_price", "sale_price_above_price"),
        ({"minimum_seller_allowed_price": "13"}, "price", "price_outside_allowed_range"),
        ({"handling_time": "45"}, "handling_time", "handling_time_range"),
        ({"item_package_weight": "heavy"}, "item_package_weight", "dimension_format"),
        ({"main_image_url": "ftp://x/y.jpg"}, "main_image_url", "image_url_format"),
        ({"main_image_url": "https://no host/y.jpg"}, "main_image_url", "image_url_format"),
        ({"batteries_required": "maybe"}, "batteries_required", "boolean_value"),
        ({"country_of_origin": "China"}, "country_of_origin", "country_code_format"),
        ({"operation": "upsertify"}, "operation", "operation_value"),
        ({"attributes_json": "[1, 2]"}, "attributes_json", "attributes_json_not_object"),
    ],
)
def test_each_rule_rejects_its_bad_value(overrides, field, rule):
    issues = _issues(overrides)
    found = issues.filter((pl.col("rule") == rule) & (pl.col("field") == field))
    assert found.height == 1, issues.to_dicts()
    assert found["row"].to_list() == [7]
    assert found["severity"].to_list() == ["error"]
    assert found["message"][0].startswith(field) or rule == "unreadable_row"


@pytest.mark.parametrize(
    ("overrides", "marketplace"),
    [
        ({"price": "1500", "currency": "JPY", "marketplace": "JP"}, None),
        ({"price": "1.234,5", "marketplace": "DE", "currency": None}, None),
        ({"price": "1,234.50"}, None),
        ({"price": "12.990"}, None),
        ({"external_product_id": "4006381333931", "external_product_id_type": None}, None),
        ({"external_product_id": "0306406152", "external_product_id_type": "ISBN"}, None),
        ({"external_product_id": "978-0-306-40615-7", "external_product_id_type": "isbn"}, None),
        ({"condition_type": "Used - Like New", "fulfillment_channel": "MFN"}, None),
        ({"sale_price": "9.99", "sale_start_date": "2024-03-01", "sale_end_date": "2024-03-31T23:59:59Z"}, None),
        ({"operation": "Delete", "product_type": None, "price": None}, None),
        ({"batteries_required": "No", "country_of_origin": "cn"}, None),
        ({"main_image_url": "https://images.example.com/casa nova/x 1.jpg"}, None),
        ({"marketplace": None}, "US"),
    ],
)
def test_normalised_good_values_pass(overrides, marketplace):
    assert _issues(overrides, marketplace).to_dicts() == []


def test_jpy_takes_no_decimals():
    issues = _issues({"price": "1500.5", "currency": "JPY", "marketplace": "JP"})
    assert issues["rule"].to_list() == ["price_decimals"]


def test_fba_sku_takes_no_merchant_quantity():
    issues = _issues({"fulfillment_channel": "FBA", "quantity": "4"})
    assert issues.select("field", "rule", "severity").to_dicts() == [
        {"field": "quantity", "rule": "fba_with_quantity", "severity": "error"}
    ]
    assert _issues({"fulfillment_channel": "AFN", "quantity": None}).height == 0


def test_duplicates_across_the_whole_file_list_every_row():
    keys = pl.DataFrame({
        "row": [2, 5, 9, 11, 12],
        "sku": ["A", "B", "A", "A", "A"],
        "marketplace_id": ["M1", "M1", "M1", "M2", "M1"],
    })
    issues = duplicate_issues(keys)
    assert issues["row"].to_list() == [2, 9, 12]
    assert set(issues["message"]) == {"SKU 'A' appears 3 times for this marketplace (rows 2, 9, 12); keep one row per SKU"}
