"""SP-API client throughput against the sandbox enforcing the listings usage plan.

Patches N SKUs (default 2,000) for one seller, then for 4 sellers at once, with our limiter on and off (off = send as
fast as the tasks can and retry 429s only). The sandbox runs as its own process (`amz-pipeline sandbox --speed S`) so it
never shares a GIL with the client. Reported per run: achieved patch rate per seller against the allowed rate (the
`x-amzn-RateLimit-Limit` the sandbox reports, i.e. the model's 5/s x speed), share of requests answered 429, p50/p99.

    .venv/bin/python benchmarks/client_throughput.py [--skus 2000] [--speed 10] [--concurrency 16] [--record]

Bars (issue 4): limiter on -> achieved >= 95% of allowed and <= 1% of requests 429, for 1 and for 4 sellers.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import schemas  # noqa: E402
from amz_pipeline.spapi import LWACredentials, RateLimiter, RetryPolicy, SPAPIClient, TokenCache  # noqa: E402
from amz_pipeline.spapi.ratelimit import MemoryBucketStore  # noqa: E402
from tests.support.sandbox import luggage_attributes  # noqa: E402

US = "ATVPDKIKX0DER"
OPERATION = "patchListingsItem"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _sellers(count: int) -> list[dict[str, str]]:
    demo = dict(schemas.load_json("sandbox/demo_seller.json"))
    extra = [{"seller_id": f"A{n}BENCHSELLER", "client_id": f"amzn1.application-oa2-client.bench{n}",
              "client_secret": f"bench-secret-{n}", "refresh_token": f"Atzr|bench-refresh-{n}", "region": "NA"}
             for n in range(2, count + 1)]
    return [demo, *extra]


def _patch(sku_n: int) -> dict[str, Any]:
    return {"productType": "LUGGAGE", "patches": [{
        "op": "replace", "path": "/attributes/purchasable_offer",
        "value": [{"marketplace_id": US, "currency": "USD", "audience": "ALL",
                   "our_price": [{"schedule": [{"value_with_tax": round(10 + sku_n % 500 / 10, 2)}]}]}]}]}


def _fulfillment(quantity: int) -> dict[str, Any]:
    return {"productType": "LUGGAGE", "patches": [{
        "op": "replace", "path": "/attributes/fulfillment_availability",
        "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": quantity}]}]}


async def _seed(client: SPAPIClient, seller: dict[str, str], tag: str, skus: int) -> None:
    """Create the listings through one JSON_LISTINGS_FEED (so the benchmark patches live listings)."""
    messages = [{"messageId": n + 1, "sku": f"{tag}-{n:05d}", "operationType": "UPDATE", "productType": "LUGGAGE",
                 "attributes": luggage_attributes()} for n in range(skus)]
    document = {"header": {"sellerId": seller["seller_id"], "version": "2.0"}, "messages": messages}
    doc_id = await client.submit_feed_document(json.dumps(document))
    feed = await client.create_feed("JSON_LISTINGS_FEED", [US], doc_id)
    while not (status := await client.get_feed(feed.feed_id)).is_terminal:
        await asyncio.sleep(1.0)
    if status.processing_status != "DONE":
        raise SystemExit(f"seeding feed ended {status.processing_status}")


async def _run_seller(base: str, seller: dict[str, str], skus: int, concurrency: int, limiter_on: bool,
                      tag: str) -> dict[str, Any]:
    client = SPAPIClient(
        seller_id=seller["seller_id"], region="NA",
        credentials=LWACredentials(seller["client_id"], seller["client_secret"], seller["refresh_token"]),
        endpoint=base, lwa_token_url=base + "/auth/o2/token", token_cache=TokenCache(),
        limiter=RateLimiter(MemoryBucketStore()) if limiter_on else None, rate_limit=limiter_on,
        retry=RetryPolicy(max_attempts=30, max_elapsed_seconds=600),
        transport=httpx.AsyncHTTPTransport(limits=httpx.Limits(max_connections=concurrency)))
    queue = list(range(skus))
    statuses: dict[str, int] = {}
    async with client:
        await _seed(client, seller, tag, skus)
        # one warm-up call: token, connection, and the rate header the limiter adopts
        await client.patch_listings_item(f"{tag}-00000", US, _fulfillment(1))
        client.metrics.reset()
        started = time.monotonic()

        async def work() -> None:
            while queue:
                n = queue.pop()
                result = await client.patch_listings_item(f"{tag}-{n:05d}", US, _patch(n))
                statuses[result.status] = statuses.get(result.status, 0) + 1

        await asyncio.gather(*(work() for _ in range(concurrency)))
        elapsed = time.monotonic() - started
    snap = client.metrics.snapshot()
    op = snap["operations"][OPERATION]
    return {"seller": seller["seller_id"], "elapsed": elapsed, "done": sum(statuses.values()), "statuses": statuses,
            "requests": op["requests"], "throttles": op["throttles"], "p50": op["latency_ms"]["p50"],
            "p99": op["latency_ms"]["p99"]}


async def _scenario(base: str, sellers: list[dict[str, str]], skus: int, concurrency: int, limiter_on: bool,
                    allowed: float, label: str) -> dict[str, Any]:
    httpx.post(base + "/_sandbox/reset", timeout=30).raise_for_status()
    for seller in sellers[1:]:
        httpx.post(base + "/_sandbox/sellers", json=seller, timeout=30).raise_for_status()
    runs = await asyncio.gather(*(_run_seller(base, s, skus, concurrency, limiter_on, f"{label}{i}")
                                  for i, s in enumerate(sellers)))
    served = httpx.get(base + "/_sandbox/requests", timeout=30).json()["requests"]
    server_429 = sum(r["count"] for r in served if r["operation"] == OPERATION and r["status"] == 429)
    requests = sum(r["requests"] for r in runs)
    throttles = sum(r["throttles"] for r in runs)
    rates = [r["done"] / r["elapsed"] for r in runs]
    return {"label": label, "sellers": len(sellers), "limiter": limiter_on, "skus": skus * len(sellers),
            "elapsed": max(r["elapsed"] for r in runs), "rate_min": min(rates), "rate_mean": sum(rates) / len(rates),
            "allowed": allowed, "requests": requests, "throttles": throttles, "server_429": server_429,
            "p50": max(r["p50"] for r in runs), "p99": max(r["p99"] for r in runs),
            "statuses": {k: sum(r["statuses"].get(k, 0) for r in runs) for k in {"ACCEPTED", "INVALID"}}}


def _row(r: dict[str, Any]) -> str:
    share = r["throttles"] / r["requests"] if r["requests"] else 0.0
    achieved = r["rate_min"] / r["allowed"]
    verdict = ""
    if r["limiter"]:
        ok = achieved >= 0.95 and share <= 0.01
        verdict = "**pass**" if ok else "**MISSED**"
    return (f"| {r['sellers']} seller(s), limiter {'on' if r['limiter'] else 'off'} | {r['skus']:,} | "
            f"{r['elapsed']:.1f} s | {r['rate_min']:.1f}/s ({achieved:.1%} of {r['allowed']:g}/s) | "
            f"{r['requests']:,} | {r['throttles']:,} ({share:.2%}) | {r['p50']} / {r['p99']} ms | {verdict} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--skus", type=int, default=2000)
    parser.add_argument("--speed", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=32, help="in-flight patches per seller")
    parser.add_argument("--sellers", default="1,4", help="seller counts to run, comma-separated")
    parser.add_argument("--modes", default="on,off", help="limiter modes to run: on, off or both")
    parser.add_argument("--record", action="store_true", help="append the results to benchmarks/RESULTS.md")
    args = parser.parse_args()

    plan_rate = schemas.load_json("spapi/usage_plans.json")["operations"][OPERATION]["rate"]
    allowed = plan_rate * args.speed
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [str(ROOT / ".venv/bin/amz-pipeline"), "sandbox", "--port", str(port), "--speed", str(args.speed),
         "--feed-delay", "0"], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(200):
            try:
                if httpx.get(base + "/_sandbox/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            raise SystemExit("the sandbox did not start")
        results = []
        for sellers in (int(n) for n in args.sellers.split(",")):
            for limiter_on in (mode == "on" for mode in args.modes.split(",")):
                label = f"s{sellers}{'on' if limiter_on else 'off'}"
                result = asyncio.run(_scenario(base, _sellers(sellers), args.skus, args.concurrency, limiter_on,
                                               allowed, label))
                results.append(result)
                print(_row(result), flush=True)
    finally:
        server.terminate()
        server.wait(10)

    load = os.getloadavg()
    header = (f"\n## SP-API client throughput ({dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC)\n\n"
              f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python "
              f"{platform.python_version()}, {platform.system()} {platform.release()}; load average during the run "
              f"{load[0]:.1f}/{load[1]:.1f} (shared machine). Command: `.venv/bin/python benchmarks/client_throughput.py "
              f"--skus {args.skus} --speed {args.speed:g} --concurrency {args.concurrency}`. The sandbox runs as its own "
              f"process enforcing the usage plans at speed {args.speed:g} (patchListingsItem {allowed:g}/s per seller, "
              f"burst from the model); each seller's client keeps {args.concurrency} patches in flight; 'limiter off' "
              f"sends as fast as it can and retries 429s (full-jitter backoff, at least one token interval).\n\n"
              "| Run | SKUs | Time | Achieved rate per seller (slowest) | Requests | 429s | p50 / p99 | Bar (>= 95%, <= 1% 429) |\n"
              "|---|---|---|---|---|---|---|---|\n")
    table = header + "\n".join(_row(r) for r in results) + "\n"
    print(table)
    if args.record:
        with open(ROOT / "benchmarks" / "RESULTS.md", "a", encoding="utf-8") as fh:
            fh.write(table)


if __name__ == "__main__":
    main()
