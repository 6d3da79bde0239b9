"""Login with Amazon (LWA) as an `httpx.Auth` flow.

- `LWACredentials`: client id, client secret and either a refresh token (seller-authorized calls) or a scope
  (grantless `client_credentials`, e.g. `sellingpartnerapi::notifications`). Secrets are `SecretStr` and registered
  for log redaction.
- `TokenCache`: access tokens per (token URL, client id, refresh token | scope) - so each seller and region has its own
  entry - refreshed ahead of expiry. A refresh is single-flight across coroutines *and* threads: one caller leads (its
  auth flow yields the token request through the same httpx client), everyone else waits on a
  `concurrent.futures.Future`.
- `LWAAuth`: adds `x-amz-access-token`, optionally signs (SigV4), and on a 401/403 whose text says the token expired,
  drops that token, gets a new one and resends once.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import threading
import time
from collections.abc import AsyncGenerator, Callable, Generator
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

import httpx
from pydantic import SecretStr

import schemas
from amz_pipeline import telemetry
from amz_pipeline.spapi import endpoints
from amz_pipeline.spapi.errors import LWAError, lwa_error, parse_error_list, token_expired_message

log = logging.getLogger("amz_pipeline.spapi.auth")
telemetry.install_redaction(log)

GRANTLESS_NOTIFICATIONS = "sellingpartnerapi::notifications"
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded;charset=UTF-8"


def _secret(value: str | SecretStr | None) -> SecretStr | None:
    if value is None:
        return None
    secret = value if isinstance(value, SecretStr) else SecretStr(str(value))
    telemetry.register_secret(secret.get_secret_value())
    return secret


@dataclass(frozen=True)
class LWACredentials:
    """One LWA application's credentials for one seller (refresh token) or for grantless calls (scope)."""

    client_id: str
    client_secret: SecretStr
    refresh_token: SecretStr | None = None
    scope: str | None = None

    def __post_init__(self) -> None:
        if not self.client_id:
            raise ValueError("LWA client_id is empty")
        object.__setattr__(self, "client_secret", _secret(self.client_secret))
        object.__setattr__(self, "refresh_token", _secret(self.refresh_token))
        if not self.client_secret.get_secret_value():
            raise ValueError("LWA client_secret is empty")
        if (self.refresh_token is None) == (self.scope is None):
            raise ValueError("LWA credentials need exactly one of refresh_token (seller calls) or scope (grantless)")

    @classmethod
    def from_mapping(cls, values: dict[str, Any], *, source: str = "secret") -> LWACredentials:
        """From a `SecretStore.get()` dict: `{"client_id", "client_secret", "refresh_token"}`."""
        missing = [k for k in ("client_id", "client_secret", "refresh_token") if not values.get(k)]
        if missing:
            raise ValueError(f"{source} lacks {', '.join(missing)}")
        return cls(values["client_id"], values["client_secret"], values["refresh_token"])

    def grantless(self, scope: str = GRANTLESS_NOTIFICATIONS) -> LWACredentials:
        """The same application's grantless credentials."""
        return LWACredentials(self.client_id, self.client_secret, None, scope)

    def form(self) -> dict[str, str]:
        data = {"client_id": self.client_id, "client_secret": self.client_secret.get_secret_value()}
        if self.refresh_token is not None:
            data |= {"grant_type": "refresh_token", "refresh_token": self.refresh_token.get_secret_value()}
        else:
            data |= {"grant_type": "client_credentials", "scope": str(self.scope)}
        return data

    def cache_key(self, token_url: str) -> tuple[str, str, str]:
        """Digests of the secrets are part of the key: a wrong client secret must not reuse a token fetched with
        the right one (it would pass a credentials check and fail later)."""
        secret = self.client_secret.get_secret_value()
        if self.refresh_token is not None:
            grant = f"rt:{self.refresh_token.get_secret_value()}"
        else:
            grant = f"scope:{self.scope}"
        digest = hashlib.sha256(f"{secret}\0{grant}".encode()).hexdigest()
        return (token_url, self.client_id, digest)


def credentials_from_store(store: Any, name: str) -> LWACredentials:
    """Credentials from any object with `get(name) -> {"client_id", "client_secret", "refresh_token"}`."""
    return LWACredentials.from_mapping(store.get(name), source=f"secret {name!r}")


