"""Ingestion benchmark: read → validate (row rules, marketplace rules, content policy, product types) → payload
fingerprints (batched) → delta against a stored state with 1% changed → mapped payloads (attribute JSON) of the
rows to send, at 100k and 1M rows.

Bars (issue 5): 1M rows within 3× of a plain Polars `read_csv` + `write_ndjson` of the same file measured in the
same run; peak RSS ≤ 2 GiB; 100k → 1M scales ≤ 11×; delta finds exactly the changed rows in ≤ 10 s. The ratio's
numerator is ingestion plus building the payloads of the changed rows (what publishing sends); the delta has its own
bar and is reported beside it.

Each phase runs in its own process so its peak RSS is its own. Ingestion runs in 75k-row batches on two worker threads and streams the
full valid rows to Parquet (`ingest(valid_dir=...)`), keeping only slim columns in memory. Results are appended to
benchmarks/RESULTS.md.

    python benchmarks/ingest.py [--sizes 100000 1000000] [--workdir /tmp/amz-bench] [--no-append]
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SELLER = "A1BENCHSELLER"
US = "ATVPDKIKX0DER"
CHANGED_EVERY = 100  # 1% of stored listings differ from the file
BATCH_ROWS = 75_000  # 2 worker threads: ~1.6 GiB peak at 1M rows (100k: ~2.0 GiB, 50k: ~1.1 GiB and ~12% slower)


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def phase_baseline(file: Path, workdir: Path) -> dict:
    import polars as pl

    start = time.perf_counter()
    pl.read_csv(file).write_ndjson(workdir / "baseline.ndjson")
    return {"seconds": time.perf_counter() - start, "peak_rss_mib": _peak_rss_mib()}


def phase_ingest(file: Path, workdir: Path) -> dict:
    from amz_pipeline.catalog.ingest import ingest

    start = time.perf_counter()
    result = ingest(file, seller_id=SELLER, marketplace="US", rejects_root=workdir / "rejected",
                    batch_rows=BATCH_ROWS, valid_dir=workdir / f"{file.stem}.valid")
    seconds = time.perf_counter() - start
    result.valid.write_parquet(workdir / f"{file.stem}.slim.parquet")
    return {
        "seconds": seconds, "peak_rss_mib": _peak_rss_mib(), "rows": result.rows, "valid": result.valid_count,
        "rejected": result.rejected_count, "by_rule": result.by_rule(),
        "distinct_payloads": result.valid["payload_hash"].n_unique(),
    }


def phase_delta(file: Path, workdir: Path) -> dict:
    import polars as pl
    import sqlalchemy as sa

    from amz_pipeline.catalog.delta import compute_delta
    from amz_pipeline.catalog.mapping import attributes_for
    from amz_pipeline.storage.db import make_engine, session_factory, upgrade
    from amz_pipeline.storage.models import Listing, Seller

    valid = pl.read_parquet(workdir / f"{file.stem}.slim.parquet")
    full_rows = pl.scan_parquet(workdir / f"{file.stem}.valid" / "*.parquet")
    database = workdir / f"{file.stem}.db"
    database.unlink(missing_ok=True)
    url = f"sqlite:///{database}"
    upgrade(url)
    engine = make_engine(url)
    stored = valid.with_row_index("_i").select(
        pl.lit(SELLER).alias("seller_id"), "marketplace_id", "sku", "product_type",
        pl.when(pl.col("_i") % CHANGED_EVERY == 0).then(pl.lit("0" * 64)).otherwise(pl.col("payload_hash"))
        .alias("accepted_payload_hash"),
        pl.col("offer_only_hash").alias("accepted_offer_hash"),
    )
    expected_changed = set(stored.filter(pl.col("accepted_payload_hash") == "0" * 64)["sku"])
    with session_factory(engine)() as session:
        session.add(Seller(seller_id=SELLER, name="benchmark"))
        session.flush()
        for chunk in stored.iter_slices(50_000):
            session.execute(sa.insert(Listing), chunk.to_dicts())
        session.commit()
    with session_factory(engine)() as session:
        start = time.perf_counter()
        delta = compute_delta(valid, session, SELLER, attributes_source=full_rows)
        seconds = time.perf_counter() - start
    engine.dispose()
    sending = delta.filter(pl.col("action").is_in(["new", "changed", "offer_only"])).select("marketplace_id", "sku")
    start = time.perf_counter()
    rows = full_rows.filter(pl.col("sku").is_in(sending["sku"].implode())).collect()
    payloads = attributes_for(rows.join(sending, on=["marketplace_id", "sku"], how="semi"))
    payload_seconds = time.perf_counter() - start
    changed = set(delta.filter(pl.col("action").is_in(["changed", "offer_only"]))["sku"])
    return {
        "seconds": seconds, "payload_seconds": payload_seconds, "payloads": payloads.height,
        "payload_mib": payloads["attributes"].str.len_bytes().sum() / 2**20,
        "peak_rss_mib": _peak_rss_mib(), "stored": stored.height,
        "expected_changed": len(expected_changed), "found_changed": len(changed),
        "exact": changed == expected_changed,
        "unchanged": delta.filter(pl.col("action") == "unchanged").height,
    }


PHASES = {"baseline": phase_baseline, "ingest": phase_ingest, "delta": phase_delta}


def _run_phase(name: str, file: Path, workdir: Path) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--phase", name, "--file", str(file), "--workdir", str(workdir)],
        check=True, capture_output=True, text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/amz-bench"))
    parser.add_argument("--no-append", action="store_true", help="do not append to benchmarks/RESULTS.md")
    parser.add_argument("--phase", choices=sorted(PHASES), help=argparse.SUPPRESS)
    parser.add_argument("--file", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    if args.phase:
        print(json.dumps(PHASES[args.phase](args.file, args.workdir)))
        return

    from benchmarks.gen_catalog import generate

    results = {}
    for size in args.sizes:
        file = args.workdir / f"bench_{size}.csv"
        if not file.exists():
            generate(size).write_csv(file)
        results[size] = {
            "file_mib": file.stat().st_size / 2**20,
            **{name: _run_phase(name, file, args.workdir) for name in ("baseline", "ingest", "delta")},
        }
        print(json.dumps({size: results[size]}, indent=1), file=sys.stderr)
    report = _report(results)
    print(report)
    if not args.no_append:
        with (ROOT / "benchmarks" / "RESULTS.md").open("a", encoding="utf-8") as handle:
            handle.write(report)


def _total(result: dict) -> float:
    """What the ratio measures: ingestion + building the payloads of the rows to send."""
    return result["ingest"]["seconds"] + result["delta"]["payload_seconds"]


def _report(results: dict[int, dict]) -> str:
    sizes = sorted(results)
    lines = [
        "",
        f"## Catalog ingestion (benchmarks/ingest.py) — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"Machine: {platform.machine()}, {platform.processor() or 'cpu'}, "
        f"{__import__('os').cpu_count()} cores, Python {platform.python_version()}, {platform.platform()}.",
        "",
        "| rows | file MiB | polars read+ndjson s | ingest s | payloads to send (n, MiB, s) | ratio | "
        "ingest peak RSS MiB | valid | rejected | distinct fingerprints | delta s | delta exact |",
        "|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for size in sizes:
        r = results[size]
        d = r["delta"]
        ratio = _total(r) / r["baseline"]["seconds"]
        lines.append(
            f"| {size:,} | {r['file_mib']:.0f} | {r['baseline']['seconds']:.2f} | {r['ingest']['seconds']:.2f} | "
            f"{d['payloads']:,}, {d['payload_mib']:.1f}, {d['payload_seconds']:.2f} | "
            f"{ratio:.2f}× | {r['ingest']['peak_rss_mib']:.0f} | {r['ingest']['valid']:,} | "
            f"{r['ingest']['rejected']:,} | {r['ingest']['distinct_payloads']:,} | {d['seconds']:.2f} | "
            f"{d['exact']} ({d['found_changed']:,}/{d['expected_changed']:,}) |"
        )
    if len(sizes) >= 2:
        small, large = results[sizes[0]], results[sizes[-1]]
        scale = _total(large) / _total(small)
        lines.append("")
        lines.append(f"Scaling {sizes[0]:,} → {sizes[-1]:,} rows: {scale:.2f}× (bar ≤ 11×).")
    large = results[sizes[-1]]
    lines += [
        "",
        f"Bars at {sizes[-1]:,} rows: ratio ≤ 3× → "
        f"{'met' if _total(large) <= 3 * large['baseline']['seconds'] else 'NOT met'}; "
        f"peak RSS ≤ 2048 MiB → {'met' if large['ingest']['peak_rss_mib'] <= 2048 else 'NOT met'}; "
        f"delta exact in ≤ 10 s → {'met' if large['delta']['exact'] and large['delta']['seconds'] <= 10 else 'NOT met'}.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
