"""Two OS processes share one seller's budget through the database and stay inside the sandbox's enforced plan."""

from __future__ import annotations

import multiprocessing

import httpx
import pytest

import schemas
from tests.spapi.spapi_support import client_kwargs, patch_worker
from tests.support.sandbox import luggage_attributes

SPEED = 4  # patchListingsItem: 5/s x 4 = 20/s, burst 5 (the sandbox scales rates, not bursts)
PER_PROCESS = 60


@pytest.mark.slow
def test_two_processes_sharing_the_db_bucket_get_at_most_1pct_429(sandbox_server, demo_seller, db_url):
    from amz_pipeline.spapi import SyncSPAPIClient

    base = sandbox_server.base_url
    httpx.post(base + "/_sandbox/config", json={"speed": SPEED}, timeout=10).raise_for_status()
    with SyncSPAPIClient(**client_kwargs(demo_seller, base)) as setup:
        for sku in ("SHARED-A", "SHARED-B"):
            setup.put_listings_item(sku, "US", {"productType": "LUGGAGE", "attributes": luggage_attributes()})
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    procs = [ctx.Process(target=patch_worker,
                         args=(base, demo_seller, db_url, [sku] * PER_PROCESS, 6, out))
             for sku in ("SHARED-A", "SHARED-B")]
    for p in procs:
        p.start()
    snapshots = [out.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(30)
        assert p.exitcode == 0
    sent = sum(s["operations"]["patchListingsItem"]["requests"] for s in snapshots)
    throttled = sum(s["operations"]["patchListingsItem"]["throttles"] for s in snapshots)
    served = {(r["operation"], r["status"]): r["count"]
              for r in httpx.get(base + "/_sandbox/requests", timeout=10).json()["requests"]
              if r["seller_id"] == demo_seller["seller_id"]}
    assert served[("patchListingsItem", 200)] == 2 * PER_PROCESS
    assert served.get(("patchListingsItem", 429), 0) == throttled
    assert throttled <= 0.01 * sent, snapshots
    # the shared budget was actually used at the plan's rate (the sandbox header raised 5/s to 20/s)
    rate = schemas.load_json("spapi/usage_plans.json")["operations"]["patchListingsItem"]["rate"] * SPEED
    waited = sum(s["limiter_wait_s"] for s in snapshots)
    assert waited > 0 and rate == 20
