"""Row gates of catalog ingestion, timed one by one per batch: trim, normalize, row rules (pandera), marketplace
rules, content policy, and the whole-file duplicate SKUs.

Reads the catalog the way `amz_pipeline.catalog.ingest` does (`open_catalog(path).batches(n)`, blank rows dropped,
`normalize(..., trimmed=True)`), and times each gate as process CPU time (all threads) and wall clock. Reading the
batches is timed too but is not a gate.

`--compare REV` also runs the same gates with the row-gate files (`OWNED`) taken from git revision REV (over a
temporary copy of the working tree's `amz_pipeline/` and `schemas/`) in alternating worker processes, side by side in one run, and checks that
both produce identical outputs: every gate's issues (all columns, in order) and every normalised batch.

    python benchmarks/row_gates.py FILE [--batch-rows 50000] [--marketplace US] [--compare REV] [--rounds 1]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GATES = ("read", "trim", "normalize", "validate_rows", "marketplace_issues", "content_policy_issues",
         "duplicate_issues")
OWNED = (
    "amz_pipeline/catalog/normalize.py", "amz_pipeline/validation/row_schema.py", "schemas/row_models.py",
    "amz_pipeline/validation/content_policy.py", "amz_pipeline/validation/marketplace_rules.py",
    "amz_pipeline/validation/duplicates.py", "amz_pipeline/validation/issues.py",
    "amz_pipeline/validation/quarantine.py",
)
CHECKED = ("trim", "normalize", "validate_rows", "marketplace_issues", "content_policy_issues", "duplicate_issues")


def _worker(file: Path, batch_rows: int, marketplace: str | None, out: Path | None) -> dict:
    import polars as pl

    import amz_pipeline
    import schemas
    from amz_pipeline.catalog import marketplaces as mk
    from amz_pipeline.catalog.normalize import normalize, trim
    from amz_pipeline.catalog.readers import READ_ERROR, ROW, open_catalog
    from amz_pipeline.validation.content_policy import content_policy_issues
    from amz_pipeline.validation.duplicates import duplicate_issues
    from amz_pipeline.validation.marketplace_rules import marketplace_issues
    from amz_pipeline.validation.row_schema import validate_rows

    for module in (amz_pipeline, schemas):
        if not Path(module.__file__).resolve().is_relative_to(Path.cwd().resolve()):
            raise RuntimeError(f"{module.__name__} imported from {module.__file__}, not from {Path.cwd()}")
    requested = mk.resolve(marketplace) if marketplace else None
    cpu = dict.fromkeys(GATES, 0.0)
    wall = dict.fromkeys(GATES, 0.0)
    outputs: dict[str, list] = {g: [] for g in CHECKED}

    def timed(gate, function, *args, **kwargs):
        c0, w0 = time.process_time(), time.perf_counter()
        value = function(*args, **kwargs)
        cpu[gate] += time.process_time() - c0
        wall[gate] += time.perf_counter() - w0
        return value

    rows = 0
    with open_catalog(file) as source:
        # duplicates: the keys of the whole file, as `ingest._Run._keys` builds them
        frame = source.lazy()
        names = frame.collect_schema().names()
        given = (pl.col("marketplace").str.strip_chars().str.to_uppercase() if "marketplace" in names
                 else pl.lit(None, pl.String))
        keys = frame.select(ROW, pl.col("sku").str.strip_chars().replace("", None), given.alias("_key")).collect()
        keys = keys.join(mk.marketplace_frame().select("_key", "marketplace_id"), on="_key", how="left",
                         maintain_order="left")
        if requested is not None:
            keys = keys.with_columns(pl.when(pl.col("_key").is_null()).then(pl.lit(requested["id"]))
                                     .otherwise(pl.col("marketplace_id")).alias("marketplace_id"))
        keys = keys.select(ROW, "sku", "marketplace_id")
        outputs["duplicate_issues"].append(timed("duplicate_issues", duplicate_issues, keys))

        batches = source.batches(batch_rows)
        while True:
            batch = timed("read", next, batches, None)
            if batch is None:
                break
            batch = timed("trim", trim, batch)
            content = [c for c in batch.columns if c not in (ROW, READ_ERROR)]
            blank = pl.all_horizontal(pl.col(c).is_null() for c in content) & pl.col(READ_ERROR).is_null()
            batch = batch.filter(~blank)
            if not batch.height:
                continue
            rows += batch.height
            outputs["trim"].append(batch)
            normalised = timed("normalize", normalize, batch, requested, trimmed=True)
            outputs["normalize"].append(normalised)
            outputs["validate_rows"].append(timed("validate_rows", validate_rows, normalised))
            outputs["marketplace_issues"].append(timed("marketplace_issues", marketplace_issues, normalised, requested))
            outputs["content_policy_issues"].append(timed("content_policy_issues", content_policy_issues, normalised))
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        for gate, frames in outputs.items():
            if frames:
                pl.concat(frames, how="vertical").write_parquet(out / f"{gate}.parquet")
    return {"rows": rows, "cpu": cpu, "wall": wall,
            "issues": {g: sum(f.height for f in outputs[g]) for g in CHECKED if g not in ("trim", "normalize")}}


def _extract(rev: str, into: Path) -> Path:
    """The working tree's `amz_pipeline/` and `schemas/` with the row-gate files taken from `rev`, so that the
    comparison isolates the row gates from concurrent changes elsewhere."""
    target = into / "before"
    for package in ("amz_pipeline", "schemas"):
        shutil.copytree(ROOT / package, target / package, ignore=shutil.ignore_patterns("__pycache__"))
    for owned in OWNED:
        text = subprocess.run(["git", "-C", str(ROOT), "show", f"{rev}:{owned}"], check=True,
                              capture_output=True).stdout
        (target / owned).write_bytes(text)
    return target


def _run_worker(code_root: Path, args: argparse.Namespace, out: Path | None) -> dict:
    command = [sys.executable, __file__, str(args.file), "--worker", "--code-root", str(code_root),
               "--batch-rows", str(args.batch_rows)]
    if args.marketplace:
        command += ["--marketplace", args.marketplace]
    if out is not None:
        command += ["--out", str(out)]
    env = {**os.environ, "PYTHONPATH": str(code_root)}
    done = subprocess.run(command, check=True, capture_output=True, text=True, env=env, cwd=str(code_root))
    return json.loads(done.stdout.strip().splitlines()[-1])


def _same_outputs(left: Path, right: Path) -> list[str]:
    import polars as pl
    from polars.testing import assert_frame_equal

    differences = []
    for gate in CHECKED:
        a, b = left / f"{gate}.parquet", right / f"{gate}.parquet"
        if a.exists() != b.exists():
            differences.append(f"{gate}: output present in only one run")
            continue
        if not a.exists():
            continue
        try:
            assert_frame_equal(pl.read_parquet(a), pl.read_parquet(b), check_exact=True)
        except AssertionError as exc:
            differences.append(f"{gate}: {str(exc).splitlines()[0]}")
    return differences


def _table(results: dict[str, list[dict]]) -> str:
    labels = list(results)
    head = f"{'gate':<24}" + "".join(f"{label + ' cpu s':>16}{label + ' wall s':>16}" for label in labels)
    lines = [head]
    for gate in (*GATES, "gates total"):
        cells = []
        for label in labels:
            runs = results[label]
            if gate == "gates total":
                cpu = min(sum(r["cpu"][g] for g in GATES if g != "read") for r in runs)
                wall = min(sum(r["wall"][g] for g in GATES if g != "read") for r in runs)
            else:
                cpu, wall = min(r["cpu"][gate] for r in runs), min(r["wall"][gate] for r in runs)
            cells.append(f"{cpu:>16.2f}{wall:>16.2f}")
        lines.append(f"{gate:<24}" + "".join(cells))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("file", type=Path)
    parser.add_argument("--batch-rows", type=int, default=50_000)
    parser.add_argument("--marketplace", default="US")
    parser.add_argument("--compare", metavar="REV", help="also run the gates of this git revision and compare")
    parser.add_argument("--rounds", type=int, default=1, help="alternating runs per side (minimum is reported)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--code-root", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.file = args.file.resolve()
    if args.worker:
        sys.path.insert(0, str(args.code_root))
        print(json.dumps(_worker(args.file, args.batch_rows, args.marketplace or None, args.out)))
        return
    with tempfile.TemporaryDirectory(prefix="row-gates-") as tmp:
        work = Path(tmp)
        sides = {"after": ROOT}
        if args.compare:
            sides = {"before": _extract(args.compare, work), "after": ROOT}
        results: dict[str, list[dict]] = {label: [] for label in sides}
        for round_ in range(args.rounds):
            for label, code_root in sides.items():
                out = work / f"out-{label}" if round_ == 0 and args.compare else None
                results[label].append(_run_worker(code_root, args, out))
        rows = {label: runs[0]["rows"] for label, runs in results.items()}
        print(f"{args.file.name}: {rows} rows, batches of {args.batch_rows}, load average {os.getloadavg()}")
        print(f"issues per gate: { {label: runs[0]['issues'] for label, runs in results.items()} }")
        print(_table(results))
        if args.compare:
            differences = _same_outputs(work / "out-before", work / "out-after")
            print("outputs identical" if not differences else "OUTPUTS DIFFER:\n  " + "\n  ".join(differences))
            if differences:
                sys.exit(1)


if __name__ == "__main__":
    main()
