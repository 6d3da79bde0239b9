"""Fixtures for the Dagster layer: a private data directory, an ephemeral instance, the default resources."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

warnings.filterwarnings("ignore", category=dg.PreviewWarning)
warnings.filterwarnings("ignore", category=dg.BetaWarning)


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """AMZ_DATA_DIR for this test; the pipeline database is SQLite inside it."""
    root = tmp_path / "data"
    root.mkdir()
    monkeypatch.setenv("AMZ_DATA_DIR", str(root))
    monkeypatch.delenv("AMZ_DATABASE_URL", raising=False)
    return root


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    """A throw-away SQLite instance (unlike an ephemeral one it has an instance ref, which schedules need)."""
    with dg.instance_for_test() as inst:
        yield inst
