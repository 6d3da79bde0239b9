"""The one `Definitions` of the code location (workspace.yaml: python_module assets.definitions)."""

from __future__ import annotations

import dagster as dg

from . import catalog, checks, interactive, jobs, product_types, publishing, schedules, sensors
from .resources_config import default_resources

defs = dg.Definitions(
    assets=[catalog.raw_catalog, catalog.validated_catalog, catalog.listing_changes,
            publishing.publish_queue, publishing.listings_feed_documents, publishing.sku_publish,
            publishing.feed_submissions, publishing.processing_reports, publishing.listing_status,
            product_types.product_type_definitions],
    asset_checks=[checks.schema_validity, checks.reject_rate, checks.feed_report_error_rate,
                  checks.accepted_not_live, checks.dead_letter_growth],
    jobs=[jobs.catalog_publish_job, jobs.catalog_draft_job, jobs.draft_publish_job, schedules.dlq_redrive_job,
          schedules.product_types_job, sensors.feed_poll_job, interactive.sku_updates_job],
    schedules=[schedules.nightly_full_sync, schedules.price_quantity_sync, schedules.dlq_redrive_hourly,
               schedules.weekly_product_types],
    sensors=[sensors.inbox_sensor, sensors.alert_on_run_failure, sensors.feed_status_sensor],
    resources=default_resources(),
)
