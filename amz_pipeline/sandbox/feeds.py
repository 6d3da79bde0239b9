"""Feeds API 2021-06-30 and the presigned-style document URLs the sandbox hands out."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

import schemas

from .errors import ApiError, error_response, json_response
from .feed_processing import process_feed
from .runtime import Call, Sandbox, new_id
from .state import Document, Feed, parse_iso

DOCUMENT_LIMITS = schemas.load_json("spapi/limits.json")["documents"]
FEED_RETENTION_SECONDS = 90 * 24 * 3600
# getFeeds' declared filters: the model says a nextToken sent with any of them fails the request.
GET_FEEDS_FILTERS = frozenset({"feedTypes", "marketplaceIds", "pageSize", "processingStatuses", "createdSince",
                               "createdUntil"})


def _signature(sandbox: Sandbox, document_id: str, expires: int, purpose: str) -> str:
    mac = hmac.new(sandbox.url_key, f"{purpose}|{document_id}|{expires}".encode(), hashlib.sha256)
    return mac.hexdigest()


def document_url(sandbox: Sandbox, document_id: str, purpose: str, ttl: float, gzip_header: bool = False) -> str:
    expires = int(time.time() + ttl)
    url = (f"{sandbox.url(f'/_sandbox/documents/{document_id}')}?purpose={purpose}&expires={expires}"
           f"&signature={_signature(sandbox, document_id, expires, purpose)}")
    return url + ("&contentEncoding=gzip" if gzip_header else "")


def _check_url(sandbox: Sandbox, request: Request, purpose: str) -> Document:
    document_id = request.path_params["document_id"]
    q = request.query_params
    try:
        expires = int(q.get("expires", ""))
    except ValueError:
        raise ApiError(403, "Request is missing or has a malformed signature.", "", code="AccessDenied") from None
    expected = _signature(sandbox, document_id, expires, purpose)
    if q.get("purpose") != purpose or not hmac.compare_digest(expected, q.get("signature", "")):
        raise ApiError(403, "The request signature does not match.", "", code="SignatureDoesNotMatch")
    if expires < time.time():
        raise ApiError(403, "Request has expired.", f"The URL expired at {expires}.", code="AccessDenied")
    document = sandbox.state.documents.get(document_id)
    if document is None:
        raise ApiError(404, "The specified document does not exist.", "", code="NoSuchKey")
    return document


async def upload_document(request: Request) -> Response:
    sandbox: Sandbox = request.app.state.sandbox
    try:
        document = _check_url(sandbox, request, "upload")
        content_type = request.headers.get("content-type", "")
        if content_type.strip() != document.content_type.strip():
            raise ApiError(403, "The Content-Type of the upload does not match the contentType given to "
                           "createFeedDocument.", f"Expected '{document.content_type}', got '{content_type}'.",
                           code="SignatureDoesNotMatch")
        data = await request.body()
        limit = max(v.get("max_bytes", 0) for v in sandbox.plans.limits["feed_types"].values())
        if len(data) > limit:
            raise ApiError(413, "Your proposed upload exceeds the maximum allowed size.", f"Limit: {limit} bytes.",
                           code="EntityTooLarge")
    except ApiError as err:
        return error_response(err)
    document.data = data
    sandbox.mark_dirty()
    return Response(b"", 200, headers={"ETag": '"' + hashlib.md5(data).hexdigest() + '"'})


async def download_document(request: Request) -> Response:
    sandbox: Sandbox = request.app.state.sandbox
    try:
        document = _check_url(sandbox, request, "download")
    except ApiError as err:
        return error_response(err)
    data = document.data or b""
    if document.compressed and request.query_params.get("contentEncoding") == "gzip":
        return Response(data, 200, media_type=document.content_type, headers={"Content-Encoding": "gzip"})
    media = "application/octet-stream" if document.compressed else document.content_type
    return Response(data, 200, media_type=media)


async def create_document(call: Call) -> Response:
    content_type = call.body["contentType"]
    if not content_type.strip():
        raise ApiError(400, "Invalid input", "contentType must not be empty.")
    now = time.time()
    document = Document(new_id(), call.seller_id, content_type, now)
    call.sandbox.state.documents[document.document_id] = document
    call.sandbox.mark_dirty()
    url = document_url(call.sandbox, document.document_id, "upload", DOCUMENT_LIMITS["upload_url_ttl_seconds"])
    return json_response({"feedDocumentId": document.document_id, "url": url}, 201)


async def get_document(call: Call) -> Response:
    document = call.sandbox.state.documents.get(call.path["feedDocumentId"])
    if document is None or document.seller_id != call.seller_id:
        raise ApiError(404, "The requested feed document does not exist.", "")
    if document.created + DOCUMENT_LIMITS["feed_document_ttl_seconds"] < time.time():
        raise ApiError(404, "The requested feed document has expired.", "")
    gzip_header = bool(call.query.get("enableContentEncodingUrlHeader")) and document.compressed
    body: dict[str, Any] = {"feedDocumentId": document.document_id,
                            "url": document_url(call.sandbox, document.document_id, "download",
                                                DOCUMENT_LIMITS["download_url_ttl_seconds"], gzip_header)}
    if document.compressed:
        body["compressionAlgorithm"] = "GZIP"
    return json_response(body)


def _check_feed_quota(call: Call, feed_type: str) -> None:
    limit = call.sandbox.plans.feed_type_limit(feed_type)
    if not limit or not call.sandbox.config.enforce_usage_plans:
        return
    window = limit["window_seconds"] / call.sandbox.config.speed
    now = time.monotonic()
    key = (call.seller_id, call.token.region or "")
    recent = [t for t in call.sandbox.state.feed_submissions.get(key, []) if t > now - window]
    if len(recent) >= limit["submissions_per_window"]:
        call.sandbox.state.feed_submissions[key] = recent
        raise ApiError(429, "You exceeded your quota for the requested resource.", "", code="QuotaExceeded")
    recent.append(now)
    call.sandbox.state.feed_submissions[key] = recent


async def create_feed(call: Call) -> Response:
    body = call.body
    feed_type = body["feedType"]
    if call.sandbox.plans.feed_type_limit(feed_type) is None:
        raise ApiError(400, "Invalid input", f"Invalid feedType '{feed_type}'. The sandbox processes: "
                       f"{', '.join(call.sandbox.plans.limits['feed_types'])}.")
    call.sandbox.check_marketplaces(call, body["marketplaceIds"])
    document = call.sandbox.state.documents.get(body["inputFeedDocumentId"])
    if document is None or document.seller_id != call.seller_id:
        raise ApiError(400, "Invalid input", f"Invalid inputFeedDocumentId '{body['inputFeedDocumentId']}'.")
    if document.data is None:
        raise ApiError(400, "Invalid input", "The feed document has not been uploaded.")
    _check_feed_quota(call, feed_type)
    feed = Feed(call.sandbox.state.next_feed_id(), call.seller_id, feed_type, list(body["marketplaceIds"]),
                document.document_id, time.time(), feed_options=body.get("feedOptions"))
    call.sandbox.state.feeds[feed.feed_id] = feed
    call.sandbox.mark_dirty()
    call.sandbox.spawn(process_feed(call.sandbox, feed))
    return json_response({"feedId": feed.feed_id}, 202)


def _own_feed(call: Call) -> Feed:
    feed = call.sandbox.state.feeds.get(call.path["feedId"])
    if feed is None or feed.seller_id != call.seller_id:
        raise ApiError(404, f"Feed '{call.path['feedId']}' was not found.", "")
    return feed


async def get_feed(call: Call) -> Response:
    return json_response(_own_feed(call).to_api())


async def cancel_feed(call: Call) -> Response:
    feed = _own_feed(call)
    if feed.status != "IN_QUEUE":
        raise ApiError(400, "Invalid input", f"The feed cannot be cancelled: it is {feed.status}. Only IN_QUEUE "
                       "feeds can be cancelled.")
    feed.status, feed.ended = "CANCELLED", time.time()
    call.sandbox.mark_dirty()
    from .feed_processing import notify

    notify(call.sandbox, feed)
    return Response(b"", 200)


def _encode_token(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).decode()


async def get_feeds(call: Call) -> Response:
    q = dict(call.query)
    if "nextToken" in q:
        others = sorted(name for name in q if name in GET_FEEDS_FILTERS)
        if others:
            raise ApiError(400, "Invalid input", "nextToken must be the only parameter; it was sent with "
                           f"{', '.join(others)}.")
        try:
            saved = json.loads(base64.urlsafe_b64decode(q["nextToken"]))
            filters, offset = saved["f"], int(saved["o"])
        except (ValueError, KeyError, TypeError):
            raise ApiError(400, "Invalid input", "Invalid nextToken.") from None
    else:
        if "feedTypes" not in q:
            raise ApiError(400, "Invalid input", "Either feedTypes or nextToken is required.")
        now = time.time()
        try:
            since = parse_iso(q["createdSince"]) if "createdSince" in q else now - FEED_RETENTION_SECONDS
            until = parse_iso(q["createdUntil"]) if "createdUntil" in q else now
        except ValueError:
            raise ApiError(400, "Invalid input", "createdSince and createdUntil must be ISO 8601 date-times.") \
                from None
        if since < now - FEED_RETENTION_SECONDS:
            raise ApiError(400, "Invalid input", "createdSince cannot be more than 90 days in the past.")
        if since > until:
            raise ApiError(400, "Invalid input", "createdSince must be before createdUntil.")
        filters = {"feedTypes": q["feedTypes"], "marketplaceIds": q.get("marketplaceIds"),
                   "processingStatuses": q.get("processingStatuses"), "since": since, "until": until,
                   "pageSize": q.get("pageSize", 10)}
        offset = 0
    found = []
    for feed in call.sandbox.state.feeds.values():
        if feed.seller_id != call.seller_id or feed.feed_type not in filters["feedTypes"]:
            continue
        if filters["marketplaceIds"] and not set(filters["marketplaceIds"]).intersection(feed.marketplace_ids):
            continue
        if filters["processingStatuses"] and feed.status not in filters["processingStatuses"]:
            continue
        if not filters["since"] <= feed.created <= filters["until"]:
            continue
        found.append(feed)
    found.sort(key=lambda f: (f.created, f.feed_id), reverse=True)
    size = filters["pageSize"]
    body: dict[str, Any] = {"feeds": [f.to_api() for f in found[offset:offset + size]]}
    if offset + size < len(found):
        body["nextToken"] = _encode_token({"f": filters, "o": offset + size})
    return json_response(body)
