"""AWS Signature Version 4 verification for the sandbox's `--require-sigv4`, written from the AWS specification.

Deliberately independent of botocore (which the SP-API client signs with): a canonicalization bug shared by signer and
verifier would pass both. Checked against AWS's published SigV4 test suite (tests/sandbox/sigv4_vectors/).

What is verified (header-based signing, `AWS4-HMAC-SHA256`):
- the `Authorization` header's credential scope names a known access key, today's date of the request, the expected
  region and service, and `aws4_request`; `host` and the date header are among the signed headers;
- `X-Amz-Date` (or `Date`) lies within `max_skew_seconds` of now;
- the payload hash is computed from the body (an `x-amz-content-sha256` header must agree with it);
- the canonical request follows the spec for every service but S3: the path is normalized (dot segments removed,
  repeated slashes merged) and each character outside the unreserved set is percent-encoded, including `%` itself (so
  a path that arrived percent-encoded is encoded a second time, as the spec asks); query parameters are decoded, then
  re-encoded and sorted by key and value; signed header values are trimmed with inner whitespace runs collapsed and
  repeated headers joined with commas.

`url` must carry the path and query **exactly as received on the wire** (an ASGI server's `raw_path` and
`query_string`, not the decoded `path`): decoding first would lose the distinction between `/` and `%2F` and produce a
different canonical URI. `asgi_url(scope)` builds it.

Query strings: a `+` on the wire is a space, as the application (Starlette's query parser) reads it, so the signature
covers the values the application acts on. A signer must therefore canonicalize a space as `%20`; one that signs a
`+`-encoded query as is (botocore given httpx's URL string verbatim) is rejected, as AWS rejects it.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from functools import lru_cache
from typing import Any
from urllib.parse import quote, unquote_plus, urlsplit

ALGORITHM = "AWS4-HMAC-SHA256"
_UNRESERVED = "-_.~"  # plus ASCII letters and digits, which quote() never encodes
_AMZ_DATE_RE = re.compile(r"^\d{8}T\d{6}Z$")
_SIGNATURE_RE = re.compile(r"^[0-9a-f]{64}$")


class SigV4Error(Exception):
    """The request is not correctly signed. `code` is the AWS error code a gateway would answer with (403).

    The message never contains the canonical request, which would include signed header values such as an access
    token."""

    def __init__(self, message: str, code: str = "InvalidSignatureException") -> None:
        super().__init__(message)
        self.code = code


def verify_sigv4(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    region: str,
    service: str,
    credentials_lookup: Callable[[str], str | None],
    now: datetime | None = None,
    max_skew_seconds: int = 300,
) -> None:
    """Raise SigV4Error unless the request carries a valid SigV4 signature for `region` and `service`.

    `credentials_lookup` maps an access key id to its secret access key (None if unknown)."""
    lowered = _lower_headers(headers)
    auth = lowered.get("authorization")
    if not auth:
        raise SigV4Error("Missing Authentication Token", "MissingAuthenticationTokenException")
    access_key, scope_date, scope_region, scope_service, signed_headers, signature = _parse_authorization(auth)

    request_time, amz_date = _request_time(lowered, signed_headers)
    if scope_date != amz_date[:8]:
        raise SigV4Error(
            f"Credential should be scoped to a valid date: {scope_date!r} does not match the request date "
            f"{amz_date[:8]!r}",
            "IncompleteSignatureException",
        )
    if scope_region != region:
        raise SigV4Error(f"Credential should be scoped to a valid region, not {scope_region!r}; expecting {region!r}")
    if scope_service != service:
        raise SigV4Error(f"Credential should be scoped to correct service: {service!r}, not {scope_service!r}")
    now = now or datetime.now(UTC)
    if now.tzinfo is None:  # a naive time is taken as UTC
        now = now.replace(tzinfo=UTC)
    if abs((now - request_time).total_seconds()) > max_skew_seconds:
        raise SigV4Error(
            f"Signature expired: {amz_date} is not within {max_skew_seconds} s of "
            f"{now.astimezone(UTC):%Y%m%dT%H%M%SZ}",
            "InvalidSignatureException",
        )

    secret = credentials_lookup(access_key)
    if secret is None:
        raise SigV4Error("The security token included in the request is invalid.", "UnrecognizedClientException")

    payload_hash = hashlib.sha256(body).hexdigest()
    declared = lowered.get("x-amz-content-sha256")
    if declared is not None and declared != payload_hash:
        raise SigV4Error("The provided x-amz-content-sha256 header does not match what was computed.")

    parts = urlsplit(url)
    header_block = "".join(f"{name}:{_header_value(lowered, name)}\n" for name in signed_headers)
    scope = f"{scope_date}/{scope_region}/{scope_service}/aws4_request"
    key = _signing_key(secret, scope_date, scope_region, scope_service)
    canonical_request = "\n".join(
        [
            method.upper(),
            _canonical_uri(parts.path),
            _canonical_query(parts.query),
            header_block,
            ";".join(signed_headers),
            payload_hash,
        ]
    )
    string_to_sign = "\n".join(
        [ALGORITHM, amz_date, scope, hashlib.sha256(canonical_request.encode("utf-8")).hexdigest()]
    )
    expected = hmac.new(key, string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature):
        raise SigV4Error(
            "The request signature we calculated does not match the signature you provided. "
            "Check your AWS Secret Access Key and signing method."
        )


def asgi_url(scope: Mapping[str, Any]) -> str:
    """The URL to verify for an ASGI request: its raw path and query string, as they came over the wire."""
    raw_path = scope.get("raw_path") or scope["path"].encode("utf-8")
    url = f"http://sandbox{raw_path.decode('latin-1')}"
    if scope.get("query_string"):
        url += "?" + scope["query_string"].decode("latin-1")
    return url


def _lower_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Lower-case names; repeated headers joined with ',' (the spec's rule for multiple values)."""
    items: Iterable[tuple[str, str]]
    multi = getattr(headers, "multi_items", None)  # httpx.Headers.items() would pre-join with ', '
    items = multi() if callable(multi) else headers.items()  # Starlette's Headers.items() keeps repeats
    lowered: dict[str, list[str]] = {}
    for name, value in items:
        lowered.setdefault(name.lower(), []).append(value)
    return {name: ",".join(values) for name, values in lowered.items()}


