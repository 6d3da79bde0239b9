"""Details of the sandbox's runtime that other tests do not pin: getFeeds' nextToken exclusivity (per the model),
the garbage-collector pause around feed processing, and incremental validation agreeing with full validation."""

from __future__ import annotations

import asyncio
import copy
import gc
import json

import httpx
import pytest

from amz_pipeline.sandbox.feed_processing import collector_paused
from amz_pipeline.sandbox.product_types import CATALOG
from tests.support.sandbox import SANDBOX_BASE_URL, US, luggage_attributes

SELLER = "A1DEMOSELLER01"


async def feed(api, messages: list[dict]) -> str:
    created = (await api.post("/feeds/2021-06-30/documents", json={"contentType": "application/json"})).json()
    document = {"header": {"sellerId": SELLER, "version": "2.0"}, "messages": messages}
    await api.put(created["url"], content=json.dumps(document).encode(), headers={"content-type": "application/json"})
    response = await api.post("/feeds/2021-06-30/feeds", json={
        "feedType": "JSON_LISTINGS_FEED", "marketplaceIds": [US], "inputFeedDocumentId": created["feedDocumentId"]})
    assert response.status_code == 202
    feed_id = response.json()["feedId"]
    for _ in range(500):
        if (await api.get(f"/feeds/2021-06-30/feeds/{feed_id}")).json()["processingStatus"] == "DONE":
            return feed_id
        await asyncio.sleep(0.01)
    raise AssertionError("feed not done")


async def test_get_feeds_next_token_must_come_alone(api):
    for sku in ("N-1", "N-2"):
        await feed(api, [{"messageId": 1, "sku": sku, "operationType": "DELETE"}])
    first = (await api.get("/feeds/2021-06-30/feeds", params={"feedTypes": "JSON_LISTINGS_FEED",
                                                              "pageSize": 1})).json()
    token = first["nextToken"]
    alone = await api.get("/feeds/2021-06-30/feeds", params={"nextToken": token, "someClientExtra": "1"})
    assert alone.status_code == 200 and len(alone.json()["feeds"]) == 1  # unknown parameters stay tolerated
    for extra in ({"feedTypes": "JSON_LISTINGS_FEED"}, {"pageSize": 5}, {"processingStatuses": "DONE"}):
        mixed = await api.get("/feeds/2021-06-30/feeds", params={"nextToken": token, **extra})
        assert mixed.status_code == 400, extra
        assert mixed.json()["errors"][0]["code"] == "InvalidInput" and next(iter(extra)) in \
            mixed.json()["errors"][0]["details"]


def test_collector_pause_nests_and_restores():
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the outer feed is still running
    assert gc.isenabled()
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()  # switched off by someone else: left off
    finally:
        gc.enable()


async def test_feeds_freeze_what_they_created_and_reset_unfreezes(api):
    gc.unfreeze()
    await feed(api, [{"messageId": 1, "sku": "G-1", "operationType": "UPDATE", "productType": "LUGGAGE",
                      "attributes": luggage_attributes()}])
    assert gc.isenabled() and gc.get_freeze_count() > 0
    await api.post("/_sandbox/reset")
    assert gc.get_freeze_count() == 0


@pytest.mark.parametrize("mutation", ["valid", "missing_required", "bad_value", "too_many", "locked", "unknown"])
def test_incremental_validation_reports_what_full_validation_reports(mutation):
    validator = CATALOG.validator("LUGGAGE", "LISTING")
    stored = luggage_attributes()
    assert validator.validate(stored) == []
    changed = copy.deepcopy(stored)
    names = ["purchasable_offer"]
    changed["purchasable_offer"][0]["our_price"][0]["schedule"][0]["value_with_tax"] = 5
    if mutation == "missing_required":
        del changed["brand"]
        names.append("brand")
    elif mutation == "bad_value":
        changed["purchasable_offer"][0]["our_price"][0]["schedule"][0]["value_with_tax"] = "cheap"
    elif mutation == "too_many":
        changed["item_name"].append(dict(changed["item_name"][0], value="Second"))
        names.append("item_name")
    elif mutation == "locked":
        changed["externally_assigned_product_identifier"][0]["value"] = "5901234123457"
        names.append("externally_assigned_product_identifier")
    elif mutation == "unknown":
        changed["colour"] = [{"value": "red"}]
        names.append("colour")
    incremental = validator.validate(changed, stored, changed=names)
    assert incremental == validator.validate(changed, stored)
    assert bool(incremental) == (mutation != "valid")


def test_new_listing_results_are_remembered_by_canonical_attributes_only():
    validator = CATALOG.validator("LUGGAGE", "LISTING")
    broken = luggage_attributes()
    del broken["brand"]
    first = validator.validate(broken)
    reordered = dict(reversed(list(copy.deepcopy(broken).items())))  # same JSON, other key order: same answer
    assert validator.validate(reordered) == first and first
    assert validator.validate(broken, report_style=True) != first  # report style is part of the key
    fixed = copy.deepcopy(broken)
    fixed["brand"] = luggage_attributes()["brand"]
    assert validator.validate(fixed) == []
    first.clear()  # callers get their own list
    assert validator.validate(broken)


async def test_unexpected_exceptions_answer_json_500_with_a_request_id(sandbox_app):
    from starlette.routing import Route

    async def broken(request):
        raise RuntimeError("a sandbox bug")

    sandbox_app.router.routes.insert(0, Route("/listings/2021-08-01/broken", broken))
    transport = httpx.ASGITransport(app=sandbox_app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url=SANDBOX_BASE_URL) as client:
        response = await client.get("/listings/2021-08-01/broken")
    assert response.status_code == 500 and response.headers["x-amzn-requestid"]
    assert response.json()["errors"][0]["code"] == "InternalFailure"
    assert "a sandbox bug" not in response.text
