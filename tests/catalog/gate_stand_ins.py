"""A small stand-in for the product-type validator so ingestion and CLI tests exercise their own logic (rows are
fingerprinted for real: it is cheap); the real validator runs in test_ingest_samples.py."""

from __future__ import annotations

import polars as pl


def stand_in_validate_attributes(frame: pl.DataFrame, marketplace_id: str) -> pl.DataFrame:
    """Rejects color 'plaid' (stands for any product-type schema violation)."""
    return frame.filter(pl.col("color") == "plaid").select(
        "row", "sku", field=pl.lit("color"), rule=pl.lit("enum"), severity=pl.lit("ERROR"),
        message=pl.lit("color: 'plaid' is not one of the allowed values"),
    )
