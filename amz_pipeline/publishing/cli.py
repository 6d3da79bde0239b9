"""`amz-pipeline publish | status | dlq` — the publishing engine's face for scripts, cron and recovery.

publish (and --resume) exit with 0 when every change reached a terminal state and none failed (also "nothing to
resume"), 1 when it finished with rows rejected, changes invalid or dead-lettered, 2 when it could not start
(unreadable file, bad configuration). Credentials come from the environment (`AMZ_SELLER_ID`, `AMZ_REGION`,
`AMZ_LWA_CLIENT_ID`, `AMZ_LWA_CLIENT_SECRET`, `AMZ_REFRESH_TOKEN`, `AMZ_SPAPI_ENDPOINT`, `AMZ_LWA_ENDPOINT`).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import click

from amz_pipeline import telemetry

EXIT_OK, EXIT_PROBLEMS, EXIT_CANNOT_START = 0, 1, 2


def _fail_to_start(message: str) -> None:
    click.echo(f"error: {telemetry.redact(message)}", err=True)
    sys.exit(EXIT_CANNOT_START)


def _settings() -> Any:
    from amz_pipeline.settings import Settings, SettingsError

    try:
        return Settings.from_env()
    except SettingsError as exc:
        _fail_to_start(str(exc))


def _database(settings: Any) -> Any:
    """Engine on a migrated database (a fresh database is migrated here)."""
    from amz_pipeline.storage.db import make_engine, upgrade

    try:
        upgrade(settings.database_url)
    except Exception as exc:  # noqa: BLE001 - any failure to reach or migrate the database means "cannot start"
        _fail_to_start(f"database {_masked_url(settings.database_url)}: {_first_line(exc)}")
    return make_engine(settings.database_url)


def _masked_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - an unparsable URL is shown without anything after a user part
        return url.split("@")[-1]


def _first_line(exc: BaseException) -> str:
    """The driver's own message, without SQLAlchemy's SQL echo and "(Background on this error at ...)" link."""
    from sqlalchemy.exc import DBAPIError

    original = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    lines = [line.strip() for line in str(original).splitlines() if line.strip()]
    return f"{type(original).__name__}: {lines[0] if lines else type(original).__name__}"


def _clients(endpoint: str | None, seller_id: str | None) -> Any:
    from amz_pipeline.publishing.client import ClientPool, check_credentials, env_client_factory
    from amz_pipeline.spapi.config import ClientConfig, ConfigError

    env = dict(os.environ)
    if endpoint:
        env["AMZ_SPAPI_ENDPOINT"] = endpoint
    try:
        config = ClientConfig.from_env(env)
    except ConfigError as exc:
        message = str(exc)
        if endpoint and message.startswith("AMZ_SPAPI_ENDPOINT:"):
            message = "--endpoint:" + message.removeprefix("AMZ_SPAPI_ENDPOINT:")
        _fail_to_start(message)
    if seller_id is not None and seller_id != config.seller_id:
        _fail_to_start(f"--seller {seller_id} differs from AMZ_SELLER_ID {config.seller_id}: the credentials in the "
                       "environment belong to another seller")
    problem = check_credentials(config)
    if problem is not None:
        _fail_to_start(problem)
    return ClientPool(env_client_factory(config))


def _progress_printer() -> Any:
    """A progress bar on a terminal, nothing otherwise (scripts read the summary)."""
    if not sys.stderr.isatty():
        return None, None
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    progress = Progress(TextColumn("publishing"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.description}"),
                        TimeElapsedColumn(), console=Console(stderr=True), transient=True)
    task = progress.add_task("", total=None)

    def update(counts: dict[str, int]) -> None:
        total = sum(v for k, v in counts.items() if k != "superseded")
        done = total - counts.get("pending", 0) - counts.get("in_flight", 0)
        progress.update(task, total=total, completed=done,
                        description=f"in flight {counts.get('in_flight', 0)}, pending {counts.get('pending', 0)}")

    return progress, update


def _print_summary(outcome: Any) -> None:
    m = outcome.metrics
    click.echo(f"rows {outcome.rows}, rejected {outcome.rejected}; changes: accepted {m.get('accepted', 0)}, "
               f"invalid {m.get('invalid', 0)}, dead-lettered {m.get('dead_lettered', 0)}, "
               f"still open {m.get('backlog', 0)}; throttles {m.get('throttles', 0)}, retries {m.get('retries', 0)}, "
               f"p50 {m.get('latency_ms_p50')} ms, p95 {m.get('latency_ms_p95')} ms")
    for note in outcome.notes:
        click.echo(f"note: {note}", err=True)


@click.command(name="publish")
@click.argument("file", required=False, type=click.Path(path_type=Path, dir_okay=False))
@click.option("--seller", "seller_id", help="Seller id (must match AMZ_SELLER_ID, whose credentials are used).")
@click.option("--marketplace", help="Only this marketplace (US, DE, ... or an id); rows naming another are rejected. "
                                    "Without it each row goes to the marketplace it names.")
@click.option("--mode", type=click.Choice(["auto", "listings", "feed"]), default="auto", show_default=True,
              help="auto: ≤ AMZ_LISTINGS_MAX_SKUS SKUs through the Listings API, more through JSON_LISTINGS_FEED.")
@click.option("--full-catalog", is_flag=True, help="The file is the seller's full catalog: complete listings go out "
                                                   "as full replacements (UPDATE).")
@click.option("--endpoint", help="SP-API base URL (overrides AMZ_SPAPI_ENDPOINT), e.g. http://127.0.0.1:8787.")
@click.option("--wait", is_flag=True, help="Follow feeds to their processing reports before returning.")
@click.option("--resume", is_flag=True, help="Finish whatever a crashed or unfinished run left in the queue.")
@click.option("--preview", is_flag=True, help="Check each per-SKU change with VALIDATION_PREVIEW before sending it.")
def publish_command(file: Path | None, seller_id: str | None, marketplace: str | None, mode: str, full_catalog: bool,
                    endpoint: str | None, wait: bool, resume: bool, preview: bool) -> None:
    """Publish a catalog FILE for a seller (ingest, validate, delta, enqueue, send), or --resume."""
    from amz_pipeline.publishing import runs
    from amz_pipeline.publishing.engine import EngineConfig, Mode
    from amz_pipeline.publishing.markets import resolve

    if resume and file is not None:
        _fail_to_start("give either FILE or --resume, not both")
    if not resume and (file is None or not seller_id):
        _fail_to_start("publish needs FILE and --seller (or --resume)")
    marketplace_id = None
    if marketplace:
        try:
            marketplace_id = resolve(marketplace)
        except LookupError as exc:
            _fail_to_start(str(exc))
    if file is not None and not file.is_file():
        _fail_to_start(f"{file}: no such file")
    settings = _settings()
    engine = _database(settings)
    clients = _clients(endpoint, seller_id)
    config = EngineConfig.from_settings(settings, preview=preview)
    rejects_root = settings.data_dir / "rejected"
    progress, update = _progress_printer()
    try:
        with telemetry.trace():
            if progress is not None:
                progress.start()
            if resume:
                outcome = runs.resume(engine, clients, config=config, rejects_root=rejects_root, progress=update)
                if not outcome.run_ids and not outcome.metrics:
                    click.echo("nothing to resume")
                    sys.exit(EXIT_OK)
            else:
                outcome = runs.publish_file(
                    engine, clients, path=file, seller_id=seller_id, marketplace_id=marketplace_id, mode=Mode(mode),
                    full_catalog=full_catalog, wait=wait, config=config, rejects_root=rejects_root,
                    options={"endpoint": endpoint, "preview": preview}, progress=update)
    except runs.RunInputError as exc:
        _fail_to_start(str(exc))
    finally:
        if progress is not None:
            progress.stop()
    _print_summary(outcome)
    sys.exit(EXIT_PROBLEMS if outcome.problems else EXIT_OK)


@click.command(name="status")
@click.option("--seller", "seller_id", required=True)
@click.option("--sku", help="Only this SKU.")
@click.option("--json", "as_json", is_flag=True,
              help='Print a JSON list of {"seller", "marketplace", "sku", "status", "asin", "issues"}.')
def status_command(seller_id: str, sku: str | None, as_json: bool) -> None:
    """Per-SKU state and issues of a seller's listings."""
    from amz_pipeline.publishing.status import listing_states

    engine = _database(_settings())
    rows = listing_states(engine, seller_id, sku=sku)
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False))
    else:
        for row in rows:
            click.echo(f"{row['marketplace']}\t{row['sku']}\t{row['status']}\t{row['asin'] or '-'}")
            for issue in row["issues"]:
                names = ",".join(issue["attributeNames"])
                click.echo(f"\t{issue['severity']} {issue['code']}: {issue['message']}" + (f" [{names}]" if names else ""))
    if sku and not rows:
        click.echo(f"no listing {sku} for seller {seller_id}", err=True)
        sys.exit(1)


