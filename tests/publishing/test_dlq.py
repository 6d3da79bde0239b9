"""The dead-letter queue: causes, list/show/redrive through the CLI, automatic re-drive of retries_exhausted only."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from amz_pipeline.publishing import dlq, queue
from amz_pipeline.publishing import engine as publishing
from amz_pipeline.publishing.cli import dlq_command, status_command
from amz_pipeline.publishing.leases import new_owner
from amz_pipeline.publishing.queue import RetryPolicy
from amz_pipeline.storage.db import session_factory
from amz_pipeline.storage.models import Channel, PublishJob
from tests.publishing.helpers import fast_config, full_change

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def test_invalid_and_exhausted_letters_and_redrive(db_url, db_engine, pool, demo_seller, monkeypatch):
    seller = demo_seller["seller_id"]
    publishing.publish_changes(db_engine, [full_change(seller, "BAD", drop=("brand",))], config=fast_config())
    publishing.run_queue(db_engine, pool, config=fast_config())
    # a change whose retries ran out (forced: no retries allowed)
    with session_factory(db_engine).begin() as session:
        queue.enqueue(session, [full_change(seller, "FLAKY")], channel=Channel.LISTINGS)
    owner = new_owner()
    [job] = queue.claim(db_engine, owner=owner)
    with session_factory(db_engine).begin() as session:
        queue.retry_later(session, job.id, owner=owner, error="HTTP 503", policy=RetryPolicy(max_retries=0))

    monkeypatch.setenv("AMZ_DATABASE_URL", db_url)
    runner = CliRunner()
    listed = runner.invoke(dlq_command, ["list", "--json"])
    assert listed.exit_code == 0, listed.output
    letters = {row["sku"]: row for row in json.loads(listed.output)}
    assert letters["BAD"]["cause"] == "invalid" and "brand" in letters["BAD"]["reason"]
    assert letters["FLAKY"]["cause"] == "retries_exhausted"
    shown = runner.invoke(dlq_command, ["show", str(letters["BAD"]["id"])])
    assert json.loads(shown.output)["payload"]["body"]["productType"] == "LUGGAGE"
    assert runner.invoke(dlq_command, ["show", "9999"]).exit_code == 1

    # only retries_exhausted is re-driven automatically
    auto = dlq.auto_redrive(db_engine)
    assert (auto.queued, auto.superseded) == (1, 0)
    assert [d.sku for d in dlq.list_letters(db_engine)] == ["BAD"]
    publishing.run_queue(db_engine, pool, config=fast_config())
    with session_factory(db_engine)() as session:
        states = dict(session.execute(select(PublishJob.sku, PublishJob.state).where(PublishJob.seq == 2)).all())
    assert states == {"FLAKY": "succeeded"}

    # a person re-drives the invalid one: it goes out again (and is INVALID again: the data was not fixed)
    manual = runner.invoke(dlq_command, ["redrive", "--cause", "invalid"])
    assert manual.exit_code == 0 and "queued 1" in manual.output
    publishing.run_queue(db_engine, pool, config=fast_config())
    assert [d.sku for d in dlq.list_letters(db_engine)] == ["BAD"]
    assert len(dlq.list_letters(db_engine, include_redriven=True)) == 3

    status = runner.invoke(status_command, ["--seller", seller, "--json"])
    rows = {row["sku"]: row for row in json.loads(status.output)}
    assert rows["FLAKY"]["status"] == "accepted" and rows["BAD"]["status"] == "invalid"
    assert set(rows["BAD"]["issues"][0]) == {"code", "severity", "message", "attributeNames"}
    assert runner.invoke(status_command, ["--seller", seller, "--sku", "NOPE"]).exit_code == 1
