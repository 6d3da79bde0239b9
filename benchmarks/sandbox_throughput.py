"""Sandbox throughput: is the sandbox ever the bottleneck of our own benchmarks?

Starts `amz-pipeline sandbox --no-usage-plans --feed-delay 0` as a separate process on a free loopback port, then, from
this process (an asyncio load generator on uvloop with a minimal keep-alive HTTP/1.1 client, so the generator costs
as little CPU as possible on a 2-core machine):

1. patchListingsItem: price patches (schema-validated by the sandbox, answered ACCEPTED) over N persistent
   connections for a fixed time after a warm-up; reports requests/s and latency p50/p99. Bar: >= 1,000 req/s.
2. JSON_LISTINGS_FEED: 25,000 PATCH messages (price updates of listings seeded beforehand through UPDATE feeds), timed
   from createFeed to DONE with processing delays at zero. Bar: <= 10 s, every message accepted.

    .venv/bin/python benchmarks/sandbox_throughput.py [--connections 64] [--duration 10] [--record]

Besides wall-clock numbers it reports the sandbox process's own CPU time per request and per feed (psutil): on a
shared 2-core machine the wall clock depends on what else runs, the CPU cost does not.

`--record` appends the results to benchmarks/RESULTS.md (machine and date included). Exit status 1 if a bar is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import itertools
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import schemas  # noqa: E402
from tests.support.sandbox import luggage_attributes, price_patch  # noqa: E402  (valid LUGGAGE data, one copy)

US = "ATVPDKIKX0DER"
PATCH_BAR_RPS = 1000.0
FEED_BAR_SECONDS = 10.0
FEED_MESSAGES = 25_000
SEED_MESSAGES_PER_FEED = 6_250  # UPDATE messages are ~1.3 KB; keep each document under the 10 MiB feed limit


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_sandbox(port: int) -> subprocess.Popen:
    exe = shutil.which("amz-pipeline", path=str(Path(sys.executable).parent)) or "amz-pipeline"
    cmd = [exe, "sandbox", "--host", "127.0.0.1", "--port", str(port), "--no-usage-plans", "--feed-delay", "0"]
    process = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the sandbox exited at start-up: {process.stderr.read().decode(errors='replace')}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("the sandbox did not start within 30 s")


def access_token(base_url: str) -> tuple[str, str]:
    seller = schemas.load_json("sandbox/demo_seller.json")
    form = {"grant_type": "refresh_token", "refresh_token": seller["refresh_token"],
            "client_id": seller["client_id"], "client_secret": seller["client_secret"]}
    response = httpx.post(f"{base_url}/auth/o2/token", data=form)
    response.raise_for_status()
    return seller["seller_id"], response.json()["access_token"]


# -- patchListingsItem load ------------------------------------------------------------------------------------


@dataclass
class LoadStats:
    latencies: list[float] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)

    def count(self, key: str) -> None:
        self.statuses[key] = self.statuses.get(key, 0) + 1


async def _patch_worker(counter: Iterator[int], port: int, seller_id: str, token: str, skus: list[str],
                        start: float, stop: float, stats: LoadStats) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head_template = (
        "PATCH /listings/2021-08-01/items/{seller}/{sku}?marketplaceIds=" + US + " HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{port}\r\nx-amz-access-token: {token}\r\ncontent-type: application/json\r\n"
        "content-length: {length}\r\n\r\n"
    )
    try:
        while (now := time.perf_counter()) < stop:
            i = next(counter)
            sku = skus[i % len(skus)]
            body = json.dumps(price_patch(10 + (i % 9000) / 100)).encode()
            writer.write(head_template.format(seller=seller_id, sku=sku, length=len(body)).encode() + body)
            head = await reader.readuntil(b"\r\n\r\n")
            status = head[9:12].decode()
            length = next(int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                          if line.lower().startswith(b"content-length:"))
            answer = await reader.readexactly(length)
            if now >= start:  # warm-up requests are not counted
                stats.latencies.append(time.perf_counter() - now)
                stats.count(status if status != "200" else json.loads(answer)["status"])
    finally:
        writer.close()


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) the sandbox process has used: a measure that does not depend on how busy the shared
    machine is, unlike wall-clock throughput."""
    import psutil

    times = psutil.Process(pid).cpu_times()
    return times.user + times.system


