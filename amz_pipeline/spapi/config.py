"""The one-seller client configuration read from the environment (CLI, demo, simplest set-up).

| Variable | Meaning | Default |
|---|---|---|
| `AMZ_SELLER_ID` | the seller (merchant token) | required |
| `AMZ_REGION` | NA, EU or FE | required |
| `AMZ_LWA_CLIENT_ID`, `AMZ_LWA_CLIENT_SECRET` | the LWA application | required |
| `AMZ_REFRESH_TOKEN` | the seller's refresh token for that application | required |
| `AMZ_SPAPI_ENDPOINT` | SP-API base URL, e.g. `http://127.0.0.1:8787` for our sandbox | the region's production host |
| `AMZ_LWA_ENDPOINT` | full LWA token URL | `https://api.amazon.com/auth/o2/token` |
| `AMZ_SPAPI_SIGV4` | `true` signs every call with SigV4 (only gateways still need it) | `false` |
| `AMZ_SPAPI_ROLE_ARN` | IAM role to assume for SigV4 (STS AssumeRole) | none |
| `AMZ_AWS_PROFILE` | AWS shared-config profile for SigV4 credentials | botocore's default chain |

Secrets are held as `SecretStr`: `repr()`/`str()` of the config never shows them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from amz_pipeline.spapi import endpoints
from amz_pipeline.spapi.auth import LWACredentials


class ConfigError(ValueError):
    """A missing or malformed environment variable; the message names it."""


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}


@dataclass(frozen=True)
class ClientConfig:
    seller_id: str
    region: str
    credentials: LWACredentials
    endpoint: endpoints.Endpoint
    lwa_token_url: str
    sigv4: bool = False
    role_arn: str | None = None
    aws_profile: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ClientConfig:
        env = os.environ if env is None else env
        missing = [
            name
            for name in ("AMZ_SELLER_ID", "AMZ_REGION", "AMZ_LWA_CLIENT_ID", "AMZ_LWA_CLIENT_SECRET", "AMZ_REFRESH_TOKEN")
            if not (env.get(name) or "").strip()
        ]
        if missing:
            raise ConfigError(f"missing environment variable(s) for the SP-API client: {', '.join(missing)}")
        try:
            region = endpoints.region(env["AMZ_REGION"]).name
        except endpoints.UnknownRegionError as exc:
            raise ConfigError(f"AMZ_REGION: {exc}") from None
        try:
            endpoint = endpoints.endpoint(region, base_url=(env.get("AMZ_SPAPI_ENDPOINT") or "").strip() or None)
        except ValueError as exc:
            raise ConfigError(f"AMZ_SPAPI_ENDPOINT: {exc}") from None
        lwa_url = (env.get("AMZ_LWA_ENDPOINT") or "").strip() or endpoints.lwa_token_url()
        if not lwa_url.startswith(("http://", "https://")):
            raise ConfigError(f"AMZ_LWA_ENDPOINT must be a full http(s) URL of the token endpoint, got {lwa_url!r}")
        sigv4_raw = (env.get("AMZ_SPAPI_SIGV4") or "").strip().lower()
        if sigv4_raw not in _TRUE | _FALSE:
            raise ConfigError(f"AMZ_SPAPI_SIGV4 must be true or false, got {sigv4_raw!r}")
        return cls(
            seller_id=env["AMZ_SELLER_ID"].strip(),
            region=region,
            credentials=LWACredentials(
                client_id=env["AMZ_LWA_CLIENT_ID"].strip(),
                client_secret=env["AMZ_LWA_CLIENT_SECRET"].strip(),
                refresh_token=env["AMZ_REFRESH_TOKEN"].strip(),
            ),
            endpoint=endpoint,
            lwa_token_url=lwa_url,
            sigv4=sigv4_raw in _TRUE,
            role_arn=(env.get("AMZ_SPAPI_ROLE_ARN") or "").strip() or None,
            aws_profile=(env.get("AMZ_AWS_PROFILE") or "").strip() or None,
        )
