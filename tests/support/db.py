"""Database fixtures: every storage test runs on SQLite and on PostgreSQL, each in its own database or schema.

In CI (`CI=true`) PostgreSQL being unreachable is a failure, not a skip.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa

from amz_pipeline.storage.db import make_engine, upgrade

POSTGRES_URL = os.environ.get("AMZ_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _postgres_available() -> str | None:
    try:
        engine = sa.create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
        with engine.connect():
            pass
        engine.dispose()
        return None
    except Exception as exc:  # noqa: BLE001 - any failure means "not available"; the reason is reported
        return f"{type(exc).__name__}: {exc}".splitlines()[0]


def _skip_or_fail(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"PostgreSQL is required in CI: {reason}")
    pytest.skip(f"PostgreSQL not available: {reason}")


@pytest.fixture(scope="session")
def postgres_reason() -> str | None:
    return _postgres_available()


def _postgres_schema_url(schema: str) -> str:
    return f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"


@contextmanager
def _database(backend: str, tmp_path, postgres_reason: str | None) -> Iterator[str]:
    """A fresh, empty database: a SQLite file, or a PostgreSQL schema of its own that is dropped afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    if postgres_reason:
        _skip_or_fail(postgres_reason)
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield _postgres_schema_url(schema)
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def empty_db_url(request, tmp_path, postgres_reason) -> Iterator[str]:
    """An empty database (no tables) on the backend named by the test's `backend` param (default sqlite)."""
    with _database(getattr(request, "param", "sqlite"), tmp_path, postgres_reason) as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request, tmp_path, postgres_reason) -> Iterator[str]:
    """A migrated database, once on SQLite and once on PostgreSQL (own schema, dropped afterwards)."""
    with _database(request.param, tmp_path, postgres_reason) as url:
        upgrade(url)
        yield url


@pytest.fixture
def db_engine(db_url) -> Iterator[sa.Engine]:
    engine = make_engine(db_url)
    yield engine
    engine.dispose()
