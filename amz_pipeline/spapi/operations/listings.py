"""Listings Items API 2021-08-01: get, put, patch, delete, search."""

from __future__ import annotations

from typing import Any

from amz_pipeline.spapi.operations._base import PREVIEW, OperationsBase, body_of
from amz_pipeline.spapi.operations.models import (
    Item,
    ItemSearchResults,
    ListingsItemPatchRequest,
    ListingsItemPutRequest,
    ListingsItemSubmissionResponse,
)

ITEM_INCLUDED_DATA = frozenset({"summaries", "attributes", "issues", "offers", "fulfillmentAvailability",
                                "procurement", "relationships", "productTypes"})
SUBMISSION_INCLUDED_DATA = frozenset({"identifiers", "issues"})


def _included(values: list[str] | None, allowed: frozenset[str]) -> list[str] | None:
    if values is None:
        return None
    unknown = sorted(set(values) - allowed)
    if unknown:
        raise ValueError(f"includedData {unknown} not allowed here; choose from {sorted(allowed)}")
    return list(values)


def _submission_params(mode: str | None, included_data: list[str] | None, issue_locale: str | None,
                       marketplace_id: str) -> dict[str, Any]:
    if mode not in (None, PREVIEW):
        raise ValueError(f"mode must be {PREVIEW!r} or None, got {mode!r}")
    included = _included(included_data, SUBMISSION_INCLUDED_DATA)
    if included and "identifiers" in included and mode != PREVIEW:
        raise ValueError("includedData=identifiers is only allowed with mode=VALIDATION_PREVIEW")
    return {"marketplaceIds": [marketplace_id], "mode": mode, "includedData": included, "issueLocale": issue_locale}


class ListingsOperations(OperationsBase):
    async def get_listings_item(self, sku: str, marketplace_ids: str | list[str], *,
                                included_data: list[str] | None = None, issue_locale: str | None = None) -> Item:
        ids = self._marketplaces(marketplace_ids)
        response = await self._call(
            "getListingsItem", path_params={"sellerId": self.seller_id, "sku": sku}, marketplace_id=ids[0],
            params={"marketplaceIds": ids, "includedData": _included(included_data, ITEM_INCLUDED_DATA),
                    "issueLocale": issue_locale})
        return self._parse(response, "getListingsItem", Item)

    async def put_listings_item(self, sku: str, marketplace_id: str, body: ListingsItemPutRequest | dict[str, Any], *,
                                mode: str | None = None, included_data: list[str] | None = None,
                                issue_locale: str | None = None) -> ListingsItemSubmissionResponse:
        """Create or fully replace a listing. Attribute problems come back as status INVALID with issues (200)."""
        mp = self._one_marketplace(marketplace_id)
        response = await self._call(
            "putListingsItem", path_params={"sellerId": self.seller_id, "sku": sku}, marketplace_id=mp,
            params=_submission_params(mode, included_data, issue_locale, mp), body=body_of(body),
            preview=mode == PREVIEW)
        return self._parse(response, "putListingsItem", ListingsItemSubmissionResponse)

    async def patch_listings_item(self, sku: str, marketplace_id: str,
                                  body: ListingsItemPatchRequest | dict[str, Any], *, mode: str | None = None,
                                  included_data: list[str] | None = None,
                                  issue_locale: str | None = None) -> ListingsItemSubmissionResponse:
        mp = self._one_marketplace(marketplace_id)
        response = await self._call(
            "patchListingsItem", path_params={"sellerId": self.seller_id, "sku": sku}, marketplace_id=mp,
            params=_submission_params(mode, included_data, issue_locale, mp), body=body_of(body),
            preview=mode == PREVIEW)
        return self._parse(response, "patchListingsItem", ListingsItemSubmissionResponse)

    async def delete_listings_item(self, sku: str, marketplace_id: str, *,
                                   issue_locale: str | None = None) -> ListingsItemSubmissionResponse:
        mp = self._one_marketplace(marketplace_id)
        response = await self._call(
            "deleteListingsItem", path_params={"sellerId": self.seller_id, "sku": sku}, marketplace_id=mp,
            params={"marketplaceIds": [mp], "issueLocale": issue_locale})
        return self._parse(response, "deleteListingsItem", ListingsItemSubmissionResponse)

    async def search_listings_items(self, marketplace_ids: str | list[str], *, identifiers: list[str] | None = None,
                                    identifiers_type: str | None = None, included_data: list[str] | None = None,
                                    page_size: int | None = None, page_token: str | None = None,
                                    issue_locale: str | None = None, **filters: Any) -> ItemSearchResults:
        """Search this seller's listings. `filters` take the model's other parameter names (e.g. `sortBy`,
        `withStatus`, `createdAfter`, `variationParentSku`)."""
        ids = self._marketplaces(marketplace_ids)
        if identifiers and len(identifiers) > 20:
            raise ValueError("searchListingsItems takes at most 20 identifiers")
        if identifiers and not identifiers_type:
            raise ValueError("identifiers need identifiers_type (e.g. SKU, ASIN, EAN)")
        if page_size is not None and not 1 <= page_size <= 20:
            raise ValueError("page_size must be 1..20")
        params = {"marketplaceIds": ids, "identifiers": identifiers, "identifiersType": identifiers_type,
                  "includedData": _included(included_data, ITEM_INCLUDED_DATA), "pageSize": page_size,
                  "pageToken": page_token, "issueLocale": issue_locale, **filters}
        response = await self._call("searchListingsItems", path_params={"sellerId": self.seller_id},
                                    params=params, marketplace_id=ids[0])
        return self._parse(response, "searchListingsItems", ItemSearchResults)
