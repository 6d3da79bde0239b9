"""Marketplace gate: known marketplace, the requested one, FBA region, language, per-marketplace columns,
Listings Restrictions eligibility."""

from __future__ import annotations

import polars as pl

from amz_pipeline.catalog.marketplaces import resolve
from amz_pipeline.catalog.normalize import normalize
from amz_pipeline.validation.marketplace_rules import eligibility_issues, marketplace_issues


def _frame(rows: list[dict], requested: str | None = None) -> pl.DataFrame:
    columns = sorted({k for r in rows for k in r})
    batch = pl.DataFrame(
        {"row": list(range(2, 2 + len(rows))), **{c: [r.get(c) for r in rows] for c in columns},
         "_read_error": [None] * len(rows)},
        schema_overrides={c: pl.String for c in [*columns, "_read_error"]},
    )
    return normalize(batch, resolve(requested) if requested else None)


def _rules(issues: pl.DataFrame) -> list[tuple[int, str]]:
    return sorted(zip(issues["row"], issues["rule"], strict=True))


def test_without_a_requested_marketplace_each_row_names_its_own():
    frame = _frame([{"sku": "a", "marketplace": "DE"}, {"sku": "b", "marketplace": "XX"}, {"sku": "c"},
                    {"sku": "d", "marketplace": "A1VC38T7YXB528"}, {"sku": "e", "marketplace": "gb"}])
    assert frame["marketplace_id"].to_list() == ["A1PA6795UKMFR9", None, None, "A1VC38T7YXB528", "A1F83G8C2ARO7P"]
    assert _rules(marketplace_issues(frame, None, {})) == [(3, "marketplace_unknown"), (4, "marketplace_missing")]


def test_rows_for_another_marketplace_are_rejected_with_the_reason():
    frame = _frame([{"sku": "a", "marketplace": "US"}, {"sku": "b", "marketplace": "DE"}, {"sku": "c"}], "US")
    issues = marketplace_issues(frame, resolve("US"), {})
    assert _rules(issues) == [(3, "marketplace_mismatch")]
    assert issues["message"][0] == "row is for marketplace 'DE' but this run is for US (ATVPDKIKX0DER)"


def test_fba_channel_must_be_the_marketplace_region():
    frame = _frame([{"sku": "a", "fulfillment_channel": "AMAZON_NA"}, {"sku": "b", "fulfillment_channel": "FBA"}],
                   "DE")
    assert frame["fulfillment_channel"].to_list() == ["AMAZON_NA", "AMAZON_EU"]
    assert _rules(marketplace_issues(frame, resolve("DE"), {})) == [(2, "fulfillment_region_mismatch")]


def test_language_tag_and_required_columns():
    frame = _frame([{"sku": "a", "language_tag": "en_US"}, {"sku": "b", "language_tag": "de-DE", "brand": "Acme"},
                    {"sku": "c", "operation": "delete"}], "DE")
    issues = marketplace_issues(frame, resolve("DE"), {"A1PA6795UKMFR9": ("brand",), "ATVPDKIKX0DER": ("color",)})
    assert _rules(issues) == [(2, "language_tag_mismatch"), (2, "marketplace_required_column")]


def test_eligibility_asks_once_per_asin_and_condition():
    calls = []

    def lookup(asin: str, marketplace_id: str, condition: str) -> list[str]:
        calls.append((asin, marketplace_id, condition))
        return ["Approval required to list in this brand"] if asin == "B000RESTRI" else []

    frame = _frame([
        {"sku": "a", "merchant_suggested_asin": "B000RESTRI"},
        {"sku": "b", "merchant_suggested_asin": "b000restri"},
        {"sku": "c", "merchant_suggested_asin": "B000FINE00", "condition_type": "Used - Good"},
        {"sku": "d"},
    ], "US")
    issues = eligibility_issues(frame, lookup)
    assert sorted(calls) == [("B000FINE00", "ATVPDKIKX0DER", "used_good"), ("B000RESTRI", "ATVPDKIKX0DER", "new_new")]
    assert _rules(issues) == [(2, "listing_restricted"), (3, "listing_restricted")]
    assert "Approval required" in issues["message"][0]
