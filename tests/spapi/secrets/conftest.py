"""Fixtures for the secret-store tests: a moto server on loopback, migrated databases (tests/support/db.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from amz_pipeline.spapi.secrets import LocalKey
from amz_pipeline.spapi.secrets.aws import aws_client
from amz_pipeline.storage.db import make_engine


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


@pytest.fixture
def secrets_engine(db_url: str) -> Iterator[sa.Engine]:
    """An engine on the migrated database of `db_url` (SQLite file, or a private PostgreSQL schema)."""
    engine = make_engine(db_url, hide_parameters=True)
    yield engine
    engine.dispose()
