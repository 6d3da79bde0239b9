"""Fixtures for the Dagster layer: a private data directory, an ephemeral instance, the default resources."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

warnings.filterwarnings("ignore", category=dg.PreviewWarning)
warnings.filterwarnings("ignore", category=dg.BetaWarning)


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """AMZ_DATA_DIR for this test; the pipeline database is SQLite inside it."""
    root = tmp_path / "data"
    root.mkdir()
    monkeypatch.setenv("AMZ_DATA_DIR", str(root))
    monkeypatch.delenv("AMZ_DATABASE_URL", raising=False)
    return root


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    """A throw-away SQLite instance (unlike an ephemeral one it has an instance ref, which schedules need)."""
    with dg.instance_for_test() as inst:
        yield inst


@pytest.fixture
def eu_sandbox():
    """A second live sandbox serving the EU region (our sandbox holds one region per seller, like one endpoint)."""
    from amz_pipeline.sandbox import SandboxConfig
    from amz_pipeline.sandbox.server import SandboxServer

    with SandboxServer(SandboxConfig(speed=50.0, feed_processing_delay_seconds=0.0)) as server:
        yield server


@pytest.fixture
def regional_pipeline(pipeline, sandbox_server, eu_sandbox, monkeypatch):
    """`pipeline` with the demo seller registered in NA and EU (one refresh token each) and its credentials in the
    encrypted database secret store; the client resource picks the sandbox and the secret by region."""
    import base64
    import os

    from resources.spapi import SPAPIClientResource, demo_seller
    from scripts.demo import register_demo_seller

    monkeypatch.setenv("AMZ_SECRETS_BACKEND", "db")
    monkeypatch.setenv("AMZ_SECRETS_KEY", base64.b64encode(os.urandom(32)).decode())
    urls = {"NA": sandbox_server.base_url, "EU": eu_sandbox.base_url}
    spapi = SPAPIClientResource(sandbox_url=sandbox_server.base_url, sandbox_urls=urls)
    resources = {**pipeline.resources, "spapi": spapi}
    register_demo_seller(urls, demo_seller(), resources)
    return dg.Definitions(assets=pipeline.assets, asset_checks=pipeline.asset_checks, jobs=pipeline.jobs,
                          sensors=pipeline.sensors, resources=resources)


@pytest.fixture
def fresh_token_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    """A fresh process-wide LWA token cache: `sandbox_server` is shared per module and its reset revokes every
    access token, which a token cached by an earlier test would still present (403 "invalid", not "expired")."""
    from amz_pipeline.spapi import auth

    monkeypatch.setattr(auth, "_default_cache", auth.TokenCache())


@pytest.fixture
def pipeline(sandbox_server, data_dir, fresh_token_cache):
    """The code location's assets, checks and jobs bound to this test's data directory and live sandbox."""
    from assets.definitions import defs
    from resources.database import DatabaseResource
    from resources.parquet_io import ParquetIOManager
    from resources.secrets import SecretStoreResource
    from resources.settings import SettingsResource
    from resources.spapi import SPAPIClientResource

    resources = {
        "settings": SettingsResource(data_dir=str(data_dir), feed_poll_max_seconds=0.5, feed_wait_seconds=60,
                                     reject_rate_threshold=0.95),
        "database": DatabaseResource(),
        "secrets": SecretStoreResource(),
        "spapi": SPAPIClientResource(sandbox_url=sandbox_server.base_url),
        "parquet_io": ParquetIOManager(base_dir=str(data_dir / "dagster" / "storage")),
    }
    return dg.Definitions(assets=defs.assets, asset_checks=defs.asset_checks, jobs=defs.jobs,
                          sensors=defs.sensors, resources=resources)
