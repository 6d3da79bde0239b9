"""Open the secret store the environment asks for (used by the CLI and the SP-API client set-up).

| Variable | Meaning |
|---|---|
| `AMZ_SECRETS_BACKEND` | `env` (default), `db` or `aws` |
| `AMZ_PROFILE` | dev, stage or prod: the store only touches `amz/<profile>/...` |
| `AMZ_SECRETS_KEY` | db: base64 of 32 random bytes (`amz-pipeline secrets generate-key`) |
| `AMZ_SECRETS_KMS_KEY_ID` | db or aws: KMS key id/ARN/alias for envelope encryption (instead of AMZ_SECRETS_KEY) |
| `AMZ_SECRETS_PREVIOUS_KEYS` | db: comma-separated earlier AMZ_SECRETS_KEY values, readable during a key rotation |
| `AMZ_DATABASE_URL` | db: the database holding `encrypted_secrets` |
| `AWS_REGION`, `AWS_ENDPOINT_URL`, AWS credentials | aws and KMS: botocore's usual configuration |
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from amz_pipeline.settings import Settings

from .aws import AwsSecretsManagerStore, aws_client
from .base import SecretStore
from .db import EncryptedDbSecretStore
from .env import EnvSecretStore
from .envelope import DataKeyProvider, Keyring, KmsDataKey, LocalKey
from .errors import SecretBackendError

BACKENDS = ("env", "db", "aws")


def _aws_region(env: Mapping[str, str]) -> str | None:
    return env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")


def kms_from_env(env: Mapping[str, str]) -> KmsDataKey | None:
    key_id = env.get("AMZ_SECRETS_KMS_KEY_ID")
    return KmsDataKey(aws_client("kms", _aws_region(env)), key_id) if key_id else None


def keys_from_env(env: Mapping[str, str]) -> DataKeyProvider:
    """The key for the encrypted table: AMZ_SECRETS_KEY or a KMS key (exactly one of them), plus any
    AMZ_SECRETS_PREVIOUS_KEYS (comma-separated base64 keys) that rows sealed before a rotation still need."""
    local, kms_key = env.get("AMZ_SECRETS_KEY"), env.get("AMZ_SECRETS_KMS_KEY_ID")
    if local and kms_key:
        raise SecretBackendError("set AMZ_SECRETS_KEY or AMZ_SECRETS_KMS_KEY_ID, not both")
    current = LocalKey.from_base64(local) if local else kms_from_env(env)
    if current is None:
        raise SecretBackendError(
            "the db secret store needs AMZ_SECRETS_KEY (base64 of 32 random bytes; "
            "`amz-pipeline secrets generate-key` makes one) or AMZ_SECRETS_KMS_KEY_ID"
        )
    previous = [k.strip() for k in (env.get("AMZ_SECRETS_PREVIOUS_KEYS") or "").split(",") if k.strip()]
    if not previous:
        return current
    return Keyring(current, [LocalKey.from_base64(k, variable="AMZ_SECRETS_PREVIOUS_KEYS") for k in previous])


def secret_store_from_env(
    env: Mapping[str, str] | None = None, *, backend: str | None = None, profile: str | None = None
) -> SecretStore:
    env = os.environ if env is None else env
    backend = backend or env.get("AMZ_SECRETS_BACKEND") or "env"
    settings = Settings.from_env(env)
    profile = profile or settings.profile
    if backend == "env":
        return EnvSecretStore(profile, env)
    if backend == "db":
        return EncryptedDbSecretStore(profile, settings.database_url, keys_from_env(env))
    if backend == "aws":
        client = aws_client("secretsmanager", _aws_region(env))
        return AwsSecretsManagerStore(profile, client, kms_from_env(env))
    raise SecretBackendError(f"AMZ_SECRETS_BACKEND must be one of {', '.join(BACKENDS)}, got {backend!r}")
