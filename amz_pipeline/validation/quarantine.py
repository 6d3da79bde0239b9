"""Quarantine: split a batch into valid rows and rejected rows, and write the rejects a seller fixes.

A row is rejected when any gate reported an `error` for it; `warning`s never reject. Every input row ends up
in exactly one of the two outputs (checked by the caller's reconciliation).
"""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl

from amz_pipeline.validation.issues import ERROR, ISSUE_SCHEMA

REJECT_COLUMNS = ("file", *ISSUE_SCHEMA)
REJECT_SCHEMA = {"file": pl.String, **ISSUE_SCHEMA}
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def rejected_rows(issues: pl.DataFrame) -> pl.Series:
    """Row numbers with at least one error."""
    return issues.filter(pl.col("severity") == ERROR)["row"].unique()


def split(frame: pl.DataFrame, issues: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(rows without errors, rows with errors)."""
    bad = rejected_rows(issues)
    is_bad = pl.col("row").is_in(bad.implode())
    return frame.filter(~is_bad), frame.filter(is_bad)


def empty_rejects() -> pl.DataFrame:
    return pl.DataFrame(schema=REJECT_SCHEMA)


def safe_path_part(text: str) -> str:
    """A seller id, marketplace or file name as one path component (no separators, no `..`)."""
    cleaned = _UNSAFE.sub("_", text).strip("._") or "_"
    return cleaned


def rejects_path(root: Path, seller_id: str, marketplace: str, file_name: str) -> Path:
    """`<root>/<seller>/<marketplace>/<file>.rejects.csv`."""
    return root / safe_path_part(seller_id) / safe_path_part(marketplace) / f"{safe_path_part(file_name)}.rejects.csv"


def write_rejects(rejects: pl.DataFrame, path: Path) -> Path:
    """Write (replace) one rejects file, sorted by row; UTF-8 with a BOM so spreadsheet programs show accents."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".csv.tmp")
    rejects.select(REJECT_COLUMNS).sort("row", "field", "rule").write_csv(temporary, include_bom=True)
    temporary.replace(path)
    return path
