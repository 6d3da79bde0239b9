"""Thin adapter from the Dagster layer to the domain core.

Assets call these functions, never the core's modules directly, so that (a) one file records exactly which core
interfaces the orchestration depends on, and (b) a core piece that has not landed yet fails with one clear message
(`CoreUnavailable`) instead of an ImportError deep inside a run. Every function here is a pass-through; the logic lives
in `amz_pipeline`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import importlib
import os
import socket
from pathlib import Path
from typing import Any

import polars as pl


class CoreUnavailable(RuntimeError):
    """The core module a step needs is not installed in this checkout yet."""


def _attr(module: str, name: str, feature: str) -> Any:
    try:
        mod = importlib.import_module(module)
        return getattr(mod, name)
    except (ImportError, AttributeError) as exc:
        raise CoreUnavailable(f"{feature} is not available: {module}.{name} is missing ({exc})") from None


def available(feature: str) -> bool:
    """Whether the core pieces behind `feature` (a key of FEATURES) can be imported."""
    try:
        for module, name in FEATURES[feature]:
            _attr(module, name, feature)
    except CoreUnavailable:
        return False
    return True


FEATURES: dict[str, list[tuple[str, str]]] = {
    "read": [("amz_pipeline.catalog.readers", "read_catalog")],
    "ingest": [("amz_pipeline.catalog.ingest", "ingest")],
    "delta": [("amz_pipeline.catalog.delta", "compute_delta")],
    "client": [("amz_pipeline.spapi.client", "SyncSPAPIClient")],
    "publish": [("amz_pipeline.publishing.engine", "publish_changes"),
                ("amz_pipeline.publishing.changes", "changes_from_delta")],
}


# --- catalog ---------------------------------------------------------------------------------------------------------

def read_catalog(path: Path) -> pl.DataFrame:
    """The file as text columns under canonical names plus `row` (raises CatalogReadError with the reason)."""
    return _attr("amz_pipeline.catalog.readers", "read_catalog", "reading catalogs")(path)


def catalog_read_error() -> type[Exception]:
    return _attr("amz_pipeline.catalog.errors", "CatalogReadError", "reading catalogs")


def ingest(path: Path, *, seller_id: str, marketplace: str, full_catalog: bool, rejects_root: Path) -> Any:
    """`IngestResult` (rows, valid, rejects, warnings, by_rule(), rejected_count, rejects_files): read → row rules →
    marketplace rules → content policy → duplicates → product type → payload fingerprints (the attribute JSON is
    built for the rows that are sent, by `changes_from_delta`)."""
    fn = _attr("amz_pipeline.catalog.ingest", "ingest", "catalog ingestion and validation")
    return fn(path, seller_id=seller_id, marketplace=marketplace, full_catalog=full_catalog, rejects_root=rejects_root)


def row_marketplaces(path: Path) -> pl.DataFrame:
    """`row`, `marketplace_id` for every row of the file: the marketplace the row names (country code or id, as
    ingestion resolves it), null where the cell is empty or names no Amazon marketplace. Reads only that column."""
    open_catalog = _attr("amz_pipeline.catalog.readers", "open_catalog", "reading catalogs")
    lookup = _attr("amz_pipeline.catalog.marketplaces", "marketplace_frame", "reading catalogs")()
    with open_catalog(path) as source:
        frame = source.lazy()
        named = (pl.col("marketplace").str.strip_chars().str.to_uppercase()
                 if "marketplace" in frame.collect_schema().names() else pl.lit(None, pl.String))
        keys = frame.select("row", named.alias("_key")).collect()
    return (keys.join(lookup.select("_key", "marketplace_id"), on="_key", how="left", maintain_order="left")
            .select("row", "marketplace_id"))


def ingest_marketplace_share(path: Path, *, seller_id: str, marketplace_id: str, take_unplaced: bool,
                             full_catalog: bool, rejects_root: Path | None) -> Any:
    """Ingest one marketplace's share of a multi-marketplace file: the `IngestResult` of the rows naming
    `marketplace_id` (plus, with `take_unplaced`, the rows naming no known marketplace, which ingestion rejects
    with that reason), row numbers as in the file.

    Every row goes through the file-wide gates (row rules, content policy, whole-file duplicates) so the shares add
    up to the whole file; the product-type gate — the expensive, per-marketplace part — runs for this share only,
    through ingestion's `validate_attributes`/`fingerprint` hooks. Rows of other marketplaces are dropped from
    the result (their own run validates them fully)."""
    validate = _attr("amz_pipeline.validation.product_types", "validate_attributes", "product-type validation")
    fingerprint = _attr("amz_pipeline.catalog.fingerprints", "payload_fingerprints", "payload fingerprints")
    empty_issues = _attr("amz_pipeline.validation.issues", "empty_issues", "catalog ingestion and validation")

    def validate_mine(frame: pl.DataFrame, market: str) -> pl.DataFrame:
        return validate(frame, market) if market == marketplace_id else empty_issues()

    def fingerprint_mine(frame: pl.DataFrame, market: str) -> pl.DataFrame:
        return fingerprint(frame, market) if market == marketplace_id else frame

    fn = _attr("amz_pipeline.catalog.ingest", "ingest", "catalog ingestion and validation")
    whole = fn(path, seller_id=seller_id, marketplace=None, full_catalog=full_catalog, rejects_root=None,
               validate_attributes=validate_mine, fingerprint=fingerprint_mine)
    named = row_marketplaces(path)
    mine = pl.col("marketplace_id") == marketplace_id
    rows = named.filter((mine | pl.col("marketplace_id").is_null()) if take_unplaced else mine).select("row")
    valid = whole.valid.filter(pl.col("marketplace_id") == marketplace_id)
    rejects = whole.rejects.join(rows, on="row", how="semi")
    share = dataclasses.replace(
        whole, marketplace_id=marketplace_id, valid=valid, rejects=rejects,
        warnings=whole.warnings.join(rows, on="row", how="semi"),
        rows=valid.height + (rejects["row"].n_unique() if rejects.height else 0))
    if rejects_root is not None:
        share.rejects_files = write_rejects(rejects, rejects_root, seller_id, marketplace_id, Path(path).name)
    return share


def write_rejects(rejects: pl.DataFrame, root: Path, seller_id: str, marketplace_id: str, file_name: str
                  ) -> list[Path]:
    """`<root>/<seller>/<country>/<file>.rejects.csv` with these rejects (a stale one removed when there are none)."""
    quarantine = importlib.import_module("amz_pipeline.validation.quarantine")
    country = _attr("amz_pipeline.spapi.endpoints", "marketplace", "marketplaces")(marketplace_id).country_code
    path = quarantine.rejects_path(root, seller_id, country, file_name)
    if rejects.height:
        return [quarantine.write_rejects(rejects, path)]
    path.unlink(missing_ok=True)
    return []


def delta(session: Any, valid: pl.DataFrame, *, seller_id: str, full_catalog: bool) -> pl.DataFrame:
    """`DELTA_COLUMNS` (row, marketplace_id, sku, action, payload_hash, offer_only_hash) for every valid row; actions
    unchanged | new | changed | offer_only | delete. Deletes of missing SKUs are never requested from here."""
    fn = _attr("amz_pipeline.catalog.delta", "compute_delta", "the delta step")
    return fn(valid, session, seller_id, full_catalog=full_catalog)


# --- SP-API client ---------------------------------------------------------------------------------------------------

def lwa_credentials(credentials: dict[str, Any]) -> Any:
    cls = _attr("amz_pipeline.spapi.auth", "LWACredentials", "the SP-API client")
    return cls(client_id=credentials["client_id"], client_secret=credentials["client_secret"],
               refresh_token=credentials["refresh_token"])


def sigv4_signer(endpoint: Any) -> Any:
    signing = importlib.import_module("amz_pipeline.spapi.signing")
    return signing.SigV4Signer(signing.aws_credentials(region=endpoint.aws_region), endpoint.aws_region).sign


def make_client(
    *, seller_id: str, region: str, credentials: dict[str, Any], base_url: str, lwa_token_url: str, sigv4: bool,
    cache_dir: Path | None = None, metrics: Any = None,
) -> Any:
    """A blocking `SyncSPAPIClient` for one seller and region (close it: it is a context manager)."""
    sync_client = _attr("amz_pipeline.spapi.client", "SyncSPAPIClient", "the SP-API client")
    endpoint = _attr("amz_pipeline.spapi.endpoints", "endpoint", "the SP-API client")(region, base_url=base_url)
    return sync_client(
        seller_id=seller_id,
        region=region,
        credentials=lwa_credentials(credentials),
        endpoint=endpoint,
        lwa_token_url=lwa_token_url,
        signer=sigv4_signer(endpoint) if sigv4 else None,
        cache_dir=cache_dir,
        metrics=metrics,
    )


def publishing_client_pool(factory_args: Any) -> Any:
    """A publishing `ClientPool` whose clients are `PublishingClient`s built by `factory_args(seller_id, region)`
    → dict(credentials, base_url, lwa_token_url, sigv4)."""
    pool_cls = _attr("amz_pipeline.publishing.client", "ClientPool", "the publishing engine")
    client_cls = _attr("amz_pipeline.publishing.client", "PublishingClient", "the publishing engine")
    endpoint_fn = _attr("amz_pipeline.spapi.endpoints", "endpoint", "the SP-API client")

    def make(seller_id: str, region: str) -> Any:
        args = factory_args(seller_id, region)
        endpoint = endpoint_fn(region, base_url=args["base_url"])
        return client_cls(seller_id=seller_id, region=region, credentials=lwa_credentials(args["credentials"]),
                          endpoint=endpoint, lwa_token_url=args["lwa_token_url"],
                          signer=sigv4_signer(endpoint) if args["sigv4"] else None)

    return pool_cls(make)


# --- publishing ------------------------------------------------------------------------------------------------------

def engine_config(settings: Any, *, listings_max_skus: int, feed_poll_max_seconds: float,
                  preview: bool = False) -> Any:
    cls = _attr("amz_pipeline.publishing.engine", "EngineConfig", "the publishing engine")
    config = cls.from_settings(settings, preview=preview, feeds={"poll_max_seconds": feed_poll_max_seconds})
    config.listings_max_skus = listings_max_skus
    return config


def changes_from_delta(valid: pl.DataFrame, delta: pl.DataFrame, *, seller_id: str, full_catalog: bool) -> list:
    fn = _attr("amz_pipeline.publishing.changes", "changes_from_delta", "the publishing engine")
    return fn(valid, delta, seller_id=seller_id, full_catalog=full_catalog)


def queue_change(seller_id: str, marketplace_id: str, sku: str, operation: str, body: dict | None, *,
                 attributes: dict | None = None) -> Any:
    """A publishing `Change` (operation: update | partial_update | patch | delete); `attributes` is the full desired
    attribute set stored on the listing. FBA entries never carry a merchant quantity."""
    queue = _attr("amz_pipeline.publishing.queue", "Operation", "the publishing engine")
    change_cls = _attr("amz_pipeline.publishing.queue", "Change", "the publishing engine")
    strip = _attr("amz_pipeline.publishing.changes", "strip_fba_quantity", "the publishing engine")
    if body and "attributes" in body:
        body = {**body, "attributes": strip(body["attributes"])}
    return change_cls(seller_id, marketplace_id, sku, queue(operation), body,
                      attributes=strip(attributes) if attributes else attributes)


def offer_change(seller_id: str, marketplace_id: str, sku: str, *, product_type: str, attributes: dict) -> Any:
    """The price/quantity fast path: a PATCH of `purchasable_offer` (replace) and `fulfillment_availability` (merge)
    taken from the desired `attributes` (`amz_pipeline.publishing.changes.change_for`, action offer_only)."""
    fn = _attr("amz_pipeline.publishing.changes", "change_for", "the publishing engine")
    return fn(seller_id=seller_id, marketplace_id=marketplace_id, sku=sku, action="offer_only",
              product_type=product_type, attributes=attributes, listing_hash=None, offer_hash=None,
              full_catalog=False)


def publish_changes(engine: Any, changes: list, *, run_id: str, mode: str, config: Any) -> Any:
    """`PublishPlan(channel, enqueued, feed_submissions)`: route, enqueue and chunk feeds in one transaction."""
    fn = _attr("amz_pipeline.publishing.engine", "publish_changes", "the publishing engine")
    return fn(engine, changes, run_id=run_id, mode=mode, config=config)


def lease_owner(run_id: str) -> str:
    """One lease owner per Dagster run and process (`host:pid:tag`, the format the engine uses to reclaim leases of
    dead local processes), so the steps of one run never wait out each other's feed leases."""
    return f"{socket.gethostname()}:{os.getpid()}:dagster-{run_id[:8]}"


