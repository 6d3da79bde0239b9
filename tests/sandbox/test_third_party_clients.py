"""SP-API clients written by someone else, unchanged, against the live sandbox over loopback HTTP (issue 3: "a real
SP-API client written by someone else should work against it unchanged").

- python-amazon-sp-api 2.1.35, the community client: adds `MarketplaceIds`, `marketplace_ids`, `path`... to bodies
  and queries, sends `Content-Type: application/json` on GETs, a wrong `Host` header for an http endpoint
  (`endpoint[8:]`), and uploads, downloads and gunzips feed documents itself.
- amzn-sp-api 1.13.0, Amazon's generated SDK: its models raise on a response missing a required field or carrying an
  unknown enum value; `model_mismatches` catches what its deserializer lets through silently (undeclared fields,
  numbers where the model says string, malformed date-times). Its models are checked against Amazon's published ones.

How each library is pointed at the sandbox: tests/support/third_party.py.
"""

from __future__ import annotations

import base64
import copy
import dataclasses
import gzip
import hashlib
import importlib
import io
import json
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import httpx
import jsonschema
import pytest
import requests
from sp_api.api import Feeds, ListingsItems, ListingsRestrictions, ProductTypeDefinitions
from sp_api.asyncio.api import ListingsItems as AsyncListingsItems
from sp_api.auth import AccessTokenClient
from sp_api.auth.exceptions import AuthorizationError
from sp_api.base.exceptions import (
    SellingApiBadRequestException,
    SellingApiForbiddenException,
    SellingApiNotFoundException,
    SellingApiRequestThrottledException,
)
from sp_api.util import load_all_pages
from spapi import (
    Configuration,
    DefinitionsApi,
    FeedsApi,
    ListingsApi,
    ListingsRestrictionsApi,
    SPAPIClient,
    SPAPIConfig,
)
from spapi.auth.lwa_exception import LwaException
from spapi.auth.lwa_request import AccessTokenCache
from spapi.models.feeds_v2021_06_30 import CreateFeedDocumentSpecification, CreateFeedSpecification
from spapi.models.listings_items_v2021_08_01 import (
    ListingsItemPatchRequest,
    ListingsItemPutRequest,
    PatchOperation,
)
from spapi.rest import ApiException

import schemas
from amz_pipeline.hashing import payload_hash
from tests.support.sandbox import luggage_attributes, price_patch
from tests.support.third_party import (
    US,
    community_client,
    listings_feed,
    model_mismatches,
    official_client,
    register_seller,
    sdk_model,
)

LISTINGS_MODELS = "spapi.models.listings_items_v2021_08_01"
FEEDS_MODELS = "spapi.models.feeds_v2021_06_30"
INCLUDED_DATA = ["summaries", "attributes", "issues", "offers", "fulfillmentAvailability"]
REPORT_SCHEMA = "spapi/reference/schemas/feeds/listings-feed-processing-report-schema-v2.json"
AMAZON_EXAMPLE_FEED = "spapi/reference/schemas/feeds/listings-feed-schema-v2.example.json"
# Keys python-amazon-sp-api adds to every PUT body that has none of them (sp_api.base._core.add_marketplaces).
COMMUNITY_PUT_EXTRAS = {"MarketplaceId": US, "MarketplaceIds": [US], "marketplace_ids": [US], "marketplaceIds": [US]}


def put_body(**overrides: Any) -> dict[str, Any]:
    return {"productType": "LUGGAGE", "requirements": "LISTING", "attributes": luggage_attributes(**overrides)}


def invalid_put_body() -> dict[str, Any]:
    body = put_body()
    del body["attributes"]["item_name"]
    return body


def price_and_quantity_patch(price: float, quantity: int) -> dict[str, Any]:
    body = price_patch(price)
    body["patches"].append({"op": "replace", "path": "/attributes/fulfillment_availability",
                            "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": quantity}]})
    return body


def request_counts(base_url: str, seller_id: str) -> dict[tuple[str, int], int]:
    log = httpx.get(base_url + "/_sandbox/requests", timeout=10).json()["requests"]
    return {(r["operation"], r["status"]): r["count"] for r in log if r["seller_id"] == seller_id}


def set_config(base_url: str, **changes: Any) -> None:
    httpx.post(base_url + "/_sandbox/config", json=changes, timeout=10).raise_for_status()


def wait_for_terminal(status_of: Callable[[], str], timeout: float = 15.0) -> str:
    deadline = time.monotonic() + timeout
    while (status := status_of()) not in ("DONE", "FATAL", "CANCELLED"):
        assert time.monotonic() < deadline, f"feed still {status} after {timeout} s"
        time.sleep(0.05)
    return status


def validate_report(report: dict[str, Any]) -> None:
    jsonschema.Draft7Validator(schemas.load_json(REPORT_SCHEMA)).validate(report)


