"""Small stand-ins for the product-type gate (template mapping + product-type validator) so ingestion, the CLI
and the benchmark-independent tests exercise their own logic; the real gate runs in test_ingest_samples.py."""

from __future__ import annotations

import polars as pl

from amz_pipeline.hashing import payload_hash


def stand_in_build_payloads(frame: pl.DataFrame, marketplace_id: str) -> pl.DataFrame:
    rows = frame.select("sku", "item_name", "price", "quantity", "color").to_dicts()
    hashes = [payload_hash({"m": marketplace_id, **r}) for r in rows]
    offer = [payload_hash([r["price"], r["quantity"]]) for r in rows]
    return frame.with_columns(
        pl.Series("attributes", ["{}"] * frame.height, pl.String),
        pl.Series("payload_hash", hashes, pl.String),
        pl.Series("offer_only_hash", offer, pl.String),
    )


def stand_in_validate_attributes(frame: pl.DataFrame, marketplace_id: str) -> pl.DataFrame:
    """Rejects color 'plaid' (stands for any product-type schema violation)."""
    return frame.filter(pl.col("color") == "plaid").select(
        "row", "sku", field=pl.lit("color"), rule=pl.lit("enum"), severity=pl.lit("ERROR"),
        message=pl.lit("color: 'plaid' is not one of the allowed values"),
    )
