"""Encrypted database backend: table `encrypted_secrets(name PK, ciphertext, key_id, created_at, updated_at)`.

Values are sealed with AES-256-GCM (see envelope.py) before they reach SQL; the table never holds plaintext. Plain
SQLAlchemy Core on a lightweight table clause, so the same code runs on SQLite and PostgreSQL and does not depend on
how the ORM model is declared (the Alembic migration in amz_pipeline/storage owns the DDL).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from amz_pipeline.storage.db import make_engine

from .base import SecretStore
from .envelope import DataKeyProvider, open_sealed, seal
from .errors import SecretBackendError, SecretNotFound
from .value import SecretValue, decode, encode

encrypted_secrets = sa.table(
    "encrypted_secrets",
    sa.column("name", sa.String),
    sa.column("ciphertext", sa.LargeBinary),
    sa.column("key_id", sa.String),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("updated_at", sa.DateTime(timezone=True)),
)


class EncryptedDbSecretStore(SecretStore):
    backend = "db"

    def __init__(self, profile: str, engine: sa.Engine | str, keys: DataKeyProvider) -> None:
        super().__init__(profile)
        # hide_parameters: SQLAlchemy error texts would otherwise quote the bound values.
        self._engine = make_engine(engine, hide_parameters=True) if isinstance(engine, str) else engine
        self._keys = keys

    def __repr__(self) -> str:
        return f"EncryptedDbSecretStore(profile={self.profile!r}, keys={self._keys!r})"

    def _get(self, name: str) -> SecretValue:
        query = sa.select(encrypted_secrets.c.ciphertext).where(encrypted_secrets.c.name == name)
        with _db_errors(f"reading {name!r}"), self._engine.connect() as conn:
            blob = conn.execute(query).scalar_one_or_none()
        if blob is None:
            raise SecretNotFound(f"secret {name!r} not found in table encrypted_secrets")
        return decode(open_sealed(self._keys, name, bytes(blob)), name)

    def _put(self, name: str, value: SecretValue) -> None:
        blob = seal(self._keys, name, encode(value))
        now = datetime.now(UTC)
        row = {"ciphertext": blob, "key_id": self._keys.key_id, "updated_at": now}
        update = encrypted_secrets.update().where(encrypted_secrets.c.name == name).values(**row)
        insert = encrypted_secrets.insert().values(name=name, created_at=now, **row)
        with _db_errors(f"writing {name!r}"):
            try:
                with self._engine.begin() as conn:
                    if conn.execute(update).rowcount == 0:
                        conn.execute(insert)
            except IntegrityError:  # a concurrent writer inserted the row first: ours is the newer value
                with self._engine.begin() as conn:
                    conn.execute(update)

    def _list(self, prefix: str) -> list[str]:
        query = sa.select(encrypted_secrets.c.name).where(
            encrypted_secrets.c.name.startswith(prefix, autoescape=True)
        )
        with _db_errors(f"listing {prefix!r}"), self._engine.connect() as conn:
            return list(conn.execute(query).scalars())


@contextmanager
def _db_errors(action: str) -> Iterator[None]:
    """Turn a database failure into SecretBackendError whose text carries no SQL parameters."""
    try:
        yield
    except SQLAlchemyError as exc:
        orig = getattr(exc, "orig", None) or exc
        first_line = (str(orig).splitlines() or [""])[0]
        missing = "encrypted_secrets" in first_line and ("no such table" in first_line or "does not exist" in first_line)
        hint = " (the database is not migrated: run `amz-pipeline db upgrade`)" if missing else ""
        raise SecretBackendError(
            f"database error while {action} in encrypted_secrets: {type(orig).__name__}: {first_line}{hint}"
        ) from None