def run_queue(engine: Any, clients: Any, *, run_id: str, config: Any, wait: bool) -> dict[str, Any]:
    fn = _attr("amz_pipeline.publishing.engine", "run_queue", "the publishing engine")
    return fn(engine, clients, run_id=run_id, config=config, wait=wait, owner=lease_owner(run_id))


def poll_feeds(engine: Any, clients: Any, *, run_id: str | None, config: Any, owner: str) -> dict[str, Any]:
    """One non-blocking pass over open feed submissions (submit, poll, ingest reports, verify) as `owner`.

    Same steps as `engine.poll_feeds`, which always takes a fresh lease owner and keeps its leases: a second pass
    would then wait `lease_seconds` for its own previous lease (reported as a gap)."""
    driver_cls = _attr("amz_pipeline.publishing.feeds.submit", "FeedDriver", "the publishing engine")
    plan = _attr("amz_pipeline.publishing.feeds.plan", "plan", "the publishing engine")
    session_factory = _attr("amz_pipeline.storage.db", "session_factory", "storage")

    async def main() -> dict[str, Any]:
        driver = driver_cls(engine, clients, owner=owner, config=config.feeds)
        try:
            with session_factory(engine).begin() as session:
                plan(session, limits=config.feeds.limits, run_id=run_id)
            for submission_id in driver.open_submissions(run_id):
                await driver.advance(submission_id)
        finally:
            await clients.aclose()
        return {"feeds": dict(driver.stats.__dict__), "open_feed_submissions": len(driver.open_submissions(run_id)),
                "next_wakeup_s": driver.next_wakeup(run_id)}

    return asyncio.run(main())


def listing_states(engine: Any, seller_id: str, *, sku: str | None = None) -> list[dict[str, Any]]:
    """`[{"seller", "marketplace", "sku", "status", "asin", "issues": [{"code", "severity", "message",
    "attributeNames"}]}]` for every listing of the seller (or only `sku`'s, in every marketplace)."""
    return _attr("amz_pipeline.publishing.status", "listing_states", "listing status")(engine, seller_id, sku=sku)


def auto_redrive(engine: Any, *, max_redrives: int) -> Any:
    fn = _attr("amz_pipeline.publishing.dlq", "auto_redrive", "the dead-letter queue")
    return fn(engine, max_redrives=max_redrives)
