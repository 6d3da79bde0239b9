"""`telemetry.redact` on the shapes secrets take in text; each case fails if its rule is removed."""

from __future__ import annotations

import json
import logging

import pytest

from amz_pipeline import telemetry
from amz_pipeline.spapi.errors import SPAPIError


@pytest.mark.parametrize(("text", "secret", "kept"), [
    ("cannot connect to postgresql+psycopg://amz:pg-pass-123@127.0.0.1:5432/test", "pg-pass-123",
     "postgresql+psycopg://amz:***@127.0.0.1:5432/test"),
    ("url=postgres://user:p%40ss%3Aword@db.internal/x?sslmode=require", "p%40ss%3Aword", "postgres://user:***@db"),
    ("grant_type=refresh_token&refresh_token=Atzr|IwEBxyz&client_id=c", "Atzr|IwEBxyz", "client_id=c"),
    ('{"client_secret": "cs-value-1", "client_id": "amzn1.app"}', "cs-value-1", '"client_id": "amzn1.app"'),
    ("header x-amz-access-token: Atza|IwEBabc", "Atza|IwEBabc", "header x-amz-access-token"),
    ("aws_secret_access_key=wJalrXUtnFEMI/K7MDENG", "wJalrXUtnFEMI/K7MDENG", "aws_secret_access_key="),
])
def test_secret_shapes_are_masked_and_the_rest_kept(text, secret, kept):
    masked = telemetry.redact(text)
    assert secret not in masked and telemetry.REDACTED in masked
    assert kept in masked


def test_urls_without_a_password_are_left_alone():
    text = "GET https://sellingpartnerapi-na.amazon.com/listings/2021-08-01/items/A1/SKU:1 and sqlite:///data/x.db"
    assert telemetry.redact(text) == text


def test_a_url_password_in_a_log_record_is_masked():
    record = logging.LogRecord("amz_pipeline.x", logging.ERROR, "f", 1, "db %s down", ("postgresql://u:pw-999@h/d",),
                               None)
    record.database = "postgresql://u:pw-999@h/d"
    assert telemetry.RedactingFilter().filter(record)
    line = json.loads(telemetry.JsonFormatter().format(record))
    assert "pw-999" not in json.dumps(line)
    assert line["message"] == "db postgresql://u:***@h/d down" and line["database"] == "postgresql://u:***@h/d"


def test_error_lists_kept_on_exceptions_are_redacted():
    telemetry.register_secret("registered-secret-42")
    error = SPAPIError("bad", errors=[{"code": "InvalidInput", "message": "echo registered-secret-42",
                                       "details": "token Atza|IwEBzzz"}])
    assert "registered-secret-42" not in json.dumps(error.errors) and "Atza|IwEBzzz" not in json.dumps(error.errors)
    assert error.errors[0]["code"] == "InvalidInput"
