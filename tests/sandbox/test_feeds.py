"""Feeds API 2021-06-30 and JSON_LISTINGS_FEED processing in the in-process sandbox."""

from __future__ import annotations

import asyncio
import copy
import gzip
import hashlib
import json

import httpx
import jsonschema_rs
import pytest

import schemas
from tests.support.sandbox import SANDBOX_BASE_URL, US, luggage_attributes

SELLER = "A1DEMOSELLER01"
FEEDS_DIR = "spapi/reference/schemas/feeds/"
REPORT_SCHEMA = jsonschema_rs.validator_for(schemas.load_json(FEEDS_DIR + "listings-feed-processing-report-schema-v2.json"))
NOTIFICATION_SCHEMA = jsonschema_rs.validator_for(
    schemas.load_json("spapi/reference/schemas/notifications/FeedProcessingFinishedNotification.json"))


async def upload(api, data: bytes, content_type: str = "application/json; charset=UTF-8") -> str:
    created = await api.post("/feeds/2021-06-30/documents", json={"contentType": content_type})
    assert created.status_code == 201
    url = created.json()["url"]
    assert url.startswith(SANDBOX_BASE_URL + "/")
    put = await api.put(url, content=data, headers={"content-type": content_type})
    assert put.status_code == 200
    return created.json()["feedDocumentId"]


async def submit_feed(api, document: dict | bytes) -> str:
    data = document if isinstance(document, bytes) else json.dumps(document).encode()
    document_id = await upload(api, data)
    created = await api.post("/feeds/2021-06-30/feeds", json={
        "feedType": "JSON_LISTINGS_FEED", "marketplaceIds": [US], "inputFeedDocumentId": document_id})
    assert created.status_code == 202, created.text
    assert set(created.json()) == {"feedId"}
    return created.json()["feedId"]


async def wait_done(api, feed_id: str) -> dict:
    for _ in range(1000):
        feed = (await api.get(f"/feeds/2021-06-30/feeds/{feed_id}")).json()
        if feed["processingStatus"] in ("DONE", "FATAL", "CANCELLED"):
            return feed
        await asyncio.sleep(0.01)
    raise AssertionError(f"feed {feed_id} did not finish: {feed}")


async def report_of(api, feed: dict, **params) -> tuple[httpx.Response, dict]:
    document = (await api.get(f"/feeds/2021-06-30/documents/{feed['resultFeedDocumentId']}", params=params)).json()
    assert document["compressionAlgorithm"] == "GZIP"
    raw = await api.get(document["url"])
    return raw, document


