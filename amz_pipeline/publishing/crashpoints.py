"""Seeded crash points for the crash tests: `AMZ_CRASH_AT=<point>` (optionally `AMZ_CRASH_AFTER=<n>`, default 1) kills
this process with SIGKILL the n-th time it reaches that point — no cleanup, no flush, exactly like `kill -9`.

Points: `before_enqueue` (run recorded and its file ingested, no job queued), `after_upload` (feed uploaded, createFeed
not sent), `after_create_feed` (createFeed answered, not recorded),
`during_report` (report applied inside its transaction, not committed), `mid_patch_batch` (a per-SKU call answered, not recorded).
"""

from __future__ import annotations

import os
import signal
from collections import Counter

_reached: Counter[str] = Counter()


def crash_point(name: str) -> None:
    if os.environ.get("AMZ_CRASH_AT") != name:
        return
    _reached[name] += 1
    if _reached[name] >= int(os.environ.get("AMZ_CRASH_AFTER") or 1):
        os.kill(os.getpid(), signal.SIGKILL)
