"""The feed-status sensor reads only the database and launches one polling run at a time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import dagster as dg

from amz_pipeline.storage.models import FeedSubmission
from assets.sensors import feed_poll_job, feed_status_sensor
from resources.database import DatabaseResource


def _tick(instance, database):
    return feed_status_sensor(dg.build_sensor_context(instance=instance, resources={"database": database}))


def _submission(database, status: str, next_poll_at=None) -> None:
    tag = f"{status}-{next_poll_at}"
    with database.session() as session:
        session.add(FeedSubmission(seller_id="A1DEMOSELLER01", region="NA", marketplace_ids=["ATVPDKIKX0DER"],
                                   content_hash=f"h-{tag}", status=status, feed_id=f"f-{tag}",
                                   next_poll_at=next_poll_at))


def test_nothing_due_skips(instance, data_dir):
    database = DatabaseResource()
    assert isinstance(_tick(instance, database), dg.SkipReason)
    _submission(database, "verified")
    _submission(database, "submitted", datetime.now(UTC) + timedelta(minutes=5))
    assert isinstance(_tick(instance, database), dg.SkipReason)


def test_due_feed_launches_one_polling_run(instance, data_dir):
    database = DatabaseResource()
    _submission(database, "submitted", datetime.now(UTC) - timedelta(seconds=1))
    request = _tick(instance, database)
    assert isinstance(request, dg.RunRequest)
    instance.create_run_for_job(feed_poll_job, status=dg.DagsterRunStatus.STARTED)
    skip = _tick(instance, database)
    assert isinstance(skip, dg.SkipReason) and "still going" in skip.skip_message
