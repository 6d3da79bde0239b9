"""File helpers for catalog files: content hashes, inbox layout and the "inside this folder" rule."""

from __future__ import annotations

import glob
import hashlib
from pathlib import Path

CATALOG_SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx", ".parquet", ".ndjson", ".jsonl", ".json")


class UnsafePathError(ValueError):
    """A catalog path outside the folders the pipeline is allowed to read."""


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def is_inside(path: Path, root: Path) -> bool:
    """True when `path` (symlinks resolved) lies inside `root` — `..` and symlinks out of the folder are refused."""
    try:
        path.resolve().relative_to(root.resolve())
    except ValueError:
        return False
    return True


def source_roots(sources: dict[str, str]) -> list[Path]:
    """The fixed directory part of each configured catalog source (a path or a glob)."""
    roots = []
    for pattern in sources.values():
        fixed = []
        for part in Path(pattern).parts:
            if glob.has_magic(part):
                break
            fixed.append(part)
        root = Path(*fixed) if fixed else Path(".")
        roots.append(root if glob.has_magic(pattern) or root.is_dir() else root.parent)
    return roots


def check_catalog_path(path: Path, allowed_roots: list[Path]) -> Path:
    """`path` resolved, if it is a file inside one of `allowed_roots`; UnsafePathError or FileNotFoundError otherwise."""
    if not any(is_inside(path, root) for root in allowed_roots):
        raise UnsafePathError(
            f"refusing {path}: catalog files are read only from "
            + ", ".join(str(r) for r in allowed_roots)
        )
    resolved = path.resolve()
    if not resolved.is_file():
        raise FileNotFoundError(f"catalog file {path} does not exist (moved or deleted since it was queued?)")
    return resolved
