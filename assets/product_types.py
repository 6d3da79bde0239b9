"""product_type_definitions: product-type schemas fetched through the Product Type Definitions API, cached by checksum.

The client keeps each schema under `<data>/state/ptd/<PRODUCT_TYPE>/<checksum>.json`; a schema whose checksum has not
changed is not downloaded again. The asset records, per product type, the version and checksum file in use, so the UI
shows when Amazon published a new version.
"""

import dagster as dg
import polars as pl
from pydantic import Field

import schemas
from resources.secrets import SecretStoreResource
from resources.settings import SettingsResource
from resources.spapi import SPAPIClientResource

from . import meta
from .logs import core_logs
from .partitions import parse as parse_partition
from .partitions import seller_marketplace


class ProductTypesConfig(dg.Config):
    product_types: list[str] = Field(default_factory=list,
                                     description="product types to fetch; empty → every type in schemas/product_types")
    requirements: str = Field(default="LISTING", description="LISTING | LISTING_OFFER_ONLY | LISTING_PRODUCT_ONLY")


def _cached(folder) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*.json")} if folder.exists() else set()


@dg.asset(
    partitions_def=seller_marketplace,
    group_name="product_types",
    io_manager_key="parquet_io",
    kinds={"polars", "parquet"},
    pool="spapi-product-types",
    description="Product-type JSON Schemas from the Product Type Definitions API, downloaded once per checksum.",
)
def product_type_definitions(context: dg.AssetExecutionContext, config: ProductTypesConfig,
                             settings: SettingsResource, spapi: SPAPIClientResource,
                             secrets: SecretStoreResource) -> dg.Output[pl.DataFrame]:
    pair = parse_partition(context.partition_key)
    wanted = config.product_types or sorted(schemas.load_json("product_types/index.json"))
    cache_dir = settings.folder("state") / "ptd"
    before = _cached(cache_dir)
    records = []
    with core_logs(context), spapi.client(pair.seller_id, pair.region, secrets, cache_dir=cache_dir) as client:
        for product_type in wanted:
            schema = client.get_product_type_schema(product_type, pair.marketplace_id,
                                                    requirements=config.requirements)
            records.append({"product_type": product_type, "marketplace_id": pair.marketplace_id,
                            "requirements": config.requirements, "properties": len(schema.get("properties", {})),
                            "required": len(schema.get("required", []))})
        metrics = client.metrics.snapshot()
    after = _cached(cache_dir)
    files_by_type = {}
    for rel in sorted(after):
        files_by_type.setdefault(rel.split("/")[0], []).append(rel)
    for record in records:
        record["cache_file"] = (files_by_type.get(record["product_type"]) or [""])[-1]
    downloaded = sorted(after - before)
    return dg.Output(pl.DataFrame(records), metadata={
        **meta.numeric({"product_types": len(records), "downloaded": len(downloaded),
                        "cached": len(records) - len(downloaded), "requests": metrics["requests"],
                        "throttles": metrics["throttles"], "retries": metrics["retries"],
                        "p95_latency_ms": metrics["latency_ms"]["p95"]}),
        "downloaded_files": dg.MetadataValue.json(downloaded),
        "cache_dir": dg.MetadataValue.path(str(cache_dir)),
    })
