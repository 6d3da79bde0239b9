"""The one error a catalog file that cannot be read at all raises."""

from __future__ import annotations

from pathlib import Path


class CatalogReadError(Exception):
    """The file cannot be read as a catalog: wrong format, empty, binary content, no SKU column, ...

    Row-level problems never raise; they become rejects. This is only for the whole file.
    """

    def __init__(self, file: str | Path, reason: str) -> None:
        self.file = str(file)
        self.reason = reason
        super().__init__(f"{self.file}: {reason}")