def assert_offer_and_quantity(item: dict[str, Any], price: str, quantity: int) -> None:
    """`item` is a getListingsItem body (camelCase JSON)."""
    (offer,) = item["offers"]
    assert (offer["marketplaceId"], offer["offerType"], offer["price"]["currencyCode"]) == (US, "B2C", "USD")
    assert isinstance(offer["price"]["amount"], str) and Decimal(offer["price"]["amount"]) == Decimal(price)
    assert item["fulfillmentAvailability"] == [{"fulfillmentChannelCode": "DEFAULT", "quantity": quantity}]


@pytest.fixture
def seller(sandbox_server: Any) -> dict[str, str]:
    return register_seller(sandbox_server.base_url)


@pytest.fixture
def community(sandbox_server: Any, seller: dict[str, str]) -> Iterator[Callable[..., Any]]:
    """Factory: `community(ListingsItems)` → a python-amazon-sp-api client on the sandbox, closed afterwards."""
    made: list[Any] = []

    def make(client_class: type, **extra: Any) -> Any:
        made.append(community_client(client_class, sandbox_server.base_url, seller, **extra))
        return made[-1]

    yield make
    for client in made:
        client.close()


@pytest.fixture
def official(sandbox_server: Any, seller: dict[str, str]) -> Any:
    return official_client(sandbox_server.base_url, sandbox_server.lwa_token_url, seller)


def parsed(api: Any, result: Any) -> Any:
    """The SDK's model for the last response, after checking it matches the raw JSON (no dropped key, no coercion)."""
    assert model_mismatches(json.loads(api.api_client.last_response.data), result) == []
    return result


# --- python-amazon-sp-api (community client) ----------------------------------------------------------------


def test_community_lwa_token_exchange_and_errors(sandbox_server: Any, seller: dict[str, str], community: Any) -> None:
    token = community(ListingsItems).auth
    assert token.access_token.startswith("Atza|") and token.token_type == "bearer"
    assert token.expires_in == 3600 and token.refresh_token == seller["refresh_token"]

    with pytest.raises(AuthorizationError) as unknown:
        community_client(ListingsItems, sandbox_server.base_url, {**seller, "refresh_token": "Atzr|unknown"}).auth  # noqa: B018
    assert (unknown.value.status_code, unknown.value.error_code) == (400, "invalid_grant")
    wrong_secret = {**seller, "refresh_token": seller["refresh_token"] + "-2", "client_secret": "wrong"}
    with pytest.raises(AuthorizationError) as bad_secret:
        community_client(ListingsItems, sandbox_server.base_url, wrong_secret).auth  # noqa: B018
    assert (bad_secret.value.status_code, bad_secret.value.error_code) == (401, "invalid_client")


def test_community_listings_lifecycle(sandbox_server: Any, seller: dict[str, str], community: Any) -> None:
    items, sid = community(ListingsItems), seller["seller_id"]

    accepted = items.put_listings_item(sellerId=sid, sku="TP-1", marketplaceIds=[US], body=put_body())
    assert accepted.payload["status"] == "ACCEPTED" and accepted.payload["issues"] == []
    assert accepted.payload["sku"] == "TP-1" and accepted.payload["submissionId"]
    assert float(accepted.rate_limit) > 0

    invalid = items.put_listings_item(sellerId=sid, sku="TP-2", marketplaceIds=[US], body=invalid_put_body())
    assert invalid.payload["status"] == "INVALID"
    issue = next(i for i in invalid.payload["issues"] if i.get("attributeNames") == ["item_name"])
    assert issue["severity"] == "ERROR" and issue["code"] and issue["message"]
    assert issue["categories"] == ["MISSING_ATTRIBUTE"]

    preview = items.put_listings_item(sellerId=sid, sku="TP-3", marketplaceIds=[US], body=put_body(),
                                      mode="VALIDATION_PREVIEW")
    preview_invalid = items.put_listings_item(sellerId=sid, sku="TP-3", marketplaceIds=[US],
                                              body=invalid_put_body(), mode="VALIDATION_PREVIEW")
    assert (preview.payload["status"], preview_invalid.payload["status"]) == ("VALID", "INVALID")

    patched = items.patch_listings_item(sellerId=sid, sku="TP-1", marketplaceIds=[US],
                                        body=price_and_quantity_patch(84.5, 12))
    assert patched.payload["status"] == "ACCEPTED"

    item = items.get_listings_item(sellerId=sid, sku="TP-1", marketplaceIds=[US], includedData=INCLUDED_DATA).payload
    (summary,) = item["summaries"]
    assert (summary["marketplaceId"], summary["productType"]) == (US, "LUGGAGE")
    assert summary["asin"] and set(summary["status"]) <= {"BUYABLE", "DISCOVERABLE"}
    assert summary["createdDate"] <= summary["lastUpdatedDate"]
    assert item["attributes"]["purchasable_offer"][0]["our_price"][0]["schedule"][0]["value_with_tax"] == 84.5
    assert item["issues"] == []
    assert_offer_and_quantity(item, "84.5", 12)

    # No marketplaceIds: the library fills in MarketplaceId, MarketplaceIds, marketplace_ids and marketplaceIds.
    found = items.search_listings_items(sellerId=sid, includedData=["summaries"])
    assert [i["sku"] for i in found.payload["items"]] == ["TP-1"]

    deleted = items.delete_listings_item(sellerId=sid, sku="TP-1", marketplaceIds=[US])
    assert deleted.payload["status"] == "ACCEPTED"
    for sku in ("TP-1", "TP-2", "TP-3"):  # deleted, INVALID and previewed SKUs are not stored
        with pytest.raises(SellingApiNotFoundException) as missing:
            items.get_listings_item(sellerId=sid, sku=sku, marketplaceIds=[US])
        assert missing.value.amzn_code == "NotFound"

    assert request_counts(sandbox_server.base_url, sid) == {
        ("putListingsItem", 200): 4, ("patchListingsItem", 200): 1, ("getListingsItem", 200): 1,
        ("getListingsItem", 404): 3, ("searchListingsItems", 200): 1, ("deleteListingsItem", 200): 1}
    # The library put its four marketplace keys into the PUT body; the sandbox ignored them, yet recorded exactly
    # the body that was sent.
    history = httpx.get(f"{sandbox_server.base_url}/_sandbox/sellers/{sid}/history", timeout=10).json()["history"]
    assert history[0]["payload_hash"] == payload_hash({**put_body(), **COMMUNITY_PUT_EXTRAS})


