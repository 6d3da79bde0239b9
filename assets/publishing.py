"""Publishing assets: publish_queue (the gate) → sku_publish and listings_feed_documents → feed_submissions →
processing_reports → listing_status. Thin wrappers over `amz_pipeline.publishing.engine` (through resources.core).

`sku_publish` runs the engine's queue drain: the per-SKU Listings API calls and the feed submissions go out together,
so both budgets are used at once; `processing_reports` follows the run's feeds to their reports for up to
`SettingsResource.feed_wait_seconds` and leaves the rest to the feed-status sensor.
"""

import time
from pathlib import Path

import dagster as dg
import polars as pl
from sqlalchemy import select

from amz_pipeline.storage.models import FeedSubmission, PublishRun
from resources import core
from resources.database import DatabaseResource
from resources.secrets import SecretStoreResource
from resources.settings import SettingsResource
from resources.spapi import MissingCredentials, SPAPIClientResource

from . import files, meta
from . import inbox as drop_folder
from .catalog import ingest_partition, source_of
from .logs import core_logs
from .partitions import parse as parse_partition
from .partitions import seller_marketplace
from .pinning import changes_hash

GROUP = "publishing"


def _refuse(message: str) -> None:
    raise dg.Failure(f"publishing refused: {message}")


def _check_pins(context: dg.AssetExecutionContext, listing_changes: pl.DataFrame, validated: pl.DataFrame,
                settings: SettingsResource) -> dict:
    """The file and the change set are exactly what was reviewed; a draft from an earlier run re-runs the gates."""
    source = source_of(context)
    reviewed_run, reviewed = meta.latest_record(context.instance, dg.AssetKey("listing_changes"), context.partition_key)
    path = Path(source["source_path"])
    if not path.is_file():
        _refuse(f"{path} is gone since it was validated; drop it again")
    if files.sha256_file(path) != source["sha256"] or reviewed.get("sha256") != source["sha256"]:
        _refuse(f"{path.name} changed since it was reviewed; validate the new version first")
    if changes_hash(listing_changes) != reviewed.get("changes_hash"):
        _refuse("the stored change set differs from the reviewed one (changes hash mismatch)")
    if reviewed_run != context.run.run_id:
        pair = parse_partition(context.partition_key)
        with core_logs(context):
            again = ingest_partition(pair, source, None)
        rate = again.rejected_count / again.rows if again.rows else 0.0
        if rate > settings.reject_rate_threshold:
            _refuse(f"re-validation rejects {rate:.1%} of rows (limit {settings.reject_rate_threshold:.1%})")
        key = ["marketplace_id", "sku", "payload_hash"]
        if not again.valid.select(key).sort(key).equals(validated.select(key).sort(key)):
            _refuse("re-validation gives different payloads than the reviewed ones (rules or templates changed)")
    return source


