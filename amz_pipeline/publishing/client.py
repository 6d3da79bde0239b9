"""The SP-API client as the publishing engine uses it (a thin adapter over `amz_pipeline.spapi`).

Listings writes (put, patch, delete) are retried inside the call only when they certainly did not take effect (the
client's createFeed rule). Any other failure after the request may have reached Amazon — a dropped connection, a 500 —
surfaces as `AmbiguousSubmissionError`, and the worker reads the listing back before deciding to send again. Blindly
resending an idempotent put is harmless for the end state but applies the same change twice; we never do that.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from amz_pipeline.spapi.client import SPAPIClient
from amz_pipeline.spapi.config import ClientConfig

WRITE_OPERATIONS = frozenset({"putListingsItem", "patchListingsItem", "deleteListingsItem"})


class PublishingClient(SPAPIClient):
    async def _call(self, operation: str, **kwargs: Any) -> Any:
        if operation in WRITE_OPERATIONS and kwargs.get("preview") is not True:
            kwargs["non_idempotent"] = True
        return await super()._call(operation, **kwargs)


ClientFactory = Callable[[str, str], SPAPIClient]


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
