"""Template mapping and product-type validation against the floor, side by side in one run.

On a synthetic catalog (benchmarks/gen_catalog.py: the valid US sample rows varied per row, 20% of rows with free-form
`attributes_json`, 1% bad prices), measures in one process, wall clock and CPU time (all threads):

- the floor: plain `polars.read_csv` + `write_ndjson` of the same file;
- `validate_attributes` on template-only rows (column-wise path) and on the mixed rows (free-form rows cleared
  column-wise plus one jsonschema-rs check per user attribute when exact, else judged by the per-payload validator);
- `build_payloads` (canonical attribute JSON + three SHA-256 hashes) on the same two frames;
- the per-payload validator alone, µs per distinct free-form payload.

Reading and normalising (the catalog readers) are timed but belong to ingestion. The machine is shared: compare the
ratios within one run, and read the load average printed with them.

    python benchmarks/product_type_validation.py [--rows 100000] [--workdir /tmp/amz-ptv]

`--catalog FILE` measures instead what ingestion does per batch: `open_catalog(FILE).batches(50000)`, `normalize`,
one `validate_attributes` call per (batch, marketplace) on the rows without their helper columns (all rows, or with
`--gated` only those the row rules pass, as `ingest` does), summing CPU and wall time over the calls:

    python benchmarks/product_type_validation.py --catalog /tmp/amz-bench/bench_1000000.csv [--gated]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import polars as pl  # noqa: E402
from gen_catalog import generate  # noqa: E402

from amz_pipeline.catalog.mapping import build_payloads  # noqa: E402
from amz_pipeline.catalog.normalize import helper_columns, normalize  # noqa: E402
from amz_pipeline.catalog.readers import open_catalog, read_catalog  # noqa: E402
from amz_pipeline.validation import quarantine  # noqa: E402
from amz_pipeline.validation.product_types import default_registry, validate_attributes  # noqa: E402
from amz_pipeline.validation.row_schema import validate_rows  # noqa: E402

US = "ATVPDKIKX0DER"


def timed(label: str, action: Callable[[], Any], results: list[tuple[str, float, float]]) -> Any:
    wall, cpu = time.perf_counter(), time.process_time()
    value = action()
    results.append((label, time.perf_counter() - wall, time.process_time() - cpu))
    print(f"{label}: {results[-1][1]:.2f} s wall, {results[-1][2]:.2f} s CPU", flush=True)
    return value


def per_payload_us(frame: pl.DataFrame, limit: int = 5_000) -> float:
    """µs per distinct free-form payload for the per-payload validator alone (payload parsed from JSON included)."""
    built = build_payloads(frame.filter(pl.col("attributes_json").is_not_null()).head(limit), US, hashes=False)
    payloads = built.select("product_type", "requirements", "attributes").unique().rows()
    registry = default_registry()
    validators = {(t, r): registry.get(t, r) for t, r, _ in payloads}
    start = time.process_time()
    for product_type, requirements, attributes in payloads:
        validators[(product_type, requirements)].validate(json.loads(attributes))
    return (time.process_time() - start) / len(payloads) * 1e6


def per_batch(path: Path, gated: bool, batch_rows: int = 50_000) -> None:
    """`validate_attributes` as ingestion calls it, per batch and marketplace; reading and normalising untimed."""
    wall = cpu = 0.0
    rows = issues = calls = free_form = 0
    for batch in open_catalog(path).batches(batch_rows):
        frame = normalize(batch, None)
        if gated:
            frame, _ = quarantine.split(frame, validate_rows(frame))
        for (marketplace_id,), group in frame.partition_by("marketplace_id", as_dict=True).items():
            if marketplace_id is None:
                continue
            plain = group.drop(helper_columns(group))
            start_wall, start_cpu = time.perf_counter(), time.process_time()
            found = validate_attributes(plain, marketplace_id)
            wall += time.perf_counter() - start_wall
            cpu += time.process_time() - start_cpu
            rows += plain.height
            issues += found.height
            calls += 1
            free_form += int(plain["attributes_json"].is_not_null().sum()) if "attributes_json" in plain.columns else 0
    print(f"validate_attributes over {path.name}{' (rows passing the row rules)' if gated else ''}: {calls} calls, "
          f"{rows:,} rows ({free_form:,} free-form), {issues:,} issues: {cpu:.2f} s CPU, {wall:.2f} s wall")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/amz-ptv"))
    parser.add_argument("--catalog", type=Path, help="measure per-batch calls over this catalog file instead")
    parser.add_argument("--gated", action="store_true", help="with --catalog: only rows the row rules pass")
    args = parser.parse_args()
    if args.catalog is not None:
        per_batch(args.catalog, args.gated)
        return
    args.workdir.mkdir(parents=True, exist_ok=True)
    file = args.workdir / f"catalog_{args.rows}.csv"
    generate(args.rows).write_csv(file)
    load_before = os.getloadavg()
    results: list[tuple[str, float, float]] = []
    timed("floor: polars read_csv + write_ndjson", lambda: pl.read_csv(file).write_ndjson(args.workdir / "floor.ndjson"),
          results)
    frame = timed("(ingestion) read + normalise", lambda: normalize(read_catalog(file), None), results)
    mixed = frame.drop(helper_columns(frame))
    template_only = mixed.with_columns(pl.lit(None, pl.String).alias("attributes_json"))
    free_form = mixed["attributes_json"].is_not_null().sum()
    timed("validate_attributes, template rows only", lambda: validate_attributes(template_only, US), results)
    timed(f"validate_attributes, mixed ({free_form:,} free-form rows)", lambda: validate_attributes(mixed, US), results)
    timed("build_payloads, template rows only", lambda: build_payloads(template_only, US), results)
    timed("build_payloads, mixed", lambda: build_payloads(mixed, US), results)
    micro = per_payload_us(mixed)
    load_after = os.getloadavg()
    floor_wall, floor_cpu = results[0][1], results[0][2]
    print()
    print(f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.machine()}, {os.cpu_count()} CPUs, Python "
          f"{platform.python_version()}, polars {pl.__version__}; {args.rows:,} rows, file {file.stat().st_size / 1e6:.0f} MB; "
          f"load average {load_before[0]:.1f} before, {load_after[0]:.1f} after")
    print()
    print("| step | wall s | CPU s | × floor (wall) | × floor (CPU) |")
    print("|---|---|---|---|---|")
    for label, wall, cpu in results:
        print(f"| {label} | {wall:.2f} | {cpu:.2f} | {wall / floor_wall:.1f} | {cpu / floor_cpu:.1f} |")
    print(f"| per-payload validator alone | {micro:.0f} µs CPU per distinct payload | | | |")


if __name__ == "__main__":
    main()
