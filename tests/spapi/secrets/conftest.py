"""Fixtures for the secret-store tests: a moto server on loopback, databases with an `encrypted_secrets` table."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from amz_pipeline.spapi.secrets import LocalKey
from amz_pipeline.spapi.secrets.aws import aws_client

POSTGRES_URL = os.environ.get("AMZ_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")



@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def aws_env(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Fake credentials and the moto endpoint for botocore; moto's state reset for each test."""
    import httpx

    for var, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": moto_endpoint,
    }.items():
        monkeypatch.setenv(var, value)
    for var in ("AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        monkeypatch.delenv(var, raising=False)
    httpx.post(f"{moto_endpoint}/moto-api/reset").raise_for_status()
    return moto_endpoint


@pytest.fixture
def kms_key_id(aws_env: str) -> str:
    return aws_client("kms", "us-east-1").create_key(Description="amz-pipeline secrets test")["KeyMetadata"]["KeyId"]


@pytest.fixture
def local_key() -> LocalKey:
    return LocalKey.from_base64(LocalKey.generate())


def create_secrets_table(engine: sa.Engine) -> None:
    """Same columns as the Alembic migration's `encrypted_secrets` (used until `db_url` provides a migrated database)."""
    metadata = sa.MetaData()
    sa.Table(
        "encrypted_secrets",
        metadata,
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("ciphertext", sa.LargeBinary, nullable=False),
        sa.Column("key_id", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    metadata.create_all(engine)


def _postgres_engine() -> Iterator[sa.Engine]:
    admin = sa.create_engine(POSTGRES_URL)
    try:
        with admin.connect():
            pass
    except sa.exc.OperationalError as exc:
        admin.dispose()
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL unreachable at {POSTGRES_URL}: {exc}")
        pytest.skip(f"PostgreSQL unreachable at {POSTGRES_URL}")
    schema = f"secrets_test_{uuid.uuid4().hex[:12]}"
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    engine = sa.create_engine(
        POSTGRES_URL, hide_parameters=True, connect_args={"options": f"-csearch_path={schema}"}
    )
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def secrets_engine(request: pytest.FixtureRequest, tmp_path) -> Iterator[sa.Engine]:
    """An engine on SQLite (a file) or PostgreSQL (a private schema, dropped afterwards) with the table created."""
    if request.param == "sqlite":
        engine = sa.create_engine(f"sqlite:///{tmp_path / 'secrets.db'}", hide_parameters=True)
        create_secrets_table(engine)
        yield engine
        engine.dispose()
        return
    for engine in _postgres_engine():
        create_secrets_table(engine)
        yield engine
