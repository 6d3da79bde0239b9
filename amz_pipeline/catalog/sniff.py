"""What a file is before it is parsed: its format, its text encoding, its delimiter.

Polars parses only UTF-8, so text in another encoding is transcoded to a temporary UTF-8 copy in bounded
chunks. A file that is not valid UTF-8 and has no BOM is read as Windows-1252 (Latin-1 for the five bytes
cp1252 leaves undefined) with a warning, because that is what spreadsheet exports on Windows produce.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from amz_pipeline.catalog.errors import CatalogReadError

SAMPLE_BYTES = 64 * 1024
_CHUNK = 1 << 20
DELIMITERS = (",", "\t", ";", "|")

_MAGIC = {
    b"PK\x03\x04": "xlsx",
    b"PAR1": "parquet",
}
_FOREIGN_MAGIC = {
    b"%PDF": "a PDF document",
    b"\x89PNG": "a PNG image",
    b"GIF8": "a GIF image",
    b"\xff\xd8\xff": "a JPEG image",
    b"\x1f\x8b": "a gzip archive (unpack it first)",
    b"\xd0\xcf\x11\xe0": "a legacy .xls workbook (save it as .xlsx or CSV)",
    b"7z\xbc\xaf": "a 7-Zip archive",
    b"Rar!": "a RAR archive",
}
_EXTENSIONS = {
    ".csv": "delimited", ".tsv": "delimited", ".tab": "delimited", ".txt": "delimited",
    ".parquet": "parquet", ".pq": "parquet",
    ".ndjson": "ndjson", ".jsonl": "ndjson", ".json": "ndjson",
    ".xlsx": "xlsx", ".xlsm": "xlsx",
}


@dataclass(frozen=True)
class TextEncoding:
    name: str  # codec name used to decode
    needs_transcode: bool
    warning: str | None = None


def detect_format(path: Path, head: bytes) -> str:
    """`delimited`, `parquet`, `ndjson` or `xlsx`, by content first (a mislabelled file still reads) then by extension."""
    for magic, kind in _MAGIC.items():
        if head.startswith(magic):
            return kind
    for magic, what in _FOREIGN_MAGIC.items():
        if head.startswith(magic):
            raise CatalogReadError(path, f"unsupported file format: this is {what}, not a catalog")
    suffix = path.suffix.casefold()
    if suffix in (".parquet", ".pq", ".xlsx", ".xlsm"):
        raise CatalogReadError(path, f"not a valid {suffix[1:]} file (its content does not match the extension)")
    if suffix in _EXTENSIONS:
        return _EXTENSIONS[suffix]
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped.startswith((b"{", b"[")):
        return "ndjson"
    return "delimited"


def _looks_utf16(head: bytes) -> str | None:
    if len(head) < 4:
        return None
    even, odd = head[0::2], head[1::2]
    if odd.count(0) > 0.4 * len(odd) and even.count(0) < 0.1 * len(even):
        return "utf-16-le"
    if even.count(0) > 0.4 * len(even) and odd.count(0) < 0.1 * len(odd):
        return "utf-16-be"
    return None


def _first_invalid_utf8_offset(path: Path) -> int | None:
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                return offset + exc.start
            offset += len(chunk)
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return offset
    return None


def detect_encoding(path: Path, head: bytes) -> TextEncoding:
    if head.startswith(codecs.BOM_UTF8):
        return TextEncoding("utf-8-sig", needs_transcode=False)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return TextEncoding("utf-16", needs_transcode=True)
    utf16 = _looks_utf16(head)
    if utf16:
        return TextEncoding(utf16, needs_transcode=True)
    if b"\x00" in head:
        raise CatalogReadError(path, "binary content (NUL bytes) in a text file: not a CSV/TSV/JSON catalog")
    bad = _first_invalid_utf8_offset(path)
    if bad is None:
        return TextEncoding("utf-8", needs_transcode=False)
    return TextEncoding(
        "cp1252-latin1",
        needs_transcode=True,
        warning=f"not valid UTF-8 (first invalid byte at offset {bad}); read as Windows-1252/Latin-1 — "
        "save the file as UTF-8 to be sure accented characters are right",
    )


def _cp1252_latin1(error: UnicodeDecodeError) -> tuple[str, int]:
    """Decode the bytes cp1252 leaves undefined as Latin-1 (they are C1 controls there)."""
    return error.object[error.start : error.end].decode("latin-1"), error.end


codecs.register_error("amz_latin1_fallback", _cp1252_latin1)


def _decoder(encoding: TextEncoding) -> codecs.IncrementalDecoder:
    if encoding.name == "cp1252-latin1":
        return codecs.getincrementaldecoder("cp1252")(errors="amz_latin1_fallback")
    return codecs.getincrementaldecoder(encoding.name)(errors="strict")


def transcode_to_utf8(path: Path, encoding: TextEncoding, directory: str) -> Path:
    """Write a UTF-8 copy of `path` into `directory`, decoding in 1 MiB chunks (memory stays bounded)."""
    decoder = _decoder(encoding)
    fd, target = tempfile.mkstemp(suffix=".utf8" + path.suffix, dir=directory)
    try:
        with path.open("rb") as source, os.fdopen(fd, "wb") as sink:
            while chunk := source.read(_CHUNK):
                sink.write(decoder.decode(chunk).encode())
            sink.write(decoder.decode(b"", final=True).encode())
    except UnicodeDecodeError as exc:
        raise CatalogReadError(path, f"cannot decode as {encoding.name}: invalid bytes at offset {exc.start}") from exc
    return Path(target)


def decoded_sample(path: Path, encoding: TextEncoding) -> str:
    with path.open("rb") as handle:
        raw = handle.read(SAMPLE_BYTES)
    return _decoder(encoding).decode(raw).lstrip("\ufeff")


def sniff_delimiter(path: Path, sample: str) -> str:
    """Pick the delimiter that splits the header into the most fields and the next lines into as many.

    `.tsv`/`.tab` files are tab-separated whatever the sample says. Ties go to the comma.
    """
    if path.suffix.casefold() in (".tsv", ".tab"):
        return "\t"
    lines = sample.splitlines()[:50]
    if len(sample) >= SAMPLE_BYTES and len(lines) > 1:
        lines = lines[:-1]  # the sample may cut the last line in half
    if not lines:
        return ","
    best, best_score = ",", (0, 0)
    for delimiter in DELIMITERS:
        rows = list(csv.reader(io.StringIO("\n".join(lines)), delimiter=delimiter))
        if not rows:
            continue
        width = len(rows[0])
        consistent = sum(1 for row in rows[1:] if len(row) == width)
        score = (width if width > 1 else 0, consistent)
        if score > best_score:
            best, best_score = delimiter, score
    return best
