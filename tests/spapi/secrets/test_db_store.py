"""Encrypted database backend on SQLite and PostgreSQL: round trips, no plaintext at rest, tamper and key checks."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from amz_pipeline.spapi.secrets import (
    EncryptedDbSecretStore,
    KmsDataKey,
    LocalKey,
    SecretAccessDenied,
    SecretDecryptionError,
    SecretNotFound,
    secret_name,
)
from amz_pipeline.spapi.secrets.aws import aws_client
from tests.spapi.secrets.secret_data import CLIENT_SECRET, CREDENTIALS, REFRESH_TOKEN, SECRET_STRINGS

PROD = secret_name("prod", "A1PRODSELLER", "EU")


def raw_rows(engine: sa.Engine) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text("SELECT * FROM encrypted_secrets"))]


def assert_no_plaintext(engine: sa.Engine) -> None:
    raw = repr(raw_rows(engine)).encode() + b"".join(
        bytes(v) for row in raw_rows(engine) for v in row if isinstance(v, bytes | memoryview)
    )
    assert raw_rows(engine), "nothing was stored"
    for secret in SECRET_STRINGS:
        assert secret.encode() not in raw
    if engine.dialect.name == "sqlite":  # the database file itself, WAL included
        path = engine.url.database
        on_disk = b"".join(Path(p).read_bytes() for p in (path, path + "-wal") if Path(p).exists())
        for secret in SECRET_STRINGS:
            assert secret.encode() not in on_disk


def test_round_trip_without_plaintext_at_rest(secrets_engine, local_key):
    store = EncryptedDbSecretStore("prod", secrets_engine, local_key)
    store.put(PROD, CREDENTIALS)
    assert store.get(PROD) == CREDENTIALS
    assert_no_plaintext(secrets_engine)
    (name, _, key_id, created, updated) = raw_rows(secrets_engine)[0]
    assert (name, key_id) == (PROD, local_key.key_id)
    assert created is not None and updated is not None


def test_put_replaces_and_keeps_created_at(secrets_engine, local_key):
    store = EncryptedDbSecretStore("prod", secrets_engine, local_key)
    store.put(PROD, CREDENTIALS)
    created_before = raw_rows(secrets_engine)[0][3]
    store.put(PROD, CREDENTIALS | {"refresh_token": "Atzr|rotated"})
    rows = raw_rows(secrets_engine)
    assert len(rows) == 1 and rows[0][3] == created_before and rows[0][4] >= created_before
    assert store.get(PROD)["refresh_token"] == "Atzr|rotated"


def test_list_is_scoped_and_prefix_filtered(secrets_engine, local_key):
    prod = EncryptedDbSecretStore("prod", secrets_engine, local_key)
    stage = EncryptedDbSecretStore("stage", secrets_engine, local_key)
    for seller, region in [("A1", "NA"), ("A1", "EU"), ("B_2", "FE")]:
        prod.put(secret_name("prod", seller, region), CREDENTIALS)
    stage.put(secret_name("stage", "A1", "NA"), CREDENTIALS)
    assert prod.list() == ["amz/prod/A1/EU", "amz/prod/A1/NA", "amz/prod/B_2/FE"]
    assert prod.list("amz/prod/A1/") == ["amz/prod/A1/EU", "amz/prod/A1/NA"]
    assert prod.list("amz/prod/B_") == ["amz/prod/B_2/FE"]  # '_' is literal, not a LIKE wildcard
    assert stage.list() == ["amz/stage/A1/NA"]


def test_stage_cannot_read_prod_from_the_same_table(secrets_engine, local_key):
    EncryptedDbSecretStore("prod", secrets_engine, local_key).put(PROD, CREDENTIALS)
    stage = EncryptedDbSecretStore("stage", secrets_engine, local_key)
    with pytest.raises(SecretAccessDenied) as info:
        stage.get(PROD)
    assert CLIENT_SECRET not in str(info.value)
    with pytest.raises(SecretAccessDenied):
        stage.list("amz/prod/")


def test_a_ciphertext_copied_under_another_name_does_not_decrypt(secrets_engine, local_key):
    """AES-GCM binds each ciphertext to its name: a prod row pasted under a stage name is refused."""
    EncryptedDbSecretStore("prod", secrets_engine, local_key).put(PROD, CREDENTIALS)
    stage_name = secret_name("stage", "A1PRODSELLER", "EU")
    with secrets_engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO encrypted_secrets SELECT :n, ciphertext, key_id, created_at, updated_at "
                "FROM encrypted_secrets WHERE name = :p"
            ),
            {"n": stage_name, "p": PROD},
        )
    with pytest.raises(SecretDecryptionError, match="failed authentication"):
        EncryptedDbSecretStore("stage", secrets_engine, local_key).get(stage_name)


def test_tampered_ciphertext_and_wrong_key_are_refused(secrets_engine, local_key):
    store = EncryptedDbSecretStore("prod", secrets_engine, local_key)
    store.put(PROD, CREDENTIALS)
    other_key = LocalKey.from_base64(LocalKey.generate())
    with pytest.raises(SecretDecryptionError, match="AMZ_SECRETS_KEY is key") as info:
        EncryptedDbSecretStore("prod", secrets_engine, other_key).get(PROD)
    assert REFRESH_TOKEN not in str(info.value)
    blob = bytearray(raw_rows(secrets_engine)[0][1])
    blob[-1] ^= 0x01
    with secrets_engine.begin() as conn:
        conn.execute(sa.text("UPDATE encrypted_secrets SET ciphertext = :c"), {"c": bytes(blob)})
    with pytest.raises(SecretDecryptionError):
        store.get(PROD)


def test_missing_secret_is_not_found(secrets_engine, local_key):
    with pytest.raises(SecretNotFound, match="amz/prod/A1PRODSELLER/EU"):
        EncryptedDbSecretStore("prod", secrets_engine, local_key).get(PROD)


def test_kms_envelope_encryption_with_an_encryption_context(secrets_engine, kms_key_id):
    kms = aws_client("kms", "us-east-1")
    store = EncryptedDbSecretStore("prod", secrets_engine, KmsDataKey(kms, kms_key_id))
    store.put(PROD, CREDENTIALS)
    assert store.get(PROD) == CREDENTIALS
    assert_no_plaintext(secrets_engine)
    assert raw_rows(secrets_engine)[0][2] == f"kms:{kms_key_id}"
    # A fresh store (another process) opens it through KMS Decrypt alone.
    assert EncryptedDbSecretStore("prod", secrets_engine, KmsDataKey(kms, kms_key_id)).get(PROD) == CREDENTIALS


def test_kms_decrypt_is_bound_to_the_secret_name(kms_key_id):
    """The data key of a prod secret does not decrypt under another secret's encryption context."""
    kms = aws_client("kms", "us-east-1")
    provider = KmsDataKey(kms, kms_key_id)
    _, encrypted_key = provider.new_data_key(PROD)
    assert provider.data_key(PROD, provider.key_id, encrypted_key)
    with pytest.raises(SecretDecryptionError, match="KMS Decrypt .* failed: InvalidCiphertextException"):
        provider.data_key(secret_name("stage", "A1PRODSELLER", "EU"), provider.key_id, encrypted_key)


def test_database_errors_are_reported_without_parameters(tmp_path, local_key):
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'empty.db'}")  # no table
    store = EncryptedDbSecretStore("prod", engine, local_key)
    with pytest.raises(Exception, match="no such table: encrypted_secrets.*amz-pipeline db upgrade") as info:
        store.put(PROD, CREDENTIALS)
    assert type(info.value).__name__ == "SecretBackendError"
    assert "parameters" not in str(info.value)


def test_concurrent_first_writes_of_one_name_all_succeed(secrets_engine, local_key):
    """Racing writers of a new name (insert vs insert) end with one row, readable, and no error surfaces."""
    from concurrent.futures import ThreadPoolExecutor

    store = EncryptedDbSecretStore("prod", secrets_engine, local_key)
    values = [CREDENTIALS | {"refresh_token": f"Atzr|writer-{i}"} for i in range(8)]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda value: store.put(PROD, value), values))
    assert len(raw_rows(secrets_engine)) == 1
    assert store.get(PROD) in values