def test_community_search_pagination(sandbox_server: Any, seller: dict[str, str], community: Any) -> None:
    items, sid = community(ListingsItems), seller["seller_id"]
    for sku in ("TP-A", "TP-B", "TP-C"):
        items.put_listings_item(sellerId=sid, sku=sku, marketplaceIds=[US], body=put_body())

    @load_all_pages(throttle_by_seconds=0, next_token_param="pageToken")  # the library's own pager
    def search(**kwargs: Any) -> Any:
        return items.search_listings_items(**kwargs)

    pages = list(search(sellerId=sid, marketplaceIds=[US], pageSize=2, sortBy="sku", sortOrder="ASC",
                        identifiers=["TP-A", "TP-B", "TP-C", "TP-X"], identifiersType="SKU"))
    assert [[i["sku"] for i in page.payload["items"]] for page in pages] == [["TP-A", "TP-B"], ["TP-C"]]
    assert pages[0].payload["numberOfResults"] == 3 and pages[-1].next_token is None


def test_community_feed_flow_with_library_helpers(sandbox_server: Any, seller: dict[str, str],
                                                  community: Any) -> None:
    feeds, sid = community(Feeds), seller["seller_id"]
    title = "Koffer „Größe M“ – 38 l, 5 € günstiger"
    incomplete = put_body()["attributes"]
    del incomplete["brand"]
    document = listings_feed(sid, [
        {"messageId": 1, "sku": "TP-F1", "operationType": "UPDATE", "productType": "LUGGAGE",
         "attributes": luggage_attributes() | {"item_name": [{"value": title, "language_tag": "de_DE",
                                                              "marketplace_id": US}]}},
        {"messageId": 2, "sku": "TP-F2", "operationType": "UPDATE", "productType": "LUGGAGE",
         "attributes": incomplete},
    ])
    # submit_feed = createFeedDocument + the library's own upload (bytes: it re-encodes str as ISO-8859-1) + createFeed
    created_document, created_feed = feeds.submit_feed("JSON_LISTINGS_FEED", io.BytesIO(document),
                                                       content_type="application/json; charset=UTF-8",
                                                       marketplaceIds=[US])
    # The library sent Host "27.0.0.1:<port>" (endpoint[8:] of an http URL): URLs still come from the public base URL.
    assert created_document.payload["url"].startswith(sandbox_server.base_url + "/")
    feed_id = created_feed.payload["feedId"]

    assert wait_for_terminal(lambda: feeds.get_feed(feed_id).payload["processingStatus"]) == "DONE"
    result_id = feeds.get_feed(feed_id).payload["resultFeedDocumentId"]
    report = json.loads(feeds.get_feed_document(result_id))  # the library downloads and gunzips it
    validate_report(report)
    assert report["header"] == {"sellerId": sid, "version": "2.0", "feedId": feed_id}
    assert {k: report["summary"][k] for k in ("messagesProcessed", "messagesAccepted", "messagesInvalid")} == {
        "messagesProcessed": 2, "messagesAccepted": 1, "messagesInvalid": 1}
    assert {(i["messageId"], i["sku"], i["severity"], i.get("attributeName")) for i in report["issues"]} == {
        (2, "TP-F2", "ERROR", "brand")}

    item = community(ListingsItems).get_listings_item(sellerId=sid, sku="TP-F1", marketplaceIds=[US],
                                                      includedData=["attributes"]).payload
    assert item["attributes"]["item_name"][0]["value"] == title
    assert request_counts(sandbox_server.base_url, sid)[("createFeedDocument", 201)] == 1


