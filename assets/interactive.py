"""Interactive per-SKU updates (the real-time path): a job launched from the UI launchpad with one seller×marketplace
and a short list of SKU changes — price, quantity, attributes or delete.

Each change goes through Amazon's VALIDATION_PREVIEW first and, when valid, through the Listings API
(putListingsItem/patchListingsItem/deleteListingsItem), via the publishing engine's durable queue, so ordering,
idempotency and retries are the same as for files. The run's metadata holds each SKU's outcome and issues
(a Markdown table) and the counts.

What is sent:
- `delete: true` → deleteListingsItem;
- `attributes` (Amazon's attribute JSON; a missing `marketplace_id` in an entry is filled in) → a patch replacing
  those attributes (plus the offer attributes when price/quantity are given too);
- price/quantity only → the fast path: `purchasable_offer` replaced (the listing's stored offer with the new
  `our_price`) and `fulfillment_availability` merged (FBA SKUs never get a merchant quantity).
A later file drop is still the source of truth: its delta compares with what Amazon last accepted.
"""

import copy
from decimal import Decimal
from typing import Any

import dagster as dg
from pydantic import Field
from sqlalchemy import select

import schemas
from amz_pipeline.storage.models import Listing, PublishJob, PublishRun
from resources import core
from resources.database import DatabaseResource
from resources.secrets import SecretStoreResource
from resources.settings import SettingsResource
from resources.spapi import MissingCredentials, SPAPIClientResource

from . import jobs, meta
from .logs import core_logs
from .partitions import PartitionKeyError, SellerMarketplace, pair


class SkuChange(dg.Config):
    sku: str = Field(description="the seller SKU")
    price: float | None = Field(default=None, description="new price (our_price) in the marketplace's currency")
    quantity: int | None = Field(default=None, description="merchant-fulfilled quantity (FBA SKUs: ignored)")
    attributes: dict[str, Any] = Field(
        default_factory=dict,
        description='Amazon attribute JSON to replace, e.g. {"item_name": [{"value": "Mug", "language_tag": '
                    '"en_US"}]}; marketplace_id is filled in where missing')
    product_type: str = Field(default="", description="needed only when the pipeline has no listing for the SKU yet")
    delete: bool = Field(default=False, description="delete the SKU from the marketplace")


class SkuUpdatesConfig(dg.Config):
    seller_id: str = Field(description="selling partner id, e.g. A1DEMOSELLER01")
    marketplace: str = Field(description="country code (US, DE, ...) or marketplace id")
    changes: list[SkuChange] = Field(description="at most SettingsResource.listings_max_skus (default 50) SKUs")


class ChangeError(ValueError):
    """The launchpad config asks for something that cannot be sent; the message names the SKU and the field."""


