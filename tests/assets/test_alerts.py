"""The run-failure sensor writes an alert row for a failed run, with the failing step's message (secrets redacted)."""

from __future__ import annotations

import dagster as dg
import sqlalchemy as sa

from amz_pipeline import telemetry
from amz_pipeline.storage.models import Alert
from assets.sensors import alert_on_run_failure
from resources.database import DatabaseResource

SECRET = "Atzr|alert-test-refresh-token-000"


@dg.op
def explode() -> None:
    raise dg.Failure(f"feed FATAL for A1SELLER.US while using token {SECRET}")


@dg.job(tags={"amz/seller": "A1SELLER"})
def failing_job() -> None:
    explode()


def test_failed_run_becomes_an_alert(instance, data_dir):
    telemetry.register_secret(SECRET)
    result = failing_job.execute_in_process(instance=instance, raise_on_error=False)
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type == dg.DagsterEventType.RUN_FAILURE)
    database = DatabaseResource()
    context = dg.build_run_status_sensor_context(
        sensor_name="alert_on_run_failure", dagster_event=failure, dagster_instance=instance,
        dagster_run=result.dagster_run, resources={"database": database},
    ).for_run_failure()
    alert_on_run_failure(context)

    with database.session() as session:
        alerts = session.scalars(sa.select(Alert)).all()
        assert len(alerts) == 1
        alert = alerts[0]
        assert alert.kind == "run_failure" and alert.source == "failing_job"
        assert alert.message.startswith("feed FATAL for A1SELLER.US")
        assert alert.details["run_id"] == result.run_id and alert.details["seller_id"] == "A1SELLER"
        assert alert.details["steps"][0]["step"] == "explode"
        assert SECRET not in alert.message and SECRET not in str(alert.details)
