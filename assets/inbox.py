"""The drop folder: `data/inbox/<sellerId>/<country>/<file>` (publish) and `.../<country>/drafts/<file>` (validate only).

Pure file logic, used by the drop-folder sensor: scanning with a cursor, run keys, moving files out of the inbox.

Run key = content hash + the time this content was first seen in the inbox. While a file with that content is still
waiting, every tick yields the same run key, so Dagster launches one run; once the run has finished and the file has
moved to `processed/`, the cursor forgets it, and dropping the same content again later (a revert) gets a new
first-seen time and therefore a new run. Two files with the same content dropped together share one run.

A file whose name contains `.full.` (e.g. `catalog.full.csv`) is a declared full catalog. Files being written should
use a name starting with `.` or ending with `.part`/`.tmp` and be renamed when complete; those are ignored.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from . import files
from .partitions import PartitionKeyError, SellerMarketplace, pair

DRAFTS = "drafts"
_IGNORED_SUFFIXES = (".part", ".tmp", ".crdownload", ".partial")


@dataclass(frozen=True)
class Drop:
    path: Path
    rel: str
    pair: SellerMarketplace
    sha256: str
    first_seen: str
    draft: bool

    @property
    def run_key(self) -> str:
        return f"{self.sha256}@{self.first_seen}"

    @property
    def full_catalog(self) -> bool:
        return ".full." in self.path.name.lower()


@dataclass(frozen=True)
class Refused:
    path: Path
    rel: str
    reason: str


def utc_stamp(moment: datetime | None = None) -> str:
    return (moment or datetime.now(UTC)).strftime("%Y%m%dT%H%M%S.%fZ")


def _ignored(path: Path) -> bool:
    return path.name.startswith(".") or path.name.lower().endswith(_IGNORED_SUFFIXES)


def _classify(inbox: Path, path: Path) -> tuple[SellerMarketplace | None, bool, str | None]:
    """(pair, is_draft, refusal reason) for a file under the inbox."""
    if path.is_symlink() and not files.is_inside(path, inbox):
        return None, False, f"{path.name} is a link to a file outside the inbox ({path.resolve()}); refused"
    parts = path.relative_to(inbox).parts
    draft = len(parts) == 4 and parts[2] == DRAFTS
    if len(parts) != 3 and not draft:
        return None, False, (
            f"{'/'.join(parts)} is not in a seller/marketplace folder: put catalog files in "
            "inbox/<sellerId>/<country>/ (or inbox/<sellerId>/<country>/drafts/ to validate without publishing)"
        )
    try:
        found = pair(parts[0], parts[1])
    except PartitionKeyError as exc:
        return None, False, f"folder {parts[0]}/{parts[1]}: {exc}"
    if path.suffix.lower() not in files.CATALOG_SUFFIXES:
        return None, False, (
            f"{path.name}: unsupported file type {path.suffix or '(none)'}; "
            f"expected one of {', '.join(files.CATALOG_SUFFIXES)}"
        )
    if path.stat().st_size == 0:
        return None, False, f"{path.name} is empty"
    return found, draft, None


def scan(inbox: Path, cursor: dict, now: str) -> tuple[list[Drop], list[Refused], dict]:
    """Every waiting file as a Drop (or Refused), and the next cursor (entries for files that still exist only)."""
    seen: dict[str, dict] = cursor.get("files", {})
    first_seen_by_sha = {entry["sha256"]: entry["first_seen"] for entry in seen.values()}
    drops: list[Drop] = []
    refused: list[Refused] = []
    next_files: dict[str, dict] = {}
    if not inbox.is_dir():
        return drops, refused, {"files": {}}
    for path in sorted(p for p in inbox.rglob("*") if p.is_file() or p.is_symlink()):
        if _ignored(path):
            continue
        rel = path.relative_to(inbox).as_posix()
        found, draft, reason = _classify(inbox, path)
        if reason:
            refused.append(Refused(path, rel, reason))
            continue
        stat = path.stat()
        entry = seen.get(rel)
        if entry and entry["size"] == stat.st_size and entry["mtime_ns"] == stat.st_mtime_ns:
            sha = entry["sha256"]
        else:
            sha = files.sha256_file(path)
        if entry and entry["sha256"] == sha:
            first = entry["first_seen"]
        else:
            first = first_seen_by_sha.setdefault(sha, now)
        next_files[rel] = {"sha256": sha, "first_seen": first, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
        drops.append(Drop(path, rel, found, sha, first, draft))
    return drops, refused, {"files": next_files}


def move_out(path: Path, inbox: Path, destination_root: Path, stamp: str) -> Path:
    """Move an inbox file to `<destination_root>/<same relative folder>/<stamp>-<name>`; returns the new path."""
    try:
        rel_parent = path.relative_to(inbox).parent
    except ValueError:
        rel_parent = Path("_outside")
    target = destination_root / rel_parent / f"{stamp}-{path.name}"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(path), target)
    return target


def write_error_report(moved_to: Path, reason: str, *, original: str, run_id: str | None = None) -> Path:
    """`<file>.error.json` beside a failed file: what went wrong, in words a seller can act on."""
    report = moved_to.with_name(moved_to.name + ".error.json")
    report.write_text(
        json.dumps({"file": original, "moved_to": str(moved_to), "reason": reason, "run_id": run_id,
                    "time": datetime.now(UTC).isoformat()}, indent=2, ensure_ascii=False) + "\n",
        encoding="utf-8",
    )
    return report
