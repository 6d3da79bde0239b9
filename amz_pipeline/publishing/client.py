"""The SP-API client as the publishing engine uses it (a thin adapter over `amz_pipeline.spapi`).

Listings writes (put, patch, delete) are retried inside the call only when they certainly did not take effect (the
client's createFeed rule). Any other failure after the request may have reached Amazon — a dropped connection, a 500 —
surfaces as `AmbiguousSubmissionError`, and the worker reads the listing back before deciding to send again. Blindly
resending an idempotent put is harmless for the end state but applies the same change twice; we never do that.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from amz_pipeline.spapi.client import SPAPIClient
from amz_pipeline.spapi.config import ClientConfig
from amz_pipeline.spapi.errors import LWAError, SPAPIError


class PublishingClient(SPAPIClient):
    """`SPAPIClient` with `guard_writes=True` (the default here): listings writes are never resent after a failure
    that may have reached Amazon."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("guard_writes", True)
        super().__init__(**kwargs)


ClientFactory = Callable[[str, str], SPAPIClient]

# Which `AMZ_*` variable an LWA refusal points at (LWA's `error` codes, RFC 6749 section 5.2).
_CREDENTIAL_PROBLEMS = {
    "invalid_client": "AMZ_LWA_CLIENT_ID / AMZ_LWA_CLIENT_SECRET: LWA rejected the application credentials "
                      "(invalid_client) - the client secret does not belong to that client id, or the id is unknown",
    "invalid_grant": "AMZ_REFRESH_TOKEN: LWA rejected the refresh token (invalid_grant) - it is wrong, revoked or "
                     "issued to another application; the seller must re-authorize the application",
    "unauthorized_client": "AMZ_LWA_CLIENT_ID: the application may not use this grant (unauthorized_client)",
}


def credential_problem(exc: LWAError) -> str:
    """One line naming the credential an LWA refusal points at (never its value)."""
    return _CREDENTIAL_PROBLEMS.get(exc.code or "", f"LWA refused the token request ({exc.code}): {exc}")


def check_credentials(config: ClientConfig) -> str | None:
    """Fetch one LWA token for the configured seller before anything is queued; the problem, or None when the
    credentials work. The token stays in the process-wide cache for the run's clients."""

    async def fetch() -> None:
        client = PublishingClient.from_config(config, rate_limit=False)
        try:
            await client.authenticate()
        finally:
            await client.aclose()

    try:
        asyncio.run(fetch())
    except LWAError as exc:
        if exc.retryable:
            return f"AMZ_LWA_ENDPOINT {config.lwa_token_url}: LWA is failing ({exc.code}): {exc}"
        return credential_problem(exc)
    except SPAPIError as exc:
        return f"AMZ_LWA_ENDPOINT {config.lwa_token_url}: {exc}"
    return None


def env_client_factory(config: ClientConfig, **kwargs: Any) -> ClientFactory:
    """Clients for the one seller configured through `AMZ_*` variables (CLI, demo)."""

    def make(seller_id: str, region: str) -> SPAPIClient:
        if seller_id != config.seller_id or region != config.region:
            raise LookupError(
                f"no credentials for seller {seller_id} in region {region}: AMZ_SELLER_ID/AMZ_REGION name "
                f"{config.seller_id}/{config.region}"
            )
        return PublishingClient.from_config(config, **kwargs)

    return make


class ClientPool:
    """One client per (seller, region) for the life of an engine run."""

    def __init__(self, factory: ClientFactory) -> None:
        self._factory = factory
        self._clients: dict[tuple[str, str], SPAPIClient] = {}

    def get(self, seller_id: str, region: str) -> SPAPIClient:
        key = (seller_id, region)
        if key not in self._clients:
            self._clients[key] = self._factory(seller_id, region)
        return self._clients[key]

    def metrics(self) -> list[dict[str, Any]]:
        return [client.metrics.snapshot() for client in self._clients.values()]

    async def aclose(self) -> None:
        for client in self._clients.values():
            await client.aclose()
        self._clients.clear()
