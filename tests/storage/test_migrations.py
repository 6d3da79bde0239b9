"""Alembic: upgrade → downgrade → upgrade on both databases, and the migrated schema equals the ORM models."""

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import schemas
from amz_pipeline.storage.db import downgrade, make_engine, upgrade
from amz_pipeline.storage.models import Base


@pytest.mark.parametrize(
    "empty_db_url", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
def test_upgrade_downgrade_upgrade(empty_db_url):
    upgrade(empty_db_url)
    downgrade(empty_db_url)
    engine = make_engine(empty_db_url)
    assert [t for t in sa.inspect(engine).get_table_names() if t != "alembic_version"] == []
    upgrade(empty_db_url)
    tables = set(sa.inspect(engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    assert diff == [], f"models and migrations disagree: {diff}"


def test_marketplaces_seeded_from_the_one_file(db_engine):
    expected = {m["id"]: m for m in schemas.load_json("marketplaces.json")["marketplaces"]}
    with db_engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT marketplace_id, country_code, region, currency FROM marketplaces")).all()
    assert {r.marketplace_id for r in rows} == set(expected)
    for r in rows:
        m = expected[r.marketplace_id]
        assert (r.country_code, r.region, r.currency) == (m["country_code"], m["region"], m["currency"])
