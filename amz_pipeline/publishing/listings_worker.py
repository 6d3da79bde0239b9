"""The per-SKU path: an asyncio pool draining `listings` jobs through the Listings Items API.

- UPDATE → putListingsItem; PARTIAL_UPDATE → patchListingsItem with one `replace` per attribute; PATCH →
  patchListingsItem as queued (price/quantity via `purchasable_offer` / `fulfillment_availability`, `merge` where it
  avoids resending fields); DELETE → deleteListingsItem. Optionally VALIDATION_PREVIEW first.
- The client's rate limiter paces the calls; `concurrency` only bounds how many wait at once.
- Every call is an attempt row written before and after it. A call that failed after it may have reached Amazon
  (dropped connection, 500) — or whose process died before recording its answer — is reconciled by reading the listing
  back (`getListingsItem`) and comparing it with what was sent; only a change that did not land is sent again.
- ACCEPTED/INVALID and issues are stored per SKU; retryable failures go back to the queue with backoff;
  non-retryable ones and exhausted retries go to the dead-letter queue with their cause.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, update

from amz_pipeline.publishing import attempts, outcomes, queue
from amz_pipeline.publishing.crashpoints import crash_point
from amz_pipeline.publishing.leases import as_utc, utcnow
from amz_pipeline.publishing.markets import region_of
from amz_pipeline.publishing.outcomes import JobOutcome
from amz_pipeline.publishing.queue import ClaimedJob, RetryPolicy
from amz_pipeline.spapi.errors import (
    AmbiguousSubmissionError,
    InvalidInputError,
    LWAError,
    NotFoundError,
    SPAPIError,
    UnauthorizedError,
)
from amz_pipeline.storage.db import session_factory
from amz_pipeline.storage.models import Channel, PublishAttempt

log = logging.getLogger("amz_pipeline.publishing.listings")
PREVIEW = "VALIDATION_PREVIEW"


@dataclass
class WorkerConfig:
    concurrency: int = 8
    batch: int = 32
    lease_seconds: float = 60.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    preview: bool = False


@dataclass
class WorkerStats:
    accepted: int = 0
    invalid: int = 0
    retried: int = 0
    dead_lettered: int = 0
    reconciled: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    errors: Counter = field(default_factory=Counter)


def request_for(job: ClaimedJob) -> tuple[str, dict[str, Any] | None]:
    """(client method, body) for a job."""
    body = job.payload or {}
    if job.operation == "update":
        return "put_listings_item", body
    if job.operation == "partial_update":
        patches = [{"op": "replace", "path": f"/attributes/{name}", "value": value}
                   for name, value in sorted(body["attributes"].items())]
        return "patch_listings_item", {"productType": body["productType"], "patches": patches}
    if job.operation == "patch":
        return "patch_listings_item", body
    if job.operation == "delete":
        return "delete_listings_item", None
    raise ValueError(f"unknown operation {job.operation!r}")


def _contains(sent: Any, got: Any) -> bool:
    """`sent` is contained in `got`: dict keys recursively, every list element somewhere in the other list."""
    if isinstance(sent, dict):
        return isinstance(got, dict) and all(k in got and _contains(v, got[k]) for k, v in sent.items())
    if isinstance(sent, list):
        return isinstance(got, list) and all(any(_contains(s, g) for g in got) for s in sent)
    if isinstance(sent, int | float) and isinstance(got, int | float) and not isinstance(sent, bool):
        return float(sent) == float(got)
    return sent == got


def landed(job: ClaimedJob, attributes: dict[str, Any] | None) -> bool:
    """Whether Amazon's current listing (`attributes`, None when the SKU does not exist) already reflects `job`."""
    if job.operation == "delete":
        return attributes is None
    if attributes is None:
        return False
    _, body = request_for(job)
    assert body is not None
    if job.operation == "update":
        return _contains(body["attributes"], attributes)
    for patch in body["patches"]:
        name = patch["path"].rsplit("/", 1)[-1]
        current = attributes.get(name)
        if patch["op"] == "delete":
            if current and _contains(patch.get("value") or [], current):
                return False
        elif not _contains(patch.get("value"), current):
            return False
    return True


