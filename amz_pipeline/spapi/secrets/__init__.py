"""Secret stores for LWA credentials, named `amz/<profile>/<seller>/<region>`.

Backends: environment variables (one seller), an AES-GCM encrypted database table, AWS Secrets Manager (+ KMS).
`secret_store_from_env()` opens the one the environment selects.
"""

from .aws import AwsSecretsManagerStore
from .base import SecretStore
from .db import EncryptedDbSecretStore
from .env import EnvSecretStore
from .envelope import DataKeyProvider, Keyring, KmsDataKey, LocalKey
from .errors import (
    InvalidSecretName,
    InvalidSecretValue,
    ReadOnlySecretStore,
    SecretAccessDenied,
    SecretBackendError,
    SecretDecryptionError,
    SecretError,
    SecretNotFound,
)
from .factory import keys_from_env, secret_store_from_env
from .names import parse_secret_name, profile_prefix, secret_name
from .value import LWA_FIELDS, SecretValue

__all__ = [
    "LWA_FIELDS",
    "AwsSecretsManagerStore",
    "DataKeyProvider",
    "EncryptedDbSecretStore",
    "EnvSecretStore",
    "InvalidSecretName",
    "InvalidSecretValue",
    "Keyring",
    "KmsDataKey",
    "LocalKey",
    "ReadOnlySecretStore",
    "SecretAccessDenied",
    "SecretBackendError",
    "SecretDecryptionError",
    "SecretError",
    "SecretNotFound",
    "SecretStore",
    "SecretValue",
    "keys_from_env",
    "parse_secret_name",
    "profile_prefix",
    "secret_name",
    "secret_store_from_env",
]
