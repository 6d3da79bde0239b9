"""Secret values stay out of logs, even with botocore logging at DEBUG (it prints request and response bodies)."""

from __future__ import annotations

import logging

from amz_pipeline import telemetry
from amz_pipeline.spapi.secrets import AwsSecretsManagerStore, EncryptedDbSecretStore, KmsDataKey, secret_name
from amz_pipeline.spapi.secrets.aws import aws_client
from tests.spapi.secrets.secret_data import CLIENT_SECRET, CREDENTIALS, SECRET_STRINGS

WITHHELD = "botocore debug message withheld"


def test_botocore_debug_logs_never_carry_secret_values(aws_env, kms_key_id, tmp_path, caplog):
    name = secret_name("prod", "A1LOGS", "NA")
    with caplog.at_level(logging.DEBUG):
        sm, kms = aws_client("secretsmanager", "us-east-1"), KmsDataKey(aws_client("kms", "us-east-1"), kms_key_id)
        plain = AwsSecretsManagerStore("prod", sm)
        plain.put(name, CREDENTIALS)  # SecretString in the request body
        assert plain.get(name) == CREDENTIALS  # ... and in the response body
        sealed = AwsSecretsManagerStore("prod", sm, kms)
        sealed.put(name, CREDENTIALS)  # KMS GenerateDataKey answers with the plaintext data key
        assert sealed.get(name) == CREDENTIALS
        db = EncryptedDbSecretStore("prod", f"sqlite:///{tmp_path / 'logs.db'}", kms)
        from amz_pipeline.storage.db import upgrade

        upgrade(f"sqlite:///{tmp_path / 'logs.db'}")
        db.put(name, CREDENTIALS)
        assert db.get(name) == CREDENTIALS
    messages = [record.getMessage() for record in caplog.records]
    assert any(m.startswith(WITHHELD) for m in messages), "botocore logged no bodies at all: the test proves nothing"
    assert sum(m.startswith("Making request for") for m in messages) > 0  # other botocore debugging still flows
    for message in messages:
        for secret in SECRET_STRINGS:
            assert secret not in message
        assert "Plaintext" not in message


def test_values_read_are_registered_for_redaction(aws_env):
    name = secret_name("prod", "A1REDACT", "EU")
    store = AwsSecretsManagerStore("prod", aws_client("secretsmanager", "us-east-1"))
    store.put(name, CREDENTIALS)
    store.get(name)
    assert telemetry.redact(f"oops: {CLIENT_SECRET}") == "oops: ***"
