"""The durable publish queue: one `publish_jobs` row per change, claimed under leases.

Ordering rules (the reason this module exists):
- Every change gets the SKU's next sequence number (`listings.change_seq`).
- A job is claimable only while it is the *oldest* non-terminal job of its SKU. A SKU whose older change is in flight
  (on either channel, including inside an unfinished feed) is locked: newer changes wait, so an older version can never
  land after a newer one.
- A newer change supersedes older *pending* changes of the same SKU that are not yet part of a feed: ingestion computes
  each change against what Amazon accepted, so the newer one carries everything still missing.
- The idempotency key is unique among pending/in-flight jobs only (partial unique index): enqueuing the same change
  again while it is queued is a no-op, while A → B → A publishes three times.

Claiming uses `FOR UPDATE SKIP LOCKED` on PostgreSQL, so several processes share one queue without blocking each
other; on SQLite the single `UPDATE … WHERE state='pending' … RETURNING` statement runs under SQLite's one writer lock.
Leases carry `host:pid:uuid`; a lease whose process is gone from this host is taken back at once, others expire.
"""

from __future__ import annotations

import enum
import hashlib
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, bindparam, exists, func, insert, or_, select, tuple_, update
from sqlalchemy.orm import Session, aliased

from amz_pipeline.hashing import canonical_json, idempotency_key
from amz_pipeline.publishing.leases import is_dead_local, utcnow
from amz_pipeline.storage.models import (
    NON_TERMINAL_JOB_STATES,
    Channel,
    DeadLetter,
    JobState,
    Listing,
    ListingStatus,
    PublishJob,
)
from amz_pipeline.storage.repositories import ensure_seller

ACTIVE = [s.value for s in NON_TERMINAL_JOB_STATES]
_CHUNK = 500


class Operation(enum.StrEnum):
    """What a change does. UPDATE replaces every attribute (put / feed UPDATE); PARTIAL_UPDATE replaces the given
    attributes; PATCH sends patch operations (the price/quantity fast path); DELETE removes the SKU."""

    UPDATE = "update"
    PARTIAL_UPDATE = "partial_update"
    PATCH = "patch"
    DELETE = "delete"


@dataclass(frozen=True)
class Change:
    """One validated change for one SKU in one marketplace.

    `body` is what goes to Amazon: `{"productType", "requirements"?, "attributes"}` for UPDATE and PARTIAL_UPDATE,
    `{"productType", "patches"}` for PATCH, None for DELETE. `listing_hash`/`offer_hash` are ingestion's hashes that
    become the listing's accepted hashes once Amazon accepts the change; `attributes` is the full desired attribute
    set (stored on the listing so the next delta can tell an offer-only change from a product change).
    """

    seller_id: str
    marketplace_id: str
    sku: str
    operation: Operation
    body: dict[str, Any] | None
    listing_hash: str | None = None
    offer_hash: str | None = None
    attributes: dict[str, Any] | None = None

    @property
    def product_type(self) -> str | None:
        return (self.body or {}).get("productType")

    def key(self) -> str:
        return idempotency_key(
            self.seller_id, self.marketplace_id, self.sku, {"operation": self.operation.value, "body": self.body}
        )

    def identity(self) -> tuple[str, str, bytes | None]:
        """(`key()`, payload hash, canonical JSON of `body["attributes"]`) from one encoding of the payload.

        Canonical JSON sorts keys, so the key's list `[seller, marketplace, sku, payload]`, the payload
        `{"body", "operation"}` and the body (whose first key is `attributes`) are composed around the attributes'
        bytes - equal to `hashing.idempotency_key` / `payload_hash` (tested) - and the feed builder reuses them."""
        body, attributes = self.body, None
        if isinstance(body, dict) and "attributes" in body:
            rest = {k: v for k, v in body.items() if k != "attributes"}
            attributes = canonical_json(body["attributes"])
            body_json = b'{"attributes":' + attributes + (b"," + canonical_json(rest)[1:] if rest else b"}")
        else:
            body_json = canonical_json(body)
        payload = b'{"body":' + body_json + b',"operation":' + canonical_json(self.operation.value) + b"}"
        head = canonical_json([self.seller_id, self.marketplace_id, self.sku])[:-1]
        key = hashlib.sha256(head + b"," + payload + b"]").hexdigest()
        return key, hashlib.sha256(payload).hexdigest(), attributes


