"""SP-API regions, hosts and marketplaces, read from `schemas/marketplaces.json` (never re-typed here).

An `Endpoint` is where one client sends its calls: a region's production host, Amazon's sandbox host, or any custom
base URL (our local sandbox, a gateway). The AWS region used for SigV4 always follows the SP-API region.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from urllib.parse import urlsplit

import schemas


class UnknownRegionError(ValueError):
    """A region name that is not NA, EU or FE."""


class UnknownMarketplaceError(ValueError):
    """A marketplace id or country code that `schemas/marketplaces.json` does not list."""


@dataclass(frozen=True)
class Region:
    name: str
    endpoint: str
    sandbox_endpoint: str
    aws_region: str


@dataclass(frozen=True)
class Marketplace:
    id: str
    country_code: str
    name: str
    region: str
    endpoint_host: str
    currency: str
    default_language_tag: str
    decimal_comma: bool
    currency_decimals: int


@dataclass(frozen=True)
class Endpoint:
    """Where a client sends SP-API calls: `base_url` (scheme + host [+ port], no trailing slash) and the AWS region."""

    region: str
    base_url: str
    aws_region: str

    @property
    def host(self) -> str:
        return urlsplit(self.base_url).netloc


def _data() -> dict:
    return schemas.load_json("marketplaces.json")


@cache
def regions() -> dict[str, Region]:
    return {name: Region(name=name, **values) for name, values in _data()["regions"].items()}


def region(name: str) -> Region:
    """The region named `name` (case-insensitive): NA, EU or FE."""
    key = (name or "").strip().upper()
    try:
        return regions()[key]
    except KeyError:
        raise UnknownRegionError(
            f"unknown SP-API region {name!r}: expected one of {', '.join(sorted(regions()))}"
        ) from None


@cache
def marketplaces() -> tuple[Marketplace, ...]:
    return tuple(Marketplace(**entry) for entry in _data()["marketplaces"])


@cache
def _marketplace_index() -> dict[str, Marketplace]:
    index: dict[str, Marketplace] = {}
    for mp in marketplaces():
        index[mp.id.upper()] = mp
        index[mp.country_code.upper()] = mp
    # Amazon's docs say UK; ISO 3166 says GB. Sellers write both.
    if "UK" in index and "GB" not in index:
        index["GB"] = index["UK"]
    return index


def marketplace(id_or_country: str) -> Marketplace:
    """Look a marketplace up by its id (`ATVPDKIKX0DER`) or country code (`US`, `DE`, `UK`/`GB`), case-insensitive."""
    key = (id_or_country or "").strip().upper()
    try:
        return _marketplace_index()[key]
    except KeyError:
        raise UnknownMarketplaceError(
            f"unknown marketplace {id_or_country!r}: give a marketplace id (e.g. ATVPDKIKX0DER) "
            f"or a country code (e.g. US, DE)"
        ) from None


def marketplace_ids(values: str | list[str] | tuple[str, ...], *, region_name: str | None = None) -> list[str]:
    """Normalize ids or country codes to marketplace ids; with `region_name`, each must belong to that region."""
    items = [values] if isinstance(values, str) else list(values)
    if not items:
        raise UnknownMarketplaceError("at least one marketplace is required")
    result: list[str] = []
    for item in items:
        mp = marketplace(item)
        if region_name is not None and mp.region != region(region_name).name:
            raise UnknownMarketplaceError(
                f"marketplace {item!r} ({mp.id}) is in region {mp.region}, not {region(region_name).name}"
            )
        result.append(mp.id)
    return result


def lwa_token_url() -> str:
    """Amazon's LWA token URL (one host for every region)."""
    return _data()["lwa_token_url"]


def endpoint(region_name: str, *, sandbox: bool = False, base_url: str | None = None) -> Endpoint:
    """The endpoint for a region: production by default, Amazon's sandbox with `sandbox=True`, or `base_url`."""
    reg = region(region_name)
    if base_url:
        parts = urlsplit(base_url.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"SP-API endpoint {base_url!r} is not an http(s) base URL such as https://host[:port]")
        url = base_url.strip().rstrip("/")
    else:
        url = reg.sandbox_endpoint if sandbox else reg.endpoint
    return Endpoint(region=reg.name, base_url=url, aws_region=reg.aws_region)
