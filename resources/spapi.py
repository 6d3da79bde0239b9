"""SP-API client resource: where calls go (production region, Amazon's sandbox, our sandbox) and with which credentials.

Credentials are resolved per (seller, region) — a seller authorizes the application once per SP-API region and gets
one refresh token per region — in this order:
1. explicit fields (`client_id`, `client_secret`, `refresh_token`; `EnvVar`s in `assets/resources_config.py` when
   AMZ_LWA_* are set): the single-seller set-up, used for every call;
2. the secret store (`amz/<profile>/<seller>/<region>`, see `resources/secrets.py`);
3. only against our local sandbox, for the demo seller in the region schemas/sandbox/demo_seller.json names: its
   published demo credentials, so a fresh clone runs with no secrets.

Our sandbox holds one region per seller, as one Amazon endpoint serves one region: `sandbox_urls` maps a region to
the sandbox serving it (`make demo` and `make dev` start one per region); other regions use `sandbox_url`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import dagster as dg
from pydantic import Field

import schemas
from amz_pipeline.spapi import endpoints
from amz_pipeline.spapi.secrets import SecretError, SecretNotFound, SecretValue

from . import core
from .secrets import SecretStoreResource

LOCAL_SANDBOX = "local-sandbox"


class MissingCredentials(RuntimeError):
    """No LWA credentials for a seller in a region (the message says where to put them; it holds no secret)."""


PRODUCTION = "production"
AMAZON_SANDBOX = "amazon-sandbox"


def demo_seller() -> dict[str, str]:
    return json.loads(schemas.path("sandbox/demo_seller.json").read_text(encoding="utf-8"))


class SPAPIClientResource(dg.ConfigurableResource):
    endpoint: str = Field(
        default=LOCAL_SANDBOX,
        description="production | amazon-sandbox | local-sandbox | an http(s) base URL (a gateway, another sandbox)",
    )
    sandbox_url: str = Field(default="http://127.0.0.1:8787", description="our sandbox's base URL (local-sandbox)")
    sandbox_urls: dict[str, str] = Field(
        default_factory=dict, description="local-sandbox: region (NA, EU, FE) → the sandbox serving it; "
                                          "regions not listed use sandbox_url")
    lwa_endpoint: str = Field(default="", description="full LWA token URL; empty → Amazon's, or our sandbox's")
    client_id: str | None = Field(default=None, description="LWA client id (EnvVar AMZ_LWA_CLIENT_ID)")
    # repr=False: a resolved resource printed by accident (a log line, an exception) never shows the secrets.
    client_secret: str | None = Field(default=None, repr=False,
                                      description="LWA client secret (EnvVar AMZ_LWA_CLIENT_SECRET)")
    refresh_token: str | None = Field(default=None, repr=False,
                                      description="seller refresh token (EnvVar AMZ_REFRESH_TOKEN)")
    sigv4: bool = Field(default=False, description="sign calls with SigV4 (only gateways still require it)")

    def _is_local(self) -> bool:
        return self.endpoint == LOCAL_SANDBOX

    def _sandbox(self, region: str) -> str:
        return self.sandbox_urls.get(region, self.sandbox_url)

    def base_url(self, region: str) -> str:
        if self._is_local():
            return endpoints.endpoint(region, base_url=self._sandbox(region)).base_url
        if self.endpoint == PRODUCTION:
            return endpoints.endpoint(region).base_url
        if self.endpoint == AMAZON_SANDBOX:
            return endpoints.endpoint(region, sandbox=True).base_url
        return endpoints.endpoint(region, base_url=self.endpoint).base_url

    def lwa_url(self, region: str = "NA") -> str:
        if self.lwa_endpoint:
            return self.lwa_endpoint
        if self._is_local():
            return self._sandbox(region).rstrip("/") + "/auth/o2/token"
        return endpoints.lwa_token_url()

    def credentials(self, seller_id: str, region: str, secrets: SecretStoreResource) -> SecretValue:
        """LWA credentials for the seller in that region (order in the module docstring); SecretNotFound if none.
        A `SecretValue`: its repr shows field names only."""
        if self.client_id and self.client_secret and self.refresh_token:
            return SecretValue(client_id=self.client_id, client_secret=self.client_secret,
                               refresh_token=self.refresh_token)
        try:
            return secrets.credentials(seller_id, region)
        except SecretNotFound:
            demo = demo_seller()
            if self._is_local() and seller_id == demo["seller_id"] and region == demo["region"]:
                return SecretValue({k: demo[k] for k in ("client_id", "client_secret", "refresh_token")})
            raise

    def require_credentials(self, seller_id: str, region: str, secrets: SecretStoreResource) -> None:
        """Fail early, before anything is queued, with what to do when the seller has no credentials there."""
        try:
            self.credentials(seller_id, region, secrets)
        except SecretError as exc:
            raise MissingCredentials(
                f"no SP-API credentials for seller {seller_id} in region {region} ({type(exc).__name__}); store them "
                f"with `amz-pipeline secrets put --seller {seller_id} --region {region}` (AMZ_SECRETS_BACKEND=db or "
                "aws), or set AMZ_LWA_CLIENT_ID, AMZ_LWA_CLIENT_SECRET and AMZ_REFRESH_TOKEN for a single seller"
            ) from None

    def client(self, seller_id: str, region: str, secrets: SecretStoreResource, *, cache_dir: Path | None = None,
               metrics: Any = None):
        """A blocking core SP-API client for one seller and region; use it as a context manager."""
        return core.make_client(
            seller_id=seller_id,
            region=region,
            credentials=self.credentials(seller_id, region, secrets),
            base_url=self.base_url(region),
            lwa_token_url=self.lwa_url(region),
            sigv4=self.sigv4,
            cache_dir=cache_dir,
            metrics=metrics,
        )

    def client_pool(self, secrets: SecretStoreResource):
        """A publishing `ClientPool`: one async client per (seller, region), credentials resolved on first use."""
        return core.publishing_client_pool(lambda seller_id, region: {
            "credentials": self.credentials(seller_id, region, secrets), "base_url": self.base_url(region),
            "lwa_token_url": self.lwa_url(region), "sigv4": self.sigv4,
        })
