"""Fixtures for the resources' own tests: a private data directory and an encrypted database secret store."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "data"
    root.mkdir()
    monkeypatch.setenv("AMZ_DATA_DIR", str(root))
    monkeypatch.delenv("AMZ_DATABASE_URL", raising=False)
    for var in ("AMZ_LWA_CLIENT_ID", "AMZ_LWA_CLIENT_SECRET", "AMZ_REFRESH_TOKEN", "AMZ_SELLER_ID", "AMZ_REGION",
                "AMZ_SPAPI_ENDPOINT", "AMZ_SANDBOX_URL", "AMZ_PROFILE", "AMZ_SECRETS_KEY", "AMZ_SECRETS_BACKEND"):
        monkeypatch.delenv(var, raising=False)
    return root


@pytest.fixture
def db_secrets(data_dir: Path, monkeypatch: pytest.MonkeyPatch):
    """The `db` secret store (AES-GCM rows in the pipeline database under data_dir), migrated, with a fresh key."""
    from resources.database import DatabaseResource
    from resources.secrets import SecretStoreResource

    monkeypatch.setenv("AMZ_SECRETS_BACKEND", "db")
    monkeypatch.setenv("AMZ_SECRETS_KEY", base64.b64encode(os.urandom(32)).decode())
    DatabaseResource().engine()  # migrates: encrypted_secrets exists
    return SecretStoreResource()


@pytest.fixture
def instance():
    import dagster as dg

    with dg.instance_for_test() as inst:
        yield inst


@pytest.fixture
def pipeline_resources(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    """Settings, database, secret store and IO manager bound to data_dir (add an `spapi` resource per test)."""
    from amz_pipeline.spapi import auth
    from resources.database import DatabaseResource
    from resources.parquet_io import ParquetIOManager
    from resources.secrets import SecretStoreResource
    from resources.settings import SettingsResource

    # A fresh LWA token cache: the module-shared sandbox's reset revokes tokens an earlier test may have cached.
    monkeypatch.setattr(auth, "_default_cache", auth.TokenCache())
    return {"settings": SettingsResource(data_dir=str(data_dir)), "database": DatabaseResource(),
            "secrets": SecretStoreResource(), "parquet_io": ParquetIOManager(base_dir=str(data_dir / "dagster"))}
