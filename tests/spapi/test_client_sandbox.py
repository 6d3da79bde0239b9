"""The client against the sandbox: operations round trip (in-process and over loopback HTTP), token expiry with 50
concurrent calls, two sellers isolated, UTF-8 feed upload, schema cache by checksum."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

import httpx
import pytest

from amz_pipeline.sandbox import SandboxConfig, create_app
from amz_pipeline.spapi import (
    InvalidGrantError,
    InvalidInputError,
    NotFoundError,
    TokenCache,
    UnauthorizedError,
)
from tests.spapi.spapi_support import (
    SANDBOX_BASE_URL,
    app_client,
    live_sync_client,
    second_seller,
)
from tests.support.sandbox import luggage_attributes, price_patch


class CountingApp:
    """Wraps the sandbox ASGI app and counts LWA token requests (observes, changes nothing)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.token_requests = 0

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["path"] == "/auth/o2/token":
            self.token_requests += 1
        await self.app(scope, receive, send)


def admin(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=SANDBOX_BASE_URL)


async def test_listings_round_trip_in_process(sandbox_app, demo_seller):
    async with app_client(sandbox_app, demo_seller) as client:
        put = await client.put_listings_item("RT-1", "US", {"productType": "LUGGAGE",
                                                           "attributes": luggage_attributes()})
        assert put.status == "ACCEPTED" and put.sku == "RT-1"
        invalid = await client.put_listings_item("RT-2", "ATVPDKIKX0DER", {"productType": "LUGGAGE", "attributes": {
            "item_name": luggage_attributes()["item_name"]}})
        assert invalid.status == "INVALID" and invalid.errors  # 200 with issues, not an exception
        preview = await client.patch_listings_item("RT-1", "US", price_patch(10.0), mode="VALIDATION_PREVIEW")
        assert preview.status == "VALID"
        patched = await client.patch_listings_item("RT-1", "US", price_patch(88.25))
        assert patched.status == "ACCEPTED"
        item = await client.get_listings_item("RT-1", ["US"], included_data=["summaries", "offers", "attributes"])
        assert item.offers[0]["price"]["amount"] == "88.25"
        assert item.summaries[0].product_type == "LUGGAGE"
        found = await client.search_listings_items("US", identifiers=["RT-1"], identifiers_type="SKU")
        assert [i.sku for i in found.items] == ["RT-1"]
        assert (await client.delete_listings_item("RT-1", "US")).status == "ACCEPTED"
        with pytest.raises(NotFoundError) as err:
            await client.get_listings_item("RT-1", "US")
        assert err.value.request_id and err.value.operation == "getListingsItem"
        with pytest.raises(InvalidInputError):
            await client.put_listings_item("BadSKU", "US", {"productType": "LUGGAGE", "attributes": {}})
        assert (await client.get_listings_restrictions("B000000001", "US")).restrictions == []
    snapshot = client.metrics.snapshot()
    assert snapshot["errors_by_code"]["NotFound"] == 1 and snapshot["requests"] >= 10


def test_bad_caller_input_is_a_clear_error(sandbox_app, demo_seller):
    client = app_client(sandbox_app, demo_seller)
    with pytest.raises(ValueError, match="is in region EU, not NA"):
        asyncio.run(client.get_listings_item("X", "DE"))
    with pytest.raises(ValueError, match="exactly one marketplace"):
        asyncio.run(client.put_listings_item("X", ["US", "CA"], {}))
    with pytest.raises(ValueError, match="only allowed with mode=VALIDATION_PREVIEW"):
        asyncio.run(client.patch_listings_item("X", "US", {}, included_data=["identifiers"]))


async def test_feed_upload_keeps_umlauts_and_reports_back(sandbox_app, demo_seller):
    name = "Koffer Größe M – weiß, 日本"
    attributes = luggage_attributes()
    attributes["item_name"][0]["value"] = name
    feed = {"header": {"sellerId": demo_seller["seller_id"], "version": "2.0"},
            "messages": [{"messageId": 1, "sku": "FEED-Ü1", "operationType": "UPDATE", "productType": "LUGGAGE",
                          "attributes": attributes}]}
    async with app_client(sandbox_app, demo_seller) as client:
        doc_id = await client.submit_feed_document(json.dumps(feed, ensure_ascii=False))
        created = await client.create_feed("JSON_LISTINGS_FEED", ["US"], doc_id)
        for _ in range(100):
            status = await client.get_feed(created.feed_id)
            if status.is_terminal:
                break
            await asyncio.sleep(0.05)
        assert status.processing_status == "DONE"
        report = json.loads(await client.download_feed_document(status.result_feed_document_id))
        assert report["summary"]["messagesAccepted"] == 1, report
        item = await client.get_listings_item("FEED-Ü1", "US", included_data=["attributes"])
        assert item.attributes["item_name"][0]["value"] == name
        listed = await client.get_feeds(feed_types=["JSON_LISTINGS_FEED"])
        assert [f.feed_id for f in listed.feeds] == [created.feed_id]


