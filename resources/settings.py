"""Settings resource: the core `Settings` plus the thresholds and sources only the Dagster layer needs."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import dagster as dg
from pydantic import Field

from amz_pipeline.settings import Settings, default_sqlite_url


class SettingsResource(dg.ConfigurableResource):
    """Where files live and the limits the asset checks enforce. Empty strings mean "from the environment"."""

    profile: str = Field(default="", description="dev | stage | prod; empty → AMZ_PROFILE (default dev)")
    data_dir: str = Field(default="", description="Root of inbox/processed/failed/rejected/state; empty → AMZ_DATA_DIR")
    reject_rate_threshold: float = Field(
        default=0.5, description="validated_catalog's blocking check fails when rejected/rows exceeds this"
    )
    feed_error_rate_threshold: float = Field(
        default=0.5, description="processing_reports' check fails when messages with errors/processed exceed this"
    )
    max_accepted_not_live: int = Field(default=0, description="listing_status check: accepted SKUs not live allowed")
    max_dead_letter_growth: int = Field(default=0, description="dead letters a run may add before its check fails")
    listings_max_skus: int = Field(default=50, description="auto routing: change sets up to this size use Listings API")
    feed_wait_seconds: float = Field(
        default=300.0, description="how long a run polls its feeds before leaving them to the feed-status sensor"
    )
    feed_poll_max_seconds: float = Field(
        default=60.0, description="longest wait between two getFeed polls of one feed (the engine backs off to it)"
    )
    catalog_sources: dict[str, str] = Field(
        default_factory=dict,
        description="partition key '<sellerId>.<country>' → catalog path or glob read by the scheduled syncs",
    )

    def settings(self) -> Settings:
        """`Settings.from_env()` with this resource's profile / data directory applied.

        A data directory set here moves the default SQLite database with it unless AMZ_DATABASE_URL names one.
        """
        base = Settings.from_env()
        changes: dict = {}
        if self.profile:
            changes["profile"] = self.profile
        if self.data_dir:
            changes["data_dir"] = Path(self.data_dir)
            if not os.environ.get("AMZ_DATABASE_URL"):
                changes["database_url"] = default_sqlite_url(Path(self.data_dir))
        return dataclasses.replace(base, **changes) if changes else base

    def engine_config(self, preview: bool = False):
        """The publishing engine's configuration from these settings."""
        from . import core

        return core.engine_config(self.settings(), listings_max_skus=self.listings_max_skus,
                                  feed_poll_max_seconds=self.feed_poll_max_seconds, preview=preview)

    def folder(self, name: str) -> Path:
        """`inbox`, `processed`, `failed`, `rejected`, `state`, `issues`, `dagster` under the data directory."""
        return self.settings().data_dir / name
