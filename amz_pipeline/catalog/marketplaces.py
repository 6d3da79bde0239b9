"""Marketplace facts from `schemas/marketplaces.json` as a Polars table, and code/id resolution."""

from __future__ import annotations

from functools import cache
from typing import Any

import polars as pl

import schemas

# Sellers write the United Kingdom as GB (ISO 3166) as often as UK (Amazon's own code).
_CODE_SYNONYMS = {"GB": "UK"}


@cache
def marketplaces() -> tuple[dict[str, Any], ...]:
    return tuple(schemas.load_json("marketplaces.json")["marketplaces"])


def resolve(code_or_id: str) -> dict[str, Any] | None:
    """A marketplace by country code (`DE`, `gb`) or marketplace id (`A1PA6795UKMFR9`); None when unknown."""
    key = code_or_id.strip().upper()
    key = _CODE_SYNONYMS.get(key, key)
    for market in marketplaces():
        if key in (market["country_code"], market["id"].upper()):
            return market
    return None


@cache
def marketplace_frame() -> pl.DataFrame:
    """One row per accepted spelling (`_key`, upper case) with the marketplace's facts in `_`-prefixed columns."""
    rows = []
    for market in marketplaces():
        keys = {market["country_code"], market["id"].upper()}
        keys |= {alias for alias, code in _CODE_SYNONYMS.items() if code == market["country_code"]}
        for key in sorted(keys):
            rows.append({
                "_key": key,
                "marketplace_id": market["id"],
                "_country": market["country_code"],
                "_currency": market["currency"],
                "_currency_decimals": int(market["currency_decimals"]),
                "_decimal_comma": bool(market["decimal_comma"]),
                "_region": market["region"],
                "_language_tag": market["default_language_tag"],
            })
    return pl.DataFrame(rows)
