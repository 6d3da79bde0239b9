"""`make demo`: the pipeline end to end on our sandbox and SQLite, with no credentials.

1. start our SP-API sandbox in-process once per SP-API region (NA, EU, FE — like Amazon, one endpoint per region;
   our sandbox holds one region per seller), each in a thread on a free loopback port, high `--speed`, no feed delay,
   its state kept in data/state/sandbox-<region>.sqlite beside the pipeline's database;
2. register the demo seller (schemas/sandbox/demo_seller.json) in every region, each with its own refresh token as
   SP-API issues them, store those credentials in the secret store (`amz/<profile>/<seller>/<region>`, the encrypted
   database backend with a key made for this process unless AMZ_SECRETS_KEY is set) and the seller in our database;
3. copy `data/samples/` into the inbox: a file whose rows all name one marketplace into `inbox/<seller>/<country>/`,
   a multi-marketplace file into `inbox/<seller>/` (one run per marketplace it names);
4. run the drop-folder sensor and execute every run it requests in-process (the same job `make dev` runs), then one
   more tick that moves the finished files to data/processed/ (or data/failed/);
5. launch the interactive `sku_updates_job` once (a price/quantity change, and an attribute change Amazon refuses);
6. print a per-file summary: counts (rows, rejected locally by rule, accepted, invalid, live), then one line per SKU
   with a problem (invalid with Amazon's reasons, rejected locally with the rule), capped per file; then the
   interactive job's per-SKU outcomes.

Dagster's instance lives in DAGSTER_HOME (default .dagster_home), so the runs show up in `make dev` afterwards.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import os
import secrets as random_secrets
import shutil
import sys
import time
import warnings
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

REGIONS = ("NA", "EU", "FE")
SUFFIXES = {".csv", ".tsv", ".xlsx", ".parquet", ".ndjson", ".jsonl"}


def _prepare_dagster_home() -> Path:
    home = Path(os.environ.setdefault("DAGSTER_HOME", str(ROOT / ".dagster_home")))
    home.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(ROOT / "dagster.yaml", home / "dagster.yaml")
    return home


def copy_samples(samples: Path, inbox: Path, seller_id: str) -> list[Path]:
    """Single-marketplace files into their country folder, multi-marketplace ones into the seller folder."""
    from assets.sensors import file_marketplaces

    copied = []
    for sample in sorted(p for p in samples.iterdir() if p.is_file() and p.suffix.lower() in SUFFIXES):
        countries = sorted(set(file_marketplaces(sample)))
        folder = inbox / seller_id / countries[0] if len(countries) == 1 else inbox / seller_id
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(sample, folder / sample.name)
        copied.append(folder / sample.name)
    return copied


# --- sandboxes and credentials ------------------------------------------------------------------------------------

def sandbox_state_path(region: str) -> str:
    """The sandbox's state file beside the pipeline's database (data/state/): both keep what was published, so a
    later `make demo` or `make dev` sees the listings the database believes Amazon has. Delete data/state/ to start
    over."""
    from amz_pipeline.settings import Settings

    state = Settings.from_env().data_dir / "state"
    state.mkdir(parents=True, exist_ok=True)
    return str(state / f"sandbox-{region}.sqlite")


def start_sandboxes(stack: contextlib.ExitStack, speed: float) -> dict[str, str]:
    """One sandbox per region; their URLs go to AMZ_SANDBOX_URL_<REGION> (read by the client resource)."""
    from amz_pipeline.sandbox import SandboxConfig
    from amz_pipeline.sandbox.server import SandboxServer

    urls = {}
    for region in REGIONS:
        config = SandboxConfig(speed=speed, feed_processing_delay_seconds=0.0, state_path=sandbox_state_path(region))
        server = stack.enter_context(SandboxServer(config))
        urls[region] = server.base_url
        os.environ[f"AMZ_SANDBOX_URL_{region}"] = server.base_url
    os.environ["AMZ_SANDBOX_URL"] = urls["NA"]
    return urls


def regional_credentials(seller: dict, region: str) -> dict[str, str]:
    """The demo seller's credentials in `region`: the published ones in its home region, a refresh token of its own
    in every other region (one LWA app, one refresh token per region, as SP-API authorizes)."""
    token = seller["refresh_token"] if region == seller["region"] else f"{seller['refresh_token']}-{region.lower()}"
    return {"client_id": seller["client_id"], "client_secret": seller["client_secret"], "refresh_token": token}


def use_demo_secret_store() -> None:
    """The encrypted database store, with a key that lives only in this process unless one is configured."""
    os.environ["AMZ_SECRETS_BACKEND"] = "db"
    if not os.environ.get("AMZ_SECRETS_KEY") and not os.environ.get("AMZ_SECRETS_KMS_KEY_ID"):
        os.environ["AMZ_SECRETS_KEY"] = base64.b64encode(random_secrets.token_bytes(32)).decode()


def register_demo_seller(urls: dict[str, str], seller: dict, resources: dict) -> None:
    """In every region: the sandbox learns the seller (POST /_sandbox/sellers, idempotent), the secret store its
    credentials, our database the seller and the secret's name."""
    import httpx

    from amz_pipeline.spapi.secrets import secret_name
    from amz_pipeline.storage.repositories import ensure_seller, set_credential_ref

    store = resources["secrets"].store()
    with resources["database"].session() as session:
        ensure_seller(session, seller["seller_id"], "Demo seller")
    for region, url in urls.items():
        credentials = regional_credentials(seller, region)
        body = {"seller_id": seller["seller_id"], "region": region, **credentials}
        httpx.post(f"{url}/_sandbox/sellers", json=body, timeout=10).raise_for_status()
        name = secret_name(store.profile, seller["seller_id"], region)
        store.put(name, credentials)
        with resources["database"].session() as session:
            set_credential_ref(session, seller["seller_id"], region, name)