def test_community_definitions_and_restrictions(sandbox_server: Any, seller: dict[str, str],
                                                community: Any) -> None:
    definition = community(ProductTypeDefinitions).get_definitions_product_type(
        "LUGGAGE", marketplaceIds=[US], requirements="LISTING_OFFER_ONLY").payload
    assert (definition["productType"], definition["requirements"]) == ("LUGGAGE", "LISTING_OFFER_ONLY")
    schema_bytes = httpx.get(definition["schema"]["link"]["resource"], timeout=10).content
    assert base64.b64encode(hashlib.md5(schema_bytes).digest()).decode() == definition["schema"]["checksum"]
    requirements = schemas.load_json("product_types/index.json")["LUGGAGE"]["requirements"]
    assert json.loads(schema_bytes)["required"] == requirements["LISTING_OFFER_ONLY"]

    set_config(sandbox_server.base_url, gated_asins={"*": ["B000GATED1"]})
    restrictions = community(ListingsRestrictions)
    gated = restrictions.get_listings_restrictions(sellerId=seller["seller_id"], asin="B000GATED1",
                                                   conditionType="new_new", marketplaceIds=[US]).payload
    (restriction,) = gated["restrictions"]
    assert restriction["conditionType"] == "new_new" and restriction["marketplaceId"] == US
    assert restriction["reasons"][0]["reasonCode"] == "APPROVAL_REQUIRED"
    free = restrictions.get_listings_restrictions(sellerId=seller["seller_id"], asin="B000FREE01",
                                                  marketplaceIds=[US]).payload
    assert free == {"restrictions": []}


def test_community_errors_map_to_library_exceptions(sandbox_server: Any, seller: dict[str, str],
                                                    community: Any) -> None:
    items, sid = community(ListingsItems), seller["seller_id"]
    with pytest.raises(SellingApiBadRequestException) as two_marketplaces:
        items.put_listings_item(sellerId=sid, sku="TP-1", marketplaceIds=[US, "A2EUQ1WTGCTBG2"], body=put_body())
    assert two_marketplaces.value.amzn_code == "InvalidInput"
    # The Restrictions model declares its error body a bare array; this library raises only on {"errors": [...]}
    # (a bare array would come back as a successful response), which is what the sandbox, like the service, sends.
    with pytest.raises(SellingApiBadRequestException):
        community(ListingsRestrictions).get_listings_restrictions(sellerId=sid, asin="NOT-AN-ASIN",
                                                                  marketplaceIds=[US])

    forged = community(ListingsItems, restricted_data_token="Atza|forged")  # sent as x-amz-access-token as is
    with pytest.raises(SellingApiForbiddenException) as denied:
        forged.get_listings_item(sellerId=sid, sku="TP-1", marketplaceIds=[US])
    assert denied.value.amzn_code == "Unauthorized"
    assert "x-amzn-RateLimit-Limit" not in denied.value.headers

    set_config(sandbox_server.base_url, speed=0.01)  # refill one token per 20 s: the burst alone decides
    accepted = 0
    with pytest.raises(SellingApiRequestThrottledException) as throttled:
        for n in range(30):
            items.patch_listings_item(sellerId=sid, sku=f"TP-{n}", marketplaceIds=[US], body=price_patch(10.0))
            accepted += 1
    burst = schemas.load_json("spapi/usage_plans.json")["operations"]["patchListingsItem"]["burst"]
    assert accepted == burst and throttled.value.amzn_code == "QuotaExceeded"
    assert "x-amzn-RateLimit-Limit" not in throttled.value.headers and "x-amzn-RequestId" in throttled.value.headers


def test_community_token_cache_outlives_a_short_sandbox_token(sandbox_server: Any, seller: dict[str, str],
                                                               community: Any) -> None:
    """The sandbox expires tokens on time; the library caches them for 3200 s whatever `expires_in` says, so it keeps
    sending the expired one (a library quirk, harmless against Amazon's fixed 3600 s)."""
    set_config(sandbox_server.base_url, token_ttl_seconds=1)
    items = community(ListingsItems)
    assert items.auth.expires_in == 1
    time.sleep(1.1)
    with pytest.raises(SellingApiForbiddenException) as expired:
        items.get_listings_item(sellerId=seller["seller_id"], sku="TP-1", marketplaceIds=[US])
    assert expired.value.amzn_code == "Unauthorized" and "expired" in expired.value.error[0]["details"]


