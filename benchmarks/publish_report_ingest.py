"""Benchmark: a JSON_LISTINGS_FEED processing report of 25,000 messages → per-SKU state.

Bars (issue 6): ≤ 2 s on SQLite, ≤ 3 s on PostgreSQL. Measured: `feeds.submit.ingest_report` — gunzip, validation
against Amazon's processing-report schema, messageId → job mapping, bulk job/listing/issue/dead-letter writes — on a
feed whose 25,000 jobs were queued and planned by the engine (5% of messages INVALID with two issues each, every
accepted item with a summary carrying its ASIN).

    .venv/bin/python benchmarks/publish_report_ingest.py [--messages 25000] [--backend sqlite|postgres|both]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from amz_pipeline.publishing import engine as publishing  # noqa: E402
from amz_pipeline.publishing.feeds.build import FeedLimits  # noqa: E402
from amz_pipeline.publishing.feeds.submit import FeedConfig, ingest_report  # noqa: E402
from amz_pipeline.publishing.queue import Change, Operation  # noqa: E402
from amz_pipeline.storage.db import make_engine, session_factory, upgrade  # noqa: E402
from amz_pipeline.storage.models import FeedSubmission, Listing  # noqa: E402

SELLER, US = "A1BENCHSELLER", "ATVPDKIKX0DER"
POSTGRES = os.environ.get("AMZ_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def attributes(i: int) -> dict:
    text = lambda v: [{"value": v, "language_tag": "en_US", "marketplace_id": US}]  # noqa: E731
    return {
        "item_name": text(f"Benchmark suitcase {i}"), "brand": text("Bench"), "bullet_point": text("Light shell"),
        "purchasable_offer": [{"marketplace_id": US, "currency": "USD",
                               "our_price": [{"schedule": [{"value_with_tax": 10 + i % 500}]}]}],
        "fulfillment_availability": [{"fulfillment_channel_code": "DEFAULT", "quantity": i % 40}],
    }


def build_report(message_map: dict, feed_id: str) -> bytes:
    issues, items = [], []
    for message_id, (_, sku) in message_map.items():
        if int(message_id) % 20 == 0:
            issues.append({"messageId": int(message_id), "sku": sku, "code": "90220", "severity": "ERROR",
                           "message": "'[brand]' is required but not supplied.", "attributeName": "brand"})
            issues.append({"messageId": int(message_id), "sku": sku, "code": "99022", "severity": "ERROR",
                           "message": "The field 'prices' does not have enough values.",
                           "attributeName": "purchasable_offer.our_price"})
        else:
            items.append({"sku": sku, "summaries": [{"marketplaceId": US, "asin": f"B0{int(message_id):08d}",
                                                     "productType": "LUGGAGE", "status": ["BUYABLE", "DISCOVERABLE"],
                                                     "createdDate": "2026-11-28T00:00:00Z",
                                                     "lastUpdatedDate": "2026-11-28T00:00:00Z"}], "issues": []})
    invalid = len({i["messageId"] for i in issues})
    report = {"header": {"sellerId": SELLER, "version": "2.0", "feedId": feed_id,
                         "report": {"includedData": ["summaries", "issues"], "apiVersion": "2021-08-01"}},
              "issues": issues,
              "summary": {"errors": len(issues), "warnings": 0, "messagesProcessed": len(message_map),
                          "messagesAccepted": len(message_map) - invalid, "messagesInvalid": invalid,
                          "itemSummary": {"items": len(items), "errors": 0, "warnings": 0}},
              "items": items}
    return gzip.compress(json.dumps(report, separators=(",", ":")).encode("utf-8"))


def run(url: str, messages: int) -> dict:
    upgrade(url)
    engine = make_engine(url)
    changes = [Change(SELLER, US, f"SKU-{i:06d}", Operation.PARTIAL_UPDATE,
                      {"productType": "LUGGAGE", "attributes": attributes(i)}, listing_hash=f"h{i}",
                      offer_hash=f"o{i}") for i in range(messages)]
    config = publishing.EngineConfig(feeds=FeedConfig(limits=FeedLimits(messages, 1 << 30, 5, 300)))
    started = time.perf_counter()
    plan = publishing.publish_changes(engine, changes, mode="feed", config=config)
    enqueue_s = time.perf_counter() - started
    [submission_id] = plan.feed_submissions
    with session_factory(engine).begin() as session:
        sub = session.get(FeedSubmission, submission_id)
        sub.status, sub.feed_id, sub.processing_status = "processed", "50000000001", "DONE"
        raw = build_report(sub.message_map, sub.feed_id)
    started = time.perf_counter()
    applied = ingest_report(engine, submission_id, raw)
    ingest_s = time.perf_counter() - started
    with session_factory(engine)() as session:
        states = dict(session.execute(sa.select(Listing.status, sa.func.count()).group_by(Listing.status)).all())
    engine.dispose()
    assert applied.accepted + applied.invalid == messages and applied.lost == 0, applied
    return {"messages": messages, "report_gzip_bytes": len(raw), "enqueue_and_plan_s": round(enqueue_s, 2),
            "ingest_s": round(ingest_s, 3), "accepted": applied.accepted, "invalid": applied.invalid,
            "listing_states": states}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=25_000)
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    args = parser.parse_args()
    bars = {"sqlite": 2.0, "postgres": 3.0}
    results = {}
    if args.backend in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as tmp:
            results["sqlite"] = run(f"sqlite:///{tmp}/bench.db", args.messages)
    if args.backend in ("postgres", "both"):
        schema = f"bench_{uuid.uuid4().hex[:10]}"
        admin = sa.create_engine(POSTGRES)
        with admin.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        try:
            results["postgres"] = run(f"{POSTGRES}?options=-csearch_path%3D{schema}", args.messages)
        finally:
            with admin.begin() as conn:
                conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    load = os.getloadavg()
    print(f"load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
    for backend, result in results.items():
        verdict = "pass" if result["ingest_s"] <= bars[backend] else "FAIL"
        print(f"{backend}: {result['messages']} messages → per-SKU state in {result['ingest_s']} s "
              f"(bar ≤ {bars[backend]} s: {verdict}); {json.dumps(result)}")


if __name__ == "__main__":
    main()
