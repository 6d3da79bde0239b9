"""`make bench`: every benchmark, one after another, in one command.

Each benchmark prints its measurements beside its bar; those that can append to RESULTS.md are asked to (`--record`
or their default). Run on an otherwise idle machine: these are wall-clock measurements on 2 cores.

    .venv/bin/python benchmarks/run_all.py                 # all
    .venv/bin/python benchmarks/run_all.py --only ingest   # one (names below)
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

BENCHMARKS: dict[str, list[str]] = {
    "sandbox": ["sandbox_throughput.py", "--record"],
    "client": ["client_throughput.py", "--record"],
    "ingest": ["ingest.py"],
    "product_types": ["product_type_validation.py"],
    "report_ingest": ["publish_report_ingest.py", "--backend", "both"],
    "publish_50k": ["publish_50k.py"],
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=sorted(BENCHMARKS), action="append")
    args = parser.parse_args()
    failed = []
    for name in args.only or list(BENCHMARKS):
        script, *flags = BENCHMARKS[name]
        print(f"\n=== {name}: {script} {' '.join(flags)}", flush=True)
        started = time.monotonic()
        code = subprocess.call([sys.executable, str(HERE / script), *flags], cwd=HERE.parent)
        print(f"=== {name}: exit {code} after {time.monotonic() - started:.0f} s", flush=True)
        if code:
            failed.append(name)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