async def test_community_asyncio_client(sandbox_server: Any, seller: dict[str, str]) -> None:
    items = community_client(AsyncListingsItems, sandbox_server.base_url, seller)
    try:
        put = await items.put_listings_item(sellerId=seller["seller_id"], sku="TP-1", marketplaceIds=[US],
                                            body=put_body())
        patched = await items.patch_listings_item(sellerId=seller["seller_id"], sku="TP-1", marketplaceIds=[US],
                                                  body=price_and_quantity_patch(19.99, 3))
        item = await items.get_listings_item(sellerId=seller["seller_id"], sku="TP-1", marketplaceIds=[US],
                                             includedData=INCLUDED_DATA)
    finally:
        await items.aclose()
    assert (put.payload["status"], patched.payload["status"]) == ("ACCEPTED", "ACCEPTED")
    assert_offer_and_quantity(item.payload, "19.99", 3)


# --- amzn-sp-api (Amazon's generated SDK) ------------------------------------------------------------------


def test_official_lwa_token_exchange_and_errors(sandbox_server: Any, seller: dict[str, str]) -> None:
    def cache(**overrides: Any) -> AccessTokenCache:
        return AccessTokenCache(**{"client_id": seller["client_id"], "client_secret": seller["client_secret"],
                                   "refresh_token": seller["refresh_token"], **overrides},
                                oauth_endpoint=sandbox_server.lwa_token_url, max_retries=0)

    tokens = cache()
    token = tokens.get_lwa_access_token()
    assert token.startswith("Atza|") and tokens.get_lwa_access_token() == token  # cached until expires_in - 30 s
    assert tokens.token_info["token_type"] == "bearer" and tokens.token_info["expires_in"] == 3600

    grantless = cache(refresh_token=None, grant_type="client_credentials", scope="sellingpartnerapi::notifications")
    assert grantless.get_lwa_access_token().startswith("Atza|")

    with pytest.raises(LwaException) as bad_secret:
        cache(client_secret="wrong").get_lwa_access_token()
    # The SDK's own error_code is always "server_error" here (it tests `if e.response`, and a 4xx requests.Response
    # is falsy): read the sandbox's answer from the cause.
    answer = bad_secret.value.__cause__.response
    assert answer.status_code == 401 and answer.json()["error"] == "invalid_client"


def test_official_listings_lifecycle(sandbox_server: Any, seller: dict[str, str], official: Any) -> None:
    api, sid = ListingsApi(official.api_client), seller["seller_id"]

    def put(sku: str, body: dict[str, Any], **kwargs: Any) -> Any:
        request = ListingsItemPutRequest(product_type=body["productType"], requirements=body["requirements"],
                                         attributes=body["attributes"])
        return parsed(api, api.put_listings_item(sid, sku, [US], request, **kwargs))

    accepted = put("TP-1", put_body())
    assert accepted.status == "ACCEPTED" and accepted.issues == [] and accepted.submission_id

    invalid = put("TP-2", invalid_put_body())
    assert invalid.status == "INVALID"
    issue = next(i for i in invalid.issues if i.attribute_names == ["item_name"])
    assert (issue.severity, issue.categories) == ("ERROR", ["MISSING_ATTRIBUTE"])

    preview = put("TP-3", put_body(), mode="VALIDATION_PREVIEW", included_data=["identifiers", "issues"])
    assert preview.status == "VALID" and preview.identifiers[0].marketplace_id == US

    patch = price_and_quantity_patch(84.5, 12)
    patched = parsed(api, api.patch_listings_item(sid, "TP-1", [US], ListingsItemPatchRequest(
        product_type=patch["productType"], patches=[PatchOperation(**p) for p in patch["patches"]])))
    assert patched.status == "ACCEPTED"

    item = parsed(api, api.get_listings_item(sid, "TP-1", [US], included_data=INCLUDED_DATA))
    (summary,) = item.summaries
    assert (summary.marketplace_id, summary.product_type, summary.condition_type) == (US, "LUGGAGE", "new_new")
    assert summary.created_date <= summary.last_updated_date and summary.asin
    assert item.issues == []
    assert_offer_and_quantity(json.loads(api.api_client.last_response.data), "84.5", 12)

    found = parsed(api, api.search_listings_items(sid, [US], included_data=["summaries", "issues"], page_size=1))
    assert found.number_of_results == 1 and [i.sku for i in found.items] == ["TP-1"]

    deleted = parsed(api, api.delete_listings_item(sid, "TP-1", [US]))
    assert deleted.status == "ACCEPTED"
    with pytest.raises(ApiException) as missing:
        api.get_listings_item(sid, "TP-1", [US])
    assert missing.value.status == 404
    errors = sdk_model(official.api_client, LISTINGS_MODELS, "ErrorList", missing.value.body)
    assert errors.errors[0].code == "NotFound"
    assert model_mismatches(json.loads(missing.value.body), errors) == []


