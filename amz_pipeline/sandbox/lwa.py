"""Login with Amazon token endpoint: refresh_token and client_credentials grants, LWA's error shape."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import Response

from .errors import dumps
from .runtime import Sandbox

GRANTLESS_SCOPES = frozenset({"sellingpartnerapi::notifications", "sellingpartnerapi::migration"})
LWA_JSON = "application/json;charset=UTF-8"


def lwa_error(status: int, error: str, description: str) -> Response:
    return Response(dumps({"error": error, "error_description": description}), status, media_type=LWA_JSON,
                    headers={"Cache-Control": "no-store"})


async def parse_form(request: Request) -> dict[str, Any] | None:
    """Form-encoded or JSON body (the Java SDK sends JSON); None when it is neither."""
    raw = await request.body()
    content_type = request.headers.get("content-type", "").lower()
    text = raw.decode("utf-8", errors="replace")
    if "json" in content_type or text.lstrip().startswith("{"):
        try:
            data = json.loads(text)
        except ValueError:
            return None
        return data if isinstance(data, dict) else None
    return dict(parse_qsl(text, keep_blank_values=True))


async def token_endpoint(request: Request) -> Response:
    sandbox: Sandbox = request.app.state.sandbox
    form = await parse_form(request)
    if form is None:
        return lwa_error(400, "invalid_request", "The request body could not be parsed.")
    grant = form.get("grant_type")
    if not grant:
        return lwa_error(400, "invalid_request", "The request is missing a required parameter : grant_type")
    if grant not in ("refresh_token", "client_credentials"):
        return lwa_error(400, "unsupported_grant_type", "The authorization grant type is not supported by the "
                         "authorization server")
    for name in ("client_id", "client_secret"):
        if not form.get(name):
            return lwa_error(400, "invalid_request", f"The request is missing a required parameter : {name}")
    client_id, client_secret = str(form["client_id"]), str(form["client_secret"])
    known_secret = sandbox.state.app_secret(client_id)
    if known_secret is None or known_secret != client_secret:
        return lwa_error(401, "invalid_client", "Client authentication failed")
    if grant == "refresh_token":
        refresh = form.get("refresh_token")
        if not refresh:
            return lwa_error(400, "invalid_request", "The request is missing a required parameter : refresh_token")
        seller = sandbox.state.seller_by_refresh_token(str(refresh))
        if seller is None or seller.client_id != client_id:
            return lwa_error(400, "invalid_grant", "The request has an invalid grant parameter : refresh_token")
        token, ttl = sandbox.issue_token(client_id, seller, None)
        body = {"access_token": token, "refresh_token": seller.refresh_token, "token_type": "bearer",
                "expires_in": ttl}
    else:
        scope = form.get("scope")
        if form.get("refresh_token"):
            return lwa_error(400, "invalid_request", "The request has an invalid parameter : refresh_token")
        if not scope:
            return lwa_error(400, "invalid_request", "The request is missing a required parameter : scope")
        if scope not in GRANTLESS_SCOPES:
            return lwa_error(400, "invalid_scope", "The request has an invalid parameter : scope")
        token, ttl = sandbox.issue_token(client_id, None, str(scope))
        body = {"access_token": token, "scope": scope, "token_type": "bearer", "expires_in": ttl}
    return Response(dumps(body), 200, media_type=LWA_JSON, headers={"Cache-Control": "no-store"})
