"""Helpers for the SP-API client tests: build clients against the in-process or live sandbox."""

from __future__ import annotations

from typing import Any

import httpx

from amz_pipeline.spapi import (
    LWACredentials,
    RateLimiter,
    RetryPolicy,
    SPAPIClient,
    SyncSPAPIClient,
    TokenCache,
)
from amz_pipeline.spapi.ratelimit import MemoryBucketStore

SANDBOX_BASE_URL = "http://sandbox.test"
FAST_RETRY = RetryPolicy(max_attempts=4, max_elapsed_seconds=20, backoff_base_seconds=0.01, backoff_cap_seconds=0.05)


def credentials(seller: dict[str, str]) -> LWACredentials:
    return LWACredentials(seller["client_id"], seller["client_secret"], seller["refresh_token"])


def client_kwargs(seller: dict[str, str], base_url: str, **overrides: Any) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "seller_id": seller["seller_id"],
        "region": seller.get("region", "NA"),
        "credentials": credentials(seller),
        "endpoint": base_url,
        "lwa_token_url": base_url + "/auth/o2/token",
        "token_cache": TokenCache(),
        "limiter": RateLimiter(MemoryBucketStore()),
        "retry": FAST_RETRY,
    }
    kwargs.update(overrides)
    return kwargs


def app_client(app: Any, seller: dict[str, str], **overrides: Any) -> SPAPIClient:
    """An async client talking to the in-process sandbox through httpx.ASGITransport."""
    return SPAPIClient(**client_kwargs(seller, SANDBOX_BASE_URL, transport=httpx.ASGITransport(app=app), **overrides))


def live_client(server: Any, seller: dict[str, str], **overrides: Any) -> SPAPIClient:
    return SPAPIClient(**client_kwargs(seller, server.base_url, **overrides))


def live_sync_client(server: Any, seller: dict[str, str], **overrides: Any) -> SyncSPAPIClient:
    return SyncSPAPIClient(**client_kwargs(seller, server.base_url, **overrides))


def register_seller(admin: httpx.Client | Any, seller: dict[str, str]) -> None:
    admin.post("/_sandbox/sellers", json=seller).raise_for_status()


def second_seller(n: int = 2) -> dict[str, str]:
    return {"seller_id": f"A{n}SECONDSELLER", "client_id": f"amzn1.application-oa2-client.test{n}",
            "client_secret": f"second-client-secret-{n}-xyz", "refresh_token": f"Atzr|second-refresh-token-{n}-xyz",
            "region": "NA"}


def patch_worker(base_url: str, seller: dict[str, str], db_url: str, skus: list[str], concurrency: int, out) -> None:
    """One OS process: patch `skus` through a client whose limiter shares buckets through `db_url`."""
    import asyncio

    from amz_pipeline.spapi.ratelimit import DatabaseBucketStore
    from tests.support.sandbox import price_patch

    async def run() -> dict[str, Any]:
        limiter = RateLimiter(DatabaseBucketStore(db_url))
        queue = list(skus)
        async with SPAPIClient(**client_kwargs(seller, base_url, limiter=limiter,
                                               retry=RetryPolicy(max_attempts=8))) as client:
            async def work() -> None:
                while queue:
                    sku = queue.pop()
                    await client.patch_listings_item(sku, "US", price_patch(12.5))

            await asyncio.gather(*(work() for _ in range(concurrency)))
        limiter.close()
        return client.metrics.snapshot()

    out.put(asyncio.run(run()))
