"""Admin API under /_sandbox/ (not part of SP-API): shapes in schemas/sandbox/admin-api.schema.json."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from .errors import ApiError, error_response, json_response
from .faults import FaultConfigError
from .listings import sandbox_listing_view
from .runtime import Sandbox

SELLER_FIELDS = ("seller_id", "client_id", "client_secret", "refresh_token", "region")
CONFIG_FIELDS = {"speed": (int, float), "faults": (dict, str, type(None)), "token_ttl_seconds": (int,),
                 "enforce_usage_plans": (bool,), "feed_processing_delay_seconds": (int, float),
                 "gated_asins": (dict,)}
REGIONS = ("NA", "EU", "FE")


def _sandbox(request: Request) -> Sandbox:
    return request.app.state.sandbox


async def _json_body(request: Request) -> Any:
    raw = await request.body()
    try:
        return json.loads(raw or b"{}")
    except ValueError:
        raise ApiError(400, "Invalid input", "The request body is not valid JSON.") from None


def _guard(handler: Any) -> Any:
    async def endpoint(request: Request) -> Response:
        try:
            return await handler(request)
        except ApiError as err:
            return error_response(err)

    endpoint.__name__ = handler.__name__
    return endpoint


@_guard
async def register_seller(request: Request) -> Response:
    body = await _json_body(request)
    if not isinstance(body, dict):
        raise ApiError(400, "Invalid input", "Expected a JSON object.")
    missing = [f for f in SELLER_FIELDS if not isinstance(body.get(f), str) or not body.get(f)]
    if missing:
        raise ApiError(400, "Invalid input", f"Missing or empty string field(s): {', '.join(missing)}.")
    if body["region"] not in REGIONS:
        raise ApiError(400, "Invalid input", f"region must be one of {', '.join(REGIONS)}.")
    sandbox = _sandbox(request)
    other = next((s for s in sandbox.state.sellers.values()
                  if s.refresh_token == body["refresh_token"] and s.seller_id != body["seller_id"]), None)
    if other is not None:
        raise ApiError(400, "Invalid input", "This refresh token already belongs to another seller.")
    secret = sandbox.state.app_secret(body["client_id"])
    if secret is not None and secret != body["client_secret"]:
        existing = sandbox.state.sellers.get(body["seller_id"])
        if existing is None or existing.client_id != body["client_id"]:
            raise ApiError(400, "Invalid input", "This client_id is registered with a different client_secret.")
    seller, created = sandbox.register_seller(body)
    return json_response({"seller_id": seller.seller_id, "region": seller.region, "created": created},
                         201 if created else 200)


@_guard
async def list_sellers(request: Request) -> Response:
    sellers = _sandbox(request).state.sellers.values()
    return json_response({"sellers": [{"seller_id": s.seller_id, "client_id": s.client_id, "region": s.region}
                                      for s in sellers]})


def _known_seller(request: Request) -> str:
    seller_id = request.path_params["seller_id"]
    if seller_id not in _sandbox(request).state.sellers:
        raise ApiError(404, f"Seller '{seller_id}' is not registered.", "")
    return seller_id


@_guard
async def seller_listings(request: Request) -> Response:
    seller_id = _known_seller(request)
    out = []
    for (owner, _sku), by_market in _sandbox(request).state.listings.items():
        if owner == seller_id:
            out.extend(sandbox_listing_view(listing) for listing in by_market.values())
    return json_response({"listings": out})


@_guard
async def seller_history(request: Request) -> Response:
    seller_id = _known_seller(request)
    return json_response({"history": _sandbox(request).state.history_of(seller_id)})


@_guard
async def request_log(request: Request) -> Response:
    counts = _sandbox(request).state.requests
    return json_response({"requests": [
        {"seller_id": seller, "operation": op, "status": status, "count": count}
        for (seller, op, status), count in sorted(counts.items(), key=lambda kv: tuple(map(str, kv[0])))]})


def config_view(sandbox: Sandbox) -> dict[str, Any]:
    cfg = sandbox.config
    return {"speed": cfg.speed, "faults": cfg.faults, "token_ttl_seconds": cfg.token_ttl_seconds,
            "enforce_usage_plans": cfg.enforce_usage_plans,
            "feed_processing_delay_seconds": cfg.feed_processing_delay_seconds, "gated_asins": cfg.gated_asins,
            "seed": cfg.seed, "public_base_url": cfg.public_base_url, "require_sigv4": cfg.require_sigv4}


@_guard
async def get_config(request: Request) -> Response:
    return json_response(config_view(_sandbox(request)))


@_guard
async def set_config(request: Request) -> Response:
    body = await _json_body(request)
    if not isinstance(body, dict):
        raise ApiError(400, "Invalid input", "Expected a JSON object.")
    unknown = sorted(set(body) - set(CONFIG_FIELDS))
    if unknown:
        raise ApiError(400, "Invalid input", f"Unknown config field(s): {', '.join(unknown)}. "
                       f"Settable: {', '.join(CONFIG_FIELDS)}.")
    for name, value in body.items():
        if not isinstance(value, CONFIG_FIELDS[name]) or (isinstance(value, bool) and bool not in CONFIG_FIELDS[name]):
            raise ApiError(400, "Invalid input", f"'{name}' has the wrong type.")
    sandbox = _sandbox(request)
    try:
        dataclasses.replace(sandbox.config, **{k: v for k, v in body.items() if k != "faults"})
        sandbox.reconfigure(body)
    except (ValueError, FaultConfigError) as exc:
        raise ApiError(400, "Invalid input", str(exc)) from None
    return json_response(config_view(sandbox))


@_guard
async def reset(request: Request) -> Response:
    sandbox = _sandbox(request)
    sandbox.reset()
    return json_response({"reset": True, "sellers": sorted(sandbox.state.sellers)})


@_guard
async def notifications(request: Request) -> Response:
    return json_response({"notifications": _sandbox(request).state.notifications})


@_guard
async def health(request: Request) -> Response:
    return json_response({"status": "ok"})
