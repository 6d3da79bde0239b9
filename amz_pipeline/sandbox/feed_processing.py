"""Background processing of JSON_LISTINGS_FEED submissions: IN_QUEUE -> IN_PROGRESS -> DONE (or FATAL).

Each message is checked against Amazon's message schema and the product type, then applied through the same
`submit` the Listings Items API uses. The result is a gzipped processing report in Amazon's v2 format.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import gzip
import time
import uuid
from collections.abc import Iterator
from functools import cache
from typing import Any

import jsonschema_rs
import orjson

import schemas

from .errors import dumps
from .listing_model import build_item
from .messages import localized, resolve_locale, text
from .runtime import Sandbox, new_id
from .state import Document, Feed, iso
from .submissions import records, submit

MESSAGE_SCHEMA = "spapi/reference/schemas/feeds/listings-feed-message-schema-v2.json"
FEED_SCHEMA = "spapi/reference/schemas/feeds/listings-feed-schema-v2.json"
CHUNK = 250  # messages processed between yields to the event loop
_paused_collections = 0


@cache
def message_validator() -> Any:
    return jsonschema_rs.Draft7Validator(schemas.load_json(MESSAGE_SCHEMA))


@cache
def header_validator() -> Any:
    schema = schemas.load_json(FEED_SCHEMA)
    return jsonschema_rs.Draft7Validator({"$schema": schema["$schema"], **schema["properties"]["header"]})


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """The cyclic garbage collector off while feeds are parsed and applied (nestable across concurrent feeds).

    A 25,000-message feed allocates millions of objects that live until the feed is done, which sets off full
    collections over the whole in-memory state, again and again: most of a large feed's time before this. Feed
    documents and listing attributes are plain JSON trees without reference cycles, freed by reference counting
    whether the collector runs or not. When the last feed is done, everything alive is frozen (`gc.freeze`) so the
    listings a feed created are not walked by later collections either (the requests after a 25,000-listing seeding
    feed otherwise pay seconds of collections). A new `Sandbox` and `Sandbox.reset` unfreeze, so whatever cyclic garbage
    was frozen with them is collected then.
    """
    global _paused_collections
    if _paused_collections == 0 and not gc.isenabled():
        yield  # someone else switched it off; leave it as it is
        return
    _paused_collections += 1
    gc.disable()
    try:
        yield
    finally:
        _paused_collections -= 1
        if _paused_collections == 0:
            gc.freeze()
            gc.enable()


def notify(sandbox: Sandbox, feed: Feed) -> None:
    """Record the FEED_PROCESSING_FINISHED notification Amazon would publish for a finished feed."""
    now = time.time()
    body: dict[str, Any] = {"sellerId": feed.seller_id, "accountId": f"amzn1.merchant.o.{feed.seller_id}",
                            "feedId": feed.feed_id, "feedType": feed.feed_type, "processingStatus": feed.status}
    if feed.result_document_id:
        body["resultFeedDocumentId"] = feed.result_document_id
    seller = sandbox.state.sellers.get(feed.seller_id)
    sandbox.state.notifications.append({
        "notificationVersion": "2020-09-04", "notificationType": "FEED_PROCESSING_FINISHED",
        "payloadVersion": "2020-09-04", "eventTime": iso(now),
        "payload": {"feedProcessingFinishedNotification": body},
        "notificationMetadata": {"applicationId": seller.client_id if seller else "amzn1.sellerapps.app.sandbox",
                                 "subscriptionId": f"sandbox-subscription-{feed.seller_id}",
                                 "publishTime": iso(now), "notificationId": str(uuid.uuid4())}})


def _store_result(sandbox: Sandbox, feed: Feed, report: dict[str, Any]) -> None:
    data = gzip.compress(dumps(report), 6)
    now = time.time()
    document = Document(new_id(), feed.seller_id, "application/json", now, data, compressed=True)
    sandbox.state.documents[document.document_id] = document
    feed.result_document_id = document.document_id


def _finish(sandbox: Sandbox, feed: Feed, status: str) -> None:
    feed.status, feed.ended = status, time.time()
    sandbox.mark_dirty()
    notify(sandbox, feed)


def _fatal(sandbox: Sandbox, feed: Feed, locale: str, key: str, report_seller: str | None = None,
           **params: Any) -> None:
    """End the feed FATAL with a one-issue report (`report_seller`: the sellerId to write in its header)."""
    report = {"header": {"sellerId": report_seller or feed.seller_id, "version": "2.0", "feedId": feed.feed_id},
              "issues": [{"code": "4000000", "severity": "ERROR", "message": text(key, locale, **params)}],
              "summary": {"errors": 1, "warnings": 0, "messagesProcessed": 0, "messagesAccepted": 0,
                          "messagesInvalid": 0}}
    _store_result(sandbox, feed, report)
    _finish(sandbox, feed, "FATAL")


def _parse(data: bytes) -> Any:
    """The feed document: gzip or not, UTF-8 with or without a byte order mark."""
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    return orjson.loads(data.removeprefix(b"\xef\xbb\xbf"))


async def process_feed(sandbox: Sandbox, feed: Feed) -> None:
    delay = sandbox.delay(sandbox.config.feed_processing_delay_seconds)
    await asyncio.sleep(delay)
    if feed.status != "IN_QUEUE":
        return  # cancelled while queued
    outcome = sandbox.faults.feed_outcome() if sandbox.config.faults else None
    if outcome == "CANCELLED":
        _finish(sandbox, feed, "CANCELLED")
        return
    feed.status, feed.started = "IN_PROGRESS", time.time()
    sandbox.mark_dirty()
    await asyncio.sleep(delay)
    if outcome == "IN_PROGRESS":
        return  # stuck forever (fault)
    with collector_paused():
        await _process_document(sandbox, feed, outcome)


async def _process_document(sandbox: Sandbox, feed: Feed, outcome: str | None) -> None:
    locale = resolve_locale(None, feed.marketplace_ids)
    if outcome == "FATAL":
        _fatal(sandbox, feed, locale, "feed_internal_error")
        return
    document = sandbox.state.documents.get(feed.input_document_id)
    try:
        parsed = _parse(document.data if document and document.data else b"")
    except (orjson.JSONDecodeError, OSError, EOFError) as exc:
        _fatal(sandbox, feed, locale, "feed_unparseable", detail=str(exc))
        return
    if not isinstance(parsed, dict) or not isinstance(parsed.get("header"), dict) \
            or not isinstance(parsed.get("messages"), list):
        _fatal(sandbox, feed, locale, "feed_not_object")
        return
    header = parsed["header"]
    if isinstance(header.get("issueLocale"), str):
        locale = resolve_locale(header["issueLocale"], feed.marketplace_ids)
    header_errors = [e.message for e in header_validator().iter_errors(header)]
    if header_errors:
        _fatal(sandbox, feed, locale, "feed_header_invalid", detail="; ".join(header_errors))
        return
    if header["sellerId"] != feed.seller_id:
        _fatal(sandbox, feed, locale, "feed_seller_mismatch", str(header["sellerId"]),
               seller_id=header["sellerId"])
        return
    messages = parsed["messages"]
    limit = (sandbox.plans.feed_type_limit(feed.feed_type) or {}).get("max_messages", 25000)
    if not messages or len(messages) > limit:
        _fatal(sandbox, feed, locale, "feed_message_count", limit=limit, count=len(messages))
        return
    report = await _process_messages(sandbox, feed, header, messages, locale)
    _store_result(sandbox, feed, report)
    _finish(sandbox, feed, "DONE")


async def _process_messages(sandbox: Sandbox, feed: Feed, header: dict[str, Any], messages: list[Any],
                            locale: str) -> dict[str, Any]:
    issues: list[dict[str, Any]] = []
    accepted = invalid = 0
    seen_ids: set[int] = set()
    touched: dict[str, None] = {}  # accepted SKUs, in order
    validator = message_validator()
    for index, message in enumerate(messages):
        if index and index % CHUNK == 0:
            await asyncio.sleep(0)
        message_id = message.get("messageId") if isinstance(message, dict) else None
        sku = message.get("sku") if isinstance(message, dict) else None
        problems = [text("feed_message_invalid", locale, detail=e.message) for e in validator.iter_errors(message)]
        if isinstance(message_id, int) and message_id in seen_ids:
            problems.append(text("feed_message_id_duplicate", locale, message_id=message_id))
        if problems:
            invalid += 1
            for problem in problems:
                issues.append(_report_issue(message_id, sku, "4000001", "ERROR", problem, None))
            continue
        seen_ids.add(message_id)
        payload = {k: v for k, v in message.items() if k != "messageId"}
        outcome = submit(sandbox, seller_id=feed.seller_id, sku=sku, marketplace_ids=feed.marketplace_ids,
                         operation=message["operationType"], product_type=message.get("productType"),
                         requirements=message.get("requirements"), attributes=message.get("attributes"),
                         patches=message.get("patches"), channel="feed", ref=feed.feed_id, payload=payload,
                         report_style=True)
        for found in localized(outcome.issues, locale):
            names = found.get("attributeNames") or []
            issues.append(_report_issue(message_id, sku, found["code"], found["severity"], found["message"],
                                        names[0] if names else None))
        if outcome.status == "ACCEPTED":
            accepted += 1
            touched[sku] = None
        else:
            invalid += 1
    errors = sum(1 for i in issues if i["severity"] == "ERROR")
    warnings = sum(1 for i in issues if i["severity"] == "WARNING")
    report: dict[str, Any] = {
        "header": {"sellerId": feed.seller_id, "version": "2.0", "feedId": feed.feed_id},
        "issues": issues,
        "summary": {"errors": errors, "warnings": warnings, "messagesProcessed": len(messages),
                    "messagesAccepted": accepted, "messagesInvalid": invalid}}
    wanted = header.get("report", {}).get("includedData") if isinstance(header.get("report"), dict) else None
    if wanted:
        report["header"]["report"] = header["report"]
        items = []
        for sku in touched:
            found = records(sandbox, feed.seller_id, sku)
            selected = [found[m] for m in feed.marketplace_ids if m in found]
            if selected:
                items.append(build_item(sku, selected, wanted, locale))
        item_issues = [i for item in items for i in item.get("issues", [])]
        report["summary"]["itemSummary"] = {
            "items": len(items), "errors": sum(1 for i in item_issues if i["severity"] == "ERROR"),
            "warnings": sum(1 for i in item_issues if i["severity"] == "WARNING")}
        report["items"] = items
    return report


def _report_issue(message_id: Any, sku: Any, code: str, severity: str, message: str,
                  attribute: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if isinstance(message_id, int) and message_id >= 1:
        out["messageId"] = message_id
    if isinstance(sku, str) and sku:
        out["sku"] = sku
    out.update({"code": code, "severity": severity, "message": message})
    if attribute:
        out["attributeName"] = attribute
    return out