def _with_marketplace(attributes: dict[str, Any], marketplace_id: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, entries in attributes.items():
        if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
            raise ChangeError(f"attribute {name!r} must be a list of objects (Amazon's attribute JSON), "
                              f"got {type(entries).__name__}")
        out[name] = [{"marketplace_id": marketplace_id, **entry} if name != "fulfillment_availability" else entry
                     for entry in entries]
    return out


def _offer(existing: dict[str, Any], change: SkuChange, target: SellerMarketplace) -> dict[str, Any]:
    """`purchasable_offer` / `fulfillment_availability` for a price / quantity change, built on the stored offer."""
    market = target.marketplace
    out: dict[str, Any] = {}
    if change.price is not None:
        if change.price <= 0:
            raise ChangeError(f"price must be greater than 0, got {change.price}")
        if -Decimal(str(change.price)).as_tuple().exponent > market.currency_decimals:
            raise ChangeError(f"{market.currency} prices have at most {market.currency_decimals} decimals, "
                              f"got {change.price}")
        stored = [o for o in existing.get("purchasable_offer") or [] if o.get("marketplace_id") == market.id]
        offer = copy.deepcopy(stored[0]) if stored else {"marketplace_id": market.id, "currency": market.currency,
                                                          "audience": "ALL"}
        offer["our_price"] = [{"schedule": [{"value_with_tax": change.price}]}]
        out["purchasable_offer"] = [offer]
    if change.quantity is not None:
        if change.quantity < 0:
            raise ChangeError(f"quantity must be 0 or more, got {change.quantity}")
        stored = existing.get("fulfillment_availability") or [{}]
        channel = stored[0].get("fulfillment_channel_code", "DEFAULT")
        out["fulfillment_availability"] = [{"fulfillment_channel_code": channel, "quantity": change.quantity}]
    return out


def build_change(change: SkuChange, target: SellerMarketplace, stored: Listing | None) -> Any:
    """The publishing `Change` for one launchpad entry (ChangeError with the reason when it cannot be built)."""
    if change.delete:
        if change.price is not None or change.quantity is not None or change.attributes:
            raise ChangeError("delete cannot be combined with price, quantity or attributes")
        return core.queue_change(target.seller_id, target.marketplace_id, change.sku, "delete", None)
    if change.price is None and change.quantity is None and not change.attributes:
        raise ChangeError("nothing to change: give price, quantity, attributes or delete")
    product_type = change.product_type or (stored.product_type if stored else None)
    if not product_type:
        raise ChangeError("product_type is needed: the pipeline has no listing for this SKU yet")
    if product_type not in schemas.load_json("product_types/index.json"):
        raise ChangeError(f"unknown product type {product_type!r}")
    existing = dict(stored.desired_attributes or {}) if stored else {}
    changed = {**_with_marketplace(change.attributes, target.marketplace_id), **_offer(existing, change, target)}
    desired = {**existing, **changed}
    if change.attributes:
        return core.queue_change(target.seller_id, target.marketplace_id, change.sku, "partial_update",
                                 {"productType": product_type, "attributes": changed}, attributes=desired)
    return core.offer_change(target.seller_id, target.marketplace_id, change.sku, product_type=product_type,
                             attributes=desired)


def plan_changes(config: SkuUpdatesConfig, database: DatabaseResource, max_skus: int
                 ) -> tuple[SellerMarketplace, list]:
    """Validate the whole launchpad config (every problem reported at once) and build the changes."""
    try:
        target = pair(config.seller_id, config.marketplace)
    except PartitionKeyError as exc:
        raise dg.Failure(f"invalid seller or marketplace: {exc}") from None
    problems: list[str] = []
    if not config.changes:
        problems.append("changes is empty: list at least one SKU")
    if len(config.changes) > max_skus:
        problems.append(f"{len(config.changes)} SKUs given; this job takes at most {max_skus} (drop a file into "
                        f"data/inbox/{target.seller_id}/{target.country}/ for larger sets)")
    skus = [c.sku.strip() for c in config.changes]
    problems += [f"{sku}: listed more than once" for sku in sorted({s for s in skus if skus.count(s) > 1})]
    problems += ["a change has an empty sku" for s in skus if not s]
    with database.session() as session:
        stored = {row.sku: row for row in session.scalars(select(Listing).where(
            Listing.seller_id == target.seller_id, Listing.marketplace_id == target.marketplace_id,
            Listing.sku.in_(skus)))}
        changes = []
        for change in config.changes:
            try:
                changes.append(build_change(change, target, stored.get(change.sku)))
            except ChangeError as exc:
                problems.append(f"{change.sku}: {exc}")
    if problems:
        raise dg.Failure("the SKU changes were not sent:\n- " + "\n- ".join(problems))
    return target, changes


def outcomes(database: DatabaseResource, run_id: str, target: SellerMarketplace) -> list[dict[str, Any]]:
    """Per SKU of the run: operation, job state, listing status and issues (Amazon's, or the call's error)."""
    with database.session() as session:
        rows = session.execute(select(PublishJob.sku, PublishJob.operation, PublishJob.state, PublishJob.last_error)
                               .where(PublishJob.run_id == run_id).order_by(PublishJob.id)).all()
    states = {s["sku"]: s for sku in {row.sku for row in rows}
              for s in core.listing_states(database.engine(), target.seller_id, sku=sku)
              if s["marketplace"] == target.marketplace_id}
    out = []
    for sku, operation, state, error in rows:
        listing = states.get(sku, {})
        issues = [f"{i['severity']} {i['code']}: {i['message']}" for i in listing.get("issues", [])]
        if error and state not in ("succeeded", "invalid"):
            issues.append(error)
        out.append({"sku": sku, "operation": operation, "outcome": state, "status": listing.get("status") or "",
                    "issues": issues})
    return out


def outcome_table(rows: list[dict[str, Any]]) -> dg.MetadataValue:
    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")[:300]

    lines = ["| sku | operation | outcome | listing status | issues |", "|---|---|---|---|---|"]
    lines += [f"| {cell(r['sku'])} | {r['operation']} | {r['outcome']} | {r['status']} | "
              f"{cell('; '.join(r['issues'])) or '—'} |" for r in rows]
    return dg.MetadataValue.md("\n".join(lines))


@dg.op(description="VALIDATION_PREVIEW, then the Listings API, for each SKU change in the config.",
       pool="spapi-listings")
def apply_sku_changes(context: dg.OpExecutionContext, config: SkuUpdatesConfig, database: DatabaseResource,
                      settings: SettingsResource, spapi: SPAPIClientResource,
                      secrets: SecretStoreResource) -> dg.Output[list]:
    target, changes = plan_changes(config, database, settings.listings_max_skus)
    try:
        spapi.require_credentials(target.seller_id, target.region, secrets)
    except MissingCredentials as exc:
        raise dg.Failure(f"the SKU changes were not sent: {exc}") from None
    run_id = context.run.run_id
    with database.session() as session:
        session.merge(PublishRun(run_id=run_id, seller_id=target.seller_id, marketplace_id=target.marketplace_id,
                                 file_path=None, file_hash=None, mode="listings", full_catalog=False,
                                 options={"dagster_run_id": run_id, "interactive": True}, status="started",
                                 trace_id=run_id))
    engine_config = settings.engine_config(preview=True)
    with core_logs(context):
        core.publish_changes(database.engine(), changes, run_id=run_id, mode="listings", config=engine_config)
        metrics = core.run_queue(database.engine(), spapi.client_pool(secrets), run_id=run_id,
                                 config=engine_config, wait=True)
    rows = outcomes(database, run_id, target)
    counts = {state: sum(1 for r in rows if r["outcome"] == state)
              for state in ("succeeded", "invalid", "failed", "dead_lettered", "superseded")}
    numbers = {k: v for k, v in metrics.items() if isinstance(v, int | float) and not isinstance(v, bool)}
    return dg.Output(rows, metadata={
        "outcomes": outcome_table(rows),
        **meta.numeric({"skus": len(rows), **{f"outcome/{k}": v for k, v in counts.items()}, **numbers}),
        "partition": target.key,
    })


@dg.job(
    tags=jobs.NO_RUN_RETRIES,
    executor_def=dg.in_process_executor,
    description="Interactive per-SKU updates (< 50 SKUs, immediate feedback): one seller×marketplace, a list of "
                "price / quantity / attribute / delete changes; VALIDATION_PREVIEW first, then the Listings API. "
                "Add the tag amz/seller=<sellerId> at launch to queue behind that seller's other runs.",
    config=dg.RunConfig(ops={"apply_sku_changes": SkuUpdatesConfig(
        seller_id="A1DEMOSELLER01", marketplace="US",
        changes=[SkuChange(sku="US-VG-SP55-0001", price=129.99, quantity=7)])}),
)
def sku_updates_job():
    apply_sku_changes()
