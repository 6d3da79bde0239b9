"""Pinning a reviewed change set: one hash over every (marketplace, sku, operation, payload hash) in it.

A draft is reviewed in the UI as listing_changes' materialization; publishing recomputes this hash from the stored
frame and from a fresh re-validation of the file and refuses when either differs from what was reviewed.
"""

from __future__ import annotations

import polars as pl

from amz_pipeline.hashing import payload_hash

PIN_COLUMNS = ("marketplace_id", "sku", "action", "payload_hash")


def changes_hash(changes: pl.DataFrame) -> str:
    present = [c for c in PIN_COLUMNS if c in changes.columns]
    rows = changes.select(present).sort(present).rows() if changes.height else []
    return payload_hash([present, [list(r) for r in rows]])