async def test_amazon_example_feed_processes_to_done_with_valid_report(api):
    for sku in ("My-SKU-B", "My-SKU-D", "My-SKU-E"):
        put = await api.put(f"/listings/2021-08-01/items/{SELLER}/{sku}", params={"marketplaceIds": US},
                            json={"productType": "LUGGAGE", "attributes": luggage_attributes()})
        assert put.json()["status"] == "ACCEPTED"
    example = copy.deepcopy(schemas.load_json(FEEDS_DIR + "listings-feed-schema-v2.example.json"))
    example["header"]["sellerId"] = SELLER  # the example carries a placeholder seller id
    feed_id = await submit_feed(api, example)
    feed = await wait_done(api, feed_id)
    assert feed["processingStatus"] == "DONE"
    assert feed["processingStartTime"] <= feed["processingEndTime"]
    assert set(feed) <= {"feedId", "feedType", "marketplaceIds", "createdTime", "processingStatus",
                         "processingStartTime", "processingEndTime", "resultFeedDocumentId"}
    raw, _ = await report_of(api, feed)
    assert "content-encoding" not in raw.headers
    report = json.loads(gzip.decompress(raw.content))
    assert REPORT_SCHEMA.is_valid(report), list(REPORT_SCHEMA.iter_errors(report))
    summary = report["summary"]
    assert summary["messagesProcessed"] == 5 and summary["messagesAccepted"] == 4 and summary["messagesInvalid"] == 1
    assert {i["messageId"] for i in report["issues"]} == {3}
    assert {i["sku"] for i in report["items"]} == {"My-SKU-B", "My-SKU-D", "My-SKU-E"}
    assert report["summary"]["itemSummary"]["items"] == 3
    listings = (await api.get(f"/_sandbox/sellers/{SELLER}/listings")).json()["listings"]
    quantities = {entry["sku"]: entry["attributes"]["fulfillment_availability"] for entry in listings}
    assert quantities["My-SKU-D"] == [{"fulfillment_channel_code": "DEFAULT", "quantity": 10}]
    history = (await api.get(f"/_sandbox/sellers/{SELLER}/history")).json()["history"]
    feed_entries = [h for h in history if h["channel"] == "feed"]
    assert [h["operation"] for h in feed_entries] == ["PARTIAL_UPDATE", "PATCH", "PATCH"]
    assert all(h["ref"] == feed_id for h in feed_entries)
    message = {k: v for k, v in example["messages"][1].items() if k != "messageId"}
    text = json.dumps(message, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert feed_entries[0]["payload_hash"] == hashlib.sha256(text.encode()).hexdigest()
    notes = (await api.get("/_sandbox/notifications")).json()["notifications"]
    assert len(notes) == 1 and NOTIFICATION_SCHEMA.is_valid(notes[0])
    assert notes[0]["payload"]["feedProcessingFinishedNotification"]["resultFeedDocumentId"] == \
        feed["resultFeedDocumentId"]


async def test_feed_messages_change_state_like_the_api(api):
    messages = [{"messageId": 1, "sku": "F-1", "operationType": "UPDATE", "productType": "LUGGAGE",
                 "attributes": luggage_attributes(price=10)},
                {"messageId": 2, "sku": "F-1", "operationType": "PATCH", "productType": "LUGGAGE",
                 "patches": [{"op": "replace", "path": "/attributes/fulfillment_availability",
                              "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": 42}]}]},
                {"messageId": 3, "sku": "F-2", "operationType": "UPDATE", "productType": "LUGGAGE",
                 "attributes": {"item_name": luggage_attributes()["item_name"]}},
                {"messageId": 3, "sku": "F-3", "operationType": "DELETE"},
                {"messageId": 5, "sku": "F-4", "operationType": "DELETE", "attributes": {"x": 1}}]
    feed_id = await submit_feed(api, {"header": {"sellerId": SELLER, "version": "2.0"}, "messages": messages})
    feed = await wait_done(api, feed_id)
    raw, _ = await report_of(api, feed, enableContentEncodingUrlHeader="true")
    assert raw.headers["content-encoding"] == "gzip"
    report = raw.json()  # httpx decodes Content-Encoding: gzip
    assert REPORT_SCHEMA.is_valid(report) and "items" not in report
    assert report["summary"]["messagesAccepted"] == 2 and report["summary"]["messagesInvalid"] == 3
    missing = [i for i in report["issues"] if i.get("sku") == "F-2"]
    assert missing and all(i["code"] == "90220" and i["message"].startswith("'[") for i in missing)
    assert any(i.get("attributeName") == "brand" for i in missing)
    got = (await api.get(f"/listings/2021-08-01/items/{SELLER}/F-1",
                         params={"marketplaceIds": US, "includedData": "fulfillmentAvailability,offers"})).json()
    assert got["fulfillmentAvailability"] == [{"fulfillmentChannelCode": "DEFAULT", "quantity": 42}]
    assert got["offers"][0]["price"]["amount"] == "10.00"


@pytest.mark.parametrize("data", [b"{not json", b'{"header": {"sellerId": "A1DEMOSELLER01"}}',
                                  gzip.compress(b"[1, 2]")])
async def test_unparseable_feed_ends_fatal_with_error_document(api, data):
    feed = await wait_done(api, await submit_feed(api, data))
    assert feed["processingStatus"] == "FATAL"
    raw, _ = await report_of(api, feed)
    report = json.loads(gzip.decompress(raw.content))
    assert REPORT_SCHEMA.is_valid(report) and report["issues"][0]["severity"] == "ERROR"
    assert "messageId" not in report["issues"][0]


async def test_upload_rules(api):
    created = (await api.post("/feeds/2021-06-30/documents", json={"contentType": "application/json"})).json()
    assert set(created) == {"feedDocumentId", "url"}
    wrong = await api.put(created["url"], content=b"{}", headers={"content-type": "text/plain"})
    assert wrong.status_code == 403 and wrong.json()["errors"][0]["code"] == "SignatureDoesNotMatch"
    tampered = await api.put(created["url"].replace("signature=", "signature=0"), content=b"{}",
                             headers={"content-type": "application/json"})
    assert tampered.status_code == 403
    not_uploaded = await api.post("/feeds/2021-06-30/feeds", json={
        "feedType": "JSON_LISTINGS_FEED", "marketplaceIds": [US], "inputFeedDocumentId": created["feedDocumentId"]})
    assert not_uploaded.status_code == 400


