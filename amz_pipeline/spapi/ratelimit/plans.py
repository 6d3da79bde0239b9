"""Usage plans: per-operation defaults from `schemas/spapi/usage_plans.json` (generated from Amazon's models) and the
limits the models do not carry from `schemas/spapi/limits.json`. Read, never re-typed."""

from __future__ import annotations

from dataclasses import dataclass

import schemas


@dataclass(frozen=True)
class Plan:
    rate: float  # tokens per second
    burst: float  # bucket size


def operation_plan(operation: str) -> Plan | None:
    """The default per seller-application plan of `operation`, or None when the models state none."""
    entry = schemas.load_json("spapi/usage_plans.json")["operations"].get(operation)
    if not entry or entry.get("rate") is None or entry.get("burst") is None:
        return None
    return Plan(float(entry["rate"]), float(entry["burst"]))


def application_plan(operation: str, *, preview: bool = False) -> Plan | None:
    """The per-application cap (across all sellers of one app), or the VALIDATION_PREVIEW cap for put/patch previews."""
    limits = schemas.load_json("spapi/limits.json")
    if preview and operation in ("putListingsItem", "patchListingsItem"):
        entry = limits["validation_preview"]
    else:
        entry = limits["per_application"].get(operation)
    if not entry:
        return None
    return Plan(float(entry["rate"]), float(entry["burst"]))


def feed_submission_plan(feed_type: str) -> Plan | None:
    """A feed type's own submission limit (JSON_LISTINGS_FEED: N submissions per window) as a token bucket."""
    entry = schemas.load_json("spapi/limits.json")["feed_types"].get(feed_type)
    if not entry or "submissions_per_window" not in entry:
        return None
    count = float(entry["submissions_per_window"])
    return Plan(rate=count / float(entry["window_seconds"]), burst=count)
