"""`amz-pipeline secrets` as an operator uses it: values from the environment or a prompt, never echoed."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from amz_pipeline.spapi.secrets import LocalKey, secret_store_from_env
from amz_pipeline.spapi.secrets.cli import command
from amz_pipeline.storage.db import upgrade
from tests.spapi.secrets.secret_data import (
    CLIENT_ID,
    CLIENT_SECRET,
    CREDENTIALS,
    REFRESH_TOKEN,
    SECRET_STRINGS,
)


@pytest.fixture
def db_env(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    upgrade(url)
    env = {"AMZ_DATABASE_URL": url, "AMZ_SECRETS_KEY": LocalKey.generate(), "AMZ_PROFILE": "stage"}
    for var in ("AMZ_SECRETS_BACKEND", "AMZ_LWA_CLIENT_ID", "AMZ_LWA_CLIENT_SECRET", "AMZ_REFRESH_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    for var, value in env.items():
        monkeypatch.setenv(var, value)
    return env


def assert_quiet(output: str) -> None:
    for secret in SECRET_STRINGS:
        assert secret not in output


def test_put_from_environment_then_list(db_env, monkeypatch):
    monkeypatch.setenv("AMZ_LWA_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("AMZ_LWA_CLIENT_SECRET", CLIENT_SECRET)
    monkeypatch.setenv("AMZ_REFRESH_TOKEN", REFRESH_TOKEN)
    result = CliRunner().invoke(command, ["put", "--seller", "A1SELLER", "--region", "eu", "--backend", "db"])
    assert result.exit_code == 0, result.output
    assert "stored amz/stage/A1SELLER/EU" in result.output
    assert_quiet(result.output)
    listed = CliRunner().invoke(command, ["list", "--backend", "db"])
    assert listed.exit_code == 0 and listed.output.split() == ["amz/stage/A1SELLER/EU"]
    assert secret_store_from_env(db_env, backend="db").get("amz/stage/A1SELLER/EU") == CREDENTIALS


def test_put_prompts_for_missing_values(db_env):
    answers = f"{CLIENT_ID}\n{CLIENT_SECRET}\n{REFRESH_TOKEN}\n"
    result = CliRunner().invoke(
        command, ["put", "--seller", "A1SELLER", "--region", "NA", "--profile", "prod"], input=answers
    )
    assert result.exit_code == 0, result.output
    assert_quiet(result.output)  # hidden input is not echoed
    store = secret_store_from_env(db_env, backend="db", profile="prod")
    assert store.get("amz/prod/A1SELLER/NA") == CREDENTIALS


def test_clear_errors(db_env, monkeypatch):
    monkeypatch.delenv("AMZ_SECRETS_KEY")
    result = CliRunner().invoke(command, ["list", "--backend", "db"])
    assert result.exit_code == 1 and "AMZ_SECRETS_KEY" in result.output and "Traceback" not in result.output
    result = CliRunner().invoke(command, ["put", "--seller", "A1", "--region", "SA"])
    assert result.exit_code == 2 and "'SA' is not one of" in result.output
    result = CliRunner().invoke(command, ["put", "--seller", "bad/seller", "--region", "NA"], input="a\nb\nc\n")
    assert result.exit_code == 1 and "invalid seller id" in result.output


def test_put_to_secrets_manager(aws_env, monkeypatch):
    for var, value in {"AMZ_LWA_CLIENT_ID": CLIENT_ID, "AMZ_LWA_CLIENT_SECRET": CLIENT_SECRET,
                       "AMZ_REFRESH_TOKEN": REFRESH_TOKEN, "AMZ_PROFILE": "prod"}.items():
        monkeypatch.setenv(var, value)
    monkeypatch.delenv("AMZ_SECRETS_KMS_KEY_ID", raising=False)
    result = CliRunner().invoke(command, ["put", "--seller", "A1SELLER", "--region", "FE", "--backend", "aws"])
    assert result.exit_code == 0, result.output
    listed = CliRunner().invoke(command, ["list", "--backend", "aws"])
    assert listed.output.split() == ["amz/prod/A1SELLER/FE"]


def test_generate_key_makes_a_usable_key():
    result = CliRunner().invoke(command, ["generate-key"])
    assert LocalKey.from_base64(result.output).key_id.startswith("local:")


def test_rotate_reencrypts_under_the_new_key(db_env, monkeypatch):
    old_key = db_env["AMZ_SECRETS_KEY"]
    store = secret_store_from_env(db_env, backend="db")
    for seller in ("A1", "B2"):
        store.put(f"amz/stage/{seller}/NA", CREDENTIALS)
    new_key = LocalKey.generate()
    monkeypatch.setenv("AMZ_SECRETS_KEY", new_key)
    monkeypatch.setenv("AMZ_SECRETS_PREVIOUS_KEYS", f" {LocalKey.generate()}, {old_key}")
    result = CliRunner().invoke(command, ["rotate"])
    assert result.exit_code == 0 and "re-encrypted 2 secret(s) under amz/stage/" in result.output, result.output
    only_new = secret_store_from_env({**db_env, "AMZ_SECRETS_KEY": new_key}, backend="db")
    assert only_new.get("amz/stage/B2/NA") == CREDENTIALS
    with pytest.raises(Exception, match="was encrypted with key"):
        secret_store_from_env(db_env, backend="db").get("amz/stage/A1/NA")  # the old key alone no longer opens it


def test_a_row_under_an_unknown_key_names_the_previous_keys_variable(db_env):
    secret_store_from_env(db_env, backend="db").put("amz/stage/A1/NA", CREDENTIALS)
    env = {**db_env, "AMZ_SECRETS_KEY": LocalKey.generate(), "AMZ_SECRETS_PREVIOUS_KEYS": LocalKey.generate()}
    with pytest.raises(Exception, match="nor one of AMZ_SECRETS_PREVIOUS_KEYS"):
        secret_store_from_env(env, backend="db").get("amz/stage/A1/NA")


def test_aws_without_a_region_is_explained(monkeypatch, tmp_path):
    for var in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    result = CliRunner().invoke(command, ["list", "--backend", "aws"])
    assert result.exit_code == 1 and "set AWS_REGION" in result.output and "Traceback" not in result.output