@dg.asset(
    partitions_def=seller_marketplace,
    group_name=GROUP,
    io_manager_key="parquet_io",
    kinds={"python"},
    description="The publishing gate: pins the reviewed file and payload hashes, re-runs the gates for a draft, "
                "then routes (auto | listings | feed) and enqueues the changes in the durable queue.",
)
def publish_queue(context: dg.AssetExecutionContext, listing_changes: pl.DataFrame,
                  validated_catalog: pl.DataFrame, database: DatabaseResource, settings: SettingsResource,
                  spapi: SPAPIClientResource, secrets: SecretStoreResource) -> dg.Output[dict]:
    pair = parse_partition(context.partition_key)
    source = _check_pins(context, listing_changes, validated_catalog, settings)
    run_id = context.run.run_id
    changes = core.changes_from_delta(validated_catalog, listing_changes, seller_id=pair.seller_id,
                                      full_catalog=bool(source.get("full_catalog")))
    if changes:
        try:
            spapi.require_credentials(pair.seller_id, pair.region, secrets)
        except MissingCredentials as exc:
            _refuse(str(exc))
    with database.session() as session:
        session.merge(PublishRun(run_id=run_id, seller_id=pair.seller_id, marketplace_id=pair.marketplace_id,
                                 file_path=str(source["source_path"]), file_hash=source["sha256"],
                                 mode=source.get("mode", "auto"), full_catalog=bool(source.get("full_catalog")),
                                 options={"dagster_run_id": run_id}, status="started", trace_id=run_id))
    config = settings.engine_config()
    with core_logs(context):
        plan = core.publish_changes(database.engine(), changes, run_id=run_id, mode=source.get("mode", "auto"),
                                    config=config)
    if source.get("draft"):
        _retire_draft(context, source, settings)
    summary = {"channel": str(plan.channel.value), "jobs": len(plan.enqueued.job_ids),
               "duplicates": plan.enqueued.duplicates, "superseded": plan.enqueued.superseded,
               "feed_submissions": list(plan.feed_submissions), "changes": len(changes)}
    return dg.Output(summary, metadata={
        "channel": summary["channel"],
        "sha256": source["sha256"],
        **meta.numeric({k: summary[k] for k in ("jobs", "duplicates", "superseded", "changes")}),
        "planned_feeds": len(plan.feed_submissions),
    })


def _retire_draft(context: dg.AssetExecutionContext, source: dict, settings: SettingsResource) -> None:
    """Move a published draft out of the inbox — for a multi-marketplace draft, once every marketplace it names has
    been published from this content."""
    path = Path(source["source_path"])
    others = [key for key in str(source.get("file_pairs") or "").split(",") if key and key != context.partition_key]
    for key in others:
        published = meta.latest_metadata(context.instance, dg.AssetKey("publish_queue"), key)
        if published.get("sha256") != source["sha256"]:
            context.log.info(f"draft {path.name} stays in the inbox until {key} is published as well")
            return
    if path.is_file():
        drop_folder.move_out(path, settings.folder("inbox"), settings.folder("processed"), drop_folder.utc_stamp())


def _feed_rows(database: DatabaseResource, run_id: str) -> pl.DataFrame:
    with database.session() as session:
        rows = session.scalars(select(FeedSubmission).where(FeedSubmission.run_id == run_id)
                               .order_by(FeedSubmission.id)).all()
        return pl.DataFrame(
            [{"id": r.id, "feed_id": r.feed_id, "status": r.status, "processing_status": r.processing_status,
              "messages": r.message_count, "content_hash": r.content_hash, "document_path": r.document_path,
              "report": dict(r.report_summary or {}), "error": r.error} for r in rows],
            schema={"id": pl.Int64, "feed_id": pl.String, "status": pl.String, "processing_status": pl.String,
                    "messages": pl.Int64, "content_hash": pl.String, "document_path": pl.String,
                    "report": pl.Object, "error": pl.String},
        ).drop("report")


@dg.asset(
    partitions_def=seller_marketplace,
    group_name=GROUP,
    io_manager_key="parquet_io",
    kinds={"parquet"},
    description="JSON_LISTINGS_FEED documents planned for this run (validated against Amazon's feed schema).",
)
def listings_feed_documents(context: dg.AssetExecutionContext, publish_queue: dict,
                            database: DatabaseResource) -> dg.Output[pl.DataFrame]:
    frame = _feed_rows(database, context.run.run_id)
    return dg.Output(frame, metadata=meta.numeric({"documents": frame.height,
                                                   "messages": int(frame["messages"].sum() or 0)}))


@dg.asset(
    partitions_def=seller_marketplace,
    group_name=GROUP,
    io_manager_key="parquet_io",
    pool="spapi-listings",
    kinds={"python"},
    description="Drains this run's queue: per-SKU Listings API calls and feed submissions, under the rate limiter.",
)
def sku_publish(context: dg.AssetExecutionContext, publish_queue: dict, database: DatabaseResource,
                settings: SettingsResource, spapi: SPAPIClientResource, secrets: SecretStoreResource
                ) -> dg.Output[dict]:
    config = settings.engine_config()
    with core_logs(context):
        metrics = core.run_queue(database.engine(), spapi.client_pool(secrets), run_id=context.run.run_id,
                                 config=config, wait=False)
    return dg.Output(metrics, metadata=_metrics_metadata(metrics))


