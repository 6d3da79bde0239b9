"""Apply Amazon's answers to jobs and listings in bulk: the per-SKU worker and the feed report ingestion share this.

One outcome per job: `accepted` (the listing's accepted hashes become the job's hashes; status accepted, or deleted for
a DELETE), or `invalid` (status invalid, issues stored, a dead letter with cause `invalid` so a person can fix and
re-drive). Statements are set-based (IN lists and executemany), never a per-row ORM load, so a 25,000-message report
is applied in about a second.

A job is written only while its lease is still held by the writer (`owner`): a worker that lost its lease cannot
overwrite what the new holder did. A listing's status moves only for its latest change (`change_seq == job.seq`);
its accepted hashes always follow what Amazon accepted.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    and_,
    case,
    delete,
    func,
    insert,
    literal,
    null,
    select,
    update,
)
from sqlalchemy.orm import Session

from amz_pipeline.publishing.leases import utcnow
from amz_pipeline.storage.models import DeadLetter, JobState, Listing, ListingIssue, ListingStatus, PublishJob

_CHUNK = 5000


@dataclass
class JobOutcome:
    job_id: int
    accepted: bool
    issues: list[dict[str, Any]] = field(default_factory=list)
    asin: str | None = None


@dataclass
class AppliedCounts:
    accepted: int = 0
    invalid: int = 0
    lost: int = 0


def _chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


_STAGE = Table(
    "publish_outcome_stage",
    MetaData(),
    Column("job_id", Integer, primary_key=True),
    Column("accepted", Integer),
    Column("asin", String(20)),
    Column("reason", Text),
    Column("listing_id", Integer),
    Column("seq", BigInteger),
    Column("status", String(20)),
    Column("deleted", Integer),
    Column("listing_hash", String(64)),
    Column("offer_hash", String(64)),
)
# The same DDL on SQLite and PostgreSQL; a temporary table lives per connection, so it is created once per connection.
_STAGE_DDL = (
    "CREATE TEMPORARY TABLE IF NOT EXISTS publish_outcome_stage (job_id INTEGER PRIMARY KEY, accepted INTEGER, "
    "asin VARCHAR(20), reason TEXT, listing_id INTEGER, seq BIGINT, status VARCHAR(20), deleted INTEGER, "
    "listing_hash VARCHAR(64), offer_hash VARCHAR(64))"
)


def _load_stage(conn: Any, rows: list[tuple[int, int, str | None, str | None]]) -> None:
    """Bulk-load (job_id, accepted, asin, reason): COPY on PostgreSQL, one driver-level executemany on SQLite."""
    conn.exec_driver_sql(_STAGE_DDL)
    conn.execute(delete(_STAGE))
    if conn.dialect.name == "postgresql":
        cursor = conn.connection.driver_connection.cursor()
        with cursor.copy("COPY publish_outcome_stage (job_id, accepted, asin, reason) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    else:
        conn.exec_driver_sql(
            "INSERT INTO publish_outcome_stage (job_id, accepted, asin, reason) VALUES (?, ?, ?, ?)", rows)


def apply(session: Session, outcomes: Sequence[JobOutcome], *, owner: str, issue_source: str) -> AppliedCounts:
    """Record `outcomes` for jobs `owner` holds, inside the caller's transaction.

    The outcomes are bulk-loaded into a per-connection staging table; every write after that is one set-based
    statement (UPDATE … FROM the stage), never one statement per row.
    """
    counts = AppliedCounts()
    if not outcomes:
        return counts
    by_id = {o.job_id: o for o in outcomes}
    conn = session.connection()
    _load_stage(conn, [
        (o.job_id, int(o.accepted), o.asin,
         None if o.accepted else describe_issues(o.issues) or "Amazon answered INVALID without issues")
        for o in by_id.values()
    ])
    stage, jobs_t, c = _STAGE.c, PublishJob.__table__.c, Listing.__table__.c
    ok = stage.accepted == 1
    # Fill the stage from the jobs `owner` still holds (fencing) and their listings; drop the others.
    held = (
        select(jobs_t.id.label("job_id"), c.id.label("listing_id"), jobs_t.seq, jobs_t.operation,
               jobs_t.listing_hash, jobs_t.offer_hash)
        .join(Listing.__table__, and_(c.seller_id == jobs_t.seller_id, c.marketplace_id == jobs_t.marketplace_id,
                                      c.sku == jobs_t.sku))
        .where(jobs_t.state == JobState.IN_FLIGHT.value, jobs_t.lease_owner == owner)
        .subquery()
    )
    conn.execute(
        update(_STAGE)
        .where(stage.job_id == held.c.job_id)
        .values(
            listing_id=held.c.listing_id,
            seq=held.c.seq,
            deleted=case((held.c.operation == "delete", 1), else_=0),
            status=case(
                (~ok, ListingStatus.INVALID.value),
                (held.c.operation == "delete", ListingStatus.DELETED.value),
                else_=ListingStatus.ACCEPTED.value,
            ),
            listing_hash=held.c.listing_hash,
            offer_hash=held.c.offer_hash,
        )
    )
    conn.execute(delete(_STAGE).where(stage.listing_id.is_(None)))
    listing_of = dict(conn.execute(select(stage.job_id, stage.listing_id)).all())
    counts.lost = len(by_id) - len(listing_of)
    if not listing_of:
        return counts
    now = utcnow()
    deleted = stage.deleted == 1
    conn.execute(
        update(PublishJob.__table__)
        .where(jobs_t.id == stage.job_id)
        .values(
            state=case((ok, JobState.SUCCEEDED.value), else_=JobState.INVALID.value),
            lease_owner=None,
            lease_expires_at=None,
            last_error=case((ok, null()), else_="Amazon answered INVALID"),
            updated_at=now,
        )
    )
    conn.execute(
        update(Listing.__table__)
        .where(c.id == stage.listing_id)
        .values(
            # A listing's status moves only for its latest change; accepted hashes always follow Amazon.
            status=case((c.change_seq == stage.seq, stage.status), else_=c.status),
            # A change without a hash of its own (e.g. an offer-only PATCH) leaves the other hash as it was.
            accepted_payload_hash=case(
                (~ok, c.accepted_payload_hash), (deleted, null()),
                else_=func.coalesce(stage.listing_hash, c.accepted_payload_hash)),
            accepted_offer_hash=case(
                (~ok, c.accepted_offer_hash), (deleted, null()),
                else_=func.coalesce(stage.offer_hash, c.accepted_offer_hash)),
            last_attempted_hash=func.coalesce(stage.listing_hash, c.last_attempted_hash),
            asin=case((~ok, c.asin), (deleted, null()), else_=func.coalesce(stage.asin, c.asin)),
            accepted_at=case((ok, now), else_=c.accepted_at),
            updated_at=now,
        )
    )
    invalid_ids = [job_id for job_id in listing_of if not by_id[job_id].accepted]
    counts.invalid = len(invalid_ids)
    counts.accepted = len(listing_of) - counts.invalid
    if invalid_ids:
        _dead_letter_invalid(conn, now)
    conn.execute(
        delete(ListingIssue).where(ListingIssue.source == issue_source,
                                   ListingIssue.listing_id.in_(select(stage.listing_id)))
    )
    _insert_issues(conn, {listing_of[job_id]: by_id[job_id].issues for job_id in listing_of if by_id[job_id].issues},
                   issue_source, now)
    conn.execute(delete(_STAGE))
    return counts


def _dead_letter_invalid(conn: Any, now: Any) -> None:
    """Dead letters for the stage's INVALID jobs, copied inside the database (the job bodies are not decoded)."""
    jobs_t, stage = PublishJob.__table__.c, _STAGE.c
    build = func.jsonb_build_object if conn.dialect.name == "postgresql" else func.json_object
    body = jobs_t.payload if conn.dialect.name == "postgresql" else func.json(jobs_t.payload)
    rows = (
        select(
            jobs_t.id, jobs_t.seller_id, jobs_t.marketplace_id, jobs_t.sku, literal("invalid"), stage.reason,
            build("operation", jobs_t.operation, "channel", jobs_t.channel, "body", body),
            jobs_t.retry_count + 1, literal(now, DeadLetter.__table__.c.created_at.type), literal(0),
        )
        .join(_STAGE, stage.job_id == jobs_t.id)
        .where(stage.accepted == 0)
    )
    columns = ["job_id", "seller_id", "marketplace_id", "sku", "cause", "reason", "payload", "attempts", "created_at",
               "redrive_count"]
    conn.execute(insert(DeadLetter.__table__).from_select(columns, rows))


