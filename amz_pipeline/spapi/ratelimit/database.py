"""Bucket store shared through the database (`rate_limit_buckets`), so worker processes and hosts share one budget.

Each process leases tokens: one short transaction takes a small batch (up to `lease_seconds` worth of the bucket's rate)
and hands them out locally. Slow buckets (a seller's 5/s) lease one token per call; fast ones (an app's 500/s) lease
dozens, so 50 sellers' aggregate rate costs a few hundred tiny transactions per second, serialized per row:
`SELECT ... FOR UPDATE` on PostgreSQL, `BEGIN IMMEDIATE` on SQLite (one host; WAL and a busy timeout, no lock errors).
A leased token unused `lease_seconds` after its grant is dropped, so an idle process cannot later add a stale burst on
top of the shared bucket's own.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite

from amz_pipeline.spapi.ratelimit.bucket import BucketState
from amz_pipeline.spapi.ratelimit.plans import Plan
from amz_pipeline.storage.db import make_engine

_metadata = sa.MetaData()
buckets_table = sa.Table(
    "rate_limit_buckets",
    _metadata,
    sa.Column("key", sa.String(300), primary_key=True),
    sa.Column("tokens", sa.Float, nullable=False),
    sa.Column("rate", sa.Float, nullable=False),
    sa.Column("burst", sa.Float, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
)


def _sqlite_immediate(engine: sa.Engine) -> None:
    """pysqlite's implicit BEGIN is deferred: two writers could both read, then one fails to upgrade its lock.
    Take the write lock when the transaction starts instead (SQLAlchemy's documented recipe)."""

    @event.listens_for(engine, "connect")
    def _autocommit_driver(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin_immediate(conn) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


class DatabaseBucketStore:
    def __init__(
        self,
        url: str,
        *,
        lease_seconds: float = 0.1,
        max_lease: int = 50,
        clock: Callable[[], float] = time.time,
        pool_size: int = 8,
    ) -> None:
        self.clock = clock  # epoch seconds: comparable across processes and hosts
        self.lease_seconds = lease_seconds
        self.max_lease = max_lease
        self.engine = make_engine(url, **({} if url.startswith("sqlite") else {"pool_size": pool_size}))
        self._dialect = self.engine.dialect.name
        if self._dialect == "sqlite":
            _sqlite_immediate(self.engine)
        self._lock = threading.Lock()
        self._leases: dict[str, deque[float]] = {}
        self._rates: dict[str, float] = {}
        self.transactions = 0

    def _insert_missing(self):
        dialect_insert = postgresql.insert if self._dialect == "postgresql" else sqlite.insert
        return dialect_insert(buckets_table).on_conflict_do_nothing(index_elements=["key"])

    def _locked_row(self, conn: sa.Connection, key: str, plan: Plan, now: float) -> BucketState:
        query = sa.select(buckets_table).where(buckets_table.c.key == key).with_for_update()
        row = conn.execute(query).first()
        if row is None:
            conn.execute(self._insert_missing().values(
                key=key, tokens=plan.burst, rate=plan.rate, burst=plan.burst, updated_at=now))
            row = conn.execute(query).one()
        return BucketState(tokens=row.tokens, rate=row.rate, burst=row.burst, updated_at=row.updated_at)

    def _write(self, conn: sa.Connection, key: str, state: BucketState) -> None:
        conn.execute(
            sa.update(buckets_table).where(buckets_table.c.key == key)
            .values(tokens=state.tokens, rate=state.rate, burst=state.burst, updated_at=state.updated_at)
        )

    def _take_lease(self, key: str) -> float | None:
        """A token this process leased earlier and may still use: the time the shared row granted it."""
        now = self.clock()
        with self._lock:
            leased = self._leases.get(key)
            while leased and leased[0] + self.lease_seconds < now:
                leased.popleft()
            return leased.popleft() if leased else None

    def take(self, key: str, plan: Plan) -> float:
        """Take one token (this process's lease first, else the shared row): 0.0 if taken, else seconds to wait."""
        granted, wait = self.take_granted(key, plan)
        return 0.0 if granted is not None else wait

    def take_granted(self, key: str, plan: Plan) -> tuple[float | None, float]:
        """(time the shared row granted the token, 0) or (None, seconds until one refills).

        A grant may lease a few extra tokens (up to `lease_seconds` of the rate); they stay usable for `lease_seconds`.
        """
        granted = self._take_lease(key)
        if granted is not None:
            return granted, 0.0
        with self.engine.begin() as conn:
            now = self.clock()
            state = self._locked_row(conn, key, plan, now)
            most = int(min(self.max_lease, max(1.0, math.floor(state.rate * self.lease_seconds))))
            taken, wait = state.take(now, most)
            if taken:
                self._write(conn, key, state)
        self.transactions += 1
        with self._lock:
            self._rates[key] = state.rate
            if taken > 1:
                self._leases.setdefault(key, deque()).extend([now] * (taken - 1))
        return (now, 0.0) if taken else (None, wait)

    def set_rate(self, key: str, plan: Plan) -> None:
        with self._lock:
            if self._rates.get(key) == plan.rate:
                return
        with self.engine.begin() as conn:
            now = self.clock()
            state = self._locked_row(conn, key, plan, now)
            state.set_rate(now, plan.rate, plan.burst)
            self._write(conn, key, state)
        with self._lock:
            self._rates[key] = plan.rate

    def drain(self, key: str, plan: Plan) -> None:
        with self._lock:
            self._leases.pop(key, None)
        with self.engine.begin() as conn:
            now = self.clock()
            state = self._locked_row(conn, key, plan, now)
            state.drain(now)
            self._write(conn, key, state)

    def state(self, key: str) -> BucketState | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(buckets_table).where(buckets_table.c.key == key)).first()
        return None if row is None else BucketState(row.tokens, row.rate, row.burst, row.updated_at)

    def close(self) -> None:
        self.engine.dispose()
