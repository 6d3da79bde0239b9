"""Errors of the secret stores. Their texts name secrets (`amz/<profile>/<seller>/<region>`), never values."""

from __future__ import annotations


class SecretError(Exception):
    """Base class: something about a secret could not be done. The message is safe to log."""


class InvalidSecretName(SecretError, ValueError):
    """The name is not `amz/<profile>/<seller>/<region>` with a known profile and region."""


class SecretAccessDenied(SecretError, PermissionError):
    """The name lies outside the prefix of the profile the store is bound to."""


class SecretNotFound(SecretError, KeyError):
    """No secret of that name exists in the backend."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class InvalidSecretValue(SecretError, ValueError):
    """The value is not a complete set of LWA credentials (the message names the fields, never their values)."""


class SecretDecryptionError(SecretError):
    """A stored ciphertext could not be authenticated or decrypted (wrong key, tampered row, wrong name)."""


class SecretBackendError(SecretError):
    """The backend (database, AWS) failed or is misconfigured."""


class ReadOnlySecretStore(SecretError):
    """The backend cannot write secrets (the environment backend)."""
