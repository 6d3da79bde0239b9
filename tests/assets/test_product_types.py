"""product_type_definitions against the live sandbox: schemas downloaded once, then served from the checksum cache."""

from __future__ import annotations

import dagster as dg

from assets.partitions import seller_marketplace
from assets.product_types import product_type_definitions
from resources.parquet_io import ParquetIOManager
from resources.secrets import SecretStoreResource
from resources.settings import SettingsResource
from resources.spapi import SPAPIClientResource


def test_schemas_are_fetched_once_per_checksum(sandbox_server, demo_seller, data_dir, instance):
    key = f"{demo_seller['seller_id']}.US"
    instance.add_dynamic_partitions(seller_marketplace.name, [key])
    resources = {
        "settings": SettingsResource(data_dir=str(data_dir)),
        "spapi": SPAPIClientResource(sandbox_url=sandbox_server.base_url),
        "secrets": SecretStoreResource(),
        "parquet_io": ParquetIOManager(base_dir=str(data_dir / "dagster")),
    }
    config = {"ops": {"product_type_definitions": {"config": {"product_types": ["LUGGAGE", "SHIRT"]}}}}

    def run() -> dict:
        result = dg.materialize([product_type_definitions], partition_key=key, instance=instance,
                                resources=resources, run_config=config)
        assert result.success
        return result.asset_materializations_for_node("product_type_definitions")[0].metadata

    first = run()
    assert first["downloaded"].value == 2 and first["cached"].value == 0
    assert first["requests"].value >= 2
    cached = sorted((data_dir / "state" / "ptd").rglob("*.json"))
    assert [p.parent.name for p in cached] == ["LUGGAGE", "SHIRT"]
    second = run()
    assert second["downloaded"].value == 0 and second["cached"].value == 2
    assert sorted((data_dir / "state" / "ptd").rglob("*.json")) == cached
