"""Fault injection: shape checked against schemas/sandbox/faults.schema.json, deterministic per seed."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from amz_pipeline.sandbox import SandboxConfig, create_app
from amz_pipeline.sandbox.faults import FaultConfigError, load_faults
from tests.support.sandbox import SANDBOX_BASE_URL, US, access_token, luggage_attributes

SELLER = "A1DEMOSELLER01"
ITEM = f"/listings/2021-08-01/items/{SELLER}/F-1"


@pytest.mark.parametrize("bad", [
    {"requests": {"*": {"http_500": 1.5}}},
    {"requests": {"*": {"http_599": 0.1}}},
    {"feeds": {"explode": 1}},
    {"unknown": {}},
    "{not json",
    "/no/such/faults.json",
])
def test_bad_fault_documents_are_rejected_clearly(bad):
    with pytest.raises(FaultConfigError, match="faults"):
        load_faults(bad)


def test_fault_file_and_json_text_load(tmp_path):
    path = tmp_path / "faults.json"
    path.write_text('{"requests": {"*": {"http_503": 0.5}}}')
    assert load_faults(str(path)) == load_faults('{"requests": {"*": {"http_503": 0.5}}}')


async def _statuses(seed: int, count: int = 40) -> list[tuple[int, str]]:
    faults = {"requests": {"getListingsItem": {"http_500": 0.25, "http_503": 0.25, "throttle_429": 0.1,
                                               "error_body": "random"}}}
    app = create_app(SandboxConfig(public_base_url=SANDBOX_BASE_URL, faults=faults, seed=seed,
                                   enforce_usage_plans=False))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=SANDBOX_BASE_URL) as client:
        client.headers["x-amz-access-token"] = await access_token(client)
        out = []
        for _ in range(count):
            response = await client.get(ITEM, params={"marketplaceIds": US})
            kind = response.headers.get("content-type", "none").split(";")[0] if response.content else "empty"
            out.append((response.status_code, kind))
        return out


async def test_request_faults_are_deterministic_per_seed():
    first, again, other = await _statuses(7), await _statuses(7), await _statuses(8)
    assert first == again and first != other
    statuses = {status for status, _ in first}
    assert {404, 500, 503, 429} <= statuses
    assert {kind for status, kind in first if status >= 500} >= {"text/html", "empty", "application/json"}


async def test_reset_reseeds_faults(api):
    faults = {"requests": {"getListingsItem": {"http_500": 0.5}}}
    await api.post("/_sandbox/config", json={"faults": faults})
    first = [(await api.get(ITEM, params={"marketplaceIds": US})).status_code for _ in range(20)]
    await api.post("/_sandbox/reset")
    api.headers["x-amz-access-token"] = await access_token(api)
    await api.post("/_sandbox/config", json={"faults": faults, "enforce_usage_plans": False})
    second = [(await api.get(ITEM, params={"marketplaceIds": US})).status_code for _ in range(20)]
    assert first == second and {404, 500} == set(first)


async def test_added_latency_is_divided_by_speed(api):
    await api.post("/_sandbox/config", json={"faults": {"requests": {"*": {"latency_ms": 400}}}, "speed": 4})
    started = time.perf_counter()
    await api.get(ITEM, params={"marketplaceIds": US})
    elapsed = time.perf_counter() - started
    assert 0.1 <= elapsed < 0.4  # 400 ms divided by 4


async def test_config_rejects_bad_faults(api):
    response = await api.post("/_sandbox/config", json={"faults": {"requests": {"*": {"http_500": 2}}}})
    assert response.status_code == 400 and "faults" in response.json()["errors"][0]["details"]


async def _run_feed(api) -> dict:
    created = (await api.post("/feeds/2021-06-30/documents", json={"contentType": "application/json"})).json()
    document = b'{"header": {"sellerId": "A1DEMOSELLER01", "version": "2.0"}, "messages": [' \
               b'{"messageId": 1, "sku": "X", "operationType": "DELETE"}]}'
    await api.put(created["url"], content=document, headers={"content-type": "application/json"})
    feed_id = (await api.post("/feeds/2021-06-30/feeds", json={
        "feedType": "JSON_LISTINGS_FEED", "marketplaceIds": [US],
        "inputFeedDocumentId": created["feedDocumentId"]})).json()["feedId"]
    for _ in range(200):
        await asyncio.sleep(0.002)
        feed = (await api.get(f"/feeds/2021-06-30/feeds/{feed_id}")).json()
        if feed["processingStatus"] not in ("IN_QUEUE",):
            await asyncio.sleep(0.01)
            return (await api.get(f"/feeds/2021-06-30/feeds/{feed_id}")).json()
    return feed


@pytest.mark.parametrize(("key", "status"), [("fatal", "FATAL"), ("cancelled", "CANCELLED"),
                                             ("stuck_in_progress", "IN_PROGRESS")])
async def test_feed_outcome_faults(api, key, status):
    await api.post("/_sandbox/config", json={"faults": {"feeds": {key: 1}}})
    feed = await _run_feed(api)
    assert feed["processingStatus"] == status
    assert ("resultFeedDocumentId" in feed) == (status == "FATAL")
    notes = (await api.get("/_sandbox/notifications")).json()["notifications"]
    assert len(notes) == (0 if status == "IN_PROGRESS" else 1)


async def test_accepted_then_suppressed_listing(api):
    await api.post("/_sandbox/config", json={"faults": {"listings": {"suppressed_after_accept": 1}}})
    put = await api.put(ITEM, params={"marketplaceIds": US},
                        json={"productType": "LUGGAGE", "attributes": luggage_attributes()})
    assert put.json()["status"] == "ACCEPTED"
    body = (await api.get(ITEM, params={"marketplaceIds": US, "includedData": "summaries,issues"})).json()
    assert body["summaries"][0]["status"] == [] and "asin" not in body["summaries"][0]
    actions = [a["action"] for i in body["issues"] for a in i.get("enforcements", {}).get("actions", [])]
    assert "LISTING_SUPPRESSED" in actions
    listing = (await api.get(f"/_sandbox/sellers/{SELLER}/listings")).json()["listings"][0]
    assert listing["asin"] is None and listing["status"] == []
