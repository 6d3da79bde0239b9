"""SP-API error bodies and the exception handlers raise to produce them."""

from __future__ import annotations

import json
from typing import Any

import orjson
from starlette.responses import Response

JSON_TYPE = "application/json"

# Error codes by status, as Amazon's models and FACTS.md name them.
CODE_BY_STATUS = {
    400: "InvalidInput",
    401: "Unauthorized",
    403: "Unauthorized",
    404: "NotFound",
    405: "MethodNotAllowed",
    413: "RequestEntityTooLarge",
    415: "UnsupportedMediaType",
    429: "QuotaExceeded",
    500: "InternalFailure",
    503: "ServiceUnavailable",
}
ERROR_TYPE_BY_STATUS = {
    400: "ValidationException",
    401: "UnauthorizedException",
    403: "AccessDeniedException",
    404: "NotFoundException",
    413: "RequestEntityTooLargeException",
    415: "UnsupportedMediaTypeException",
    429: "QuotaExceededException",
    500: "InternalFailureException",
    503: "ServiceUnavailableException",
}
ACCESS_DENIED = "Access to requested resource is denied."
QUOTA_EXCEEDED = "You exceeded your quota for the requested resource."


class ApiError(Exception):
    """An SP-API error answer: `{"errors": [{"code", "message", "details"}]}` with its HTTP status."""

    def __init__(self, status: int, message: str, details: str = "", code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code or CODE_BY_STATUS.get(status, "InternalFailure")
        self.message = message
        self.details = details

    def body(self) -> dict[str, Any]:
        return {"errors": [{"code": self.code, "message": self.message, "details": self.details}]}


def invalid_input(message: str, details: str = "") -> ApiError:
    return ApiError(400, message, details)


def dumps(obj: Any) -> bytes:
    """Compact UTF-8 JSON (orjson; the standard library for what orjson refuses, e.g. integers beyond 64 bits)."""
    try:
        return orjson.dumps(obj)
    except TypeError:
        return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def json_response(obj: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(dumps(obj), status_code=status, headers=headers, media_type=JSON_TYPE)


def error_response(err: ApiError, headers: dict[str, str] | None = None) -> Response:
    hdrs = {"x-amzn-ErrorType": ERROR_TYPE_BY_STATUS.get(err.status, "InternalFailureException")}
    if headers:
        hdrs.update(headers)
    return json_response(err.body(), err.status, hdrs)
