"""The running sandbox: configuration, state, usage plans, faults and the per-operation request pipeline."""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import json
import secrets
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

import schemas

from .config import SandboxConfig
from .errors import ACCESS_DENIED, QUOTA_EXCEEDED, ApiError, error_response, json_response
from .faults import Faults, RequestFault, load_faults
from .models import OperationSpec, operations, parse_query, validate_body
from .sigv4 import SigV4Error, asgi_url, verify_sigv4
from .state import AccessToken, SandboxState, Seller
from .throttle import UsagePlans

MAX_BODY_BYTES = 10 * 1024 * 1024
RATE_HEADER_STATUSES = frozenset({200, 201, 202, 400, 404})
# APIs whose models answer a missing or malformed token with 401 (Listings and PTD have no 401: they use 403).
APIS_WITH_401 = frozenset({"feeds"})
# AWS's published example credentials (SigV4 test suite); used only with --require-sigv4.
DEFAULT_AWS_CREDENTIALS = {"AKIDEXAMPLE": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"}


@dataclass
class Call:
    """One SP-API request after authentication and parameter checks."""

    sandbox: Sandbox
    request: Request
    spec: OperationSpec
    token: AccessToken
    query: dict[str, Any]
    body: Any

    @property
    def seller_id(self) -> str:
        return self.token.seller_id or ""

    @property
    def path(self) -> dict[str, Any]:
        return self.request.path_params


class Sandbox:
    def __init__(self, config: SandboxConfig) -> None:
        self.start_config = dataclasses.replace(config, faults=load_faults(config.faults))
        self.config = dataclasses.replace(self.start_config)
        self.state = SandboxState()
        self.plans = UsagePlans(self.config.speed, self.config.enforce_usage_plans)
        self.faults = Faults(self.config.faults, self.config.seed, self.config.speed)
        self.tasks: set[asyncio.Task] = set()
        self.url_key = secrets.token_bytes(16)
        self.aws_credentials = dict(DEFAULT_AWS_CREDENTIALS)
        self.regions: dict[str, Any] = schemas.load_json("marketplaces.json")["regions"]
        self.store: Any = None  # persistence.StateStore when state_path is set
        gc.unfreeze()  # a previous sandbox's feeds may have frozen objects (see feed_processing.collector_paused)
        self._register_start_sellers()

    # ---------------------------------------------------------------- sellers and configuration
    def _register_start_sellers(self) -> None:
        if self.config.sellers_file:
            with open(self.config.sellers_file, encoding="utf-8") as handle:
                entries = json.load(handle)
            for entry in entries if isinstance(entries, list) else [entries]:
                self.register_seller(entry)
        else:
            self.register_seller(schemas.load_json("sandbox/demo_seller.json"))

    def register_seller(self, data: dict[str, Any]) -> tuple[Seller, bool]:
        """Register (or update) a seller and its LWA app; returns the seller and whether it is new."""
        seller = Seller(**{k: data[k] for k in ("seller_id", "client_id", "client_secret", "refresh_token", "region")})
        if data.get("aws_access_key_id") and data.get("aws_secret_access_key"):
            self.aws_credentials[data["aws_access_key_id"]] = data["aws_secret_access_key"]
        created = seller.seller_id not in self.state.sellers
        self.state.sellers[seller.seller_id] = seller
        self.mark_dirty()
        return seller, created

    def reconfigure(self, changes: dict[str, Any]) -> None:
        updated = dataclasses.replace(self.config, **changes)
        if "faults" in changes:
            updated.faults = load_faults(changes["faults"])
        self.config = updated
        self.plans.configure(updated.speed, updated.enforce_usage_plans)
        if "faults" in changes or "speed" in changes:
            self.faults = Faults(updated.faults, updated.seed, updated.speed)

    def reset(self) -> None:
        for task in self.tasks:
            task.cancel()
        self.tasks.clear()
        self.state.clear_runtime()
        gc.unfreeze()  # what feeds froze (see feed_processing.collector_paused) may be garbage now
        self.config = dataclasses.replace(self.start_config)
        self.plans.configure(self.config.speed, self.config.enforce_usage_plans)
        self.faults = Faults(self.config.faults, self.config.seed, self.config.speed)
        self.mark_dirty()

    def mark_dirty(self) -> None:
        if self.store is not None:
            self.store.dirty = True

    def spawn(self, coro: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def delay(self, seconds: float) -> float:
        return seconds / self.config.speed

    def url(self, path: str) -> str:
        return self.config.public_base_url + path

    # ---------------------------------------------------------------- tokens
    def issue_token(self, client_id: str, seller: Seller | None, scope: str | None) -> tuple[str, int]:
        token = "Atza|" + secrets.token_urlsafe(48)
        ttl = int(self.config.token_ttl_seconds)
        self.state.tokens[token] = AccessToken(client_id, seller.seller_id if seller else None,
                                               seller.region if seller else None, time.time() + ttl, scope)
        return token, ttl

    def authenticate(self, request: Request, api: str) -> AccessToken:
        raw = request.headers.get("x-amz-access-token")
        unknown_status = 401 if api in APIS_WITH_401 else 403
        if not raw:
            raise ApiError(unknown_status, ACCESS_DENIED, "Access token is missing in the request header.",
                           code="Unauthorized")
        token = self.state.tokens.get(raw)
        if token is None:
            raise ApiError(unknown_status, ACCESS_DENIED, "The access token you provided is revoked, malformed or "
                           "invalid.", code="Unauthorized")
        if token.expires_at <= time.time():
            raise ApiError(403, ACCESS_DENIED, "The access token you provided has expired.", code="Unauthorized")
        if token.seller_id is None:
            raise ApiError(403, ACCESS_DENIED, "A grantless token cannot call this operation.", code="Unauthorized")
        return token

    def check_marketplaces(self, call: Call, marketplace_ids: list[str]) -> None:
        from .listing_model import marketplaces

        known = marketplaces()
        for marketplace_id in marketplace_ids:
            entry = known.get(marketplace_id)
            if entry is None:
                raise ApiError(400, "Invalid input", f"Invalid marketplaceId '{marketplace_id}'.")
            if entry["region"] != call.token.region:
                raise ApiError(400, "Invalid input", f"Marketplace '{marketplace_id}' is not in the "
                               f"{call.token.region} region of this endpoint.")

    def check_seller(self, call: Call, seller_id: str) -> None:
        """A token works only for its own seller (a foreign sellerId is a 403, as Amazon answers)."""
        if seller_id != call.seller_id:
            raise ApiError(403, ACCESS_DENIED, "The access token you provided is not authorized for this "
                           "selling partner.", code="Unauthorized")

    # ---------------------------------------------------------------- request pipeline
    async def _verify_signature(self, request: Request, body: bytes, token: AccessToken) -> None:
        region = self.regions.get(token.region or "NA", {}).get("aws_region", "us-east-1")
        try:
            verify_sigv4(request.method, asgi_url(request.scope), dict(request.headers), body, region, "execute-api",
                         self.aws_credentials.get)
        except SigV4Error as exc:
            raise ApiError(403, str(exc), "", code=exc.code) from None

    async def handle(self, request: Request, operation_id: str,
                     handler: Callable[[Call], Awaitable[Response]]) -> Response:
        spec = operations()[operation_id]
        seller_for_log = "-"
        fault: RequestFault | None = self.faults.for_request(operation_id) if self.config.faults else None
        try:
            if fault is not None:
                if fault.latency_s:
                    await asyncio.sleep(fault.latency_s)
                if fault.status:
                    self.state.requests[(seller_for_log, operation_id, fault.status)] += 1
                    return injected_error(fault)
            token = self.authenticate(request, spec.api)
            seller_for_log = token.seller_id or "-"
            body_bytes = await request.body()
            if self.config.require_sigv4:
                await self._verify_signature(request, body_bytes, token)
            multi: dict[str, list[str]] = {}
            for key, value in request.query_params.multi_items():
                multi.setdefault(key, []).append(value)
            preview = multi.get("mode", [""])[-1] == "VALIDATION_PREVIEW"
            if not self.plans.allow(operation_id, token.seller_id or "", token.client_id, preview):
                raise ApiError(429, QUOTA_EXCEEDED, "", code="QuotaExceeded")
            query = parse_query(spec, multi)
            body = parse_body(request, spec, body_bytes)
            response = await handler(Call(self, request, spec, token, query, body))
        except ApiError as err:
            headers = None
            if err.status in RATE_HEADER_STATUSES:
                rate = self.plans.rate_header(operation_id)
                headers = {"x-amzn-RateLimit-Limit": rate} if rate else None
            response = error_response(err, headers)
        else:
            if response.status_code in RATE_HEADER_STATUSES:
                rate = self.plans.rate_header(operation_id)
                if rate:
                    response.headers["x-amzn-RateLimit-Limit"] = rate
        self.state.requests[(seller_for_log, operation_id, response.status_code)] += 1
        if fault is not None and fault.drop:
            return DroppedResponse()
        return response


def parse_body(request: Request, spec: OperationSpec, raw: bytes) -> Any:
    """The JSON body of an operation that declares one; a JSON Content-Type on a bodiless GET is fine."""
    if len(raw) > MAX_BODY_BYTES:
        raise ApiError(413, "The request size exceeded the maximum accepted size.", f"Limit: {MAX_BODY_BYTES} bytes.")
    content_type = request.headers.get("content-type", "")
    if spec.body_validator is None:
        if raw and content_type and not content_type.lower().startswith("application/json"):
            raise ApiError(415, "The request payload is in an unsupported format.",
                           f"Unsupported Content-Type '{content_type}'.")
        return None
    if not content_type.lower().startswith("application/json"):
        raise ApiError(415, "The request payload is in an unsupported format.",
                       f"Content-Type must be application/json, got '{content_type or '(none)'}'.")
    if not raw:
        raise ApiError(400, "Invalid input", "The request body is required.")
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ApiError(400, "Invalid input", f"The request body is not valid JSON: {exc}.") from None
    validate_body(spec, body)
    return body


HTML_ERROR = ("<html><head><title>{status} {reason}</title></head><body><h1>{status} {reason}</h1>"
              "<p>The server encountered a temporary error.</p></body></html>")


def injected_error(fault: RequestFault) -> Response:
    status = fault.status or 500
    if status == 429:
        return error_response(ApiError(429, QUOTA_EXCEEDED, "", code="QuotaExceeded"))
    reason = "Internal Server Error" if status == 500 else "Service Unavailable"
    if fault.error_body == "html":
        return Response(HTML_ERROR.format(status=status, reason=reason), status, media_type="text/html")
    if fault.error_body == "empty":
        return Response(b"", status)
    message = ("An unexpected condition occurred that prevented the server from fulfilling the request."
               if status == 500 else "Temporary overloading or maintenance of the server.")
    return error_response(ApiError(status, message, ""))


class DroppedResponse(Response):
    """Starts a response and stops mid-body: uvicorn closes the connection, the client sees a protocol error."""

    def __init__(self) -> None:
        super().__init__(b"", 200)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", b"4096")]})
        await send({"type": "http.response.body", "body": b'{"sku":', "more_body": True})


def new_id() -> str:
    return str(uuid.uuid4())


def json_ok(obj: Any, status: int = 200) -> Response:
    return json_response(obj, status)
