"""Retries inside one SP-API call (tenacity). The client is the only layer that retries transient errors; the
publishing queue owns job retries and Dagster run retries stay off, so retries never multiply.

- Retried: 429, 500, 502, 503, 504 (whatever the body), timeouts, connection errors, dropped connections.
- Backoff: exponential with full jitter (`wait_random_exponential`), capped; after a 429 at least one token interval
  (Amazon sends no Retry-After). Bounded by attempts and by elapsed time.
- Everything else (400, 401/403, 404, 413, 415, LWA `invalid_grant`) raises at once.
- Non-idempotent submissions (createFeed): `submission_guard` lets a retry happen only when the request certainly did
  not take effect - it never left (connect errors) or Amazon answered with its own throttle/unavailable error list -
  and turns every other failure into `AmbiguousSubmissionError`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import httpx
import tenacity

from amz_pipeline.spapi.errors import AmbiguousSubmissionError, ServerError, SPAPIError, ThrottledError

TRANSIENT_TRANSPORT_ERRORS = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)
# The request never reached the server: the connection was not established or no pooled connection was free.
NOT_SENT_ERRORS = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, SPAPIError):
        return exc.retryable
    return isinstance(exc, TRANSIENT_TRANSPORT_ERRORS)


def certainly_not_applied(exc: BaseException) -> bool:
    """True when a failed non-idempotent request certainly had no effect at Amazon."""
    if isinstance(exc, NOT_SENT_ERRORS):
        return True
    # Amazon's own error list on a 429 or 503: the request was refused before processing. A 5xx from a proxy (HTML
    # or empty body) or a 500 proves nothing about what happened behind it.
    return isinstance(exc, ThrottledError | ServerError) and exc.status in (429, 503) and bool(exc.errors)


def submission_guard(exc: BaseException, operation: str) -> BaseException:
    """The exception a non-idempotent call raises for `exc`: `exc` itself, or AmbiguousSubmissionError."""
    if certainly_not_applied(exc) or not is_transient(exc):
        return exc
    detail = str(exc) if isinstance(exc, SPAPIError) else f"{type(exc).__name__}: {exc}"
    return AmbiguousSubmissionError(
        f"the request may have reached Amazon ({detail}); not resent - reconcile before submitting again",
        status=getattr(exc, "status", None),
        operation=operation,
        request_id=getattr(exc, "request_id", None),
    )


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 6
    max_elapsed_seconds: float = 120.0
    backoff_base_seconds: float = 0.5
    backoff_cap_seconds: float = 30.0

    def retrying(
        self,
        *,
        min_wait: Callable[[BaseException], float],
        retry_if: Callable[[BaseException], bool] = is_transient,
        before_sleep: Callable[[tenacity.RetryCallState], None] | None = None,
    ) -> tenacity.AsyncRetrying:
        jitter = tenacity.wait_random_exponential(multiplier=self.backoff_base_seconds, max=self.backoff_cap_seconds)

        def wait(state: tenacity.RetryCallState) -> float:
            exc = state.outcome.exception() if state.outcome else None
            floor = min_wait(exc) if exc is not None else 0.0
            return max(jitter(state), floor)

        return tenacity.AsyncRetrying(
            retry=tenacity.retry_if_exception(retry_if),
            wait=wait,
            stop=tenacity.stop_after_attempt(self.max_attempts) | tenacity.stop_before_delay(self.max_elapsed_seconds),
            before_sleep=before_sleep,
            reraise=True,
        )


NO_RETRY = RetryPolicy(max_attempts=1)
