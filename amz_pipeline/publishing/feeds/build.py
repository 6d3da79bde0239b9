"""JSON_LISTINGS_FEED documents: one message per job, chunked within Amazon's limits, validated before upload.

- The header asks for `report.includedData` so the processing report carries each item's summary and issues.
- Messages follow the job's operation: UPDATE (only ever queued for a declared full catalog with the product type's
  required set complete — UPDATE wipes every attribute not sent), PARTIAL_UPDATE, PATCH (price/quantity fast path) or
  DELETE.
- Chunks hold at most `max_messages` messages and `max_bytes` bytes (limits.json), and every document validates against
  Amazon's `listings-feed-schema-v2.json` (compiled validator) before it may be uploaded.
- The bytes are canonical JSON, so the same jobs always give the same document and the same hash; that is what lets a
  resumed run recognise a feed it already submitted.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from typing import Any

import jsonschema_rs

import schemas
from amz_pipeline.hashing import canonical_json, payload_hash

FEED_TYPE = "JSON_LISTINGS_FEED"
CONTENT_TYPE = "application/json; charset=UTF-8"
REPORT_INCLUDED_DATA = ["summaries", "issues"]
FEED_SCHEMA = "spapi/reference/schemas/feeds/listings-feed-schema-v2.json"
_OPERATION_TYPES = {"update": "UPDATE", "partial_update": "PARTIAL_UPDATE", "patch": "PATCH", "delete": "DELETE"}


class FeedBuildError(ValueError):
    """A message cannot be placed in any document (too large) or a document fails Amazon's feed schema."""


@dataclass(frozen=True)
class FeedLimits:
    max_messages: int
    max_bytes: int
    submissions_per_window: int
    window_seconds: float

    @classmethod
    def from_data(cls) -> FeedLimits:
        spec = schemas.load_json("spapi/limits.json")["feed_types"][FEED_TYPE]
        return cls(spec["max_messages"], spec["max_bytes"], spec["submissions_per_window"], spec["window_seconds"])

    def scaled(self, rate_scale: float) -> FeedLimits:
        """The submission window divided by `rate_scale`, matching a client built with the same `rate_scale` (for
        emulators that scale plans; never against Amazon)."""
        return replace(self, window_seconds=self.window_seconds / rate_scale)


@dataclass(frozen=True)
class FeedJob:
    """What the builder needs of a queued job."""

    job_id: int
    sku: str
    operation: str
    payload: dict[str, Any] | None
    retry_count: int = 0
    # canonical JSON of payload["attributes"] when the caller already has it (`Change.identity`)
    attributes_json: bytes | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Chunk:
    jobs: tuple[FeedJob, ...]
    size: int
    encoded: tuple[EncodedMessage, ...] = ()  # each job's message bytes, reused by `render` (empty: encode again)


@dataclass(frozen=True)
class EncodedMessage:
    """A message's canonical JSON around its messageId: `prefix + b'"messageId":<id>,' + suffix`. Only
    `attributes` sorts before `messageId`, so the id sits between the two, and one encoding serves every position."""

    prefix: bytes
    suffix: bytes

    def size(self, message_id: int) -> int:
        return len(self.prefix) + len(_ID_KEY) + len(str(message_id)) + 1 + len(self.suffix)

    def render(self, message_id: int) -> bytes:
        return b"".join((self.prefix, _ID_KEY, str(message_id).encode(), b",", self.suffix))


_ID_KEY = b'"messageId":'


def encode_message(job: FeedJob) -> EncodedMessage:
    """`canonical_json(message(n, job))` for any n, encoded once (see `EncodedMessage`)."""
    rest = message(0, job)
    del rest["messageId"]
    attributes = rest.pop("attributes", None)
    if attributes is None:
        prefix = b"{"
    else:
        prefix = b'{"attributes":' + (job.attributes_json or canonical_json(attributes)) + b","
    return EncodedMessage(prefix, canonical_json(rest)[1:])


