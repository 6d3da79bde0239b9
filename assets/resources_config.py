"""The default resources: our sandbox and SQLite with no credentials; environment variables switch to real ones.

Secrets are never written into the definitions: when AMZ_LWA_* are set they are passed as `EnvVar`s, which Dagster
resolves at run time and never shows in the UI.
"""

from __future__ import annotations

import os

import dagster as dg

from amz_pipeline.settings import Settings
from amz_pipeline.spapi import endpoints
from resources.database import DatabaseResource
from resources.parquet_io import ParquetIOManager
from resources.secrets import SecretStoreResource
from resources.settings import SettingsResource
from resources.spapi import LOCAL_SANDBOX, SPAPIClientResource

_CREDENTIAL_VARS = {
    "client_id": "AMZ_LWA_CLIENT_ID",
    "client_secret": "AMZ_LWA_CLIENT_SECRET",
    "refresh_token": "AMZ_REFRESH_TOKEN",
}


def _env_or_default(var: str, default: str = "") -> str | dg.EnvVar:
    return dg.EnvVar(var) if os.environ.get(var) else default


def sandbox_urls() -> dict[str, str]:
    """AMZ_SANDBOX_URL_<REGION> (NA, EU, FE): the local sandbox serving that region, when one runs per region."""
    return {region: os.environ[f"AMZ_SANDBOX_URL_{region}"] for region in endpoints.regions()
            if os.environ.get(f"AMZ_SANDBOX_URL_{region}")}


def spapi_resource() -> SPAPIClientResource:
    credentials = {field: dg.EnvVar(var) for field, var in _CREDENTIAL_VARS.items() if os.environ.get(var)}
    return SPAPIClientResource(
        endpoint=_env_or_default("AMZ_SPAPI_ENDPOINT", LOCAL_SANDBOX),
        sandbox_url=_env_or_default("AMZ_SANDBOX_URL", "http://127.0.0.1:8787"),
        sandbox_urls=sandbox_urls(),
        lwa_endpoint=_env_or_default("AMZ_LWA_ENDPOINT"),
        **(credentials if len(credentials) == len(_CREDENTIAL_VARS) else {}),
    )


def default_resources() -> dict[str, object]:
    settings = Settings.from_env()
    return {
        "settings": SettingsResource(feed_poll_max_seconds=float(os.environ.get("AMZ_FEED_POLL_MAX_SECONDS") or 60)),
        "database": DatabaseResource(),
        "secrets": SecretStoreResource(),
        "spapi": spapi_resource(),
        "parquet_io": ParquetIOManager(base_dir=str(settings.data_dir / "dagster" / "storage")),
    }
