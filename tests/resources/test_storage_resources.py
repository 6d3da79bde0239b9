"""DatabaseResource, SettingsResource and the Parquet IO manager."""

from pathlib import Path

import dagster as dg
import polars as pl
import sqlalchemy as sa

from resources.database import DatabaseResource
from resources.parquet_io import ParquetIOManager
from resources.settings import SettingsResource

KEY = "A1DEMOSELLER01.US"  # a partition key with a dot: files must not lose the ".US"
parts = dg.StaticPartitionsDefinition([KEY, "A1DEMOSELLER01.DE"])


@dg.asset(partitions_def=parts, io_manager_key="parquet_io")
def frame(context: dg.AssetExecutionContext) -> pl.DataFrame:
    return pl.DataFrame({"sku": ["A", "B"], "partition": [context.partition_key] * 2})


@dg.asset(partitions_def=parts, io_manager_key="parquet_io")
def summary(frame: pl.DataFrame) -> dict:
    return {"rows": frame.height, "partition": frame["partition"][0]}


@dg.asset(partitions_def=parts, io_manager_key="parquet_io")
def echo(summary: dict) -> dict:
    return summary


def test_parquet_io_manager_round_trips_frames_and_json_per_partition(tmp_path: Path, instance):
    io = ParquetIOManager(base_dir=str(tmp_path))
    for key in parts.get_partition_keys():
        result = dg.materialize([frame, summary, echo], partition_key=key, resources={"parquet_io": io},
                                instance=instance)
        assert result.success
        assert result.output_for_node("echo") == {"rows": 2, "partition": key}
    assert sorted(p.name for p in (tmp_path / "frame").iterdir()) == ["A1DEMOSELLER01.DE.parquet",
                                                                        f"{KEY}.parquet"]
    assert pl.read_parquet(tmp_path / "frame" / f"{KEY}.parquet")["partition"].to_list() == [KEY, KEY]
    assert not list(tmp_path.rglob("*.tmp"))


def test_missing_upstream_value_names_the_asset_and_what_to_do(tmp_path: Path, instance):
    result = dg.materialize([frame, summary, echo], selection=[echo], partition_key=KEY,
                            resources={"parquet_io": ParquetIOManager(base_dir=str(tmp_path))},
                            raise_on_error=False, instance=instance)
    assert not result.success
    [failure] = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert "materialize the upstream asset" in str(failure.step_failure_data.error)


def test_settings_data_dir_moves_folders_and_the_default_database(data_dir: Path, tmp_path: Path):
    other = tmp_path / "elsewhere"
    settings = SettingsResource(data_dir=str(other))
    assert settings.folder("inbox") == other / "inbox"
    assert str(other) in settings.settings().database_url
    assert SettingsResource().folder("inbox") == data_dir / "inbox"


def test_database_resource_migrates_on_first_use(data_dir: Path, tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    engine = DatabaseResource(url=url).engine()
    assert {"listings", "publish_jobs", "encrypted_secrets"} <= set(sa.inspect(engine).get_table_names())
    assert DatabaseResource(url=url).engine() is engine  # one engine per URL and process
