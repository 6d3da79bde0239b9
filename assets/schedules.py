"""Schedules: per-seller catalog syncs from a configured source, hourly dead-letter re-drive, weekly schema refresh.

A catalog source is `SettingsResource.catalog_sources[<sellerId>.<country>] = <path or glob>`; the newest matching
file is read. No source configured → SkipReason. The nightly sync declares the file a full catalog; the 15-minute sync
is partial (the delta step turns price/quantity-only differences into cheap patches) and skips a file whose content
was already published for that partition.
"""

import glob
from pathlib import Path

import dagster as dg

from amz_pipeline.storage.models import DeadLetterCause
from resources import core
from resources.database import DatabaseResource
from resources.settings import SettingsResource

from . import files, jobs, meta
from .partitions import PartitionKeyError, parse, seller_marketplace


def newest_file(pattern: str) -> Path | None:
    matches = [Path(p) for p in glob.glob(pattern)] if glob.has_magic(pattern) else [Path(pattern)]
    matches = [p for p in matches if p.is_file()]
    return max(matches, key=lambda p: p.stat().st_mtime) if matches else None


def sync_requests(context: dg.ScheduleEvaluationContext, settings: SettingsResource, *, full_catalog: bool,
                  kind: str):
    if not settings.catalog_sources:
        return dg.SkipReason("no catalog source configured (SettingsResource.catalog_sources)")
    requests, skipped = [], []
    stamp = context.scheduled_execution_time.strftime("%Y%m%dT%H%M")
    for key, pattern in sorted(settings.catalog_sources.items()):
        try:
            pair = parse(key)
        except PartitionKeyError as exc:
            skipped.append(f"{key}: {exc}")
            continue
        path = newest_file(pattern)
        if path is None:
            skipped.append(f"{key}: nothing matches {pattern}")
            continue
        sha = files.sha256_file(path)
        if not full_catalog and meta.latest_metadata(context.instance, dg.AssetKey("raw_catalog"), key).get(
                "sha256") == sha:
            skipped.append(f"{key}: {path.name} unchanged since the last run")
            continue
        requests.append(dg.RunRequest(
            run_key=f"{kind}:{key}:{sha[:16]}:{stamp}",
            partition_key=key,
            run_config={"ops": {"raw_catalog": {"config": {"path": str(path), "sha256": sha,
                                                           "full_catalog": full_catalog}}}},
            tags={**pair.tags(), "amz/file": str(path), "amz/sha256": sha, "amz/sync": kind},
        ))
    if not requests:
        return dg.SkipReason("; ".join(skipped))
    return _with_partitions(context, requests)


def _with_partitions(context: dg.ScheduleEvaluationContext, requests: list[dg.RunRequest]) -> list[dg.RunRequest]:
    """Schedules cannot return dynamic-partition requests (only sensors can, via SensorResult), so a configured
    source whose pair has never been seen is registered on the instance here, before its run is requested."""
    known = set(context.instance.get_dynamic_partitions(seller_marketplace.name))
    new = sorted({r.partition_key for r in requests} - known)
    if new:
        context.instance.add_dynamic_partitions(seller_marketplace.name, new)
    return requests


@dg.schedule(cron_schedule="0 2 * * *", job=jobs.catalog_publish_job, execution_timezone="UTC",
             description="Nightly full catalog sync from each seller's configured source.")
def nightly_full_sync(context: dg.ScheduleEvaluationContext, settings: SettingsResource):
    return sync_requests(context, settings, full_catalog=True, kind="nightly")


@dg.schedule(cron_schedule="*/15 * * * *", job=jobs.catalog_publish_job, execution_timezone="UTC",
             description="Price and quantity sync every 15 minutes (partial file; unchanged files are skipped).")
def price_quantity_sync(context: dg.ScheduleEvaluationContext, settings: SettingsResource):
    return sync_requests(context, settings, full_catalog=False, kind="price-quantity")


class RedriveConfig(dg.Config):
    max_redrives: int = 3


@dg.op(description="Re-queue dead letters whose cause is retries_exhausted (at most max_redrives times each); "
                   "INVALID and unauthorized letters wait for a person.")
def redrive_retries_exhausted(context: dg.OpExecutionContext, config: RedriveConfig,
                              database: DatabaseResource) -> dg.Output[dict]:
    result = core.auto_redrive(database.engine(), max_redrives=config.max_redrives)
    summary = {k: v for k, v in vars(result).items() if isinstance(v, int | list)}
    numbers = {k: (len(v) if isinstance(v, list) else v) for k, v in summary.items()}
    return dg.Output(summary, metadata={**meta.numeric(numbers), "cause": DeadLetterCause.RETRIES_EXHAUSTED.value})


@dg.job(tags=jobs.NO_RUN_RETRIES, description="Hourly automatic re-drive of retries_exhausted dead letters.")
def dlq_redrive_job():
    redrive_retries_exhausted()


dlq_redrive_hourly = dg.ScheduleDefinition(job=dlq_redrive_job, cron_schedule="0 * * * *",
                                           execution_timezone="UTC")

product_types_job = dg.define_asset_job(
    "product_types_job", selection=dg.AssetSelection.assets("product_type_definitions"),
    tags={"dagster/max_retries": "2"},
    description="Refresh product-type schemas (safe to retry: nothing is published).",
)


@dg.schedule(cron_schedule="0 3 * * 0", job=product_types_job, execution_timezone="UTC",
             description="Weekly product-type schema refresh for every seller×marketplace pair.")
def weekly_product_types(context: dg.ScheduleEvaluationContext):
    keys = context.instance.get_dynamic_partitions(seller_marketplace.name)
    if not keys:
        return dg.SkipReason("no seller×marketplace partition yet")
    stamp = context.scheduled_execution_time.strftime("%Y%m%d")
    return [dg.RunRequest(run_key=f"ptd:{key}:{stamp}", partition_key=key, tags=parse(key).tags()) for key in keys]
