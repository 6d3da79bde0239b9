"""`publish` and `publish --resume` that cannot start exit 2 with one clear line, before anything is queued or sent."""

from __future__ import annotations

import sqlite3

import pytest

from tests.publishing.helpers import amz, cli_env, sandbox_listings, write_catalog


@pytest.mark.parametrize(("variable", "value", "named", "code"), [
    ("AMZ_LWA_CLIENT_SECRET", "wrong-client-secret", "AMZ_LWA_CLIENT_SECRET", "invalid_client"),
    ("AMZ_REFRESH_TOKEN", "Atzr|wrong-refresh-token", "AMZ_REFRESH_TOKEN", "invalid_grant"),
])
def test_bad_credentials_cannot_start(variable, value, named, code, tmp_path, sandbox_server, demo_seller):
    catalog = tmp_path / "catalog.csv"
    write_catalog(catalog, rows=3)
    env = cli_env(tmp_path, sandbox_server, demo_seller, **{variable: value})
    result = amz(env, "publish", str(catalog), "--seller", demo_seller["seller_id"], "--marketplace", "US")
    assert result.returncode == 2, result.stdout + result.stderr[-2000:]
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and named in lines[0] and code in lines[0], lines
    assert value not in result.stdout + result.stderr
    assert "patchListingsItem" not in result.stdout + result.stderr
    assert sandbox_listings(sandbox_server, demo_seller["seller_id"]) == {}
    with sqlite3.connect(tmp_path / "state.db") as db:
        assert db.execute("select count(*) from publish_jobs").fetchone() == (0,)

    resumed = amz(env, "publish", "--resume")
    assert resumed.returncode == 2 and named in resumed.stderr, resumed.stderr[-2000:]
