"""`amz-pipeline validate`: exit codes, the one-object JSON contract, rejects file.

Runs the real command through click's runner with the product-type gate replaced by the stand-ins, so the CLI
is tested on its own (the real gate runs in test_ingest_samples.py).
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from amz_pipeline.catalog import ingest as ingest_module
from amz_pipeline.catalog.cli import command
from amz_pipeline.catalog.fingerprints import payload_fingerprints
from tests.catalog.gate_stand_ins import stand_in_validate_attributes


@pytest.fixture(autouse=True)
def stand_in_gate(monkeypatch):
    monkeypatch.setattr(ingest_module, "_product_type_gate",
                        lambda: (payload_fingerprints, stand_in_validate_attributes))


def _run(args: list[str]):
    return CliRunner().invoke(command, args, catch_exceptions=False)


def _csv(tmp_path, body: str):
    path = tmp_path / "cat.csv"
    path.write_text("sku,product_type,marketplace,title,price,quantity,color\n" + body, encoding="utf-8")
    return path


def test_all_valid_exits_0(tmp_path):
    path = _csv(tmp_path, "A,SHIRT,US,Cotton Shirt Blue,5,1,blue\n")
    result = _run([str(path), "--json", "--rejects-dir", str(tmp_path / "rej")])
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {"file": str(path), "rows": 1, "valid": 1, "rejected": 0,
                                         "rejects_file": None, "by_rule": {}, "error": None,
                                         "rejects_files": []}


def test_some_rejected_exits_1_and_writes_rejects(tmp_path):
    path = _csv(tmp_path, "A,SHIRT,US,Cotton Shirt Blue,5,1,blue\nB,SHIRT,US,Cotton Shirt Red,0,1,red\n"
                          "C,SHIRT,US,Cotton Shirt Red,1,-1,plaid\n")
    result = _run([str(path), "--json", "--seller", "S1", "--rejects-dir", str(tmp_path / "rej")])
    assert result.exit_code == 1
    summary = json.loads(result.stdout)
    assert summary["rows"] == summary["valid"] + summary["rejected"] == 3
    assert summary["by_rule"] == {"price_not_positive": 1, "quantity_integer": 1}
    assert summary["rejects_file"] == str(tmp_path / "rej" / "S1" / "US" / "cat.csv.rejects.csv")
    assert summary["error"] is None
    assert summary["rejects_files"] == [summary["rejects_file"]]


def test_file_spanning_marketplaces_lists_every_rejects_file_and_keeps_the_shape(tmp_path):
    path = _csv(tmp_path, "A,SHIRT,US,Cotton Shirt Blue,0,1,blue\nB,SHIRT,CA,Cotton Shirt Red,0,1,red\n")
    summary = json.loads(_run([str(path), "--json", "--seller", "S1", "--rejects-dir", str(tmp_path / "rej")]).stdout)
    assert summary["rows"] == summary["rejected"] == 2
    assert isinstance(summary["rejects_file"], str)
    assert sorted(summary["rejects_files"]) == sorted(
        str(tmp_path / "rej" / "S1" / c / "cat.csv.rejects.csv") for c in ("US", "CA"))
    assert summary["rejects_file"] in summary["rejects_files"]


def test_text_summary(tmp_path):
    path = _csv(tmp_path, "A,SHIRT,US,Cotton Shirt Blue,abc,1,blue\n")
    result = _run([str(path), "--rejects-dir", str(tmp_path / "rej")])
    assert result.exit_code == 1
    assert "1 rows, 0 valid, 1 rejected" in result.stdout
    assert "price_format: 1" in result.stdout
    assert "rejects written to" in result.stdout


@pytest.mark.parametrize(("content", "marketplace", "message"), [
    (b"", None, "file is empty"),
    (b"price,qty\n1,2\n", None, "no SKU column"),
    (b"sku\nA\n", "Narnia", "unknown marketplace"),
    (b"sku,product_type,price\n", None, "no data rows: the file has a header but no rows"),
    (b"sku,product_type,price\n,,\n\n , ,\n", None, "no data rows: the file has only blank rows"),
])
def test_unreadable_exits_2_with_one_json_object(tmp_path, content, marketplace, message):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    args = [str(path), "--json", "--rejects-dir", str(tmp_path / "rej")]
    if marketplace:
        args += ["--marketplace", marketplace]
    result = _run(args)
    assert result.exit_code == 2
    summary = json.loads(result.stdout)
    assert summary["rows"] == summary["valid"] == summary["rejected"] == 0
    assert message in summary["error"]


def test_missing_file_exits_2(tmp_path):
    result = _run([str(tmp_path / "nope.csv")])
    assert result.exit_code == 2
    assert "file not found" in result.stderr


def test_rejects_go_under_amz_data_dir_by_default(tmp_path, monkeypatch):
    path = _csv(tmp_path, "B,SHIRT,US,Cotton Shirt Red,0,1,red\n")
    monkeypatch.setenv("AMZ_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
    summary = json.loads(_run([str(path), "--json", "--seller", "S1"]).stdout)
    assert summary["rejects_file"] == str(tmp_path / "data" / "rejected" / "S1" / "US" / "cat.csv.rejects.csv")
    assert (tmp_path / "data" / "rejected" / "S1" / "US" / "cat.csv.rejects.csv").is_file()


@pytest.mark.parametrize(("args", "env", "message"), [
    (["--seller", " "], {}, "--seller must not be empty"),
    ([], {"AMZ_PROFILE": "production"}, "AMZ_PROFILE must be one of"),
])
def test_bad_option_or_environment_exits_2(tmp_path, monkeypatch, args, env, message):
    path = _csv(tmp_path, "A,SHIRT,US,Cotton Shirt Blue,5,1,blue\n")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    result = _run([str(path), "--json", *args])
    assert result.exit_code == 2 and message in json.loads(result.stdout)["error"]
