"""Sensors: the drop folder, feed status, and run failures → alerts."""

import json
from datetime import UTC, datetime

import dagster as dg
from dagster._core.storage.tags import RUN_KEY_TAG
from sqlalchemy import select

from amz_pipeline import telemetry
from amz_pipeline.spapi import endpoints
from amz_pipeline.storage.models import Alert, FeedSubmission
from resources import core
from resources.database import DatabaseResource
from resources.secrets import SecretStoreResource
from resources.settings import SettingsResource
from resources.spapi import SPAPIClientResource

from . import inbox as drop_folder
from . import jobs, meta
from .logs import core_logs
from .partitions import SELLER_TAG, SellerMarketplace, seller_marketplace

# Submissions the engine still has work on (amz_pipeline.publishing.feeds.submit.ACTIVE_STATUSES).
OPEN_FEED_STATUSES = ("planned", "uploaded", "intent", "submitted", "processed", "done")
FINISHED = {dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED}


def step_error(data) -> str:
    """A step failure in the user's words: a `dg.Failure` description, else the innermost exception's message."""
    if data.user_failure_data and data.user_failure_data.description:
        return data.user_failure_data.description.strip()
    error = data.error
    while error is not None and error.cause is not None:
        error = error.cause
    return error.message.strip() if error else ""


def failed_checks(instance: dg.DagsterInstance, run_id: str) -> list[str]:
    """`<asset> <check>: <description>` for every asset check of the run that did not pass."""
    found = []
    for record in instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION):
        evaluation = record.dagster_event.event_specific_data if record.dagster_event else None
        if evaluation is not None and not evaluation.passed:
            found.append(f"{evaluation.asset_key.to_user_string()} {evaluation.check_name}: {evaluation.description}")
    return found


def run_failure_reason(instance: dg.DagsterInstance, run_id: str) -> str:
    """What stopped a run, for the seller's error report: the failed gate(s), else the first step failure."""
    checks = failed_checks(instance, run_id)
    if checks:
        return "stopped by a blocking check: " + "; ".join(checks)
    for record in instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_FAILURE):
        data = record.dagster_event.step_failure_data if record.dagster_event else None
        if data and data.error:
            return telemetry.redact(step_error(data))
    return "the run did not finish successfully (see the run in the Dagster UI)"


def _run_for_key(instance: dg.DagsterInstance, run_key: str) -> dg.DagsterRun | None:
    runs = instance.get_runs(filters=dg.RunsFilter(tags={RUN_KEY_TAG: run_key}), limit=1)
    return runs[0] if runs else None


def _run_request(drop: drop_folder.Drop, target: SellerMarketplace) -> dg.RunRequest:
    job = jobs.catalog_draft_job if drop.draft else jobs.catalog_publish_job
    return dg.RunRequest(
        run_key=drop.run_key(target),
        job_name=job.name,
        partition_key=target.key,
        run_config={"ops": {"raw_catalog": {"config": {
            "path": str(drop.path), "sha256": drop.sha256, "full_catalog": drop.full_catalog, "draft": drop.draft,
            "multi_marketplace": drop.multi_marketplace, "take_unplaced": drop.takes_unplaced(target),
            "file_pairs": [p.key for p in drop.pairs],
        }}}},
        tags={**target.tags(), "amz/file": drop.rel, "amz/sha256": drop.sha256},
    )


def file_marketplaces(path) -> list[str]:
    """Country codes of the known marketplaces a multi-marketplace file's rows name (ValueError if unreadable)."""
    try:
        named = core.row_marketplaces(path)["marketplace_id"].drop_nulls().unique().to_list()
    except core.catalog_read_error() as exc:
        raise ValueError(exc.reason) from None
    return [endpoints.marketplace(marketplace_id).country_code for marketplace_id in named]


def _finish_drop(context: dg.SensorEvaluationContext, settings: SettingsResource, drop: drop_folder.Drop,
                 runs: dict[SellerMarketplace, dg.DagsterRun], stamp: str) -> None:
    """Every run of the file has finished: move it to processed/ (all succeeded) or failed/ with the reasons."""
    inbox = settings.folder("inbox")
    failed = {target: run for target, run in runs.items() if run.status != dg.DagsterRunStatus.SUCCESS}
    if not failed:
        drop_folder.move_out(drop.path, inbox, settings.folder("processed"), stamp)
        return
    moved = drop_folder.move_out(drop.path, inbox, settings.folder("failed"), stamp)
    reasons = [(f"{target.country}: " if drop.multi_marketplace else "")
               + run_failure_reason(context.instance, run.run_id) for target, run in failed.items()]
    if drop.multi_marketplace and len(failed) < len(runs):
        reasons.append("the other marketplaces' runs succeeded; dropping the file again re-publishes only what "
                       "changed")
    drop_folder.write_error_report(moved, "; ".join(reasons), original=drop.rel, run_id=next(iter(failed.values())).run_id)


