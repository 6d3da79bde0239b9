"""`make demo` end to end (scripts/demo.py in a subprocess, private data directory and DAGSTER_HOME): every sample
file ends in successful runs, and each file's summary adds up to what data/samples/expected.json says."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _demo(tmp_path: Path) -> str:
    home = tmp_path / "dagster_home"
    home.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AMZ_", "DAGSTER_"))}
    env.update({"AMZ_DATA_DIR": str(tmp_path / "data"), "DAGSTER_HOME": str(home)})
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "demo.py")], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout


@pytest.mark.slow
def test_demo_tells_a_clean_story_for_every_sample_and_again_on_a_second_run(tmp_path: Path):
    out = _demo(tmp_path)

    expected = json.loads((ROOT / "data" / "samples" / "expected.json").read_text())
    summaries = dict(re.findall(r"^== A1DEMOSELLER01/(?:[A-Z]{2}/)?(\S+): .*?\n(   rows .*)$", out, re.M))
    assert sorted(summaries) == sorted(expected)
    for name, facts in expected.items():
        rows, valid, rejected = map(int, re.match(r"   rows (\d+) = valid (\d+) \+ rejected locally (\d+)$",
                                                 summaries[name]).groups())
        assert (rows, valid, rejected) == (facts["rows"], facts["valid_rows"], len(facts["rejected"])), name
    # Single-marketplace files go to their country folder, multi-marketplace ones to the seller folder.
    assert "A1DEMOSELLER01/JP/catalog_jp.xlsx" in out and "A1DEMOSELLER01/catalog_mixed.parquet" in out
    assert "FAILED" not in out and "!!" not in out
    assert not list((tmp_path / "data" / "inbox").rglob("*.*"))  # every file left the inbox
    assert len(list((tmp_path / "data" / "processed").rglob("*.*"))) == len(expected)
    # The interactive job: the fast-path change lands, the attribute change is refused with Amazon's reason.
    assert re.search(r"US-VG-SP55-0001 +US  patch: succeeded", out)
    assert re.search(r"DEMO-NEW-0001 +US  partial_update: invalid — ERROR \S+: 'brand' is required", out)
    # The file's unknown-marketplace row is rejected with that reason by exactly one run, not lost.
    assert len(re.findall(r"rejected locally \(row 67\): marketplace_unknown", out)) == 1

    # A second `make demo` on the same state (database and sandbox state files in data/state/): the same story,
    # nothing the files published turned invalid or failed.
    again = _demo(tmp_path)
    first_counts = re.findall(r"^   rows .*$", out, re.M)
    assert re.findall(r"^   rows .*$", again, re.M) == first_counts
    valid_lines = re.findall(r"^   valid SKUs: (.*)$", again, re.M)
    assert valid_lines and not any(re.search(r"invalid|error|not published", line) for line in valid_lines)
