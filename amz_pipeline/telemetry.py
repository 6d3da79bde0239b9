"""Structured JSON logs, trace ids, call metrics and secret redaction.

- Trace id: a contextvar. Callers set it (`with trace("dagster-run-id"):`); otherwise one is generated on first use.
- Logs: `JsonFormatter` renders a record and its `extra` fields as one JSON line; `RedactingFilter` (installed on the
  SP-API logger by `install_redaction`) masks every registered secret, anything shaped like an LWA token, values of
  secret-named fields (`client_secret=...`) and the password in a URL (`postgresql://user:***@host/db`).
- Metrics: `Metrics` counts requests, throttles, retries, token refreshes and errors by code, and keeps a bounded window of
  latencies for p50/p95/p99; `snapshot()` is a plain dict fit for Dagster metadata.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import re
import threading
import time
import uuid
from collections import Counter, deque
from collections.abc import Iterator
from typing import Any

REDACTED = "***"

_trace_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("amz_trace_id", default=None)


def current_trace_id() -> str:
    """The trace id of this context; generated (and kept for this context) if the caller set none."""
    value = _trace_id.get()
    if value is None:
        value = uuid.uuid4().hex
        _trace_id.set(value)
    return value


@contextlib.contextmanager
def trace(trace_id: str | None = None) -> Iterator[str]:
    """Run a block under `trace_id` (e.g. a Dagster run id), or a fresh one."""
    token = _trace_id.set(trace_id or uuid.uuid4().hex)
    try:
        yield _trace_id.get()  # type: ignore[misc]
    finally:
        _trace_id.reset(token)


# --- redaction -----------------------------------------------------------------------------------------------------

_secrets: set[str] = set()
_secrets_lock = threading.Lock()
# LWA access and refresh tokens, client secrets in form bodies and bearer-like headers, AWS secret keys in text.
_LWA_TOKEN = re.compile(r"Atz[ar]\|[^\s\"'&,;}\]]+")
_NAMED_SECRET = re.compile(
    r"(?i)(client_secret|refresh_token|access_token|x-amz-access-token|aws_secret_access_key|"
    r"x-amz-security-token|secret_access_key|session_token)([\"']?\s*[:=]\s*[\"']?)([^\s\"'&,;}]+)")
# The password of a URL's user info, e.g. a database URL: postgresql+psycopg://user:<password>@host/db.
_URL_PASSWORD = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^/\s:@]*:)([^@\s/]+)(@)")
_MIN_SECRET_LENGTH = 6


def register_secret(value: str | None) -> None:
    """Remember a secret so `redact` masks it wherever it appears. Short strings are ignored (they'd mask noise)."""
    if value and len(value) >= _MIN_SECRET_LENGTH:
        with _secrets_lock:
            _secrets.add(value)


def redact(text: str) -> str:
    """`text` with every registered secret and every token-shaped substring replaced by `***`."""
    if not text:
        return text
    with _secrets_lock:
        known = sorted(_secrets, key=len, reverse=True)
    for secret in known:
        if secret in text:
            text = text.replace(secret, REDACTED)
    text = _LWA_TOKEN.sub(REDACTED, text)
    text = _URL_PASSWORD.sub(rf"\g<1>{REDACTED}\g<3>", text)
    return _NAMED_SECRET.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)


def redact_value(value: Any) -> Any:
    """Redact strings inside nested dicts/lists (for metadata and log fields)."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: redact_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_value(v) for v in value]
    return value


class RedactingFilter(logging.Filter):
    """Masks secrets in the message, its arguments and the structured `extra` fields of every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            record.msg = record.getMessage()
            record.args = None
        record.msg = redact(str(record.msg))
        for key, value in list(record.__dict__.items()):
            if key not in _STANDARD_ATTRS:
                record.__dict__[key] = redact_value(value)
        if record.exc_info and record.exc_info[1] is not None and not record.exc_text:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


