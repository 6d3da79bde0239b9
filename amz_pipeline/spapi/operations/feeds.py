"""Feeds API 2021-06-30: documents (create, upload, get, download), feeds (create, get, list, cancel).

createFeed is not idempotent: it is retried only when the request certainly had no effect, and otherwise raises
`AmbiguousSubmissionError` so the publishing layer reconciles (lists recent feeds) instead of submitting twice.
"""

from __future__ import annotations

import gzip
from typing import Any

from amz_pipeline.spapi.errors import AmbiguousSubmissionError, InvalidResponseError
from amz_pipeline.spapi.operations._base import OperationsBase
from amz_pipeline.spapi.operations.models import (
    CreateFeedDocumentResponse,
    CreateFeedResponse,
    Feed,
    FeedDocument,
    GetFeedsResponse,
)

# Amazon recommends UTF-8; the upload must repeat the declared Content-Type byte for byte.
JSON_CONTENT_TYPE = "application/json; charset=UTF-8"
_GZIP_MAGIC = b"\x1f\x8b"


class FeedsOperations(OperationsBase):
    async def _file_request(self, operation: str, method: str, url: str, **kwargs: Any) -> Any:  # SPAPIClient
        raise NotImplementedError

    async def create_feed_document(self, content_type: str = JSON_CONTENT_TYPE) -> CreateFeedDocumentResponse:
        response = await self._call("createFeedDocument", body={"contentType": content_type})
        return self._parse(response, "createFeedDocument", CreateFeedDocumentResponse)

    async def upload_feed_document(self, url: str, content: bytes | str, content_type: str = JSON_CONTENT_TYPE) -> None:
        """PUT the feed to its presigned URL. `str` content is encoded as UTF-8 (never Latin-1): umlauts survive."""
        data = content.encode("utf-8") if isinstance(content, str) else bytes(content)
        await self._file_request("uploadFeedDocument", "PUT", url, content=data,
                                 headers={"content-type": content_type})

    async def submit_feed_document(self, content: bytes | str, content_type: str = JSON_CONTENT_TYPE) -> str:
        """createFeedDocument + upload; returns the feedDocumentId to pass to `create_feed`."""
        document = await self.create_feed_document(content_type)
        await self.upload_feed_document(document.url, content, content_type)
        return document.feed_document_id

    async def create_feed(self, feed_type: str, marketplace_ids: str | list[str], input_feed_document_id: str, *,
                          feed_options: dict[str, str] | None = None) -> CreateFeedResponse:
        ids = self._marketplaces(marketplace_ids)
        if len(ids) > 25:
            raise ValueError("createFeed takes at most 25 marketplaces")
        body: dict[str, Any] = {"feedType": feed_type, "marketplaceIds": ids,
                                "inputFeedDocumentId": input_feed_document_id}
        if feed_options:
            body["feedOptions"] = {str(k): str(v) for k, v in feed_options.items()}
        response = await self._call("createFeed", body=body, marketplace_id=ids[0], feed_type=feed_type,
                                    non_idempotent=True)
        try:
            return self._parse(response, "createFeed", CreateFeedResponse)
        except InvalidResponseError as exc:
            # Amazon accepted the feed (2xx) but we cannot read its id: reconcile, never submit it again.
            raise AmbiguousSubmissionError(
                f"the feed was accepted but its id is unreadable ({exc.message}); not resent - reconcile",
                status=exc.status, operation="createFeed", request_id=exc.request_id) from None

    async def get_feed(self, feed_id: str) -> Feed:
        response = await self._call("getFeed", path_params={"feedId": feed_id})
        return self._parse(response, "getFeed", Feed)

    async def get_feeds(self, *, feed_types: list[str] | None = None, marketplace_ids: list[str] | None = None,
                        page_size: int | None = None, processing_statuses: list[str] | None = None,
                        created_since: str | None = None, created_until: str | None = None,
                        next_token: str | None = None) -> GetFeedsResponse:
        """List feeds. With `next_token` it must be the only parameter (the model says so)."""
        if next_token:
            if any(v is not None for v in (feed_types, marketplace_ids, page_size, processing_statuses,
                                           created_since, created_until)):
                raise ValueError("get_feeds: next_token must be the only parameter")
            params: dict[str, Any] = {"nextToken": next_token}
        else:
            if not feed_types:
                raise ValueError("get_feeds needs feed_types (1-10) or next_token")
            params = {"feedTypes": feed_types,
                      "marketplaceIds": self._marketplaces(marketplace_ids) if marketplace_ids else None,
                      "pageSize": page_size, "processingStatuses": processing_statuses,
                      "createdSince": created_since, "createdUntil": created_until}
        response = await self._call("getFeeds", params=params)
        return self._parse(response, "getFeeds", GetFeedsResponse)

    async def cancel_feed(self, feed_id: str) -> None:
        """Cancel a feed that is still IN_QUEUE."""
        await self._call("cancelFeed", path_params={"feedId": feed_id})

    async def get_feed_document(self, feed_document_id: str) -> FeedDocument:
        response = await self._call("getFeedDocument", path_params={"feedDocumentId": feed_document_id})
        return self._parse(response, "getFeedDocument", FeedDocument)

    async def download_feed_document(self, document: FeedDocument | str) -> bytes:
        """The document's bytes, gunzipped when `compressionAlgorithm` is GZIP (accepts a document or its id)."""
        if isinstance(document, str):
            document = await self.get_feed_document(document)
        response = await self._file_request("downloadFeedDocument", "GET", document.url)
        data = response.content  # httpx already decoded a `Content-Encoding: gzip` body
        if document.compression_algorithm == "GZIP" and data[:2] == _GZIP_MAGIC:
            data = gzip.decompress(data)
        return data
