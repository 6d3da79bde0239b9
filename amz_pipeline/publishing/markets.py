"""Marketplace facts the engine needs, read from `schemas/marketplaces.json`."""

from __future__ import annotations

from functools import cache

import schemas


@cache
def _by_id() -> dict[str, dict]:
    return {m["id"]: m for m in schemas.load_json("marketplaces.json")["marketplaces"]}


def region_of(marketplace_id: str) -> str:
    try:
        return _by_id()[marketplace_id]["region"]
    except KeyError:
        raise LookupError(f"unknown marketplace id {marketplace_id!r}") from None


def resolve(id_or_country: str) -> str:
    """A marketplace id from an id or a country code (`US`, `de`, `UK`); LookupError names the bad value."""
    value = id_or_country.strip()
    if value in _by_id():
        return value
    for market in _by_id().values():
        if market["country_code"] == value.upper():
            return market["id"]
    raise LookupError(f"unknown marketplace {id_or_country!r} (use a country code such as US or DE, or an id)")
