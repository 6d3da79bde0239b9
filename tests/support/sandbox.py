"""Sandbox fixtures: the in-process ASGI sandbox, a live one on a free loopback port, the demo seller, and a valid
LUGGAGE listing to publish.

- `sandbox_app`: a fresh `create_app(...)` per test (feed delays zero, base URL http://sandbox.test). Talk to it with
  `httpx.AsyncClient(transport=httpx.ASGITransport(app=sandbox_app), base_url=SANDBOX_BASE_URL)`.
- `sandbox_server`: a `SandboxServer` per test module on 127.0.0.1:<free port>, reset before each test
  (`sandbox_server.base_url`, `sandbox_server.lwa_token_url`).
- `demo_seller`: the demo seller dict from schemas/sandbox/demo_seller.json.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

import schemas
from amz_pipeline.sandbox import SandboxConfig, create_app
from amz_pipeline.sandbox.server import SandboxServer

SANDBOX_BASE_URL = "http://sandbox.test"
US = "ATVPDKIKX0DER"


def demo_seller_data() -> dict[str, str]:
    return dict(schemas.load_json("sandbox/demo_seller.json"))


def luggage_attributes(marketplace_id: str = US, price: float = 119.99, quantity: int = 5,
                       currency: str = "USD", language_tag: str = "en_US") -> dict[str, Any]:
    """Attributes that complete LUGGAGE's LISTING requirements."""
    def text(value: str) -> list[dict[str, Any]]:
        return [{"value": value, "language_tag": language_tag, "marketplace_id": marketplace_id}]

    def plain(value: Any) -> list[dict[str, Any]]:
        return [{"value": value, "marketplace_id": marketplace_id}]

    return copy.deepcopy({
        "item_name": text("Hardside Carry-On Spinner Suitcase"),
        "brand": text("Sandbox Travel"),
        "bullet_point": text("Lightweight polycarbonate shell"),
        "product_description": text("A carry-on spinner suitcase with four wheels."),
        "item_type_keyword": plain("carry-on-luggage"),
        "country_of_origin": plain("CN"),
        "supplier_declared_dg_hz_regulation": plain("not_applicable"),
        "batteries_required": plain(False),
        "color": text("Navy"),
        "material": text("Polycarbonate"),
        "capacity": [{"value": 38, "unit": "liters", "marketplace_id": marketplace_id}],
        "condition_type": plain("new_new"),
        "externally_assigned_product_identifier": [{"type": "ean", "value": "4006381333931",
                                                    "marketplace_id": marketplace_id}],
        "purchasable_offer": [{"marketplace_id": marketplace_id, "currency": currency, "audience": "ALL",
                               "our_price": [{"schedule": [{"value_with_tax": price}]}]}],
        "fulfillment_availability": [{"fulfillment_channel_code": "DEFAULT", "quantity": quantity}],
    })


def price_patch(price: float, marketplace_id: str = US, currency: str = "USD") -> dict[str, Any]:
    return {"productType": "LUGGAGE", "patches": [{
        "op": "replace", "path": "/attributes/purchasable_offer",
        "value": [{"marketplace_id": marketplace_id, "currency": currency, "audience": "ALL",
                   "our_price": [{"schedule": [{"value_with_tax": price}]}]}]}]}


def lwa_form(seller: dict[str, str]) -> dict[str, str]:
    return {"grant_type": "refresh_token", "refresh_token": seller["refresh_token"],
            "client_id": seller["client_id"], "client_secret": seller["client_secret"]}


async def access_token(client: httpx.AsyncClient, seller: dict[str, str] | None = None) -> str:
    response = await client.post("/auth/o2/token", data=lwa_form(seller or demo_seller_data()))
    response.raise_for_status()
    return response.json()["access_token"]


def sync_access_token(client: httpx.Client, seller: dict[str, str] | None = None) -> str:
    response = client.post("/auth/o2/token", data=lwa_form(seller or demo_seller_data()))
    response.raise_for_status()
    return response.json()["access_token"]


@pytest.fixture
def demo_seller() -> dict[str, str]:
    return demo_seller_data()


@pytest.fixture
def sandbox_app() -> Any:
    return create_app(SandboxConfig(public_base_url=SANDBOX_BASE_URL, feed_processing_delay_seconds=0))


@pytest.fixture
async def api(sandbox_app: Any) -> Any:
    """An httpx client on the in-process sandbox, holding the demo seller's access token; usage plans off
    (throttling has its own tests)."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=sandbox_app), base_url=SANDBOX_BASE_URL) as c:
        c.headers["x-amz-access-token"] = await access_token(c)
        await c.post("/_sandbox/config", json={"enforce_usage_plans": False})
        yield c


@pytest.fixture(scope="module")
def _sandbox_server_module() -> Iterator[SandboxServer]:
    with SandboxServer(SandboxConfig(feed_processing_delay_seconds=0)) as server:
        yield server


@pytest.fixture
def sandbox_server(_sandbox_server_module: SandboxServer, monkeypatch: pytest.MonkeyPatch) -> SandboxServer:
    """The module's live sandbox, reset for this test. A reset revokes every token, so the client's process-wide
    token cache starts empty too (otherwise a test would silently reuse a revoked token and get 403s)."""
    from amz_pipeline.spapi import auth

    httpx.post(_sandbox_server_module.base_url + "/_sandbox/reset", timeout=10).raise_for_status()
    monkeypatch.setattr(auth, "_default_cache", auth.TokenCache())
    return _sandbox_server_module
