"""Catalog assets: a dropped file → raw_catalog → validated_catalog + catalog_rejects → listing_changes.

The file a run works on is run config of `raw_catalog` (the drop-folder sensor and the schedules fill it in); the
downstream assets find it again in raw_catalog's materialization metadata for the same partition, which is also how a
later run that publishes a reviewed draft knows which file and which hashes were reviewed.
"""

from pathlib import Path

import dagster as dg
import polars as pl
from pydantic import Field

from resources import core
from resources.database import DatabaseResource
from resources.settings import SettingsResource

from . import files, meta
from .logs import core_logs
from .partitions import SellerMarketplace, seller_marketplace
from .partitions import parse as parse_partition
from .pinning import changes_hash

GROUP = "catalog"
MODES = ("auto", "listings", "feed")


class CatalogFileConfig(dg.Config):
    path: str = Field(description="catalog file inside data/inbox/<seller>/<country>/ or a configured catalog source")
    sha256: str = Field(default="", description="content hash seen by the sensor; the run refuses a changed file")
    full_catalog: bool = Field(default=False, description="the file is the seller's whole catalog for the marketplace")
    mode: str = Field(default="auto", description="publishing channel: auto | listings | feed")
    draft: bool = Field(default=False, description="validate only; publish later by materializing publish_queue")
    multi_marketplace: bool = Field(
        default=False, description="rows name their marketplace (a file dropped in inbox/<seller>/): this run takes "
                                   "the rows naming this partition's marketplace")
    take_unplaced: bool = Field(
        default=False, description="multi-marketplace file: this run also takes (and rejects) the rows naming no "
                                   "known marketplace")
    file_pairs: list[str] = Field(default_factory=list,
                                  description="multi-marketplace file: every partition key the file feeds")


def allowed_roots(settings: SettingsResource) -> list:
    return [settings.folder("inbox"), *files.source_roots(settings.catalog_sources)]


def source_of(context: dg.AssetExecutionContext) -> dict:
    """raw_catalog's metadata for this partition: the file, its hash and the run's options."""
    found = meta.latest_metadata(context.instance, dg.AssetKey("raw_catalog"), context.partition_key)
    if not found:
        raise dg.Failure(f"raw_catalog has never been materialized for {context.partition_key}; drop a file first")
    return found


def ingest_partition(pair: SellerMarketplace, source: dict, rejects_root: Path | None):
    """The partition's `IngestResult`: the whole file for a marketplace folder, this marketplace's share of a
    multi-marketplace file (see `resources.core.ingest_marketplace_share`)."""
    path = Path(source["source_path"])
    full = bool(source.get("full_catalog"))
    if source.get("multi_marketplace"):
        return core.ingest_marketplace_share(path, seller_id=pair.seller_id, marketplace_id=pair.marketplace_id,
                                             take_unplaced=bool(source.get("take_unplaced")), full_catalog=full,
                                             rejects_root=rejects_root)
    return core.ingest(path, seller_id=pair.seller_id, marketplace=pair.country, full_catalog=full,
                       rejects_root=rejects_root)


@dg.asset(
    partitions_def=seller_marketplace,
    group_name=GROUP,
    io_manager_key="parquet_io",
    kinds={"polars", "parquet"},
    description="The dropped catalog file read as text columns under canonical names (plus `row`); for a "
                "multi-marketplace file, the rows of this partition's marketplace.",
)
def raw_catalog(context: dg.AssetExecutionContext, config: CatalogFileConfig,
                settings: SettingsResource) -> dg.Output[pl.DataFrame]:
    pair = parse_partition(context.partition_key)
    if config.mode not in MODES:
        raise dg.Failure(f"mode must be one of {', '.join(MODES)}, got {config.mode!r}")
    try:
        path = files.check_catalog_path(Path(config.path), allowed_roots(settings))
    except (files.UnsafePathError, FileNotFoundError) as exc:
        raise dg.Failure(str(exc)) from None
    sha = files.sha256_file(path)
    if config.sha256 and sha != config.sha256:
        raise dg.Failure(f"{path} changed since it was queued (sha256 {config.sha256[:12]}… → {sha[:12]}…)")
    try:
        frame = core.read_catalog(path)
        file_rows = frame.height
        if config.multi_marketplace:
            named = core.row_marketplaces(path)
            mine = pl.col("marketplace_id") == pair.marketplace_id
            keep = named.filter((mine | pl.col("marketplace_id").is_null()) if config.take_unplaced else mine)
            frame = frame.join(keep.select("row"), on="row", how="semi")
    except core.catalog_read_error() as exc:
        raise dg.Failure(f"cannot read {path.name}: {exc}") from None
    return dg.Output(
        frame,
        metadata={
            "source_path": dg.MetadataValue.path(str(path)),
            "sha256": sha,
            "seller_id": pair.seller_id,
            "country": pair.country,
            "full_catalog": config.full_catalog,
            "mode": config.mode,
            "draft": config.draft,
            "multi_marketplace": config.multi_marketplace,
            "take_unplaced": config.take_unplaced,
            "file_pairs": ",".join(config.file_pairs or [context.partition_key]),
            **meta.numeric({"rows": frame.height, "file_rows": file_rows, "columns": len(frame.columns)}),
        },
    )