def replace_issues(session: Session, issues_by_listing: dict[int, list[dict[str, Any]]], *, source: str,
                   now: Any) -> None:
    """Each source reports a listing's full issue set: drop that source's old issues, insert the new ones."""
    ids = list(issues_by_listing)
    for part in _chunks(ids):
        session.execute(
            delete(ListingIssue)
            .where(ListingIssue.listing_id.in_(part), ListingIssue.source == source)
            .execution_options(synchronize_session=False)
        )
    _insert_issues(session.connection(), issues_by_listing, source, now)


def _insert_issues(conn: Any, issues_by_listing: dict[int, list[dict[str, Any]]], source: str, now: Any) -> None:
    rows = [
        {
            "listing_id": listing_id,
            "code": str(issue.get("code") or ""),
            "severity": str(issue.get("severity") or "ERROR"),
            "message": str(issue.get("message") or ""),
            "attribute_names": list(issue.get("attributeNames") or []),
            "categories": list(issue.get("categories") or []),
            "source": source,
            "created_at": now,
        }
        for listing_id, issues in issues_by_listing.items()
        for issue in issues
    ]
    if rows:
        conn.execute(insert(ListingIssue), rows)


def describe_issues(issues: Sequence[dict[str, Any]], limit: int = 3) -> str:
    errors = [i for i in issues if i.get("severity") == "ERROR"] or list(issues)
    text = "; ".join(f"{i.get('code')}: {i.get('message')}" for i in errors[:limit])
    if len(errors) > limit:
        text += f" (+{len(errors) - limit} more)"
    return text
