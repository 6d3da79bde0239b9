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
import re
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


RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})")
PRIMITIVES: dict[str, tuple[type, ...]] = {"str": (str,), "date": (str,), "datetime": (str,), "int": (int,),
                                           "float": (int, float), "bool": (bool,)}


def model_mismatches(raw: Any, model: Any, declared: str | None = None, path: str = "$") -> list[str]:
    """Where the JSON `raw` and the SDK model `model` built from it disagree, checked against the SDK's declared types.

    The generated deserializer silently drops keys it does not know and coerces primitives (a JSON number becomes a
    `str` field without complaint), so "the SDK parsed it" proves neither that the response has no undeclared field
    nor that its primitives have the declared JSON type; this walk does. Date-times must be RFC 3339.
    """
    declared = declared or type(model).__name__
    if declared in PRIMITIVES:
        ok = isinstance(raw, PRIMITIVES[declared]) and not (declared != "bool" and isinstance(raw, bool))
        ok = ok and (declared != "datetime" or bool(RFC3339.fullmatch(raw)))
        return [] if ok else [f"{path}: {raw!r} is not a JSON {declared}"]
    if declared == "object":
        return []
    if match := re.fullmatch(r"List\[(.+)\]", declared):
        if not isinstance(raw, list):
            return [f"{path}: expected an array"]
        return [m for i, (r, v) in enumerate(zip(raw, model, strict=True))
                for m in model_mismatches(r, v, match[1], f"{path}[{i}]")]
    if match := re.fullmatch(r"(?:Dict\[str, ?|dict\(str, )(.+)[\])]", declared):
        if not isinstance(raw, dict):
            return [f"{path}: expected an object"]
        return [m for k, r in raw.items() for m in model_mismatches(r, model[k], match[1], f"{path}.{k}")]
    if not isinstance(raw, dict):
        return [f"{path}: expected a {declared} object"]
    attribute_of = {json_key: attr for attr, json_key in type(model).attribute_map.items()}
    found = [f"{path}.{key}: not a field of {declared}" for key in raw if key not in attribute_of]
    for key, value in raw.items():
        if key in attribute_of:
            attr = attribute_of[key]
            found += model_mismatches(value, getattr(model, attr), type(model).swagger_types[attr], f"{path}.{key}")
    return found


def sdk_model(api_client: Any, models_module: str, type_name: str, data: Any) -> Any:
    """Deserialize `data` (JSON text, bytes or a parsed value) into an SDK model with the SDK's own deserializer."""
    raw = data if isinstance(data, str | bytes) else json.dumps(data)
    api_client.api_models_module = models_module
    return api_client.deserialize(types.SimpleNamespace(data=raw), type_name)


def listings_feed(seller_id: str, messages: list[dict[str, Any]], **header: Any) -> bytes:
    """A JSON_LISTINGS_FEED document, UTF-8 encoded."""
    document = {"header": {"sellerId": seller_id, "version": "2.0", **header}, "messages": messages}
    return json.dumps(document, ensure_ascii=False).encode("utf-8")
