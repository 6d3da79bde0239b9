"""`publish_attempts`: one row per call that can change state at Amazon, written *before* the call (status `started`)
and again after it, each write committed on its own. A row still `started` after its worker is gone marks a call whose
outcome we never recorded; the worker that next claims the job resolves it (see `listings_worker.resolve_unfinished`)
before sending anything again.

The request id comes from the client's per-call log line (`x-amzn-RequestId`), captured for the current asyncio task
by `RequestIdCapture`.
"""

from __future__ import annotations

import contextvars
import logging
import uuid

from sqlalchemy import Engine, select, update

from amz_pipeline import telemetry
from amz_pipeline.publishing.leases import utcnow
from amz_pipeline.storage.models import PublishAttempt

STARTED = "started"
_last_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("amz_last_request_id", default=None)


class RequestIdCapture(logging.Filter):
    """Remembers the `request_id` of the client's last call log line in the calling task's context.

    A filter only observes: it never changes or drops the record.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        request_id = getattr(record, "request_id", None)
        if request_id:
            _last_request_id.set(request_id)
        return True


def install_request_id_capture(logger_name: str = "amz_pipeline.spapi.client") -> None:
    logger = logging.getLogger(logger_name)
    if not any(isinstance(f, RequestIdCapture) for f in logger.filters):
        logger.addFilter(RequestIdCapture())
        if logger.getEffectiveLevel() > logging.INFO:
            logger.setLevel(logging.INFO)  # the per-call line is INFO; handlers decide what is printed


def reset_request_id() -> None:
    _last_request_id.set(None)


def last_request_id() -> str | None:
    return _last_request_id.get()


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
    reset_request_id()
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
                request_id=request_id or last_request_id(),
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
