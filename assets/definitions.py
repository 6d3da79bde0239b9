"""The one `Definitions` of the code location (workspace.yaml: python_module assets.definitions)."""

from __future__ import annotations

import dagster as dg

from . import catalog, checks, jobs, product_types, sensors
from .resources_config import default_resources

defs = dg.Definitions(
    assets=[catalog.raw_catalog, catalog.validated_catalog, catalog.listing_changes,
            product_types.product_type_definitions],
    asset_checks=[checks.schema_validity, checks.reject_rate],
    jobs=[jobs.catalog_publish_job, jobs.catalog_draft_job],
    sensors=[sensors.inbox_sensor, sensors.alert_on_run_failure],
    resources=default_resources(),
)
