"""Schedules: catalog syncs from configured sources (or SkipReason), weekly schema refresh, hourly DLQ re-drive."""

from __future__ import annotations

from datetime import UTC, datetime

import dagster as dg

from assets import schedules
from assets.partitions import seller_marketplace
from resources.database import DatabaseResource
from resources.settings import SettingsResource

KEY = "A1DEMOSELLER01.US"
WHEN = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)


def _context(instance, settings=None):
    resources = {"settings": settings} if settings else None
    return dg.build_schedule_context(instance=instance, scheduled_execution_time=WHEN, resources=resources)


def test_no_source_configured_skips(instance, data_dir):
    result = schedules.nightly_full_sync(_context(instance, SettingsResource(data_dir=str(data_dir))))
    assert isinstance(result, dg.SkipReason) and "no catalog source" in result.skip_message


def test_nightly_sync_reads_the_newest_matching_file_as_full_catalog(instance, data_dir, tmp_path):
    source = tmp_path / "exports"
    source.mkdir()
    (source / "old.csv").write_text("sku\nA\n")
    newest = source / "new.csv"
    newest.write_text("sku\nB\n")
    settings = SettingsResource(data_dir=str(data_dir), catalog_sources={KEY: str(source / "*.csv")})
    [request] = schedules.nightly_full_sync(_context(instance, settings))
    config = request.run_config["ops"]["raw_catalog"]["config"]
    assert config["path"] == str(newest) and config["full_catalog"] is True
    assert request.partition_key == KEY and request.tags["amz/seller"] == "A1DEMOSELLER01"
    assert KEY in instance.get_dynamic_partitions(seller_marketplace.name)
    [quick] = schedules.price_quantity_sync(_context(instance, settings))
    assert quick.run_config["ops"]["raw_catalog"]["config"]["full_catalog"] is False


def test_missing_files_skip_with_the_reason(instance, data_dir, tmp_path):
    settings = SettingsResource(data_dir=str(data_dir), catalog_sources={KEY: str(tmp_path / "none" / "*.csv")})
    result = schedules.price_quantity_sync(_context(instance, settings))
    assert isinstance(result, dg.SkipReason) and "nothing matches" in result.skip_message


def test_weekly_refresh_requests_one_run_per_partition(instance):
    assert isinstance(schedules.weekly_product_types(_context(instance)), dg.SkipReason)
    instance.add_dynamic_partitions(seller_marketplace.name, [KEY, "A1DEMOSELLER01.DE"])
    requests = schedules.weekly_product_types(_context(instance))
    assert sorted(r.partition_key for r in requests) == ["A1DEMOSELLER01.DE", KEY]


def test_hourly_redrive_job_runs_on_an_empty_queue(instance, data_dir):
    result = schedules.dlq_redrive_job.execute_in_process(instance=instance,
                                                         resources={"database": DatabaseResource()})
    assert result.success
    assert result.output_for_node("redrive_retries_exhausted")["queued"] == 0
