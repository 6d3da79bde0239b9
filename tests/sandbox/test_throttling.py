"""Usage plans: token buckets from schemas/spapi/usage_plans.json and limits.json, scaled by speed."""

from __future__ import annotations

import asyncio
import contextlib
import json

import httpx
import pytest

import schemas
from amz_pipeline.sandbox import SandboxConfig, create_app
from tests.support.sandbox import SANDBOX_BASE_URL, US, access_token, luggage_attributes, price_patch

SELLER = "A1DEMOSELLER01"
ITEM = f"/listings/2021-08-01/items/{SELLER}/T-1"
PLANS = schemas.load_json("spapi/usage_plans.json")["operations"]
QUOTA_BODY = {"errors": [{"code": "QuotaExceeded", "message": "You exceeded your quota for the requested resource.",
                          "details": ""}]}


class SteppedClock:
    """Time that moves only when the test says so, so bucket arithmetic is exact on a busy machine."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@contextlib.asynccontextmanager
async def client_for(speed: float, clock: SteppedClock | None = None):
    app = create_app(SandboxConfig(public_base_url=SANDBOX_BASE_URL, speed=speed, feed_processing_delay_seconds=60))
    if clock is not None:
        app.state.sandbox.plans.clock = clock
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=SANDBOX_BASE_URL) as client:
        client.headers["x-amz-access-token"] = await access_token(client)
        yield client


async def patches(client, count: int) -> list[httpx.Response]:
    return [await client.patch(ITEM, params={"marketplaceIds": US}, json=price_patch(9 + i)) for i in range(count)]


async def gets(client, count: int) -> list[httpx.Response]:
    return [await client.get(ITEM, params={"marketplaceIds": US}) for _ in range(count)]


@pytest.mark.parametrize("speed", [1, 2])
async def test_burst_then_429_then_refill_at_the_plan_rate(speed):
    plan = PLANS["getListingsItem"]
    clock = SteppedClock()
    async with client_for(speed, clock) as client:
        burst = await gets(client, plan["burst"] + 1)
        assert [r.status_code for r in burst] == [404] * plan["burst"] + [429]
        assert burst[0].headers["x-amzn-ratelimit-limit"] == repr(float(plan["rate"] * speed))
        throttled = burst[-1]
        assert throttled.json() == QUOTA_BODY and "x-amzn-ratelimit-limit" not in throttled.headers
        # 2.5 tokens' worth of time: two more requests pass, the third is throttled again
        clock.now += 2.5 / (plan["rate"] * speed)
        again = await gets(client, 3)
        assert [r.status_code for r in again] == [404, 404, 429]
        clock.now += 100  # a long pause refills to the burst, never beyond
        assert [r.status_code for r in await gets(client, plan["burst"] + 1)] == [404] * plan["burst"] + [429]
        log = (await client.get("/_sandbox/requests")).json()["requests"]
        counts = {(r["operation"], r["status"]): r["count"] for r in log if r["seller_id"] == SELLER}
        assert counts[("getListingsItem", 429)] == 3 and counts[("getListingsItem", 404)] == 2 * plan["burst"] + 2


async def test_refill_in_real_time():
    plan = PLANS["getListingsItem"]
    async with client_for(2) as client:  # 10 tokens/s
        statuses = [r.status_code for r in await gets(client, plan["burst"] * 3)]
        assert 429 in statuses
        await asyncio.sleep(1.5 / (plan["rate"] * 2))
        assert (await gets(client, 1))[0].status_code == 404


async def test_patch_burst_is_the_patch_plan():
    plan = PLANS["patchListingsItem"]
    async with client_for(1, SteppedClock()) as client:
        statuses = [r.status_code for r in await patches(client, plan["burst"] + 1)]
        assert statuses == [200] * plan["burst"] + [429]


async def test_speed_scales_the_header_and_is_settable_at_run_time():
    async with client_for(1) as client:
        get = await client.get(ITEM, params={"marketplaceIds": US})
        assert get.status_code == 404 and get.headers["x-amzn-ratelimit-limit"] == "5.0"
        await client.post("/_sandbox/config", json={"speed": 4})
        get = await client.get(ITEM, params={"marketplaceIds": US})
        assert get.headers["x-amzn-ratelimit-limit"] == "20.0"
        feeds = await client.get("/feeds/2021-06-30/feeds", params={"feedTypes": "JSON_LISTINGS_FEED"})
        assert feeds.headers["x-amzn-ratelimit-limit"] == repr(PLANS["getFeeds"]["rate"] * 4)


async def test_json_listings_feed_submissions_per_window():
    limit = schemas.load_json("spapi/limits.json")["feed_types"]["JSON_LISTINGS_FEED"]
    async with client_for(1) as client:
        statuses = []
        for _ in range(limit["submissions_per_window"] + 1):
            created = (await client.post("/feeds/2021-06-30/documents", json={"contentType": "application/json"})).json()
            await client.put(created["url"], content=b"{}", headers={"content-type": "application/json"})
            feed = await client.post("/feeds/2021-06-30/feeds", json={
                "feedType": "JSON_LISTINGS_FEED", "marketplaceIds": [US], "inputFeedDocumentId": created["feedDocumentId"]})
            statuses.append(feed.status_code)
        assert statuses == [202] * limit["submissions_per_window"] + [429]


async def test_plans_can_be_switched_off():
    async with client_for(1) as client:
        await client.post("/_sandbox/config", json={"enforce_usage_plans": False})
        put = await client.put(ITEM, params={"marketplaceIds": US},
                               json={"productType": "LUGGAGE", "attributes": luggage_attributes()})
        assert put.json()["status"] == "ACCEPTED", json.dumps(put.json())
        assert {r.status_code for r in await patches(client, 30)} == {200}
