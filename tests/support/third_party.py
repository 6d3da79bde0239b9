"""Point third-party SP-API clients at a live sandbox without changing their code, and check what they parse.

- python-amazon-sp-api (`sp_api`, the community client): has no endpoint setting. Its clients read the SP-API base
  URL from the `marketplace` argument (`.endpoint`, `.marketplace_id`, `.region`), so a `SandboxMarketplace` with the
  sandbox URL stands in for a `Marketplaces` member; the LWA URL is `scheme + host + path` on the token client
  class, so `auth_token_client_class=` gets a subclass with `scheme="http://"` and the sandbox's host:port.
- amzn-sp-api (`spapi`, Amazon's generated SDK): `SPAPIClient(config, oauth_endpoint=..., endpoint=...)`.

The community client caches access tokens per process, keyed on the refresh token only and for a fixed 3200 s
(whatever `expires_in` says). A sandbox reset revokes tokens, so every test registers a fresh seller (fresh refresh
token) instead of reusing the demo seller.
"""

from __future__ import annotations

import dataclasses
import json
import types
import uuid
from typing import Any
from urllib.parse import urlsplit

import httpx
from sp_api.asyncio.base import Client as AsyncClient

# isort: split
# sp_api.asyncio.auth imported before sp_api.asyncio.base fails with a circular import (library quirk).
from sp_api.asyncio.auth import AccessTokenClient as AsyncAccessTokenClient
from sp_api.auth import AccessTokenClient
from spapi import SPAPIClient, SPAPIConfig

US = "ATVPDKIKX0DER"


@dataclasses.dataclass(frozen=True)
class SandboxMarketplace:
    """Stands in for a `sp_api.base.Marketplaces` member: the clients read only these three attributes."""

    endpoint: str
    marketplace_id: str
    region: str


def register_seller(base_url: str) -> dict[str, str]:
    """Register a new seller (and its LWA app) through the admin API; returns its demo_seller.json-shaped dict."""
    tag = uuid.uuid4().hex[:10]
    seller = {"seller_id": f"A3P{tag.upper()}", "client_id": f"amzn1.application-oa2-client.tp{tag}",
              "client_secret": f"tp-secret-{tag}", "refresh_token": f"Atzr|tp-{tag}", "region": "NA"}
    httpx.post(base_url + "/_sandbox/sellers", json=seller, timeout=10).raise_for_status()
    return seller


def community_client(client_class: type, base_url: str, seller: dict[str, str], *, marketplace_id: str = US,
                     aws_region: str = "us-east-1", **extra: Any) -> Any:
    """An instance of a python-amazon-sp-api client class (`sp_api.api.*` or `sp_api.asyncio.api.*`) whose SP-API and
    LWA calls go to the sandbox at `base_url`. `extra` goes to the constructor (e.g. `restricted_data_token`)."""
    base = AsyncAccessTokenClient if issubclass(client_class, AsyncClient) else AccessTokenClient
    token_client = type("SandboxAccessTokenClient", (base,), {"scheme": "http://", "host": urlsplit(base_url).netloc})
    credentials = {"refresh_token": seller["refresh_token"], "lwa_app_id": seller["client_id"],
                   "lwa_client_secret": seller["client_secret"]}
    # verify=False only skips building an SSL context (~0.4 s per httpx client here): the sandbox URL is plain http.
    return client_class(SandboxMarketplace(base_url, marketplace_id, aws_region), credentials=credentials,
                        auth_token_client_class=token_client, verify=False, **extra)


def official_client(base_url: str, lwa_token_url: str, seller: dict[str, str]) -> SPAPIClient:
    """An amzn-sp-api client whose API classes (`ListingsApi(client.api_client)`, ...) call the sandbox."""
    config = SPAPIConfig(client_id=seller["client_id"], client_secret=seller["client_secret"],
                         refresh_token=seller["refresh_token"], region="NA")
    return SPAPIClient(config, oauth_endpoint=lwa_token_url, endpoint=base_url)


def dropped_keys(raw: Any, model: Any, path: str = "$") -> list[str]:
    """JSON paths in `raw` that the SDK model has no attribute for.

    The generated deserializer silently drops keys it does not know, so "the SDK parsed it" does not prove the
    response carries no undeclared field; this walk does. Free-form maps (listing attributes) are not descended.
    """
    if isinstance(raw, list) and isinstance(model, list):
        return [key for i, (r, m) in enumerate(zip(raw, model, strict=True))
                for key in dropped_keys(r, m, f"{path}[{i}]")]
    attribute_map = getattr(type(model), "attribute_map", None)
    if isinstance(raw, dict) and attribute_map is not None:
        attribute_of = {json_key: attr for attr, json_key in attribute_map.items()}
        found = []
        for key, value in raw.items():
            if key not in attribute_of:
                found.append(f"{path}.{key}")
            else:
                found += dropped_keys(value, getattr(model, attribute_of[key]), f"{path}.{key}")
        return found
    if isinstance(raw, dict) and isinstance(model, dict):
        return [key for k, v in raw.items() if k in model for key in dropped_keys(v, model[k], f"{path}.{k}")]
    return []


def sdk_model(api_client: Any, models_module: str, type_name: str, data: Any) -> Any:
    """Deserialize `data` (JSON text, bytes or a parsed value) into an SDK model with the SDK's own deserializer."""
    raw = data if isinstance(data, str | bytes) else json.dumps(data)
    api_client.api_models_module = models_module
    return api_client.deserialize(types.SimpleNamespace(data=raw), type_name)


def listings_feed(seller_id: str, messages: list[dict[str, Any]], **header: Any) -> bytes:
    """A JSON_LISTINGS_FEED document, UTF-8 encoded."""
    document = {"header": {"sellerId": seller_id, "version": "2.0", **header}, "messages": messages}
    return json.dumps(document, ensure_ascii=False).encode("utf-8")
