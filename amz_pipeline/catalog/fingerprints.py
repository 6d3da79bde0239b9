"""Payload fingerprints: what the delta compares, computed without building the payload.

A listing's payload is a pure function of its template (the files along the `extends` chain), the marketplace's
facts (`schemas/marketplaces.json`), the product type and the row's normalised *source cells*: the columns the
template reads, the product-fact columns that decide `requirements`, `language_tag` and `attributes_json`. So a hash
of those inputs changes whenever the payload can change, and a 1M-row catalog is fingerprinted in about a second
instead of having ~2.7 GB of attribute JSON built and hashed. The JSON is built later, only for the rows that are
sent (`mapping.attributes_for`).

- `payload_hash`: template digest + every source cell of the row. This is what `listings.accepted_payload_hash`
  stores once Amazon accepts the row, and what the next ingestion is compared with.
- `offer_only_hash`: the offer template's source cells (price, sale, business price, quantity, channel, ...).

How: every source cell is hashed on its own with XXH3-64, seeded by the column name and the lane (two independent
64-bit lanes; an empty cell or a missing column counts as a fixed constant), and each lane is the wrapping sum of
the row's cell hashes plus the digest: hashing cells one column at a time is ~5× cheaper in Polars than
concatenating them into one string, and needs no separator or escaping. The fingerprint is the two lanes
as 20-digit decimals (40 characters). A changed cell goes unnoticed only if its two 64-bit hashes both collide
(~2⁻¹²⁸); the fingerprint only detects change, it is never used as a security boundary.

A change to a column the template does not read is not a change; a changed template, marketplace fact or
`FINGERPRINT_VERSION` (bump it when `mapping.py` changes what the same cells produce) changes every fingerprint once,
which republishes the catalog once: the safe direction. `attributes_json` is fingerprinted as written, so
reformatting it without changing its meaning also counts as a change.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from typing import Any

import polars as pl
import polars_hash as plh

import schemas
from amz_pipeline.catalog import mapping

FINGERPRINT_VERSION = 1
FINGERPRINT_COLUMNS = ("requirements", "payload_hash", "offer_only_hash")
_LANES = (0, 1)  # XXH3 seeds
_EMPTY = 0x9E3779B97F4A7C15  # the hash of an empty cell or a missing column
_ALWAYS_SOURCES = ("language_tag", "merchant_suggested_asin", "attributes_json", *mapping.PRODUCT_FACT_COLUMNS)


def _columns_of(source: Any) -> list[str]:
    if not isinstance(source, dict) or "column" not in source:
        return []
    column = source["column"]
    return list(column) if isinstance(column, list) else [column]


def _instance_sources(instances: tuple[mapping.Instance, ...]) -> set[str]:
    out: set[str] = set()
    for instance in instances:
        for _, source in instance.fields:
            out.update(_columns_of(source))
        out.update(instance.present_if_any or ())
    return out


@cache
def template_sources(template: mapping.Template) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(every source column of the payload, the offer's source columns), each sorted."""
    payload: set[str] = set(_ALWAYS_SOURCES)
    offer: set[str] = set()
    for name, instances in template.attributes.items():
        columns = _instance_sources(instances)
        payload |= columns
        if name in template.offer_attributes:
            offer |= columns
    return tuple(sorted(payload)), tuple(sorted(offer))


def _template_chain(name: str) -> list[Any]:
    chain = []
    while name:
        data = schemas.load_json(f"templates/{name}.json")
        chain.append(data)
        name = data.get("extends")
    return chain