async def patch_load(port: int, seller_id: str, token: str, skus: list[str], connections: int, warmup: float,
                     duration: float, sandbox_pid: int) -> dict[str, Any]:
    stats = LoadStats()
    start = time.perf_counter() + warmup
    stop = start + duration
    counter = itertools.count()

    async def cpu_at_start() -> tuple[float, float]:
        await asyncio.sleep(max(0.0, start - time.perf_counter()))
        return cpu_seconds(sandbox_pid), time.process_time()

    (cpu_before, own_before), *_ = await asyncio.gather(
        cpu_at_start(),
        *(_patch_worker(counter, port, seller_id, token, skus, start, stop, stats) for _ in range(connections)),
    )
    cpu_used, own_used = cpu_seconds(sandbox_pid) - cpu_before, time.process_time() - own_before
    latencies = sorted(stats.latencies)
    return {
        "requests": len(latencies),
        "rps": len(latencies) / duration,
        "sandbox_cpu_us_per_request": cpu_used / len(latencies) * 1e6,
        "sandbox_cpu_share": cpu_used / duration,
        "generator_cpu_share": own_used / duration,
        "p50_ms": latencies[len(latencies) // 2] * 1000,
        "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
        "outcomes": stats.statuses,
    }


# -- feeds ----------------------------------------------------------------------------------------------------


def run_feed(client: httpx.Client, seller_id: str, messages: list[dict[str, Any]],
             sandbox_pid: int) -> dict[str, Any]:
    document = {"header": {"sellerId": seller_id, "version": "2.0", "issueLocale": "en_US"}, "messages": messages}
    data = json.dumps(document, separators=(",", ":")).encode()
    content_type = "application/json; charset=UTF-8"
    created = client.post("/feeds/2021-06-30/documents", json={"contentType": content_type})
    created.raise_for_status()
    client.put(created.json()["url"], content=data, headers={"content-type": content_type}).raise_for_status()
    submitted_at, cpu_before = time.perf_counter(), cpu_seconds(sandbox_pid)
    feed = client.post("/feeds/2021-06-30/feeds", json={"feedType": "JSON_LISTINGS_FEED", "marketplaceIds": [US],
                                                         "inputFeedDocumentId": created.json()["feedDocumentId"]})
    feed.raise_for_status()
    feed_id = feed.json()["feedId"]
    while True:
        state = client.get(f"/feeds/2021-06-30/feeds/{feed_id}").json()
        if state["processingStatus"] in ("DONE", "FATAL", "CANCELLED"):
            break
        time.sleep(0.05)
    seconds, cpu_used = time.perf_counter() - submitted_at, cpu_seconds(sandbox_pid) - cpu_before
    summary: dict[str, Any] = {}
    if state.get("resultFeedDocumentId"):
        link = client.get(f"/feeds/2021-06-30/documents/{state['resultFeedDocumentId']}").json()
        raw = httpx.get(link["url"]).content
        report = json.loads(gzip.decompress(raw) if link.get("compressionAlgorithm") == "GZIP" else raw)
        summary = report.get("summary", {})
    return {"status": state["processingStatus"], "seconds": seconds, "sandbox_cpu_seconds": cpu_used,
            "bytes": len(data), "summary": summary}


def seed_listings(client: httpx.Client, seller_id: str, skus: list[str], sandbox_pid: int) -> float:
    started = time.perf_counter()
    attributes = luggage_attributes()
    for first in range(0, len(skus), SEED_MESSAGES_PER_FEED):
        batch = skus[first:first + SEED_MESSAGES_PER_FEED]
        messages = [{"messageId": i + 1, "sku": sku, "operationType": "UPDATE", "productType": "LUGGAGE",
                     "requirements": "LISTING", "attributes": attributes} for i, sku in enumerate(batch)]
        result = run_feed(client, seller_id, messages, sandbox_pid)
        if result["status"] != "DONE" or result["summary"].get("messagesAccepted") != len(batch):
            raise SystemExit(f"seeding feed failed: {result}")
    return time.perf_counter() - started


def price_feed(client: httpx.Client, seller_id: str, skus: list[str], sandbox_pid: int) -> dict[str, Any]:
    messages = [{"messageId": i + 1, "sku": sku, "operationType": "PATCH", "productType": "LUGGAGE",
                 "patches": price_patch(20 + (i % 5000) / 100)["patches"]} for i, sku in enumerate(skus)]
    return run_feed(client, seller_id, messages, sandbox_pid)


# -- profile (optional) ---------------------------------------------------------------------------------------


class Profiler:
    """`py-spy record` on the sandbox process while a phase runs (pip install py-spy; needs ptrace rights)."""

    def __init__(self, pid: int, directory: Path | None) -> None:
        self.pid, self.directory = pid, directory
        self.process: subprocess.Popen | None = None

    def start(self, phase: str) -> None:
        if self.directory is None:
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        self.output = self.directory / f"sandbox-{phase}.collapsed.txt"
        exe = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or "py-spy"
        self.process = subprocess.Popen([exe, "record", "--pid", str(self.pid), "--format", "raw", "--rate", "200",
                                         "--output", str(self.output)], stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
        time.sleep(0.5)

    def stop(self) -> list[tuple[str, float]]:
        """Stop recording; the functions with the most self time (share of samples)."""
        if self.process is None:
            return []
        self.process.send_signal(subprocess.signal.SIGINT)
        self.process.wait(30)
        self.process = None
        own: dict[str, int] = {}
        total = 0
        for line in self.output.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            leaf = stack.rsplit(";", 1)[-1]
            own[leaf] = own.get(leaf, 0) + int(count)
            total += int(count)
        return [(name, n / total) for name, n in sorted(own.items(), key=lambda kv: -kv[1])[:15]]


# -- report ---------------------------------------------------------------------------------------------------


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor() or "unknown CPU")
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()} "
            f"{platform.release()}; load average before the run {load} (the machine is shared)")


