"""AWS Secrets Manager backend (botocore), optionally with client-side KMS envelope encryption.

Reading: `GetSecretValue(SecretId=<name>)`. A `SecretString` is the JSON credentials (Secrets Manager encrypts it at
rest with its KMS key; a secret created in the console looks like this). A `SecretBinary` is a blob sealed by this
module (envelope.py) with a KMS data key under the encryption context `{"purpose": "amz-pipeline-secret",
"secret_name": <name>}`, opened with KMS Decrypt under that same context.

Writing: with a KMS key configured, the value is sealed client-side and stored as `SecretBinary`, so even a principal
allowed to call GetSecretValue cannot read it without kms:Decrypt for that context. Without one, it is stored as
`SecretString`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from .base import SecretStore
from .envelope import KmsDataKey, open_sealed, seal
from .errors import SecretBackendError, SecretDecryptionError, SecretNotFound
from .value import SecretValue, decode, encode

# botocore's DEBUG logs print request parameters and response bodies verbatim: a SecretString, a SecretBinary or a
# KMS data key ("Plaintext") would land in the logs of anyone debugging AWS calls.
_SECRET_MARKERS = ("SecretString", "SecretBinary", "Plaintext")
_BODY_LOGGERS = ("botocore.endpoint", "botocore.parsers")


class _WithholdSecretPayloads(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            text = record.getMessage()
        except Exception:  # noqa: BLE001 - a malformed record is not ours to fix; withhold it to be safe
            text = _SECRET_MARKERS[0]
        if any(marker in text for marker in _SECRET_MARKERS):
            record.msg, record.args = "botocore debug message withheld: it carries secret material", None
        return True


def _guard_botocore_logs() -> None:
    for name in _BODY_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, _WithholdSecretPayloads) for f in logger.filters):
            logger.addFilter(_WithholdSecretPayloads())


def aws_client(service: str, region_name: str | None = None, endpoint_url: str | None = None) -> Any:
    """A botocore client with the default credential chain (env, shared profile, SSO, instance/role metadata).

    botocore also honours AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_<SERVICE> for a stand-in such as moto."""
    import botocore.session
    from botocore.exceptions import BotoCoreError, NoRegionError

    _guard_botocore_logs()
    session = botocore.session.get_session()
    try:
        return session.create_client(service, region_name=region_name, endpoint_url=endpoint_url)
    except NoRegionError:
        raise SecretBackendError(f"no AWS region for the {service} client: set AWS_REGION") from None
    except BotoCoreError as exc:
        raise SecretBackendError(f"cannot set up the AWS {service} client: {exc}") from None


class AwsSecretsManagerStore(SecretStore):
    backend = "aws"

    def __init__(self, profile: str, client: Any, kms: KmsDataKey | None = None) -> None:
        super().__init__(profile)
        self._client = client
        self._kms = kms

    def __repr__(self) -> str:
        return f"AwsSecretsManagerStore(profile={self.profile!r}, kms={self._kms!r})"

    def _get(self, name: str) -> SecretValue:
        with _aws_errors("GetSecretValue", name):
            answer = self._client.get_secret_value(SecretId=name)
        if answer.get("SecretString") is not None:
            return decode(answer["SecretString"], name)
        if self._kms is None:
            raise SecretDecryptionError(
                f"secret {name!r} is KMS-sealed (SecretBinary) but no KMS key is configured (AMZ_SECRETS_KMS_KEY_ID)"
            )
        return decode(open_sealed(self._kms, name, answer["SecretBinary"]), name)

    def _put(self, name: str, value: SecretValue) -> None:
        if self._kms is not None:
            payload: dict[str, Any] = {"SecretBinary": seal(self._kms, name, encode(value))}
        else:
            payload = {"SecretString": encode(value).decode("utf-8")}
        try:
            with _aws_errors("CreateSecret", name):
                self._client.create_secret(Name=name, **payload)
        except _AlreadyExists:
            with _aws_errors("PutSecretValue", name):
                self._client.put_secret_value(SecretId=name, **payload)

    def _list(self, prefix: str) -> list[str]:
        names: list[str] = []
        with _aws_errors("ListSecrets", prefix):
            pages = self._client.get_paginator("list_secrets").paginate(
                Filters=[{"Key": "name", "Values": [prefix]}]
            )
            for page in pages:
                names.extend(s["Name"] for s in page.get("SecretList", []))
        return names


class _AlreadyExists(Exception):
    pass


@contextmanager
def _aws_errors(operation: str, name: str) -> Iterator[None]:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except ClientError as exc:
        error = exc.response.get("Error", {})
        code = error.get("Code", "Unknown")
        if code == "ResourceNotFoundException":
            raise SecretNotFound(f"secret {name!r} not found in AWS Secrets Manager") from None
        if code == "ResourceExistsException":
            raise _AlreadyExists from None
        raise SecretBackendError(
            f"Secrets Manager {operation} for {name!r} failed: {code}: {error.get('Message', '')}"
        ) from None
    except BotoCoreError as exc:
        raise SecretBackendError(f"Secrets Manager {operation} for {name!r} failed: {exc}") from None
