"""The engine end to end against the live sandbox over HTTP: per-SKU path, feed path, INVALID, fast path, delete."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from amz_pipeline.publishing import engine as publishing
from amz_pipeline.publishing.feeds.build import FeedLimits
from amz_pipeline.publishing.queue import Change, Operation
from amz_pipeline.storage.db import session_factory
from amz_pipeline.storage.models import DeadLetter, FeedSubmission, Listing, ListingIssue, PublishAttempt
from tests.publishing.helpers import US, fast_config, full_change, sandbox_history, sandbox_listings

SQLITE = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def listings_by_sku(db_engine):
    with session_factory(db_engine)() as session:
        return {row.sku: row for row in session.scalars(select(Listing))}


@SQLITE
def test_per_sku_path_publishes_and_records_acceptance(db_engine, pool, sandbox_server, demo_seller):
    seller = demo_seller["seller_id"]
    changes = [full_change(seller, f"SKU-{i:03d}", price=10 + i) for i in range(12)]
    plan = publishing.publish_changes(db_engine, changes, run_id=None, mode="auto", config=fast_config())
    assert plan.channel.value == "listings" and len(plan.enqueued.job_ids) == 12
    metrics = publishing.run_queue(db_engine, pool, config=fast_config())
    assert metrics["accepted"] == 12 and metrics["backlog"] == 0 and metrics["dead_lettered"] == 0
    remote = sandbox_listings(sandbox_server, seller)
    assert set(remote) == {c.sku for c in changes}
    for change in changes:
        offer = remote[change.sku]["attributes"]["purchasable_offer"]
        assert offer == change.body["attributes"]["purchasable_offer"]
    local = listings_by_sku(db_engine)
    assert {row.status for row in local.values()} == {"accepted"}
    assert local["SKU-000"].accepted_payload_hash == "SKU-000-10-3"
    history = sandbox_history(sandbox_server, seller)
    assert len(history) == 12 and {h["operation"] for h in history} == {"PATCH"}
    with session_factory(db_engine)() as session:
        attempts = session.scalars(select(PublishAttempt)).all()
    assert len(attempts) == 12 and {a.status for a in attempts} == {"accepted"}
    assert all(a.request_id and a.trace_id and a.submission_id and a.finished_at for a in attempts)


@pytest.mark.parametrize("db_url", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)
def test_invalid_answer_is_stored_with_issues_and_dead_lettered(db_engine, pool, demo_seller):
    seller = demo_seller["seller_id"]
    bad = full_change(seller, "BROKEN", drop=("brand", "item_name"))
    publishing.publish_changes(db_engine, [bad, full_change(seller, "GOOD")], config=fast_config())
    metrics = publishing.run_queue(db_engine, pool, config=fast_config())
    assert (metrics["accepted"], metrics["invalid"]) == (1, 1)
    with session_factory(db_engine)() as session:
        listing = session.scalars(select(Listing).where(Listing.sku == "BROKEN")).one()
        assert listing.status == "invalid" and listing.accepted_payload_hash is None
        issues = session.scalars(select(ListingIssue).where(ListingIssue.listing_id == listing.id)).all()
        assert any("brand" in (i.attribute_names or []) for i in issues)
        letter = session.scalars(select(DeadLetter)).one()
        assert (letter.sku, letter.cause) == ("BROKEN", "invalid") and "brand" in letter.reason
        assert letter.payload["operation"] == "partial_update" and letter.payload["channel"] == "listings"
        assert letter.payload["body"]["productType"] == "LUGGAGE"


@SQLITE
def test_feed_path_chunks_submits_ingests_and_verifies(db_engine, pool, sandbox_server, demo_seller):
    seller = demo_seller["seller_id"]
    config = fast_config(limits=FeedLimits(10, 10 * 1024 * 1024, 5, 300))
    changes = [full_change(seller, f"F-{i:03d}", price=30 + i) for i in range(25)]
    changes.append(full_change(seller, "F-BAD", drop=("brand",)))
    plan = publishing.publish_changes(db_engine, changes, mode="feed", config=config)
    assert plan.channel.value == "feed" and len(plan.feed_submissions) == 3
    metrics = publishing.run_queue(db_engine, pool, config=config)
    assert (metrics["accepted"], metrics["invalid"], metrics["backlog"]) == (25, 1, 0)
    assert metrics["feeds_submitted"] == 3
    with session_factory(db_engine)() as session:
        subs = session.scalars(select(FeedSubmission)).all()
        assert {s.status for s in subs} == {"verified"} and all(s.feed_id for s in subs)
        assert sum(s.report_summary["messagesAccepted"] for s in subs) == 25
    local = listings_by_sku(db_engine)
    assert local["F-BAD"].status == "invalid"
    # every accepted SKU of a feed of ≤ verify_all_below SKUs was read back: live with the sandbox's ASIN
    assert {row.status for sku, row in local.items() if sku != "F-BAD"} == {"live"}
    assert all(row.asin for sku, row in local.items() if sku != "F-BAD")
    remote = sandbox_listings(sandbox_server, seller)
    assert set(remote) == {c.sku for c in changes if c.sku != "F-BAD"}
    assert {h["operation"] for h in sandbox_history(sandbox_server, seller)} == {"PARTIAL_UPDATE"}


@SQLITE
def test_offer_only_change_goes_out_as_patch_and_fba_gets_no_quantity(db_engine, pool, sandbox_server, demo_seller):
    from amz_pipeline.publishing.changes import change_for
    from tests.support.sandbox import luggage_attributes

    seller = demo_seller["seller_id"]
    publishing.publish_changes(db_engine, [full_change(seller, "P-1")], config=fast_config())
    publishing.run_queue(db_engine, pool, config=fast_config())
    attributes = luggage_attributes(price=55.5, quantity=9)
    attributes["fulfillment_availability"] = [{"fulfillment_channel_code": "AMAZON_NA", "quantity": 9}]
    change = change_for(seller_id=seller, marketplace_id=US, sku="P-1", action="offer_only", product_type="LUGGAGE",
                        attributes=attributes, listing_hash="h2", offer_hash="o2", full_catalog=True)
    assert change.operation is Operation.PATCH
    assert [p["op"] for p in change.body["patches"]] == ["replace", "merge"]
    assert "quantity" not in change.body["patches"][1]["value"][0]
    publishing.publish_changes(db_engine, [change], mode="listings", config=fast_config())
    metrics = publishing.run_queue(db_engine, pool, config=fast_config())
    assert metrics["accepted"] == 2
    remote = sandbox_listings(sandbox_server, seller)["P-1"]["attributes"]
    assert remote["purchasable_offer"][0]["our_price"][0]["schedule"][0]["value_with_tax"] == 55.5
    history = sandbox_history(sandbox_server, seller)
    assert [h["operation"] for h in history] == ["PATCH", "PATCH"]


@SQLITE
def test_delete_removes_the_listing(db_engine, pool, sandbox_server, demo_seller):
    seller = demo_seller["seller_id"]
    publishing.publish_changes(db_engine, [full_change(seller, "D-1"), full_change(seller, "D-2")],
                               config=fast_config())
    publishing.run_queue(db_engine, pool, config=fast_config())
    publishing.publish_changes(db_engine, [Change(seller, US, "D-1", Operation.DELETE, None)], config=fast_config())
    publishing.run_queue(db_engine, pool, config=fast_config())
    assert set(sandbox_listings(sandbox_server, seller)) == {"D-2"}
    assert listings_by_sku(db_engine)["D-1"].status == "deleted"
