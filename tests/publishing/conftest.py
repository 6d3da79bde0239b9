"""Fixtures for the publishing tests (helpers live in helpers.py)."""

from __future__ import annotations

import pytest

from amz_pipeline.publishing.client import ClientPool
from tests.publishing.helpers import sandbox_pool


@pytest.fixture
def pool(sandbox_server, demo_seller) -> ClientPool:
    return sandbox_pool(sandbox_server, demo_seller)