@dg.multi_asset(
    partitions_def=seller_marketplace,
    group_name=GROUP,
    deps=[raw_catalog],
    outs={
        "validated_catalog": dg.AssetOut(io_manager_key="parquet_io", kinds={"polars", "parquet"},
                                         description="Rows that passed every gate, with their payload fingerprints "
                                                     "(the attribute JSON is built for the rows sent)."),
        "catalog_rejects": dg.AssetOut(io_manager_key="parquet_io", kinds={"polars", "parquet"},
                                       description="Quarantined rows: file, row, sku, field, rule, severity, message."),
    },
)
def validated_catalog(context: dg.AssetExecutionContext, settings: SettingsResource):
    pair = parse_partition(context.partition_key)
    source = source_of(context)
    path = Path(source["source_path"])
    with core_logs(context):
        try:
            result = ingest_partition(pair, source, settings.folder("rejected"))
        except core.catalog_read_error() as exc:
            raise dg.Failure(f"cannot read {path.name}: {exc}") from None
    valid, rejects = result.valid, result.rejects
    rows, rejected, by_rule = result.rows, result.rejected_count, result.by_rule()
    numbers = {"rows": rows, "valid": valid.height, "rejected": rejected,
               "reject_rate": (rejected / rows) if rows else 0.0, "reject_findings": rejects.height,
               "warnings": result.warnings.height}
    numbers.update({f"rejects/{rule}": n for rule, n in by_rule.items()})
    rejects_files = {f"rejects_file_{i}": dg.MetadataValue.path(str(p)) for i, p in enumerate(result.rejects_files)}
    yield dg.Output(valid, output_name="validated_catalog", metadata={
        **meta.numeric(numbers),
        "sha256": source.get("sha256", ""),
        "rejects_by_rule": dg.MetadataValue.json(by_rule),
        "top_rejects": meta.top_errors_table(rejects.to_dicts(), ("rule", "message")),
        "file_warnings": dg.MetadataValue.json(list(result.file_warnings)),
        **rejects_files,
    })
    yield dg.Output(rejects, output_name="catalog_rejects", metadata=meta.numeric({"findings": rejects.height,
                                                                                  "rejected_rows": rejected}))


@dg.asset(
    partitions_def=seller_marketplace,
    group_name=GROUP,
    io_manager_key="parquet_io",
    kinds={"polars", "parquet"},
    description="Delta against what Amazon last accepted: new, changed, offer_only (price/quantity) and delete rows; "
                "unchanged rows are dropped.",
)
def listing_changes(context: dg.AssetExecutionContext, validated_catalog: pl.DataFrame,
                    database: DatabaseResource) -> dg.Output[pl.DataFrame]:
    pair = parse_partition(context.partition_key)
    source = source_of(context)
    with core_logs(context), database.session() as session:
        delta = core.delta(session, validated_catalog, seller_id=pair.seller_id,
                           full_catalog=bool(source.get("full_catalog")))
    actions = _count(delta, "action")
    changes = delta.filter(pl.col("action") != "unchanged")
    return dg.Output(changes, metadata={
        **meta.numeric({"changes": changes.height, **{f"actions/{k}": v for k, v in sorted(actions.items())}}),
        "sha256": source.get("sha256", ""),
        "source_path": dg.MetadataValue.path(str(source.get("source_path", ""))),
        "changes_hash": changes_hash(changes),
        "draft": bool(source.get("draft")),
    })


def _count(frame: pl.DataFrame, column: str) -> dict[str, int]:
    if not frame.height or column not in frame.columns:
        return {}
    return {str(k): int(n) for k, n in frame.group_by(column).len().iter_rows()}
