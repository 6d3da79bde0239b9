"""Typed request and response bodies (pydantic v2) for the operations the pipeline uses.

Attributes are snake_case; the wire names are Amazon's camelCase (`model_dump(by_alias=True)`). Unknown response
fields are kept (`extra="allow"`): Amazon adds fields over time and a client must not break on them.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr
from pydantic.alias_generators import to_camel


class SPAPIModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="allow")
    _request_id: str | None = PrivateAttr(default=None)

    @property
    def request_id(self) -> str | None:
        """`x-amzn-RequestId` of the response this model was read from (None for models built locally): quote it
        to Amazon support, record it beside the submission."""
        return self._request_id

    def body(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True, exclude_none=True)


# --- Listings Items 2021-08-01 -------------------------------------------------------------------------------------

Requirements = Literal["LISTING", "LISTING_PRODUCT_ONLY", "LISTING_OFFER_ONLY"]


class PatchOperation(SPAPIModel):
    op: Literal["add", "replace", "merge", "delete"]
    path: str
    value: list[dict[str, Any]] | None = None


class ListingsItemPatchRequest(SPAPIModel):
    product_type: str
    patches: list[PatchOperation] = Field(min_length=1)


class ListingsItemPutRequest(SPAPIModel):
    product_type: str
    requirements: Requirements | None = None
    attributes: dict[str, Any]


class Issue(SPAPIModel):
    code: str
    message: str
    severity: Literal["ERROR", "WARNING", "INFO"]
    attribute_names: list[str] | None = None
    categories: list[str] = Field(default_factory=list)
    enforcements: dict[str, Any] | None = None
    marketplace_ids: list[str] | None = None


class ListingsItemSubmissionResponse(SPAPIModel):
    sku: str
    status: Literal["ACCEPTED", "INVALID", "VALID"]
    submission_id: str
    issues: list[Issue] = Field(default_factory=list)
    identifiers: list[dict[str, Any]] | None = None

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "ERROR"]


class ItemSummary(SPAPIModel):
    marketplace_id: str
    asin: str | None = None
    product_type: str
    condition_type: str | None = None
    status: list[str] = Field(default_factory=list)
    fn_sku: str | None = None
    item_name: str | None = None
    created_date: str
    last_updated_date: str
    main_image: dict[str, Any] | None = None


class Item(SPAPIModel):
    sku: str
    summaries: list[ItemSummary] | None = None
    attributes: dict[str, Any] | None = None
    issues: list[Issue] | None = None
    offers: list[dict[str, Any]] | None = None
    fulfillment_availability: list[dict[str, Any]] | None = None
    procurement: list[dict[str, Any]] | None = None
    relationships: list[dict[str, Any]] | None = None
    product_types: list[dict[str, Any]] | None = None


class ItemSearchResults(SPAPIModel):
    number_of_results: int
    pagination: dict[str, Any] | None = None
    items: list[Item] = Field(default_factory=list)

    @property
    def next_token(self) -> str | None:
        return (self.pagination or {}).get("nextToken")


# --- Listings Restrictions 2021-08-01 ------------------------------------------------------------------------------


class Restriction(SPAPIModel):
    marketplace_id: str
    condition_type: str | None = None
    reasons: list[dict[str, Any]] | None = None


class RestrictionList(SPAPIModel):
    restrictions: list[Restriction] = Field(default_factory=list)


# --- Feeds 2021-06-30 ----------------------------------------------------------------------------------------------

ProcessingStatus = Literal["CANCELLED", "DONE", "FATAL", "IN_PROGRESS", "IN_QUEUE"]
TERMINAL_STATUSES = frozenset({"CANCELLED", "DONE", "FATAL"})


class CreateFeedDocumentResponse(SPAPIModel):
    feed_document_id: str
    url: str


class FeedDocument(SPAPIModel):
    feed_document_id: str
    url: str
    compression_algorithm: Literal["GZIP"] | None = None


class CreateFeedResponse(SPAPIModel):
    feed_id: str


class Feed(SPAPIModel):
    feed_id: str
    feed_type: str
    marketplace_ids: list[str] | None = None
    created_time: str
    processing_status: ProcessingStatus
    processing_start_time: str | None = None
    processing_end_time: str | None = None
    result_feed_document_id: str | None = None

    @property
    def is_terminal(self) -> bool:
        return self.processing_status in TERMINAL_STATUSES


class GetFeedsResponse(SPAPIModel):
    feeds: list[Feed] = Field(default_factory=list)
    next_token: str | None = None


# --- Product Type Definitions 2020-09-01 ---------------------------------------------------------------------------


class SchemaLink(SPAPIModel):
    link: dict[str, Any]
    checksum: str

    @property
    def resource(self) -> str:
        return str(self.link["resource"])


class ProductTypeDefinition(SPAPIModel):
    meta_schema: SchemaLink | None = None
    schema_: SchemaLink = Field(alias="schema")
    requirements: Requirements
    requirements_enforced: Literal["ENFORCED", "NOT_ENFORCED"]
    property_groups: dict[str, Any]
    locale: str
    marketplace_ids: list[str]
    product_type: str
    display_name: str | None = None
    product_type_version: dict[str, Any]


class ProductType(SPAPIModel):
    name: str
    display_name: str | None = None
    marketplace_ids: list[str] = Field(default_factory=list)


class ProductTypeList(SPAPIModel):
    product_types: list[ProductType] = Field(default_factory=list)
    product_type_version: str | None = None