# --- running ---------------------------------------------------------------------------------------------------------

# The run's events all go to the instance's event log (see them in `make dev`); the terminal shows the summary only.
QUIET = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}


def _interrupted(result) -> bool:
    """Ctrl-C inside an in-process run fails the run instead of raising; the demo must stop then."""
    import dagster as dg

    return any("interrupted" in (event.message or "") for event in result.all_events
               if event.event_type == dg.DagsterEventType.RUN_FAILURE)


def run_pipeline(defs, resources: dict, instance, *, max_ticks: int = 5, echo=print) -> list:
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
            job = defs.resolve_job_def(request.job_name)
            started = time.monotonic()
            result = job.execute_in_process(
                run_config={**request.run_config, **QUIET}, instance=instance, partition_key=request.partition_key,
                tags={**request.tags, RUN_KEY_TAG: request.run_key}, raise_on_error=False,
            )
            echo(f"  {request.tags['amz/file']:<44} {request.partition_key:<20} "
                 f"{'ok' if result.success else 'FAILED'} in {time.monotonic() - started:4.1f} s")
            if _interrupted(result):
                raise KeyboardInterrupt
            results.append((request, result))
    return results


# --- summary ---------------------------------------------------------------------------------------------------------

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


NOT_PUBLISHED = "validated (not published)"
PROBLEM_STATES = ("invalid", "error", "suppressed", NOT_PUBLISHED)


