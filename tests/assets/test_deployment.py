"""Deployment: a run on a PostgreSQL-backed instance (deploy/dagster.postgres.yaml) and `dagster dev` smoke test."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import dagster as dg
import httpx
import pytest
import sqlalchemy as sa

from assets import catalog
from assets.partitions import seller_marketplace
from resources.parquet_io import ParquetIOManager
from resources.settings import SettingsResource

ROOT = Path(__file__).resolve().parents[2]
PG_ADMIN_URL = os.environ.get("AMZ_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
CSV = "sku,product_type,item_name,price,quantity\nSKU-1,PRODUCT,Mug,9.99,3\nSKU-2,PRODUCT,Cup,4.50,1\n"
KEY = "A1DEMOSELLER01.US"


def _drop(data_dir: Path) -> Path:
    path = data_dir / "inbox" / "A1DEMOSELLER01" / "US" / "catalog.csv"
    path.parent.mkdir(parents=True)
    path.write_text(CSV)
    return path


def _materialize_raw_catalog(instance: dg.DagsterInstance, data_dir: Path) -> dg.ExecuteInProcessResult:
    path = _drop(data_dir)
    instance.add_dynamic_partitions(seller_marketplace.name, [KEY])
    return dg.materialize(
        [catalog.raw_catalog], instance=instance, partition_key=KEY,
        resources={"settings": SettingsResource(data_dir=str(data_dir)),
                   "parquet_io": ParquetIOManager(base_dir=str(data_dir / "dagster"))},
        run_config={"ops": {"raw_catalog": {"config": {"path": str(path)}}}},
        tags={"amz/seller": "A1DEMOSELLER01"},
    )


@pytest.fixture
def postgres_database(postgres_reason):
    """A throw-away PostgreSQL database for Dagster's own storage (dropped afterwards)."""
    if postgres_reason:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"PostgreSQL is required in CI: {postgres_reason}")
        pytest.skip(f"PostgreSQL not available: {postgres_reason}")
    name = f"dagster_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.engine.make_url(PG_ADMIN_URL).set(database=name)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.mark.postgres
def test_run_on_postgres_instance_storage(postgres_database, tmp_path, data_dir, monkeypatch):
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copyfile(ROOT / "deploy" / "dagster.postgres.yaml", home / "dagster.yaml")
    url = postgres_database
    for var, value in {"DAGSTER_PG_HOST": url.host, "DAGSTER_PG_PORT": str(url.port or 5432),
                       "DAGSTER_PG_USER": url.username, "DAGSTER_PG_PASSWORD": url.password or "",
                       "DAGSTER_PG_DB": url.database}.items():
        monkeypatch.setenv(var, value)
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        result = _materialize_raw_catalog(instance, data_dir)
        assert result.success
        record = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=dg.AssetKey("raw_catalog"), asset_partitions=[KEY]), limit=1).records[0]
        assert record.asset_materialization.metadata["rows"].value == 2
    engine = sa.create_engine(url.set(drivername="postgresql+psycopg"))
    with engine.connect() as conn:
        runs = conn.execute(sa.text("SELECT count(*) FROM runs WHERE status = 'SUCCESS'")).scalar_one()
    engine.dispose()
    assert runs == 1


