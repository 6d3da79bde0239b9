"""`amz-pipeline db ...` on bad input: one clear line, exit 1, no traceback, no password."""

from __future__ import annotations

import socket

import pytest
from click.testing import CliRunner

from amz_pipeline.cli import main

PASSWORD = "db-password-that-must-not-show"


def _closed_loopback_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["db", *args])
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


def test_upgrade_current_downgrade_on_a_fresh_sqlite_file(tmp_path):
    url = f"sqlite:///{tmp_path / 'state' / 'fresh.db'}"
    assert _run("upgrade", "--url", url) == (0, f"migrated {url} to head\n")
    code, output = _run("current", "--url", url)
    assert code == 0 and "(head)" in output
    assert _run("downgrade", "--url", url) == (0, f"downgraded {url} to base\n")


@pytest.mark.parametrize("command", ["upgrade", "downgrade", "current"])
def test_unreachable_database_names_it_without_the_password(command):
    url = f"postgresql+psycopg://amz:{PASSWORD}@127.0.0.1:{_closed_loopback_port()}/test"
    code, output = _run(command, "--url", url)
    assert code == 1
    assert output.startswith("Error: cannot ") and "amz:***@127.0.0.1" in output and "OperationalError" in output
    assert PASSWORD not in output


@pytest.mark.parametrize("command", ["upgrade", "downgrade", "current"])
def test_a_string_that_is_not_a_url_is_a_clear_error(command):
    code, output = _run(command, "--url", "not a url")
    assert code == 1 and "not a database URL" in output


def test_a_dialect_without_an_installed_driver_is_named(tmp_path):
    code, output = _run("upgrade", "--url", f"mysql+mysqldb://amz:{PASSWORD}@127.0.0.1/x")
    assert code == 1 and "no installed driver" in output and PASSWORD not in output


def test_an_unknown_revision_is_a_clear_error(tmp_path):
    code, output = _run("upgrade", "--url", f"sqlite:///{tmp_path / 'x.db'}", "--revision", "nope")
    assert code == 1 and "Can't locate revision identified by 'nope'" in output
