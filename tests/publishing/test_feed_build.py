"""Feed documents (message shapes, chunking within limits, schema validation, stable hashes), report parsing and
routing."""

from __future__ import annotations

import gzip
import json

import pytest

import schemas
from amz_pipeline.hashing import canonical_json
from amz_pipeline.publishing.engine import Mode, listings_share, route
from amz_pipeline.publishing.feeds import build, report
from amz_pipeline.publishing.feeds.build import FeedBuildError, FeedJob, FeedLimits
from amz_pipeline.storage.models import Channel

SELLER = "A1FEEDTEST"
ATTRS = {"item_name": [{"value": "Bag", "language_tag": "en_US", "marketplace_id": "ATVPDKIKX0DER"}]}


def job(i: int, operation: str = "partial_update", payload: dict | None = None) -> FeedJob:
    if payload is None and operation != "delete":
        payload = {"productType": "LUGGAGE", "requirements": "LISTING", "attributes": ATTRS}
    return FeedJob(i, f"SKU-{i}", operation, payload)


def test_message_shapes_follow_the_operation_and_validate():
    patch = {"productType": "LUGGAGE", "patches": [{"op": "merge", "path": "/attributes/fulfillment_availability",
                                                    "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": 2}]}]}
    jobs = [job(1, "update"), job(2, "partial_update"), job(3, "patch", patch), job(4, "delete")]
    doc = build.document(SELLER, jobs)
    build.render(doc)  # valid against listings-feed-schema-v2.json
    types = [m["operationType"] for m in doc["messages"]]
    assert types == ["UPDATE", "PARTIAL_UPDATE", "PATCH", "DELETE"]
    assert doc["messages"][0]["requirements"] == "LISTING"
    assert "requirements" not in doc["messages"][1]  # PARTIAL_UPDATE forbids it
    assert set(doc["messages"][3]) == {"messageId", "sku", "operationType"}
    assert doc["header"]["report"]["includedData"] == ["summaries", "issues"]
    assert [m["messageId"] for m in doc["messages"]] == [1, 2, 3, 4]


def test_invalid_document_is_refused_before_upload():
    bad = job(1, "partial_update", {"productType": "LUGGAGE", "attributes": {}})  # attributes need ≥ 1 property
    with pytest.raises(FeedBuildError, match="listings-feed-schema-v2"):
        build.render(build.document(SELLER, [bad]))


def test_chunks_respect_message_and_byte_limits():
    jobs = [job(i) for i in range(1, 26)]
    chunks, too_large = build.chunk(jobs, SELLER, FeedLimits(10, 10 * 1024 * 1024, 5, 300))
    assert [len(c.jobs) for c in chunks] == [10, 10, 5] and not too_large
    one = len(build.render(build.document(SELLER, jobs[:1])))
    limit = one * 3
    chunks, _ = build.chunk(jobs, SELLER, FeedLimits(25_000, limit, 5, 300))
    for c in chunks:
        assert len(build.render(build.document(SELLER, c.jobs))) <= limit
    assert sum(len(c.jobs) for c in chunks) == 25
    huge = job(99, "partial_update", {"productType": "LUGGAGE", "attributes": {"x": [{"value": "y" * 5000}]}})
    chunks, too_large = build.chunk([huge], SELLER, FeedLimits(10, 2000, 5, 300))
    assert not chunks and too_large[0][0] is huge


def test_document_bytes_and_submission_hash_are_stable():
    jobs = [job(i) for i in range(1, 4)]
    a = build.render(build.document(SELLER, jobs))
    b = build.render(build.document(SELLER, list(jobs)))
    assert a == b and build.submission_hash(a, jobs) == build.submission_hash(b, jobs)
    retried = [FeedJob(j.job_id, j.sku, j.operation, j.payload, retry_count=1) for j in jobs]
    assert build.submission_hash(a, retried) != build.submission_hash(a, jobs)