def secret_name(profile: str, seller_id: str, region: str) -> str:
    """The secret-store name for a seller's credentials: `amz/<profile>/<seller>/<region>`."""
    return f"amz/{profile}/{seller_id}/{endpoints.region(region).name}"


@dataclass(frozen=True)
class AccessToken:
    value: str = field(repr=False)
    expires_at: float
    refresh_at: float


class _Abandoned(Exception):
    """The leading refresh was cancelled before it finished; a waiter should try again (maybe as leader)."""


@dataclass
class _Wait:
    future: Future


class TokenCache:
    """Access tokens per credentials key; single-flight refresh safe under asyncio and threads.

    A token is refreshed `skew_seconds` before it expires, but never earlier than half its lifetime (so a very short
    lifetime, e.g. a test's 5 s, does not force a refresh per call).
    """

    def __init__(self, skew_seconds: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.skew_seconds = skew_seconds
        self.clock = clock
        self._lock = threading.Lock()
        self._tokens: dict[tuple, AccessToken] = {}
        self._inflight: dict[tuple, Future] = {}
        self.refreshes = 0

    def lead_or_follow(self, key: tuple) -> tuple[AccessToken | None, Future | None, bool]:
        """(token, None, False) if fresh; else (None, future, True) for the one leader or (None, future, False)."""
        with self._lock:
            token = self._tokens.get(key)
            if token is not None and self.clock() < token.refresh_at:
                return token, None, False
            future = self._inflight.get(key)
            if future is not None:
                return None, future, False
            future = Future()
            future.set_running_or_notify_cancel()
            self._inflight[key] = future
            return None, future, True

    def finish(self, key: tuple, future: Future, token: AccessToken | None, error: BaseException | None) -> None:
        with self._lock:
            if self._inflight.get(key) is future:
                del self._inflight[key]
            if token is not None:
                self._tokens[key] = token
                self.refreshes += 1
        if token is not None:
            future.set_result(token)
        else:
            future.set_exception(error or _Abandoned())

    def make_token(self, value: str, expires_in: float) -> AccessToken:
        now = self.clock()
        lead = max(expires_in - self.skew_seconds, expires_in / 2)
        return AccessToken(value=value, expires_at=now + expires_in, refresh_at=now + lead)

    def invalidate(self, key: tuple, value: str) -> None:
        """Drop the cached token if it is still `value` (a later refresh by another caller is kept)."""
        with self._lock:
            token = self._tokens.get(key)
            if token is not None and token.value == value:
                del self._tokens[key]


_default_cache = TokenCache()


def default_token_cache() -> TokenCache:
    """The process-wide cache every client shares unless given its own."""
    return _default_cache


RequestSigner = Callable[[httpx.Request], None]


class LWAAuth(httpx.Auth):
    """httpx auth flow: LWA access token (cached, single-flight refresh), optional signer, one resend on expiry."""

    requires_response_body = True

    def __init__(
        self,
        credentials: LWACredentials,
        token_url: str | None = None,
        *,
        cache: TokenCache | None = None,
        signer: RequestSigner | None = None,
        metrics: telemetry.Metrics | None = None,
    ) -> None:
        self.credentials = credentials
        self.token_url = token_url or endpoints.lwa_token_url()
        self.cache = cache or default_token_cache()
        self.signer = signer
        self.metrics = metrics
        self.key = credentials.cache_key(self.token_url)
        # SigV4 hashes the payload, so the body must be read before signing.
        self.requires_request_body = signer is not None

    # The flow yields either an httpx.Request (to send) or a _Wait (to block on another caller's refresh);
    # the sync and async drivers below differ only in how they wait.
    def _token_flow(self) -> Generator[httpx.Request | _Wait, Any, AccessToken]:
        while True:
            token, future, leader = self.cache.lead_or_follow(self.key)
            if token is not None:
                return token
            assert future is not None
            if not leader:
                try:
                    return (yield _Wait(future))
                except _Abandoned:
                    continue
            token, error = None, None
            try:
                response = yield self._token_request()
                token = self._parse_token(response)
                return token
            except BaseException as exc:  # noqa: BLE001 - waiters must hear about any failure, then it propagates
                error = exc if isinstance(exc, LWAError) else _Abandoned()
                raise
            finally:
                self.cache.finish(self.key, future, token, error)

    def _flow(self, request: httpx.Request) -> Generator[httpx.Request | _Wait, Any, None]:
        token = yield from self._token_flow()
        response = yield self._authorize(request, token)
        if response.status_code in (401, 403) and self._says_expired(response):
            log.info("access token rejected as expired; refreshing once", extra={"event": "lwa.token_expired"})
            self.cache.invalidate(self.key, token.value)
            token = yield from self._token_flow()
            yield self._authorize(request, token)

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self.requires_request_body:
            request.read()
        flow = self._flow(request)
        to_send: Any = None
        try:
            item = flow.send(None)
            while True:
                if isinstance(item, _Wait):
                    try:
                        to_send = item.future.result()
                    except BaseException as exc:  # noqa: BLE001 - rethrown into the flow
                        item = flow.throw(exc)
                        continue
                else:
                    to_send = yield item
                    to_send.read()  # overriding the flow means reading bodies ourselves
                item = flow.send(to_send)
        except StopIteration:
            return

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        if self.requires_request_body:
            await request.aread()
        flow = self._flow(request)
        to_send: Any = None
        try:
            item = flow.send(None)
            while True:
                if isinstance(item, _Wait):
                    try:
                        # shield: a cancelled waiter must not cancel the shared future other waiters hold
                        to_send = await asyncio.shield(asyncio.wrap_future(item.future))
                    except BaseException as exc:  # noqa: BLE001 - rethrown into the flow
                        item = flow.throw(exc)
                        continue
                else:
                    to_send = yield item
                    await to_send.aread()
                item = flow.send(to_send)
        except StopIteration:
            return

    async def fetch_token(self, client: httpx.AsyncClient) -> AccessToken:
        """The current access token, asking LWA through `client` if the cache has none (a side-effect-free way to
        prove the credentials work before doing anything else). Raises `LWAError` when LWA refuses."""
        flow = self._token_flow()
        try:
            item = flow.send(None)
            while True:
                if isinstance(item, _Wait):
                    try:
                        result = await asyncio.shield(asyncio.wrap_future(item.future))
                    except BaseException as exc:  # noqa: BLE001 - rethrown into the flow
                        item = flow.throw(exc)
                        continue
                else:
                    result = await client.send(item)
                    await result.aread()
                item = flow.send(result)
        except StopIteration as stop:
            return stop.value

    def _authorize(self, request: httpx.Request, token: AccessToken) -> httpx.Request:
        request.headers["x-amz-access-token"] = token.value
        if self.signer is not None:
            self.signer(request)
        return request

    @staticmethod
    def _says_expired(response: httpx.Response) -> bool:
        for error in parse_error_list(response) or []:
            if token_expired_message(str(error.get("message", "")), str(error.get("details", ""))):
                return True
        return False

    def _token_request(self) -> httpx.Request:
        return httpx.Request(
            "POST",
            self.token_url,
            data=self.credentials.form(),
            headers={"content-type": FORM_CONTENT_TYPE, "accept": "application/json"},
        )

    def _parse_token(self, response: httpx.Response) -> AccessToken:
        if response.status_code != 200:
            raise lwa_error(response)
        try:
            body = response.json()
            value = body["access_token"]
            expires_in = float(body.get("expires_in") or schemas.load_json("spapi/limits.json")["lwa"]["token_lifetime_seconds"])
        except (ValueError, KeyError, TypeError):
            raise LWAError(
                f"LWA answered 200 without a usable access_token (content type "
                f"{response.headers.get('content-type', 'none')!r})",
                status=200,
                code="invalid_token_response",
                operation="lwa_token",
                retryable=True,
            ) from None
        telemetry.register_secret(value)
        if self.metrics is not None:
            self.metrics.record_token_refresh()
        log.info(
            "LWA access token refreshed",
            extra={"event": "lwa.token_refresh", "client_id": self.credentials.client_id, "expires_in": expires_in,
                   "grant": "refresh_token" if self.credentials.refresh_token else "client_credentials"},
        )
        return self.cache.make_token(value, expires_in)