_STANDARD_ATTRS = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, trace id and every `extra` field."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRS:
                line[key] = value
        line.setdefault("trace_id", current_trace_id())
        if record.exc_info:
            line["exception"] = redact(self.formatException(record.exc_info))
        elif record.exc_text:
            line["exception"] = record.exc_text
        return redact(json.dumps(line, default=str, ensure_ascii=False))


def install_redaction(logger: logging.Logger) -> None:
    """Attach one `RedactingFilter` to `logger` (idempotent). Handlers see redacted records only."""
    if not any(isinstance(f, RedactingFilter) for f in logger.filters):
        logger.addFilter(RedactingFilter())


# --- metrics -------------------------------------------------------------------------------------------------------


def _percentile(sorted_values: list[float], q: float) -> float | None:
    if not sorted_values:
        return None
    index = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return round(sorted_values[index], 2)


class Metrics:
    """Thread-safe counters for SP-API calls. One instance per client (or shared by several)."""

    def __init__(self, window: int = 10_000) -> None:
        self._lock = threading.Lock()
        self._window = window
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._requests: Counter[str] = Counter()
            self._throttles: Counter[str] = Counter()
            self._retries: Counter[str] = Counter()
            self._errors: Counter[str] = Counter()
            self._statuses: Counter[str] = Counter()
            self._latencies: dict[str, deque[float]] = {}
            self._refreshes = 0
            self._limiter_wait_s = 0.0

    def record_response(self, operation: str, status: int | None, latency_ms: float, error_code: str | None) -> None:
        with self._lock:
            self._requests[operation] += 1
            self._statuses[str(status) if status is not None else "transport_error"] += 1
            if status == 429:
                self._throttles[operation] += 1
            if error_code:
                self._errors[error_code] += 1
            self._latencies.setdefault(operation, deque(maxlen=self._window)).append(latency_ms)

    def record_retry(self, operation: str) -> None:
        with self._lock:
            self._retries[operation] += 1

    def record_token_refresh(self) -> None:
        with self._lock:
            self._refreshes += 1

    def record_limiter_wait(self, seconds: float) -> None:
        with self._lock:
            self._limiter_wait_s += seconds

    def snapshot(self) -> dict[str, Any]:
        """Plain JSON-able dict: totals, per-operation counts, errors by code and latency percentiles (ms)."""
        with self._lock:
            all_latencies = sorted(v for values in self._latencies.values() for v in values)
            per_op = {}
            for op in sorted(self._requests):
                values = sorted(self._latencies.get(op, ()))
                per_op[op] = {
                    "requests": self._requests[op],
                    "throttles": self._throttles[op],
                    "retries": self._retries[op],
                    "latency_ms": {q: _percentile(values, p) for q, p in (("p50", .5), ("p95", .95), ("p99", .99))},
                }
            return {
                "requests": sum(self._requests.values()),
                "throttles": sum(self._throttles.values()),
                "retries": sum(self._retries.values()),
                "token_refreshes": self._refreshes,
                "limiter_wait_s": round(self._limiter_wait_s, 3),
                "errors_by_code": dict(self._errors),
                "responses_by_status": dict(self._statuses),
                "latency_ms": {q: _percentile(all_latencies, p) for q, p in (("p50", .5), ("p95", .95), ("p99", .99))},
                "operations": per_op,
            }


def configure_logging(level: str | int = "INFO", stream: Any = None) -> logging.Handler:
    """Send `amz_pipeline` logs to `stream` (stderr) as redacted JSON lines; idempotent. Returns the handler."""
    logger = logging.getLogger("amz_pipeline")
    for handler in logger.handlers:
        if isinstance(handler.formatter, JsonFormatter):
            handler.setLevel(level)
            return handler
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RedactingFilter())
    handler.setLevel(level)
    logger.addHandler(handler)
    logger.setLevel(level)
    return handler
