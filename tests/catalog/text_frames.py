"""Catalog rows as a frame the way the readers give them: every column text, `row` an integer."""

from __future__ import annotations

import polars as pl


def text_frame(rows: list[dict]) -> pl.DataFrame:
    columns = sorted({k for r in rows for k in r})
    return pl.DataFrame([{c: r.get(c) for c in columns} for r in rows],
                        schema={c: (pl.Int64 if c == "row" else pl.String) for c in columns})
