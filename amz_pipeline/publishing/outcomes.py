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

from sqlalchemy import and_, bindparam, case, delete, func, insert, null, select, true, update
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


def apply(session: Session, outcomes: Sequence[JobOutcome], *, owner: str, issue_source: str) -> AppliedCounts:
    """Record `outcomes` for jobs `owner` holds, inside the caller's transaction."""
    counts = AppliedCounts()
    if not outcomes:
        return counts
    by_id = {o.job_id: o for o in outcomes}
    jobs: dict[int, Any] = {}
    for part in _chunks(list(by_id)):
        query = (
            select(
                PublishJob.id, PublishJob.seller_id, PublishJob.marketplace_id, PublishJob.sku, PublishJob.seq,
                PublishJob.operation, PublishJob.channel, PublishJob.retry_count, PublishJob.listing_hash,
                PublishJob.offer_hash, Listing.id.label("listing_id"),
            )
            .join(Listing, and_(Listing.seller_id == PublishJob.seller_id,
                                Listing.marketplace_id == PublishJob.marketplace_id, Listing.sku == PublishJob.sku))
            .where(PublishJob.id.in_(part), PublishJob.state == JobState.IN_FLIGHT.value,
                   PublishJob.lease_owner == owner)
        )
        if session.bind.dialect.name == "postgresql":
            query = query.with_for_update(of=PublishJob)
        for row in session.execute(query):
            jobs[row.id] = row
    counts.lost = len(by_id) - len(jobs)
    if not jobs:
        return counts
    now = utcnow()
    accepted = [j for j in jobs.values() if by_id[j.id].accepted]
    invalid = [j for j in jobs.values() if not by_id[j.id].accepted]
    counts.accepted, counts.invalid = len(accepted), len(invalid)

    _set_job_state(session, [j.id for j in accepted], JobState.SUCCEEDED, None, now)
    _set_job_state(session, [j.id for j in invalid], JobState.INVALID, "Amazon answered INVALID", now)

    listing_table = Listing.__table__
    c = listing_table.c
    if accepted:
        rows = [
            {
                "b_id": j.listing_id,
                "b_seq": j.seq,
                "b_status": ListingStatus.DELETED.value if j.operation == "delete" else ListingStatus.ACCEPTED.value,
                "b_deleted": j.operation == "delete",
                "b_hash": j.listing_hash,
                "b_offer": j.offer_hash,
                "b_asin": by_id[j.id].asin,
            }
            for j in accepted
        ]
        deleted = bindparam("b_deleted") == true()
        session.connection().execute(
            update(listing_table)
            .where(c.id == bindparam("b_id"))
            .values(
                status=case((c.change_seq == bindparam("b_seq"), bindparam("b_status")), else_=c.status),
                # A change without a hash of its own (e.g. an offer-only PATCH) leaves the other hash as it was.
                accepted_payload_hash=case(
                    (deleted, null()), else_=func.coalesce(bindparam("b_hash"), c.accepted_payload_hash)
                ),
                accepted_offer_hash=case(
                    (deleted, null()), else_=func.coalesce(bindparam("b_offer"), c.accepted_offer_hash)
                ),
                last_attempted_hash=func.coalesce(bindparam("b_hash"), c.last_attempted_hash),
                asin=case((deleted, null()), else_=func.coalesce(bindparam("b_asin"), c.asin)),
                accepted_at=now,
                updated_at=now,
            ),
            rows,
        )
    if invalid:
        session.connection().execute(
            update(listing_table)
            .where(c.id == bindparam("b_id"))
            .values(
                status=case((c.change_seq == bindparam("b_seq"), ListingStatus.INVALID.value), else_=c.status),
                last_attempted_hash=func.coalesce(bindparam("b_hash"), c.last_attempted_hash),
                updated_at=now,
            ),
            [
                {"b_id": j.listing_id, "b_seq": j.seq, "b_hash": j.listing_hash}
                for j in invalid
            ],
        )
        payloads = _payloads(session, [j.id for j in invalid])
        letters = [
            {
                "job_id": j.id,
                "seller_id": j.seller_id,
                "marketplace_id": j.marketplace_id,
                "sku": j.sku,
                "cause": "invalid",
                "reason": describe_issues(by_id[j.id].issues) or "Amazon answered INVALID without issues",
                "payload": {"operation": j.operation, "channel": j.channel, "body": payloads.get(j.id)},
                "attempts": j.retry_count + 1,
                "created_at": now,
                "redrive_count": 0,
            }
            for j in invalid
        ]
        for part in _chunks(letters):
            session.execute(insert(DeadLetter), list(part))
    replace_issues(
        session,
        {j.listing_id: by_id[j.id].issues for j in jobs.values()},
        source=issue_source,
        now=now,
    )
    return counts


def _set_job_state(session: Session, ids: list[int], state: JobState, error: str | None, now: Any) -> None:
    for part in _chunks(ids):
        session.execute(
            update(PublishJob)
            .where(PublishJob.id.in_(part))
            .values(state=state.value, lease_owner=None, lease_expires_at=None, last_error=error, updated_at=now)
            .execution_options(synchronize_session=False)
        )


def _payloads(session: Session, job_ids: list[int]) -> dict[int, Any]:
    """Job bodies, loaded only where needed (decoding 25,000 JSON bodies would dominate a report's cost)."""
    found: dict[int, Any] = {}
    for part in _chunks(job_ids):
        found.update(session.execute(select(PublishJob.id, PublishJob.payload).where(PublishJob.id.in_(part))).all())
    return found


def replace_issues(session: Session, issues_by_listing: dict[int, list[dict[str, Any]]], *, source: str, now: Any) -> None:
    """Each source reports a listing's full issue set: drop that source's old issues, insert the new ones."""
    ids = list(issues_by_listing)
    for part in _chunks(ids):
        session.execute(
            delete(ListingIssue)
            .where(ListingIssue.listing_id.in_(part), ListingIssue.source == source)
            .execution_options(synchronize_session=False)
        )
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
    for part in _chunks(rows):
        session.execute(insert(ListingIssue), list(part))


def describe_issues(issues: Sequence[dict[str, Any]], limit: int = 3) -> str:
    errors = [i for i in issues if i.get("severity") == "ERROR"] or list(issues)
    text = "; ".join(f"{i.get('code')}: {i.get('message')}" for i in errors[:limit])
    if len(errors) > limit:
        text += f" (+{len(errors) - limit} more)"
    return text
