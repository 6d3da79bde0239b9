"""Listings Restrictions API 2021-08-01: may this seller list on an ASIN (in a condition)?"""

from __future__ import annotations

from amz_pipeline.spapi.operations._base import OperationsBase
from amz_pipeline.spapi.operations.models import RestrictionList


class RestrictionsOperations(OperationsBase):
    async def get_listings_restrictions(self, asin: str, marketplace_ids: str | list[str], *,
                                        condition_type: str | None = None, reason_locale: str | None = None
                                        ) -> RestrictionList:
        ids = self._marketplaces(marketplace_ids)
        response = await self._call(
            "getListingsRestrictions", marketplace_id=ids[0],
            params={"asin": asin, "sellerId": self.seller_id, "marketplaceIds": ids,
                    "conditionType": condition_type, "reasonLocale": reason_locale})
        return self._parse(response, "getListingsRestrictions", RestrictionList)
