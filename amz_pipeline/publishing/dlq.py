"""The dead-letter queue: listing, showing and re-driving dead letters.

A re-drive queues the dead letter's change again as a new job (next sequence number of its SKU) on its original
channel, unless a newer change of that SKU was queued since (then the letter is closed as superseded: re-sending an
older version would undo the newer one). Only `retries_exhausted` is re-driven automatically (`auto_redrive`, capped
per letter); `invalid`, `unauthorized` and the rest need a person to fix the cause first (`amz-pipeline dlq redrive`).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, func, select

from amz_pipeline.publishing import queue
from amz_pipeline.publishing.leases import utcnow
from amz_pipeline.publishing.queue import Change, Operation
from amz_pipeline.storage.db import session_factory
from amz_pipeline.storage.models import Channel, DeadLetter, PublishJob, PublishRun

AUTO_REDRIVE_CAUSES = ("retries_exhausted",)


@dataclass
class RedriveResult:
    run_id: str | None
    queued: int
    superseded: int


def as_dict(letter: DeadLetter, *, with_payload: bool = False) -> dict[str, Any]:
    out = {
        "id": letter.id,
        "job_id": letter.job_id,
        "seller": letter.seller_id,
        "marketplace": letter.marketplace_id,
        "sku": letter.sku,
        "cause": letter.cause,
        "reason": letter.reason,
        "attempts": letter.attempts,
        "created_at": letter.created_at.isoformat() if letter.created_at else None,
        "redriven_at": letter.redriven_at.isoformat() if letter.redriven_at else None,
        "redrive_count": letter.redrive_count,
    }
    if with_payload:
        out["payload"] = letter.payload
    return out


def list_letters(engine: Engine, *, cause: str | None = None, seller_id: str | None = None,
                 include_redriven: bool = False) -> list[DeadLetter]:
    with session_factory(engine)() as session:
        query = select(DeadLetter).order_by(DeadLetter.id)
        if cause:
            query = query.where(DeadLetter.cause == cause)
        if seller_id:
            query = query.where(DeadLetter.seller_id == seller_id)
        if not include_redriven:
            query = query.where(DeadLetter.redriven_at.is_(None))
        return list(session.scalars(query))


def get_letter(engine: Engine, letter_id: int) -> DeadLetter | None:
    with session_factory(engine)() as session:
        return session.get(DeadLetter, letter_id)


def redrive(engine: Engine, *, cause: str | None = None, ids: Sequence[int] | None = None,
            max_redrives: int | None = None) -> RedriveResult:
    """Queue the selected, not yet re-driven letters again; one new run holds the new jobs."""
    run_id = str(uuid.uuid4())
    queued = superseded = 0
    with session_factory(engine).begin() as session:
        query = select(DeadLetter).where(DeadLetter.redriven_at.is_(None)).order_by(DeadLetter.id)
        if cause:
            query = query.where(DeadLetter.cause == cause)
        if ids:
            query = query.where(DeadLetter.id.in_(list(ids)))
        if max_redrives is not None:
            query = query.where(DeadLetter.redrive_count < max_redrives)
        letters = list(session.scalars(query))
        if not letters:
            return RedriveResult(None, 0, 0)
        session.add(PublishRun(run_id=run_id, seller_id=letters[0].seller_id, mode="redrive", status="queued",
                               options={"redrive": [letter.id for letter in letters]}))
        session.flush()
        by_channel: dict[str, list[Change]] = {}
        for letter in letters:
            letter.redriven_at = utcnow()
            letter.redrive_count += 1
            job = session.get(PublishJob, letter.job_id) if letter.job_id else None
            if job is not None and _newer_exists(session, job):
                superseded += 1
                continue
            payload = letter.payload or {}
            change = Change(letter.seller_id, letter.marketplace_id, letter.sku, Operation(payload["operation"]),
                            payload.get("body"), listing_hash=job.listing_hash if job else None,
                            offer_hash=job.offer_hash if job else None)
            by_channel.setdefault(payload.get("channel") or Channel.LISTINGS.value, []).append(change)
        for channel, changes in by_channel.items():
            result = queue.enqueue(session, changes, channel=Channel(channel), run_id=run_id)
            queued += len(result.job_ids)
    return RedriveResult(run_id, queued, superseded)


def auto_redrive(engine: Engine, *, max_redrives: int = 3) -> RedriveResult:
    """Re-drive `retries_exhausted` letters that were re-driven fewer than `max_redrives` times."""
    total = RedriveResult(None, 0, 0)
    for cause in AUTO_REDRIVE_CAUSES:
        result = redrive(engine, cause=cause, max_redrives=max_redrives)
        total = RedriveResult(result.run_id or total.run_id, total.queued + result.queued,
                              total.superseded + result.superseded)
    return total


def _newer_exists(session: Any, job: PublishJob) -> bool:
    return bool(session.scalar(
        select(func.count()).select_from(PublishJob).where(
            PublishJob.seller_id == job.seller_id, PublishJob.marketplace_id == job.marketplace_id,
            PublishJob.sku == job.sku, PublishJob.seq > job.seq)))
