"""Catalog readers: any supported file → a lazy frame of text columns under canonical names, plus `row`.

Every value is read as text (`pl.String`): a formula-looking cell such as `=HYPERLINK(...)` stays text, a column
mixing numbers and words is fine, and nothing is rounded or re-formatted before validation decides what it means.
`row` is the number a seller sees when opening the file: in CSV/TSV/XLSX the header is row 1 and the first data
row is row 2; in NDJSON it is the line number; in Parquet the record number counted from 1.

Large files are consumed in batches (`CatalogSource.batches`) with memory bounded by the batch size, not the file
size. Polars' `collect_batches` would not bound it: its streaming query runs ahead of the consumer and buffers the
whole file (~1 GB for a 457 MB CSV). So the file is first streamed by Polars' own sink into an LZ4 Arrow IPC copy in
the source's temporary directory (`CatalogSource.staged`), which is then read back one slice at a time; the columns a
whole-file pass needs (SKUs for duplicates) come from that copy too, without parsing the file again.
"""

from __future__ import annotations

import csv
import json
import shutil
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from amz_pipeline.catalog.aliases import HeaderMapping, map_headers
from amz_pipeline.catalog.errors import CatalogReadError
from amz_pipeline.catalog.sniff import (
    SAMPLE_BYTES,
    decoded_sample,
    detect_encoding,
    detect_format,
    sniff_delimiter,
    transcode_to_utf8,
)

ROW = "row"
READ_ERROR = "_read_error"  # per-row problem found while reading (e.g. more fields than headers); null when fine
_FALLBACK_BATCH = 50_000
_STAGE_RECORD_BATCH = 50_000
_EXCEL_EPOCH_DATE_COLUMNS = ("sale_start_date", "sale_end_date", "restock_date")


class RaggedRowsError(Exception):
    """Raised mid-scan when Polars meets a CSV row with more fields than the header; the caller restarts on the
    tolerant reader (`CatalogSource.use_tolerant_reader`)."""


@dataclass
class CatalogSource:
    """An opened catalog file. Use as a context manager: transcoded copies live in a temporary directory."""

    file: Path
    format: str
    columns: list[str]
    header_map: dict[str, str]
    unknown_columns: list[str]
    warnings: list[str]
    row_offset: int
    _frame: pl.LazyFrame
    _workdir: str
    _delimited: tuple[Path, str] | None = None  # (utf-8 path, delimiter) for the tolerant fallback
    _tolerant: bool = field(default=False)
    _staged: Path | None = field(default=None)
    _staged_rows: int = field(default=0)

    def lazy(self) -> pl.LazyFrame:
        """`row` (Int64) then the mapped columns, all `pl.String`, plus `_read_error`."""
        return self._frame

    def staged(self) -> pl.LazyFrame:
        """`lazy()`, from the Arrow IPC copy written on first use (the file is parsed once, in bounded memory).
        Raises `RaggedRowsError` / `CatalogReadError`."""
        if self._staged is None:
            path = Path(self._workdir) / f"staged-{'tolerant' if self._tolerant else 'fast'}.arrow"
            try:
                self._frame.sink_ipc(path, compression="lz4", record_batch_size=_STAGE_RECORD_BATCH)
            except pl.exceptions.ComputeError as exc:
                path.unlink(missing_ok=True)
                if self._delimited and not self._tolerant and "more fields" in str(exc):
                    raise RaggedRowsError(str(exc)) from exc
                raise CatalogReadError(self.file, _polars_reason(exc)) from exc
            self._staged = path
            self._staged_rows = pl.scan_ipc(path).select(pl.len()).collect().item()
        return pl.scan_ipc(self._staged)

    def batches(self, batch_rows: int) -> Iterator[pl.DataFrame]:
        """The file in order, `batch_rows` rows at a time (one batch in memory at a time)."""
        staged = self.staged()
        for offset in range(0, self._staged_rows, batch_rows):
            yield staged.slice(offset, batch_rows).collect()

    def use_tolerant_reader(self) -> None:
        """Re-read a delimited file with Python's csv module, flagging rows with surplus fields instead of failing."""
        assert self._delimited is not None
        utf8_path, delimiter = self._delimited
        self._frame = _tolerant_csv(self.file, utf8_path, delimiter, self.header_map, self._workdir)
        self._tolerant = True
        self._staged = None
        self.warnings.append("some rows have more fields than the header; those rows are rejected")

    def close(self) -> None:
        shutil.rmtree(self._workdir, ignore_errors=True)

    def __enter__(self) -> CatalogSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_catalog(path: str | Path) -> pl.DataFrame:
    """Whole file, eagerly (small files, tests). Large files: `open_catalog(...).batches(n)`."""
    with open_catalog(path) as source:
        try:
            return source.lazy().collect()
        except pl.exceptions.ComputeError as exc:
            if source._delimited and "more fields" in str(exc):
                source.use_tolerant_reader()
                return source.lazy().collect()
            raise CatalogReadError(source.file, _polars_reason(exc)) from exc


