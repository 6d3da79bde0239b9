"""The publishing engine's function API (used by the CLI and by the Dagster layer; no Dagster here).

    result = publish_changes(engine, changes, run_id=run_id, mode="auto")      # route + enqueue + plan feeds
    metrics = run_queue(engine, clients, run_id=run_id)                        # drain both channels, return metrics

Routing (`mode`): `auto` sends a change set of at most `listings_max_skus` SKUs (AMZ_LISTINGS_MAX_SKUS, default 50)
through the Listings API and larger ones through JSON_LISTINGS_FEED; `listings` and `feed` force a channel. The
channel and the feed chunks are decided here, at enqueue time, and kept on resume.

Scheduling: `run_queue` runs the per-SKU worker pool and the feed driver concurrently, so the Listings API budget
(per-SKU calls) and the feed budget (5 submissions per 5 minutes per region) are spent at the same time.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, func, select

import schemas
from amz_pipeline.publishing import queue
from amz_pipeline.publishing.client import ClientPool
from amz_pipeline.publishing.feeds import plan as feed_plan
from amz_pipeline.publishing.feeds.build import FeedLimits
from amz_pipeline.publishing.feeds.submit import FeedConfig, FeedDriver, FeedStats
from amz_pipeline.publishing.leases import new_owner
from amz_pipeline.publishing.listings_worker import ListingsWorker, WorkerConfig, WorkerStats
from amz_pipeline.publishing.queue import Change, EnqueueResult, RetryPolicy
from amz_pipeline.settings import Settings
from amz_pipeline.storage.db import session_factory
from amz_pipeline.storage.models import Channel, DeadLetter, FeedSubmission, JobState, PublishJob


class Mode(enum.StrEnum):
    AUTO = "auto"
    LISTINGS = "listings"
    FEED = "feed"


@dataclass
class EngineConfig:
    """`rate_scale` tells the scheduler the clients' `rate_scale` (emulators only): it multiplies the per-SKU rate
    the routing split assumes. The feed window is scaled in `feeds.limits` (`FeedLimits.scaled`)."""

    listings_max_skus: int = 50
    rate_scale: float = 1.0
    worker: WorkerConfig = field(default_factory=WorkerConfig)
    feeds: FeedConfig = field(default_factory=FeedConfig)

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> EngineConfig:
        retry = overrides.pop("retry", RetryPolicy())
        worker = WorkerConfig(lease_seconds=settings.lease_seconds, retry=retry,
                              preview=bool(overrides.pop("preview", False)))
        feeds = FeedConfig(lease_seconds=settings.lease_seconds, adopt_wait_seconds=settings.feed_adopt_wait_seconds,
                           retry=retry, **overrides.pop("feeds", {}))
        return cls(listings_max_skus=settings.listings_max_skus, worker=worker, feeds=feeds, **overrides)


def route(sku_count: int, mode: Mode | str, listings_max_skus: int) -> Channel:
    mode = Mode(mode)
    if mode is Mode.LISTINGS:
        return Channel.LISTINGS
    if mode is Mode.FEED:
        return Channel.FEED
    return Channel.LISTINGS if sku_count <= listings_max_skus else Channel.FEED


@dataclass
class PublishPlan:
    channel: Channel
    enqueued: EnqueueResult
    feed_submissions: list[int]
    listings_share: int = 0


def listings_rate() -> float:
    """Per-SKU submissions per second one seller may send (the put/patch usage plan, read from the models' data)."""
    operations = schemas.load_json("spapi/usage_plans.json")["operations"]
    return min(float(operations["patchListingsItem"]["rate"]), float(operations["putListingsItem"]["rate"]))


def listings_share(total: int, limits: FeedLimits, feed_seconds: float, rate_scale: float = 1.0) -> int:
    """How many of `total` feed-routed SKUs go through the Listings API instead, so both budgets are spent at once:
    as many as the per-SKU rate sends while the feeds are expected to take (`feed_seconds`: processing plus any
    wait for the submission window), never more than the channels' throughput split r / (r + S·M/W)."""
    rate = listings_rate() * rate_scale
    feed_rate = limits.submissions_per_window * limits.max_messages / limits.window_seconds
    by_throughput = total * rate / (rate + feed_rate)
    return int(min(by_throughput, rate * feed_seconds))


def expected_feed_seconds(total: int, config: FeedConfig) -> float:
    """Processing estimate plus the windows needed beyond the first `submissions_per_window` feeds."""
    feeds = -(-total // config.limits.max_messages)
    extra_windows = max(0, -(-(feeds - config.limits.submissions_per_window) // config.limits.submissions_per_window))
    return config.processing_estimate_seconds + extra_windows * config.limits.window_seconds


def publish_changes(
    engine: Engine,
    changes: Sequence[Change],
    *,
    run_id: str | None = None,
    mode: Mode | str = Mode.AUTO,
    config: EngineConfig | None = None,
) -> PublishPlan:
    """Route, enqueue and (for feeds) chunk `changes` in one transaction. In `auto` mode a feed-sized change set
    still sends its `listings_share` through the Listings API, so neither budget idles."""
    config = config or EngineConfig()
    skus = {(c.seller_id, c.marketplace_id, c.sku) for c in changes}
    channel = route(len(skus), mode, config.listings_max_skus)
    direct: Sequence[Change] = []
    if channel is Channel.FEED and Mode(mode) is Mode.AUTO:
        share = listings_share(len(changes), config.feeds.limits, expected_feed_seconds(len(changes), config.feeds),
                               config.rate_scale)
        direct, changes = changes[len(changes) - share :] if share else [], changes[: len(changes) - share]
    with session_factory(engine).begin() as session:
        enqueued = queue.enqueue(session, changes, channel=channel, run_id=run_id)
        if direct:
            extra = queue.enqueue(session, direct, channel=Channel.LISTINGS, run_id=run_id)
            enqueued.job_ids.extend(extra.job_ids)
            enqueued.duplicates += extra.duplicates
            enqueued.superseded += extra.superseded
        planned = feed_plan.plan(session, limits=config.feeds.limits, run_id=run_id,
                                 payloads=enqueued.payloads) if channel is Channel.FEED else []
    return PublishPlan(channel, enqueued, planned, len(direct))


Progress = Callable[[dict[str, int]], None]


async def run_queue_async(
    engine: Engine,
    clients: ClientPool,
    *,
    run_id: str | None = None,
    config: EngineConfig | None = None,
    owner: str | None = None,
    wait: bool = True,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Drain the queue (jobs of `run_id`, or all) on both channels at once; returns the run's metrics.

    With `wait=False` feeds are submitted but not followed to their reports (call again, or `poll_feeds`, later).
    """
    config = config or EngineConfig()
    owner = owner or new_owner()
    worker = ListingsWorker(engine, clients, owner=owner, config=config.worker)
    driver = FeedDriver(engine, clients, owner=owner, config=config.feeds)
    started = asyncio.get_running_loop().time()
    done = asyncio.Event()

    async def report_progress() -> None:
        while not done.is_set() and progress is not None:
            progress(job_counts(engine, run_id))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(done.wait(), 1.0)

    reporter = asyncio.create_task(report_progress())
    try:
        await asyncio.gather(worker.run(run_id=run_id), _drive_feeds(engine, driver, config, run_id, wait))
    finally:
        done.set()
        await reporter
    if progress is not None:
        progress(job_counts(engine, run_id))
    elapsed = asyncio.get_running_loop().time() - started
    return run_metrics(engine, run_id, worker.stats, driver.stats, clients.metrics(), elapsed)


async def _drive_feeds(engine: Engine, driver: FeedDriver, config: EngineConfig, run_id: str | None,
                       wait: bool) -> None:
    while True:
        queue.reclaim(engine)
        with session_factory(engine).begin() as session:
            feed_plan.plan(session, limits=config.feeds.limits, run_id=run_id)
        for submission_id in driver.open_submissions(run_id):
            await driver.advance(submission_id)
        open_ids = driver.open_submissions(run_id)
        pending_feed_jobs = _pending_feed_jobs(engine, run_id)
        if pending_feed_jobs == 0 and (not open_ids or (not wait and _all_submitted(engine, open_ids))):
            return
        pause = driver.next_wakeup(run_id)
        await asyncio.sleep(min(max(pause if pause is not None else 0.5, 0.05), 5.0))


def _pending_feed_jobs(engine: Engine, run_id: str | None) -> int:
    with session_factory(engine)() as session:
        query = select(func.count()).select_from(PublishJob).where(
            PublishJob.channel == Channel.FEED.value, PublishJob.state == JobState.PENDING.value)
        if run_id is not None:
            query = query.where(PublishJob.run_id == run_id)
        return int(session.scalar(query) or 0)


def _all_submitted(engine: Engine, submission_ids: list[int]) -> bool:
    if not submission_ids:
        return True
    with session_factory(engine)() as session:
        statuses = session.scalars(select(FeedSubmission.status).where(FeedSubmission.id.in_(submission_ids)))
        return all(s not in ("planned", "uploaded", "intent") for s in statuses)


def run_queue(engine: Engine, clients: ClientPool, **kwargs: Any) -> dict[str, Any]:
    """Blocking `run_queue_async` (for Dagster ops and scripts)."""

    async def main() -> dict[str, Any]:
        try:
            return await run_queue_async(engine, clients, **kwargs)
        finally:
            await clients.aclose()

    return asyncio.run(main())


def poll_feeds(engine: Engine, clients: ClientPool, *, run_id: str | None = None,
               config: EngineConfig | None = None) -> dict[str, Any]:
    """One pass over open feed submissions: submit, poll, ingest finished reports, verify. Non-blocking."""
    config = config or EngineConfig()

    async def main() -> dict[str, Any]:
        driver = FeedDriver(engine, clients, owner=new_owner(), config=config.feeds)
        try:
            with session_factory(engine).begin() as session:
                feed_plan.plan(session, limits=config.feeds.limits, run_id=run_id)
            for submission_id in driver.open_submissions(run_id):
                await driver.advance(submission_id)
        finally:
            await clients.aclose()
        return {"feeds": driver.stats.__dict__, "open_feed_submissions": len(driver.open_submissions(run_id))}

    return asyncio.run(main())


# --- metrics -------------------------------------------------------------------------------------------------------


def job_counts(engine: Engine, run_id: str | None = None) -> dict[str, int]:
    with session_factory(engine)() as session:
        return queue.counts(session, run_id=run_id)


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return round(values[0], 2)
    return round(statistics.quantiles(values, n=100, method="inclusive")[int(q * 100) - 1], 2)


def run_metrics(engine: Engine, run_id: str | None, worker: WorkerStats, feeds: FeedStats,
                client_metrics: list[dict[str, Any]], elapsed_s: float) -> dict[str, Any]:
    """Plain JSON-able metrics for a run (Dagster metadata, CLI summary, benchmarks)."""
    counts = job_counts(engine, run_id)
    with session_factory(engine)() as session:
        # INVALID answers are dead letters too (a person re-drives them) but are counted as `invalid`.
        letters = select(func.count()).select_from(DeadLetter).join(
            PublishJob, PublishJob.id == DeadLetter.job_id).where(DeadLetter.cause != "invalid")
        if run_id is not None:
            letters = letters.where(PublishJob.run_id == run_id)
        dead = int(session.scalar(letters) or 0)
        backlog = queue.backlog(session, run_id=run_id)
    total = sum(counts.values())
    return {
        "submitted": total - counts.get(JobState.SUPERSEDED.value, 0),
        "accepted": counts.get(JobState.SUCCEEDED.value, 0),
        "invalid": counts.get(JobState.INVALID.value, 0),
        "failed": counts.get(JobState.FAILED.value, 0) + counts.get(JobState.DEAD_LETTERED.value, 0),
        "dead_lettered": dead,
        "superseded": counts.get(JobState.SUPERSEDED.value, 0),
        "throttles": sum(m.get("throttles", 0) for m in client_metrics),
        "retries": sum(m.get("retries", 0) for m in client_metrics) + worker.retried + feeds.requeued,
        "reconciled": worker.reconciled,
        "latency_ms_p50": _percentile(worker.latencies_ms, 0.50),
        "latency_ms_p95": _percentile(worker.latencies_ms, 0.95),
        "backlog": backlog,
        "feeds_submitted": feeds.submitted,
        "feeds_adopted": feeds.adopted,
        "verified_live": feeds.verified_live,
        "verified_suppressed": feeds.verified_suppressed,
        "elapsed_s": round(elapsed_s, 3),
        "jobs_by_state": counts,
    }
