"""`make demo`: the pipeline end to end on our sandbox and SQLite, with no credentials.

1. start the SP-API sandbox in-process (a thread, a free loopback port, high `--speed`, no feed delay);
2. register the demo seller (schemas/sandbox/demo_seller.json) with the sandbox and in our database;
3. copy `data/samples/` into `data/inbox/<seller>/<country>/` (a file whose name ends `_<country>.<ext>`, e.g.
   `catalog_de.csv`, goes to that marketplace; others to US);
4. run the drop-folder sensor and execute every run it requests in-process (the same job `make dev` runs), then one
   more tick that moves the finished files to data/processed/ (or data/failed/);
5. print a per-file, per-SKU summary: accepted / invalid with Amazon's reasons / rejected locally with the rule.

Dagster's instance lives in DAGSTER_HOME (default .dagster_home), so the runs show up in `make dev` afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _prepare_dagster_home() -> Path:
    home = Path(os.environ.setdefault("DAGSTER_HOME", str(ROOT / ".dagster_home")))
    home.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(ROOT / "dagster.yaml", home / "dagster.yaml")
    return home


def _country_of(name: str) -> str:
    from amz_pipeline.spapi import endpoints

    match = re.search(r"[_.-]([A-Za-z]{2})$", Path(name).stem.removesuffix(".full"))
    if match:
        try:
            return endpoints.marketplace(match.group(1)).country_code
        except endpoints.UnknownMarketplaceError:
            pass
    return "US"


def copy_samples(samples: Path, inbox: Path, seller_id: str) -> list[Path]:
    copied = []
    suffixes = {".csv", ".tsv", ".xlsx", ".parquet", ".ndjson", ".jsonl"}
    for sample in sorted(p for p in samples.iterdir() if p.is_file() and p.suffix.lower() in suffixes):
        target = inbox / seller_id / _country_of(sample.name) / sample.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(sample, target)
        copied.append(target)
    return copied


# The run's events all go to the instance's event log (see them in `make dev`); the terminal shows the summary only.
QUIET = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}


def _interrupted(result) -> bool:
    """Ctrl-C inside an in-process run fails the run instead of raising; the demo must stop then."""
    import dagster as dg

    return any("interrupted" in (event.message or "") for event in result.all_events
               if event.event_type == dg.DagsterEventType.RUN_FAILURE)


def run_pipeline(defs, resources: dict, instance, *, max_ticks: int = 5) -> list:
    """Tick the drop-folder sensor and execute the runs it asks for, until the inbox is settled."""
    import dagster as dg
    from dagster._core.storage.tags import RUN_KEY_TAG

    sensor = defs.get_sensor_def("inbox_sensor")
    cursor, results = None, []
    for _ in range(max_ticks):
        context = dg.build_sensor_context(instance=instance, cursor=cursor, resources=resources)
        tick = sensor(context)
        cursor = tick.cursor
        for request in tick.dynamic_partitions_requests or []:
            instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
        if not tick.run_requests:
            return results
        for request in tick.run_requests:
            print(f"  running {request.job_name} for {request.tags['amz/file']} ...", flush=True)
            job = defs.resolve_job_def(request.job_name)
            started = time.monotonic()
            result = job.execute_in_process(
                run_config={**request.run_config, **QUIET}, instance=instance, partition_key=request.partition_key,
                tags={**request.tags, RUN_KEY_TAG: request.run_key}, raise_on_error=False,
            )
            print(f"    {'ok' if result.success else 'FAILED'} in {time.monotonic() - started:.1f} s", flush=True)
            if _interrupted(result):
                raise KeyboardInterrupt
            results.append((request, result))
    return results


def register_demo_seller(base_url: str, seller: dict, database) -> None:
    """The sandbox knows the demo seller from start-up; registering again is idempotent. Our database gets the row."""
    import httpx

    from amz_pipeline.storage.repositories import ensure_seller

    httpx.post(f"{base_url}/_sandbox/sellers", json=seller, timeout=10).raise_for_status()
    with database.session() as session:
        ensure_seller(session, seller["seller_id"], "Demo seller")


def _output(result, node: str, output: str = "result"):
    try:
        return result.output_for_node(node, output)
    except Exception:  # noqa: BLE001 - the step did not run (an earlier gate stopped the run); shown as such
        return None


def _listing_rows(database, seller_id: str, marketplace_id: str, skus: list[str]) -> dict[str, tuple[str, list]]:
    """Per SKU: the listing's status and its ERROR issues (or, for a failed call, the job's last error)."""
    from sqlalchemy import select

    from amz_pipeline.storage import repositories
    from amz_pipeline.storage.models import PublishJob

    with database.session() as session:
        found = repositories.listings_by_keys(session, seller_id, [(marketplace_id, s) for s in skus])
        rows = {sku: (row.status, [f"{i.code}: {i.message}" for i in row.issues if i.severity == "ERROR"])
                for (_, sku), row in found.items()}
        for sku, (status, issues) in list(rows.items()):
            if status == "error" and not issues:
                error = session.scalar(select(PublishJob.last_error).where(
                    PublishJob.seller_id == seller_id, PublishJob.marketplace_id == marketplace_id,
                    PublishJob.sku == sku).order_by(PublishJob.id.desc()).limit(1))
                rows[sku] = (status, [error] if error else [])
        return rows


def render(results: list, instance, resources: dict, seller_id: str, max_skus: int = 12) -> str:
    """Per file: counts and outcome; per SKU: accepted / live / invalid (Amazon's reasons) / rejected locally."""
    from assets.partitions import parse
    from assets.sensors import run_failure_reason

    lines = []
    for request, result in results:
        pair = parse(request.partition_key)
        valid = _output(result, "validated_catalog", "validated_catalog")
        rejects = _output(result, "validated_catalog", "catalog_rejects")
        changes = _output(result, "listing_changes")
        lines.append(f"== {request.tags['amz/file']}  [{pair.key}]  run {result.run_id[:8]}: "
                     f"{'succeeded' if result.success else 'FAILED'}")
        if not result.success:
            reason = run_failure_reason(instance, result.run_id).splitlines()[0][:240]
            lines.append(f"   stopped: {reason}")
        if valid is None:
            continue
        rejected_skus = sorted(set(rejects["sku"].drop_nulls().to_list())) if rejects is not None and rejects.height else []
        lines.append(f"   rows valid {valid.height}, rejected locally {len(rejected_skus)}, "
                     f"changes to publish {changes.height if changes is not None else 0}")
        skus = valid["sku"].to_list() if "sku" in valid.columns else []
        states = _listing_rows(resources["database"], seller_id, pair.marketplace_id, skus)
        for sku in skus[:max_skus]:
            status, issues = states.get(sku, ("validated (not published)", []))
            detail = f" — {'; '.join(issues)[:160]}" if issues else ""
            lines.append(f"   {sku:<28} {status}{detail}")
        if len(skus) > max_skus:
            tally: dict[str, int] = {}
            for sku in skus:
                tally[states.get(sku, ("validated (not published)",))[0]] = tally.get(
                    states.get(sku, ("validated (not published)",))[0], 0) + 1
            lines.append(f"   … {len(skus) - max_skus} more; all valid SKUs by state: {json.dumps(tally)}")
        for row in (rejects.to_dicts() if rejects is not None else [])[:max_skus]:
            lines.append(f"   {str(row.get('sku') or '(no sku)'):<28} rejected locally (row {row.get('row')}): "
                         f"{row.get('rule')}: {str(row.get('message'))[:120]}")
        if rejects is not None and rejects.height > max_skus:
            lines.append(f"   … {rejects.height - max_skus} more local rejects in catalog_rejects")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--speed", type=float, default=50.0, help="sandbox speed factor (rates ×N, delays ÷N)")
    parser.add_argument("--samples", type=Path, default=ROOT / "data" / "samples")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore")
    started = time.monotonic()
    _prepare_dagster_home()

    from amz_pipeline.sandbox import SandboxConfig
    from amz_pipeline.sandbox.server import SandboxServer

    config = SandboxConfig(speed=args.speed, feed_processing_delay_seconds=0.0, seed=0)
    with SandboxServer(config) as sandbox:
        os.environ["AMZ_SANDBOX_URL"] = sandbox.base_url
        os.environ.setdefault("AMZ_FEED_POLL_MAX_SECONDS", "1")  # the sandbox finishes feeds at once
        os.environ.pop("AMZ_SPAPI_ENDPOINT", None)
        import dagster as dg

        from assets.definitions import defs
        from assets.resources_config import default_resources
        from resources.spapi import demo_seller

        seller = demo_seller()
        resources = default_resources()
        register_demo_seller(sandbox.base_url, seller, resources["database"])
        inbox = resources["settings"].folder("inbox")
        files = copy_samples(args.samples, inbox, seller["seller_id"])
        if not files:
            print(f"no sample catalogs in {args.samples}; nothing to publish")
            return 1
        print(f"sandbox at {sandbox.base_url}; {len(files)} sample file(s) dropped into {inbox}")
        instance = dg.DagsterInstance.get()
        results = run_pipeline(defs, resources, instance)
        print()
        print(render(results, instance, resources, seller["seller_id"]))
    print(f"\ndemo finished in {time.monotonic() - started:.1f} s; open the runs with `make dev`")
    return 0 if results and all(r.success for _, r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