def open_catalog(path: str | Path) -> CatalogSource:
    file = Path(path)
    if not file.exists():
        raise CatalogReadError(file, "file not found")
    if file.is_dir():
        raise CatalogReadError(file, "is a directory, not a file")
    with file.open("rb") as handle:
        head = handle.read(SAMPLE_BYTES)
    if not head.strip(b"\xef\xbb\xbf\xff\xfe \t\r\n\x00"):
        raise CatalogReadError(file, "file is empty")
    kind = detect_format(file, head)
    workdir = tempfile.mkdtemp(prefix="amz-catalog-")
    try:
        opener = {"delimited": _open_delimited, "parquet": _open_parquet, "ndjson": _open_ndjson, "xlsx": _open_xlsx}
        source = opener[kind](file, head, workdir)
    except CatalogReadError:
        shutil.rmtree(workdir, ignore_errors=True)
        raise
    except (pl.exceptions.PolarsError, OSError, ValueError) as exc:
        shutil.rmtree(workdir, ignore_errors=True)
        raise CatalogReadError(file, f"cannot read as {kind}: {_polars_reason(exc)}") from exc
    return source


def _polars_reason(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _finish(
    file: Path, kind: str, raw: pl.LazyFrame, headers: list[str], row_offset: int, workdir: str,
    warnings: list[str], delimited: tuple[Path, str] | None = None,
) -> CatalogSource:
    mapping = _checked_mapping(file, headers)
    frame = (
        raw.rename(mapping.rename)
        .with_row_index(ROW, offset=row_offset)
        .with_columns(pl.col(ROW).cast(pl.Int64))
    )
    if READ_ERROR not in raw.collect_schema().names():
        frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias(READ_ERROR))
    columns = list(mapping.rename.values())
    if mapping.unknown:
        warnings.append(
            "columns kept as-is (not a known catalog column; used when they name a product-type attribute): "
            + ", ".join(mapping.unknown)
        )
    return CatalogSource(
        file=file, format=kind, columns=columns, header_map=mapping.rename, unknown_columns=mapping.unknown,
        warnings=warnings, row_offset=row_offset, _frame=frame, _workdir=workdir, _delimited=delimited,
    )


def _checked_mapping(file: Path, headers: list[str]) -> HeaderMapping:
    if not headers:
        raise CatalogReadError(file, "no columns found")
    mapping = map_headers(headers)
    if mapping.conflicts:
        details = "; ".join(f"{', '.join(repr(h) for h in names)} all mean {target!r}" for target, names in
                            mapping.conflicts.items())
        raise CatalogReadError(file, f"ambiguous columns: {details} — keep one of each")
    if "sku" not in mapping.rename.values():
        raise CatalogReadError(file, f"no SKU column (looked for sku, item_sku, seller-sku, ...; found: "
                                     f"{', '.join(headers[:20])})")
    return mapping


