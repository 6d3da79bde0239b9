"""Fault soak at full size: 5,000 SKUs on both channels with 10 % 5xx, extra 429s, 2 % dropped connections, FATAL
feeds and a 30-second token lifetime (the same test `make test` runs at 300 SKUs).

    .venv/bin/python benchmarks/publish_soak.py [--skus 5000] [--backend sqlite|postgres]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--skus", type=int, default=5000)
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    args = parser.parse_args()
    env = dict(os.environ, AMZ_SOAK_SKUS=str(args.skus), AMZ_SOAK_TOKEN_TTL="30")
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "tests/publishing/test_fault_soak.py", "-k", args.backend, "-q", "-s",
         "-p", "no:cacheprovider"], cwd=ROOT, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    lines = [line for line in result.stdout.splitlines() if line.startswith("soak ") or "passed" in line
             or "failed" in line]
    print("\n".join(lines))
    print(f"fault soak, {args.skus} SKUs on {args.backend}: {'PASS' if result.returncode == 0 else 'FAIL'} "
          f"in {elapsed:.0f} s")
    if result.returncode:
        print(result.stdout[-4000:])
        sys.exit(1)


if __name__ == "__main__":
    main()