@dataclass
class EnqueueResult:
    job_ids: list[int] = field(default_factory=list)
    # job id → (payload, canonical JSON of its attributes) of the jobs queued by this call, so planning feeds right
    # after enqueue neither reads back (and decodes) what it just wrote nor encodes the attributes again
    payloads: dict[int, tuple[Any, bytes | None]] = field(default_factory=dict, repr=False)
    duplicates: int = 0
    superseded: int = 0


@dataclass(frozen=True)
class ClaimedJob:
    id: int
    seller_id: str
    marketplace_id: str
    sku: str
    operation: str
    channel: str
    product_type: str | None
    payload: dict[str, Any] | None
    payload_hash: str
    idempotency_key: str
    seq: int
    retry_count: int
    listing_hash: str | None
    offer_hash: str | None


@dataclass(frozen=True)
class RetryPolicy:
    """Job-level retries (the client already retried transient errors inside each call)."""

    max_retries: int = 5
    base_seconds: float = 2.0
    cap_seconds: float = 300.0

    def delay(self, job_id: int, retry_count: int) -> float:
        """Exponential backoff with full jitter, seeded by job and retry so a run is reproducible."""
        ceiling = min(self.cap_seconds, self.base_seconds * (2**retry_count))
        return random.Random(f"{job_id}:{retry_count}").uniform(ceiling / 2, ceiling)


def _chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# --- enqueue -------------------------------------------------------------------------------------------------------


def enqueue(session: Session, changes: Sequence[Change], *, channel: Channel, run_id: str | None = None) -> EnqueueResult:
    """Queue `changes` on `channel` inside the caller's transaction. Bulk statements throughout (50k changes)."""
    result = EnqueueResult()
    if not changes:
        return result
    keyed = _dedupe_batch(changes)
    active = _active_keys(session, [key for key, _, _, _ in keyed])
    fresh = [entry for entry in keyed if entry[0] not in active]
    result.duplicates = len(changes) - len(fresh)
    if not fresh:
        return result
    fresh_changes = [c for _, _, c, _ in fresh]
    for seller_id in {c.seller_id for c in fresh_changes}:
        ensure_seller(session, seller_id)
    seqs = _next_seqs(session, fresh_changes)
    result.superseded = _supersede_pending(session, fresh_changes)
    now = utcnow()
    rows = [
        {
            "run_id": run_id,
            "seller_id": c.seller_id,
            "marketplace_id": c.marketplace_id,
            "sku": c.sku,
            "operation": c.operation.value,
            "channel": channel.value,
            "product_type": c.product_type,
            "payload": c.body,
            "payload_hash": body_hash,
            "idempotency_key": key,
            "seq": seqs[(c.seller_id, c.marketplace_id, c.sku)],
            "state": JobState.PENDING.value,
            "retry_count": 0,
            "next_attempt_at": now,
            "listing_hash": c.listing_hash,
            "offer_hash": c.offer_hash,
            "created_at": now,
            "updated_at": now,
        }
        for key, body_hash, c, _ in fresh
    ]
    table = PublishJob.__table__
    for part in _chunks(rows, 5000):
        ids = session.connection().execute(
            insert(table).returning(table.c.id, sort_by_parameter_order=True), list(part)
        ).scalars()
        result.job_ids.extend(ids)
    result.payloads = {job_id: (c.body, attributes)
                       for job_id, (_, _, c, attributes) in zip(result.job_ids, fresh, strict=True)}
    return result


def _dedupe_batch(changes: Sequence[Change]) -> list[tuple[str, str, Change, bytes | None]]:
    """Within one batch, the last change per SKU wins (a file naming a SKU twice means its later row)."""
    latest: dict[tuple[str, str, str], Change] = {}
    for change in changes:
        latest[(change.seller_id, change.marketplace_id, change.sku)] = change
    return [(key, body_hash, c, attributes) for c in latest.values() for key, body_hash, attributes in [c.identity()]]


def _active_keys(session: Session, keys: list[str]) -> set[str]:
    found: set[str] = set()
    for part in _chunks(keys):
        found.update(
            session.scalars(
                select(PublishJob.idempotency_key).where(
                    PublishJob.idempotency_key.in_(part), PublishJob.state.in_(ACTIVE)
                )
            )
        )
    return found


