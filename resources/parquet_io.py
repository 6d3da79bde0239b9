"""A small Parquet IO manager: polars frames move between assets as Parquet files, small summaries as JSON.

Why our own: dagster-polars 0.27 cannot read Parquet on polars 2 (see STACK-NOTES.md). Files land under
`<base_dir>/<asset key path>/<partition key>.parquet` (or `__all__` when unpartitioned) and are written to a temporary
name first, then renamed, so a reader never sees half a file.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import dagster as dg
import polars as pl

UNPARTITIONED = "__all__"


def _atomic_write(path: Path, write) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


class ParquetIOManager(dg.ConfigurableIOManager):
    """Stores `polars.DataFrame` outputs as Parquet and JSON-able outputs (dict, list) as JSON."""

    base_dir: str

    def _stem(self, context: dg.OutputContext | dg.InputContext) -> Path:
        key_path = context.asset_key.path if context.has_asset_key else [context.step_key, context.name]
        partition = context.asset_partition_key if context.has_asset_partitions else UNPARTITIONED
        return Path(self.base_dir, *key_path, partition)

    @staticmethod
    def _file(stem: Path, suffix: str) -> Path:
        # Not Path.with_suffix: a partition key such as "A1SELLER.US" already contains a dot.
        return stem.with_name(stem.name + suffix)

    def handle_output(self, context: dg.OutputContext, obj: Any) -> None:
        if obj is None:
            return
        stem = self._stem(context)
        if isinstance(obj, pl.DataFrame):
            path = self._file(stem, ".parquet")
            _atomic_write(path, lambda tmp: obj.write_parquet(tmp))
            context.add_output_metadata({"path": dg.MetadataValue.path(str(path)), "dagster/row_count": obj.height})
            self._file(stem, ".json").unlink(missing_ok=True)
            return
        path = self._file(stem, ".json")
        text = json.dumps(obj, sort_keys=True, default=str)
        _atomic_write(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
        self._file(stem, ".parquet").unlink(missing_ok=True)
        context.add_output_metadata({"path": dg.MetadataValue.path(str(path))})

    def load_input(self, context: dg.InputContext) -> Any:
        stem = self._stem(context.upstream_output) if context.upstream_output else self._stem(context)
        if context.has_asset_partitions:
            stem = stem.with_name(context.asset_partition_key)
        parquet, as_json = self._file(stem, ".parquet"), self._file(stem, ".json")
        if parquet.exists():
            return pl.read_parquet(parquet)
        if as_json.exists():
            return json.loads(as_json.read_text(encoding="utf-8"))
        raise FileNotFoundError(
            f"no stored value for {context.asset_key.to_user_string() if context.has_asset_key else context.name} "
            f"at {parquet} — materialize the upstream asset for this partition first"
        )