class ListingsWorker:
    def __init__(self, engine: Engine, clients: Any, *, owner: str, config: WorkerConfig | None = None) -> None:
        self.engine = engine
        self.clients = clients
        self.owner = owner
        self.config = config or WorkerConfig()
        self.stats = WorkerStats()
        self._session = session_factory(engine)
        self._held: set[int] = set()

    async def run(self, *, run_id: str | None = None, seller_id: str | None = None, drain: bool = True) -> WorkerStats:
        """Process jobs until none is left (`drain`) or none is due now."""
        renewer = asyncio.create_task(self._renew_leases())
        running: set[asyncio.Task] = set()
        try:
            while True:
                queue.reclaim(self.engine)
                room = self.config.concurrency * 2 - len(running)
                jobs = queue.claim(self.engine, owner=self.owner, channel=Channel.LISTINGS,
                                   limit=min(self.config.batch, max(room, 0)), lease_seconds=self.config.lease_seconds,
                                   seller_id=seller_id, run_id=run_id) if room > 0 else []
                for job in jobs:
                    self._held.add(job.id)
                    task = asyncio.create_task(self._guarded(job))
                    running.add(task)
                    task.add_done_callback(running.discard)
                if jobs:
                    await asyncio.sleep(0)
                    continue
                if running:
                    await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
                    continue
                wait = self._seconds_until_next(run_id)
                if wait is None or not drain:
                    return self.stats
                # Due but not claimable means an older change of the SKU is still in flight (e.g. in a feed).
                await asyncio.sleep(min(wait if wait > 0 else 0.5, 5.0))
        finally:
            renewer.cancel()
            if running:
                await asyncio.gather(*running, return_exceptions=True)

    def _seconds_until_next(self, run_id: str | None) -> float | None:
        with self._session() as session:
            due = queue.next_due(session, channel=Channel.LISTINGS, run_id=run_id)
            if due is None:
                in_flight = queue.backlog(session, run_id=run_id, channel=Channel.LISTINGS)
                return 0.5 if in_flight else None  # another process holds jobs: wait for them or their leases
        return (as_utc(due) - utcnow()).total_seconds()

    async def _renew_leases(self) -> None:
        while True:
            await asyncio.sleep(self.config.lease_seconds / 3)
            queue.renew(self.engine, sorted(self._held), owner=self.owner, lease_seconds=self.config.lease_seconds)

    async def _guarded(self, job: ClaimedJob) -> None:
        semaphore = self._semaphore()
        async with semaphore:
            try:
                await self.process(job)
            except Exception as exc:  # noqa: BLE001 - one job's bug must not stop the pool; the job is retried
                log.exception("job %s failed unexpectedly", job.id)
                self._retry(job, f"{type(exc).__name__}: {exc}")
            finally:
                self._held.discard(job.id)

    def _semaphore(self) -> asyncio.Semaphore:
        if not hasattr(self, "_sem"):
            self._sem = asyncio.Semaphore(self.config.concurrency)
        return self._sem

    # --- one job -------------------------------------------------------------------------------------------------

    async def process(self, job: ClaimedJob) -> None:
        client = self.clients.get(job.seller_id, region_of(job.marketplace_id))
        if await self._resolve_unfinished(client, job):
            return
        method, body = request_for(job)
        if self.config.preview and method != "delete_listings_item":
            response = await getattr(client, method)(job.sku, job.marketplace_id, body, mode=PREVIEW)
            if response.status == "INVALID":
                self._record(job, JobOutcome(job.id, False, [i.model_dump(by_alias=True) for i in response.issues]))
                return
        attempt_id = attempts.start(self.engine, job_id=job.id, idempotency_key=job.idempotency_key,
                                    channel=Channel.LISTINGS.value, retry_count=job.retry_count)
        loop = asyncio.get_running_loop()
        started = loop.time()
        try:
            if body is None:
                response = await getattr(client, method)(job.sku, job.marketplace_id)
            else:
                response = await getattr(client, method)(job.sku, job.marketplace_id, body)
        except AmbiguousSubmissionError as exc:
            attempts.finish(self.engine, attempt_id, status="ambiguous", request_id=exc.request_id, error=str(exc))
            await self._reconcile(client, job, str(exc))
            return
        except NotFoundError as exc:
            attempts.finish(self.engine, attempt_id, status="not_found", request_id=exc.request_id, error=str(exc))
            if job.operation == "delete":  # already gone: the desired state holds
                self._record(job, JobOutcome(job.id, True))
            else:
                self._dead_letter(job, "not_found", str(exc))
            return
        except SPAPIError as exc:
            attempts.finish(self.engine, attempt_id, status="error", request_id=exc.request_id, error=str(exc))
            self._fail(job, exc)
            return
        self.stats.latencies_ms.append((loop.time() - started) * 1000)
        crash_point("mid_patch_batch")
        issues = [i.model_dump(by_alias=True, exclude_none=True) for i in response.issues]
        attempts.finish(self.engine, attempt_id, status=response.status.lower(), submission_id=response.submission_id,
                        request_id=response.request_id)
        self._record(job, JobOutcome(job.id, response.status == "ACCEPTED", issues))

    async def _read_back(self, client: Any, job: ClaimedJob) -> dict[str, Any] | None:
        try:
            item = await client.get_listings_item(job.sku, job.marketplace_id, included_data=["attributes"])
        except NotFoundError:
            return None
        return item.attributes or {}

    async def _reconcile(self, client: Any, job: ClaimedJob, error: str) -> None:
        """After an ambiguous failure: accept the job if its change is visible at Amazon, else retry it."""
        self.stats.reconciled += 1
        try:
            attributes = await self._read_back(client, job)
        except SPAPIError as exc:
            self._retry(job, f"{error}; read-back failed: {exc}")
            return
        if landed(job, attributes):
            self._record(job, JobOutcome(job.id, True))
        else:
            self._retry(job, error)

    async def _resolve_unfinished(self, client: Any, job: ClaimedJob) -> bool:
        """A previous attempt was started and never recorded (its process died). Returns True when resolved as
        landed (nothing to send)."""
        open_attempts = attempts.unfinished(self.engine, job.id)
        if not open_attempts:
            return False
        attributes = await self._read_back(client, job)
        done = landed(job, attributes)
        with self.engine.begin() as conn:
            conn.execute(
                update(PublishAttempt)
                .where(PublishAttempt.attempt_id.in_([a.attempt_id for a in open_attempts]))
                .values(status="resolved_landed" if done else "resolved_not_landed", finished_at=utcnow())
            )
        self.stats.reconciled += 1
        if done:
            self._record(job, JobOutcome(job.id, True))
        return done

    # --- outcomes ------------------------------------------------------------------------------------------------

    def _record(self, job: ClaimedJob, outcome: JobOutcome) -> None:
        with self._session.begin() as session:
            applied = outcomes.apply(session, [outcome], owner=self.owner, issue_source="listings")
        self.stats.accepted += applied.accepted
        self.stats.invalid += applied.invalid

    def _fail(self, job: ClaimedJob, exc: SPAPIError) -> None:
        self.stats.errors[exc.code] += 1
        if exc.retryable:
            self._retry(job, str(exc))
        elif isinstance(exc, UnauthorizedError | LWAError):
            self._dead_letter(job, "unauthorized", str(exc))
        elif isinstance(exc, InvalidInputError):
            self._dead_letter(job, "client_error", str(exc))
        else:
            self._dead_letter(job, "client_error", str(exc))

    def _retry(self, job: ClaimedJob, error: str) -> None:
        with self._session.begin() as session:
            outcome, _ = queue.retry_later(session, job.id, owner=self.owner, error=error, policy=self.config.retry)
        if outcome == "dead_lettered":
            self.stats.dead_lettered += 1
        elif outcome == "retry":
            self.stats.retried += 1

    def _dead_letter(self, job: ClaimedJob, cause: str, reason: str) -> None:
        with self._session.begin() as session:
            row = queue.held(session, job.id, self.owner)
            if row is not None:
                queue.dead_letter(session, row, cause=cause, reason=reason)
                self.stats.dead_lettered += 1
