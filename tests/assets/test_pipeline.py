"""The main job end to end against the live sandbox: drop → sensor → run; metadata counts equal what the sandbox's
admin API reports; the client's log lines carry trace id = run id; no secret reaches the event log."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import dagster as dg
import httpx
import pytest
from dagster._core.storage.tags import RUN_KEY_TAG

from assets.sensors import inbox_sensor

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "data" / "samples"


def _run_drop(pipeline, instance, data_dir: Path, sample: str, country: str):
    [(_, result)], _ = _run_drops(pipeline, instance, data_dir, sample, country)
    return result


def _run_drops(pipeline, instance, data_dir: Path, sample: str, country: str | None):
    """Drop a sample into inbox/<seller>/<country>/ (or the seller folder when country is None), tick the sensor
    and execute every run it asks for: ([(partition key, result)], the sensor's cursor)."""
    folder = data_dir / "inbox" / "A1DEMOSELLER01"
    target = (folder / country if country else folder) / sample
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(SAMPLES / sample, target)
    resources = {"settings": pipeline.resources["settings"]}
    tick = inbox_sensor(dg.build_sensor_context(instance=instance, resources=resources))
    for request in tick.dynamic_partitions_requests:
        instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
    results = []
    for request in tick.run_requests:
        job = pipeline.resolve_job_def(request.job_name)
        results.append((request.partition_key, job.execute_in_process(
            run_config=request.run_config, instance=instance, partition_key=request.partition_key,
            tags={**request.tags, RUN_KEY_TAG: request.run_key}, raise_on_error=False)))
    return results, tick.cursor


def _metadata(result, node: str) -> dict:
    [materialization] = [m for m in result.asset_materializations_for_node(node)
                         if m.asset_key == dg.AssetKey(node)]
    return {k: v.value for k, v in materialization.metadata.items()}


def _admin(sandbox_server, path: str) -> dict:
    return httpx.get(f"{sandbox_server.base_url}/_sandbox/{path}", timeout=10).json()


@pytest.mark.slow
def test_small_file_goes_through_the_listings_api_and_counts_match_the_sandbox(
        pipeline, instance, data_dir, sandbox_server, demo_seller):
    result = _run_drop(pipeline, instance, data_dir, "catalog_small.ndjson", "US")
    assert result.success, [e.message for e in result.all_events if e.event_type_value == "STEP_FAILURE"]

    queued = _metadata(result, "publish_queue")
    published = _metadata(result, "sku_publish")
    status = _metadata(result, "listing_status")
    assert queued["channel"] == "listings"

    seller = demo_seller["seller_id"]
    listings = [row for row in _admin(sandbox_server, f"sellers/{seller}/listings")["listings"]
                if row["marketplace_id"] == "ATVPDKIKX0DER"]
    history = _admin(sandbox_server, f"sellers/{seller}/history")["history"]
    calls = {r["operation"]: r["count"] for r in _admin(sandbox_server, "requests")["requests"]
             if r["seller_id"] == seller}
    upserts = calls.get("putListingsItem", 0) + calls.get("patchListingsItem", 0)
    writes = upserts + calls.get("deleteListingsItem", 0)

    # Every queued change was sent exactly once (no faults configured, so no retries) and came back accepted or
    # invalid; every accepted upsert is one applied change in the sandbox's history and one listing without errors
    # (the sample's `operation: delete` row deletes a SKU the sandbox never had: accepted, nothing applied).
    accepted_in_sandbox = [row for row in listings if not any(i["severity"] == "ERROR" for i in row["issues"])]
    assert published["accepted"] + published["invalid"] == queued["jobs"] == writes
    assert len(history) == len(accepted_in_sandbox) == upserts - published["invalid"]
    assert published["accepted"] == len(history) + calls.get("deleteListingsItem", 0)
    assert status["skus"] == queued["jobs"]
    issues_csv = Path(status["issues_csv"])
    assert issues_csv.is_file() and Path(status["issues_parquet"]).is_file()


@pytest.mark.slow
def test_run_logs_carry_the_run_id_and_no_secret(pipeline, instance, data_dir, demo_seller):
    result = _run_drop(pipeline, instance, data_dir, "catalog_small.ndjson", "US")
    assert result.success
    lines = [record.user_message for record in instance.all_logs(result.run_id)]
    calls = [json.loads(line) for line in lines if line.startswith("{") and '"spapi.call"' in line]
    assert calls, "the client's JSON log lines are in the run's event log"
    assert {call["trace_id"] for call in calls} == {result.run_id}
    assert all(call["status"] < 400 for call in calls), [c["status"] for c in calls]
    everything = "\n".join(str(record) for record in instance.all_logs(result.run_id))
    for secret in (demo_seller["client_secret"], demo_seller["refresh_token"]):
        assert secret not in everything


@pytest.mark.slow
def test_blocking_reject_rate_check_stops_publishing(pipeline, instance, data_dir, sandbox_server, demo_seller):
    from resources.settings import SettingsResource

    strict = SettingsResource(data_dir=str(data_dir), reject_rate_threshold=0.5)
    gated = dg.Definitions(assets=pipeline.assets, asset_checks=pipeline.asset_checks, jobs=pipeline.jobs,
                           resources={**pipeline.resources, "settings": strict})
    result = _run_drop(gated, instance, data_dir, "catalog_small.ndjson", "US")  # 9 of 12 rows are not for US
    assert not result.success
    ran = {e.step_key for e in result.all_events if e.event_type_value == "STEP_SUCCESS"}
    assert "validated_catalog" in ran and "publish_queue" not in ran
    assert _admin(sandbox_server, f"sellers/{demo_seller['seller_id']}/listings")["listings"] == []


@pytest.mark.slow
def test_multi_marketplace_file_publishes_each_row_to_its_marketplace_in_its_region(
        regional_pipeline, instance, data_dir, sandbox_server, eu_sandbox, demo_seller):
    expected = json.loads((SAMPLES / "expected.json").read_text())["catalog_small.ndjson"]
    results = dict(_run_drops(regional_pipeline, instance, data_dir, "catalog_small.ndjson", None)[0])
    assert sorted(results) == ["A1DEMOSELLER01.DE", "A1DEMOSELLER01.UK", "A1DEMOSELLER01.US"]
    failures = {k: [e.message for e in r.all_events if e.event_type_value == "STEP_FAILURE"]
                for k, r in results.items() if not r.success}
    assert not failures

    validated = {key: _metadata(result, "validated_catalog") for key, result in results.items()}
    # Nothing lost: the shares add up to the file, rows = valid + rejected in each run and across them.
    assert sum(m["rows"] for m in validated.values()) == expected["rows"]
    assert sum(m["valid"] for m in validated.values()) == expected["rows"] - len(expected["rejected"])
    assert sum(m["rejected"] for m in validated.values()) == len(expected["rejected"])
    assert all(m["rows"] == m["valid"] + m["rejected"] for m in validated.values())

    # Each accepted SKU sits in its own marketplace, in the sandbox of that marketplace's region.
    seller = demo_seller["seller_id"]
    per_region = {"NA": sandbox_server, "EU": eu_sandbox}
    for key, result in results.items():
        country = key.split(".")[1]
        published = _metadata(result, "sku_publish")
        server = per_region["NA" if country == "US" else "EU"]
        marketplace = {"US": "ATVPDKIKX0DER", "DE": "A1PA6795UKMFR9", "UK": "A1F83G8C2ARO7P"}[country]
        listed = [row["sku"] for row in _admin(server, f"sellers/{seller}/listings")["listings"]
                  if row["marketplace_id"] == marketplace]
        valid = result.output_for_node("validated_catalog", "validated_catalog")
        upserts = valid.filter(valid["operation"].fill_null("") != "delete")["sku"].to_list()
        assert published["invalid"] == 0 and sorted(listed) == sorted(upserts), (key, published)


def test_marketplace_without_credentials_in_its_region_stops_before_anything_is_queued(
        pipeline, instance, data_dir, sandbox_server):
    """The demo seller has credentials in NA only here: a JP file fails at the publishing gate, saying where to put
    the FE credentials, with nothing queued; the next sensor tick moves the file to failed/ with that reason."""
    from sqlalchemy import func, select

    from amz_pipeline.storage.models import PublishJob

    [(_, result)], cursor = _run_drops(pipeline, instance, data_dir, "catalog_jp.xlsx", "JP")
    assert not result.success
    [failure] = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert failure.step_key == "publish_queue"
    text = failure.step_failure_data.user_failure_data.description
    assert "no SP-API credentials for seller A1DEMOSELLER01 in region FE" in text
    assert "amz-pipeline secrets put --seller A1DEMOSELLER01 --region FE" in text
    with pipeline.resources["database"].session() as session:
        assert session.scalar(select(func.count()).select_from(PublishJob)) == 0
    inbox_sensor(dg.build_sensor_context(instance=instance, cursor=cursor,
                                         resources={"settings": pipeline.resources["settings"]}))
    [report] = (data_dir / "failed" / "A1DEMOSELLER01" / "JP").glob("*.error.json")
    assert "region FE" in json.loads(report.read_text())["reason"]
