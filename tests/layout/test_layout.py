"""The layout the design card fixes: generic top-level names resolve to this repo, and the core is Dagster-free."""

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", ["assets", "resources", "schemas", "amz_pipeline"])
def test_top_level_packages_come_from_this_repo(name):
    module = importlib.import_module(name)
    assert Path(module.__file__).resolve().parent == ROOT / name


def test_no_test_package_shadows_top_level_names():
    assert not list((ROOT / "tests").rglob("__init__.py"))


def test_core_never_imports_dagster():
    offenders = []
    for path in (ROOT / "amz_pipeline").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            offenders += [f"{path.relative_to(ROOT)}: {n}" for n in names if n.split(".")[0].startswith("dagster")]
    assert offenders == []


def _imports(package: Path) -> set[str]:
    found = set()
    for path in package.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add(node.module)
            elif isinstance(node, ast.Import):
                found.update(a.name for a in node.names)
    return found


def test_sandbox_and_client_share_no_logic():
    sandbox = _imports(ROOT / "amz_pipeline" / "sandbox")
    client = _imports(ROOT / "amz_pipeline" / "spapi")
    assert not {m for m in sandbox if m.startswith(("amz_pipeline.spapi", "amz_pipeline.validation"))}
    assert not {m for m in client if m.startswith("amz_pipeline.sandbox")}
    assert "botocore" not in {m.split(".")[0] for m in sandbox}


def test_usage_plans_file_is_in_sync_with_amazon_models():
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "generate_usage_plans.py"), "--check"])
    assert result.returncode == 0, "run scripts/generate_usage_plans.py and commit schemas/spapi/usage_plans.json"


def test_every_marketplace_in_facts_is_in_the_data_file():
    import schemas

    facts = (ROOT / "schemas" / "spapi" / "reference" / "FACTS.md").read_text()
    ids = {m["id"] for m in schemas.load_json("marketplaces.json")["marketplaces"]}
    import re

    table_ids = set(re.findall(r"\|\s*(A[0-9A-Z]{8,14})\s*\|", facts))
    assert table_ids and table_ids <= ids
