"""The drop-folder sensor: new, duplicate, re-dropped, malformed and outside-path files."""

from __future__ import annotations

import json
import os
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.storage.tags import RUN_KEY_TAG

from assets import sensors
from assets.partitions import seller_marketplace
from resources.settings import SettingsResource

SELLER = "A1DEMOSELLER01"
CSV = "sku,product_type,item_name,price,quantity\nSKU-1,PRODUCT,Mug,9.99,3\n"
MULTI = ("sku,product_type,marketplace,item_name,price,quantity\n"
         "SKU-1,PRODUCT,US,Mug,9.99,3\nSKU-2,PRODUCT,DE,Tasse,8.99,3\nSKU-3,PRODUCT,A1PA6795UKMFR9,Teller,5,1\n"
         "SKU-4,PRODUCT,XX,Plate,5,1\n")


def _tick(instance: dg.DagsterInstance, data_dir: Path, cursor: str | None = None) -> dg.SensorResult:
    context = dg.build_sensor_context(instance=instance, cursor=cursor,
                                      resources={"settings": SettingsResource(data_dir=str(data_dir))})
    return sensors.inbox_sensor(context)


def _drop(data_dir: Path, rel: str, text: str = CSV) -> Path:
    path = data_dir / "inbox" / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _finish(instance: dg.DagsterInstance, run_key: str, status: dg.DagsterRunStatus) -> None:
    """Record a finished run for `run_key`, as the daemon would after launching the sensor's request."""
    run = instance.create_run_for_job(
        dg.Definitions(jobs=[_noop_job]).get_job_def("noop"), tags={RUN_KEY_TAG: run_key}
    )
    instance.run_storage.handle_run_event(run.run_id, _status_event(run, status))


@dg.op
def _noop():
    return None


@dg.job(name="noop")
def _noop_job():
    _noop()


def _status_event(run: dg.DagsterRun, status: dg.DagsterRunStatus):
    from dagster._core.events import DagsterEvent, DagsterEventType

    kind = {dg.DagsterRunStatus.SUCCESS: DagsterEventType.RUN_SUCCESS,
            dg.DagsterRunStatus.FAILURE: DagsterEventType.RUN_FAILURE}[status]
    return DagsterEvent(event_type_value=kind.value, job_name=run.job_name)


def test_new_file_requests_one_run_and_adds_its_partition(instance, data_dir):
    path = _drop(data_dir, f"{SELLER}/US/catalog.csv")
    result = _tick(instance, data_dir)
    assert len(result.run_requests) == 1
    request = result.run_requests[0]
    assert request.partition_key == f"{SELLER}.US"
    assert request.job_name == "catalog_publish_job"
    assert request.tags["amz/seller"] == SELLER
    config = request.run_config["ops"]["raw_catalog"]["config"]
    assert config["path"] == str(path) and not config["draft"] and not config["full_catalog"]
    assert result.dynamic_partitions_requests[0].partition_keys == [f"{SELLER}.US"]
    assert json.loads(result.cursor)["files"][f"{SELLER}/US/catalog.csv"]["sha256"] == config["sha256"]


def test_unprocessed_identical_files_share_one_run_key(instance, data_dir):
    _drop(data_dir, f"{SELLER}/US/catalog.csv")
    first = _tick(instance, data_dir)
    _drop(data_dir, f"{SELLER}/US/copy-of-catalog.csv")
    second = _tick(instance, data_dir, first.cursor)
    keys = {r.run_key for r in second.run_requests}
    assert keys == {first.run_requests[0].run_key}


def test_finished_file_moves_out_and_a_later_redrop_runs_again(instance, data_dir):
    _drop(data_dir, f"{SELLER}/DE/catalog.csv")
    first = _tick(instance, data_dir)
    key = first.run_requests[0].run_key
    _finish(instance, key, dg.DagsterRunStatus.SUCCESS)
    settled = _tick(instance, data_dir, first.cursor)
    assert settled.run_requests == []
    assert not (data_dir / "inbox" / SELLER / "DE" / "catalog.csv").exists()
    assert [p.name.endswith("-catalog.csv") for p in (data_dir / "processed" / SELLER / "DE").iterdir()] == [True]
    assert json.loads(settled.cursor)["files"] == {}

    _drop(data_dir, f"{SELLER}/DE/catalog.csv")  # the same content again: a revert must publish again
    again = _tick(instance, data_dir, settled.cursor)
    assert len(again.run_requests) == 1
    assert again.run_requests[0].run_key != key
    assert again.run_requests[0].run_key.split("@")[0] == key.split("@")[0]


def test_failed_run_moves_file_to_failed_with_an_error_report(instance, data_dir):
    _drop(data_dir, f"{SELLER}/US/catalog.csv")
    first = _tick(instance, data_dir)
    _finish(instance, first.run_requests[0].run_key, dg.DagsterRunStatus.FAILURE)
    _tick(instance, data_dir, first.cursor)
    failed = sorted((data_dir / "failed" / SELLER / "US").iterdir())
    assert [p.suffix for p in failed] == [".csv", ".json"]
    report = json.loads(failed[1].read_text())
    assert report["file"] == f"{SELLER}/US/catalog.csv" and report["run_id"]


