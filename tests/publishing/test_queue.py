"""The durable queue on SQLite and PostgreSQL: dedupe, ordering, supersede, SKU locks, leases, retries."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from amz_pipeline.publishing import queue
from amz_pipeline.publishing.leases import new_owner, utcnow
from amz_pipeline.publishing.queue import Change, Operation, RetryPolicy
from amz_pipeline.storage.db import session_factory
from amz_pipeline.storage.models import Channel, DeadLetter, FeedSubmission, JobState, Listing, PublishJob

SELLER = "A1QUEUETEST"
US = "ATVPDKIKX0DER"


def change(sku: str, price: float = 10.0, op: Operation = Operation.PATCH) -> Change:
    body = {
        "productType": "PRODUCT",
        "patches": [{"op": "replace", "path": "/attributes/purchasable_offer",
                     "value": [{"marketplace_id": US, "currency": "USD",
                                "our_price": [{"schedule": [{"value_with_tax": price}]}]}]}],
    }
    return Change(SELLER, US, sku, op, body, listing_hash=None, offer_hash=f"offer-{price}")


def put(engine, changes, channel=Channel.LISTINGS, run_id=None):
    with session_factory(engine).begin() as session:
        return queue.enqueue(session, changes, channel=channel, run_id=run_id)


def succeed(engine, job_id, owner):
    with session_factory(engine).begin() as session:
        assert queue.finish(session, job_id, owner=owner, state=JobState.SUCCEEDED) is not None


def states(engine, sku):
    with session_factory(engine)() as session:
        return session.execute(
            select(PublishJob.seq, PublishJob.state).where(PublishJob.sku == sku).order_by(PublishJob.seq)
        ).all()


def test_enqueue_claim_finish(db_engine):
    result = put(db_engine, [change(f"SKU-{i}") for i in range(5)])
    assert len(result.job_ids) == 5
    owner = new_owner()
    jobs = queue.claim(db_engine, owner=owner, limit=3)
    assert len(jobs) == 3 and all(j.seq == 1 for j in jobs)
    assert len(queue.claim(db_engine, owner=owner, limit=10)) == 2
    assert queue.claim(db_engine, owner=owner, limit=10) == []
    for job in jobs:
        succeed(db_engine, job.id, owner)
    with session_factory(db_engine)() as session:
        assert queue.counts(session) == {"succeeded": 3, "in_flight": 2}
        assert session.scalar(select(Listing.change_seq).where(Listing.sku == "SKU-0")) == 1


def test_same_change_queued_twice_is_one_job_but_a_b_a_publishes_three_times(db_engine):
    assert len(put(db_engine, [change("X", 1.0)]).job_ids) == 1
    again = put(db_engine, [change("X", 1.0)])
    assert again.job_ids == [] and again.duplicates == 1
    owner = new_owner()
    for price in (1.0, 2.0, 1.0):
        if price != 1.0 or states(db_engine, "X")[-1][1] != "pending":
            put(db_engine, [change("X", price)])
        [job] = queue.claim(db_engine, owner=owner)
        succeed(db_engine, job.id, owner)
    assert states(db_engine, "X") == [(1, "succeeded"), (2, "succeeded"), (3, "succeeded")]


def test_newer_change_supersedes_older_pending(db_engine):
    put(db_engine, [change("X", 1.0)])
    result = put(db_engine, [change("X", 2.0)])
    assert result.superseded == 1
    assert states(db_engine, "X") == [(1, "superseded"), (2, "pending")]
    [job] = queue.claim(db_engine, owner=new_owner())
    assert job.seq == 2 and job.payload["patches"][0]["value"][0]["our_price"][0]["schedule"][0]["value_with_tax"] == 2.0


def test_newer_change_waits_while_older_is_in_flight(db_engine):
    put(db_engine, [change("X", 1.0)])
    owner = new_owner()
    [first] = queue.claim(db_engine, owner=owner)
    put(db_engine, [change("X", 2.0)])
    assert queue.claim(db_engine, owner=new_owner()) == []  # locked: seq 1 still in flight
    succeed(db_engine, first.id, owner)
    [second] = queue.claim(db_engine, owner=owner)
    assert second.seq == 2


def test_sku_inside_an_unfinished_feed_locks_the_listings_channel(db_engine):
    put(db_engine, [change("X", 1.0)], channel=Channel.FEED)
    with session_factory(db_engine).begin() as session:
        feed = FeedSubmission(seller_id=SELLER, region="NA", marketplace_ids=[US], content_hash="h" * 64)
        session.add(feed)
        session.flush()
        session.execute(update(PublishJob).values(feed_submission_id=feed.id, feed_message_id=1,
                                                  state="in_flight", lease_owner=f"feed:{feed.id}"))
    result = put(db_engine, [change("X", 2.0)])
    assert result.superseded == 0  # a change inside a feed is never superseded behind the feed's back
    assert queue.claim(db_engine, owner=new_owner()) == []
    assert queue.reclaim(db_engine) == 0  # feed-bound jobs follow the feed, not a lease
    with session_factory(db_engine).begin() as session:
        session.execute(update(PublishJob).where(PublishJob.seq == 1).values(state="succeeded"))
    [job] = queue.claim(db_engine, owner=new_owner())
    assert job.seq == 2


def test_expired_lease_is_reclaimed(db_engine):
    put(db_engine, [change("X")])
    [job] = queue.claim(db_engine, owner="otherhost:1:abc", lease_seconds=60)
    assert queue.reclaim(db_engine) == 0
    with session_factory(db_engine).begin() as session:
        session.execute(update(PublishJob).values(lease_expires_at=utcnow() - timedelta(seconds=1)))
    assert queue.reclaim(db_engine) == 1
    [again] = queue.claim(db_engine, owner=new_owner())
    assert again.id == job.id and again.retry_count == 1


def test_lease_of_a_dead_local_process_is_reclaimed_at_once(db_engine):
    child = subprocess.run([sys.executable, "-c", "from amz_pipeline.publishing.leases import new_owner; "
                            "print(new_owner())"], capture_output=True, text=True, check=True)
    dead_owner = child.stdout.strip()
    put(db_engine, [change("X")])
    queue.claim(db_engine, owner=dead_owner, lease_seconds=3600)
    assert queue.reclaim(db_engine) == 1
    assert len(queue.claim(db_engine, owner=new_owner())) == 1


def test_lost_lease_cannot_write(db_engine):
    put(db_engine, [change("X")])
    [job] = queue.claim(db_engine, owner="a:1:x")
    with session_factory(db_engine).begin() as session:
        assert queue.finish(session, job.id, owner="b:2:y", state=JobState.SUCCEEDED) is None


def test_retry_backoff_then_dead_letter(db_engine):
    put(db_engine, [change("X")])
    policy = RetryPolicy(max_retries=2, base_seconds=0.0, cap_seconds=0.0)
    owner = new_owner()
    outcomes = []
    for _ in range(3):
        [job] = queue.claim(db_engine, owner=owner)
        with session_factory(db_engine).begin() as session:
            outcomes.append(queue.retry_later(session, job.id, owner=owner, error="HTTP 503", policy=policy)[0])
    assert outcomes == ["retry", "retry", "dead_lettered"]
    with session_factory(db_engine)() as session:
        letter = session.scalars(select(DeadLetter)).one()
        assert (letter.cause, letter.sku, letter.attempts) == ("retries_exhausted", "X", 3)
        assert letter.payload["body"]["productType"] == "PRODUCT"
        assert session.scalar(select(Listing.status)) == "error"


def test_backoff_delays_pending_job(db_engine):
    put(db_engine, [change("X")])
    owner = new_owner()
    [job] = queue.claim(db_engine, owner=owner)
    with session_factory(db_engine).begin() as session:
        queue.retry_later(session, job.id, owner=owner, error="503", policy=RetryPolicy(base_seconds=30))
    assert queue.claim(db_engine, owner=owner) == []
    with session_factory(db_engine)() as session:
        due = queue.next_due(session, channel=Channel.LISTINGS)
    assert due is not None


def test_retry_with_a_newer_change_waiting_is_superseded(db_engine):
    put(db_engine, [change("X", 1.0)])
    owner = new_owner()
    [job] = queue.claim(db_engine, owner=owner)
    put(db_engine, [change("X", 2.0)])
    with session_factory(db_engine).begin() as session:
        outcome, _ = queue.retry_later(session, job.id, owner=owner, error="503", policy=RetryPolicy())
    assert outcome == "superseded"
    assert states(db_engine, "X") == [(1, "superseded"), (2, "pending")]


_WORKER = r"""
import json, sys, time
from amz_pipeline.publishing import queue
from amz_pipeline.publishing.leases import new_owner
from amz_pipeline.storage.db import make_engine, session_factory
from amz_pipeline.storage.models import JobState, PublishJob
from sqlalchemy import update
url, out, start_at = sys.argv[1], sys.argv[2], float(sys.argv[3])
engine = make_engine(url)
owner = new_owner()
while time.time() < start_at:
    time.sleep(0.005)