def _next_seqs(session: Session, changes: list[Change]) -> dict[tuple[str, str, str], int]:
    """Bump `listings.change_seq` for each SKU (creating listing rows as needed) and return the new values."""
    by_seller: dict[str, list[Change]] = {}
    for change in changes:
        by_seller.setdefault(change.seller_id, []).append(change)
    now = utcnow()
    seqs: dict[tuple[str, str, str], int] = {}
    for seller_id, items in by_seller.items():
        keys = [(c.marketplace_id, c.sku) for c in items]
        existing: dict[tuple[str, str], tuple[int, int]] = {}
        for part in _chunks(keys):
            rows = session.execute(
                select(Listing.marketplace_id, Listing.sku, Listing.id, Listing.change_seq).where(
                    Listing.seller_id == seller_id, tuple_(Listing.marketplace_id, Listing.sku).in_(part)
                )
            )
            for mp, sku, listing_id, seq in rows:
                existing[(mp, sku)] = (listing_id, seq)
        new_rows = [
            {
                "seller_id": seller_id,
                "marketplace_id": c.marketplace_id,
                "sku": c.sku,
                "product_type": c.product_type,
                "desired_attributes": c.attributes if c.attributes is not None else (c.body or {}).get("attributes"),
                "desired_payload_hash": c.listing_hash,
                "offer_payload_hash": c.offer_hash,
                "change_seq": 1,
                "status": ListingStatus.QUEUED.value,
                "created_at": now,
                "updated_at": now,
            }
            for c in items
            if (c.marketplace_id, c.sku) not in existing
        ]
        for part in _chunks(new_rows, 5000):
            session.connection().execute(insert(Listing.__table__), list(part))
        updates = [
            {
                "b_id": existing[(c.marketplace_id, c.sku)][0],
                "b_seq": existing[(c.marketplace_id, c.sku)][1] + 1,
                "b_pt": c.product_type,
                "b_hash": c.listing_hash,
                "b_offer": c.offer_hash,
                "b_attributes": c.attributes if c.attributes is not None else (c.body or {}).get("attributes"),
            }
            for c in items
            if (c.marketplace_id, c.sku) in existing
        ]
        if updates:
            session.connection().execute(
                update(Listing.__table__)
                .where(Listing.__table__.c.id == bindparam("b_id"))
                .values(
                    change_seq=bindparam("b_seq"),
                    product_type=func.coalesce(bindparam("b_pt"), Listing.__table__.c.product_type),
                    desired_payload_hash=bindparam("b_hash"),
                    offer_payload_hash=bindparam("b_offer"),
                    desired_attributes=bindparam("b_attributes", type_=Listing.__table__.c.desired_attributes.type),
                    status=ListingStatus.QUEUED.value,
                    updated_at=now,
                ),
                updates,
            )
        for c in items:
            found = existing.get((c.marketplace_id, c.sku))
            seqs[(seller_id, c.marketplace_id, c.sku)] = found[1] + 1 if found else 1
    return seqs


def _supersede_pending(session: Session, changes: list[Change]) -> int:
    """Older pending jobs of these SKUs that are not inside a feed are superseded by the new changes."""
    count = 0
    by_seller: dict[str, list[tuple[str, str]]] = {}
    for change in changes:
        by_seller.setdefault(change.seller_id, []).append((change.marketplace_id, change.sku))
    for seller_id, keys in by_seller.items():
        for part in _chunks(keys):
            outcome = session.execute(
                update(PublishJob)
                .where(
                    PublishJob.seller_id == seller_id,
                    tuple_(PublishJob.marketplace_id, PublishJob.sku).in_(part),
                    PublishJob.state == JobState.PENDING.value,
                    PublishJob.feed_submission_id.is_(None),
                )
                .values(state=JobState.SUPERSEDED.value, updated_at=utcnow(), last_error="superseded by a newer change")
                .execution_options(synchronize_session=False)
            )
            count += outcome.rowcount or 0
    return count


# --- claim ---------------------------------------------------------------------------------------------------------


def claimable_condition(job: Any = PublishJob) -> Any:
    """SQL condition: `job` is the oldest non-terminal job of its SKU (no older change still pending or in flight)."""
    older = aliased(PublishJob)
    return ~exists().where(
        older.seller_id == job.seller_id,
        older.marketplace_id == job.marketplace_id,
        older.sku == job.sku,
        older.state.in_(ACTIVE),
        older.seq < job.seq,
    )