@click.group(name="dlq")
def dlq_command() -> None:
    """The dead-letter queue: changes that will not succeed by retrying alone."""


def _cause_choice() -> click.Choice:
    from amz_pipeline.storage.models import DeadLetterCause

    return click.Choice([cause.value for cause in DeadLetterCause])


@dlq_command.command(name="list")
@click.option("--cause", type=_cause_choice(), help="Only letters of this cause.")
@click.option("--seller", "seller_id")
@click.option("--all", "include_redriven", is_flag=True, help="Include letters already re-driven.")
@click.option("--json", "as_json", is_flag=True)
def dlq_list(cause: str | None, seller_id: str | None, include_redriven: bool, as_json: bool) -> None:
    from amz_pipeline.publishing import dlq

    engine = _database(_settings())
    letters = [dlq.as_dict(x) for x in dlq.list_letters(engine, cause=cause, seller_id=seller_id,
                                                        include_redriven=include_redriven)]
    if as_json:
        click.echo(json.dumps(letters, ensure_ascii=False))
        return
    for letter in letters:
        click.echo(f"{letter['id']}\t{letter['cause']}\t{letter['seller']}\t{letter['marketplace']}\t{letter['sku']}\t"
                   f"{letter['reason'][:120]}")


@dlq_command.command(name="show")
@click.argument("letter_id", type=int)
def dlq_show(letter_id: int) -> None:
    from amz_pipeline.publishing import dlq

    letter = dlq.get_letter(_database(_settings()), letter_id)
    if letter is None:
        click.echo(f"no dead letter {letter_id}", err=True)
        sys.exit(1)
    click.echo(json.dumps(dlq.as_dict(letter, with_payload=True), ensure_ascii=False, indent=2))


@dlq_command.command(name="redrive")
@click.option("--cause", type=_cause_choice(), help="Only letters of this cause.")
@click.option("--id", "ids", type=int, multiple=True, help="Only these letters (repeatable).")
def dlq_redrive(cause: str | None, ids: tuple[int, ...]) -> None:
    """Queue dead letters again (after fixing their cause); `publish --resume` sends them."""
    from amz_pipeline.publishing import dlq

    result = dlq.redrive(_database(_settings()), cause=cause, ids=list(ids) or None)
    click.echo(f"queued {result.queued}, skipped {result.superseded} (a newer change exists)"
               + (f"; run {result.run_id} - send with `amz-pipeline publish --resume`" if result.queued else ""))
