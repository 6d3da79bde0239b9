"""Choosing the key of the encrypted table from the environment, with clear errors for bad set-ups."""

from __future__ import annotations

import base64

import pytest

from amz_pipeline.spapi.secrets import (
    EncryptedDbSecretStore,
    KmsDataKey,
    LocalKey,
    SecretBackendError,
    keys_from_env,
    secret_name,
    secret_store_from_env,
)
from tests.spapi.secrets.secret_data import CREDENTIALS


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "needs AMZ_SECRETS_KEY"),
        ({"AMZ_SECRETS_KEY": "not base64!"}, "^AMZ_SECRETS_KEY is not valid base64"),
        ({"AMZ_SECRETS_KEY": base64.b64encode(b"short").decode()}, "^AMZ_SECRETS_KEY must decode to 32 bytes, got 5"),
        ({"AMZ_SECRETS_KEY": LocalKey.generate(), "AMZ_SECRETS_PREVIOUS_KEYS": "zzz"},
         "^AMZ_SECRETS_PREVIOUS_KEYS is not valid base64"),
        ({"AMZ_SECRETS_KEY": LocalKey.generate(), "AMZ_SECRETS_PREVIOUS_KEYS": base64.b64encode(b"old").decode()},
         "^AMZ_SECRETS_PREVIOUS_KEYS must decode to 32 bytes, got 3"),
        ({"AMZ_SECRETS_KEY": LocalKey.generate(), "AMZ_SECRETS_KMS_KEY_ID": "alias/x"}, "not both"),
    ],
)
def test_bad_key_configuration_is_explained(env, message):
    with pytest.raises(SecretBackendError, match=message):
        keys_from_env(env)


def test_the_key_id_is_a_stable_fingerprint_not_the_key():
    text = LocalKey.generate()
    key = LocalKey.from_base64(text)
    assert key.key_id == LocalKey.from_base64(text).key_id != LocalKey.from_base64(LocalKey.generate()).key_id
    assert text not in repr(key) and text not in key.key_id


def test_unknown_backend_is_named():
    with pytest.raises(SecretBackendError, match="AMZ_SECRETS_BACKEND must be one of env, db, aws, got 'vault'"):
        secret_store_from_env({"AMZ_SECRETS_BACKEND": "vault"})


def test_db_store_with_a_kms_key_from_the_environment(db_url, kms_key_id):
    env = {"AMZ_SECRETS_BACKEND": "db", "AMZ_DATABASE_URL": db_url, "AMZ_PROFILE": "prod",
           "AMZ_SECRETS_KMS_KEY_ID": kms_key_id, "AWS_REGION": "us-east-1"}
    store = secret_store_from_env(env)
    assert isinstance(store, EncryptedDbSecretStore) and isinstance(keys_from_env(env), KmsDataKey)
    name = secret_name("prod", "A1SELLER", "FE")
    store.put(name, CREDENTIALS)
    assert secret_store_from_env(env).get(name) == CREDENTIALS
    # A local key cannot open a KMS-sealed row, and says why.
    local = EncryptedDbSecretStore("prod", db_url, LocalKey.from_base64(LocalKey.generate()))
    with pytest.raises(Exception, match="was encrypted with key 'kms:"):
        local.get(name)


def test_moving_from_a_local_key_to_kms(db_url, kms_key_id):
    local_text = LocalKey.generate()
    name = secret_name("prod", "A1SELLER", "EU")
    EncryptedDbSecretStore("prod", db_url, LocalKey.from_base64(local_text)).put(name, CREDENTIALS)
    env = {"AMZ_DATABASE_URL": db_url, "AMZ_PROFILE": "prod", "AMZ_SECRETS_KMS_KEY_ID": kms_key_id,
           "AWS_REGION": "us-east-1", "AMZ_SECRETS_PREVIOUS_KEYS": local_text}
    store = secret_store_from_env(env, backend="db")
    assert store.get(name) == CREDENTIALS  # the old row opens with the previous key
    store.put(name, store.get(name))  # what `secrets rotate` does
    kms_only = secret_store_from_env({k: v for k, v in env.items() if k != "AMZ_SECRETS_PREVIOUS_KEYS"}, backend="db")
    assert kms_only.get(name) == CREDENTIALS
