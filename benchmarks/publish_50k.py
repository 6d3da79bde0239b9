"""Benchmark: time to publish N SKUs (default 50,000) against the sandbox enforcing the real usage plans, next to the
bound those plans and settings allow.

Bound (issue 6), with S feed submissions per window W (limits.json), M messages per feed (25,000, or fewer when the
10 MiB byte limit binds: M = min(max_messages, ⌊max_bytes / bytes per message⌋)), r per-SKU calls/s (usage plan), all
scaled by the sandbox speed factor k, and D the sandbox's processing time for one feed (IN_QUEUE + IN_PROGRESS delays):

    T_bound = N / (k·S·M / W + k·r) + D

The measurement runs from `publish_changes` (routing, enqueue, chunking) to the last report applied and verified,
through real HTTP on loopback, in `auto` mode (feeds plus the per-SKU share beside them).

    .venv/bin/python benchmarks/publish_50k.py [--skus 50000] [--speed 1] [--delay 5] [--poll 2]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import schemas  # noqa: E402
from amz_pipeline.hashing import canonical_json  # noqa: E402
from amz_pipeline.publishing import engine as publishing  # noqa: E402
from amz_pipeline.publishing.client import ClientPool, PublishingClient  # noqa: E402
from amz_pipeline.publishing.feeds import build  # noqa: E402
from amz_pipeline.publishing.feeds.submit import FeedConfig  # noqa: E402
from amz_pipeline.publishing.queue import Change, Operation  # noqa: E402
from amz_pipeline.sandbox import SandboxConfig  # noqa: E402
from amz_pipeline.sandbox.server import SandboxServer  # noqa: E402
from amz_pipeline.spapi.auth import LWACredentials  # noqa: E402
from amz_pipeline.storage.db import make_engine, upgrade  # noqa: E402
from tests.support.sandbox import demo_seller_data, luggage_attributes  # noqa: E402

US = "ATVPDKIKX0DER"


def changes_for(seller_id: str, n: int) -> list[Change]:
    out = []
    for i in range(n):
        attributes = luggage_attributes(price=10 + i % 900, quantity=i % 50)
        out.append(Change(seller_id, US, f"BENCH-{i:06d}", Operation.PARTIAL_UPDATE,
                          {"productType": "LUGGAGE", "attributes": attributes}, listing_hash=f"h{i}",
                          offer_hash=f"o{i}", attributes=attributes))
    return out


def bound_seconds(n: int, speed: float, processing_s: float, message_bytes: int) -> tuple[float, dict]:
    limits = build.FeedLimits.from_data()
    per_feed = min(limits.max_messages, limits.max_bytes // message_bytes)
    rate = publishing.listings_rate()
    feed_rate = speed * limits.submissions_per_window * per_feed / limits.window_seconds
    bound = n / (feed_rate + speed * rate) + processing_s
    return bound, {"S": limits.submissions_per_window, "W_s": limits.window_seconds, "M": per_feed, "r_per_s": rate,
                   "k": speed, "D_s": processing_s}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--skus", type=int, default=50_000)
    parser.add_argument("--speed", type=float, default=1.0, help="sandbox speed factor k")
    parser.add_argument("--delay", type=float, default=5.0, help="sandbox feed delay per phase at speed 1 (s)")
    parser.add_argument("--poll", type=float, default=2.0, help="getFeed poll interval (s)")
    args = parser.parse_args()
    seller = demo_seller_data()
    processing_s = 2 * args.delay / args.speed
    sample = changes_for(seller["seller_id"], 1)[0]
    message_bytes = len(canonical_json(build.message(1, build.FeedJob(1, sample.sku, "partial_update",
                                                                      sample.body)))) + 1
    # The clients and the scheduler are told the sandbox's speed (rate_scale), so every plan - the feed window too -
    # runs k times faster on both sides.
    config = publishing.EngineConfig(rate_scale=args.speed, feeds=FeedConfig(
        limits=build.FeedLimits.from_data().scaled(args.speed), poll_min_seconds=args.poll,
        poll_max_seconds=args.poll, processing_estimate_seconds=processing_s))
    with tempfile.TemporaryDirectory() as tmp, SandboxServer(SandboxConfig(
            speed=args.speed, feed_processing_delay_seconds=args.delay, enforce_usage_plans=True)) as server:
        url = f"sqlite:///{tmp}/bench.db"
        upgrade(url)
        engine = make_engine(url)
        credentials = LWACredentials(seller["client_id"], seller["client_secret"], seller["refresh_token"])
        pool = ClientPool(lambda seller_id, region: PublishingClient(
            seller_id=seller_id, region=region, credentials=credentials, endpoint=server.base_url,
            lwa_token_url=server.lwa_token_url, rate_scale=args.speed))
        changes = changes_for(seller["seller_id"], args.skus)
        started = time.perf_counter()
        plan = publishing.publish_changes(engine, changes, mode="auto", config=config)
        enqueued = time.perf_counter()
        metrics = publishing.run_queue(engine, pool, config=config)
        elapsed = time.perf_counter() - started
    bound, terms = bound_seconds(args.skus, args.speed, processing_s, message_bytes)
    load = os.getloadavg()
    print(f"load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
    print(f"bound T = N / (k·S·M/W + k·r) + D = {args.skus} / ({terms['k']}·{terms['S']}·{terms['M']}/{terms['W_s']}"
          f" + {terms['k']}·{terms['r_per_s']}) + {terms['D_s']} = {bound:.1f} s")
    print(f"measured {elapsed:.1f} s ({elapsed / bound:.2f}× the bound; bar ≤ 1.1×: "
          f"{'pass' if elapsed <= 1.1 * bound else 'FAIL'}); enqueue+chunking {enqueued - started:.1f} s; "
          f"feeds {len(plan.feed_submissions)}, per-SKU share {plan.listings_share}")
    print(json.dumps({k: v for k, v in metrics.items() if k != "jobs_by_state"}))
    assert metrics["accepted"] == args.skus and metrics["backlog"] == 0, metrics


if __name__ == "__main__":
    schemas.load_json("spapi/limits.json")
    main()