def test_official_search_pagination(sandbox_server: Any, seller: dict[str, str], official: Any) -> None:
    api, sid = ListingsApi(official.api_client), seller["seller_id"]
    for sku in ("TP-A", "TP-B", "TP-C"):
        body = put_body()
        api.put_listings_item(sid, sku, [US], ListingsItemPutRequest(product_type="LUGGAGE",
                                                                     attributes=body["attributes"]))
    first = parsed(api, api.search_listings_items(sid, [US], page_size=2, sort_by="sku", sort_order="ASC"))
    second = parsed(api, api.search_listings_items(sid, [US], page_size=2, sort_by="sku", sort_order="ASC",
                                                   page_token=first.pagination.next_token))
    assert [i.sku for i in first.items + second.items] == ["TP-A", "TP-B", "TP-C"]
    assert second.pagination is None or second.pagination.next_token is None


def test_official_feed_flow_with_amazon_example_feed(sandbox_server: Any, seller: dict[str, str],
                                                     official: Any) -> None:
    api, sid = FeedsApi(official.api_client), seller["seller_id"]
    example = copy.deepcopy(schemas.load_json(AMAZON_EXAMPLE_FEED))
    example["header"]["sellerId"] = sid  # the report asks for every includedData value: items come back too
    listings = ListingsApi(official.api_client)
    for sku in ("My-SKU-A", "My-SKU-B", "My-SKU-D", "My-SKU-E"):  # the SKUs the example deletes, updates, patches
        listings.put_listings_item(sid, sku, [US], ListingsItemPutRequest(
            product_type="LUGGAGE", attributes=luggage_attributes()))

    document = parsed(api, api.create_feed_document(CreateFeedDocumentSpecification(content_type="application/json")))
    upload = requests.put(document.url, data=json.dumps(example).encode(), timeout=10,
                          headers={"Content-Type": "application/json"})
    assert upload.status_code == 200
    created = parsed(api, api.create_feed(CreateFeedSpecification(
        feed_type="JSON_LISTINGS_FEED", marketplace_ids=[US], input_feed_document_id=document.feed_document_id)))

    assert wait_for_terminal(lambda: parsed(api, api.get_feed(created.feed_id)).processing_status) == "DONE"
    feed = parsed(api, api.get_feed(created.feed_id))
    assert feed.feed_type == "JSON_LISTINGS_FEED" and feed.marketplace_ids == [US]
    assert feed.processing_start_time <= feed.processing_end_time
    listed = parsed(api, api.get_feeds(feed_types=["JSON_LISTINGS_FEED"], marketplace_ids=[US]))
    assert [f.feed_id for f in listed.feeds] == [created.feed_id]

    result = parsed(api, api.get_feed_document(feed.result_feed_document_id))
    assert result.compression_algorithm == "GZIP"
    download = requests.get(result.url, timeout=10)
    assert "gzip" not in download.headers.get("Content-Encoding", "")  # raw gzip bytes, as Amazon serves them
    report = json.loads(gzip.decompress(download.content))
    validate_report(report)
    assert report["summary"]["messagesProcessed"] == len(example["messages"])
    assert {i["sku"] for i in report["items"]} == {"My-SKU-B", "My-SKU-D", "My-SKU-E"}
    for raw in report["items"]:  # Listings-API Items: they must satisfy the SDK's Item model too
        item = sdk_model(official.api_client, LISTINGS_MODELS, "Item", raw)
        assert model_mismatches(raw, item) == [] and item.sku == raw["sku"]