def message(message_id: int, job: FeedJob) -> dict[str, Any]:
    body = job.payload or {}
    operation_type = _OPERATION_TYPES[job.operation]
    out: dict[str, Any] = {"messageId": message_id, "sku": job.sku, "operationType": operation_type}
    if operation_type == "DELETE":
        return out
    out["productType"] = body["productType"]
    if operation_type == "PATCH":
        out["patches"] = body["patches"]
        return out
    if operation_type == "UPDATE" and body.get("requirements"):
        out["requirements"] = body["requirements"]
    out["attributes"] = body["attributes"]
    return out


def header(seller_id: str, issue_locale: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "sellerId": seller_id,
        "version": "2.0",
        "report": {"includedData": REPORT_INCLUDED_DATA, "apiVersion": "2021-08-01"},
    }
    if issue_locale:
        out["issueLocale"] = issue_locale
    return out


def chunk(jobs: Sequence[FeedJob], seller_id: str, limits: FeedLimits) -> tuple[list[Chunk], list[tuple[FeedJob, str]]]:
    """Split jobs into chunks within the limits; a job whose message alone exceeds the byte limit is returned apart."""
    overhead = len(canonical_json({"header": header(seller_id, "en_US"), "messages": []}))
    chunks: list[Chunk] = []
    too_large: list[tuple[FeedJob, str]] = []
    current: list[FeedJob] = []
    size = overhead
    encoded: list[EncodedMessage] = []
    for job in jobs:
        # messageIds stay below 10**6 (chunk ≤ 25,000), so 7 digits bound the id's share of the size.
        parts = encode_message(job)
        message_size = parts.size(9_999_999) + 1
        if overhead + message_size > limits.max_bytes:
            too_large.append((job, f"the feed message for {job.sku} is {message_size} bytes, more than a whole "
                                   f"feed may hold ({limits.max_bytes} bytes)"))
            continue
        if current and (len(current) >= limits.max_messages or size + message_size > limits.max_bytes):
            chunks.append(Chunk(tuple(current), size, tuple(encoded)))
            current, encoded, size = [], [], overhead
        current.append(job)
        encoded.append(parts)
        size += message_size
    if current:
        chunks.append(Chunk(tuple(current), size, tuple(encoded)))
    return chunks, too_large


@cache
def validator() -> Any:
    return jsonschema_rs.validator_for(schemas.load_json(FEED_SCHEMA))


def document(seller_id: str, jobs: Iterable[FeedJob], issue_locale: str | None = None) -> dict[str, Any]:
    """The feed document for jobs in message order (messageId = position, from 1)."""
    return {
        "header": header(seller_id, issue_locale),
        "messages": [message(index, job) for index, job in enumerate(jobs, start=1)],
    }


def render(doc: dict[str, Any], limits: FeedLimits | None = None,
           encoded: Sequence[EncodedMessage] | None = None) -> bytes:
    """Validate against Amazon's feed schema and serialize canonically; raises FeedBuildError when invalid.
    `encoded` (the messages' `encode_message` parts, in order) spares encoding them again: the bytes are the same."""
    errors = [
        f"{'/'.join(map(str, e.instance_path)) or '(root)'}: {e.message}" for e in validator().iter_errors(doc)
    ][:5]
    if errors:
        raise FeedBuildError("feed document fails listings-feed-schema-v2.json: " + "; ".join(errors))
    if encoded is None:
        data = canonical_json(doc)
    else:
        messages = b",".join(part.render(index) for index, part in enumerate(encoded, start=1))
        data = b'{"header":' + canonical_json(doc["header"]) + b',"messages":[' + messages + b"]}"
    if limits is not None and len(data) > limits.max_bytes:
        raise FeedBuildError(f"feed document is {len(data)} bytes, above the {limits.max_bytes}-byte limit")
    return data


def submission_hash(data: bytes, jobs: Sequence[FeedJob]) -> str:
    """Identity of one submission: the document and which attempt of which jobs it carries. The same jobs are never
    submitted twice with the same content; a change queued again later (a new job) may carry equal bytes."""
    document_hash = hashlib.sha256(data).hexdigest()
    return payload_hash({"document": document_hash, "jobs": [[j.job_id, j.retry_count] for j in jobs]})


def message_map(jobs: Sequence[FeedJob]) -> dict[str, Any]:
    """messageId → [job id, sku], stored with the submission so report issues map back to SKUs."""
    return {str(index): [job.job_id, job.sku] for index, job in enumerate(jobs, start=1)}
