"""Optional AWS SigV4 signing of SP-API calls (Amazon ignores it since 2023-10-02; some gateways still check it).

`SigV4Signer` signs the final httpx request with botocore's `SigV4Auth` (service `execute-api`, the endpoint's AWS
region). It is an `httpx.Auth` on its own and a `signer` for `LWAAuth`, which signs after adding the access token.

Canonical query pitfall: httpx writes a space as `+` and may leave `,` unescaped, while SigV4 wants RFC 3986 (`%20`,
`%2C`). The query botocore sees is rebuilt from the *decoded* pairs, so the signature matches any verifier that
canonicalizes from the decoded query. Only host, content type and the x-amz-* headers are signed: the rest
(connection, accept-encoding, user-agent) may be rewritten by proxies.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Generator
from urllib.parse import quote

import httpx
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import AssumeRoleCredentialFetcher, Credentials, DeferredRefreshableCredentials
from botocore.session import Session

from amz_pipeline import telemetry

SERVICE = "execute-api"
# botocore logs the canonical request (with x-amz-access-token) at DEBUG: mask it like our own records.
telemetry.install_redaction(logging.getLogger("botocore.auth"))
_SIGNED = ("host", "content-type", "x-amz-access-token", "x-amz-security-token")


class SigningError(RuntimeError):
    """No AWS credentials could be found for SigV4."""


def aws_credentials(
    *,
    profile: str | None = None,
    role_arn: str | None = None,
    role_session_name: str = "amz-pipeline",
    region: str | None = None,
    sts_endpoint_url: str | None = None,
) -> Credentials:
    """AWS credentials from botocore's chain (environment, shared config `profile`, instance role), optionally used
    to assume `role_arn` through STS (refreshed before expiry)."""
    session = Session(profile=profile)
    source = session.get_credentials()
    if source is None:
        raise SigningError(
            "SigV4 signing is on but no AWS credentials were found (set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, "
            "an AWS profile, or run with an instance role)"
        )
    if not role_arn:
        return source
    fetcher = AssumeRoleCredentialFetcher(
        client_creator=functools.partial(session.create_client, region_name=region, endpoint_url=sts_endpoint_url),
        source_credentials=source,
        role_arn=role_arn,
        extra_args={"RoleSessionName": role_session_name},
    )
    return DeferredRefreshableCredentials(method="assume-role", refresh_using=fetcher.fetch_credentials)


def _canonical_query(url: httpx.URL) -> str:
    pairs = [(quote(k, safe="-_.~"), quote(v, safe="-_.~")) for k, v in url.params.multi_items()]
    return "&".join(f"{k}={v}" for k, v in pairs)


class SigV4Signer(httpx.Auth):
    requires_request_body = True

    def __init__(self, credentials: Credentials, aws_region: str, service: str = SERVICE) -> None:
        self.credentials = credentials
        self.aws_region = aws_region
        self.service = service

    def sign(self, request: httpx.Request) -> None:
        frozen = self.credentials.get_frozen_credentials()
        telemetry.register_secret(frozen.secret_key)
        telemetry.register_secret(frozen.token)
        url = request.url
        query = _canonical_query(url)
        target = f"{url.scheme}://{url.netloc.decode('ascii')}{url.raw_path.split(b'?')[0].decode('ascii')}"
        if query:
            target += f"?{query}"
        headers = {name: request.headers[name] for name in _SIGNED if name in request.headers}
        headers.setdefault("host", url.netloc.decode("ascii"))
        for name in ("authorization", "x-amz-date", "x-amz-security-token"):
            request.headers.pop(name, None)
        headers.pop("x-amz-security-token", None)
        aws_request = AWSRequest(method=request.method, url=target, data=request.content, headers=headers)
        SigV4Auth(frozen, self.service, self.aws_region).add_auth(aws_request)
        for name in ("Authorization", "X-Amz-Date", "X-Amz-Security-Token"):
            if name in aws_request.headers:
                request.headers[name] = aws_request.headers[name]

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        self.sign(request)
        yield request
