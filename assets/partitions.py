"""One dynamic partition per real seller×marketplace pair, keyed `<sellerId>.<country>` (e.g. `A1DEMOSELLER01.US`).

A two-dimensional MultiPartitionsDefinition would be the cross product of sellers and marketplaces and show pairs
that do not exist; one dynamic dimension with composite keys shows only the pairs a seller really uses. Sensors add
keys with `SensorResult(dynamic_partitions_requests=[...])`.
"""

from __future__ import annotations

import re
from typing import NamedTuple

import dagster as dg

from amz_pipeline.spapi import endpoints

seller_marketplace = dg.DynamicPartitionsDefinition(name="seller_marketplace")

SELLER_TAG = "amz/seller"
MARKETPLACE_TAG = "amz/marketplace"
_SELLER_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class PartitionKeyError(ValueError):
    """A partition key, seller id or marketplace that cannot name a seller×marketplace pair."""


class SellerMarketplace(NamedTuple):
    seller_id: str
    country: str

    @property
    def key(self) -> str:
        return f"{self.seller_id}.{self.country}"

    @property
    def marketplace(self) -> endpoints.Marketplace:
        return endpoints.marketplace(self.country)

    @property
    def marketplace_id(self) -> str:
        return self.marketplace.id

    @property
    def region(self) -> str:
        return self.marketplace.region

    def tags(self) -> dict[str, str]:
        return {SELLER_TAG: self.seller_id, MARKETPLACE_TAG: self.country}


def valid_seller(seller_id: str) -> bool:
    return bool(_SELLER_RE.match(seller_id or ""))


def pair(seller_id: str, marketplace: str) -> SellerMarketplace:
    """Validate a seller id and a marketplace (id or country code) into a pair with the canonical country code."""
    if not valid_seller(seller_id):
        raise PartitionKeyError(f"seller id {seller_id!r} must be 1-64 letters, digits, '-' or '_'")
    try:
        country = endpoints.marketplace(marketplace).country_code
    except endpoints.UnknownMarketplaceError as exc:
        raise PartitionKeyError(str(exc)) from None
    return SellerMarketplace(seller_id, country)


def parse(key: str) -> SellerMarketplace:
    seller_id, sep, country = (key or "").rpartition(".")
    if not sep:
        raise PartitionKeyError(f"partition key {key!r} is not '<sellerId>.<country>' (e.g. A1DEMOSELLER01.US)")
    return pair(seller_id, country)