def test_report_parse_maps_issues_by_message_id():
    example = schemas.load_json("spapi/reference/schemas/feeds/listings-feed-processing-report-schema-v2.example.json")
    parsed = report.parse(gzip.compress(json.dumps(example).encode()))
    message_map = {"4": [40, "My-SKU-B"], "5": [50, "My-SKU-C"], "6": [60, "My-SKU-D"]}
    results, feed_level = report.outcomes(parsed, message_map)
    by_job = {r.job_id: r for r in results}
    assert not by_job[40].accepted and not by_job[50].accepted and by_job[60].accepted
    assert by_job[50].issues[0]["attributeNames"] == ["purchasable_offer.our_price"]
    assert by_job[40].asin == "B071VG5N9D" and feed_level == []  # the item already exists at Amazon
    with pytest.raises(report.ReportError):
        report.parse(b'{"header": {}}')


def test_routing():
    assert route(50, Mode.AUTO, 50) is Channel.LISTINGS
    assert route(51, Mode.AUTO, 50) is Channel.FEED
    assert route(1, Mode.FEED, 50) is Channel.FEED and route(10_000, Mode.LISTINGS, 50) is Channel.LISTINGS
    limits = FeedLimits(25_000, 10 * 1024 * 1024, 5, 300)
    assert listings_share(50_000, limits, feed_seconds=60) == 300  # 5 per-SKU calls/s while the feeds take ~60 s
    assert listings_share(50_000, limits, feed_seconds=10_000) == 592  # capped by the throughput split
    assert listings_share(60, limits, feed_seconds=120) == 0


def test_reused_message_encodings_give_the_same_bytes_as_encoding_the_document():
    tricky = {"item_name": [{"value": "Sac à dos – ✓ \"quoted\" \\ 9999999", "language_tag": "fr_FR",
                             "marketplace_id": "A13V1IB3VIYZZH"}],
              "list_price": [{"value": 19.990000001, "currency": "EUR", "messageId": 9_999_999}]}
    patch = {"productType": "LUGGAGE", "patches": [{"op": "replace", "path": "/attributes/list_price",
                                                    "value": [{"value": 1e-7, "messageId": 1}]}]}
    jobs = [job(1, "update"), job(2, "partial_update", {"productType": "LUGGAGE", "attributes": tricky}),
            job(3, "patch", patch), job(4, "delete")] + [job(i) for i in range(5, 15)]
    jobs[1] = FeedJob(2, "SKU-2", "partial_update", jobs[1].payload, 0, canonical_json(tricky))  # pre-encoded
    [chunk], _ = build.chunk(jobs, SELLER, FeedLimits(25_000, 10 * 1024 * 1024, 5, 300))
    doc = build.document(SELLER, chunk.jobs)
    assert build.render(doc, encoded=chunk.encoded) == build.render(doc)  # resume rebuilds without the encodings
    for index, (one, parts) in enumerate(zip(chunk.jobs, chunk.encoded, strict=True), start=1):
        assert parts.size(index) == len(canonical_json(build.message(index, one)))


def test_identity_hashes_match_the_hashing_module():
    from amz_pipeline.hashing import idempotency_key, payload_hash
    from amz_pipeline.publishing.queue import Change, Operation

    change = Change("A1 ✓", "ATVPDKIKX0DER", "SKU \"1\"", Operation.PARTIAL_UPDATE,
                    {"productType": "LUGGAGE", "attributes": {"x": [{"value": 1.5}]}})
    for operation, body in ((Operation.PARTIAL_UPDATE, change.body), (Operation.DELETE, None),
                            (Operation.UPDATE, {"attributes": {"é": [1, 2.5e-9]}}),
                            (Operation.PATCH, {"productType": "LUGGAGE", "patches": [{"op": "delete", "path": "/a"}]})):
        one = Change(change.seller_id, change.marketplace_id, change.sku, operation, body)
        payload = {"operation": operation.value, "body": body}
        key, body_hash, attributes = one.identity()
        assert (key, body_hash) == (idempotency_key(one.seller_id, one.marketplace_id, one.sku, payload),
                                    payload_hash(payload))
        assert key == one.key()
        expected = canonical_json(body["attributes"]) if body and "attributes" in body else None
        assert attributes == expected
