"""Requests signed by botocore's SigV4Auth (what the SP-API client uses) verify with the sandbox's own verifier.

The signer here is test code in the style the client uses (an httpx.Auth around botocore); the verifier shares no code
with it. Requests go through an ASGI app that verifies exactly as the sandbox does (`asgi_url(scope)`, the request's
headers and body), in-process and over real loopback HTTP.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

import httpx
import pytest
import uvicorn
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from amz_pipeline.sandbox.sigv4 import SigV4Error, asgi_url, verify_sigv4

ACCESS_KEY = "AKIASANDBOXTEST00001"
SECRET_KEY = "sandbox/secret+key/Example0123456789abcdEF"
SESSION_TOKEN = "FwoGZXIvYXdzEXAMPLE//session+token=="
ACCESS_TOKEN = "Atza|IwEBIAccessTokenThatMustNotLeak"
KEYS = {ACCESS_KEY: SECRET_KEY}
REGION = "us-east-1"
SELLER = "A1DEMOSELLER01"
MARKETPLACE = "ATVPDKIKX0DER"


class BotocoreSigV4(httpx.Auth):
    """Signs the final request with botocore, building the canonical query from decoded pairs (space as %20)."""

    requires_request_body = True

    def __init__(self, credentials: Credentials, region: str = REGION, naive_query: bool = False) -> None:
        self.credentials, self.region, self.naive_query = credentials, region, naive_query

    def auth_flow(self, request: httpx.Request) -> Iterator[httpx.Request]:
        url = str(request.url)
        if not self.naive_query and request.url.query:
            parts = urlsplit(url)
            query = urlencode(parse_qsl(parts.query, keep_blank_values=True), quote_via=quote, safe="-_.~")
            url = parts._replace(query=query).geturl()
        aws = AWSRequest(method=request.method, url=url, data=request.content, headers=dict(request.headers))
        SigV4Auth(self.credentials, "execute-api", self.region).add_auth(aws)
        for name in ("Authorization", "X-Amz-Date", "X-Amz-Security-Token"):
            if name in aws.headers:
                request.headers[name] = aws.headers[name]
        yield request


async def verify_endpoint(request: Request) -> JSONResponse:
    body = await request.body()
    try:
        verify_sigv4(request.method, asgi_url(request.scope), request.headers, body, REGION, "execute-api", KEYS.get)
    except SigV4Error as exc:
        return JSONResponse({"errors": [{"code": exc.code, "message": str(exc)}]}, status_code=403)
    return JSONResponse({"path": request.url.path, "query": dict(request.query_params), "bytes": len(body)})


app = Starlette(routes=[Route("/{path:path}", verify_endpoint, methods=["GET", "PUT", "PATCH", "POST", "DELETE"])])

CREDS = Credentials(ACCESS_KEY, SECRET_KEY)
SESSION_CREDS = Credentials(ACCESS_KEY, SECRET_KEY, SESSION_TOKEN)
LISTINGS = f"/listings/2021-08-01/items/{SELLER}"
PATCH_BODY = {
    "productType": "SHIRT",
    "patches": [
        {
            "op": "replace",
            "path": "/attributes/purchasable_offer",
            "value": [{"marketplace_id": MARKETPLACE, "currency": "EUR",
                       "our_price": [{"schedule": [{"value_with_tax": 19.99}]}]}],
        },
        {"op": "replace", "path": "/attributes/item_name",
         "value": [{"value": "T-Shirt Größe M – Grün", "language_tag": "de_DE", "marketplace_id": MARKETPLACE}]},
    ],
}

REQUESTS = {
    "get-listing-query-with-spaces": (
        "GET", f"{LISTINGS}/SKU-1", {"marketplaceIds": MARKETPLACE, "includedData": "summaries,attributes,issues",
                                    "issueLocale": "de_DE", "keywords": "red shoe & socks"}, None),
    "utf8-and-slash-in-sku-path": (
        "GET", f"{LISTINGS}/{quote('Größe M/rot ß', safe='')}", {"marketplaceIds": MARKETPLACE}, None),
    "patch-json-body": ("PATCH", f"{LISTINGS}/{quote('SKU ä 1', safe='')}", {"marketplaceIds": MARKETPLACE}, PATCH_BODY),
    "repeated-query-keys": ("GET", "/feeds/2021-06-30/feeds", [("feedTypes", "JSON_LISTINGS_FEED"),
                                                              ("processingStatuses", "DONE"),
                                                              ("processingStatuses", "IN_QUEUE")], None),
    "delete-no-query": ("DELETE", f"{LISTINGS}/SKU-2", None, None),
    "post-empty-json": ("POST", "/feeds/2021-06-30/documents", None, {"contentType": "application/json; charset=UTF-8"}),
}


def request_args(method, path, params, body, **kwargs) -> dict:
    headers = {"x-amz-access-token": ACCESS_TOKEN, "user-agent": "amz-pipeline-test/1.0 (Language=Python)"}
    if body is not None:
        headers["content-type"] = "application/json"
        kwargs["content"] = json.dumps(body, ensure_ascii=False).encode("utf-8")
    return {"method": method, "url": path, "params": params, "headers": headers, **kwargs}


@pytest.fixture
async def asgi_client() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://sellingpartnerapi-na.amazon.com") as client:
        yield client


async def send(client: httpx.AsyncClient, *args, **kwargs) -> httpx.Response:
    return await client.request(**request_args(*args, **kwargs))


@pytest.fixture(scope="module")
def live_url() -> Iterator[str]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(5)


@pytest.mark.parametrize("case", REQUESTS)
@pytest.mark.parametrize("creds", [CREDS, SESSION_CREDS], ids=["keys", "session-token"])
async def test_botocore_signed_requests_verify(asgi_client, case, creds):
    response = await send(asgi_client, *REQUESTS[case], auth=BotocoreSigV4(creds))
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("case", REQUESTS)
def test_botocore_signed_requests_verify_over_loopback_http(live_url, case):
    with httpx.Client(base_url=live_url) as client:
        response = client.request(**request_args(*REQUESTS[case], auth=BotocoreSigV4(SESSION_CREDS)))
    assert response.status_code == 200, response.text
    if case == "get-listing-query-with-spaces":
        assert response.json()["query"]["keywords"] == "red shoe & socks"


async def test_unsigned_request_is_refused(asgi_client):
    response = await send(asgi_client, *REQUESTS["delete-no-query"])
    assert response.status_code == 403
    assert response.json()["errors"][0]["code"] == "MissingAuthenticationTokenException"


async def test_a_plus_encoded_query_signed_verbatim_is_refused(asgi_client):
    """httpx writes a space as '+'; signing that URL string as is (no re-encoding to %20) is the classic client bug."""
    response = await send(asgi_client, *REQUESTS["get-listing-query-with-spaces"], auth=BotocoreSigV4(CREDS, naive_query=True))
    assert response.status_code == 403
    assert "does not match" in response.json()["errors"][0]["message"]


@pytest.mark.parametrize(
    ("auth", "code", "message"),
    [
        (BotocoreSigV4(Credentials(ACCESS_KEY, "not-the-secret")), "InvalidSignatureException", "does not match"),
        (BotocoreSigV4(Credentials("AKIAUNKNOWN000000000", SECRET_KEY)), "UnrecognizedClientException", "invalid"),
        (BotocoreSigV4(CREDS, region="eu-west-1"), "InvalidSignatureException", "valid region"),
    ],
)
async def test_bad_signatures_are_refused_without_leaking(asgi_client, auth, code, message):
    response = await send(asgi_client, *REQUESTS["patch-json-body"], auth=auth)
    assert response.status_code == 403
    error = response.json()["errors"][0]
    assert error["code"] == code and message in error["message"]
    for secret in (SECRET_KEY, ACCESS_TOKEN, SESSION_TOKEN):
        assert secret not in response.text


class TamperAfterSigning(httpx.Auth):
    requires_request_body = True

    def __init__(self, tamper) -> None:
        self.inner, self.tamper = BotocoreSigV4(CREDS), tamper

    def auth_flow(self, request):
        for signed in self.inner.auth_flow(request):
            yield self.tamper(signed)


@pytest.mark.parametrize(
    "tamper",
    [
        lambda r: httpx.Request(r.method, r.url, headers=r.headers, content=r.content.replace(b"19.99", b"0.01")),
        lambda r: httpx.Request(r.method, r.url.copy_set_param("marketplaceIds", "A1PA6795UKMFR9"), headers=r.headers,
                                content=r.content),
        lambda r: httpx.Request(r.method, r.url, content=r.content,
                                headers={**r.headers, "x-amz-access-token": "Atza|someone-else"}),
        lambda r: httpx.Request("PUT", r.url, headers=r.headers, content=r.content),
    ],
    ids=["body", "query", "signed-header", "method"],
)
async def test_changes_after_signing_are_refused(asgi_client, tamper):
    response = await send(asgi_client, *REQUESTS["patch-json-body"], auth=TamperAfterSigning(tamper))
    assert response.status_code == 403, response.text


def signed_request(method="GET", url="https://sellingpartnerapi-na.amazon.com/listings/2021-08-01/items/A1/S"):
    aws = AWSRequest(method=method, url=url, data=b"", headers={"x-amz-access-token": ACCESS_TOKEN})
    SigV4Auth(CREDS, "execute-api", REGION).add_auth(aws)
    return method, url, {**aws.headers, "Host": urlsplit(url).netloc}, b""  # the HTTP layer adds Host


def test_old_and_future_signatures_expire():
    method, url, headers, body = signed_request()
    signed_at = datetime.strptime(headers["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    verify_sigv4(method, url, headers, body, REGION, "execute-api", KEYS.get, now=signed_at + timedelta(seconds=299))
    for skew in (timedelta(minutes=6), -timedelta(minutes=6)):
        with pytest.raises(SigV4Error, match="Signature expired"):
            verify_sigv4(method, url, headers, body, REGION, "execute-api", KEYS.get, now=signed_at + skew)
    with pytest.raises(SigV4Error, match="Signature expired"):
        verify_sigv4(method, url, headers, body, REGION, "execute-api", KEYS.get, now=signed_at, max_skew_seconds=-1)


@pytest.mark.parametrize(
    ("mangle", "message"),
    [
        (lambda a: a.replace("AWS4-HMAC-SHA256", "AWS4-HMAC-SHA1"), "Unsupported authorization algorithm"),
        (lambda a: a.split(", Signature=")[0], "requires Signature"),
        (lambda a: a.replace("/aws4_request", "/aws5_request"), "aws4_request"),
        (lambda a: a.replace("SignedHeaders=host;", "SignedHeaders="), "host header must be signed"),
        (lambda a: a.replace("SignedHeaders=", "SignedHeaders=content-md5;"), "not present in the request"),
        (lambda a: a[:-4] + "ZZZZ", "64 lower-case hex digits"),
        (lambda a: "Bearer " + ACCESS_TOKEN, "Unsupported authorization algorithm"),
    ],
)
def test_malformed_authorization_headers_get_specific_errors(mangle, message):
    method, url, headers, body = signed_request()
    headers["Authorization"] = mangle(headers["Authorization"])
    with pytest.raises(SigV4Error, match=message) as info:
        verify_sigv4(method, url, headers, body, REGION, "execute-api", KEYS.get)
    assert ACCESS_TOKEN not in str(info.value) and SECRET_KEY not in str(info.value)


def test_x_amz_content_sha256_must_match_the_body():
    method, url, headers, body = signed_request()
    headers["x-amz-content-sha256"] = "0" * 64
    with pytest.raises(SigV4Error, match="x-amz-content-sha256"):
        verify_sigv4(method, url, headers, body, REGION, "execute-api", KEYS.get)


def test_an_impossible_x_amz_date_is_refused():
    method, url, headers, body = signed_request()
    headers["X-Amz-Date"] = headers["X-Amz-Date"][:4] + "13" + headers["X-Amz-Date"][6:]
    with pytest.raises(SigV4Error, match="not a valid time"):
        verify_sigv4(method, url, headers, body, REGION, "execute-api", KEYS.get)


def test_asgi_url_keeps_the_wire_form():
    scope = {"path": "/items/A1/SKU ä/1", "raw_path": b"/items/A1/SKU%20%C3%A4%2F1", "query_string": b"k=a+b&x=%2B"}
    assert asgi_url(scope) == "http://sandbox/items/A1/SKU%20%C3%A4%2F1?k=a+b&x=%2B"
    assert asgi_url({"path": "/plain", "query_string": b""}) == "http://sandbox/plain"


def test_commas_in_the_query_are_canonicalized_as_pct_2c():
    """A client may send `includedData=a,b` raw on the wire; the signature must cover `a%2Cb` (RFC 3986)."""
    base = "https://sellingpartnerapi-na.amazon.com/listings/2021-08-01/items/A1/S?includedData="
    method, _, headers, body = signed_request(url=base + "summaries%2Cattributes")
    verify_sigv4(method, base + "summaries,attributes", headers, body, REGION, "execute-api", KEYS.get)
    method, _, headers, body = signed_request(url=base + "summaries,attributes")  # botocore signs ',' verbatim
    with pytest.raises(SigV4Error, match="does not match"):
        verify_sigv4(method, base + "summaries,attributes", headers, body, REGION, "execute-api", KEYS.get)