class FileSummary:
    """What one dropped file became, over the runs of every marketplace it feeds."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.runs: list[str] = []
        self.stops: list[str] = []
        self.file_rows: int | None = None
        self.rows = 0
        self.rejected = 0
        self.by_rule: Counter[str] = Counter()
        self.states: Counter[str] = Counter()
        self.problems: list[str] = []
        self.keys: list[str] = []

    def add_run(self, request, result, instance, database) -> None:
        from assets.partitions import parse
        from assets.sensors import run_failure_reason

        pair = parse(request.partition_key)
        self.keys.append(pair.key)
        state = "ok" if result.success else "FAILED"
        if not result.success:
            self.stops.append(f"{pair.country}: {run_failure_reason(instance, result.run_id).splitlines()[0][:200]}")
        raw = _output(result, "raw_catalog")
        valid = _output(result, "validated_catalog", "validated_catalog")
        rejects = _output(result, "validated_catalog", "catalog_rejects")
        if raw is None or valid is None or rejects is None:
            self.runs.append(f"{pair.country} {state}")
            return
        self.runs.append(f"{pair.country} {raw.height} rows {state}")
        self.file_rows = _metadata(result, "raw_catalog").get("file_rows", self.file_rows)
        stored = _metadata(result, "validated_catalog")
        self.rows += int(stored.get("rows", raw.height))
        self.rejected += int(stored.get("rejected", 0))
        self.by_rule.update({k.removeprefix("rejects/"): int(v) for k, v in stored.items()
                             if k.startswith("rejects/")})
        skus = valid["sku"].to_list() if "sku" in valid.columns else []
        states = _listing_rows(database, pair.seller_id, pair.marketplace_id, skus) if result.success else {}
        for sku in skus:
            status, issues = states.get(sku, (NOT_PUBLISHED, []))
            self.states[status] += 1
            if status in PROBLEM_STATES and status != NOT_PUBLISHED:
                self.problems.append(f"{sku:<30} {pair.country}  {status}: {'; '.join(issues)[:150]}")
        for row, group in sorted(rejects.group_by("row"), key=lambda item: item[0][0]):
            sku = group["sku"][0] or "(no sku)"
            reasons = "; ".join(f"{r['rule']}: {str(r['message'])[:90]}" for r in group.iter_rows(named=True)
                                if r["severity"] == "error")
            self.problems.append(f"{sku:<30} {pair.country}  rejected locally (row {row[0]}): {reasons[:150]}")

    def render(self, max_problems: int, data_dir: Path) -> list[str]:
        valid = self.rows - self.rejected
        lines = [f"== {self.name}: {len(self.runs)} run(s) [{', '.join(self.runs)}]"]
        lines += [f"   stopped {stop}" for stop in self.stops]
        lost = "" if self.file_rows in (None, self.rows) else f"  (!! file has {self.file_rows} rows)"
        lines.append(f"   rows {self.rows}{lost} = valid {valid} + rejected locally {self.rejected}")
        published = ", ".join(f"{state} {n}" for state, n in self.states.most_common())
        lines.append(f"   valid SKUs: {published or 'none'}")
        if self.by_rule:
            lines.append("   rejected by rule: " + ", ".join(f"{r} {n}" for r, n in self.by_rule.most_common()))
        lines += [f"   {line}" for line in self.problems[:max_problems]]
        if len(self.problems) > max_problems:
            lines.append(f"   … {len(self.problems) - max_problems} more problem SKUs")
        if self.problems:
            seller = self.keys[0].rpartition(".")[0]
            lines.append(f"   all issues: {_shown(data_dir / 'issues')}/{seller}.<country>.csv; "
                         f"local rejects: {_shown(data_dir / 'rejected')}/{seller}/<country>/")
        return lines


def _shown(path: Path) -> str:
    """A path relative to the current directory when it lies inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _metadata(result, node: str) -> dict:
    for materialization in result.asset_materializations_for_node(node):
        return {k: v.value for k, v in materialization.metadata.items()}
    return {}


def render(results: list, instance, resources: dict, max_problems: int = 12) -> str:
    by_file: dict[str, FileSummary] = {}
    for request, result in results:
        name = request.tags["amz/file"]
        summary = by_file.setdefault(name, FileSummary(name))
        summary.add_run(request, result, instance, resources["database"])
    lines: list[str] = []
    data_dir = resources["settings"].settings().data_dir
    for summary in by_file.values():
        lines += summary.render(max_problems, data_dir)
    totals: dict[str, int] = defaultdict(int)
    for summary in by_file.values():
        totals["rows"] += summary.rows
        totals["rejected locally"] += summary.rejected
        for state, n in summary.states.items():
            totals[state] += n
    lines.append("== all files: " + ", ".join(f"{k} {v}" for k, v in totals.items()))
    return "\n".join(lines)