@pytest.mark.parametrize(
    ("rel", "text", "reason"),
    [
        ("stray.csv", CSV, "not in a seller folder"),
        (f"{SELLER}/US/x/y/catalog.csv", CSV, "not in a seller folder"),
        (f"{SELLER}/catalog.csv", CSV, "no row names a known Amazon marketplace"),
        (f"{SELLER}/catalog.csv", MULTI.replace(",US,", ",XX,").replace(",DE,", ",,").replace("A1PA6795UKMFR9", "ZZ"),
         "no row names a known Amazon marketplace"),
        (f"{SELLER}/XX/catalog.csv", CSV, "unknown marketplace"),
        (f"{SELLER}/US/catalog.pdf", "%PDF-1.4", "unsupported file type"),
        (f"{SELLER}/US/empty.csv", "", "is empty"),
    ],
)
def test_malformed_drops_are_refused_with_a_report(instance, data_dir, rel, text, reason):
    _drop(data_dir, rel, text)
    result = _tick(instance, data_dir)
    assert result.run_requests == []
    reports = list((data_dir / "failed").rglob("*.error.json"))
    assert len(reports) == 1
    assert reason in json.loads(reports[0].read_text())["reason"]
    assert not (data_dir / "inbox" / rel).exists()


def test_link_to_a_file_outside_the_inbox_is_refused(instance, data_dir, tmp_path):
    secret = tmp_path / "outside.csv"
    secret.write_text(CSV)
    link = data_dir / "inbox" / SELLER / "US" / "catalog.csv"
    link.parent.mkdir(parents=True)
    os.symlink(secret, link)
    result = _tick(instance, data_dir)
    assert result.run_requests == []
    report = next((data_dir / "failed").rglob("*.error.json"))
    assert "outside the inbox" in json.loads(report.read_text())["reason"]
    assert secret.exists()  # the target itself is never touched


def test_drafts_and_partial_writes(instance, data_dir):
    _drop(data_dir, f"{SELLER}/US/drafts/next-week.full.csv")
    _drop(data_dir, f"{SELLER}/US/upload.csv.part")
    _drop(data_dir, f"{SELLER}/US/.hidden.csv")
    result = _tick(instance, data_dir)
    assert len(result.run_requests) == 1
    request = result.run_requests[0]
    assert request.job_name == "catalog_draft_job"
    config = request.run_config["ops"]["raw_catalog"]["config"]
    assert config["draft"] and config["full_catalog"]


def test_existing_partition_is_not_added_twice(instance, data_dir):
    instance.add_dynamic_partitions(seller_marketplace.name, [f"{SELLER}.US"])
    _drop(data_dir, f"{SELLER}/US/catalog.csv")
    assert _tick(instance, data_dir).dynamic_partitions_requests == []


def test_multi_marketplace_file_requests_one_run_per_marketplace_it_names(instance, data_dir):
    path = _drop(data_dir, f"{SELLER}/catalog.csv", MULTI)
    result = _tick(instance, data_dir)
    by_key = {r.partition_key: r for r in result.run_requests}
    assert sorted(by_key) == [f"{SELLER}.DE", f"{SELLER}.US"]  # the marketplace id A1PA6795UKMFR9 is DE; XX is none
    assert result.dynamic_partitions_requests[0].partition_keys == sorted(by_key)
    configs = {key: r.run_config["ops"]["raw_catalog"]["config"] for key, r in by_key.items()}
    assert all(c["multi_marketplace"] and c["path"] == str(path) for c in configs.values())
    assert [k for k, c in configs.items() if c["take_unplaced"]] == [f"{SELLER}.DE"]  # exactly one takes row XX
    assert len({r.run_key for r in result.run_requests}) == 2
    assert {r.tags["amz/marketplace"] for r in result.run_requests} == {"DE", "US"}

    # The file stays until every run has finished; one failed run sends it to failed/ naming that marketplace.
    _finish(instance, by_key[f"{SELLER}.US"].run_key, dg.DagsterRunStatus.SUCCESS)
    waiting = _tick(instance, data_dir, result.cursor)
    # DE has no run yet, so it is asked for again under the same run key (Dagster launches it once).
    assert [r.run_key for r in waiting.run_requests] == [by_key[f"{SELLER}.DE"].run_key] and path.exists()
    _finish(instance, by_key[f"{SELLER}.DE"].run_key, dg.DagsterRunStatus.FAILURE)
    _tick(instance, data_dir, waiting.cursor)
    assert not path.exists()
    [report] = (data_dir / "failed" / SELLER).glob("*.error.json")
    reason = json.loads(report.read_text())["reason"]
    assert reason.startswith("DE: ") and "other marketplaces' runs succeeded" in reason


def test_multi_marketplace_file_is_read_once_per_content(instance, data_dir, monkeypatch):
    _drop(data_dir, f"{SELLER}/catalog.csv", MULTI)
    first = _tick(instance, data_dir)
    monkeypatch.setattr(sensors, "file_marketplaces", lambda path: pytest.fail("read again"))
    second = _tick(instance, data_dir, first.cursor)
    assert {r.run_key for r in second.run_requests} == {r.run_key for r in first.run_requests}


def test_multi_marketplace_draft_folder(instance, data_dir):
    _drop(data_dir, f"{SELLER}/drafts/catalog.csv", MULTI)
    result = _tick(instance, data_dir)
    assert {r.job_name for r in result.run_requests} == {"catalog_draft_job"}
    assert len(result.run_requests) == 2


def test_unreadable_multi_marketplace_file_is_refused_with_the_read_error(instance, data_dir):
    path = data_dir / "inbox" / SELLER / "catalog.parquet"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"PAR1 this is not parquet")
    result = _tick(instance, data_dir)
    assert result.run_requests == []
    [report] = (data_dir / "failed" / SELLER).glob("*.error.json")
    assert json.loads(report.read_text())["reason"].startswith("catalog.parquet: cannot read as parquet")
