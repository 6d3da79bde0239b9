"""The drop folder, used by the drop-folder sensor: scanning with a cursor, run keys, moving files out of the inbox.

Layout (`data/inbox/`):
- `<sellerId>/<country>/<file>`: every row is for that marketplace (a row naming another one is rejected);
- `<sellerId>/<file>`: a multi-marketplace file — each row goes to the marketplace it names, one run per
  seller×marketplace pair named in the file, each run ingesting its own rows (rows naming no known marketplace
  are rejected, with that reason, by the run of the first pair in alphabetical order);
- `.../drafts/<file>` under either: validate only; publish later by materializing `publish_queue`.

Run key = content hash + the time this content was first seen in the inbox (+ `/<country>` for a
multi-marketplace file). While a file with that content is still waiting, every tick yields the same run keys, so
Dagster launches each run once; once the runs have finished and the file has moved to `processed/`, the cursor
forgets it, and dropping the same content again later (a revert) gets a new first-seen time and therefore new runs.
Two files with the same content dropped together share their runs.

A file whose name contains `.full.` (e.g. `catalog.full.csv`) is a declared full catalog. Files being written should
use a name starting with `.` or ending with `.part`/`.tmp` and be renamed when complete; those are ignored.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from . import files
from .partitions import PartitionKeyError, SellerMarketplace, pair, valid_seller

DRAFTS = "drafts"
_IGNORED_SUFFIXES = (".part", ".tmp", ".crdownload", ".partial")


@dataclass(frozen=True)
class Drop:
    """A waiting file and the seller×marketplace pairs it feeds (one, or every marketplace a multi-marketplace
    file names)."""

    path: Path
    rel: str
    pairs: tuple[SellerMarketplace, ...]
    sha256: str
    first_seen: str
    draft: bool
    multi_marketplace: bool = False

    @property
    def base_key(self) -> str:
        return f"{self.sha256}@{self.first_seen}"

    def run_key(self, target: SellerMarketplace) -> str:
        return f"{self.base_key}/{target.country}" if self.multi_marketplace else self.base_key

    def takes_unplaced(self, target: SellerMarketplace) -> bool:
        """Whether `target`'s run also ingests (and rejects) the rows that name no known marketplace."""
        return self.multi_marketplace and target == self.pairs[0]

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


# Which marketplaces (country codes) a multi-marketplace file's rows name; raises with a reason the seller can act on.
MarketplacesOf = Callable[[Path], list[str]]


def _classify(inbox: Path, path: Path) -> tuple[str | None, str | None, bool, str | None]:
    """(seller id, country or None for a multi-marketplace file, is_draft, refusal reason) for a file in the inbox."""
    if path.is_symlink() and not files.is_inside(path, inbox):
        return None, None, False, f"{path.name} is a link to a file outside the inbox ({path.resolve()}); refused"
    parts = path.relative_to(inbox).parts
    draft = len(parts) >= 3 and parts[-2] == DRAFTS
    folders = parts[:-2] if draft else parts[:-1]
    if len(folders) not in (1, 2):
        return None, None, False, (
            f"{'/'.join(parts)} is not in a seller folder: put catalog files in inbox/<sellerId>/<country>/ (one "
            "marketplace) or inbox/<sellerId>/ (rows name their marketplace), or a drafts/ folder under either to "
            "validate without publishing"
        )
    if not valid_seller(folders[0]):
        return None, None, False, f"folder {folders[0]}: seller id must be 1-64 letters, digits, '-' or '_'"
    country = None
    if len(folders) == 2:
        try:
            country = pair(folders[0], folders[1]).country
        except PartitionKeyError as exc:
            return None, None, False, f"folder {folders[0]}/{folders[1]}: {exc}"
    if path.suffix.lower() not in files.CATALOG_SUFFIXES:
        return None, None, False, (
            f"{path.name}: unsupported file type {path.suffix or '(none)'}; "
            f"expected one of {', '.join(files.CATALOG_SUFFIXES)}"
        )
    if path.stat().st_size == 0:
        return None, None, False, f"{path.name} is empty"
    return folders[0], country, draft, None


def scan(inbox: Path, cursor: dict, now: str, marketplaces_of: MarketplacesOf
         ) -> tuple[list[Drop], list[Refused], dict]:
    """Every waiting file as a Drop (or Refused), and the next cursor (entries for files that still exist only).

    `marketplaces_of` is asked once per content of a multi-marketplace file (the answer is kept in the cursor)."""
    seen: dict[str, dict] = cursor.get("files", {})
    first_seen_by_sha = {entry["sha256"]: entry["first_seen"] for entry in seen.values()}
    countries_by_sha = {e["sha256"]: e["countries"] for e in seen.values() if e.get("countries") is not None}
    drops: list[Drop] = []
    refused: list[Refused] = []
    next_files: dict[str, dict] = {}
    if not inbox.is_dir():
        return drops, refused, {"files": {}}
    for path in sorted(p for p in inbox.rglob("*") if p.is_file() or p.is_symlink()):
        if _ignored(path):
            continue
        rel = path.relative_to(inbox).as_posix()
        seller_id, country, draft, reason = _classify(inbox, path)
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
        countries = [country] if country else countries_by_sha.get(sha)
        if countries is None:
            try:
                countries = countries_by_sha[sha] = sorted(set(marketplaces_of(path)))
            except ValueError as exc:
                refused.append(Refused(path, rel, f"{path.name}: {exc}"))
                continue
        if not countries:
            refused.append(Refused(path, rel, (
                f"{path.name} is in the seller folder (inbox/{seller_id}/), so each row must name its marketplace, "
                "but no row names a known Amazon marketplace; fill the marketplace column or drop the file into "
                f"inbox/{seller_id}/<country>/")))
            continue
        next_files[rel] = {"sha256": sha, "first_seen": first, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns,
                           "countries": None if country else countries}
        drops.append(Drop(path, rel, tuple(SellerMarketplace(seller_id, c) for c in countries), sha, first, draft,
                          multi_marketplace=country is None))
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
