"""`publish_attempts`: one row per call that can change state at Amazon, written *before* the call (status `started`)
and again after it, each write committed on its own. A row still `started` after its worker is gone marks a call whose
outcome we never recorded; the worker that next claims the job resolves it (see `listings_worker.resolve_unfinished`)
before sending anything again.

The request id (`x-amzn-RequestId`) comes from the client: `response.request_id` on success, `exc.request_id` on
failure.
"""

from __future__ import annotations

import uuid

from sqlalchemy import Engine, select, update

from amz_pipeline import telemetry
from amz_pipeline.publishing.leases import utcnow
from amz_pipeline.storage.models import PublishAttempt

STARTED = "started"


def start(
    engine: Engine,
    *,
    job_id: int | None,
    idempotency_key: str,
    channel: str,
    retry_count: int = 0,
    feed_submission_id: int | None = None,
) -> str:
    attempt_id = str(uuid.uuid4())
    with engine.begin() as conn:
        conn.execute(
            PublishAttempt.__table__.insert().values(
                attempt_id=attempt_id,
                job_id=job_id,
                idempotency_key=idempotency_key,
                channel=channel,
                feed_submission_id=feed_submission_id,
                trace_id=telemetry.current_trace_id(),
                status=STARTED,
                retry_count=retry_count,
                started_at=utcnow(),
            )
        )
    return attempt_id


def finish(
    engine: Engine,
    attempt_id: str,
    *,
    status: str,
    submission_id: str | None = None,
    feed_id: str | None = None,
    request_id: str | None = None,
    error: str | None = None,
) -> None:
    with engine.begin() as conn:
        conn.execute(
            update(PublishAttempt)
            .where(PublishAttempt.attempt_id == attempt_id)
            .values(
                status=status,
                submission_id=submission_id,
                feed_id=feed_id,
                request_id=request_id,
                error=telemetry.redact(error) if error else None,
                finished_at=utcnow(),
            )
        )


def unfinished(engine: Engine, job_id: int) -> list[PublishAttempt]:
    """Attempts of a job that were started and never finished (a crash between send and record)."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(PublishAttempt.__table__).where(
                PublishAttempt.job_id == job_id, PublishAttempt.status == STARTED
            ).order_by(PublishAttempt.started_at)
        ).all()
    return [PublishAttempt(**row._mapping) for row in rows]
