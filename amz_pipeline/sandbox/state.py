"""The sandbox's in-memory state: sellers, tokens, listings, feeds, documents, history and logs."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


def iso(ts: float) -> str:
    """ISO 8601 UTC with milliseconds, as Amazon writes its timestamps."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(ts * 1000) % 1000:03d}Z"


def parse_iso(value: str) -> float:
    """Epoch seconds of an ISO 8601 date-time; ValueError when it is not one."""
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def payload_hash(obj: Any) -> str:
    """SHA-256 of the canonical JSON (sorted keys, no whitespace, UTF-8) of what was sent for one SKU.

    Written here rather than imported: the sandbox shares data with the pipeline, never logic, so a hashing bug
    on one side shows up as a mismatch in tests instead of passing both.
    """
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass
class Seller:
    seller_id: str
    client_id: str
    client_secret: str
    refresh_token: str
    region: str

    def to_dict(self) -> dict[str, str]:
        return {"seller_id": self.seller_id, "client_id": self.client_id, "client_secret": self.client_secret,
                "refresh_token": self.refresh_token, "region": self.region}


@dataclass
class AccessToken:
    client_id: str
    seller_id: str | None  # None for grantless (client_credentials) tokens
    region: str | None
    expires_at: float
    scope: str | None = None


@dataclass
class Listing:
    seller_id: str
    sku: str
    marketplace_id: str
    product_type: str
    requirements: str
    attributes: dict[str, Any]
    asin: str | None
    created: float
    updated: float
    issues: list[dict[str, Any]] = field(default_factory=list)
    suppressed: bool = False
    suppress_at: float | None = None  # fault: accepted now, suppressed at this time
    # The validator (product type + requirements) these attributes passed in this process; lets the next change be
    # checked incrementally. Not persisted.
    checked_by: Any = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__ if k != "checked_by"}


@dataclass
class Document:
    document_id: str
    seller_id: str
    content_type: str
    created: float
    data: bytes | None = None
    compressed: bool = False  # result documents are stored gzipped

    def to_dict(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in self.__dataclass_fields__}
        out["data"] = self.data.hex() if self.data is not None else None
        return out


@dataclass
class Feed:
    feed_id: str
    seller_id: str
    feed_type: str
    marketplace_ids: list[str]
    input_document_id: str
    created: float
    status: str = "IN_QUEUE"
    started: float | None = None
    ended: float | None = None
    result_document_id: str | None = None
    feed_options: dict[str, str] | None = None

    def to_api(self) -> dict[str, Any]:
        """The model's `Feed` object: its fields and nothing else (no input document id)."""
        out: dict[str, Any] = {"feedId": self.feed_id, "feedType": self.feed_type,
                               "marketplaceIds": list(self.marketplace_ids), "createdTime": iso(self.created),
                               "processingStatus": self.status}
        if self.started is not None:
            out["processingStartTime"] = iso(self.started)
        if self.ended is not None:
            out["processingEndTime"] = iso(self.ended)
        if self.result_document_id is not None:
            out["resultFeedDocumentId"] = self.result_document_id
        return out

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass
class SandboxState:
    sellers: dict[str, Seller] = field(default_factory=dict)
    tokens: dict[str, AccessToken] = field(default_factory=dict)
    # (seller_id, sku) -> {marketplace_id: Listing}
    listings: dict[tuple[str, str], dict[str, Listing]] = field(default_factory=dict)
    feeds: dict[str, Feed] = field(default_factory=dict)
    documents: dict[str, Document] = field(default_factory=dict)
    history: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    requests: Counter = field(default_factory=Counter)
    notifications: list[dict[str, Any]] = field(default_factory=list)
    # JSON_LISTINGS_FEED submissions per (seller, region): submission times inside the window
    feed_submissions: dict[tuple[str, str], list[float]] = field(default_factory=dict)

    def clear_runtime(self) -> None:
        """Everything but the registered sellers (what POST /_sandbox/reset clears)."""
        self.tokens.clear()
        self.listings.clear()
        self.feeds.clear()
        self.documents.clear()
        self.history.clear()
        self.requests.clear()
        self.notifications.clear()
        self.feed_submissions.clear()

    def next_feed_id(self) -> str:
        number = 50_000_000_001 + len(self.feeds)
        while str(number) in self.feeds:
            number += 1
        return str(number)

    def seller_by_refresh_token(self, refresh_token: str) -> Seller | None:
        for seller in self.sellers.values():
            if seller.refresh_token == refresh_token:
                return seller
        return None

    def app_secret(self, client_id: str) -> str | None:
        for seller in self.sellers.values():
            if seller.client_id == client_id:
                return seller.client_secret
        return None

    def record_history(self, seller_id: str, sku: str, marketplace_id: str, when: float, channel: str, ref: str,
                       operation: str, payload: Any) -> None:
        """Append an applied change. The payload is hashed when the history is read (hashing a full listing
        costs more than validating it, and feeds apply tens of thousands of messages)."""
        self.history.setdefault(seller_id, []).append({
            "sku": sku, "marketplace_id": marketplace_id, "time": when, "channel": channel, "ref": ref,
            "operation": operation, "payload": payload})

    def history_of(self, seller_id: str) -> list[dict[str, Any]]:
        """The seller's history in the admin API shape, hashing payloads not hashed yet."""
        entries = self.history.get(seller_id, [])
        for entry in entries:
            if "payload" in entry:
                entry["payload_hash"] = payload_hash(entry.pop("payload"))
                entry["time"] = iso(entry["time"])
        return entries
