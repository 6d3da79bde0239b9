"""The `SecretStore` interface: a store bound to one profile reads and writes only `amz/<profile>/...`."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any

from amz_pipeline import telemetry

from .errors import ReadOnlySecretStore, SecretAccessDenied
from .names import parse_secret_name, profile_prefix
from .value import SECRET_FIELDS, SecretValue, lwa_value


class SecretStore(ABC):
    """LWA credentials by secret name. Subclasses implement `_get`, `_list` and, where they can write, `_put`.

    The profile check happens here, before any backend is asked, so no backend can be talked into reading
    another profile's secrets (a stage store cannot read `amz/prod/...`, and a prod store nothing but it).
    """

    backend = "abstract"

    def __init__(self, profile: str) -> None:
        self.prefix = profile_prefix(profile)
        self.profile = profile

    def __repr__(self) -> str:
        return f"{type(self).__name__}(profile={self.profile!r})"

    def get(self, name: str) -> SecretValue:
        """The credentials `{"client_id", "client_secret", "refresh_token"}` stored under `name`."""
        self._check(name)
        return _registered(self._get(name))

    def put(self, name: str, value: Mapping[str, Any]) -> None:
        """Create or replace the secret `name` (validated as LWA credentials)."""
        self._check(name)
        self._put(name, _registered(lwa_value(value)))

    def list(self, prefix: str | None = None) -> list[str]:
        """Sorted names of the secrets under `prefix` (default: the whole profile prefix)."""
        prefix = self.prefix if prefix is None else prefix
        if not prefix.startswith(self.prefix):
            raise SecretAccessDenied(
                f"{self.backend} store bound to profile {self.profile!r} may not list {prefix!r} "
                f"(outside {self.prefix!r})"
            )
        return sorted(n for n in self._list(prefix) if n.startswith(prefix))

    def _check(self, name: str) -> None:
        if not isinstance(name, str) or not name.startswith(self.prefix):
            raise SecretAccessDenied(
                f"{self.backend} store bound to profile {self.profile!r} may not access {name!r} "
                f"(outside {self.prefix!r})"
            )
        parse_secret_name(name)

    @abstractmethod
    def _get(self, name: str) -> SecretValue: ...

    @abstractmethod
    def _list(self, prefix: str) -> list[str]: ...

    def _put(self, name: str, value: SecretValue) -> None:
        raise ReadOnlySecretStore(f"the {self.backend} secret store is read-only; cannot write {name!r}")



def _registered(value: SecretValue) -> SecretValue:
    """Tell the log redaction about the secret parts, so they are masked wherever they might still surface."""
    for field in SECRET_FIELDS:
        telemetry.register_secret(value.get(field))
    return value
