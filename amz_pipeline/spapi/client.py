"""The SP-API client: one async implementation, a blocking face over it.

    async with SPAPIClient(seller_id="A1...", region="NA", credentials=creds) as client:
        result = await client.patch_listings_item("SKU-1", "US", patch)

    with SyncSPAPIClient(seller_id="A1...", region="NA", credentials=creds) as client:
        result = client.patch_listings_item("SKU-1", "US", patch)

Every call: waits for rate-limit tokens (seller, application, feed type) -> sends with LWA auth (and SigV4 if asked) ->
adopts `x-amzn-RateLimit-Limit` -> on failure raises a typed `SPAPIError`, retrying transient failures within the call
(`retries.py`) -> writes one JSON log line per attempt and updates `metrics`.

Methods and paths come from `schemas/spapi/usage_plans.json` (generated from Amazon's models), never re-typed.
"""

from __future__ import annotations

import functools
import json
import logging
import platform
import sys
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import anyio.from_thread
import httpx
import pydantic

import schemas
from amz_pipeline import telemetry
from amz_pipeline.spapi import endpoints
from amz_pipeline.spapi.auth import (
    LWAAuth,
    LWACredentials,
    RequestSigner,
    TokenCache,
    credentials_from_store,
    secret_name,
)
from amz_pipeline.spapi.config import ClientConfig
from amz_pipeline.spapi.errors import (
    InvalidResponseError,
    SPAPIError,
    ThrottledError,
    from_response,
    rate_limit_header,
)
from amz_pipeline.spapi.operations._base import M
from amz_pipeline.spapi.operations.definitions import DefinitionsOperations
from amz_pipeline.spapi.operations.feeds import FeedsOperations
from amz_pipeline.spapi.operations.listings import ListingsOperations
from amz_pipeline.spapi.operations.models import SPAPIModel
from amz_pipeline.spapi.operations.restrictions import RestrictionsOperations
from amz_pipeline.spapi.ratelimit import CallScope, RateLimiter
from amz_pipeline.spapi.retries import RetryPolicy, certainly_not_applied, is_transient, submission_guard

log = logging.getLogger("amz_pipeline.spapi.client")
telemetry.install_redaction(log)

USER_AGENT = (
    f"amz-pipeline/0.1.0 (Language=Python/{platform.python_version()}; Platform={platform.system()}/{platform.release()})"
)[:500]  # Amazon rejects User-Agent headers longer than 500 characters

# Listings writes that `guard_writes=True` never resends after an ambiguous failure.
GUARDED_WRITES = frozenset({"putListingsItem", "patchListingsItem", "deleteListingsItem"})

_default_limiter: RateLimiter | None = None


def default_limiter() -> RateLimiter:
    """The process-wide in-memory limiter shared by every client that is not given one."""
    global _default_limiter
    if _default_limiter is None:
        _default_limiter = RateLimiter()
    return _default_limiter


class TransportFailedError(SPAPIError):
    """The request failed below HTTP (timeout, refused or dropped connection) and retries did not help."""

    default_code = "TransportError"


@dataclass(frozen=True)
class OperationSpec:
    name: str
    method: str
    path: str


@functools.cache
def operation_spec(name: str) -> OperationSpec:
    entry = schemas.load_json("spapi/usage_plans.json")["operations"][name]
    return OperationSpec(name, entry["method"], entry["path"])


