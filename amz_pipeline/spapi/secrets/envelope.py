"""Authenticated encryption of secret values at rest (AES-256-GCM), with a local key or a KMS data key.

Why AES-GCM rather than Fernet: GCM takes associated data, so each ciphertext is bound to its secret name and key id.
A row copied under another name (say a prod ciphertext pasted into a stage row) fails to decrypt instead of yielding
prod's credentials; Fernet has no associated data and would accept it.

Blob layout (all lengths big-endian u16): `AMZS1 | len(key_id) | key_id | len(edk) | edk | nonce(12) | ct+tag`.
`key_id` is `local:<fingerprint>` (a key from AMZ_SECRETS_KEY) or `kms:<KMS key id>`; `edk` is the KMS-encrypted data
key (envelope encryption; empty for a local key). Associated data: `AMZS1 | name | NUL | key_id`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import struct
from abc import ABC, abstractmethod
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .errors import SecretBackendError, SecretDecryptionError

MAGIC = b"AMZS1"
NONCE_BYTES = 12
KEY_BYTES = 32
ENCRYPTION_CONTEXT_KEY = "secret_name"
ENCRYPTION_CONTEXT_PURPOSE = {"purpose": "amz-pipeline-secret"}


class DataKeyProvider(ABC):
    """Gives the AES key for one secret: a fresh (plaintext, encrypted) pair to seal, the plaintext to open."""

    key_id: str

    @abstractmethod
    def new_data_key(self, name: str) -> tuple[bytes, bytes]: ...

    @abstractmethod
    def data_key(self, name: str, key_id: str, encrypted_key: bytes) -> bytes: ...

    def __repr__(self) -> str:
        return f"{type(self).__name__}(key_id={self.key_id!r})"


class LocalKey(DataKeyProvider):
    """One 256-bit key held by the process (AMZ_SECRETS_KEY). The key id is a fingerprint, not the key."""

    def __init__(self, key: bytes, *, variable: str = "AMZ_SECRETS_KEY") -> None:
        if len(key) != KEY_BYTES:
            raise SecretBackendError(f"{variable} must decode to {KEY_BYTES} bytes, got {len(key)}")
        self._key = key
        self.key_id = "local:" + hashlib.sha256(b"amz-pipeline secrets key id\0" + key).hexdigest()[:16]

    @classmethod
    def from_base64(cls, text: str, *, variable: str = "AMZ_SECRETS_KEY") -> LocalKey:
        """The key from its base64 text; `variable` names where it came from in error messages."""
        try:
            key = base64.b64decode(text.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise SecretBackendError(f"{variable} is not valid base64 (expected 32 random bytes)") from None
        return cls(key, variable=variable)

    @staticmethod
    def generate() -> str:
        """A fresh key, base64-encoded, for AMZ_SECRETS_KEY."""
        return base64.b64encode(os.urandom(KEY_BYTES)).decode("ascii")

    def new_data_key(self, name: str) -> tuple[bytes, bytes]:
        return self._key, b""

    def data_key(self, name: str, key_id: str, encrypted_key: bytes) -> bytes:
        if key_id != self.key_id:
            raise SecretDecryptionError(
                f"secret {name!r} was encrypted with key {key_id!r}; AMZ_SECRETS_KEY is key {self.key_id!r}"
            )
        return self._key


class KmsDataKey(DataKeyProvider):
    """Envelope encryption: a KMS data key per secret, its encrypted copy stored in the blob.

    Every KMS call carries the encryption context `{"purpose": "amz-pipeline-secret", "secret_name": <name>}`, so an
    IAM condition on `kms:EncryptionContext:secret_name` (see docs/iam-policy.json) limits a role to one profile.
    """

    def __init__(self, kms_client: Any, kms_key_id: str) -> None:
        self._kms = kms_client
        self.kms_key_id = kms_key_id
        self.key_id = f"kms:{kms_key_id}"

    @staticmethod
    def context(name: str) -> dict[str, str]:
        return {**ENCRYPTION_CONTEXT_PURPOSE, ENCRYPTION_CONTEXT_KEY: name}

    def new_data_key(self, name: str) -> tuple[bytes, bytes]:
        answer = _kms_call(
            name,
            "GenerateDataKey",
            self._kms.generate_data_key,
            KeyId=self.kms_key_id,
            KeySpec="AES_256",
            EncryptionContext=self.context(name),
        )
        return answer["Plaintext"], answer["CiphertextBlob"]

    def data_key(self, name: str, key_id: str, encrypted_key: bytes) -> bytes:
        if not key_id.startswith("kms:") or not encrypted_key:
            raise SecretDecryptionError(f"secret {name!r} was encrypted with key {key_id!r}, not a KMS key")
        answer = _kms_call(
            name,
            "Decrypt",
            self._kms.decrypt,
            CiphertextBlob=encrypted_key,
            KeyId=key_id.removeprefix("kms:"),
            EncryptionContext=self.context(name),
        )
        return answer["Plaintext"]


class Keyring(DataKeyProvider):
    """Key rotation: seals with the current key, opens rows sealed with the current or a previous key."""

    def __init__(self, current: DataKeyProvider, previous: list[DataKeyProvider]) -> None:
        self.current, self.previous = current, previous
        self.key_id = current.key_id

    def new_data_key(self, name: str) -> tuple[bytes, bytes]:
        return self.current.new_data_key(name)

    def data_key(self, name: str, key_id: str, encrypted_key: bytes) -> bytes:
        for provider in (self.current, *self.previous):
            # A KMS provider opens any KMS-sealed row: the row names its KMS key, and KMS checks the caller's rights.
            if provider.key_id == key_id or (key_id.startswith("kms:") and isinstance(provider, KmsDataKey)):
                return provider.data_key(name, key_id, encrypted_key)
        raise SecretDecryptionError(
            f"secret {name!r} was encrypted with key {key_id!r}, which is neither the current key "
            f"{self.key_id!r} nor one of AMZ_SECRETS_PREVIOUS_KEYS"
        )


def _kms_call(name: str, operation: str, call: Any, **params: Any) -> dict[str, Any]:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return call(**params)
    except ClientError as exc:
        error = exc.response.get("Error", {})
        code = error.get("Code", "Unknown")
        cls = SecretDecryptionError if operation == "Decrypt" else SecretBackendError
        raise cls(f"KMS {operation} for secret {name!r} failed: {code}: {error.get('Message', '')}") from None
    except BotoCoreError as exc:
        raise SecretBackendError(f"KMS {operation} for secret {name!r} failed: {exc}") from None


def _aad(name: str, key_id: str) -> bytes:
    return MAGIC + name.encode("utf-8") + b"\0" + key_id.encode("utf-8")


def seal(provider: DataKeyProvider, name: str, plaintext: bytes) -> bytes:
    """Encrypt `plaintext` for the secret `name` under a key from `provider`."""
    key, encrypted_key = provider.new_data_key(name)
    nonce = os.urandom(NONCE_BYTES)
    ciphertext = AESGCM(key).encrypt(nonce, plaintext, _aad(name, provider.key_id))
    key_id = provider.key_id.encode("utf-8")
    return b"".join(
        [MAGIC, struct.pack(">H", len(key_id)), key_id, struct.pack(">H", len(encrypted_key)), encrypted_key,
         nonce, ciphertext]
    )


def open_sealed(provider: DataKeyProvider, name: str, blob: bytes) -> bytes:
    """Authenticate and decrypt a blob made by `seal` for the same `name`."""
    key_id, encrypted_key, nonce, ciphertext = _split(name, blob)
    key = provider.data_key(name, key_id, encrypted_key)
    try:
        return AESGCM(key).decrypt(nonce, ciphertext, _aad(name, key_id))
    except InvalidTag:
        raise SecretDecryptionError(
            f"secret {name!r} failed authentication: wrong key, or the ciphertext was altered or belongs to "
            "another name"
        ) from None


def _split(name: str, blob: bytes) -> tuple[str, bytes, bytes, bytes]:
    try:
        if not blob.startswith(MAGIC):
            raise ValueError
        pos = len(MAGIC)
        (n,) = struct.unpack_from(">H", blob, pos)
        key_id = blob[pos + 2 : pos + 2 + n].decode("utf-8")
        pos += 2 + n
        (n,) = struct.unpack_from(">H", blob, pos)
        encrypted_key = blob[pos + 2 : pos + 2 + n]
        pos += 2 + n
        nonce, ciphertext = blob[pos : pos + NONCE_BYTES], blob[pos + NONCE_BYTES :]
        if len(nonce) != NONCE_BYTES or len(ciphertext) < 16:
            raise ValueError
    except (ValueError, struct.error, UnicodeDecodeError):
        raise SecretDecryptionError(f"secret {name!r} is not a sealed secret (unknown or truncated format)") from None
    return key_id, encrypted_key, nonce, ciphertext