async def test_upload_with_a_different_content_type_is_refused(sandbox_app, demo_seller):
    async with app_client(sandbox_app, demo_seller) as client:
        doc = await client.create_feed_document("application/json; charset=UTF-8")
        with pytest.raises(Exception) as err:
            await client.upload_feed_document(doc.url, b"{}", "text/plain")
        assert getattr(err.value, "status", None) in (400, 403, 415)


async def test_product_type_schema_is_downloaded_once_per_checksum(sandbox_app, demo_seller, tmp_path):
    async with app_client(sandbox_app, demo_seller, cache_dir=tmp_path) as client:
        first = await client.get_product_type_schema("LUGGAGE", "US")
        second = await client.get_product_type_schema("LUGGAGE", "US")
        assert first == second and "properties" in first
        ops = client.metrics.snapshot()["operations"]
        assert ops["downloadProductTypeSchema"]["requests"] == 1
        assert ops["getDefinitionsProductType"]["requests"] == 2
        assert len(list(tmp_path.glob("LUGGAGE/*.json"))) == 1
        found = await client.search_definitions_product_types("US", keywords=["luggage"])
        assert "LUGGAGE" in [p.name for p in found.product_types]


def _fast_app(**config: Any) -> CountingApp:
    return CountingApp(create_app(SandboxConfig(public_base_url=SANDBOX_BASE_URL, enforce_usage_plans=False,
                                                feed_processing_delay_seconds=0, **config)))


async def test_token_expiry_mid_run_50_concurrent_calls_refresh_once(demo_seller):
    app = _fast_app(token_ttl_seconds=2)
    cache = TokenCache(skew_seconds=60)  # 60 s skew on a 2 s token: refresh at half-life (1 s)
    async with app_client(app, demo_seller, token_cache=cache, rate_limit=False) as client:
        await client.put_listings_item("TTL-1", "US", {"productType": "LUGGAGE", "attributes": luggage_attributes()})
        assert app.token_requests == 1
        await asyncio.sleep(1.1)
        results = await asyncio.gather(*(client.get_listings_item("TTL-1", "US") for _ in range(50)))
        assert all(r.sku == "TTL-1" for r in results)
        assert app.token_requests == 2 and cache.refreshes == 2
        assert client.metrics.snapshot()["token_refreshes"] == 2


async def test_server_side_expiry_403_refreshes_once_and_resends(demo_seller):
    """Our clock says the token is fresh, the sandbox says it expired: every call gets Amazon's 403 'The access token
    you provided has expired.', exactly one refresh happens and every call succeeds on its one resend."""
    app = _fast_app(token_ttl_seconds=1)
    frozen = [0.0]
    cache = TokenCache(skew_seconds=0, clock=lambda: frozen[0])
    async with app_client(app, demo_seller, token_cache=cache, rate_limit=False) as client:
        await client.put_listings_item("EXP-1", "US", {"productType": "LUGGAGE", "attributes": luggage_attributes()})
        time.sleep(1.2)  # the sandbox expires the token; our frozen clock does not notice
        results = await asyncio.gather(*(client.get_listings_item("EXP-1", "US") for _ in range(50)))
        assert len(results) == 50 and app.token_requests == 2 and cache.refreshes == 2
        assert client.metrics.snapshot()["responses_by_status"] == {"200": 51}


async def test_threads_and_event_loops_share_one_refresh(demo_seller):
    """Single-flight across threads: 5 threads x 10 coroutines, each its own event loop, one token request."""
    import concurrent.futures

    app = _fast_app()
    cache = TokenCache()

    def worker() -> int:
        async def run() -> int:
            async with app_client(app, demo_seller, token_cache=cache, rate_limit=False) as client:
                done = await asyncio.gather(*(client.search_listings_items("US") for _ in range(10)))
                return len(done)
        return asyncio.run(run())

    with concurrent.futures.ThreadPoolExecutor(5) as pool:
        assert sum(pool.map(lambda _: worker(), range(5))) == 50
    assert app.token_requests == 1 and cache.refreshes == 1


async def test_two_sellers_are_isolated(demo_seller):
    app = _fast_app()
    other = second_seller()
    async with admin(app) as a:
        (await a.post("/_sandbox/sellers", json=other)).raise_for_status()
    cache = TokenCache()
    async with app_client(app, demo_seller, token_cache=cache) as one, \
            app_client(app, other, token_cache=cache) as two:
        await one.put_listings_item("ISO-1", "US", {"productType": "LUGGAGE", "attributes": luggage_attributes()})
        await two.put_listings_item("ISO-1", "US", {"productType": "LUGGAGE",
                                                    "attributes": luggage_attributes(price=5.0)})
        a = await one.get_listings_item("ISO-1", "US", included_data=["offers"])
        b = await two.get_listings_item("ISO-1", "US", included_data=["offers"])
        assert a.offers[0]["price"]["amount"] != b.offers[0]["price"]["amount"]
        assert app.token_requests == 2 and cache.refreshes == 2  # one token per seller, never shared
        # A token only works for its own seller: ask for the other seller's listing with seller one's token.
        one.seller_id = other["seller_id"]
        with pytest.raises(UnauthorizedError):
            await one.get_listings_item("ISO-1", "US")


