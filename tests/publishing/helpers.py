"""Helpers for the publishing tests: a client pool on the live sandbox, sandbox admin calls, change builders."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx

from amz_pipeline.publishing.client import ClientPool, PublishingClient
from amz_pipeline.publishing.engine import EngineConfig
from amz_pipeline.publishing.feeds.build import FeedLimits
from amz_pipeline.publishing.feeds.submit import FeedConfig
from amz_pipeline.publishing.listings_worker import WorkerConfig
from amz_pipeline.publishing.queue import Change, Operation, RetryPolicy
from amz_pipeline.spapi.auth import LWACredentials, TokenCache
from amz_pipeline.spapi.ratelimit import RateLimiter
from tests.support.sandbox import luggage_attributes

US = "ATVPDKIKX0DER"


def sandbox_pool(server: Any, seller: dict[str, str]) -> ClientPool:
    credentials = LWACredentials(seller["client_id"], seller["client_secret"], seller["refresh_token"])
    limiter = RateLimiter()  # fresh buckets and tokens per test: the sandbox was reset
    tokens = TokenCache()

    def make(seller_id: str, region: str) -> PublishingClient:
        return PublishingClient(seller_id=seller_id, region=region, credentials=credentials, endpoint=server.base_url,
                                lwa_token_url=server.lwa_token_url, limiter=limiter, token_cache=tokens)

    return ClientPool(make)


def fast_config(**feed_overrides: Any) -> EngineConfig:
    """Short backoffs and polls; the feed window scaled like the sandbox's `speed`."""
    limits = feed_overrides.pop("limits", FeedLimits(25_000, 10 * 1024 * 1024, 5, 300))
    return EngineConfig(
        listings_max_skus=50,
        worker=WorkerConfig(concurrency=8, lease_seconds=30, retry=RetryPolicy(max_retries=6, base_seconds=0.05,
                                                                                 cap_seconds=0.5)),
        feeds=FeedConfig(limits=limits, poll_min_seconds=0.05, poll_max_seconds=0.5, adopt_wait_seconds=2,
                         clock_skew_seconds=5, retry=RetryPolicy(max_retries=3, base_seconds=0.05, cap_seconds=0.2),
                         **feed_overrides),
    )


def full_change(seller_id: str, sku: str, *, price: float = 20.0, quantity: int = 3,
                operation: Operation = Operation.PARTIAL_UPDATE, drop: tuple[str, ...] = ()) -> Change:
    attributes = luggage_attributes(price=price, quantity=quantity)
    for name in drop:
        attributes.pop(name)
    body = {"productType": "LUGGAGE", "attributes": attributes}
    if operation is Operation.UPDATE:
        body["requirements"] = "LISTING"
    return Change(seller_id, US, sku, operation, body, listing_hash=f"{sku}-{price}-{quantity}",
                  offer_hash=f"o-{price}-{quantity}", attributes=attributes)


def sandbox_listings(server: Any, seller_id: str) -> dict[str, dict[str, Any]]:
    response = httpx.get(f"{server.base_url}/_sandbox/sellers/{seller_id}/listings", timeout=30)
    response.raise_for_status()
    return {item["sku"]: item for item in response.json()["listings"]}


def sandbox_history(server: Any, seller_id: str) -> list[dict[str, Any]]:
    response = httpx.get(f"{server.base_url}/_sandbox/sellers/{seller_id}/history", timeout=30)
    response.raise_for_status()
    return response.json()["history"]


def sandbox_config(server: Any, **changes: Any) -> None:
    httpx.post(f"{server.base_url}/_sandbox/config", json=changes, timeout=10).raise_for_status()


SAMPLE = Path(__file__).resolve().parents[2] / "data" / "samples" / "catalog_us.csv"


def write_catalog(path: Path, rows: int = 12) -> dict[str, float]:
    """`rows` LUGGAGE rows derived from the first sample row; returns SKU → price."""
    with SAMPLE.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        base, fields = next(reader), reader.fieldnames
    prices = {}
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        for i in range(rows):
            row = dict(base, item_sku=f"CR-{i:04d}", standard_price=f"{20 + i}.99", quantity=str(i + 1))
            prices[row["item_sku"]] = float(row["standard_price"])
            writer.writerow(row)
    return prices


def cli_env(tmp_path: Path, server, seller: dict[str, str], database_url: str | None = None,
            **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AMZ_")}
    env.update({
        "AMZ_DATA_DIR": str(tmp_path / "data"),
        "AMZ_DATABASE_URL": database_url or f"sqlite:///{tmp_path / 'state.db'}",
        "AMZ_SELLER_ID": seller["seller_id"],
        "AMZ_REGION": seller["region"],
        "AMZ_LWA_CLIENT_ID": seller["client_id"],
        "AMZ_LWA_CLIENT_SECRET": seller["client_secret"],
        "AMZ_REFRESH_TOKEN": seller["refresh_token"],
        "AMZ_SPAPI_ENDPOINT": server.base_url,
        "AMZ_LWA_ENDPOINT": server.lwa_token_url,
        "AMZ_FEED_ADOPT_WAIT_SECONDS": "3",
    })
    env.update(extra)
    return env


def amz(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "amz_pipeline.cli", *args], env=env, capture_output=True,
                          text=True, timeout=240)
