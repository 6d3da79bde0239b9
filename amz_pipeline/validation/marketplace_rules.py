"""Marketplace gate: the row's marketplace is known and is the one this run is for, its FBA channel is the
marketplace's region, its language tag is the marketplace's, the marketplace's own required columns are filled,
and — when a lookup is given — the seller may offer the ASIN there (Listings Restrictions).

Currency and currency decimals per marketplace are row rules (`schemas/row_models.py`), fed with the same facts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import polars as pl

from amz_pipeline.catalog.marketplaces import marketplaces
from amz_pipeline.catalog.normalize import MARKETPLACE_GIVEN
from amz_pipeline.validation.issues import concat, issues_where, quoted

RestrictionsLookup = Callable[[str, str, str], list[str]]
"""`(asin, marketplace_id, condition_type) -> reasons`; an empty list means the seller may list the ASIN."""

_NOT_DELETE = pl.col("operation").ne("delete").fill_null(True)


def required_columns_by_marketplace() -> dict[str, tuple[str, ...]]:
    """`required_columns` of each marketplace in `schemas/marketplaces.json` (absent → none)."""
    return {m["id"]: tuple(m.get("required_columns", ())) for m in marketplaces()}


def marketplace_issues(
    frame: pl.DataFrame,
    requested: Mapping[str, Any] | None,
    required_columns: Mapping[str, Sequence[str]] | None = None,
) -> pl.DataFrame:
    """Issues for a normalised batch (see `amz_pipeline.catalog.normalize`)."""
    given = pl.col(MARKETPLACE_GIVEN)
    given_id = pl.col("_given_marketplace_id")
    found = [
        issues_where(frame, given.is_not_null() & given_id.is_null(), field="marketplace", rule="marketplace_unknown",
                     message=pl.lit("unknown marketplace ") + quoted("marketplace")
                     + pl.lit(": use a country code such as US or DE, or a marketplace id")),
        issues_where(
            frame, pl.col("fulfillment_channel").str.starts_with("AMAZON_")
            & pl.col("_region").is_not_null()
            & (pl.col("fulfillment_channel") != pl.lit("AMAZON_") + pl.col("_region")),
            field="fulfillment_channel", rule="fulfillment_region_mismatch",
            message=pl.lit("fulfillment channel ") + quoted("fulfillment_channel")
            + pl.lit(" is not Amazon's fulfillment network for this marketplace (AMAZON_") + pl.col("_region")
            + pl.lit(")"),
        ),
    ]
    if requested is None:
        found.append(issues_where(
            frame, given.is_null(), field="marketplace", rule="marketplace_missing",
            message="no marketplace: fill the marketplace column or choose one for the whole file (--marketplace)",
        ))
    else:
        found.append(issues_where(
            frame, given_id.is_not_null() & (given_id != requested["id"]), field="marketplace",
            rule="marketplace_mismatch",
            message=pl.lit("row is for marketplace ") + quoted("marketplace")
            + pl.lit(f" but this run is for {requested['country_code']} ({requested['id']})"),
        ))
    if "language_tag" in frame.columns:
        found.append(issues_where(
            frame, pl.col("language_tag").is_not_null() & pl.col("_language_tag").is_not_null()
            & (pl.col("language_tag").str.replace("-", "_") != pl.col("_language_tag")),
            field="language_tag", rule="language_tag_mismatch",
            message=pl.lit("language tag ") + quoted("language_tag") + pl.lit(" is not this marketplace's (")
            + pl.col("_language_tag") + pl.lit(")"),
        ))
    found.extend(_required_columns(frame, required_columns))
    return concat(found)


def _required_columns(
    frame: pl.DataFrame, required_columns: Mapping[str, Sequence[str]] | None,
) -> list[pl.DataFrame]:
    table = required_columns_by_marketplace() if required_columns is None else required_columns
    found = []
    for marketplace_id, columns in table.items():
        for column in columns:
            value = pl.col(column) if column in frame.columns else pl.lit(None, dtype=pl.String)
            found.append(issues_where(
                frame, (pl.col("marketplace_id") == marketplace_id) & value.is_null() & _NOT_DELETE,
                field=column, rule="marketplace_required_column",
                message=pl.lit(f"{column} is required in marketplace ") + pl.col("_country"),
            ))
    return found


def eligibility_issues(frame: pl.DataFrame, restrictions_lookup: RestrictionsLookup) -> pl.DataFrame:
    """Ask Listings Restrictions once per distinct (ASIN, marketplace, condition) before offering on an existing
    ASIN; every restriction reason rejects the rows offering that ASIN. Errors of the lookup propagate: a
    transient API failure must not turn into a permanent reject."""
    offers = frame.filter(pl.col("merchant_suggested_asin").is_not_null() & _NOT_DELETE)
    if not offers.height:
        return concat([])
    condition = pl.col("condition_type").fill_null("new_new")
    keys = offers.select("merchant_suggested_asin", "marketplace_id", condition.alias("_condition")).unique()
    verdicts = [
        {"merchant_suggested_asin": asin, "marketplace_id": market, "_condition": cond,
         "_reasons": "; ".join(reasons)}
        for asin, market, cond in keys.iter_rows()
        if (reasons := restrictions_lookup(asin, market, cond))
    ]
    if not verdicts:
        return concat([])
    restricted = offers.with_columns(condition.alias("_condition")).join(
        pl.DataFrame(verdicts), on=["merchant_suggested_asin", "marketplace_id", "_condition"], how="inner",
    )
    return issues_where(
        restricted, pl.lit(True), field="merchant_suggested_asin", rule="listing_restricted",
        message=pl.lit("you cannot offer ASIN ") + quoted("merchant_suggested_asin") + pl.lit(" (")
        + pl.col("_condition") + pl.lit(") in this marketplace: ") + pl.col("_reasons"),
    )
