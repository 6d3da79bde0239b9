"""Public client options: `authenticate()`, `guard_writes`, `request_id` on returned models, `rate_scale`."""

from __future__ import annotations

import asyncio
import logging
import time

import httpx
import pytest

import schemas
from amz_pipeline.spapi import AmbiguousSubmissionError, LWAError, RateLimiter, ServerError, SPAPIClient
from amz_pipeline.spapi.client import default_limiter
from amz_pipeline.spapi.operations.models import ListingsItemSubmissionResponse
from amz_pipeline.spapi.ratelimit import CallScope
from tests.spapi.spapi_support import FAST_RETRY, client_kwargs, live_client
from tests.support.sandbox import luggage_attributes, price_patch

FEED_SCOPE = CallScope("A1SCALE", "NA", "app-scale", "createFeed", feed_type="JSON_LISTINGS_FEED")


def set_faults(server, faults: dict) -> None:
    httpx.post(server.base_url + "/_sandbox/config", json={"faults": faults}, timeout=10).raise_for_status()


async def test_authenticate_fetches_one_token_and_names_lwa_refusals(sandbox_server, demo_seller):
    async with live_client(sandbox_server, demo_seller) as client:
        await client.authenticate()
        await client.authenticate()  # cached: no second token request
        assert client.metrics.snapshot()["token_refreshes"] == 1
    wrong_secret = dict(demo_seller, client_secret="not-the-secret")
    wrong_token = dict(demo_seller, refresh_token="Atzr|not-the-token")
    for seller, code in ((wrong_secret, "invalid_client"), (wrong_token, "invalid_grant")):
        async with live_client(sandbox_server, seller) as client:
            with pytest.raises(LWAError) as err:
                await client.authenticate()
        assert err.value.code == code and not err.value.retryable
        assert "not-the-" not in str(err.value)


async def test_guard_writes_never_resends_a_write_that_may_have_arrived(sandbox_server, demo_seller):
    async with live_client(sandbox_server, demo_seller) as client:
        await client.put_listings_item("G-1", "US", {"productType": "LUGGAGE", "attributes": luggage_attributes()})
    set_faults(sandbox_server, {"requests": {"patchListingsItem": {"http_500": 1.0}}})
    async with live_client(sandbox_server, demo_seller, guard_writes=True) as guarded:
        with pytest.raises(AmbiguousSubmissionError, match="may have reached Amazon"):
            await guarded.patch_listings_item("G-1", "US", price_patch(9.5))
        assert guarded.metrics.snapshot()["operations"]["patchListingsItem"]["requests"] == 1
        # VALIDATION_PREVIEW changes nothing: retried as usual
        with pytest.raises(ServerError) as preview:
            await guarded.patch_listings_item("G-1", "US", price_patch(9.5), mode="VALIDATION_PREVIEW")
        assert not isinstance(preview.value, AmbiguousSubmissionError)
    async with live_client(sandbox_server, demo_seller) as plain:  # the default: a 500 is retried
        with pytest.raises(ServerError) as err:
            await plain.patch_listings_item("G-1", "US", price_patch(9.5))
        assert not isinstance(err.value, AmbiguousSubmissionError)
        assert plain.metrics.snapshot()["operations"]["patchListingsItem"]["retries"] == FAST_RETRY.max_attempts - 1


async def test_guard_writes_resends_what_amazon_refused(sandbox_server, demo_seller):
    set_faults(sandbox_server, {"requests": {"deleteListingsItem": {"http_503": 1.0, "error_body": "json"}}})
    async with live_client(sandbox_server, demo_seller, guard_writes=True) as client:
        with pytest.raises(ServerError) as err:
            await client.delete_listings_item("G-2", "US")
        assert not isinstance(err.value, AmbiguousSubmissionError)
        assert client.metrics.snapshot()["operations"]["deleteListingsItem"]["retries"] == FAST_RETRY.max_attempts - 1


async def test_successful_responses_carry_their_request_id(sandbox_server, demo_seller, caplog):
    caplog.set_level(logging.INFO, logger="amz_pipeline.spapi.client")
    async with live_client(sandbox_server, demo_seller) as client:
        put = await client.put_listings_item("R-1", "US", {"productType": "LUGGAGE", "attributes": luggage_attributes()})
        item = await client.get_listings_item("R-1", "US")
    logged = [r.request_id for r in caplog.records if getattr(r, "operation", None) in ("putListingsItem",
                                                                                        "getListingsItem")]
    assert [put.request_id, item.request_id] == logged and put.request_id != item.request_id
    assert ListingsItemSubmissionResponse(sku="X", status="ACCEPTED", submission_id="s").request_id is None


def test_rate_scale_scales_every_plan_from_the_data_files():
    base, scaled = dict(RateLimiter().buckets(FEED_SCOPE)), dict(RateLimiter(rate_scale=10).buckets(FEED_SCOPE))
    assert base.keys() == scaled.keys() and len(base) == 2  # seller plan, feed submissions
    for key, plan in base.items():
        assert scaled[key].rate == pytest.approx(plan.rate * 10)
    put = CallScope("A1SCALE", "NA", "app-scale", "putListingsItem")
    base_put, scaled_put = RateLimiter().buckets(put), RateLimiter(rate_scale=10).buckets(put)
    assert [k for k, _ in base_put] == [k for k, _ in scaled_put] and len(base_put) == 2  # seller plan, app cap
    assert all(s.rate == pytest.approx(b.rate * 10) for (_, b), (_, s) in zip(base_put, scaled_put, strict=True))
    feed = schemas.load_json("spapi/limits.json")["feed_types"]["JSON_LISTINGS_FEED"]
    feed_key = next(k for k in scaled if "/feed/" in k)
    assert scaled[feed_key].rate == pytest.approx(10 * feed["submissions_per_window"] / feed["window_seconds"])
    with pytest.raises(ValueError, match="rate_scale"):
        RateLimiter(rate_scale=0)


async def test_a_rate_the_server_reports_is_adopted_unscaled():
    limiter = RateLimiter(rate_scale=10)
    scope = CallScope("A1SCALE", "NA", "app-scale", "getListingsItem")
    assert limiter.token_interval(scope) == pytest.approx(1 / (10 * RateLimiter().buckets(scope)[0][1].rate
                                                               / RateLimiter().rate_factor))
    await limiter.observe(scope, 7.0)
    assert limiter.token_interval(scope) == pytest.approx(1 / 7.0)


async def test_scaled_feed_window_lets_the_sixth_submission_through_soon():
    feed = schemas.load_json("spapi/limits.json")["feed_types"]["JSON_LISTINGS_FEED"]
    scale = feed["window_seconds"]  # the window becomes one second
    limiter = RateLimiter(rate_scale=scale)
    started = time.monotonic()
    for _ in range(feed["submissions_per_window"] + 1):
        await limiter.acquire(FEED_SCOPE)
    elapsed = time.monotonic() - started
    assert 0.1 < elapsed < 3, elapsed  # unscaled, the extra submission would wait a full window (minutes)


async def test_client_rate_scale_builds_its_own_limiter(demo_seller):
    async with SPAPIClient(**client_kwargs(demo_seller, "http://127.0.0.1:9", limiter=None, rate_scale=4)) as client:
        assert client.limiter is not default_limiter() and client.limiter.rate_scale == 4
    with pytest.raises(ValueError, match="conflicts"):
        SPAPIClient(**client_kwargs(demo_seller, "http://127.0.0.1:9", limiter=RateLimiter(), rate_scale=4))
    await asyncio.sleep(0)
