"""Payload fingerprints: what the delta compares, computed without building the payload.

A listing's payload is a pure function of its template (the files along the `extends` chain), the marketplace's
facts (`schemas/marketplaces.json`), the product type and the row's normalised *source cells*: the columns the
template reads, the product-fact columns that decide `requirements`, `language_tag` and `attributes_json`. So the
SHA-256 of those inputs, encoded injectively, changes whenever the payload can change, and a 1M-row catalog is
fingerprinted in about a second instead of having ~2.7 GB of attribute JSON built and hashed. The JSON is built
later, only for the rows that are sent (`mapping.attributes_for`).

- `payload_hash`: template digest + every source cell of the row. This is what `listings.accepted_payload_hash`
  stores once Amazon accepts the row, and what the next ingestion is compared with.
- `offer_only_hash`: the offer template's source cells (price, sale, business price, quantity, channel, ...).

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
_SEPARATOR = "\x1f"
_NULL = "\x00"
_ESCAPE = "\x1b"
_SPECIAL = "[\x00\x1b\x1f]"
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


def _encoded(frame: pl.DataFrame, columns: tuple[str, ...], escaped: set[str]) -> list[pl.Expr]:
    """One text per source column, injective over (value, null): a missing column is the same as an empty one."""
    out = []
    for name in columns:
        if name not in frame.columns:
            out.append(pl.lit(_NULL))
            continue
        text = pl.col(name) if frame.schema[name] == pl.String else pl.col(name).cast(pl.String)
        if name in escaped:
            text = text.str.replace_all(_ESCAPE, _ESCAPE * 2, literal=True) \
                .str.replace_all(_NULL, _ESCAPE + "0", literal=True) \
                .str.replace_all(_SEPARATOR, _ESCAPE + "s", literal=True)
        out.append(text.fill_null(_NULL))
    return out


def _hash(digest: str, parts: list[pl.Expr]) -> pl.Expr:
    return plh.concat_str([pl.lit(digest), *parts], separator=_SEPARATOR).chash.sha2_256()


def _group(frame: pl.DataFrame, marketplace_id: str, product_type: str | None) -> pl.DataFrame:
    template = mapping.template_for(product_type)
    payload_columns, offer_columns = template_sources(template)
    present = [c for c in payload_columns if c in frame.columns]
    escaped = {c for c, hit in frame.select(
        pl.col(c).cast(pl.String).str.contains(_SPECIAL).any().alias(c) for c in present
    ).row(0, named=True).items() if hit} if present else set()
    digest = template_digest(template, product_type, marketplace_id)
    offer_digest = template_digest(mapping.load_template("_offer"), None, marketplace_id)
    requirements = mapping.requirements_expr(dict(frame.schema))
    return frame.with_columns(
        requirements.alias("requirements"),
        _hash(digest, _encoded(frame, payload_columns, escaped)).alias("payload_hash"),
        _hash(offer_digest, _encoded(frame, offer_columns, escaped)).alias("offer_only_hash"),
    )


def payload_fingerprints(frame: pl.DataFrame, marketplace_id: str) -> pl.DataFrame:
    """`frame` (normalised catalog rows of one marketplace) plus `requirements` (`LISTING` or
    `LISTING_OFFER_ONLY`, as `build_payloads` decides), `payload_hash` and `offer_only_hash`."""
    mapping.marketplace_context(marketplace_id)  # unknown marketplace: clear error before any work
    frame = frame.drop([c for c in FINGERPRINT_COLUMNS if c in frame.columns])
    if not frame.height:
        return frame.with_columns(pl.lit(None, pl.String).alias(c) for c in FINGERPRINT_COLUMNS)
    types = pl.col("product_type").cast(pl.String).str.strip_chars().str.to_uppercase() \
        if "product_type" in frame.columns else pl.lit(None, pl.String)
    indexed = frame.with_row_index("__i").with_columns(types.alias("__type"))
    groups = indexed.partition_by("__type", as_dict=True, maintain_order=True)
    if len(groups) == 1:
        ((product_type,), group), = groups.items()
        return _group(group, marketplace_id, product_type).drop("__i", "__type")
    parts = [_group(group, marketplace_id, product_type) for (product_type,), group in groups.items()]
    return pl.concat(parts, how="vertical_relaxed").sort("__i").drop("__i", "__type")
