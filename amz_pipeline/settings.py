"""The one settings object, read from the environment (README lists every variable).

Profiles (`AMZ_PROFILE`): `dev` (default; our sandbox, SQLite), `stage`, `prod`. The profile names the secret prefix
(`amz/<profile>/...`) and decides defaults that must differ between environments; nothing else branches on it.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
PROFILES = ("dev", "stage", "prod")


class SettingsError(ValueError):
    """A configuration value is missing or malformed; the message names the variable."""


def _seconds(env: Mapping[str, str], name: str, default: float, *, zero_ok: bool) -> float:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number of seconds, got {raw!r}") from None
    if not math.isfinite(value) or value < 0 or (value == 0 and not zero_ok):
        raise SettingsError(f"{name} must be a {'non-negative' if zero_ok else 'positive'} number of seconds, "
                            f"got {raw!r}")
    return value


def _count(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, got {raw!r}") from None
    if value < 0:
        raise SettingsError(f"{name} must not be negative, got {raw!r}")
    return value


def _database_url(env: Mapping[str, str]) -> str:
    raw = (env.get("AMZ_DATABASE_URL") or "").strip()
    if raw:
        from sqlalchemy.engine import make_url  # here, not at import: settings stays cheap to import
        from sqlalchemy.exc import ArgumentError

        try:
            make_url(raw)
        except ArgumentError:
            # The value itself is not echoed: it may carry a password.
            raise SettingsError(
                "AMZ_DATABASE_URL is not a database URL (expected e.g. sqlite:///path/to/file.db or "
                "postgresql+psycopg://user@host:5432/dbname)") from None
    return raw


def log_level_from_env(env: Mapping[str, str]) -> str:
    """AMZ_LOG_LEVEL, default WARNING (INFO adds one JSON line per SP-API call)."""
    level = (env.get("AMZ_LOG_LEVEL") or "WARNING").strip().upper()
    if not isinstance(logging.getLevelName(level), int):
        raise SettingsError(f"AMZ_LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL, got {level!r}")
    return level


@dataclass(frozen=True)
class Settings:
    profile: str = "dev"
    data_dir: Path = PROJECT_ROOT / "data"
    database_url: str = ""
    lease_seconds: float = 60.0
    feed_adopt_wait_seconds: float = 600.0
    listings_max_skus: int = 50
    log_level: str = "WARNING"

    def __post_init__(self) -> None:
        if self.profile not in PROFILES:
            raise SettingsError(f"AMZ_PROFILE must be one of {', '.join(PROFILES)}, got {self.profile!r}")
        if not self.database_url:
            object.__setattr__(self, "database_url", default_sqlite_url(self.data_dir))

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        return cls(
            profile=env.get("AMZ_PROFILE") or "dev",
            data_dir=Path(env.get("AMZ_DATA_DIR") or PROJECT_ROOT / "data"),
            database_url=_database_url(env),
            lease_seconds=_seconds(env, "AMZ_LEASE_SECONDS", 60.0, zero_ok=False),
            feed_adopt_wait_seconds=_seconds(env, "AMZ_FEED_ADOPT_WAIT_SECONDS", 600.0, zero_ok=True),
            listings_max_skus=_count(env, "AMZ_LISTINGS_MAX_SKUS", 50),
            log_level=log_level_from_env(env),
        )


def default_sqlite_url(data_dir: Path) -> str:
    return f"sqlite:///{(data_dir / 'state' / 'amz_pipeline.db').as_posix()}"
