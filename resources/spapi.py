"""SP-API client resource: where calls go (production region, Amazon's sandbox, our sandbox) and with which credentials.

Default: our local sandbox on 127.0.0.1:8787 with the demo seller's published credentials, so a fresh clone runs with no
secrets. Explicit credentials (`EnvVar` in `assets/definitions.py`) win over the secret store; the secret store wins over
the demo seller, which is only ever used against our own sandbox.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import dagster as dg
from pydantic import Field

import schemas
from amz_pipeline.spapi import endpoints
from amz_pipeline.spapi.secrets import SecretNotFound

from . import core
from .secrets import SecretStoreResource

LOCAL_SANDBOX = "local-sandbox"
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
    lwa_endpoint: str = Field(default="", description="full LWA token URL; empty → Amazon's, or our sandbox's")
    client_id: str | None = Field(default=None, description="LWA client id (EnvVar AMZ_LWA_CLIENT_ID)")
    client_secret: str | None = Field(default=None, description="LWA client secret (EnvVar AMZ_LWA_CLIENT_SECRET)")
    refresh_token: str | None = Field(default=None, description="seller refresh token (EnvVar AMZ_REFRESH_TOKEN)")
    sigv4: bool = Field(default=False, description="sign calls with SigV4 (only gateways still require it)")

    def _is_local(self) -> bool:
        return self.endpoint == LOCAL_SANDBOX

    def base_url(self, region: str) -> str:
        if self._is_local():
            return endpoints.endpoint(region, base_url=self.sandbox_url).base_url
        if self.endpoint == PRODUCTION:
            return endpoints.endpoint(region).base_url
        if self.endpoint == AMAZON_SANDBOX:
            return endpoints.endpoint(region, sandbox=True).base_url
        return endpoints.endpoint(region, base_url=self.endpoint).base_url

    def lwa_url(self) -> str:
        if self.lwa_endpoint:
            return self.lwa_endpoint
        if self._is_local():
            return self.sandbox_url.rstrip("/") + "/auth/o2/token"
        return endpoints.lwa_token_url()

    def credentials(self, seller_id: str, region: str, secrets: SecretStoreResource) -> dict[str, Any]:
        if self.client_id and self.client_secret and self.refresh_token:
            return {"client_id": self.client_id, "client_secret": self.client_secret,
                    "refresh_token": self.refresh_token}
        try:
            return dict(secrets.credentials(seller_id, region))
        except SecretNotFound:
            demo = demo_seller()
            if self._is_local() and seller_id == demo["seller_id"]:
                return {k: demo[k] for k in ("client_id", "client_secret", "refresh_token")}
            raise

    def client(self, seller_id: str, region: str, secrets: SecretStoreResource, *, cache_dir: Path | None = None,
               metrics: Any = None):
        """A blocking core SP-API client for one seller and region; use it as a context manager."""
        return core.make_client(
            seller_id=seller_id,
            region=region,
            credentials=self.credentials(seller_id, region, secrets),
            base_url=self.base_url(region),
            lwa_token_url=self.lwa_url(),
            sigv4=self.sigv4,
            cache_dir=cache_dir,
            metrics=metrics,
        )

    def client_pool(self, secrets: SecretStoreResource):
        """A publishing `ClientPool`: one async client per (seller, region), credentials resolved on first use."""
        return core.publishing_client_pool(lambda seller_id, region: {
            "credentials": self.credentials(seller_id, region, secrets), "base_url": self.base_url(region),
            "lwa_token_url": self.lwa_url(), "sigv4": self.sigv4,
        })
