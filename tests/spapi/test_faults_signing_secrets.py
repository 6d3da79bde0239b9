"""Faults from the sandbox (HTML/empty 5xx, extra 429s, dropped connections) retried or raised correctly; createFeed
never resent after a possibly-delivered request; SigV4 on/off against `require_sigv4`; no secret in any log line,
exception text or metric."""

from __future__ import annotations

import asyncio
import json
import logging
import socket

import httpx
import pytest
from botocore.credentials import Credentials

from amz_pipeline import telemetry
from amz_pipeline.sandbox import SandboxConfig, create_app
from amz_pipeline.spapi import (
    AmbiguousSubmissionError,
    InvalidResponseError,
    RetryPolicy,
    ServerError,
    SPAPIClient,
    TokenCache,
    TransportFailedError,
    UnauthorizedError,
)
from amz_pipeline.spapi.signing import SigV4Signer, aws_credentials
from tests.spapi.spapi_support import (
    FAST_RETRY,
    SANDBOX_BASE_URL,
    app_client,
    client_kwargs,
    live_client,
    second_seller,
)
from tests.support.sandbox import luggage_attributes, price_patch

AWS_KEY = ("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")  # the AWS test-suite pair the sandbox knows


def set_faults(server, faults: dict) -> None:
    httpx.post(server.base_url + "/_sandbox/config", json={"faults": faults}, timeout=10).raise_for_status()


def sandbox_requests(server) -> list[dict]:
    return httpx.get(server.base_url + "/_sandbox/requests", timeout=10).json()["requests"]


async def test_html_503_is_retried_then_raised(sandbox_server, demo_seller):
    set_faults(sandbox_server, {"requests": {"getListingsItem": {"http_503": 1.0, "error_body": "html"}}})
    async with live_client(sandbox_server, demo_seller) as client:
        with pytest.raises(ServerError) as err:
            await client.get_listings_item("ANY", "US")
    assert err.value.status == 503 and "HTML body" in err.value.message and err.value.retryable
    snap = client.metrics.snapshot()
    assert snap["retries"] == FAST_RETRY.max_attempts - 1 and snap["responses_by_status"] == {"503": 4}


async def test_flaky_empty_500s_are_retried_to_success(sandbox_server, demo_seller):
    set_faults(sandbox_server, {"requests": {"searchListingsItems": {"http_500": 0.5, "error_body": "empty"}}})
    retry = RetryPolicy(max_attempts=12, backoff_base_seconds=0.01, backoff_cap_seconds=0.02)
    async with live_client(sandbox_server, demo_seller, retry=retry) as client:
        for _ in range(6):
            await client.search_listings_items("US")
    snap = client.metrics.snapshot()
    assert snap["retries"] >= 1 and snap["responses_by_status"]["500"] == snap["retries"]
    assert snap["errors_by_code"]["InternalFailure"] == snap["retries"]


async def test_extra_429s_are_retried_after_a_token_interval(sandbox_server, demo_seller):
    set_faults(sandbox_server, {"requests": {"patchListingsItem": {"throttle_429": 0.3}}})
    async with live_client(sandbox_server, demo_seller, retry=RetryPolicy(max_attempts=10)) as client:
        await client.put_listings_item("Q-1", "US", {"productType": "LUGGAGE", "attributes": luggage_attributes()})
        results = await asyncio.gather(*(client.patch_listings_item("Q-1", "US", price_patch(20 + i))
                                         for i in range(8)))
    assert all(r.status == "ACCEPTED" for r in results)
    snap = client.metrics.snapshot()
    assert snap["throttles"] >= 1 and snap["operations"]["patchListingsItem"]["retries"] == snap["throttles"]


async def test_dropped_connections_are_retried_then_raised(sandbox_server, demo_seller):
    set_faults(sandbox_server, {"requests": {"getFeeds": {"drop_connection": 1.0}}})
    async with live_client(sandbox_server, demo_seller) as client:
        with pytest.raises(TransportFailedError, match="after 4 attempt"):
            await client.get_feeds(feed_types=["JSON_LISTINGS_FEED"])


async def _create_feed(client: SPAPIClient) -> str:
    doc = await client.submit_feed_document(json.dumps({"header": {"sellerId": client.seller_id, "version": "2.0"},
                                                        "messages": [{"messageId": 1, "sku": "F",
                                                                      "operationType": "DELETE"}]}))
    return (await client.create_feed("JSON_LISTINGS_FEED", ["US"], doc)).feed_id


def _create_feed_calls(server) -> int:
    return sum(r["count"] for r in sandbox_requests(server) if r["operation"] == "createFeed")


@pytest.mark.parametrize("fault", [{"drop_connection": 1.0}, {"http_500": 1.0},
                                   {"http_503": 1.0, "error_body": "html"}, {"http_503": 1.0, "error_body": "empty"}])