seen = []
while True:
    jobs = queue.claim(engine, owner=owner, limit=7)
    if not jobs:
        break
    for job in jobs:
        seen.append(job.id)
        with engine.begin() as conn:  # a second holder would trip this check
            n = conn.execute(update(PublishJob).where(PublishJob.id == job.id, PublishJob.lease_owner == owner,
                             PublishJob.state == "in_flight").values(last_error=owner)).rowcount
        assert n == 1
    time.sleep(0.002)
    with session_factory(engine).begin() as session:
        for job in jobs:
            assert queue.finish(session, job.id, owner=owner, state=JobState.SUCCEEDED) is not None
json.dump(seen, open(out, "w"))
"""


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_two_processes_never_process_the_same_job(db_url, db_engine, tmp_path):
    put(db_engine, [change(f"SKU-{i}") for i in range(300)])
    import time

    start_at = time.time() + 1.5
    outs = [tmp_path / f"w{i}.json" for i in range(2)]
    procs = [subprocess.Popen([sys.executable, "-c", _WORKER, db_url, str(out), str(start_at)]) for out in outs]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    import json

    seen = [json.loads(out.read_text()) for out in outs]
    assert seen[0] and seen[1], "both processes must have taken work"
    assert not set(seen[0]) & set(seen[1])
    assert len(seen[0]) + len(seen[1]) == 300
    with session_factory(db_engine)() as session:
        assert queue.counts(session) == {"succeeded": 300}
