"""Publish runs from a catalog file: recorded before anything is ingested, so a run killed at any moment can be
finished by `resume`.

    started  → (ingest, validate, delta, enqueue) → queued → (publish) → finished
                                                                      ↘ submitted (feeds not followed, no --wait)

`resume` re-ingests runs that died in `started` (the recorded file must still have the recorded hash), then drains the
whole queue and follows every open feed. Re-ingesting is safe: the idempotency key makes enqueuing a change that is
still queued a no-op, and a change already accepted is `unchanged` for the delta.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select, update

from amz_pipeline.publishing.changes import changes_from_delta
from amz_pipeline.publishing.client import ClientPool
from amz_pipeline.publishing.crashpoints import crash_point
from amz_pipeline.publishing.engine import EngineConfig, Mode, publish_changes, run_queue
from amz_pipeline.publishing.leases import utcnow
from amz_pipeline.storage.db import session_factory
from amz_pipeline.storage.models import DeadLetter, JobState, PublishJob, PublishRun

UNFINISHED = ("started", "queued", "submitted")


class RunInputError(ValueError):
    """The run cannot start: unreadable file, unknown marketplace, changed file on resume."""


@dataclass
class RunOutcome:
    run_ids: list[str] = field(default_factory=list)
    rows: int = 0
    rejected: int = 0
    metrics: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def problems(self) -> int:
        """Rows rejected plus changes that ended invalid or dead-lettered."""
        return self.rejected + int(self.metrics.get("invalid", 0)) + int(self.metrics.get("dead_lettered", 0))


def file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def record_run(engine: Engine, *, path: Path, seller_id: str, marketplace_id: str | None, mode: Mode,
               full_catalog: bool, options: dict[str, Any]) -> str:
    if not path.is_file():
        raise RunInputError(f"{path}: no such file")
    run_id = str(uuid.uuid4())
    with session_factory(engine).begin() as session:
        session.add(PublishRun(run_id=run_id, seller_id=seller_id, marketplace_id=marketplace_id,
                               file_path=str(path.resolve()), file_hash=file_hash(path), mode=mode.value,
                               full_catalog=full_catalog, options=options, status="started"))
    return run_id


Ingest = Callable[..., Any]


def _default_ingest() -> Ingest:
    from amz_pipeline.catalog.ingest import ingest

    return ingest


def ingest_run(engine: Engine, run_id: str, *, config: EngineConfig, rejects_root: Path | None,
               ingest: Ingest | None = None) -> tuple[int, int]:
    """Ingest, validate, delta and enqueue the run's file; returns (rows, rejected)."""
    from amz_pipeline.catalog.delta import compute_delta
    from amz_pipeline.catalog.errors import CatalogReadError

    with session_factory(engine)() as session:
        run = session.get(PublishRun, run_id)
        assert run is not None
        path, recorded_hash = Path(run.file_path or ""), run.file_hash
        seller_id, marketplace_id, full_catalog, mode = run.seller_id, run.marketplace_id, run.full_catalog, run.mode
    if not path.is_file():
        raise RunInputError(f"{path}: the run's file is gone")
    if file_hash(path) != recorded_hash:
        raise RunInputError(f"{path}: the file changed since the run was recorded; publish it as a new run")
    try:
        result = (ingest or _default_ingest())(path, seller_id=seller_id, marketplace=marketplace_id,
                                               full_catalog=full_catalog, rejects_root=rejects_root)
    except CatalogReadError as exc:
        raise RunInputError(str(exc)) from None
    with session_factory(engine)() as session:
        delta = compute_delta(result.valid, session, seller_id, full_catalog=full_catalog)
    changes = changes_from_delta(result.valid, delta, seller_id=seller_id, full_catalog=full_catalog)
    crash_point("before_enqueue")
    publish_changes(engine, changes, run_id=run_id, mode=mode, config=config)
    summary = {"rows": result.rows, "valid": result.valid_count, "rejected": result.rejected_count,
               "changes": len(changes), "rejects_files": [str(p) for p in result.rejects_files]}
    _set_run(engine, run_id, status="queued", summary=summary)
    return result.rows, result.rejected_count


def _set_run(engine: Engine, run_id: str, **values: Any) -> None:
    with engine.begin() as conn:
        conn.execute(update(PublishRun).where(PublishRun.run_id == run_id).values(**values))


