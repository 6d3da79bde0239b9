"""Bad input to the publishing CLI gets one specific line: unknown DLQ causes, a malformed --endpoint, an
unreachable database (driver's first line, password masked)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from amz_pipeline.publishing.cli import dlq_command, publish_command
from tests.publishing.helpers import write_catalog

SELLER_ENV = {"AMZ_SELLER_ID": "A1DEMOSELLER01", "AMZ_REGION": "NA", "AMZ_LWA_CLIENT_ID": "amzn1.application-oa2-client.x",
              "AMZ_LWA_CLIENT_SECRET": "not-used-secret", "AMZ_REFRESH_TOKEN": "Atzr|not-used"}


@pytest.fixture
def env(tmp_path, monkeypatch) -> dict[str, str]:
    values = {"AMZ_DATA_DIR": str(tmp_path / "data"), "AMZ_DATABASE_URL": f"sqlite:///{tmp_path / 'state.db'}",
              **SELLER_ENV}
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AMZ_SPAPI_ENDPOINT", raising=False)
    return values


@pytest.mark.parametrize("command", ["list", "redrive"])
def test_unknown_dlq_cause_is_refused(command, env):
    result = CliRunner().invoke(dlq_command, [command, "--cause", "bogus"])
    assert result.exit_code == 2, result.output
    assert "'bogus' is not one of" in result.output and "retries_exhausted" in result.output
    assert "queued" not in result.output


def test_malformed_endpoint_flag_is_named(env, tmp_path):
    catalog = tmp_path / "catalog.csv"
    write_catalog(catalog, rows=1)
    result = CliRunner().invoke(publish_command, [str(catalog), "--seller", SELLER_ENV["AMZ_SELLER_ID"],
                                                  "--endpoint", "notaurl"])
    assert result.exit_code == 2, result.output
    assert "--endpoint: " in result.output and "notaurl" in result.output
    assert "AMZ_SPAPI_ENDPOINT" not in result.output


def test_malformed_endpoint_variable_is_named(env, tmp_path, monkeypatch):
    monkeypatch.setenv("AMZ_SPAPI_ENDPOINT", "notaurl")
    catalog = tmp_path / "catalog.csv"
    write_catalog(catalog, rows=1)
    result = CliRunner().invoke(publish_command, [str(catalog), "--seller", SELLER_ENV["AMZ_SELLER_ID"]])
    assert result.exit_code == 2 and "AMZ_SPAPI_ENDPOINT: " in result.output, result.output


def test_unreachable_database_is_one_line_with_masked_password(env, monkeypatch):
    monkeypatch.setenv("AMZ_DATABASE_URL", "postgresql+psycopg://postgres:hunter2pw@127.0.0.1:1/test")
    result = CliRunner().invoke(dlq_command, ["list"])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, lines
    assert lines[0].startswith("error: database postgresql+psycopg://postgres:***@127.0.0.1:1/test: ")
    assert "OperationalError" in lines[0] and "Background on this error" not in lines[0]
    assert "hunter2pw" not in result.output
