"""Error normalization: every non-success body shape becomes a typed, redacted exception."""

from __future__ import annotations

import json

import httpx
import pytest

from amz_pipeline import telemetry
from amz_pipeline.spapi import errors


def _response(status: int, body: bytes, content_type: str = "application/json", **headers: str) -> httpx.Response:
    return httpx.Response(status, content=body, headers={"content-type": content_type, **headers})


def _error_body(code: str, message: str, details: str = "") -> bytes:
    return json.dumps({"errors": [{"code": code, "message": message, "details": details}]}).encode()


@pytest.mark.parametrize(
    ("status", "cls", "retryable"),
    [
        (400, errors.InvalidInputError, False),
        (401, errors.UnauthorizedError, False),
        (403, errors.UnauthorizedError, False),
        (404, errors.NotFoundError, False),
        (413, errors.InvalidInputError, False),
        (415, errors.InvalidInputError, False),
        (429, errors.ThrottledError, True),
        (500, errors.ServerError, True),
        (502, errors.ServerError, True),
        (503, errors.ServerError, True),
        (504, errors.ServerError, True),
    ],
)
def test_status_maps_to_class_and_retryability(status, cls, retryable):
    err = errors.from_response(
        _response(status, _error_body("Code", "A message.", "Some details"), **{"x-amzn-RequestId": "rid-1"}),
        operation="getListingsItem",
    )
    assert type(err) is cls
    assert (err.status, err.code, err.message, err.details) == (status, "Code", "A message.", "Some details")
    assert err.retryable is retryable and err.request_id == "rid-1" and err.operation == "getListingsItem"
    assert "getListingsItem failed, HTTP" in str(err) and "rid-1" in str(err)


@pytest.mark.parametrize(
    ("body", "content_type", "expect"),
    [
        (b"<html><body><h1>502 Bad Gateway</h1></body></html>", "text/html", "HTML body: <html><body><h1>502 Bad Gateway"),
        (b"", "text/plain", "empty body"),
        (b"upstream connect error", "text/plain", "text/plain body: upstream connect error"),
    ],
)
def test_5xx_without_error_list_still_raises_a_server_error(body, content_type, expect):
    err = errors.from_response(_response(502, body, content_type), operation="patchListingsItem")
    assert isinstance(err, errors.ServerError) and err.retryable
    assert expect in err.message


def test_empty_429_is_a_throttle():
    err = errors.from_response(_response(429, b"", "application/json"), operation="patchListingsItem")
    assert isinstance(err, errors.ThrottledError) and err.retryable and err.code == "QuotaExceeded"


def test_expired_token_text_is_recognized():
    body = _error_body("Unauthorized", "Access to requested resource is denied.",
                       "The access token you provided has expired.")
    err = errors.from_response(_response(403, body))
    assert isinstance(err, errors.UnauthorizedError) and err.token_expired
    missing = _error_body("Unauthorized", "Access to requested resource is denied.",
                          "Access token is missing in the request header.")
    assert not errors.from_response(_response(403, missing)).token_expired


def test_several_errors_are_kept():
    body = json.dumps({"errors": [{"code": "A", "message": "first"}, {"code": "B", "message": "second"}]}).encode()
    err = errors.from_response(_response(400, body))
    assert err.code == "A" and len(err.errors) == 2 and "B: second" in err.details


def test_lwa_invalid_grant_means_reauthorize_and_is_not_retryable():
    body = json.dumps({"error": "invalid_grant", "error_description": "The request has an invalid grant parameter"})
    err = errors.lwa_error(_response(400, body.encode()))
    assert isinstance(err, errors.InvalidGrantError) and not err.retryable
    assert "re-authorize" in str(err)
    busy = errors.lwa_error(_response(503, b"<html>busy</html>", "text/html"))
    assert type(busy) is errors.LWAError and busy.retryable


def test_exception_text_is_redacted():
    telemetry.register_secret("s3cr3t-client-value")
    body = _error_body("InvalidInput", "bad client_secret=s3cr3t-client-value", "token Atza|IwEBIabc123")
    text = str(errors.from_response(_response(400, body)))
    assert "s3cr3t-client-value" not in text and "Atza|IwEBIabc123" not in text