def _finish(engine: Engine, run_ids: list[str], metrics: dict[str, Any], wait: bool) -> None:
    for run_id in run_ids:
        with session_factory(engine)() as session:
            run = session.get(PublishRun, run_id)
            open_jobs = session.scalar(select(func.count()).select_from(PublishJob).where(
                PublishJob.run_id == run_id, PublishJob.state.in_([JobState.PENDING.value, JobState.IN_FLIGHT.value])))
            summary = dict(run.summary or {}) if run else {}
        summary["metrics"] = metrics
        done = not open_jobs
        _set_run(engine, run_id, status="finished" if done else "submitted", summary=summary,
                 finished_at=utcnow() if done else None)


def publish_file(engine: Engine, clients: ClientPool, *, path: Path, seller_id: str, marketplace_id: str | None,
                 mode: Mode, full_catalog: bool, wait: bool, config: EngineConfig, rejects_root: Path | None,
                 options: dict[str, Any] | None = None, progress: Any = None, ingest: Ingest | None = None
                 ) -> RunOutcome:
    run_id = record_run(engine, path=path, seller_id=seller_id, marketplace_id=marketplace_id, mode=mode,
                        full_catalog=full_catalog, options=dict(options or {}, wait=wait))
    try:
        rows, rejected = ingest_run(engine, run_id, config=config, rejects_root=rejects_root, ingest=ingest)
    except RunInputError:
        _set_run(engine, run_id, status="failed", finished_at=utcnow())
        raise
    metrics = run_queue(engine, clients, run_id=run_id, config=config, wait=wait, progress=progress)
    metrics["dead_lettered"] = run_dead_letters(engine, [run_id])
    _finish(engine, [run_id], metrics, wait)
    return RunOutcome([run_id], rows, rejected, metrics)


def resume(engine: Engine, clients: ClientPool, *, config: EngineConfig, rejects_root: Path | None,
           progress: Any = None, ingest: Ingest | None = None) -> RunOutcome:
    """Finish every unfinished run: re-ingest those that died before queuing, then drain everything."""
    outcome = RunOutcome()
    with session_factory(engine)() as session:
        runs = session.execute(select(PublishRun.run_id, PublishRun.status, PublishRun.summary).where(
            PublishRun.status.in_(UNFINISHED)).order_by(PublishRun.created_at)).all()
        open_jobs = session.scalar(select(func.count()).select_from(PublishJob).where(
            PublishJob.state.in_([JobState.PENDING.value, JobState.IN_FLIGHT.value])))
    if not runs and not open_jobs:
        return outcome
    for run_id, status, summary in runs:
        outcome.run_ids.append(run_id)
        if status == "started":
            try:
                rows, rejected = ingest_run(engine, run_id, config=config, rejects_root=rejects_root, ingest=ingest)
            except RunInputError as exc:
                _set_run(engine, run_id, status="failed", finished_at=utcnow())
                outcome.notes.append(f"run {run_id}: {exc}")
                outcome.rejected += 1
                continue
            outcome.rows += rows
            outcome.rejected += rejected
        else:
            outcome.rows += int((summary or {}).get("rows", 0))
            outcome.rejected += int((summary or {}).get("rejected", 0))
    metrics = run_queue(engine, clients, run_id=None, config=config, wait=True, progress=progress)
    metrics["dead_lettered"] = run_dead_letters(engine, outcome.run_ids)
    metrics["invalid"] = _run_jobs(engine, outcome.run_ids, JobState.INVALID)
    _finish(engine, outcome.run_ids, metrics, True)
    outcome.metrics = metrics
    return outcome


def run_dead_letters(engine: Engine, run_ids: list[str]) -> int:
    if not run_ids:
        return 0
    with session_factory(engine)() as session:
        return int(session.scalar(
            select(func.count()).select_from(DeadLetter).join(PublishJob, PublishJob.id == DeadLetter.job_id)
            .where(PublishJob.run_id.in_(run_ids), DeadLetter.cause != "invalid")) or 0)


def _run_jobs(engine: Engine, run_ids: list[str], state: JobState) -> int:
    if not run_ids:
        return 0
    with session_factory(engine)() as session:
        return int(session.scalar(select(func.count()).select_from(PublishJob).where(
            PublishJob.run_id.in_(run_ids), PublishJob.state == state.value)) or 0)
