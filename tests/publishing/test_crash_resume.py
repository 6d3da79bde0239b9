"""kill -9 the `publish` process at seeded points, then `publish --resume`: same end state as a clean run, no change
applied twice, no duplicate feed."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from tests.publishing.helpers import sandbox_config, sandbox_history, sandbox_listings

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "samples" / "catalog_us.csv"
ROWS = 12


def write_catalog(path: Path, rows: int = ROWS) -> dict[str, float]:
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


def assert_converged(server, seller_id: str, prices: dict[str, float], *, channel: str) -> list[dict]:
    remote = sandbox_listings(server, seller_id)
    assert set(remote) == set(prices)
    for sku, price in prices.items():
        offer = remote[sku]["attributes"]["purchasable_offer"][0]
        assert offer["our_price"][0]["schedule"][0]["value_with_tax"] == price
    history = sandbox_history(server, seller_id)
    applied = Counter((h["sku"], h["payload_hash"]) for h in history)
    assert max(applied.values()) == 1, "a change was applied twice"
    assert {h["channel"] for h in history} == {channel}
    return history


@pytest.mark.parametrize(("point", "after", "mode", "channel"), [
    ("before_enqueue", "1", "listings", "listings"),
    ("after_upload", "1", "feed", "feed"),
    ("after_create_feed", "1", "feed", "feed"),
    ("during_report", "1", "feed", "feed"),
    ("mid_patch_batch", "5", "listings", "listings"),
])
def test_kill_and_resume_converges(point, after, mode, channel, tmp_path, sandbox_server, demo_seller):
    kill_and_resume(point, after, mode, channel, tmp_path, sandbox_server, demo_seller)


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_kill_and_resume_on_postgres(db_url, tmp_path, sandbox_server, demo_seller):
    kill_and_resume("mid_patch_batch", "4", "listings", "listings", tmp_path, sandbox_server, demo_seller, db_url)


def kill_and_resume(point, after, mode, channel, tmp_path, sandbox_server, demo_seller, database_url=None):
    sandbox_config(sandbox_server, speed=10)
    catalog = tmp_path / "catalog.csv"
    prices = write_catalog(catalog)
    args = ["publish", str(catalog), "--seller", demo_seller["seller_id"], "--marketplace", "US", "--mode", mode,
            "--wait"]
    crashed = amz(cli_env(tmp_path, sandbox_server, demo_seller, database_url, AMZ_CRASH_AT=point,
                          AMZ_CRASH_AFTER=after), *args)
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr[-2000:]
    resumed = amz(cli_env(tmp_path, sandbox_server, demo_seller, database_url), "publish", "--resume")
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr[-2000:]
    history = assert_converged(sandbox_server, demo_seller["seller_id"], prices, channel=channel)
    if channel == "feed":
        assert len({h["ref"] for h in history}) == 1, "the same content went out in two feeds"
    status = amz(cli_env(tmp_path, sandbox_server, demo_seller, database_url), "status", "--seller",
                 demo_seller["seller_id"], "--json")
    states = {row["sku"]: row["status"] for row in json.loads(status.stdout)}
    assert set(states) == set(prices) and set(states.values()) <= {"accepted", "live"}
    again = amz(cli_env(tmp_path, sandbox_server, demo_seller, database_url), "publish", "--resume")
    assert again.returncode == 0 and "nothing to resume" in again.stdout


def test_clean_run_and_exit_codes(tmp_path, sandbox_server, demo_seller):
    sandbox_config(sandbox_server, speed=10)
    catalog = tmp_path / "catalog.csv"
    prices = write_catalog(catalog, rows=5)
    env = cli_env(tmp_path, sandbox_server, demo_seller)
    ok = amz(env, "publish", str(catalog), "--seller", demo_seller["seller_id"], "--marketplace", "US", "--wait")
    assert ok.returncode == 0, ok.stdout + ok.stderr[-2000:]
    assert_converged(sandbox_server, demo_seller["seller_id"], prices, channel="listings")
    # rows for another marketplace are rejected with that reason: finished with problems → 1
    with catalog.open("a", newline="", encoding="utf-8") as handle:
        handle.write(catalog.read_text(encoding="utf-8").splitlines()[1].replace("CR-0000", "CR-DE", 1)
                     .replace(",US,", ",DE,", 1) + "\n")
    mixed = amz(env, "publish", str(catalog), "--seller", demo_seller["seller_id"], "--marketplace", "US")
    assert mixed.returncode == 1, mixed.stdout + mixed.stderr[-2000:]
    missing = amz(env, "publish", str(tmp_path / "nope.csv"), "--seller", demo_seller["seller_id"])
    assert missing.returncode == 2 and "no such file" in missing.stderr
    bad_env = dict(env, AMZ_REGION="XX")
    assert amz(bad_env, "publish", str(catalog), "--seller", demo_seller["seller_id"]).returncode == 2
    assert demo_seller["client_secret"] not in ok.stdout + ok.stderr + mixed.stdout + mixed.stderr
