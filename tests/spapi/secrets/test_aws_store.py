"""AWS Secrets Manager backend against moto's server on loopback (real HTTP through botocore)."""

from __future__ import annotations

import json

import pytest

from amz_pipeline.spapi.secrets import (
    AwsSecretsManagerStore,
    InvalidSecretValue,
    KmsDataKey,
    SecretAccessDenied,
    SecretDecryptionError,
    SecretNotFound,
    secret_name,
    secret_store_from_env,
)
from amz_pipeline.spapi.secrets.aws import aws_client
from tests.spapi.secrets.secret_data import CLIENT_SECRET, CREDENTIALS, REFRESH_TOKEN, SECRET_STRINGS

PROD = secret_name("prod", "A1PRODSELLER", "NA")


@pytest.fixture
def sm(aws_env):
    return aws_client("secretsmanager", "us-east-1")


def test_reads_a_json_secret_created_by_an_operator(sm):
    sm.create_secret(Name=PROD, SecretString=json.dumps(CREDENTIALS))
    assert AwsSecretsManagerStore("prod", sm).get(PROD) == CREDENTIALS


def test_put_creates_then_updates(sm):
    store = AwsSecretsManagerStore("prod", sm)
    store.put(PROD, CREDENTIALS)
    store.put(PROD, CREDENTIALS | {"refresh_token": "Atzr|rotated"})
    assert store.get(PROD)["refresh_token"] == "Atzr|rotated"
    assert store.list() == [PROD]


def test_kms_sealed_values_hold_no_plaintext_and_need_kms(sm, kms_key_id):
    kms = KmsDataKey(aws_client("kms", "us-east-1"), kms_key_id)
    AwsSecretsManagerStore("prod", sm, kms).put(PROD, CREDENTIALS)
    raw = sm.get_secret_value(SecretId=PROD)
    assert "SecretString" not in raw
    for secret in SECRET_STRINGS:
        assert secret.encode() not in raw["SecretBinary"]
    assert AwsSecretsManagerStore("prod", sm, kms).get(PROD) == CREDENTIALS
    with pytest.raises(SecretDecryptionError, match="AMZ_SECRETS_KMS_KEY_ID"):
        AwsSecretsManagerStore("prod", sm).get(PROD)


def test_stage_cannot_read_prod(sm):
    AwsSecretsManagerStore("prod", sm).put(PROD, CREDENTIALS)
    stage = AwsSecretsManagerStore("stage", sm)
    stage.put(secret_name("stage", "A1STAGE", "NA"), CREDENTIALS)
    with pytest.raises(SecretAccessDenied):
        stage.get(PROD)
    assert stage.list() == ["amz/stage/A1STAGE/NA"]


def test_missing_and_malformed_secrets(sm):
    store = AwsSecretsManagerStore("prod", sm)
    with pytest.raises(SecretNotFound, match="not found in AWS Secrets Manager"):
        store.get(PROD)
    sm.create_secret(Name=PROD, SecretString=json.dumps({"client_secret": CLIENT_SECRET}))
    with pytest.raises(InvalidSecretValue, match="client_id, refresh_token") as info:
        store.get(PROD)
    assert CLIENT_SECRET not in str(info.value)
    sm.put_secret_value(SecretId=PROD, SecretString=f"not json {REFRESH_TOKEN}")
    with pytest.raises(InvalidSecretValue) as info:
        store.get(PROD)
    assert REFRESH_TOKEN not in str(info.value)


def test_opened_from_the_environment(aws_env, kms_key_id, monkeypatch):
    env = {"AMZ_SECRETS_BACKEND": "aws", "AMZ_PROFILE": "prod", "AMZ_SECRETS_KMS_KEY_ID": kms_key_id}
    store = secret_store_from_env(env | {"AWS_REGION": "us-east-1"})
    assert isinstance(store, AwsSecretsManagerStore)
    store.put(PROD, CREDENTIALS)
    assert store.get(PROD) == CREDENTIALS
    assert "SecretBinary" in aws_client("secretsmanager", "us-east-1").get_secret_value(SecretId=PROD)