def markdown(result: dict[str, Any]) -> str:
    patch, feed = result["patch"], result["feed"]
    ok = lambda passed: "**pass**" if passed else "**MISSED**"  # noqa: E731
    return "\n".join([
        "",
        f"## Sandbox throughput ({result['date']})",
        "",
        f"Machine: {result['machine']}. Command: `.venv/bin/python benchmarks/sandbox_throughput.py "
        f"--connections {result['connections']} --duration {result['duration']:g}`. The sandbox runs as its own "
        "process (`amz-pipeline sandbox --no-usage-plans --feed-delay 0`, uvicorn + uvloop + httptools); the load "
        "generator is a separate asyncio process with keep-alive HTTP/1.1 connections.",
        "",
        "| Measure | Result | Bar |",
        "|---|---|---|",
        f"| patchListingsItem price patches, {result['connections']} connections, {patch['requests']:,} requests "
        f"in {result['duration']:g} s | **{patch['rps']:,.0f} req/s**, p50 {patch['p50_ms']:.1f} ms, "
        f"p99 {patch['p99_ms']:.1f} ms; outcomes {patch['outcomes']}; sandbox CPU "
        f"{patch['sandbox_cpu_us_per_request']:.0f} µs/request (it got {patch['sandbox_cpu_share']:.0%} of a core, the "
        f"load generator {patch['generator_cpu_share']:.0%}; with a core to itself the sandbox would serve "
        f"~{1e6 / patch['sandbox_cpu_us_per_request']:,.0f} req/s) "
        f"| >= 1,000 req/s: {ok(patch['rps'] >= PATCH_BAR_RPS)} |",
        f"| JSON_LISTINGS_FEED, {FEED_MESSAGES:,} PATCH messages ({feed['bytes'] / 1e6:.1f} MB), createFeed -> DONE "
        f"| **{feed['seconds']:.2f} s** ({FEED_MESSAGES / feed['seconds']:,.0f} messages/s; sandbox CPU "
        f"{feed['sandbox_cpu_seconds']:.2f} s); "
        f"accepted {feed['summary'].get('messagesAccepted')}, invalid {feed['summary'].get('messagesInvalid')} "
        f"| <= 10 s: {ok(feed['seconds'] <= FEED_BAR_SECONDS and feed['summary'].get('messagesAccepted') == FEED_MESSAGES)} |",
        f"| Seeding {FEED_MESSAGES:,} listings through UPDATE feeds of {SEED_MESSAGES_PER_FEED:,} messages "
        f"(full LUGGAGE attribute sets) | {result['seed_seconds']:.1f} s | (not a bar) |",
        "",
        *([result["note"], ""] if result.get("note") else []),
        *(_hot_spots(name, result[name]["profile"]) for name in ("patch", "feed") if result[name].get("profile")),
    ])


