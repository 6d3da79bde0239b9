"""Asset checks. Blocking ones stop publishing: a failed ERROR check on validated_catalog keeps listing_changes and
everything after it from running in the same run."""

import dagster as dg
import polars as pl

from resources.settings import SettingsResource

from . import meta
from .partitions import seller_marketplace

REQUIRED_VALID_COLUMNS = ("sku",)


def _metadata(context: dg.AssetCheckExecutionContext, asset: str) -> dict:
    return meta.latest_metadata(context.instance, dg.AssetKey(asset), context.partition_key)


@dg.asset_check(asset="validated_catalog", blocking=True, partitions_def=seller_marketplace,
                description="Valid rows carry the canonical columns, unique SKUs, and rows = valid + rejected.")
def schema_validity(context: dg.AssetCheckExecutionContext, validated_catalog: pl.DataFrame) -> dg.AssetCheckResult:
    problems = [f"missing column {c!r}" for c in REQUIRED_VALID_COLUMNS if c not in validated_catalog.columns]
    if not problems:
        null_skus = validated_catalog.filter(pl.col("sku").is_null() | (pl.col("sku") == "")).height
        keys = [c for c in ("marketplace_id", "sku") if c in validated_catalog.columns]
        duplicates = validated_catalog.height - validated_catalog.select(keys).unique().height
        if null_skus:
            problems.append(f"{null_skus} valid rows without a SKU")
        if duplicates:
            problems.append(f"{duplicates} duplicate SKUs among valid rows")
    stored = _metadata(context, "validated_catalog")
    rows, valid, rejected = (int(stored.get(k, 0)) for k in ("rows", "valid", "rejected"))
    if stored and rows != valid + rejected:
        problems.append(f"rows ({rows}) != valid ({valid}) + rejected ({rejected}): a row was dropped silently")
    return dg.AssetCheckResult(
        passed=not problems,
        severity=dg.AssetCheckSeverity.ERROR,
        description="; ".join(problems) or "ok",
        metadata=meta.numeric({"valid_rows": validated_catalog.height, "problems": len(problems)}),
    )


@dg.asset_check(asset="validated_catalog", blocking=True, partitions_def=seller_marketplace,
                description="The share of rejected rows stays under SettingsResource.reject_rate_threshold.")
def reject_rate(context: dg.AssetCheckExecutionContext, settings: SettingsResource) -> dg.AssetCheckResult:
    stored = _metadata(context, "validated_catalog")
    rows, rejected = int(stored.get("rows", 0)), int(stored.get("rejected", 0))
    rate = rejected / rows if rows else 0.0
    limit = settings.reject_rate_threshold
    return dg.AssetCheckResult(
        passed=rate <= limit,
        severity=dg.AssetCheckSeverity.ERROR,
        description=f"{rejected} of {rows} rows rejected ({rate:.1%}; limit {limit:.1%})",
        metadata=meta.numeric({"reject_rate": rate, "threshold": limit, "rejected": rejected, "rows": rows}),
    )


@dg.asset_check(asset="processing_reports", partitions_def=seller_marketplace,
                description="Share of feed messages Amazon reported invalid stays under feed_error_rate_threshold.")
def feed_report_error_rate(context: dg.AssetCheckExecutionContext, settings: SettingsResource) -> dg.AssetCheckResult:
    stored = _metadata(context, "processing_reports")
    processed, invalid = int(stored.get("report/messagesProcessed", 0)), int(stored.get("report/messagesInvalid", 0))
    rate = invalid / processed if processed else 0.0
    return dg.AssetCheckResult(
        passed=rate <= settings.feed_error_rate_threshold,
        description=f"{invalid} of {processed} feed messages invalid ({rate:.1%})",
        metadata=meta.numeric({"error_rate": rate, "threshold": settings.feed_error_rate_threshold,
                               "open_feeds": int(stored.get("open_feeds", 0))}),
    )


@dg.asset_check(asset="listing_status", partitions_def=seller_marketplace,
                description="SKUs Amazon accepted that are not live (still unverified or suppressed).")
def accepted_not_live(context: dg.AssetCheckExecutionContext, settings: SettingsResource) -> dg.AssetCheckResult:
    stored = _metadata(context, "listing_status")
    count = int(stored.get("accepted_not_live", 0))
    return dg.AssetCheckResult(
        passed=count <= settings.max_accepted_not_live,
        description=f"{count} accepted SKUs are not live (allowed {settings.max_accepted_not_live})",
        metadata=meta.numeric({"accepted_not_live": count}),
    )


@dg.asset_check(asset="sku_publish", partitions_def=seller_marketplace,
                description="Dead letters this run added (retries exhausted, unauthorized, fatal feeds; not INVALID).")
def dead_letter_growth(context: dg.AssetCheckExecutionContext, settings: SettingsResource) -> dg.AssetCheckResult:
    stored = _metadata(context, "sku_publish")
    added = int(stored.get("dead_lettered", 0))
    return dg.AssetCheckResult(
        passed=added <= settings.max_dead_letter_growth,
        description=f"{added} dead letters added (allowed {settings.max_dead_letter_growth})",
        metadata=meta.numeric({"dead_lettered": added, "backlog": int(stored.get("backlog", 0))}),
    )
