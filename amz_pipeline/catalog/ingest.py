"""Ingestion: one catalog file → valid, Amazon-shaped rows + rejects, nothing dropped.

Per batch (bounded memory): read as text → normalise → row rules (pandera) → marketplace rules → content policy
→ whole-file duplicate SKUs → optional Listings Restrictions eligibility → product-type validation of the rows
still valid (`amz_pipeline.validation.product_types.validate_attributes`) → fingerprints of the valid rows
(`amz_pipeline.catalog.fingerprints`: `requirements`, `payload_hash`, `offer_only_hash`). Payload JSON is not built
here: `amz_pipeline.catalog.mapping.attributes_for` builds it for the rows the delta finds changed. Rows with an
`error` go to the rejects; `warning`s are reported and the row goes on. `rows == len(valid) + rejected` is asserted before returning.

Duplicate SKUs are found in a first, narrow pass over the whole file (only `row`, `sku`, `marketplace` are
read), so a SKU repeated 900,000 rows apart is still caught.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from amz_pipeline.catalog import marketplaces as mk
from amz_pipeline.catalog.errors import CatalogReadError
from amz_pipeline.catalog.normalize import MARKETPLACE_GIVEN, helper_columns, normalize, trim
from amz_pipeline.catalog.readers import READ_ERROR, ROW, CatalogSource, RaggedRowsError, open_catalog
from amz_pipeline.validation import quarantine
from amz_pipeline.validation.content_policy import content_policy_issues
from amz_pipeline.validation.duplicates import duplicate_issues
from amz_pipeline.validation.issues import ERROR, WARNING, concat, conform, empty_issues
from amz_pipeline.validation.marketplace_rules import (
    RestrictionsLookup,
    eligibility_issues,
    marketplace_issues,
)
from amz_pipeline.validation.row_schema import validate_rows

DEFAULT_BATCH_ROWS = 100_000
DEFAULT_WORKERS = 2  # batches in flight at once (threads); 1 processes the file strictly in order
DEFAULT_REJECTS_ROOT = Path("data/rejected")
UNKNOWN_MARKETPLACE_DIR = "unknown-marketplace"
# Added to every valid row (`amz_pipeline.catalog.fingerprints.FINGERPRINT_COLUMNS`; null on `operation=delete`).
PAYLOAD_COLUMNS = ("requirements", "payload_hash", "offer_only_hash")

# What stays in memory when the full valid rows are streamed to `valid_dir` (see `ingest`).
SLIM_COLUMNS = (
    "row", "marketplace_id", "sku", "product_type", "operation", "requirements", "payload_hash", "offer_only_hash",
)

Fingerprint = Callable[[pl.DataFrame, str], pl.DataFrame]
ValidateAttributes = Callable[[pl.DataFrame, str], pl.DataFrame]
Progress = Callable[[int, int], None]


def _product_type_gate() -> tuple[Fingerprint, ValidateAttributes]:
    """The payload fingerprints and the product-type validator, imported on use."""
    from amz_pipeline.catalog.fingerprints import payload_fingerprints
    from amz_pipeline.validation.product_types import validate_attributes

    return payload_fingerprints, validate_attributes


@dataclass
class IngestResult:
    """Outcome of one file. `valid` holds canonical columns (text), extra columns, `row`, `marketplace_id` and
    `PAYLOAD_COLUMNS` (`requirements`, `payload_hash`, `offer_only_hash`; null for `operation=delete` rows; the
    attribute JSON comes from `mapping.attributes_for` on the rows that need it); `rejects` and `warnings` hold
    `file, row, sku, field, rule, severity, message` (rejects: every issue of a rejected row)."""

    file: str
    seller_id: str
    marketplace_id: str | None
    full_catalog: bool
    rows: int
    valid: pl.DataFrame
    rejects: pl.DataFrame
    warnings: pl.DataFrame
    blank_rows: int = 0
    file_warnings: list[str] = field(default_factory=list)
    rejects_files: list[Path] = field(default_factory=list)
    valid_dir: Path | None = None

    def scan_valid(self) -> pl.LazyFrame:
        """Every valid row with all its columns: from the Parquet parts when streamed to `valid_dir`."""
        if self.valid_dir is None:
            return self.valid.lazy()
        return pl.scan_parquet(self.valid_dir / "*.parquet").sort(ROW)

    @property
    def valid_count(self) -> int:
        return self.valid.height

    @property
    def rejected_count(self) -> int:
        return self.rejects["row"].n_unique() if self.rejects.height else 0

    def by_rule(self) -> dict[str, int]:
        """Rejected rows per error rule (a row with two errors counts under both)."""
        errors = self.rejects.filter(pl.col("severity") == ERROR)
        counts = errors.group_by("rule").agg(pl.col("row").n_unique().alias("n")).sort("n", "rule", descending=[True, False])
        return dict(zip(counts["rule"], counts["n"], strict=True))


def ingest(
    path: str | Path,
    *,
    seller_id: str,
    marketplace: str | None = None,
    full_catalog: bool = False,
    batch_rows: int = DEFAULT_BATCH_ROWS,
    restrictions_lookup: RestrictionsLookup | None = None,
    rejects_root: Path | None = DEFAULT_REJECTS_ROOT,
    on_progress: Progress | None = None,
    valid_dir: Path | None = None,
    fingerprint: Fingerprint | None = None,
    validate_attributes: ValidateAttributes | None = None,
    workers: int = DEFAULT_WORKERS,
) -> IngestResult:
    """Read, validate and map one catalog file for one seller.

    `marketplace` (country code or marketplace id) limits the run to that marketplace: rows naming another one
    are rejected. Without it each row goes to the marketplace it names. `full_catalog` only records the
    caller's declaration for the delta step. `rejects_root=None` skips writing rejects files.

    `valid_dir` bounds memory on large files: each batch's valid rows (all columns) are written there as a Parquet part, and `IngestResult.valid` keeps only `SLIM_COLUMNS`
    (`IngestResult.scan_valid()` reads the full rows back lazily). Raises
    `CatalogReadError` when the file cannot be read at all and `ValueError` for an unknown `marketplace`.
    """
    requested = None
    if marketplace is not None:
        requested = mk.resolve(marketplace)
        if requested is None:
            raise ValueError(f"unknown marketplace {marketplace!r}: use a country code such as US or DE, or a marketplace id")
    if fingerprint is None or validate_attributes is None:
        default_fingerprint, default_validate = _product_type_gate()
        fingerprint = fingerprint or default_fingerprint
        validate_attributes = validate_attributes or default_validate
    file = Path(path)
    with open_catalog(file) as source:
        if valid_dir is not None:
            valid_dir.mkdir(parents=True, exist_ok=True)
        run = _Run(source, requested, batch_rows, restrictions_lookup, on_progress, fingerprint,
                   validate_attributes, valid_dir, workers)
        try:
            run.execute()
        except RaggedRowsError:
            source.use_tolerant_reader()
            run = _Run(source, requested, batch_rows, restrictions_lookup, on_progress, fingerprint,
                       validate_attributes, valid_dir, workers)
            run.execute()
        file_warnings = list(source.warnings)
    if not run.rows:
        # An empty export is a mistake far more often than a catalog, and as a full catalog it would mean
        # "delete everything": refuse it like an unreadable file.
        what = f"only blank rows ({run.blank_rows})" if run.blank_rows else "a header but no rows"
        raise CatalogReadError(file, f"no data rows: the file has {what}")
    result = run.result(file, seller_id, requested, full_catalog, file_warnings)
    if rejects_root is not None:
        result.rejects_files = _write_rejects(result, run.rejects_by_marketplace, run.marketplaces_seen, rejects_root)
    return result


@dataclass
class _Outcome:
    """One batch, processed: what `_Run._absorb` adds to the run."""

    read: int
    blank_rows: int
    rows: int = 0
    rejected: int = 0
    valid: pl.DataFrame | None = None
    rejects: pl.DataFrame | None = None
    warnings: pl.DataFrame | None = None
    marketplaces: list[str | None] = field(default_factory=list)


class _Run:
    def __init__(self, source: CatalogSource, requested: dict[str, Any] | None, batch_rows: int,
                 restrictions_lookup: RestrictionsLookup | None, on_progress: Progress | None,
                 fingerprint: Fingerprint, validate_attributes: ValidateAttributes,
                 valid_dir: Path | None, workers: int) -> None:
        if workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        self.workers = workers
        self.source = source
        self.valid_dir = valid_dir
        self.requested = requested
        self.batch_rows = batch_rows
        self.restrictions_lookup = _serialized(restrictions_lookup) if restrictions_lookup is not None else None
        self.on_progress = on_progress
        self.fingerprint = fingerprint
        self.validate_attributes = validate_attributes
        self.valid_parts: list[pl.DataFrame] = []
        self.reject_parts: list[pl.DataFrame] = []
        self.warning_parts: list[pl.DataFrame] = []
        self.rows = 0
        self.blank_rows = 0
        self.rejected = 0
        self.marketplaces_seen: dict[str | None, str] = {}

    def execute(self) -> None:
        """Batches are processed by `workers` threads (Polars and jsonschema-rs release the GIL, so a batch's
        Python-side work overlaps another's Rust-side work) and absorbed in file order; at most `workers + 1`
        batches are in memory at once."""
        if self.valid_dir is not None:
            for stale in self.valid_dir.glob("part-*.parquet"):
                stale.unlink()
        keys = self._keys()
        total = keys.height
        duplicates = duplicate_issues(keys)
        done = 0
        with ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="ingest") as pool:
            pending: deque[Future[_Outcome]] = deque()
            try:
                for index, batch in enumerate(self.source.batches(self.batch_rows)):
                    pending.append(pool.submit(self._process, index, batch, duplicates))
                    while len(pending) > self.workers:
                        done += self._absorb(pending.popleft().result(), done, total)
                while pending:
                    done += self._absorb(pending.popleft().result(), done, total)
            finally:
                for future in pending:
                    future.cancel()

    def _keys(self) -> pl.DataFrame:
        """`row`, `sku`, `marketplace_id` of the whole file, reading only those columns."""
        frame = self.source.staged()
        names = frame.collect_schema().names()
        given = pl.col("marketplace").str.strip_chars().str.to_uppercase() if "marketplace" in names else pl.lit(None, pl.String)
        keys = frame.select(ROW, pl.col("sku").str.strip_chars().replace("", None), given.alias("_key")).collect()
        lookup = mk.marketplace_frame().select("_key", "marketplace_id")
        keys = keys.join(lookup, on="_key", how="left", maintain_order="left")
        if self.requested is not None:
            keys = keys.with_columns(
                pl.when(pl.col("_key").is_null()).then(pl.lit(self.requested["id"]))
                .otherwise(pl.col("marketplace_id")).alias("marketplace_id")
            )
        return keys.select(ROW, "sku", "marketplace_id")

    def _process(self, index: int, batch: pl.DataFrame, duplicates: pl.DataFrame) -> _Outcome:
        """Everything about one batch; touches no shared state (runs on a worker thread)."""
        read = batch.height
        batch = trim(batch)
        content = [c for c in batch.columns if c not in (ROW, READ_ERROR)]
        blank = pl.all_horizontal(pl.col(c).is_null() for c in content) & pl.col(READ_ERROR).is_null()
        blank_rows = batch.filter(blank).height
        batch = batch.filter(~blank)
        if not batch.height:
            return _Outcome(read, blank_rows)
        frame = normalize(batch, self.requested, trimmed=True)
        rows_here = frame.select(ROW)
        gates = [
            validate_rows(frame),
            marketplace_issues(frame, self.requested),
            content_policy_issues(frame),
            duplicates.join(rows_here, on=ROW, how="semi"),
        ]
        if self.restrictions_lookup is not None:
            gates.append(eligibility_issues(frame, self.restrictions_lookup))
        issues = concat(gates)
        candidates, _ = quarantine.split(frame, issues)
        to_map = candidates.filter(pl.col("operation").ne("delete").fill_null(True))
        mapped_parts = [candidates.filter(pl.col("operation").eq("delete").fill_null(False))]
        for (marketplace_id,), group in to_map.partition_by("marketplace_id", as_dict=True).items():
            plain = group.drop(helper_columns(group))
            type_issues = conform(self.validate_attributes(plain, marketplace_id))
            issues = concat([issues, type_issues])
            still_valid, _ = quarantine.split(group, type_issues)
            if still_valid.height:
                mapped_parts.append(self.fingerprint(still_valid.drop(helper_columns(still_valid)), marketplace_id))
        valid = pl.concat([p.drop(helper_columns(p)) for p in mapped_parts if p.height], how="diagonal_relaxed") \
            if any(p.height for p in mapped_parts) else None
        bad_rows = quarantine.rejected_rows(issues)
        rejected_issues = issues.filter(pl.col(ROW).is_in(bad_rows.implode()))
        warnings = issues.filter(~pl.col(ROW).is_in(bad_rows.implode()) & (pl.col("severity") == WARNING))
        marketplace_of_row = frame.select(ROW, pl.col("marketplace_id").alias("_marketplace_id"), MARKETPLACE_GIVEN)
        valid_count = valid.height if valid is not None else 0
        if valid_count + bad_rows.len() != batch.height:
            raise AssertionError(
                f"row reconciliation failed in a batch: {batch.height} rows in, {valid_count} valid + "
                f"{bad_rows.len()} rejected out"
            )
        return _Outcome(
            read, blank_rows, rows=batch.height, rejected=bad_rows.len(),
            valid=self._keep(index, valid) if valid is not None else None,
            rejects=rejected_issues.join(marketplace_of_row, on=ROW, how="left"), warnings=warnings,
            marketplaces=frame["marketplace_id"].unique().to_list(),
        )

    def _absorb(self, outcome: _Outcome, done: int, total: int) -> int:
        """Add one batch's outcome to the run (main thread, file order); returns the rows read."""
        self.blank_rows += outcome.blank_rows
        self.rows += outcome.rows
        self.rejected += outcome.rejected
        if outcome.rejects is not None:
            self.reject_parts.append(outcome.rejects)
        if outcome.warnings is not None:
            self.warning_parts.append(outcome.warnings)
        if outcome.valid is not None:
            self.valid_parts.append(outcome.valid)
        self._record_marketplaces(outcome.marketplaces)
        if self.on_progress:
            self.on_progress(done + outcome.read, total)
        return outcome.read

    def _keep(self, index: int, valid: pl.DataFrame) -> pl.DataFrame:
        """The part of a batch's valid rows kept in memory (all of it unless streaming to `valid_dir`)."""
        valid = _with_payload_columns(valid)
        if self.valid_dir is None:
            return valid
        valid.write_parquet(self.valid_dir / f"part-{index:05d}.parquet")
        return valid.select(SLIM_COLUMNS)

    def _record_marketplaces(self, marketplace_ids: list[str | None]) -> None:
        for marketplace_id in marketplace_ids:
            market = next((m for m in mk.marketplaces() if m["id"] == marketplace_id), None)
            self.marketplaces_seen[marketplace_id] = market["country_code"] if market else UNKNOWN_MARKETPLACE_DIR

    def result(self, file: Path, seller_id: str, requested: dict[str, Any] | None, full_catalog: bool,
               file_warnings: list[str]) -> IngestResult:
        valid = pl.concat(self.valid_parts, how="diagonal_relaxed") if self.valid_parts else pl.DataFrame(
            {ROW: [], "marketplace_id": []}, schema={ROW: pl.Int64, "marketplace_id": pl.String})
        valid = (valid if self.valid_dir is not None else _with_payload_columns(valid)).sort(ROW)
        name = file.name
        rejects = (
            pl.concat(self.reject_parts, how="diagonal_relaxed") if self.reject_parts
            else empty_issues().with_columns(pl.lit(None, pl.String).alias("_marketplace_id"))
        )
        rejects = rejects.with_columns(pl.lit(name).alias("file")).sort(ROW, "field", "rule")
        self.rejects_by_marketplace = rejects.select(*quarantine.REJECT_COLUMNS, "_marketplace_id")
        warnings = concat(self.warning_parts).with_columns(pl.lit(name).alias("file")).select(quarantine.REJECT_COLUMNS)
        if valid.height + self.rejected != self.rows:
            raise AssertionError(
                f"{file}: {self.rows} rows read but {valid.height} valid + {self.rejected} rejected"
            )
        return IngestResult(
            file=str(file), seller_id=seller_id, marketplace_id=requested["id"] if requested else None,
            full_catalog=full_catalog, rows=self.rows, valid=valid,
            rejects=rejects.select(quarantine.REJECT_COLUMNS), warnings=warnings,
            blank_rows=self.blank_rows, file_warnings=file_warnings, valid_dir=self.valid_dir,
        )


def _serialized(lookup: RestrictionsLookup) -> RestrictionsLookup:
    """`lookup` called by one batch at a time (a caller's client need not be thread-safe)."""
    lock = threading.Lock()

    def locked(asin: str, marketplace_id: str, condition: str) -> list[str]:
        with lock:
            return lookup(asin, marketplace_id, condition)

    return locked


def _with_payload_columns(valid: pl.DataFrame) -> pl.DataFrame:
    missing = [pl.lit(None, pl.String).alias(c) for c in PAYLOAD_COLUMNS if c not in valid.columns]
    return valid.with_columns(missing)


def _write_rejects(
    result: IngestResult, rejects: pl.DataFrame, marketplaces_seen: dict[str | None, str], root: Path,
) -> list[Path]:
    """One rejects file per marketplace of the run; a stale file from an earlier run is removed when clean."""
    written = []
    name = Path(result.file).name
    for marketplace_id, code in marketplaces_seen.items():
        path = quarantine.rejects_path(root, result.seller_id, code, name)
        mine = rejects.filter(
            pl.col("_marketplace_id").is_null() if marketplace_id is None else pl.col("_marketplace_id") == marketplace_id
        )
        if mine.height:
            written.append(quarantine.write_rejects(mine, path))
        elif path.exists():
            path.unlink()
    return written