def _metrics_metadata(metrics: dict) -> dict:
    numbers = {k: v for k, v in metrics.items() if isinstance(v, int | float) and not isinstance(v, bool)}
    return {**meta.numeric(numbers), "metrics": dg.MetadataValue.json(metrics)}


@dg.asset(
    partitions_def=seller_marketplace,
    group_name=GROUP,
    io_manager_key="parquet_io",
    deps=["sku_publish"],
    pool="spapi-feeds",
    kinds={"parquet"},
    description="This run's feeds as Amazon knows them: feed id and processing status.",
)
def feed_submissions(context: dg.AssetExecutionContext, listings_feed_documents: pl.DataFrame,
                     database: DatabaseResource, settings: SettingsResource, spapi: SPAPIClientResource,
                     secrets: SecretStoreResource) -> dg.Output[pl.DataFrame]:
    frame = _feed_rows(database, context.run.run_id)
    if frame.filter(pl.col("feed_id").is_null()).height:
        config = settings.engine_config()
        with core_logs(context):
            core.poll_feeds(database.engine(), spapi.client_pool(secrets), run_id=context.run.run_id, config=config,
                            owner=core.lease_owner(context.run.run_id))
        frame = _feed_rows(database, context.run.run_id)
    return dg.Output(frame, metadata=meta.numeric({
        "feeds": frame.height, "submitted": frame.filter(pl.col("feed_id").is_not_null()).height,
        "messages": int(frame["messages"].sum() or 0)}))


def report_totals(database: DatabaseResource, run_id: str) -> dict:
    with database.session() as session:
        summaries = [dict(r.report_summary or {}) for r in session.scalars(
            select(FeedSubmission).where(FeedSubmission.run_id == run_id))]
    totals: dict[str, int] = {}
    for summary in summaries:
        for key, value in summary.items():
            if isinstance(value, int) and not isinstance(value, bool):
                totals[key] = totals.get(key, 0) + value
    return totals


@dg.asset(
    partitions_def=seller_marketplace,
    group_name=GROUP,
    io_manager_key="parquet_io",
    pool="spapi-feeds",
    kinds={"parquet"},
    description="Processing reports of this run's feeds, polled without blocking for up to feed_wait_seconds.",
)
def processing_reports(context: dg.AssetExecutionContext, feed_submissions: pl.DataFrame,
                       database: DatabaseResource, settings: SettingsResource, spapi: SPAPIClientResource,
                       secrets: SecretStoreResource) -> dg.Output[pl.DataFrame]:
    run_id = context.run.run_id
    config = settings.engine_config()
    deadline = time.monotonic() + settings.feed_wait_seconds
    open_left = feed_submissions.height
    with core_logs(context):
        while open_left and time.monotonic() < deadline:
            result = core.poll_feeds(database.engine(), spapi.client_pool(secrets), run_id=run_id, config=config,
                                     owner=core.lease_owner(run_id))
            open_left = int(result.get("open_feed_submissions", 0))
            if open_left:
                pause = result.get("next_wakeup_s") or 0.2
                time.sleep(min(max(pause, 0.05), 5.0, max(0.0, deadline - time.monotonic())))
    frame = _feed_rows(database, run_id)
    totals = report_totals(database, run_id)
    processed = totals.get("messagesProcessed", 0)
    invalid = totals.get("messagesInvalid", 0)
    return dg.Output(frame, metadata={
        **meta.numeric({"feeds": frame.height, "open_feeds": open_left, **{f"report/{k}": v for k, v in totals.items()},
                        "error_rate": (invalid / processed) if processed else 0.0}),
        "statuses": dg.MetadataValue.json(dict(frame.group_by("status").len().iter_rows()) if frame.height else {}),
    })