def test_official_definitions_and_restrictions(sandbox_server: Any, seller: dict[str, str], official: Any) -> None:
    definitions = DefinitionsApi(official.api_client)
    definition = parsed(definitions, definitions.get_definitions_product_type(
        "LUGGAGE", [US], seller_id=seller["seller_id"], requirements="LISTING", locale="en_US"))
    assert (definition.product_type, definition.requirements, definition.requirements_enforced) == (
        "LUGGAGE", "LISTING", "ENFORCED")
    assert definition.marketplace_ids == [US] and definition.product_type_version.latest is True
    assert "item_name" in definition.property_groups["product_identity"].property_names
    schema_bytes = requests.get(definition.var_schema.link.resource, timeout=10).content
    assert base64.b64encode(hashlib.md5(schema_bytes).digest()).decode() == definition.var_schema.checksum
    assert "item_name" in json.loads(schema_bytes)["required"]

    found = parsed(definitions, definitions.search_definitions_product_types([US], keywords=["luggage"]))
    assert [p.name for p in found.product_types] == ["LUGGAGE"]

    set_config(sandbox_server.base_url, gated_asins={"*": ["B000GATED1"]})
    restrictions = ListingsRestrictionsApi(official.api_client)
    gated = parsed(restrictions, restrictions.get_listings_restrictions(
        "B000GATED1", seller["seller_id"], [US], condition_type="new_new"))
    (restriction,) = gated.restrictions
    assert restriction.condition_type == "new_new" and restriction.reasons[0].reason_code == "APPROVAL_REQUIRED"
    assert restriction.reasons[0].links[0].verb == "GET"
    free = parsed(restrictions, restrictions.get_listings_restrictions("B000FREE01", seller["seller_id"], [US]))
    assert free.restrictions == []


SDK_MODEL_MODULES = {
    "listings-items-api-model/listingsItems_2021-08-01.json": LISTINGS_MODELS,
    "feeds-api-model/feeds_2021-06-30.json": FEEDS_MODELS,
    "product-type-definitions-api-model/definitionsProductTypes_2020-09-01.json":
        "spapi.models.product_type_definitions_v2020_09_01",
    "listings-restrictions-api-model/listingsRestrictions_2021-08-01.json":
        "spapi.models.listings_restrictions_v2021_08_01",
}


@pytest.mark.parametrize("model_file", sorted(SDK_MODEL_MODULES))
def test_official_sdk_models_match_amazons_published_models(model_file: str) -> None:
    """The SDK's field names and required fields are Amazon's (schemas/spapi/reference/models/), so an SDK model
    rejecting a sandbox response is a sandbox bug, not SDK drift. Array and map aliases have no SDK class."""
    module = importlib.import_module(SDK_MODEL_MODULES[model_file])
    compared = 0
    for name, definition in schemas.load_json(f"spapi/reference/models/{model_file}")["definitions"].items():
        sdk_class = getattr(module, name, None)
        if sdk_class is None:
            assert definition.get("type") in ("array", "string") or "properties" not in definition, name
            continue
        assert set(sdk_class.attribute_map.values()) == set(definition.get("properties", {})), name
        required = set()
        for attr, json_key in sdk_class.attribute_map.items():
            instance = sdk_class.__new__(sdk_class)
            instance._configuration = Configuration()
            try:
                setattr(instance, attr, None)
            except ValueError as refused:
                required |= {json_key} if "must not be `None`" in str(refused) else set()
        assert required == set(definition.get("required", [])), name
        compared += 1
    assert compared >= 4


def test_model_mismatches_catches_what_the_sdk_lets_through(official: Any) -> None:
    """The SDK itself accepts all three defects below; the check used on every response above must not."""
    good = {"sku": "S", "summaries": [{"marketplaceId": US, "productType": "LUGGAGE", "status": ["BUYABLE"],
                                       "createdDate": "2026-01-02T03:04:05.678Z",
                                       "lastUpdatedDate": "2026-01-02T03:04:05Z"}],
            "offers": [{"marketplaceId": US, "offerType": "B2C", "price": {"currencyCode": "USD", "amount": "9.5"}}]}
    bad = copy.deepcopy(good)
    bad["summaries"][0]["inputDocumentId"] = "x"
    bad["summaries"][0]["lastUpdatedDate"] = "02.01.2026 03:04"
    bad["offers"][0]["price"]["amount"] = 9.5
    assert model_mismatches(good, sdk_model(official.api_client, LISTINGS_MODELS, "Item", good)) == []
    assert model_mismatches(bad, sdk_model(official.api_client, LISTINGS_MODELS, "Item", bad)) == [
        "$.summaries[0].inputDocumentId: not a field of ItemSummaryByMarketplace",
        "$.summaries[0].lastUpdatedDate: '02.01.2026 03:04' is not a JSON datetime",
        "$.offers[0].price.amount: 9.5 is not a JSON str"]


