"""Fault soak against the live sandbox: 5xx (HTML/empty/JSON bodies), extra 429s, dropped connections, FATAL feeds and
short-lived tokens, on both channels at once, with newer changes queued behind feeds and superseding pending ones.

Every change ends terminal; the sandbox's listings equal the intended catalog; its history shows no change applied
twice and each SKU's changes in order; nothing is dead-lettered (every injected fault is retryable).
Size: AMZ_SOAK_SKUS (default 300 here; benchmarks/publish_soak.py runs 5,000 with a 30-second token lifetime),
token lifetime AMZ_SOAK_TOKEN_TTL (default 4 s, so even the small run refreshes tokens mid-run).
"""

from __future__ import annotations

import os
from collections import Counter, defaultdict

import pytest
from sqlalchemy import select

from amz_pipeline.publishing import engine as publishing
from amz_pipeline.publishing.feeds.build import FeedLimits
from amz_pipeline.publishing.queue import RetryPolicy
from amz_pipeline.storage.db import session_factory
from amz_pipeline.storage.models import DeadLetter
from tests.publishing.helpers import (
    fast_config,
    full_change,
    sandbox_config,
    sandbox_history,
    sandbox_listings,
)

SPEED = 20
FAULTS = {
    "requests": {"*": {"http_500": 0.05, "http_503": 0.05, "throttle_429": 0.05, "drop_connection": 0.02,
                       "error_body": "random"}},
    "feeds": {"fatal": 0.25},
}


@pytest.mark.slow
@pytest.mark.parametrize("db_url", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)
def test_fault_soak(db_engine, pool, sandbox_server, demo_seller):
    total = int(os.environ.get("AMZ_SOAK_SKUS", "300"))
    seller = demo_seller["seller_id"]
    ttl = int(os.environ.get("AMZ_SOAK_TOKEN_TTL", "4"))
    sandbox_config(sandbox_server, speed=SPEED, faults=FAULTS, token_ttl_seconds=ttl)
    config = fast_config(limits=FeedLimits(max(total // 3, 1), 10 * 1024 * 1024, 5, 300 / SPEED))
    config.worker.retry = RetryPolicy(max_retries=10, base_seconds=0.05, cap_seconds=0.5)
    config.feeds.retry = RetryPolicy(max_retries=8, base_seconds=0.05, cap_seconds=0.2)

    direct = [full_change(seller, f"L-{i:05d}", price=10 + i % 90) for i in range(total * 2 // 5)]
    bulk = [full_change(seller, f"B-{i:05d}", price=20 + i % 80) for i in range(total - len(direct))]
    intended = {c.sku: c for c in direct + bulk}
    publishing.publish_changes(db_engine, direct, mode="listings", config=config)
    publishing.publish_changes(db_engine, bulk, mode="feed", config=config)
    # newer changes: some wait behind the feed their SKU is in, some supersede a pending per-SKU change
    behind_feed = [full_change(seller, c.sku, price=500.5) for c in bulk[: len(bulk) // 5]]
    superseding = [full_change(seller, c.sku, price=600.5) for c in direct[: len(direct) // 10]]
    publishing.publish_changes(db_engine, behind_feed, mode="listings", config=config)
    assert publishing.publish_changes(db_engine, superseding, mode="listings", config=config).enqueued.superseded \
        == len(superseding)
    intended.update({c.sku: c for c in behind_feed + superseding})

    metrics = publishing.run_queue(db_engine, pool, config=config)
    print(f"soak {total} SKUs: {metrics}")

    assert metrics["backlog"] == 0
    with session_factory(db_engine)() as session:
        letters = session.scalars(select(DeadLetter)).all()
    assert [(d.sku, d.cause, d.reason) for d in letters] == []
    assert metrics["accepted"] == len(direct) + len(bulk) + len(behind_feed)
    assert metrics["throttles"] > 0 and metrics["retries"] > 0

    remote = sandbox_listings(sandbox_server, seller)
    assert set(remote) == set(intended)
    for sku, change in intended.items():
        assert remote[sku]["attributes"]["purchasable_offer"] == change.body["attributes"]["purchasable_offer"], sku

    history = sandbox_history(sandbox_server, seller)
    applied = Counter((h["sku"], h["payload_hash"]) for h in history)
    assert max(applied.values()) == 1, "a change was applied twice"
    per_sku = defaultdict(list)
    for entry in history:
        per_sku[entry["sku"]].append(entry["channel"])
    for change in behind_feed:  # first the feed's version, then the newer per-SKU one: never the other way round
        assert per_sku[change.sku] == ["feed", "listings"], change.sku
    for change in superseding:  # the superseded version never went out
        assert per_sku[change.sku] == ["listings"], change.sku
