"""The value of a secret: LWA credentials, as a dict that never shows its contents in repr/str."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from .errors import InvalidSecretValue

LWA_FIELDS = ("client_id", "client_secret", "refresh_token")
SECRET_FIELDS = ("client_secret", "refresh_token")  # client_id identifies the app; it is not secret


class SecretValue(dict):
    """A plain `dict` (JSON-serialisable, `**`-expandable) whose repr/str hide the values.

    Logging a value by accident, or an exception message that formats one, shows only the field names.
    """

    def __repr__(self) -> str:
        return f"SecretValue({', '.join(f'{k}=***' for k in self)})"

    __str__ = __repr__


def lwa_value(value: Mapping[str, Any]) -> SecretValue:
    """Validate LWA credentials: the three fields as non-empty strings; other fields are kept (e.g. `seller_id`)."""
    if not isinstance(value, Mapping):
        raise InvalidSecretValue(f"a secret value must be a JSON object, got {type(value).__name__}")
    missing = [f for f in LWA_FIELDS if not value.get(f)]
    if missing:
        raise InvalidSecretValue(f"LWA credentials lack {', '.join(missing)}")
    wrong = sorted(k for k, v in value.items() if not isinstance(v, str))
    if wrong:
        raise InvalidSecretValue(f"LWA credential fields must be strings: {', '.join(wrong)}")
    return SecretValue(value)


def encode(value: Mapping[str, Any]) -> bytes:
    return json.dumps(dict(value), sort_keys=True, separators=(",", ":")).encode("utf-8")


def decode(raw: bytes | str, name: str) -> SecretValue:
    try:
        parsed = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise InvalidSecretValue(f"secret {name!r} does not hold a JSON object") from None
    try:
        return lwa_value(parsed)
    except InvalidSecretValue as exc:
        raise InvalidSecretValue(f"secret {name!r}: {exc}") from None
