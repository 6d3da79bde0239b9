"""What the operation mixins need from the client core."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel

from amz_pipeline.spapi import endpoints

PREVIEW = "VALIDATION_PREVIEW"
M = TypeVar("M", bound=BaseModel)


class OperationsBase:
    seller_id: str
    region: str

    async def _call(self, operation: str, **kwargs: Any) -> Any:  # implemented by SPAPIClient
        raise NotImplementedError

    def _json(self, response: Any, operation: str) -> Any:  # implemented by SPAPIClient
        raise NotImplementedError

    def _parse(self, response: Any, operation: str, model: type[M]) -> M:  # implemented by SPAPIClient
        raise NotImplementedError

    def _marketplaces(self, values: str | list[str] | tuple[str, ...]) -> list[str]:
        """Marketplace ids (ids or country codes accepted), each checked to be in this client's region."""
        return endpoints.marketplace_ids(values, region_name=self.region)

    def _one_marketplace(self, value: str | list[str] | tuple[str, ...]) -> str:
        ids = self._marketplaces(value)
        if len(ids) != 1:
            raise ValueError(f"this operation takes exactly one marketplace, got {len(ids)}")
        return ids[0]


def body_of(value: Any) -> Any:
    """A pydantic request model as its wire dict; a dict as is."""
    return value.body() if hasattr(value, "body") else value