@cache
def template_digest(template: mapping.Template, product_type: str | None, marketplace_id: str) -> str:
    """Everything besides the row's cells that shapes the payload, as one hash."""
    identity = {
        "version": FINGERPRINT_VERSION, "templates": _template_chain(template.name),
        "product_type": product_type, "marketplace": mapping.marketplace_context(marketplace_id),
    }
    return hashlib.sha256(json.dumps(identity, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()


def _seed(lane: int, column: str) -> int:
    return int.from_bytes(hashlib.sha256(f"{lane}:{column}".encode()).digest()[:8], "big")


def _lane_constant(digest: str, lane: int) -> int:
    return int(digest[16 * lane:16 * (lane + 1)], 16)


def _cell_hash(name: str, lane: int) -> str:
    return f"__fp{lane}:{name}"


def _cell_hashes(frame: pl.DataFrame, columns: set[str]) -> pl.DataFrame:
    """The `__fp<lane>:<column>` hash columns of `columns` (cells as text, seeded per lane and column)."""
    text = frame.select(pl.col(c) if frame.schema[c] == pl.String else pl.col(c).cast(pl.String) for c in sorted(columns))
    return text.select(
        plh.col(name).nchash.xxh3_64(seed=_seed(lane, name)).fill_null(_EMPTY).alias(_cell_hash(name, lane))
        for name in sorted(columns) for lane in _LANES)


def _fingerprint(types: pl.Expr, frame_columns: set[str], sources: dict[str | None, tuple[str, tuple[str, ...]]]
                 ) -> pl.Expr:
    """Each row's fingerprint, `sources` being product type → (digest, source columns); cell hashes are in the
    `__fp*` columns. The columns every type reads are summed once; each type adds its own and its constant."""
    shared = set.intersection(*(set(columns) for _, columns in sources.values()))
    lanes = []
    for lane in _LANES:
        def summed(columns: set[str], constant: int, lane: int = lane) -> list[pl.Expr]:
            terms = [pl.col(_cell_hash(name, lane)) for name in sorted(columns) if name in frame_columns]
            constant += _EMPTY * sum(1 for name in columns if name not in frame_columns)
            return [*terms, pl.lit(constant % 2**64, pl.UInt64)]

        own = {product_type: pl.sum_horizontal(summed(set(columns) - shared, _lane_constant(digest, lane)))
               for product_type, (digest, columns) in sources.items()}
        lanes.append(pl.sum_horizontal([*summed(shared, 0), _by_type(types, own)]).cast(pl.String).str.zfill(20))
    return lanes[0] + lanes[1]


def payload_fingerprints(frame: pl.DataFrame, marketplace_id: str) -> pl.DataFrame:
    """`frame` (normalised catalog rows of one marketplace) plus `requirements` (`LISTING` or
    `LISTING_OFFER_ONLY`, as `build_payloads` decides), `payload_hash` and `offer_only_hash`."""
    mapping.marketplace_context(marketplace_id)  # unknown marketplace: clear error before any work
    frame = frame.drop([c for c in FINGERPRINT_COLUMNS if c in frame.columns])
    if not frame.height:
        return frame.with_columns(pl.lit(None, pl.String).alias(c) for c in FINGERPRINT_COLUMNS)
    types = pl.col("product_type").cast(pl.String).str.strip_chars().str.to_uppercase() \
        if "product_type" in frame.columns else pl.lit(None, pl.String)
    offer_digest = template_digest(mapping.load_template("_offer"), None, marketplace_id)
    names = set(frame.columns)
    payload, offer = {}, {}
    for product_type in frame.select(types.unique()).to_series().to_list():
        template = mapping.template_for(product_type)
        payload_columns, offer_columns = template_sources(template)
        payload[product_type] = (template_digest(template, product_type, marketplace_id), payload_columns)
        offer[product_type] = (offer_digest, offer_columns)
    needed = {c for _, columns in [*payload.values(), *offer.values()] for c in columns} & names
    hashed = pl.concat([frame, _cell_hashes(frame, needed)], how="horizontal").with_columns(types.alias("__type"))
    return hashed.with_columns(
        mapping.requirements_expr(dict(frame.schema)).alias("requirements"),
        _fingerprint(pl.col("__type"), names, payload).alias("payload_hash"),
        _fingerprint(pl.col("__type"), names, offer).alias("offer_only_hash"),
    ).select(*frame.columns, *FINGERPRINT_COLUMNS)


def _by_type(types: pl.Expr, expressions: dict[str | None, pl.Expr]) -> pl.Expr:
    """The expression of each row's product type (one type: no branching)."""
    items = list(expressions.items())
    if len(items) == 1:
        return items[0][1]
    chained = pl.when(types.is_null() if items[0][0] is None else types == items[0][0]).then(items[0][1])
    for product_type, expression in items[1:]:
        chained = chained.when(types.is_null() if product_type is None else types == product_type).then(expression)
    return chained