async def test_create_feed_validation_and_tolerance(api):
    document_id = await upload(api, b"{}")
    unknown_type = await api.post("/feeds/2021-06-30/feeds", json={
        "feedType": "POST_NOT_A_FEED", "marketplaceIds": [US], "inputFeedDocumentId": document_id})
    assert unknown_type.status_code == 400
    missing = await api.post("/feeds/2021-06-30/feeds", json={"feedType": "JSON_LISTINGS_FEED",
                                                              "inputFeedDocumentId": document_id})
    assert missing.status_code == 400
    extra_keys = await api.post("/feeds/2021-06-30/feeds", json={
        "feedType": "JSON_LISTINGS_FEED", "marketplaceIds": [US], "inputFeedDocumentId": document_id,
        "MarketplaceIds": [US], "path": "/feeds"})
    assert extra_keys.status_code == 202


async def test_cancel_and_list_feeds(api, sandbox_app):
    await api.post("/_sandbox/config", json={"feed_processing_delay_seconds": 60})
    queued = await submit_feed(api, {"header": {"sellerId": SELLER, "version": "2.0"},
                                     "messages": [{"messageId": 1, "sku": "X", "operationType": "DELETE"}]})
    other = await submit_feed(api, b"{}")
    assert (await api.delete(f"/feeds/2021-06-30/feeds/{queued}")).status_code == 200
    assert (await api.get(f"/feeds/2021-06-30/feeds/{queued}")).json()["processingStatus"] == "CANCELLED"
    again = await api.delete(f"/feeds/2021-06-30/feeds/{queued}")
    assert again.status_code == 400
    assert (await api.get("/feeds/2021-06-30/feeds/999")).status_code == 404
    page = (await api.get("/feeds/2021-06-30/feeds", params={"feedTypes": "JSON_LISTINGS_FEED", "pageSize": 1})).json()
    assert [f["feedId"] for f in page["feeds"]] == [other] and page["nextToken"]
    rest = (await api.get("/feeds/2021-06-30/feeds", params={"nextToken": page["nextToken"]})).json()
    assert [f["feedId"] for f in rest["feeds"]] == [queued] and "nextToken" not in rest
    cancelled = (await api.get("/feeds/2021-06-30/feeds", params={"feedTypes": "JSON_LISTINGS_FEED",
                                                                  "processingStatuses": "CANCELLED"})).json()
    assert [f["feedId"] for f in cancelled["feeds"]] == [queued]
    assert (await api.get("/feeds/2021-06-30/feeds")).status_code == 400
    bad_status = await api.get("/feeds/2021-06-30/feeds", params={"feedTypes": "JSON_LISTINGS_FEED",
                                                                  "processingStatuses": "BAD_VALUE,DONE"})
    assert bad_status.status_code == 400
    notes = (await api.get("/_sandbox/notifications")).json()["notifications"]
    assert [n["payload"]["feedProcessingFinishedNotification"]["processingStatus"] for n in notes] == ["CANCELLED"]


async def test_feed_over_the_message_limit_is_fatal(api):
    limit = schemas.load_json("spapi/limits.json")["feed_types"]["JSON_LISTINGS_FEED"]["max_messages"]
    messages = [{"messageId": i, "sku": f"S{i}", "operationType": "DELETE"} for i in range(1, limit + 2)]
    feed = await wait_done(api, await submit_feed(api, {"header": {"sellerId": SELLER, "version": "2.0"},
                                                        "messages": messages}))
    assert feed["processingStatus"] == "FATAL"
    raw, _ = await report_of(api, feed)
    assert str(limit) in json.loads(gzip.decompress(raw.content))["issues"][0]["message"]


async def test_feed_delays_are_divided_by_speed(api):
    await api.post("/_sandbox/config", json={"feed_processing_delay_seconds": 1, "speed": 20})
    started = asyncio.get_running_loop().time()
    feed = await wait_done(api, await submit_feed(api, {"header": {"sellerId": SELLER, "version": "2.0"},
                                                        "messages": [{"messageId": 1, "sku": "S", "operationType": "DELETE"}]}))
    elapsed = asyncio.get_running_loop().time() - started
    assert feed["processingStatus"] == "DONE" and 0.1 <= elapsed < 1.0
