"""Helpers for materialization metadata: numeric values the UI plots, Markdown top-error tables, reading back the
latest materialization of a partition (how a later run — e.g. publishing a reviewed draft — finds what was reviewed)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

import dagster as dg


def numeric(values: Mapping[str, int | float | None]) -> dict[str, dg.MetadataValue]:
    """Ints stay ints and floats floats, so every value shows as a plot over time in the UI; None is left out."""
    out: dict[str, dg.MetadataValue] = {}
    for key, value in values.items():
        if value is None:
            continue
        out[key] = dg.MetadataValue.int(int(value)) if isinstance(value, bool | int) else dg.MetadataValue.float(
            float(value)
        )
    return out


def top_errors_table(rows: Iterable[Mapping[str, Any]], key_fields: tuple[str, ...] = ("code", "message"),
                     limit: int = 10) -> dg.MetadataValue:
    """A Markdown table of the most frequent (code, message) pairs, with counts and one example SKU each."""
    counts: Counter[tuple] = Counter()
    example: dict[tuple, str] = {}
    for row in rows:
        key = tuple(str(row.get(f, "") or "")[:160].replace("|", "\\|").replace("\n", " ") for f in key_fields)
        counts[key] += 1
        example.setdefault(key, str(row.get("sku", "") or ""))
    if not counts:
        return dg.MetadataValue.md("_no errors_")
    header = "| " + " | ".join([*key_fields, "count", "example sku"]) + " |"
    lines = [header, "|" + "---|" * (len(key_fields) + 2)]
    for key, count in counts.most_common(limit):
        lines.append("| " + " | ".join([*key, str(count), example[key]]) + " |")
    return dg.MetadataValue.md("\n".join(lines))


def latest_metadata(instance: dg.DagsterInstance, asset_key: dg.AssetKey, partition: str | None) -> dict[str, Any]:
    """The plain-value metadata of the latest materialization of `asset_key` (for `partition`), {} if none."""
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=asset_key, asset_partitions=[partition] if partition else None), limit=1
    ).records
    if not records:
        return {}
    materialization = records[0].asset_materialization
    if materialization is None:
        return {}
    return {key: value.value for key, value in materialization.metadata.items()}


def latest_record(instance: dg.DagsterInstance, asset_key: dg.AssetKey, partition: str | None):
    """(run id, plain metadata) of the latest materialization of `asset_key` for `partition`, or (None, {})."""
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=asset_key, asset_partitions=[partition] if partition else None), limit=1
    ).records
    if not records or records[0].asset_materialization is None:
        return None, {}
    return records[0].run_id, {k: v.value for k, v in records[0].asset_materialization.metadata.items()}
