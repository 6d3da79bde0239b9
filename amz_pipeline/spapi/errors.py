"""One exception hierarchy for everything the SP-API (and LWA) can answer.

`from_response` turns any non-success HTTP response into the right subclass, whatever its body: Amazon's
`{"errors": [...]}`, an HTML page from a proxy, or nothing at all. A 5xx never passes as an empty success.
Texts are redacted: no token or secret reaches an exception message.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from amz_pipeline.telemetry import redact, redact_value

RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
_SNIPPET = 200


class SPAPIError(Exception):
    """An SP-API call failed. `retryable` says whether the same call may succeed if sent again later."""

    default_code = "SPAPIError"

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        details: str | None = None,
        operation: str | None = None,
        request_id: str | None = None,
        retryable: bool | None = None,
        errors: list[dict[str, Any]] | None = None,
        rate_limit: float | None = None,
    ) -> None:
        self.message = redact(message)
        self.status = status
        self.code = code or self.default_code
        self.details = redact(details) if details else details
        self.operation = operation
        self.request_id = request_id
        self.retryable = (status in RETRYABLE_STATUSES) if retryable is None else retryable
        self.errors = redact_value(errors) if errors else []
        self.rate_limit = rate_limit
        super().__init__(self.__str__())

    def __str__(self) -> str:
        parts = [f"{self.operation or 'SP-API call'} failed"]
        if self.status is not None:
            parts.append(f"HTTP {self.status}")
        parts.append(f"{self.code}: {self.message}")
        text = ", ".join(parts)
        if self.details:
            text += f" ({self.details})"
        if self.request_id:
            text += f" [request id {self.request_id}]"
        return text


class InvalidInputError(SPAPIError):
    """400/413/415: the request itself is wrong. Not retried."""

    default_code = "InvalidInput"


class UnauthorizedError(SPAPIError):
    """401/403: missing, expired or foreign token, or no access to the resource."""

    default_code = "Unauthorized"

    @property
    def token_expired(self) -> bool:
        return token_expired_message(self.message, self.details)


class NotFoundError(SPAPIError):
    default_code = "NotFound"


class ThrottledError(SPAPIError):
    """429 QuotaExceeded. Retried after at least one token interval (Amazon sends no Retry-After)."""

    default_code = "QuotaExceeded"


class ServerError(SPAPIError):
    """5xx, including HTML and empty bodies from gateways."""

    default_code = "InternalFailure"


class InvalidResponseError(SPAPIError):
    """A success status with a body that is not what the model promises (e.g. HTML with 200)."""

    default_code = "InvalidResponse"


class LWAError(SPAPIError):
    """The LWA token endpoint refused or failed (`code` is LWA's `error` field)."""

    default_code = "lwa_error"


class InvalidGrantError(LWAError):
    """`invalid_grant`: the refresh token is revoked or wrong. The seller must re-authorize the app; never retried."""

    default_code = "invalid_grant"


class AmbiguousSubmissionError(SPAPIError):
    """A non-idempotent call (createFeed) may or may not have reached Amazon. Sending it again could submit twice.

    The caller must reconcile (e.g. list recent feeds and adopt the one it sent) instead of retrying.
    """

    default_code = "AmbiguousSubmission"

    def __init__(self, message: str, **kwargs: Any) -> None:
        kwargs.setdefault("retryable", False)
        super().__init__(message, **kwargs)


# Real texts (FACTS.md section 2/6): 403 with "Access to requested resource is denied." and details such as
# "The access token you provided has expired." Only an *expired* token justifies a refresh-and-resend.
def token_expired_message(message: str | None, details: str | None) -> bool:
    text = f"{message or ''} {details or ''}".lower()
    return "expired" in text and "token" in text


def _class_for_status(status: int) -> type[SPAPIError]:
    if status == 429:
        return ThrottledError
    if status in (401, 403):
        return UnauthorizedError
    if status == 404:
        return NotFoundError
    if status in (400, 413, 415, 422):
        return InvalidInputError
    if status >= 500:
        return ServerError
    return SPAPIError


def _describe_body(response: httpx.Response) -> str:
    content_type = response.headers.get("content-type", "").split(";")[0].strip() or "no content type"
    if not response.content:
        return f"empty body ({content_type})"
    snippet = " ".join(response.text[:_SNIPPET].split())
    kind = "HTML" if "html" in content_type or snippet.lstrip().lower().startswith(("<!doctype", "<html")) else content_type
    return f"{kind} body: {snippet}"


def parse_error_list(response: httpx.Response) -> list[dict[str, Any]] | None:
    """Amazon's `ErrorList` from a response body, or None when the body is not one."""
    try:
        body = json.loads(response.content) if response.content else None
    except ValueError:
        return None
    if isinstance(body, dict) and isinstance(body.get("errors"), list):
        return [e for e in body["errors"] if isinstance(e, dict)]
    return None


def rate_limit_header(response: httpx.Response) -> float | None:
    """`x-amzn-RateLimit-Limit` as a number; None when absent (429/403/5xx never carry it) or malformed."""
    try:
        return float(response.headers["x-amzn-ratelimit-limit"])
    except (KeyError, ValueError):
        return None


def from_response(response: httpx.Response, operation: str | None = None) -> SPAPIError:
    """The exception for a non-2xx SP-API response (the body must already be read)."""
    status = response.status_code
    cls = _class_for_status(status)
    errors = parse_error_list(response)
    request_id = response.headers.get("x-amzn-requestid")
    if errors:
        first = errors[0]
        message = str(first.get("message") or "")
        code = str(first.get("code") or cls.default_code)
        details = str(first.get("details") or "") or None
        if len(errors) > 1:
            more = "; ".join(f"{e.get('code')}: {e.get('message')}" for e in errors[1:])
            details = f"{details}; {more}" if details else more
    else:
        message = f"HTTP {status} without an SP-API error list: {_describe_body(response)}"
        code = response.headers.get("x-amzn-errortype") or (cls.default_code if cls is not SPAPIError else f"HTTP{status}")
        details = None
    return cls(
        message or f"HTTP {status}",
        status=status,
        code=code,
        details=details,
        operation=operation,
        request_id=request_id,
        errors=errors,
        rate_limit=rate_limit_header(response),
    )


def lwa_error(response: httpx.Response) -> LWAError:
    """The exception for a failed LWA token response (`{"error", "error_description"}`)."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and "error" in body:
        code = str(body.get("error"))
        message = str(body.get("error_description") or code)
    else:
        code = "lwa_error"
        message = f"LWA answered HTTP {response.status_code}: {_describe_body(response)}"
    retryable = response.status_code in RETRYABLE_STATUSES or code in ("server_error", "temporarily_unavailable")
    if code == "invalid_grant":
        message += " - the seller must re-authorize the application (new refresh token)"
        return InvalidGrantError(message, status=response.status_code, code=code, operation="lwa_token", retryable=False)
    return LWAError(message, status=response.status_code, code=code, operation="lwa_token", retryable=retryable)