def _open_delimited(file: Path, head: bytes, workdir: str) -> CatalogSource:
    encoding = detect_encoding(file, head)
    warnings = [encoding.warning] if encoding.warning else []
    sample = decoded_sample(file, encoding)
    utf8_path = transcode_to_utf8(file, encoding, workdir) if encoding.needs_transcode else file
    delimiter = sniff_delimiter(file, sample)
    header_row = next(csv.reader(sample.splitlines()[:1] or [""], delimiter=delimiter), [])
    if not any(h.strip() for h in header_row):
        raise CatalogReadError(file, "the first line (the header) is empty")
    raw = pl.scan_csv(
        utf8_path, separator=delimiter, infer_schema=False, has_header=True, quote_char='"',
        encoding="utf8", raise_if_empty=True,
    )
    headers = raw.collect_schema().names()
    return _finish(file, "delimited", raw, headers, 2, workdir, warnings, delimited=(utf8_path, delimiter))


def _tolerant_csv(file: Path, utf8_path: Path, delimiter: str, header_map: dict[str, str], workdir: str) -> pl.LazyFrame:
    """Python csv reader, written to Parquet in chunks so memory stays bounded; surplus fields become a row error."""
    csv.field_size_limit(sys.maxsize)
    columns = [*header_map.values(), READ_ERROR]
    width = len(columns) - 1
    parts = Path(workdir) / "tolerant"
    parts.mkdir(exist_ok=True)
    chunk: list[list[str | None]] = []
    count = 0

    def flush() -> None:
        nonlocal chunk, count
        frame = pl.DataFrame(chunk, schema={name: pl.String for name in columns}, orient="row")
        frame.write_parquet(parts / f"part-{count:06d}.parquet")
        chunk, count = [], count + 1

    with utf8_path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle, delimiter=delimiter)
        next(reader, None)
        for record in reader:
            error = f"row has {len(record)} fields but the header has {width}" if len(record) > width else None
            cells: list[str | None] = [c if c != "" else None for c in record[:width]]
            cells += [None] * (width - len(cells))
            chunk.append([*cells, error])
            if len(chunk) >= _FALLBACK_BATCH:
                flush()
    if chunk or count == 0:
        flush()
    frame = pl.scan_parquet(parts / "*.parquet")
    return frame.with_row_index(ROW, offset=2).with_columns(pl.col(ROW).cast(pl.Int64)).select(ROW, *columns)


def _as_text(name: str, dtype: pl.DataType) -> pl.Expr:
    """One column as text: nested values as JSON, timestamps as ISO 8601, everything else cast."""
    column = pl.col(name)
    if dtype == pl.String:
        return column
    if isinstance(dtype, pl.List | pl.Struct | pl.Array):
        encoded = pl.struct(column.alias("v")).struct.json_encode().str.strip_prefix('{"v":').str.strip_suffix("}")
        return pl.when(column.is_null()).then(None).otherwise(encoded).alias(name)
    if isinstance(dtype, pl.Datetime):
        return column.dt.to_string("%Y-%m-%dT%H:%M:%S").alias(name)
    if dtype == pl.Boolean:
        return column.cast(pl.String).alias(name)
    return column.cast(pl.String).alias(name)


def _open_parquet(file: Path, head: bytes, workdir: str) -> CatalogSource:
    raw = pl.scan_parquet(file)
    schema = raw.collect_schema()
    raw = raw.select(_as_text(name, dtype) for name, dtype in schema.items())
    return _finish(file, "parquet", raw, list(schema.names()), 1, workdir, [])