def claim(
    engine: Engine,
    *,
    owner: str,
    channel: Channel = Channel.LISTINGS,
    limit: int = 50,
    lease_seconds: float = 60.0,
    seller_id: str | None = None,
    run_id: str | None = None,
) -> list[ClaimedJob]:
    """Lease up to `limit` due jobs of `channel` to `owner` and return them."""
    now = utcnow()
    job = aliased(PublishJob, name="candidate")
    candidates = select(job.id).where(
        job.state == JobState.PENDING.value,
        job.channel == channel.value,
        job.next_attempt_at <= now,
        job.feed_submission_id.is_(None),
        claimable_condition(job),
    )
    if seller_id is not None:
        candidates = candidates.where(job.seller_id == seller_id)
    if run_id is not None:
        candidates = candidates.where(job.run_id == run_id)
    candidates = candidates.order_by(job.next_attempt_at, job.id).limit(limit)
    if engine.dialect.name == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True)
    # A materialized CTE is evaluated once; as a plain IN-subquery PostgreSQL may re-run the locking scan per row
    # and walk past the LIMIT (rows this statement already updated no longer match and the next ones are taken).
    chosen = candidates.cte("chosen").prefix_with("MATERIALIZED")
    statement = (
        update(PublishJob)
        .where(PublishJob.id.in_(select(chosen.c.id)), PublishJob.state == JobState.PENDING.value)
        .values(
            state=JobState.IN_FLIGHT.value,
            lease_owner=owner,
            lease_expires_at=now + timedelta(seconds=lease_seconds),
            updated_at=now,
        )
        .returning(*_CLAIM_COLUMNS)
    )
    with engine.begin() as conn:
        rows = conn.execute(statement).all()
    return sorted((ClaimedJob(*row) for row in rows), key=lambda job: job.id)


_CLAIM_COLUMNS = (
    PublishJob.id,
    PublishJob.seller_id,
    PublishJob.marketplace_id,
    PublishJob.sku,
    PublishJob.operation,
    PublishJob.channel,
    PublishJob.product_type,
    PublishJob.payload,
    PublishJob.payload_hash,
    PublishJob.idempotency_key,
    PublishJob.seq,
    PublishJob.retry_count,
    PublishJob.listing_hash,
    PublishJob.offer_hash,
)


def renew(engine: Engine, job_ids: Sequence[int], *, owner: str, lease_seconds: float) -> int:
    """Extend the leases `owner` still holds; returns how many it still holds."""
    if not job_ids:
        return 0
    with engine.begin() as conn:
        outcome = conn.execute(
            update(PublishJob)
            .where(
                PublishJob.id.in_(list(job_ids)),
                PublishJob.lease_owner == owner,
                PublishJob.state == JobState.IN_FLIGHT.value,
            )
            .values(lease_expires_at=utcnow() + timedelta(seconds=lease_seconds))
        )
    return outcome.rowcount or 0


def reclaim(engine: Engine) -> int:
    """Put back jobs whose lease expired or whose owner process is gone from this host. Feed-bound jobs follow their
    feed submission instead (a feed in flight at Amazon is not abandoned because a process died)."""
    now = utcnow()
    with engine.begin() as conn:
        owners = conn.scalars(
            select(PublishJob.lease_owner)
            .where(PublishJob.state == JobState.IN_FLIGHT.value, PublishJob.feed_submission_id.is_(None))
            .distinct()
        ).all()
        dead = [o for o in owners if is_dead_local(o)]
        outcome = conn.execute(
            update(PublishJob)
            .where(
                PublishJob.state == JobState.IN_FLIGHT.value,
                PublishJob.feed_submission_id.is_(None),
                or_(PublishJob.lease_expires_at < now, PublishJob.lease_owner.in_(dead) if dead else False),
            )
            .values(
                state=JobState.PENDING.value,
                lease_owner=None,
                lease_expires_at=None,
                next_attempt_at=now,
                retry_count=PublishJob.retry_count + 1,
                last_error="lease lost (worker died or stalled); the unfinished attempt is resolved before resending",
                updated_at=now,
            )
        )
    return outcome.rowcount or 0


# --- outcomes ------------------------------------------------------------------------------------------------------


def held(session: Session, job_id: int, owner: str | None) -> PublishJob | None:
    """The job, if `owner` still holds its lease (fencing: a worker whose lease was taken over must not write)."""
    job = session.get(PublishJob, job_id, with_for_update=session.bind.dialect.name == "postgresql")
    if job is None or job.state != JobState.IN_FLIGHT.value:
        return None
    if owner is not None and job.lease_owner != owner:
        return None
    return job


