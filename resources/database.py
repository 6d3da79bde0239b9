"""Database resource: one SQLAlchemy engine per URL and process, migrated to head on first use."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg
from pydantic import Field
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from amz_pipeline.settings import Settings
from amz_pipeline.storage.db import make_engine, session_factory, upgrade

_engines: dict[str, Engine] = {}
_lock = threading.Lock()


class DatabaseResource(dg.ConfigurableResource):
    """The pipeline's own database (not Dagster's instance storage)."""

    url: str = Field(default="", description="SQLAlchemy URL; empty → AMZ_DATABASE_URL or SQLite under AMZ_DATA_DIR")
    migrate: bool = Field(default=True, description="run Alembic upgrade to head the first time the URL is used")

    def resolved_url(self) -> str:
        return self.url or Settings.from_env().database_url

    def engine(self) -> Engine:
        url = self.resolved_url()
        with _lock:
            engine = _engines.get(url)
            if engine is None:
                if self.migrate:
                    upgrade(url)
                engine = _engines[url] = make_engine(url)
            return engine

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits on success and rolls back on error."""
        with session_factory(self.engine())() as session, session.begin():
            yield session