def _open_ndjson(file: Path, head: bytes, workdir: str) -> CatalogSource:
    encoding = detect_encoding(file, head)
    warnings = [encoding.warning] if encoding.warning else []
    utf8_path = transcode_to_utf8(file, encoding, workdir) if encoding.needs_transcode else file
    if head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"["):
        return _open_json_array(file, utf8_path, workdir, warnings)
    keys = _ndjson_keys(file, utf8_path)
    lines = pl.scan_csv(
        utf8_path, has_header=False, separator="\x1f", quote_char=None, new_columns=["_line"],
        infer_schema=False, encoding="utf8",
    ).with_columns(pl.col("_line").str.strip_chars("\ufeff \t\r"))
    line = pl.col("_line")
    bad_line = line.is_not_null() & ~(line.str.starts_with("{") & line.str.ends_with("}"))
    raw = lines.select(
        *(line.str.json_path_match(f"$[{json.dumps(key)}]").alias(key) for key in keys),
        pl.when(bad_line).then(pl.lit("this line is not a JSON object")).alias(READ_ERROR),
    )
    return _finish(file, "ndjson", raw, keys, 1, workdir, warnings)


def _ndjson_keys(file: Path, utf8_path: Path) -> list[str]:
    """Every top-level key in the file, in first-seen order (a key first appearing on line 900,000 still counts)."""
    try:
        return list(pl.scan_ndjson(utf8_path, infer_schema_length=None).collect_schema().names())
    except pl.exceptions.PolarsError:
        keys: dict[str, None] = {}
        with utf8_path.open(encoding="utf-8-sig") as handle:
            for text in handle:
                try:
                    record = json.loads(text)
                except ValueError:
                    continue
                if isinstance(record, dict):
                    keys.update(dict.fromkeys(record))
        if not keys:
            raise CatalogReadError(file, "no JSON objects found (expected one JSON object per line)") from None
        return list(keys)


def _open_json_array(file: Path, utf8_path: Path, workdir: str, warnings: list[str]) -> CatalogSource:
    try:
        records = json.loads(utf8_path.read_text(encoding="utf-8-sig"))
    except ValueError as exc:
        raise CatalogReadError(file, f"invalid JSON: {exc}") from exc
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise CatalogReadError(file, "a JSON file must hold an array of objects (or one object per line)")
    keys = list(dict.fromkeys(k for r in records for k in r))
    text = {
        k: [None if (v := r.get(k)) is None else v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)
            for r in records]
        for k in keys
    }
    raw = pl.DataFrame(text, schema={k: pl.String for k in keys}).lazy()
    return _finish(file, "json", raw, keys, 1, workdir, warnings)


def _open_xlsx(file: Path, head: bytes, workdir: str) -> CatalogSource:
    try:
        frame = pl.read_excel(
            file, sheet_id=1, engine="calamine", infer_schema_length=0, drop_empty_rows=False, raise_if_empty=True,
        )
    except Exception as exc:  # fastexcel raises its own exception types for corrupt workbooks
        raise CatalogReadError(file, f"cannot read as an Excel workbook: {_polars_reason(exc)}") from exc
    headers = frame.columns
    source = _finish(file, "xlsx", frame.lazy(), headers, 2, workdir, [])
    serial_dates = [c for c in _EXCEL_EPOCH_DATE_COLUMNS if c in source.columns]
    if serial_dates:
        source._frame = source._frame.with_columns(_excel_serial_to_iso(c) for c in serial_dates)
    return source


def _excel_serial_to_iso(name: str) -> pl.Expr:
    """Excel stores dates as days since 1899-12-30: read as text they arrive as `45293`, or, for a cell with a
    date format, as `2024-01-02 00:00:00`. Both become `2024-01-02`."""
    column = pl.col(name)
    serial = column.cast(pl.Float64, strict=False)
    as_date = (pl.date(1899, 12, 30) + pl.duration(days=serial.floor().cast(pl.Int64))).dt.to_string("%Y-%m-%d")
    midnight = column.str.replace(r"^(\d{4}-\d{2}-\d{2})[ T]00:00:00(\.0+)?$", "$1")
    return pl.when(column.str.contains(r"^\d{5}(\.\d+)?$")).then(as_date).otherwise(midnight).alias(name)
