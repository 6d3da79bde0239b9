"""`Settings.from_env`: defaults, and a clear error naming the variable for every malformed value."""

from __future__ import annotations

from pathlib import Path

import pytest

from amz_pipeline.settings import Settings, SettingsError


def test_defaults_put_the_database_under_the_data_dir(tmp_path):
    settings = Settings.from_env({"AMZ_DATA_DIR": str(tmp_path)})
    assert settings.profile == "dev" and settings.data_dir == Path(tmp_path)
    assert settings.database_url == f"sqlite:///{tmp_path}/state/amz_pipeline.db"
    assert (settings.lease_seconds, settings.feed_adopt_wait_seconds, settings.listings_max_skus) == (60.0, 600.0, 50)
    assert settings.log_level == "WARNING"


def test_values_are_read():
    settings = Settings.from_env({"AMZ_PROFILE": "prod", "AMZ_DATABASE_URL": "postgresql+psycopg://u@h:5432/d",
                                  "AMZ_LEASE_SECONDS": "12.5", "AMZ_FEED_ADOPT_WAIT_SECONDS": "0",
                                  "AMZ_LISTINGS_MAX_SKUS": "0", "AMZ_LOG_LEVEL": "debug"})
    assert settings.profile == "prod" and settings.database_url == "postgresql+psycopg://u@h:5432/d"
    assert (settings.lease_seconds, settings.feed_adopt_wait_seconds, settings.listings_max_skus) == (12.5, 0.0, 0)
    assert settings.log_level == "DEBUG"


@pytest.mark.parametrize(("name", "value", "says"), [
    ("AMZ_PROFILE", "production", "AMZ_PROFILE must be one of dev, stage, prod"),
    ("AMZ_LEASE_SECONDS", "soon", "AMZ_LEASE_SECONDS must be a number"),
    ("AMZ_LEASE_SECONDS", "0", "AMZ_LEASE_SECONDS must be a positive number"),
    ("AMZ_LEASE_SECONDS", "nan", "AMZ_LEASE_SECONDS must be a positive number"),
    ("AMZ_FEED_ADOPT_WAIT_SECONDS", "-1", "AMZ_FEED_ADOPT_WAIT_SECONDS must be a non-negative number"),
    ("AMZ_LISTINGS_MAX_SKUS", "5.5", "AMZ_LISTINGS_MAX_SKUS must be a whole number"),
    ("AMZ_LISTINGS_MAX_SKUS", "-3", "AMZ_LISTINGS_MAX_SKUS must not be negative"),
    ("AMZ_LOG_LEVEL", "loud", "AMZ_LOG_LEVEL must be one of"),
    ("AMZ_DATABASE_URL", "pg-host:5432 user=amz password=hunter2hunter2", "AMZ_DATABASE_URL is not a database URL"),
])
def test_a_malformed_value_names_its_variable(name, value, says):
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({name: value})
    assert says in str(caught.value)
    assert "hunter2hunter2" not in str(caught.value)
