"""Route the core's structured JSON log lines into Dagster's run log, with trace id = Dagster run id.

The core logs through the standard `logging` module under the `amz_pipeline` logger. While an asset runs,
`core_logs(context)` sets the telemetry trace id to the run id and attaches a handler that formats each record with
`JsonFormatter` (after `RedactingFilter`, so secrets are masked before Dagster stores anything) and hands the line to
`context.log`, where it lands in the run's event log.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg

from amz_pipeline import telemetry

CORE_LOGGER = "amz_pipeline"


class DagsterLogHandler(logging.Handler):
    def __init__(self, log: dg.DagsterLogManager) -> None:
        super().__init__(level=logging.DEBUG)
        self._log = log
        self.addFilter(telemetry.RedactingFilter())
        self.setFormatter(telemetry.JsonFormatter())

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
        except Exception:  # noqa: BLE001 - a log line must never fail an asset
            self.handleError(record)
            return
        if record.levelno >= logging.ERROR:
            self._log.error(line)
        elif record.levelno >= logging.WARNING:
            self._log.warning(line)
        elif record.levelno >= logging.INFO:
            self._log.info(line)
        else:
            self._log.debug(line)


@contextmanager
def core_logs(context: dg.OpExecutionContext | dg.AssetExecutionContext, level: int = logging.INFO) -> Iterator[str]:
    """Run a block with the core's logs in the run log and `telemetry.current_trace_id()` == the run id."""
    logger = logging.getLogger(CORE_LOGGER)
    handler = DagsterLogHandler(context.log)
    previous = logger.level
    if logger.level == logging.NOTSET or logger.level > level:
        logger.setLevel(level)
    logger.addHandler(handler)
    try:
        with telemetry.trace(context.run.run_id) as trace_id:
            yield trace_id
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)