def listing_states(database: DatabaseResource, seller_id: str) -> list[dict]:
    return core.listing_states(database.engine(), seller_id)


def write_issues_file(root: Path, partition: str, frame: pl.DataFrame) -> tuple[Path, Path]:
    """`<root>/<partition>.parquet` and `.csv`: every open issue of the partition, local and Amazon's."""
    root.mkdir(parents=True, exist_ok=True)
    parquet, csv = root / f"{partition}.parquet", root / f"{partition}.csv"
    frame.write_parquet(parquet)
    frame.write_csv(csv)
    return parquet, csv


ISSUE_SCHEMA = {"marketplace_id": pl.String, "sku": pl.String, "source": pl.String, "code": pl.String,
                "severity": pl.String, "field": pl.String, "message": pl.String}


@dg.asset(
    partitions_def=seller_marketplace,
    group_name=GROUP,
    io_manager_key="parquet_io",
    deps=["sku_publish"],
    kinds={"parquet"},
    description="Per-SKU state after publishing (accepted, live, invalid with Amazon's issues, suppressed) and the "
                "partition's issues file (Parquet and CSV).",
)
def listing_status(context: dg.AssetExecutionContext, processing_reports: pl.DataFrame,
                   listing_changes: pl.DataFrame, catalog_rejects: pl.DataFrame, database: DatabaseResource,
                   settings: SettingsResource) -> dg.Output[pl.DataFrame]:
    pair = parse_partition(context.partition_key)
    touched = set(listing_changes["sku"].to_list()) if listing_changes.height else set()
    states = [s for s in listing_states(database, pair.seller_id)
              if s["marketplace"] == pair.marketplace_id and s["sku"] in touched]
    frame = pl.DataFrame(
        [{"sku": s["sku"], "status": s["status"], "asin": s["asin"],
          "errors": sum(1 for i in s["issues"] if i["severity"] == "ERROR"),
          "first_issue": next((f"{i['code']}: {i['message']}" for i in s["issues"] if i["severity"] == "ERROR"), None)}
         for s in states],
        schema={"sku": pl.String, "status": pl.String, "asin": pl.String, "errors": pl.Int64, "first_issue": pl.String},
    )
    amazon_issues = [{"marketplace_id": pair.marketplace_id, "sku": s["sku"], "source": "amazon", "code": i["code"],
                      "severity": i["severity"], "field": ",".join(i.get("attributeNames") or []),
                      "message": i["message"]} for s in states for i in s["issues"]]
    local = (catalog_rejects.select(
        pl.lit(pair.marketplace_id).alias("marketplace_id"), pl.col("sku").cast(pl.String),
        pl.lit("local-validation").alias("source"), pl.col("rule").cast(pl.String).alias("code"),
        pl.col("severity").cast(pl.String), pl.col("field").cast(pl.String), pl.col("message").cast(pl.String))
        if catalog_rejects.height else pl.DataFrame(schema=ISSUE_SCHEMA))
    issues = pl.concat([local, pl.DataFrame(amazon_issues, schema=ISSUE_SCHEMA)])
    parquet, csv = write_issues_file(settings.folder("issues"), context.partition_key, issues)
    by_status = dict(frame.group_by("status").len().iter_rows()) if frame.height else {}
    return dg.Output(frame, metadata={
        **meta.numeric({"skus": frame.height, **{f"status/{k}": v for k, v in sorted(by_status.items())},
                        # accepted and verified not live; `status/accepted` counts the ones not verified (yet)
                        "accepted_not_live": by_status.get("suppressed", 0),
                        "issues": issues.height}),
        "top_amazon_issues": meta.top_errors_table(amazon_issues),
        "issues_parquet": dg.MetadataValue.path(str(parquet)),
        "issues_csv": dg.MetadataValue.path(str(csv)),
    })
