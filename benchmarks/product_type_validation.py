"""Rows/s of the template path (build_payloads: canonical JSON + SHA-256 in Polars) and µs per free-form payload
of the per-payload product-type validator. Usage: python benchmarks/product_type_validation.py [ROWS]"""

from __future__ import annotations

import json
import platform
import random
import sys
import time

import polars as pl

from amz_pipeline.catalog.mapping import build_payloads
from amz_pipeline.validation.product_types import default_registry

US = "ATVPDKIKX0DER"
TYPES = ["PRODUCT", "SHIRT", "SHOES", "LUGGAGE", "HOME", "TOY"]


def catalog(rows: int) -> pl.DataFrame:
    rng = random.Random(1)
    return pl.DataFrame({
        "row": list(range(rows)), "sku": [f"SKU-{i}" for i in range(rows)],
        "product_type": [TYPES[i % 6] for i in range(rows)],
        "item_name": [f"Item number {i} with a realistic title length" for i in range(rows)],
        "brand": ["Acme"] * rows, "bullet_point_1": [f"feature {i}" for i in range(rows)],
        "product_description": [f"Description of item {i}." for i in range(rows)],
        "price": [f"{rng.uniform(1, 500):.2f}" for _ in range(rows)], "quantity": [str(i % 50) for i in range(rows)],
        "color": ["red"] * rows, "size": ["M"] * rows, "department": ["mens"] * rows,
        "country_of_origin": ["CN"] * rows, "external_product_id": ["4006381333931"] * rows,
        "external_product_id_type": ["ean"] * rows,
    })


def main(rows: int) -> None:
    frame = catalog(rows)
    start = time.perf_counter()
    out = build_payloads(frame, US)
    template_seconds = time.perf_counter() - start
    payloads = [(r[0], r[1], json.loads(r[2])) for r in out.select("product_type", "requirements", "attributes")
                .head(20_000).iter_rows()]
    registry = default_registry()
    for product_type in TYPES:
        registry.get(product_type)
    start = time.perf_counter()
    for product_type, requirements, attributes in payloads:
        registry.get(product_type, requirements).validate(attributes)
    per_payload = (time.perf_counter() - start) / len(payloads)
    print(f"machine: {platform.machine()} {platform.python_version()}, polars {pl.__version__}")
    print(f"template path (build_payloads incl. hashes): {rows:,} rows in {template_seconds:.2f} s = "
          f"{rows / template_seconds:,.0f} rows/s")
    print(f"per-payload validator: {per_payload * 1e6:.1f} µs/payload = {1 / per_payload:,.0f} payloads/s")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