@dg.sensor(
    jobs=[jobs.catalog_publish_job, jobs.catalog_draft_job],
    minimum_interval_seconds=15,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Launches a run per new file in data/inbox/<seller>/<country>/ (one per marketplace named in a file "
                "dropped in data/inbox/<seller>/) and moves finished files out.",
)
def inbox_sensor(context: dg.SensorEvaluationContext, settings: SettingsResource) -> dg.SensorResult:
    inbox = settings.folder("inbox")
    stamp = drop_folder.utc_stamp()
    drops, refused, cursor = drop_folder.scan(inbox, json.loads(context.cursor or "{}"), stamp, file_marketplaces)

    for item in refused:
        moved = drop_folder.move_out(item.path, inbox, settings.folder("failed"), stamp)
        drop_folder.write_error_report(moved, item.reason, original=item.rel)
        context.log.warning(f"refused {item.rel}: {item.reason}")

    requests: list[dg.RunRequest] = []
    for drop in drops:
        runs = {target: _run_for_key(context.instance, drop.run_key(target)) for target in drop.pairs}
        requests.extend(_run_request(drop, target) for target, run in runs.items() if run is None)
        if any(run is None or run.status not in FINISHED for run in runs.values()):
            continue
        if drop.draft and all(run.status == dg.DagsterRunStatus.SUCCESS for run in runs.values()):
            continue  # a reviewed draft stays until it is published (publish_queue moves it) or replaced
        # Finished: out of the inbox, so that dropping the same content again later starts new runs.
        _finish_drop(context, settings, drop, runs, stamp)
        cursor["files"].pop(drop.rel, None)

    known = set(context.instance.get_dynamic_partitions(seller_marketplace.name))
    new_keys = sorted({r.partition_key for r in requests} - known)
    return dg.SensorResult(
        run_requests=requests,
        cursor=json.dumps(cursor, sort_keys=True),
        dynamic_partitions_requests=[seller_marketplace.build_add_request(new_keys)] if new_keys else [],
    )


@dg.run_failure_sensor(
    name="alert_on_run_failure",
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Records every failed run of this code location in the `alerts` table (kind run_failure).",
)
def alert_on_run_failure(context: dg.RunFailureSensorContext, database: DatabaseResource) -> None:
    run = context.dagster_run
    steps = []
    for event in context.get_step_failure_events():
        steps.append({"step": event.step_key, "error": telemetry.redact(step_error(event.step_failure_data))})
    message = steps[0]["error"].splitlines()[0] if steps and steps[0]["error"] else telemetry.redact(
        context.failure_event.message or "run failed")
    with database.session() as session:
        session.add(Alert(
            kind="run_failure",
            source=run.job_name,
            message=message[:2000],
            details={"run_id": run.run_id, "partition": run.tags.get("dagster/partition"),
                     "seller_id": run.tags.get(SELLER_TAG), "file": run.tags.get("amz/file"), "steps": steps},
        ))


@dg.op(description="One non-blocking pass over every open feed: submit, poll getFeed, ingest finished reports, verify.")
def poll_open_feeds(context: dg.OpExecutionContext, database: DatabaseResource, settings: SettingsResource,
                    spapi: SPAPIClientResource, secrets: SecretStoreResource) -> dg.Output[dict]:
    with core_logs(context):
        result = core.poll_feeds(database.engine(), spapi.client_pool(secrets), run_id=None,
                                 config=settings.engine_config(), owner=core.lease_owner(context.run.run_id))
    numbers = {"open_feed_submissions": result["open_feed_submissions"], **result["feeds"]}
    return dg.Output(result, metadata=meta.numeric(numbers))


@dg.job(tags=jobs.NO_RUN_RETRIES, description="Polls open feeds and ingests their processing reports.")
def feed_poll_job():
    poll_open_feeds()


def due_feeds(database: DatabaseResource, now: datetime) -> list[FeedSubmission]:
    with database.session() as session:
        return list(session.scalars(select(FeedSubmission).where(
            FeedSubmission.status.in_(OPEN_FEED_STATUSES),
            (FeedSubmission.next_poll_at.is_(None)) | (FeedSubmission.next_poll_at <= now),
        )))


@dg.sensor(job=feed_poll_job, minimum_interval_seconds=30, default_status=dg.DefaultSensorStatus.RUNNING,
           description="Reads feed_submissions only (no SP-API call in the daemon) and launches a polling run when "
                       "a feed is due and no polling run is already queued or running.")
def feed_status_sensor(context: dg.SensorEvaluationContext, database: DatabaseResource):
    now = datetime.now(UTC)
    due = due_feeds(database, now)
    if not due:
        return dg.SkipReason("no feed is due for a poll")
    active = context.instance.get_runs(filters=dg.RunsFilter(job_name=feed_poll_job.name, statuses=[
        dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING,
        dg.DagsterRunStatus.STARTED]), limit=1)
    if active:
        return dg.SkipReason(f"polling run {active[0].run_id[:8]} is still going")
    return dg.RunRequest(run_key=f"feed-poll:{now:%Y%m%dT%H%M%S}",
                         tags={"amz/feeds": ",".join(str(f.id) for f in due[:20])})
