"""Synthetic seller catalogs for the ingestion benchmark.

Rows are built from the valid rows of `data/samples/catalog_us.csv` (so every product type's required columns
are realistic), varied per row so that ≥ 95% of payloads are distinct (SKU, title suffix, price, quantity),
with ≥ 20% of rows carrying free-form `attributes_json` and 1% bad rows (a negative price: the row gate rejects
them). Generation is vectorised in Polars.

    python benchmarks/gen_catalog.py --rows 1000000 --out /tmp/bench_1m.csv
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "samples" / "catalog_us.csv"
BAD_EVERY = 100  # 1% bad rows
ATTRIBUTES_JSON_EVERY = 5  # 20% of rows carry free-form attribute JSON


def template_rows() -> pl.DataFrame:
    expected = json.loads((ROOT / "data" / "samples" / "expected.json").read_text(encoding="utf-8"))["catalog_us.csv"]
    flagged = {r["row"] for r in expected["rejected"]} | {r["row"] for r in expected["warnings"]}
    frame = pl.read_csv(SAMPLE, infer_schema=False).with_row_index("_file_row", offset=2)
    frame = frame.filter(~pl.col("_file_row").is_in(list(flagged)) & (pl.col("marketplace") == "US"))
    return frame.drop("_file_row")


def generate(rows: int) -> pl.DataFrame:
    templates = template_rows()
    count = templates.height
    index = pl.DataFrame({"i": pl.int_range(rows, eager=True)}).with_columns((pl.col("i") % count).alias("_t"))
    frame = index.join(templates.with_row_index("_t").with_columns(pl.col("_t").cast(pl.Int64)), on="_t", how="left")
    i = pl.col("i")
    # Raise the price by up to 0.96 (keeps sale_price ≤ price and price ≥ min_price); lift max_price with it.
    price = pl.col("standard_price").cast(pl.Float64) + (i % 97).cast(pl.Float64) / 100
    keyword = pl.format(
        '{{"generic_keyword":[{{"value":"bench keyword {}","language_tag":"en_US","marketplace_id":"ATVPDKIKX0DER"}}]}}',
        i,
    )
    return frame.with_columns(
        pl.format("BENCH-{}", i.cast(pl.String).str.zfill(8)).alias("item_sku"),
        (pl.col("item-name").str.slice(0, 170) + pl.lit(" V") + i.cast(pl.String)).alias("item-name"),
        pl.when(i % BAD_EVERY == BAD_EVERY - 1).then(pl.lit("-1"))
        .otherwise(price.round(2).cast(pl.String)).alias("standard_price"),
        pl.when(pl.col("quantity").is_not_null()).then((i % 500).cast(pl.String)).alias("quantity"),
        pl.when(pl.col("max_price").is_not_null()).then((pl.col("max_price").cast(pl.Float64) + 1).round(2).cast(pl.String))
        .alias("max_price"),
        pl.when(i % ATTRIBUTES_JSON_EVERY == 0).then(keyword).otherwise(None).alias("attributes_json"),
    ).drop("i", "_t")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    generate(args.rows).write_csv(args.out)
    print(args.out)


if __name__ == "__main__":
    main()