def test_official_errors_and_cancel_feed(sandbox_server: Any, seller: dict[str, str], official: Any) -> None:
    listings, sid = ListingsApi(official.api_client), seller["seller_id"]
    request = ListingsItemPutRequest(product_type="LUGGAGE", attributes=luggage_attributes())
    # Rules the SDK cannot check client-side (it does check maxItems, e.g. two marketplaceIds on put).
    with pytest.raises(ApiException) as identifiers_without_type:
        listings.search_listings_items(sid, [US], identifiers=["TP-1"])
    with pytest.raises(ApiException) as identifiers_without_preview:
        listings.put_listings_item(sid, "TP-1", [US], request, included_data=["identifiers"])
    for raised in (identifiers_without_type, identifiers_without_preview):
        assert raised.value.status == 400
        errors = sdk_model(official.api_client, LISTINGS_MODELS, "ErrorList", raised.value.body)
        assert errors.errors[0].code == "InvalidInput"
        assert model_mismatches(json.loads(raised.value.body), errors) == []

    set_config(sandbox_server.base_url, feed_processing_delay_seconds=60)
    feeds = FeedsApi(official.api_client)
    document = feeds.create_feed_document(CreateFeedDocumentSpecification(content_type="application/json"))
    requests.put(document.url, data=listings_feed(sid, [{"messageId": 1, "sku": "TP-1", "operationType": "DELETE"}]),
                 headers={"Content-Type": "application/json"}, timeout=10).raise_for_status()
    feed_id = feeds.create_feed(CreateFeedSpecification(feed_type="JSON_LISTINGS_FEED", marketplace_ids=[US],
                                                        input_feed_document_id=document.feed_document_id)).feed_id
    assert parsed(feeds, feeds.get_feed(feed_id)).processing_status == "IN_QUEUE"
    assert feeds.cancel_feed(feed_id) is None  # 200 without a body model
    cancelled = parsed(feeds, feeds.get_feed(feed_id))
    assert cancelled.processing_status == "CANCELLED" and cancelled.result_feed_document_id is None
    with pytest.raises(ApiException) as again:
        feeds.cancel_feed(feed_id)
    assert again.value.status == 400
    errors = sdk_model(official.api_client, FEEDS_MODELS, "ErrorList", again.value.body)
    assert model_mismatches(json.loads(again.value.body), errors) == []


def test_community_str_feed_is_uploaded_as_latin1(sandbox_server: Any, seller: dict[str, str], community: Any) -> None:
    """create_feed_document re-encodes a text file as ISO-8859-1 (a library quirk): a UTF-8-declared JSON feed with
    'ö' arrives as invalid UTF-8, and the sandbox ends it FATAL with a parseable report, not a 500."""
    feeds, sid = community(Feeds), seller["seller_id"]
    attributes = luggage_attributes()
    attributes["item_name"][0]["value"] = "Koffer Größe M"
    text = listings_feed(sid, [{"messageId": 1, "sku": "TP-1", "operationType": "UPDATE", "productType": "LUGGAGE",
                                "attributes": attributes}]).decode("utf-8")
    _, created = feeds.submit_feed("JSON_LISTINGS_FEED", io.StringIO(text),
                                   content_type="application/json; charset=UTF-8", marketplaceIds=[US])
    feed_id = created.payload["feedId"]
    assert wait_for_terminal(lambda: feeds.get_feed(feed_id).payload["processingStatus"]) == "FATAL"
    report = json.loads(feeds.get_feed_document(feeds.get_feed(feed_id).payload["resultFeedDocumentId"]))
    validate_report(report)
    (issue,) = report["issues"]
    assert issue["severity"] == "ERROR" and "messageId" not in issue and "UTF-8" in issue["message"].upper()


def test_readme_configuration_with_the_demo_seller(sandbox_server: Any, demo_seller: dict[str, str]) -> None:
    """The set-up README gives users, verbatim apart from the port: both libraries, the demo seller."""
    @dataclasses.dataclass(frozen=True)
    class SandboxMarketplace:  # stands in for sp_api.base.Marketplaces.US
        endpoint: str = sandbox_server.base_url
        marketplace_id: str = "ATVPDKIKX0DER"
        region: str = "us-east-1"

    class SandboxAccessTokenClient(AccessTokenClient):  # LWA URL = scheme + host + "/auth/o2/token"
        scheme = "http://"
        host = sandbox_server.base_url.removeprefix("http://")

    community_items = ListingsItems(SandboxMarketplace(), auth_token_client_class=SandboxAccessTokenClient,
                                    credentials={"refresh_token": demo_seller["refresh_token"],
                                                 "lwa_app_id": demo_seller["client_id"],
                                                 "lwa_client_secret": demo_seller["client_secret"]})
    config = SPAPIConfig(client_id=demo_seller["client_id"], client_secret=demo_seller["client_secret"],
                         refresh_token=demo_seller["refresh_token"], region="NA")
    client = SPAPIClient(config, endpoint=sandbox_server.base_url, oauth_endpoint=sandbox_server.lwa_token_url)
    try:
        put = community_items.put_listings_item(sellerId=demo_seller["seller_id"], sku="README-1",
                                                marketplaceIds=[US], body=put_body())
        item = ListingsApi(client.api_client).get_listings_item(demo_seller["seller_id"], "README-1", [US])
    finally:
        community_items.close()
    assert put.payload["status"] == "ACCEPTED" and item.summaries[0].product_type == "LUGGAGE"
