"""Product Type Definitions API 2020-09-01: search, get, and the product type's JSON Schema cached by checksum."""

from __future__ import annotations

import base64
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from amz_pipeline.spapi.errors import InvalidResponseError
from amz_pipeline.spapi.operations._base import OperationsBase
from amz_pipeline.spapi.operations.models import ProductTypeDefinition, ProductTypeList


class DefinitionsOperations(OperationsBase):
    cache_dir: Path

    async def _file_request(self, operation: str, method: str, url: str, **kwargs: Any) -> Any:  # SPAPIClient
        raise NotImplementedError

    async def search_definitions_product_types(self, marketplace_ids: str | list[str], *,
                                               keywords: list[str] | None = None, item_name: str | None = None,
                                               locale: str | None = None, search_locale: str | None = None
                                               ) -> ProductTypeList:
        if keywords and item_name:
            raise ValueError("search by keywords or by item_name, not both")
        ids = self._marketplaces(marketplace_ids)
        response = await self._call(
            "searchDefinitionsProductTypes", marketplace_id=ids[0],
            params={"marketplaceIds": ids, "keywords": keywords, "itemName": item_name, "locale": locale,
                    "searchLocale": search_locale})
        return self._parse(response, "searchDefinitionsProductTypes", ProductTypeList)

    async def get_definitions_product_type(self, product_type: str, marketplace_id: str, *,
                                           requirements: str | None = None, requirements_enforced: str | None = None,
                                           product_type_version: str | None = None, locale: str | None = None,
                                           parentage_level: str | None = None) -> ProductTypeDefinition:
        mp = self._one_marketplace(marketplace_id)
        response = await self._call(
            "getDefinitionsProductType", path_params={"productType": product_type}, marketplace_id=mp,
            params={"marketplaceIds": [mp], "sellerId": self.seller_id, "requirements": requirements,
                    "requirementsEnforced": requirements_enforced, "productTypeVersion": product_type_version,
                    "locale": locale, "parentageLevel": parentage_level})
        return self._parse(response, "getDefinitionsProductType", ProductTypeDefinition)

    async def get_product_type_schema(self, product_type: str, marketplace_id: str, *,
                                      requirements: str | None = None, cache_dir: str | Path | None = None
                                      ) -> dict[str, Any]:
        """The product type's JSON Schema. Downloaded once per checksum (Base64 MD5 of the bytes, verified) and kept
        under `cache_dir/<productType>/<checksum>.json`; a new version has a new checksum and is fetched again."""
        definition = await self.get_definitions_product_type(product_type, marketplace_id, requirements=requirements)
        link = definition.schema_
        folder = Path(cache_dir or self.cache_dir) / definition.product_type
        path = folder / (base64.urlsafe_b64encode(base64.b64decode(link.checksum)).decode().rstrip("=") + ".json")
        if path.exists():
            return json.loads(path.read_bytes())
        response = await self._file_request("downloadProductTypeSchema", "GET", link.resource)
        data = response.content
        actual = base64.b64encode(hashlib.md5(data).digest()).decode()
        if actual != link.checksum:
            raise InvalidResponseError(
                f"schema for {product_type} does not match its checksum (expected {link.checksum}, got {actual})",
                status=response.status_code, operation="downloadProductTypeSchema", retryable=False)
        schema = json.loads(data)
        folder.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path)
        return schema
