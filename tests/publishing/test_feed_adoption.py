"""createFeed whose answer is lost: adopt the feed Amazon created, or resubmit once none appeared within the wait."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from amz_pipeline.publishing import dlq
from amz_pipeline.publishing import engine as publishing
from amz_pipeline.publishing.feeds.submit import FeedDriver
from amz_pipeline.publishing.leases import new_owner
from amz_pipeline.storage.db import session_factory
from amz_pipeline.storage.models import FeedSubmission
from tests.publishing.helpers import fast_config, full_change, sandbox_config, sandbox_history

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def drive_until(db_engine, pool, config, wanted: str, limit: int = 20) -> FeedSubmission:
    async def main() -> None:
        driver = FeedDriver(db_engine, pool, owner=new_owner(), config=config.feeds)
        try:
            for _ in range(limit):
                [submission_id] = driver.open_submissions()
                if await driver.advance(submission_id) == wanted:
                    return
                await asyncio.sleep(0.05)
            raise AssertionError(f"submission never reached {wanted}")
        finally:
            await pool.aclose()  # its clients belong to this event loop

    asyncio.run(main())
    with session_factory(db_engine)() as session:
        return session.scalars(select(FeedSubmission)).one()


def test_lost_answer_after_amazon_created_the_feed_is_adopted(db_engine, pool, sandbox_server, demo_seller):
    seller = demo_seller["seller_id"]
    config = fast_config()
    publishing.publish_changes(db_engine, [full_change(seller, f"A-{i}") for i in range(5)], mode="feed",
                               config=config)
    # the sandbox creates the feed, then drops the connection: the client cannot know
    sandbox_config(sandbox_server, faults={"requests": {"createFeed": {"drop_connection": 1.0}}})
    sub = drive_until(db_engine, pool, config, "intent")
    assert sub.feed_id is None and "AmbiguousSubmission" in (sub.error or "")
    sandbox_config(sandbox_server, faults={})
    metrics = publishing.run_queue(db_engine, pool, config=config)
    assert metrics["accepted"] == 5 and metrics["feeds_adopted"] == 1 and metrics["feeds_submitted"] == 0
    refs = {h["ref"] for h in sandbox_history(sandbox_server, seller)}
    with session_factory(db_engine)() as session:
        assert refs == {session.scalars(select(FeedSubmission.feed_id)).one()}


def test_lost_request_is_resubmitted_after_the_adoption_wait(db_engine, pool, sandbox_server, demo_seller):
    seller = demo_seller["seller_id"]
    config = fast_config()
    publishing.publish_changes(db_engine, [full_change(seller, f"R-{i}") for i in range(5)], mode="feed",
                               config=config)
    # a 500 from a gateway proves nothing: the engine must look for the feed, find none, wait, then resubmit
    sandbox_config(sandbox_server, faults={"requests": {"createFeed": {"http_500": 1.0, "error_body": "html"}}})
    sub = drive_until(db_engine, pool, config, "intent")
    assert sub.feed_id is None
    sandbox_config(sandbox_server, faults={})
    metrics = publishing.run_queue(db_engine, pool, config=config)
    assert metrics["accepted"] == 5 and metrics["feeds_adopted"] == 0 and metrics["feeds_submitted"] == 1
    assert len({h["ref"] for h in sandbox_history(sandbox_server, seller)}) == 1


def test_feed_that_never_finishes_is_given_up_without_resending(db_engine, pool, sandbox_server, demo_seller):
    seller = demo_seller["seller_id"]
    config = fast_config(max_processing_seconds=1.0)
    sandbox_config(sandbox_server, faults={"feeds": {"stuck_in_progress": 1.0}})
    publishing.publish_changes(db_engine, [full_change(seller, f"S-{i}") for i in range(3)], mode="feed",
                               config=config)
    metrics = publishing.run_queue(db_engine, pool, config=config)
    assert metrics["backlog"] == 0 and metrics["dead_lettered"] == 3 and metrics["feeds_submitted"] == 1
    letters = dlq.list_letters(db_engine)
    assert {d.cause for d in letters} == {"feed_fatal"} and "not resubmitted" in letters[0].reason