async def test_throttled_seller_never_blocks_another(demo_seller):
    """Seller one has 20 patches queued behind its 5/s plan; seller two's patch goes straight through."""
    app = create_app(SandboxConfig(public_base_url=SANDBOX_BASE_URL))  # usage plans enforced, speed 1
    other = second_seller(3)
    async with admin(app) as a:
        (await a.post("/_sandbox/sellers", json=other)).raise_for_status()
    async with app_client(app, demo_seller) as one, app_client(app, other, limiter=one.limiter) as two:
        await one.put_listings_item("T-1", "US", {"productType": "LUGGAGE", "attributes": luggage_attributes()})
        await two.put_listings_item("T-1", "US", {"productType": "LUGGAGE", "attributes": luggage_attributes()})
        busy = asyncio.gather(*(one.patch_listings_item("T-1", "US", price_patch(10 + i)) for i in range(20)))
        await asyncio.sleep(0.2)
        started = time.monotonic()
        await two.patch_listings_item("T-1", "US", price_patch(1.0))
        assert time.monotonic() - started < 0.3
        await busy
    assert one.metrics.snapshot()["throttles"] == 0  # the limiter paced seller one: no 429 at all


def test_sync_client_over_live_http(sandbox_server, demo_seller):
    with live_sync_client(sandbox_server, demo_seller) as client:
        put = client.put_listings_item("SYNC-1", "US", {"productType": "LUGGAGE", "attributes": luggage_attributes()})
        assert put.status == "ACCEPTED"
        assert client.get_listings_item("SYNC-1", "US").sku == "SYNC-1"
        assert client.metrics.snapshot()["requests"] == 2


def test_revoked_refresh_token_means_reauthorize(sandbox_server, demo_seller):
    revoked = dict(demo_seller, refresh_token="Atzr|revoked-or-wrong-refresh-token")
    with live_sync_client(sandbox_server, revoked) as client, pytest.raises(InvalidGrantError) as err:
        client.get_listings_item("X", "US")
    assert "re-authorize" in str(err.value) and not err.value.retryable
    assert "revoked-or-wrong-refresh-token" not in str(err.value)
    assert client.metrics.snapshot()["retries"] == 0


def test_json_log_line_per_call_carries_the_callers_trace_id(sandbox_server, demo_seller):
    import io

    from amz_pipeline import telemetry

    stream = io.StringIO()
    handler = telemetry.configure_logging("INFO", stream)
    try:
        with live_sync_client(sandbox_server, demo_seller) as client, telemetry.trace("dagster-run-42"):
            client.put_listings_item("LOG-1", "US", {"productType": "LUGGAGE", "attributes": luggage_attributes()})
            with pytest.raises(NotFoundError):
                client.get_listings_item("LOG-404", "US")
    finally:
        logging.getLogger("amz_pipeline").removeHandler(handler)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    calls = [line for line in lines if line.get("event") == "spapi.call"]
    assert [c["operation"] for c in calls] == ["putListingsItem", "getListingsItem"]
    put, get = calls
    assert put["trace_id"] == get["trace_id"] == "dagster-run-42"
    assert put["seller_id"] == demo_seller["seller_id"] and put["marketplace_id"] == "ATVPDKIKX0DER"
    assert put["status"] == 200 and put["attempt"] == 1 and put["request_id"] and put["rate_limit"] > 0
    assert put["latency_ms"] > 0 and get["status"] == 404 and get["error_code"] == "NotFound"
    assert demo_seller["client_secret"] not in stream.getvalue()
    assert demo_seller["refresh_token"] not in stream.getvalue()


class RequestCountingApp(CountingApp):
    """Also counts SP-API requests (everything but the token endpoint)."""

    def __init__(self, app: Any) -> None:
        super().__init__(app)
        self.api_requests = 0

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["path"] != "/auth/o2/token":
            self.api_requests += 1
        await super().__call__(scope, receive, send)


async def test_a_400_is_raised_at_once_never_retried(demo_seller):
    app = RequestCountingApp(_fast_app().app)
    async with app_client(app, demo_seller, rate_limit=False) as client:
        with pytest.raises(InvalidInputError) as caught:
            await client.search_listings_items("US", sortBy="price")
    assert caught.value.status == 400 and not caught.value.retryable
    assert app.api_requests == 1 and client.metrics.snapshot()["retries"] == 0


async def test_a_403_that_is_not_expiry_is_neither_refreshed_nor_retried(demo_seller):
    """The demo seller's token on another seller's listings: Amazon's 403 without 'expired' - no refresh, no resend."""
    app = RequestCountingApp(_fast_app().app)
    async with app_client(app, dict(demo_seller, seller_id="A9SOMEONEELSE"), rate_limit=False) as client:
        with pytest.raises(UnauthorizedError) as caught:
            await client.get_listings_item("SKU-1", "US")
    assert caught.value.status == 403 and not caught.value.token_expired and not caught.value.retryable
    assert app.api_requests == 1 and app.token_requests == 1
