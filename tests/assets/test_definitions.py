"""The code location loads, in-process and through `dagster definitions validate`, with the expected lineage."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg

from assets.definitions import defs

ROOT = Path(__file__).resolve().parents[2]


def test_definitions_load_with_the_catalog_lineage():
    dg.Definitions.validate_loadable(defs)
    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert {"raw_catalog", "validated_catalog", "catalog_rejects", "listing_changes",
            "product_type_definitions"} <= keys
    parents = {k.to_user_string(): {p.to_user_string() for p in graph.get(k).parent_keys}
               for k in graph.get_all_asset_keys()}
    assert parents["validated_catalog"] == {"raw_catalog"}
    assert parents["listing_changes"] == {"validated_catalog"}


def test_publishing_jobs_have_run_retries_off_and_checks_block():
    job = defs.resolve_job_def("catalog_publish_job")
    assert job.tags["dagster/max_retries"] == "0"
    graph = defs.resolve_asset_graph()
    blocking = {key.name for key in graph.asset_check_keys if graph.get_check_spec(key).blocking}
    assert {"schema_validity", "reject_rate"} <= blocking


def test_dagster_cli_validates_the_workspace(tmp_path):
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copyfile(ROOT / "dagster.yaml", home / "dagster.yaml")
    env = {**os.environ, "DAGSTER_HOME": str(home), "AMZ_DATA_DIR": str(tmp_path / "data")}
    result = subprocess.run(
        [str(Path(sys.executable).with_name("dagster")), "definitions", "validate", "-w", "workspace.yaml"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "All code locations passed validation" in result.stdout + result.stderr
