"""Chunk pending feed-channel jobs into planned feed submissions (done right after enqueue, so chunking is decided
when jobs are queued and a resumed run submits exactly the documents the first run planned).

A job joins a feed only while it is the oldest unfinished change of its SKU, so a feed never carries two versions of a
SKU and never overtakes an older change still in flight elsewhere. Once planned, its jobs are in flight under the
owner `feed:<submission id>` until the report is applied.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from amz_pipeline.publishing import queue
from amz_pipeline.publishing.feeds import build
from amz_pipeline.publishing.feeds.build import FeedBuildError, FeedJob, FeedLimits
from amz_pipeline.publishing.leases import utcnow
from amz_pipeline.publishing.markets import region_of
from amz_pipeline.storage.models import Channel, FeedSubmission, JobState, PublishJob

_MESSAGE_PATH = re.compile(r"^messages/(\d+)")
_READ_CHUNK = 500


def feed_owner(submission_id: int) -> str:
    return f"feed:{submission_id}"


def plan(session: Session, *, limits: FeedLimits, run_id: str | None = None, seller_id: str | None = None,
         payloads: Mapping[int, tuple[Any, bytes | None]] | None = None) -> list[int]:
    """Create `planned` submissions for every due, unblocked feed job; returns their ids. `payloads` (job id →
    (payload, its attributes' canonical JSON), from `EnqueueResult.payloads`) spares reading back and decoding the
    payloads just queued and encoding their attributes again."""
    now = utcnow()
    payloads = payloads or {}
    query = (
        select(PublishJob.id, PublishJob.seller_id, PublishJob.marketplace_id, PublishJob.sku, PublishJob.operation,
               PublishJob.retry_count)
        .where(
            PublishJob.state == JobState.PENDING.value,
            PublishJob.channel == Channel.FEED.value,
            PublishJob.feed_submission_id.is_(None),
            PublishJob.next_attempt_at <= now,
            queue.claimable_condition(),
        )
        .order_by(PublishJob.seller_id, PublishJob.marketplace_id, PublishJob.id)
    )
    if run_id is not None:
        query = query.where(PublishJob.run_id == run_id)
    if seller_id is not None:
        query = query.where(PublishJob.seller_id == seller_id)
    if session.bind.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    rows = session.execute(query).all()
    unknown = [row[0] for row in rows if row[0] not in payloads]
    stored: dict[int, Any] = {}
    for part in range(0, len(unknown), _READ_CHUNK):
        ids = unknown[part : part + _READ_CHUNK]
        rows_read = session.execute(select(PublishJob.id, PublishJob.payload).where(PublishJob.id.in_(ids)))
        stored.update((job_id, (payload, None)) for job_id, payload in rows_read)
    groups: dict[tuple[str, str], list[FeedJob]] = defaultdict(list)
    for job_id, seller, marketplace_id, sku, operation, retry_count in rows:
        payload, attributes_json = payloads[job_id] if job_id in payloads else stored[job_id]
        groups[(seller, marketplace_id)].append(FeedJob(job_id, sku, operation, payload, retry_count, attributes_json))
    created = []
    for (seller, marketplace_id), feed_jobs in groups.items():
        chunks, too_large = build.chunk(feed_jobs, seller, limits)
        for feed_job, reason in too_large:
            _reject(session, feed_job, reason)
        for chunk in chunks:
            submission_id = _plan_chunk(session, seller, marketplace_id, list(chunk.jobs), limits, run_id,
                                        list(chunk.encoded) or None)
            if submission_id is not None:
                created.append(submission_id)
    return created


def _plan_chunk(
    session: Session,
    seller_id: str,
    marketplace_id: str,
    jobs: list[FeedJob],
    limits: FeedLimits,
    run_id: str | None,
    encoded: list[build.EncodedMessage] | None = None,
) -> int | None:
    while jobs:
        try:
            data = build.render(build.document(seller_id, jobs), limits, encoded)
            break
        except FeedBuildError as exc:
            bad = _bad_messages(seller_id, jobs)
            if not bad:
                raise
            for index in sorted(bad, reverse=True):
                _reject(session, jobs.pop(index), f"not a valid JSON_LISTINGS_FEED message: {exc}")
                if encoded is not None:
                    encoded.pop(index)
    else:
        return None
    submission = FeedSubmission(
        run_id=run_id,
        seller_id=seller_id,
        region=region_of(marketplace_id),
        marketplace_ids=[marketplace_id],
        content_hash=build.submission_hash(data, jobs),
        status="planned",
        message_count=len(jobs),
        message_map=build.message_map(jobs),
    )
    session.add(submission)
    session.flush()
    session.connection().execute(
        update(PublishJob.__table__)
        .where(PublishJob.__table__.c.id == bindparam("b_id"))
        .values(
            feed_submission_id=submission.id,
            feed_message_id=bindparam("b_message"),
            state=JobState.IN_FLIGHT.value,
            lease_owner=feed_owner(submission.id),
            lease_expires_at=None,
            updated_at=utcnow(),
        ),
        [{"b_id": job.job_id, "b_message": index} for index, job in enumerate(jobs, start=1)],
    )
    return submission.id


def _reject(session: Session, job: FeedJob, reason: str) -> None:
    row = session.get(PublishJob, job.job_id)
    assert row is not None
    queue.dead_letter(session, row, cause="client_error", reason=reason)


def _bad_messages(seller_id: str, jobs: Sequence[FeedJob]) -> set[int]:
    doc = build.document(seller_id, jobs)
    bad = set()
    for error in build.validator().iter_errors(doc):
        match = _MESSAGE_PATH.match("/".join(map(str, error.instance_path)))
        if match:
            bad.add(int(match.group(1)))
    return bad


def jobs_of(session: Session, submission_id: int) -> list[FeedJob]:
    """The submission's jobs in message order (to rebuild its document byte for byte)."""
    rows = session.execute(
        select(PublishJob.id, PublishJob.sku, PublishJob.operation, PublishJob.payload, PublishJob.retry_count)
        .where(PublishJob.feed_submission_id == submission_id)
        .order_by(PublishJob.feed_message_id)
    )
    return [FeedJob(*row) for row in rows]