@pytest.mark.postgres
@pytest.mark.parametrize("empty_db_url", ["postgres"], indirect=True)
def test_main_job_on_postgres_dagster_storage_and_postgres_pipeline_database(
        postgres_database, empty_db_url, pipeline, sandbox_server, tmp_path, data_dir, monkeypatch):
    """The main job, drop to listing status, with Dagster's storage (deploy/dagster.postgres.yaml) and the
    pipeline's own database (AMZ_DATABASE_URL) both on PostgreSQL; the end state agrees with the sandbox."""
    from dagster._core.storage.tags import RUN_KEY_TAG

    from assets.sensors import inbox_sensor
    from resources.database import DatabaseResource

    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copyfile(ROOT / "deploy" / "dagster.postgres.yaml", home / "dagster.yaml")
    url = postgres_database
    for var, value in {"DAGSTER_PG_HOST": url.host, "DAGSTER_PG_PORT": str(url.port or 5432),
                       "DAGSTER_PG_USER": url.username, "DAGSTER_PG_PASSWORD": url.password or "",
                       "DAGSTER_PG_DB": url.database}.items():
        monkeypatch.setenv(var, value)
    monkeypatch.setenv("AMZ_DATABASE_URL", empty_db_url)
    database = DatabaseResource()
    assert database.engine().dialect.name == "postgresql"
    defs = dg.Definitions(assets=pipeline.assets, asset_checks=pipeline.asset_checks, jobs=pipeline.jobs,
                          resources={**pipeline.resources, "database": database})
    target = data_dir / "inbox" / "A1DEMOSELLER01" / "US" / "catalog_small.ndjson"
    target.parent.mkdir(parents=True)
    shutil.copyfile(ROOT / "data" / "samples" / "catalog_small.ndjson", target)

    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert type(instance.event_log_storage).__name__ == "PostgresEventLogStorage"
        tick = inbox_sensor(dg.build_sensor_context(instance=instance,
                                                    resources={"settings": pipeline.resources["settings"]}))
        for request in tick.dynamic_partitions_requests:
            instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
        [request] = tick.run_requests
        result = defs.resolve_job_def(request.job_name).execute_in_process(
            run_config=request.run_config, instance=instance, partition_key=request.partition_key,
            tags={**request.tags, RUN_KEY_TAG: request.run_key}, raise_on_error=False)
        assert result.success, [e.message for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
        status = instance.fetch_materializations(dg.AssetRecordsFilter(
            asset_key=dg.AssetKey("listing_status"), asset_partitions=[KEY]), limit=1).records
        published = {k: v.value for k, v in result.asset_materializations_for_node("sku_publish")[0]
                     .metadata.items()}
        assert len(status) == 1

    body = httpx.get(f"{sandbox_server.base_url}/_sandbox/sellers/A1DEMOSELLER01/listings", timeout=10).json()
    in_sandbox = sorted(row["sku"] for row in body["listings"] if row["marketplace_id"] == "ATVPDKIKX0DER")
    pipeline_db = sa.create_engine(empty_db_url)
    with pipeline_db.connect() as conn:
        states = dict(conn.execute(sa.text(
            "SELECT sku, status FROM listings WHERE seller_id = 'A1DEMOSELLER01' AND marketplace_id = "
            "'ATVPDKIKX0DER'")).all())
        jobs = conn.execute(sa.text("SELECT state, count(*) FROM publish_jobs GROUP BY state")).all()
    pipeline_db.dispose()
    assert in_sandbox and sorted(s for s, st in states.items() if st in ("accepted", "live")) == in_sandbox
    assert dict(jobs).get("succeeded") == published["accepted"] and published["invalid"] == 0
    dagster_db = sa.create_engine(url.set(drivername="postgresql+psycopg"))
    with dagster_db.connect() as conn:
        runs = dict(conn.execute(sa.text("SELECT pipeline_name, status FROM runs")).all())
    dagster_db.dispose()
    assert runs == {"catalog_publish_job": "SUCCESS"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


GRAPHQL_ASSETS = "{ assetNodes { assetKey { path } dependencyKeys { path } } }"
GRAPHQL_RUN = """query($id: ID!) { runOrError(runId: $id) { ... on Run { status
  assetMaterializations { assetKey { path } metadataEntries { label ... on IntMetadataEntry { intValue } } } } } }"""


@pytest.mark.slow
def test_dagster_dev_serves_the_asset_graph_and_run_metadata(tmp_path, data_dir):
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copyfile(ROOT / "dagster.yaml", home / "dagster.yaml")
    os.environ["DAGSTER_HOME"] = str(home)
    try:
        with dg.DagsterInstance.get() as instance:
            run_id = _materialize_raw_catalog(instance, data_dir).run_id
    finally:
        del os.environ["DAGSTER_HOME"]

    sys.path.insert(0, str(ROOT / "scripts"))
    from dev import dagster_dev_command, stop_group

    port = _free_port()
    env = {**os.environ, "DAGSTER_HOME": str(home), "AMZ_DATA_DIR": str(data_dir)}
    process = subprocess.Popen(dagster_dev_command("127.0.0.1", port), cwd=ROOT, env=env, start_new_session=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/graphql"
    try:
        deadline = time.monotonic() + 90  # ~11-16 s when idle; generous under a loaded CI box
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/server_info", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, "dagster dev exited during start-up"
            assert time.monotonic() < deadline, "dagster dev did not answer within 90 s"
            time.sleep(0.5)
        nodes = httpx.post(url, json={"query": GRAPHQL_ASSETS}, timeout=30).json()["data"]["assetNodes"]
        edges = {"/".join(n["assetKey"]["path"]): {"/".join(d["path"]) for d in n["dependencyKeys"]} for n in nodes}
        assert edges["validated_catalog"] == {"raw_catalog"}
        assert edges["listing_changes"] == {"validated_catalog"}
        run = httpx.post(url, json={"query": GRAPHQL_RUN, "variables": {"id": run_id}}, timeout=30).json()
        run = run["data"]["runOrError"]
        assert run["status"] == "SUCCESS"
        entries = {e["label"]: e.get("intValue") for e in run["assetMaterializations"][0]["metadataEntries"]}
        assert entries["rows"] == 2, json.dumps(run)
    finally:
        started = time.monotonic()
        code = stop_group(process, timeout=20)
        assert time.monotonic() - started < 20
        assert code is not None
        assert _group_gone(process.pid, within=15), "dagster dev left processes behind"


def _group_gone(pgid: int, within: float) -> bool:
    """True once no process of the group is left (the webserver and daemon children exit after the parent)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.25)
    return False
