"""The CLI installs the redacted JSON log handler at AMZ_LOG_LEVEL and refuses a bad level clearly."""

import logging

import pytest
from click.testing import CliRunner

from amz_pipeline.cli import main
from amz_pipeline.telemetry import JsonFormatter


@pytest.fixture(autouse=True)
def restore_logger():
    """The CLI configures the process-wide `amz_pipeline` logger; put it back for the other tests."""
    logger = logging.getLogger("amz_pipeline")
    handlers, level = list(logger.handlers), logger.level
    yield
    logger.handlers[:] = handlers
    logger.setLevel(level)


def _json_handlers():
    return [h for h in logging.getLogger("amz_pipeline").handlers if isinstance(h.formatter, JsonFormatter)]


def test_log_level_from_the_environment(tmp_path):
    url = f"sqlite:///{tmp_path / 'x.db'}"
    result = CliRunner().invoke(main, ["db", "upgrade", "--url", url], env={"AMZ_LOG_LEVEL": "info"})
    assert result.exit_code == 0, result.output
    handlers = _json_handlers()
    assert len(handlers) == 1 and handlers[0].level == logging.INFO
    CliRunner().invoke(main, ["db", "current", "--url", url], env={"AMZ_LOG_LEVEL": None})
    assert [h.level for h in _json_handlers()] == [logging.WARNING]


def test_bad_log_level_is_a_clear_error():
    result = CliRunner().invoke(main, ["db", "current"], env={"AMZ_LOG_LEVEL": "chatty"})
    assert result.exit_code == 1
    assert "AMZ_LOG_LEVEL must be one of" in result.output
    assert "Traceback" not in result.output
