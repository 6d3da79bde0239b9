"""The one settings object, read from the environment (README lists every variable).

Profiles (`AMZ_PROFILE`): `dev` (default; our sandbox, SQLite), `stage`, `prod`. The profile names the secret prefix
(`amz/<profile>/...`) and decides defaults that must differ between environments; nothing else branches on it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
PROFILES = ("dev", "stage", "prod")


class SettingsError(ValueError):
    """A configuration value is missing or malformed; the message names the variable."""


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        return float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number, got {raw!r}") from None


@dataclass(frozen=True)
class Settings:
    profile: str = "dev"
    data_dir: Path = PROJECT_ROOT / "data"
    database_url: str = ""
    lease_seconds: float = 60.0
    feed_adopt_wait_seconds: float = 600.0
    listings_max_skus: int = 50
    log_level: str = "INFO"
    extra: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.profile not in PROFILES:
            raise SettingsError(f"AMZ_PROFILE must be one of {', '.join(PROFILES)}, got {self.profile!r}")
        if not self.database_url:
            object.__setattr__(self, "database_url", default_sqlite_url(self.data_dir))

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        data_dir = Path(env.get("AMZ_DATA_DIR") or PROJECT_ROOT / "data")
        try:
            listings_max = int(env.get("AMZ_LISTINGS_MAX_SKUS") or 50)
        except ValueError:
            raise SettingsError("AMZ_LISTINGS_MAX_SKUS must be an integer") from None
        return cls(
            profile=env.get("AMZ_PROFILE") or "dev",
            data_dir=data_dir,
            database_url=env.get("AMZ_DATABASE_URL") or "",
            lease_seconds=_float(env, "AMZ_LEASE_SECONDS", 60.0),
            feed_adopt_wait_seconds=_float(env, "AMZ_FEED_ADOPT_WAIT_SECONDS", 600.0),
            listings_max_skus=listings_max,
            log_level=env.get("AMZ_LOG_LEVEL") or "INFO",
        )


def default_sqlite_url(data_dir: Path) -> str:
    return f"sqlite:///{(data_dir / 'state' / 'amz_pipeline.db').as_posix()}"