async def test_create_feed_is_never_resent_when_it_may_have_arrived(sandbox_server, demo_seller, fault):
    set_faults(sandbox_server, {"requests": {"createFeed": fault}})
    async with live_client(sandbox_server, demo_seller) as client:
        with pytest.raises(AmbiguousSubmissionError, match="may have reached Amazon"):
            await _create_feed(client)
        assert client.metrics.snapshot()["operations"]["createFeed"]["requests"] == 1
    if "drop_connection" not in fault:
        assert _create_feed_calls(sandbox_server) == 1


async def test_create_feed_is_retried_when_amazon_refused_it(sandbox_server):
    """A 503 carrying Amazon's ErrorList means the request was refused before processing: safe to resend."""
    seller = second_seller(5)  # a fresh seller: earlier tests spent the demo seller's JSON_LISTINGS_FEED quota
    httpx.post(sandbox_server.base_url + "/_sandbox/sellers", json=seller, timeout=10).raise_for_status()
    set_faults(sandbox_server, {"requests": {"createFeed": {"http_503": 1.0, "error_body": "json"}}})
    async with live_client(sandbox_server, seller) as client:
        with pytest.raises(ServerError) as err:
            await _create_feed(client)
        assert not isinstance(err.value, AmbiguousSubmissionError)
        assert client.metrics.snapshot()["operations"]["createFeed"]["retries"] == FAST_RETRY.max_attempts - 1
        set_faults(sandbox_server, {})
        assert await _create_feed(client)


async def test_create_feed_connect_error_is_retried_as_never_sent(demo_seller):
    with socket.socket() as s:  # a port with nothing listening: connection refused, the request never left
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    async with SPAPIClient(**client_kwargs(demo_seller, f"http://127.0.0.1:{port}")) as client:
        client.auth.cache.lead_or_follow  # noqa: B018 - the token fetch itself fails to connect first
        with pytest.raises(TransportFailedError, match="ConnectError.*after 4 attempt"):
            await client.create_feed("JSON_LISTINGS_FEED", ["US"], "doc-1")


async def test_empty_429_shapes_only_a_proxy_makes(demo_seller):
    """A bodiless 429 (a proxy's, not Amazon's ErrorList; the sandbox always sends one): getFeed retries it,
    createFeed cannot know whether Amazon saw the request and refuses to resend."""
    calls = {"getFeed": 0, "createFeed": 0}

    def proxy(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/auth/o2/token":
            return httpx.Response(200, json={"access_token": "Atza|proxy-test-token", "expires_in": 3600})
        op = "createFeed" if request.method == "POST" else "getFeed"
        calls[op] += 1
        return httpx.Response(429, content=b"")

    kwargs = client_kwargs(demo_seller, SANDBOX_BASE_URL, transport=httpx.MockTransport(proxy), rate_limit=False)
    async with SPAPIClient(**kwargs) as client:
        with pytest.raises(AmbiguousSubmissionError):
            await client.create_feed("JSON_LISTINGS_FEED", ["US"], "doc-1")
        with pytest.raises(Exception, match="QuotaExceeded"):
            await client.get_feed("1")
    assert calls == {"createFeed": 1, "getFeed": FAST_RETRY.max_attempts}


async def test_a_success_body_that_does_not_fit_the_model_is_an_spapi_error(demo_seller):
    """A 2xx whose JSON lacks what the model requires (a gateway's answer, a changed API) raises InvalidResponseError
    naming the field, not a bare pydantic error; for createFeed the feed exists, so it is ambiguous, never resent."""
    calls = {"createFeed": 0}

    def gateway(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/auth/o2/token":
            return httpx.Response(200, json={"access_token": "Atza|gateway-test-token", "expires_in": 3600})
        if request.method == "POST":
            calls["createFeed"] += 1
            return httpx.Response(202, json={"feed": "created"})
        return httpx.Response(200, json={"sku": "SKU-1", "status": "ACCEPTED", "note": "Atzr|echoed-secret"})

    kwargs = client_kwargs(demo_seller, SANDBOX_BASE_URL, transport=httpx.MockTransport(gateway), rate_limit=False)
    async with SPAPIClient(**kwargs) as client:
        with pytest.raises(InvalidResponseError, match="ListingsItemSubmissionResponse.*first at submissionId") as err:
            await client.patch_listings_item("SKU-1", "US", price_patch(9.5))
        assert not err.value.retryable and "echoed-secret" not in str(err.value)
        with pytest.raises(AmbiguousSubmissionError, match="feed was accepted but its id is unreadable"):
            await client.create_feed("JSON_LISTINGS_FEED", ["US"], "doc-1")
    assert calls == {"createFeed": 1}


# --- SigV4 ---------------------------------------------------------------------------------------------------------


def _sigv4_app():
    return create_app(SandboxConfig(public_base_url=SANDBOX_BASE_URL, require_sigv4=True,
                                    enforce_usage_plans=False, feed_processing_delay_seconds=0))


async def test_sigv4_required_rejects_unsigned_and_accepts_signed(demo_seller):
    app = _sigv4_app()
    async with app_client(app, demo_seller) as unsigned:
        with pytest.raises(UnauthorizedError) as err:
            await unsigned.search_listings_items("US")
        assert err.value.status == 403
    signer = SigV4Signer(Credentials(*AWS_KEY), "us-east-1")
    async with app_client(app, demo_seller, signer=signer.sign) as signed:
        await signed.put_listings_item("SKU with spaces/slash+plus ü", "US",
                                       {"productType": "LUGGAGE", "attributes": luggage_attributes()})
        found = await signed.search_listings_items("US", identifiers=["SKU with spaces/slash+plus ü"],
                                                   identifiers_type="SKU", included_data=["summaries", "issues"])
        assert found.number_of_results == 1
        types = await signed.search_definitions_product_types("US", keywords=["carry on", "luggage"])
        assert types.product_types is not None


async def test_sigv4_signature_for_the_wrong_region_is_rejected(demo_seller):
    async with app_client(_sigv4_app(), demo_seller,
                          signer=SigV4Signer(Credentials(*AWS_KEY), "eu-west-1").sign) as client:
        with pytest.raises(UnauthorizedError):
            await client.search_listings_items("US")


async def test_sigv4_credentials_from_env_and_assumed_role(demo_seller, monkeypatch):
    from moto.server import ThreadedMotoServer

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", AWS_KEY[0])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", AWS_KEY[1])
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    app = _sigv4_app()
    env_creds = aws_credentials()
    assert env_creds.get_frozen_credentials().access_key == AWS_KEY[0]
    async with app_client(app, demo_seller, signer=SigV4Signer(env_creds, "us-east-1").sign) as client:
        await client.search_listings_items("US")

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    try:
        host, port = server.get_host_and_port()
        role = aws_credentials(role_arn="arn:aws:iam::123456789012:role/spapi-signer", region="us-east-1",
                               sts_endpoint_url=f"http://{host}:{port}")
        frozen = role.get_frozen_credentials()
        assert frozen.access_key != AWS_KEY[0] and frozen.token
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=SANDBOX_BASE_URL) as admin:
            (await admin.post("/_sandbox/sellers", json=demo_seller | {
                "aws_access_key_id": frozen.access_key, "aws_secret_access_key": frozen.secret_key})).raise_for_status()
        async with app_client(app, demo_seller, signer=SigV4Signer(role, "us-east-1").sign) as client:
            await client.search_listings_items("US")
    finally:
        server.stop()