def finish(
    session: Session,
    job_id: int,
    *,
    owner: str | None,
    state: JobState,
    error: str | None = None,
) -> PublishJob | None:
    """Move a held job to a terminal state. Returns the job, or None when the lease was lost."""
    job = held(session, job_id, owner)
    if job is None:
        return None
    job.state = state.value
    job.lease_owner = None
    job.lease_expires_at = None
    job.last_error = error
    return job


def retry_later(
    session: Session,
    job_id: int,
    *,
    owner: str | None,
    error: str,
    policy: RetryPolicy,
    exhausted_cause: str = "retries_exhausted",
) -> tuple[str, PublishJob | None]:
    """A retryable failure: back to pending with backoff, superseded if a newer change is waiting, or dead-lettered
    (`exhausted_cause`) once the retries are used up. Returns the outcome name and the job."""
    job = held(session, job_id, owner)
    if job is None:
        return "lost", None
    if _has_newer(session, job):
        finish(session, job_id, owner=owner, state=JobState.SUPERSEDED, error=f"superseded after: {error}")
        return "superseded", job
    if job.retry_count + 1 > policy.max_retries:
        dead_letter(session, job, cause=exhausted_cause, reason=error)
        return "dead_lettered", job
    job.state = JobState.PENDING.value
    job.next_attempt_at = utcnow() + timedelta(seconds=policy.delay(job.id, job.retry_count))
    job.retry_count += 1
    job.lease_owner = None
    job.lease_expires_at = None
    job.feed_submission_id = None
    job.feed_message_id = None
    job.last_error = error
    return "retry", job


def _has_newer(session: Session, job: PublishJob) -> bool:
    return (
        session.scalar(
            select(func.count())
            .select_from(PublishJob)
            .where(
                PublishJob.seller_id == job.seller_id,
                PublishJob.marketplace_id == job.marketplace_id,
                PublishJob.sku == job.sku,
                PublishJob.state.in_(ACTIVE),
                PublishJob.seq > job.seq,
            )
        )
        > 0
    )


def dead_letter(session: Session, job: PublishJob, *, cause: str, reason: str, state: JobState | None = None) -> None:
    """Record `job` in the dead-letter queue and end it (`dead_lettered`, or `state` e.g. INVALID)."""
    session.add(
        DeadLetter(
            job_id=job.id,
            seller_id=job.seller_id,
            marketplace_id=job.marketplace_id,
            sku=job.sku,
            cause=cause,
            reason=reason,
            payload={"operation": job.operation, "channel": job.channel, "body": job.payload},
            attempts=job.retry_count + 1,
        )
    )
    job.state = (state or JobState.DEAD_LETTERED).value
    job.lease_owner = None
    job.lease_expires_at = None
    job.last_error = reason
    listing_row = _listing_for(session, job)
    if listing_row is not None and listing_row.change_seq == job.seq:
        listing_row.status = (
            ListingStatus.INVALID.value if state == JobState.INVALID else ListingStatus.ERROR.value
        )


def _listing_for(session: Session, job: PublishJob) -> Listing | None:
    return session.scalar(
        select(Listing).where(
            Listing.seller_id == job.seller_id, Listing.marketplace_id == job.marketplace_id, Listing.sku == job.sku
        )
    )


# --- observation ---------------------------------------------------------------------------------------------------


def counts(session: Session, *, run_id: str | None = None, seller_id: str | None = None) -> dict[str, int]:
    """Jobs per state (for metrics and `status`)."""
    query = select(PublishJob.state, func.count()).group_by(PublishJob.state)
    if run_id is not None:
        query = query.where(PublishJob.run_id == run_id)
    if seller_id is not None:
        query = query.where(PublishJob.seller_id == seller_id)
    return {state: n for state, n in session.execute(query)}


def backlog(session: Session, *, run_id: str | None = None, channel: Channel | None = None) -> int:
    query = select(func.count()).select_from(PublishJob).where(PublishJob.state.in_(ACTIVE))
    if run_id is not None:
        query = query.where(PublishJob.run_id == run_id)
    if channel is not None:
        query = query.where(PublishJob.channel == channel.value)
    return int(session.scalar(query) or 0)


def next_due(session: Session, *, channel: Channel, run_id: str | None = None) -> datetime | None:
    """When the next pending job of `channel` becomes due (None when there is none)."""
    query = select(func.min(PublishJob.next_attempt_at)).where(
        PublishJob.state == JobState.PENDING.value,
        PublishJob.channel == channel.value,
        PublishJob.feed_submission_id.is_(None),
    )
    if run_id is not None:
        query = query.where(PublishJob.run_id == run_id)
    return session.scalar(query)

