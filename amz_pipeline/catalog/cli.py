"""`amz-pipeline validate FILE`: check a catalog file and write its rejects, without publishing anything.

Exit status: 0 every row is valid, 1 some rows were rejected, 2 the file cannot be read (or a bad option).
`--json` prints exactly one JSON object on stdout (progress and notes go to stderr).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from amz_pipeline.catalog.errors import CatalogReadError
from amz_pipeline.catalog.ingest import DEFAULT_BATCH_ROWS, IngestResult, ingest
from amz_pipeline.settings import Settings

PROGRESS_MIN_BYTES = 20 * 1024 * 1024  # show a progress bar for files from this size on


def _summary(file: Path, result: IngestResult | None, error: str | None) -> dict[str, Any]:
    if result is None:
        return {"file": str(file), "rows": 0, "valid": 0, "rejected": 0, "rejects_file": None, "by_rule": {},
                "error": error, "rejects_files": []}
    files = [str(p) for p in result.rejects_files]
    return {
        "file": str(file),
        "rows": result.rows,
        "valid": result.valid_count,
        "rejected": result.rejected_count,
        # The fixed shape keeps `rejects_file` a single path (or null); a file spanning several marketplaces has one
        # rejects file per marketplace, all listed in the added `rejects_files`.
        "rejects_file": files[0] if files else None,
        "by_rule": result.by_rule(),
        "error": None,
        "rejects_files": files,
    }


def _run_with_progress(file: Path, show: bool, **kwargs: Any) -> IngestResult:
    if not show:
        return ingest(file, **kwargs)
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (TextColumn("validating"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task("rows", total=None)
        return ingest(file, on_progress=lambda done, total: progress.update(task, completed=done, total=total),
                      **kwargs)


@click.command(name="validate")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=True))
@click.option("--seller", "seller_id", default="local", show_default=True, envvar="AMZ_SELLER_ID",
              help="Seller id; rejects go to <AMZ_DATA_DIR>/rejected/<seller>/<marketplace>/.")
@click.option("--marketplace", default=None,
              help="Check every row against this marketplace (US, DE, ... or a marketplace id); rows naming "
                   "another marketplace are rejected. Default: each row's own marketplace column.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of the text summary.")
@click.option("--rejects-dir", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Where rejects files go.  [default: <AMZ_DATA_DIR>/rejected, as `publish` uses]")
@click.option("--batch-rows", type=click.IntRange(min=1), default=DEFAULT_BATCH_ROWS, show_default=True)
def command(file: Path, seller_id: str, marketplace: str | None, as_json: bool, rejects_dir: Path | None,
            batch_rows: int) -> None:
    """Validate a catalog FILE (CSV, TSV, XLSX, Parquet, NDJSON) and write its rejects for the seller to fix."""
    result: IngestResult | None = None
    error: str | None = None
    try:
        if not seller_id.strip():
            raise ValueError("--seller must not be empty")
        if rejects_dir is None:
            rejects_dir = Settings.from_env().data_dir / "rejected"
        show_progress = not as_json and file.is_file() and file.stat().st_size >= PROGRESS_MIN_BYTES
        result = _run_with_progress(file, show_progress, seller_id=seller_id, marketplace=marketplace,
                                    batch_rows=batch_rows, rejects_root=rejects_dir)
    except CatalogReadError as exc:
        error = str(exc)
    except ValueError as exc:  # empty --seller, unknown --marketplace, a bad AMZ_* variable (SettingsError)
        error = str(exc)
    summary = _summary(file, result, error)
    if as_json:
        click.echo(json.dumps(summary, ensure_ascii=False))
    else:
        _print_text(summary, result)
    sys.exit(2 if error else (1 if summary["rejected"] else 0))


def _print_text(summary: dict[str, Any], result: IngestResult | None) -> None:
    if summary["error"]:
        click.echo(f"error: {summary['error']}", err=True)
        return
    click.echo(f"{summary['file']}: {summary['rows']} rows, {summary['valid']} valid, {summary['rejected']} rejected")
    for rule, count in summary["by_rule"].items():
        click.echo(f"  {rule}: {count}")
    if result is not None:
        for path in result.rejects_files:
            click.echo(f"rejects written to {path}")
        if result.warnings.height:
            click.echo(f"{result.warnings['row'].n_unique()} valid rows have warnings:")
            for row, message in result.warnings.sort("row").select("row", "message").head(20).iter_rows():
                click.echo(f"  row {row}: {message}")
        for note in result.file_warnings:
            click.echo(f"note: {note}", err=True)