# --- secrets -------------------------------------------------------------------------------------------------------


async def test_no_secret_reaches_logs_exceptions_or_metrics(demo_seller, caplog):
    seller = second_seller(7)
    app = create_app(SandboxConfig(public_base_url=SANDBOX_BASE_URL, feed_processing_delay_seconds=0,
                                   faults={"requests": {"getListingsItem": {"http_500": 1.0, "error_body": "html"}}}))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=SANDBOX_BASE_URL) as admin:
        (await admin.post("/_sandbox/sellers", json=seller)).raise_for_status()
    cache = TokenCache()
    texts: list[str] = []
    caplog.set_level(logging.DEBUG)
    formatter = telemetry.JsonFormatter()
    async with app_client(app, seller, token_cache=cache,
                          signer=SigV4Signer(Credentials(*AWS_KEY), "us-east-1").sign) as client:
        await client.put_listings_item("S-1", "US", {"productType": "LUGGAGE", "attributes": luggage_attributes()})
        for call in (client.get_listings_item("S-1", "US"),
                     client.get_listings_item("S-1", "DE"),
                     app_client(app, dict(seller, refresh_token="Atzr|a-wrong-refresh-token"),
                                token_cache=cache).search_listings_items("US")):
            try:
                await call
            except Exception as exc:  # noqa: BLE001 - every exception text is checked below
                texts += [str(exc), repr(exc)]
        texts.append(json.dumps(client.metrics.snapshot()))
    access_tokens = [token.value for token in cache._tokens.values()]
    assert access_tokens
    for record in caplog.records:
        texts += [record.getMessage(), formatter.format(record)]
    spapi_lines = [t for t in texts if '"event": "spapi.call"' in t]
    assert len(spapi_lines) >= 3 and all('"trace_id"' in line for line in spapi_lines)
    secrets = [seller["client_secret"], seller["refresh_token"], "Atzr|a-wrong-refresh-token", AWS_KEY[1],
               *access_tokens]
    for text in texts:
        for secret in secrets:
            assert secret not in text, f"secret leaked into: {text[:200]}"


def test_redaction_filter_masks_known_and_token_shaped_values():
    telemetry.register_secret("my-very-secret-value")
    record = logging.LogRecord("x", logging.INFO, "f", 1, "posting client_secret=%s and %s", ("abc123def", "Atza|zzz"),
                               None)
    record.headers = {"x-amz-access-token": "Atza|IwEB-secret", "note": "my-very-secret-value"}
    assert telemetry.RedactingFilter().filter(record)
    line = telemetry.JsonFormatter().format(record)
    for secret in ("abc123def", "Atza|zzz", "Atza|IwEB-secret", "my-very-secret-value"):
        assert secret not in line
    assert "***" in line