def _parse_authorization(auth: str) -> tuple[str, str, str, str, list[str], str]:
    algorithm, _, rest = auth.strip().partition(" ")
    if algorithm != ALGORITHM:
        raise SigV4Error(
            f"Unsupported authorization algorithm {algorithm!r}; expected {ALGORITHM}", "IncompleteSignatureException"
        )
    fields: dict[str, str] = {}
    for part in rest.split(","):
        name, sep, value = part.strip().partition("=")
        if sep:
            fields[name] = value.strip()
    missing = [f for f in ("Credential", "SignedHeaders", "Signature") if not fields.get(f)]
    if missing:
        raise SigV4Error(
            f"Authorization header requires {', '.join(missing)} parameter(s); it has "
            f"{', '.join(sorted(fields)) or 'none'}",
            "IncompleteSignatureException",
        )
    credential = fields["Credential"].split("/")
    if len(credential) != 5 or credential[4] != "aws4_request" or not all(credential):
        raise SigV4Error(
            "Credential must be '<access key>/<yyyymmdd>/<region>/<service>/aws4_request'",
            "IncompleteSignatureException",
        )
    signed_headers = fields["SignedHeaders"].split(";")
    if any(h != h.lower() or not h for h in signed_headers):
        raise SigV4Error("SignedHeaders must be lower-case names separated by ';'", "IncompleteSignatureException")
    if "host" not in signed_headers:
        raise SigV4Error("The host header must be signed", "IncompleteSignatureException")
    signature = fields["Signature"]
    if not _SIGNATURE_RE.match(signature):
        raise SigV4Error("Signature must be 64 lower-case hex digits", "IncompleteSignatureException")
    access_key, date, region, service, _ = credential
    return access_key, date, region, service, signed_headers, signature


def _request_time(lowered: Mapping[str, str], signed_headers: list[str]) -> tuple[datetime, str]:
    """The signed request time and its `YYYYMMDDTHHMMSSZ` form, from X-Amz-Date, else from Date."""
    if "x-amz-date" in lowered:
        header, value = "x-amz-date", lowered["x-amz-date"].strip()
        if not _AMZ_DATE_RE.match(value):
            raise SigV4Error(f"X-Amz-Date must be YYYYMMDDTHHMMSSZ, got {value!r}", "IncompleteSignatureException")
        try:
            when = datetime(int(value[0:4]), int(value[4:6]), int(value[6:8]), int(value[9:11]), int(value[11:13]),
                            int(value[13:15]), tzinfo=UTC)
        except ValueError:
            raise SigV4Error(f"X-Amz-Date {value!r} is not a valid time", "IncompleteSignatureException") from None
    elif "date" in lowered:
        header = "date"
        try:
            when = parsedate_to_datetime(lowered["date"]).astimezone(UTC)
        except (TypeError, ValueError):
            raise SigV4Error("The Date header is not an HTTP date", "IncompleteSignatureException") from None
    else:
        raise SigV4Error("The request must carry an X-Amz-Date or a Date header", "IncompleteSignatureException")
    if header not in signed_headers:
        raise SigV4Error(f"The {header} header must be signed", "IncompleteSignatureException")
    return when, f"{when:%Y%m%dT%H%M%SZ}"


def _header_value(lowered: Mapping[str, str], name: str) -> str:
    if name not in lowered:
        raise SigV4Error(f"Signed header {name!r} is not present in the request", "IncompleteSignatureException")
    # Trim, and collapse each run of whitespace (including obsolete line folding) to one space.
    return " ".join(lowered[name].split())


def _canonical_uri(path: str) -> str:
    """Normalize (RFC 3986 dot segments, merged slashes), then percent-encode everything but unreserved and '/'."""
    segments: list[str] = []
    for segment in path.split("/"):
        if segment in ("", "."):
            continue
        if segment == "..":
            if segments:
                segments.pop()
            continue
        segments.append(segment)
    normalized = "/" + "/".join(segments)
    if segments and path.endswith(("/", "/.", "/..")):
        normalized += "/"
    return quote(normalized.encode("utf-8", "surrogateescape"), safe="/" + _UNRESERVED)


def _canonical_query(query: str) -> str:
    pairs = []
    for item in query.split("&"):
        if not item:
            continue
        key, _, value = item.partition("=")
        pairs.append((_encode(unquote_plus(key)), _encode(unquote_plus(value))))
    return "&".join(f"{k}={v}" for k, v in sorted(pairs))


def _encode(text: str) -> str:
    return quote(text, safe=_UNRESERVED)


@lru_cache(maxsize=256)  # one derivation per key and day, as AWS's own SDKs cache it
def _signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    key = ("AWS4" + secret).encode("utf-8")
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode("utf-8"), hashlib.sha256).digest()
    return key

