"""The sandbox's SigV4 verifier against AWS's published SigV4 test suite (see sigv4_vectors/SOURCE.md)."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import unquote

import pytest
from starlette.datastructures import Headers

from amz_pipeline.sandbox.sigv4 import SigV4Error, verify_sigv4

VECTORS = Path(__file__).parent / "sigv4_vectors"
CONTEXT = json.loads((VECTORS / "context.json").read_text())
SUITE_TIME = datetime.fromisoformat(CONTEXT["timestamp"].replace("Z", "+00:00"))
KEYS = {CONTEXT["credentials"]["access_key_id"]: CONTEXT["credentials"]["secret_access_key"]}
CASES = sorted(p.stem for p in VECTORS.glob("*.txt"))  # the 2015 suite (aws-c-auth)


def parse_request(text: str) -> tuple[str, str, Headers, bytes]:
    """An HTTP/1.1 request as the suite writes it: request line, `Name:value` lines, blank line, body.

    A line starting with whitespace continues the previous header; the suite's canonical form joins such lines with
    ',' (as repeated headers are joined)."""
    head, _, body = text.partition("\n\n")
    request_line, *lines = head.split("\n")
    method, rest = request_line.split(" ", 1)
    target = rest.rsplit(" ", 1)[0]  # the path may contain spaces (get-space-normalized)
    raw: list[list[str]] = []
    for line in lines:
        if line[:1] in (" ", "\t"):
            raw[-1][1] += "," + line.strip()
        else:
            name, _, value = line.partition(":")
            raw.append([name, value])
    headers = Headers(raw=[(n.lower().encode("latin-1"), v.encode("latin-1")) for n, v in raw])
    return method, f"https://{headers['host']}{target}", headers, body.encode("utf-8")


def load(case: str) -> tuple[str, str, Headers, bytes]:
    return parse_request((VECTORS / f"{case}.txt").read_text(encoding="utf-8"))


def verify(method, url, headers, body, **overrides):
    kwargs = {
        "region": CONTEXT["region"],
        "service": CONTEXT["service"],
        "credentials_lookup": KEYS.get,
        "now": SUITE_TIME,
    } | overrides
    verify_sigv4(method, url, headers, body, **kwargs)


def test_the_suite_is_all_there():
    assert len(CASES) >= 25
    assert {"get-utf8", "get-space-normalized", "get-vanilla-query-order-key-case", "post-x-www-form-urlencoded",
            "post-sts-header-before", "get-header-value-trim", "get-slashes-normalized"} <= set(CASES)


@pytest.mark.parametrize("case", CASES)
def test_published_vector_verifies(case):
    verify(*load(case))


@pytest.mark.parametrize("case", CASES)
def test_published_vector_with_one_signature_digit_changed_fails(case):
    method, url, headers, body = load(case)
    auth = headers["authorization"]
    flipped = auth[:-1] + ("0" if auth[-1] != "0" else "1")
    tampered = Headers(raw=[(k, flipped.encode() if k == b"authorization" else v) for k, v in headers.raw])
    with pytest.raises(SigV4Error, match="does not match"):
        verify(method, url, tampered, body)


@pytest.mark.parametrize(
    ("case", "mutate"),
    [
        ("get-vanilla-query-order-key-case", lambda m, u, h, b: (m, u.replace("value2", "value3"), h, b)),
        ("get-utf8", lambda m, u, h, b: (m, u.replace("\u1234", "%E1%88%B4"), h, b)),  # encoded once more
        ("get-space-normalized", lambda m, u, h, b: (m, u.replace(" ", "_"), h, b)),
        ("post-vanilla", lambda m, u, h, b: ("PUT", u, h, b)),
        ("post-x-www-form-urlencoded", lambda m, u, h, b: (m, u, h, b + b"&x=1")),
        ("get-header-value-trim", lambda m, u, h, b: (m, u, _replace(h, b"my-header1", b"value2"), b)),
        ("get-header-key-duplicate", lambda m, u, h, b: (m, u, _drop_last(h, b"my-header1"), b)),
    ],
)
def test_changing_a_signed_part_of_a_vector_fails(case, mutate):
    with pytest.raises(SigV4Error):
        verify(*mutate(*load(case)))


def _replace(headers: Headers, name: bytes, value: bytes) -> Headers:
    return Headers(raw=[(k, value if k == name else v) for k, v in headers.raw])


def _drop_last(headers: Headers, name: bytes) -> Headers:
    raw = list(headers.raw)
    last = max(i for i, (k, _) in enumerate(raw) if k == name)
    return Headers(raw=raw[:last] + raw[last + 1 :])


def test_unsigned_headers_may_be_added_but_signed_ones_must_be_present():
    method, url, headers, body = load("get-vanilla-query")
    verify(method, url, Headers(raw=[*headers.raw, (b"x-unsigned", b"anything")]), body)
    without_date = Headers(raw=[(k, v) for k, v in headers.raw if k != b"x-amz-date"])
    with pytest.raises(SigV4Error, match="X-Amz-Date or a Date header"):
        verify(method, url, without_date, body)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"region": "eu-west-1"}, "valid region"),
        ({"service": "execute-api"}, "correct service"),
        ({"credentials_lookup": lambda key: None}, "security token included in the request is invalid"),
        ({"credentials_lookup": lambda key: "wrong-secret"}, "does not match"),
        ({"now": SUITE_TIME + timedelta(seconds=301)}, "Signature expired"),
        ({"now": SUITE_TIME - timedelta(minutes=6)}, "Signature expired"),
    ],
)
def test_context_mismatches_fail(overrides, message):
    with pytest.raises(SigV4Error, match=message):
        verify(*load("get-vanilla-query"), **overrides)


def test_skew_within_the_window_passes():
    verify(*load("get-vanilla-query"), now=SUITE_TIME + timedelta(seconds=299))


def test_a_naive_now_is_taken_as_utc():
    verify(*load("get-vanilla-query"), now=SUITE_TIME.replace(tzinfo=None))


SUITE_2011 = VECTORS / "aws4_testsuite_2011"


@pytest.mark.parametrize("case", ["get-space", "get-utf8"])
def test_2011_suite_date_header_and_wire_encoded_paths(case):
    creq = (SUITE_2011 / f"{case}.creq").read_text(encoding="utf-8")
    sts = (SUITE_2011 / f"{case}.sts").read_text(encoding="utf-8")
    assert hashlib.sha256(creq.encode()).hexdigest() == sts.rsplit("\n", 1)[1]  # the copy is intact
    method, canonical_path, _, date_line, host_line = creq.split("\n")[:5]
    wire_path = canonical_path.replace("%25", "%")  # the canonical URI encodes the wire path's '%' once more
    headers = {"Date": date_line.split(":", 1)[1], "Host": host_line.split(":", 1)[1],
               "Authorization": (SUITE_2011 / f"{case}.authz").read_text(encoding="utf-8")}
    kwargs = {"region": "us-east-1", "service": "host", "credentials_lookup": KEYS.get,
              "now": datetime(2011, 9, 9, 23, 36, tzinfo=UTC)}
    verify_sigv4(method, f"https://{headers['Host']}{wire_path}", headers, b"", **kwargs)
    with pytest.raises(SigV4Error, match="does not match"):  # the decoded path is a different request
        verify_sigv4(method, f"https://{headers['Host']}{unquote(wire_path)}", headers, b"", **kwargs)
