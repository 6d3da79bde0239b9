"""Environment backend: the single-seller set-up of the CLI and the demo.

Mapping (read-only): the one secret `amz/<profile>/<AMZ_SELLER_ID>/<AMZ_REGION>` is
`{"client_id": AMZ_LWA_CLIENT_ID, "client_secret": AMZ_LWA_CLIENT_SECRET, "refresh_token": AMZ_REFRESH_TOKEN}`.
Every other name is not found. `AMZ_REGION` defaults to NA.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from .base import SecretStore
from .errors import SecretNotFound
from .names import secret_name
from .value import SecretValue, lwa_value

ENV_FIELDS = {
    "client_id": "AMZ_LWA_CLIENT_ID",
    "client_secret": "AMZ_LWA_CLIENT_SECRET",
    "refresh_token": "AMZ_REFRESH_TOKEN",
}


class EnvSecretStore(SecretStore):
    backend = "env"

    def __init__(self, profile: str, env: Mapping[str, str] | None = None) -> None:
        super().__init__(profile)
        self._env = os.environ if env is None else env

    def configured_name(self) -> str | None:
        """The one name this environment holds, or None when AMZ_SELLER_ID is unset."""
        seller = self._env.get("AMZ_SELLER_ID")
        if not seller:
            return None
        return secret_name(self.profile, seller, self._env.get("AMZ_REGION") or "NA")

    def _get(self, name: str) -> SecretValue:
        if name != self.configured_name():
            raise SecretNotFound(
                f"secret {name!r} not found: the environment holds only AMZ_SELLER_ID/AMZ_REGION's secret "
                f"({self.configured_name() or 'AMZ_SELLER_ID unset'})"
            )
        missing = [var for var in ENV_FIELDS.values() if not self._env.get(var)]
        if missing:
            raise SecretNotFound(f"secret {name!r} not found: {', '.join(missing)} unset")
        return lwa_value({field: self._env[var] for field, var in ENV_FIELDS.items()})

    def _list(self, prefix: str) -> list[str]:
        name = self.configured_name()
        return [name] if name and all(self._env.get(v) for v in ENV_FIELDS.values()) else []