# The interactive path, shown after the files: a price/quantity change through the fast path, and a new SKU whose
# attributes miss what LUGGAGE requires, which Amazon's VALIDATION_PREVIEW refuses (an invalid SKU with Amazon's
# reasons; nothing is sent for it).
INTERACTIVE = {"seller_id": "A1DEMOSELLER01", "marketplace": "US", "changes": [
    {"sku": "US-VG-SP55-0001", "price": 119.0, "quantity": 12},
    {"sku": "DEMO-NEW-0001", "product_type": "LUGGAGE", "price": 99.0, "quantity": 5,
     "attributes": {"item_name": [{"value": "Demo cabin trolley", "language_tag": "en_US"}]}},
]}


def run_interactive(defs, instance) -> tuple[bool, list[str]]:
    """Launch sku_updates_job as the UI launchpad would; its per-SKU outcomes as summary lines."""
    job = defs.resolve_job_def("sku_updates_job")
    result = job.execute_in_process(run_config={"ops": {"apply_sku_changes": {"config": INTERACTIVE}}, **QUIET},
                                    instance=instance, raise_on_error=False, tags={"amz/seller": "A1DEMOSELLER01"})
    lines = [f"== interactive sku_updates_job (VALIDATION_PREVIEW, then the Listings API), run {result.run_id[:8]}: "
             f"{'ok' if result.success else 'FAILED'}"]
    for row in (_output(result, "apply_sku_changes") or []):
        detail = f" — {'; '.join(row['issues'])[:160]}" if row["issues"] else ""
        lines.append(f"   {row['sku']:<30} US  {row['operation']}: {row['outcome']}{detail}")
    lines.append("   (a later file drop is still the source of truth: its delta re-sends what the file says)")
    return result.success, lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--speed", type=float, default=50.0, help="sandbox speed factor (rates ×N, delays ÷N)")
    parser.add_argument("--samples", type=Path, default=ROOT / "data" / "samples")
    parser.add_argument("--max-problems", type=int, default=12, help="problem SKU lines shown per file")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore")
    started = time.monotonic()
    _prepare_dagster_home()
    use_demo_secret_store()
    os.environ.setdefault("AMZ_FEED_POLL_MAX_SECONDS", "1")  # the sandboxes finish feeds at once
    os.environ.pop("AMZ_SPAPI_ENDPOINT", None)

    with contextlib.ExitStack() as stack:
        urls = start_sandboxes(stack, args.speed)
        import dagster as dg

        from assets.definitions import defs
        from assets.resources_config import default_resources
        from resources.spapi import demo_seller

        seller = demo_seller()
        resources = default_resources()
        register_demo_seller(urls, seller, resources)
        inbox = resources["settings"].folder("inbox")
        files = copy_samples(args.samples, inbox, seller["seller_id"])
        if not files:
            print(f"no sample catalogs in {args.samples}; nothing to publish")
            return 1
        print(f"sandboxes {', '.join(f'{r} {u}' for r, u in urls.items())}")
        print(f"{len(files)} sample file(s) dropped into {inbox}:")
        for path in files:
            print(f"  {path.relative_to(inbox)}")
        instance = dg.DagsterInstance.get()
        results = run_pipeline(defs, resources, instance)
        summary = render(results, instance, resources, args.max_problems)  # before the interactive job changes SKUs
        interactive_ok, interactive = run_interactive(defs, instance)
        print()
        print(summary)
        print("\n".join(interactive))
    print(f"\ndemo finished in {time.monotonic() - started:.1f} s; open the runs with `make dev`")
    return 0 if results and interactive_ok and all(r.success for _, r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
