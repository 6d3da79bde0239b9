"""Jobs. Publishing jobs run with Dagster run retries off (`dagster/max_retries: 0`): the publishing queue owns job
retries and the client owns call retries, so retries never multiply (DEVELOPERS.md, "Retry ownership")."""

from __future__ import annotations

import dagster as dg

from .partitions import parse, seller_marketplace

NO_RUN_RETRIES = {"dagster/max_retries": "0"}

CATALOG_DRAFT = dg.AssetSelection.assets("raw_catalog", "validated_catalog", "catalog_rejects", "listing_changes")

catalog_draft_job = dg.define_asset_job(
    "catalog_draft_job",
    selection=CATALOG_DRAFT,
    executor_def=dg.in_process_executor,
    description="Validate a dropped file without publishing (a draft); publish later by materializing publish_queue.",
)

# A run launched for a partition from the UI carries the seller tag as well (the per-seller run limit in dagster.yaml).
SELLER_TAGS_FROM_PARTITION = dg.PartitionedConfig(
    partitions_def=seller_marketplace, run_config_for_partition_key_fn=lambda key: {},
    tags_for_partition_key_fn=lambda key: parse(key).tags())

draft_publish_job = dg.define_asset_job(
    "draft_publish_job",
    selection=dg.AssetSelection.groups("publishing"),
    executor_def=dg.in_process_executor,
    tags=NO_RUN_RETRIES,
    config=SELLER_TAGS_FROM_PARTITION,
    description="Publish a reviewed draft: pick its partition; publish_queue pins the reviewed file and payload "
                "hashes, re-runs the gates and refuses a file that changed since review.",
)

catalog_publish_job = dg.define_asset_job(
    "catalog_publish_job",
    selection=dg.AssetSelection.groups("catalog", "publishing"),
    executor_def=dg.in_process_executor,
    tags=NO_RUN_RETRIES,
    description="The main job: a dropped file through validation, delta and publishing to processing reports.",
)
