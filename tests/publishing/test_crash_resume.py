"""kill -9 the `publish` process at seeded points, then `publish --resume`: same end state as a clean run, no change
applied twice, no duplicate feed."""

from __future__ import annotations

import json
import signal
from collections import Counter

import pytest

from tests.publishing.helpers import (
    amz,
    cli_env,
    sandbox_config,
    sandbox_history,
    sandbox_listings,
    write_catalog,
)


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