def _hot_spots(phase: str, profile: list[tuple[str, float]]) -> str:
    rows = "\n".join(f"  - {share:.1%} `{name}`" for name, share in profile[:8])
    return f"Sandbox hot spots during the {phase} phase (py-spy, self time):\n\n{rows}\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--duration", type=float, default=10.0, help="measured seconds of patch load")
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--skus", type=int, default=2000, help="distinct SKUs the patch load cycles through")
    parser.add_argument("--record", action="store_true", help="append the results to benchmarks/RESULTS.md")
    parser.add_argument("--profile", type=Path, default=None, metavar="DIR",
                        help="record py-spy profiles of the sandbox per phase into DIR and print the hot spots")
    parser.add_argument("--note", default="", help="a sentence recorded with the results (e.g. what was changed)")
    args = parser.parse_args()

    machine_line = machine()
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    sandbox = start_sandbox(port)
    try:
        seller_id, token = access_token(base_url)
        skus = [f"BENCH-{i:05d}" for i in range(FEED_MESSAGES)]
        with httpx.Client(base_url=base_url, headers={"x-amz-access-token": token}, timeout=120) as client:
            seed_seconds = seed_listings(client, seller_id, skus, sandbox.pid)
            import uvloop

            profiler = Profiler(sandbox.pid, args.profile)
            profiler.start("patch")
            patch = uvloop.run(patch_load(port, seller_id, token, skus[: args.skus], args.connections,
                                          args.warmup, args.duration, sandbox.pid))
            patch["profile"] = profiler.stop()
            profiler.start("feed")
            feed = price_feed(client, seller_id, skus, sandbox.pid)
            feed["profile"] = profiler.stop()
    finally:
        sandbox.terminate()
        sandbox.wait(10)
    result = {"date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "machine": machine_line,
              "connections": args.connections, "duration": args.duration, "patch": patch, "feed": feed,
              "seed_seconds": seed_seconds, "note": args.note}
    print(json.dumps(result, indent=2))
    if args.record:
        with (ROOT / "benchmarks" / "RESULTS.md").open("a", encoding="utf-8") as out:
            out.write(markdown(result))
    passed = patch["rps"] >= PATCH_BAR_RPS and feed["seconds"] <= FEED_BAR_SECONDS \
        and feed["summary"].get("messagesAccepted") == FEED_MESSAGES
    return 0 if passed else 1


if __name__ == "__main__":
    raise SystemExit(main())