def _query_value(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ",".join(str(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class SPAPIClient(ListingsOperations, RestrictionsOperations, FeedsOperations, DefinitionsOperations):
    """Async SP-API client for one seller in one region."""

    def __init__(
        self,
        *,
        seller_id: str,
        region: str,
        credentials: LWACredentials,
        endpoint: str | endpoints.Endpoint | None = None,
        lwa_token_url: str | None = None,
        sandbox: bool = False,
        limiter: RateLimiter | None = None,
        rate_limit: bool = True,
        retry: RetryPolicy | None = None,
        signer: RequestSigner | None = None,
        token_cache: TokenCache | None = None,
        metrics: telemetry.Metrics | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 30.0,
        cache_dir: str | Path | None = None,
        guard_writes: bool = False,
        rate_scale: float = 1.0,
    ) -> None:
        """`guard_writes`: putListingsItem, patchListingsItem and deleteListingsItem (not VALIDATION_PREVIEW) are
        retried only when the request certainly did not arrive (connection never made, Amazon's own 429/503); any
        other failure raises `AmbiguousSubmissionError` instead of resending, so the caller can read the listing back
        and never apply the same change twice. createFeed is always guarded this way.

        `rate_scale`: multiplies every rate-limit bucket's rate and divides every submission window (e.g. 10 → ten
        times the usage plans, JSON_LISTINGS_FEED 5 per 30 s). For emulators that scale plans; never set against
        Amazon. Applied by the limiter the client builds; a `limiter` passed in keeps its own scale."""
        if rate_scale <= 0:
            raise ValueError(f"rate_scale must be > 0, got {rate_scale}")
        if not seller_id:
            raise ValueError("seller_id is empty")
        self.seller_id = seller_id
        self.region = endpoints.region(region).name
        self.endpoint = endpoint if isinstance(endpoint, endpoints.Endpoint) else endpoints.endpoint(
            self.region, sandbox=sandbox, base_url=endpoint)
        self.credentials = credentials
        self.application_id = credentials.client_id
        self.metrics = metrics or telemetry.Metrics()
        if limiter is not None and rate_scale != 1.0 and limiter.rate_scale != rate_scale:
            raise ValueError(f"rate_scale={rate_scale} conflicts with the given limiter's rate_scale="
                             f"{limiter.rate_scale}: set it on the limiter")
        if limiter is None and rate_scale != 1.0:
            limiter = RateLimiter(rate_scale=rate_scale)
        self.limiter = (limiter or default_limiter()) if rate_limit else None
        self.retry = retry or RetryPolicy()
        self.guard_writes = guard_writes
        self.cache_dir = Path(cache_dir) if cache_dir else Path(schemas.SCHEMAS_DIR).parent / "data" / "state" / "ptd"
        self.auth = LWAAuth(credentials, lwa_token_url, cache=token_cache, signer=signer, metrics=self.metrics)
        headers = {"user-agent": USER_AGENT, "accept": "application/json"}
        self._http = httpx.AsyncClient(
            base_url=self.endpoint.base_url, auth=self.auth, transport=transport, timeout=timeout, headers=headers)
        # Presigned document URLs carry their own authorization: no LWA token, no signing.
        self._files = httpx.AsyncClient(transport=transport, timeout=timeout, headers={"user-agent": USER_AGENT})

    # --- construction --------------------------------------------------------------------------------------------

    @classmethod
    def from_config(cls, config: ClientConfig, **kwargs: Any) -> SPAPIClient:
        return cls(**(_config_kwargs(config) | kwargs))

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, **kwargs: Any) -> SPAPIClient:
        """One seller from `AMZ_*` variables (see `config.py`)."""
        return cls.from_config(ClientConfig.from_env(env), **kwargs)

    @classmethod
    def from_secret_store(cls, store: Any, *, profile: str, seller_id: str, region: str, **kwargs: Any) -> SPAPIClient:
        """Credentials from any object with `get("amz/<profile>/<seller>/<region>") -> dict`."""
        credentials = credentials_from_store(store, secret_name(profile, seller_id, region))
        return cls(seller_id=seller_id, region=region, credentials=credentials, **kwargs)

    async def aclose(self) -> None:
        await self._http.aclose()
        await self._files.aclose()

    async def __aenter__(self) -> SPAPIClient:
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        await self.aclose()

    async def authenticate(self) -> None:
        """Fetch (or reuse) this seller's LWA access token without calling SP-API: a cheap check that the credentials
        work. Transient LWA failures are retried like any call; a refusal raises `LWAError` (`code` is LWA's
        `error`: `invalid_client`, `invalid_grant`, `unauthorized_client`, ...)."""
        retrying = self.retry.retrying(min_wait=lambda exc: 0.0, retry_if=is_transient,
                                       before_sleep=lambda state: self.metrics.record_retry("lwa_token"))
        try:
            async for attempt_state in retrying:
                with attempt_state:
                    await self.auth.fetch_token(self._files)
                    return
        except httpx.TransportError as exc:
            raise TransportFailedError(f"LWA token endpoint: {type(exc).__name__}: {exc}", operation="lwa_token",
                                       retryable=True) from exc

    # --- the one request path ------------------------------------------------------------------------------------

    def _scope(self, operation: str, preview: bool, feed_type: str | None) -> CallScope:
        return CallScope(self.seller_id, self.region, self.application_id, operation, preview, feed_type)

    def _min_wait(self, scope: CallScope) -> Callable[[BaseException], float]:
        def min_wait(exc: BaseException) -> float:
            if not isinstance(exc, ThrottledError):
                return 0.0
            if self.limiter is not None:
                return self.limiter.token_interval(scope)
            plan_rate = schemas.load_json("spapi/usage_plans.json")["operations"][scope.operation]["rate"]
            return 1.0 / (exc.rate_limit or plan_rate or 1.0)

        return min_wait

    def _log_attempt(self, scope: CallScope, marketplace_id: str | None, attempt: int, started: float,
                     waited: float, response: httpx.Response | None, error: BaseException | None) -> None:
        latency_ms = round((time.perf_counter() - started) * 1000, 2)
        status = response.status_code if response is not None else None
        code = getattr(error, "code", None) or (type(error).__name__ if error is not None else None)
        self.metrics.record_response(scope.operation, status, latency_ms, code)
        self.metrics.record_limiter_wait(waited)
        level = logging.INFO if error is None else logging.WARNING
        if not log.isEnabledFor(level):
            return
        fields = {
            "event": "spapi.call",
            "trace_id": telemetry.current_trace_id(),
            "seller_id": scope.seller_id,
            "region": scope.region,
            "marketplace_id": marketplace_id,
            "operation": scope.operation,
            "status": status,
            "latency_ms": latency_ms,
            "attempt": attempt,
            "limiter_wait_ms": round(waited * 1000, 2),
            "rate_limit": rate_limit_header(response) if response is not None else None,
            "request_id": response.headers.get("x-amzn-requestid") if response is not None else None,
            "error_code": code,
        }
        log.log(level, "%s %s", scope.operation, status if status is not None else code, extra=fields)

    async def _call(
        self,
        operation: str,
        *,
        path_params: dict[str, str] | None = None,
        params: dict[str, Any] | None = None,
        body: Any = None,
        marketplace_id: str | None = None,
        preview: bool = False,
        feed_type: str | None = None,
        non_idempotent: bool = False,
    ) -> httpx.Response:
        spec = operation_spec(operation)
        path = spec.path.format(**{k: quote(str(v), safe="") for k, v in (path_params or {}).items()})
        query = {k: _query_value(v) for k, v in (params or {}).items() if v is not None}
        headers = {}
        content = None
        if body is not None:
            content = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
            headers["content-type"] = "application/json"
        scope = self._scope(operation, preview, feed_type)
        non_idempotent = non_idempotent or (self.guard_writes and operation in GUARDED_WRITES and not preview)
        attempt = 0

        async def once() -> httpx.Response:
            nonlocal attempt
            attempt += 1
            waited = await self.limiter.acquire(scope) if self.limiter is not None else 0.0
            started = time.perf_counter()
            try:
                response = await self._http.request(spec.method, path, params=query, content=content, headers=headers)
            except (httpx.TransportError, SPAPIError) as exc:
                self._log_attempt(scope, marketplace_id, attempt, started, waited, None, exc)
                raise
            if self.limiter is not None:
                await self.limiter.observe(scope, rate_limit_header(response))
            if response.is_success:
                self._log_attempt(scope, marketplace_id, attempt, started, waited, response, None)
                return response
            error = from_response(response, operation)
            if response.status_code == 429 and self.limiter is not None:
                await self.limiter.throttled(scope)
            self._log_attempt(scope, marketplace_id, attempt, started, waited, response, error)
            raise error

        def before_sleep(state: Any) -> None:
            self.metrics.record_retry(operation)

        retry_if = (lambda e: is_transient(e) and certainly_not_applied(e)) if non_idempotent else is_transient
        retrying = self.retry.retrying(min_wait=self._min_wait(scope), retry_if=retry_if, before_sleep=before_sleep)
        try:
            async for attempt_state in retrying:
                with attempt_state:
                    return await once()
        except BaseException as exc:
            if non_idempotent:
                guarded = submission_guard(exc, operation)
                if guarded is not exc:
                    raise guarded from exc
            if isinstance(exc, httpx.TransportError):
                raise TransportFailedError(f"{type(exc).__name__}: {exc} (after {attempt} attempt(s))",
                                           operation=operation, retryable=True) from exc
            raise
        raise AssertionError("unreachable: tenacity either returns or raises")  # pragma: no cover

    @staticmethod
    def _json(response: httpx.Response, operation: str) -> Any:
        """The JSON body of a success response; anything else (HTML from a proxy, nothing) is an error."""
        try:
            return json.loads(response.content)
        except ValueError:
            content_type = response.headers.get("content-type", "no content type")
            raise InvalidResponseError(
                f"HTTP {response.status_code} with a body that is not JSON ({content_type}, "
                f"{len(response.content)} bytes)",
                status=response.status_code, operation=operation,
                request_id=response.headers.get("x-amzn-requestid"), retryable=False,
            ) from None

    def _parse(self, response: httpx.Response, operation: str, model: type[M]) -> M:
        """The success body as `model`; a body that does not fit the model is an `InvalidResponseError` (its text
        names the fields, never their values)."""
        try:
            parsed = model.model_validate(self._json(response, operation))
        except pydantic.ValidationError as exc:
            first = exc.errors(include_input=False, include_url=False)[0]
            where = ".".join(str(part) for part in first["loc"]) or "body"
            raise InvalidResponseError(
                f"HTTP {response.status_code} body does not match {model.__name__}: {exc.error_count()} problem(s), "
                f"first at {where}: {first['msg']}",
                status=response.status_code, operation=operation,
                request_id=response.headers.get("x-amzn-requestid"), retryable=False,
            ) from None
        if isinstance(parsed, SPAPIModel):
            parsed._request_id = response.headers.get("x-amzn-requestid")
        return parsed

    async def _file_request(self, operation: str, method: str, url: str, *, content: bytes | None = None,
                            headers: dict[str, str] | None = None) -> httpx.Response:
        """PUT/GET on a presigned document URL (idempotent: retried like any transient failure)."""
        scope = self._scope(operation, False, None)
        attempt = 0

        async def once() -> httpx.Response:
            nonlocal attempt
            attempt += 1
            started = time.perf_counter()
            try:
                response = await self._files.request(method, url, content=content, headers=headers)
            except httpx.TransportError as exc:
                self._log_attempt(scope, None, attempt, started, 0.0, None, exc)
                raise
            error = None if response.is_success else from_response(response, operation)
            self._log_attempt(scope, None, attempt, started, 0.0, response, error)
            if error is not None:
                raise error
            return response

        retrying = self.retry.retrying(min_wait=lambda exc: 0.0,
                                       before_sleep=lambda state: self.metrics.record_retry(operation))
        try:
            async for attempt_state in retrying:
                with attempt_state:
                    return await once()
        except httpx.TransportError as exc:
            raise TransportFailedError(f"{type(exc).__name__}: {exc} (after {attempt} attempt(s))",
                                       operation=operation, retryable=True) from exc
        raise AssertionError("unreachable")  # pragma: no cover


T = TypeVar("T")


async def _traced(trace_id: str, fn: Callable[..., Coroutine[Any, Any, T]], args: tuple, kwargs: dict) -> T:
    with telemetry.trace(trace_id):
        return await fn(*args, **kwargs)


def _blocking(method: Callable[..., Coroutine[Any, Any, T]]) -> Callable[..., T]:
    """The blocking twin of an async client method: runs it on the client's event-loop thread, same trace id."""

    @functools.wraps(method)
    def wrapper(self: SyncSPAPIClient, *args: Any, **kwargs: Any) -> T:
        bound = getattr(self.client, method.__name__)
        return self._portal.call(_traced, telemetry.current_trace_id(), bound, args, kwargs)

    return wrapper


class SyncSPAPIClient:
    """Blocking face of `SPAPIClient`: same arguments, same methods, one event-loop thread per client."""

    def __init__(self, **kwargs: Any) -> None:
        self._portal_cm = anyio.from_thread.start_blocking_portal()
        self._portal = self._portal_cm.__enter__()
        try:
            self.client: SPAPIClient = self._portal.call(functools.partial(_make_client, kwargs))
        except BaseException:
            self._portal_cm.__exit__(*sys.exc_info())
            raise

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, **kwargs: Any) -> SyncSPAPIClient:
        config = ClientConfig.from_env(env)
        return cls(**(_config_kwargs(config) | kwargs))

    @property
    def metrics(self) -> telemetry.Metrics:
        return self.client.metrics

    def close(self) -> None:
        try:
            self._portal.call(self.client.aclose)
        finally:
            self._portal_cm.__exit__(None, None, None)

    def __enter__(self) -> SyncSPAPIClient:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    authenticate = _blocking(SPAPIClient.authenticate)
    get_listings_item = _blocking(SPAPIClient.get_listings_item)
    put_listings_item = _blocking(SPAPIClient.put_listings_item)
    patch_listings_item = _blocking(SPAPIClient.patch_listings_item)
    delete_listings_item = _blocking(SPAPIClient.delete_listings_item)
    search_listings_items = _blocking(SPAPIClient.search_listings_items)
    get_listings_restrictions = _blocking(SPAPIClient.get_listings_restrictions)
    create_feed_document = _blocking(SPAPIClient.create_feed_document)
    upload_feed_document = _blocking(SPAPIClient.upload_feed_document)
    submit_feed_document = _blocking(SPAPIClient.submit_feed_document)
    create_feed = _blocking(SPAPIClient.create_feed)
    get_feed = _blocking(SPAPIClient.get_feed)
    get_feeds = _blocking(SPAPIClient.get_feeds)
    cancel_feed = _blocking(SPAPIClient.cancel_feed)
    get_feed_document = _blocking(SPAPIClient.get_feed_document)
    download_feed_document = _blocking(SPAPIClient.download_feed_document)
    search_definitions_product_types = _blocking(SPAPIClient.search_definitions_product_types)
    get_definitions_product_type = _blocking(SPAPIClient.get_definitions_product_type)
    get_product_type_schema = _blocking(SPAPIClient.get_product_type_schema)


async def _make_client(kwargs: dict[str, Any]) -> SPAPIClient:
    return SPAPIClient(**kwargs)


def _config_kwargs(config: ClientConfig) -> dict[str, Any]:
    signer = None
    if config.sigv4:
        from amz_pipeline.spapi.signing import SigV4Signer, aws_credentials

        signer = SigV4Signer(aws_credentials(profile=config.aws_profile, role_arn=config.role_arn,
                                             region=config.endpoint.aws_region), config.endpoint.aws_region).sign
    return {"seller_id": config.seller_id, "region": config.region, "credentials": config.credentials,
            "endpoint": config.endpoint, "lwa_token_url": config.lwa_token_url, "signer": signer}
