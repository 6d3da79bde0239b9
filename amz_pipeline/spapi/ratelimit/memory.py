"""In-process bucket store: exact, one lock per key, for a single worker process."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from amz_pipeline.spapi.ratelimit.bucket import BucketState
from amz_pipeline.spapi.ratelimit.plans import Plan


class MemoryBucketStore:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[str, BucketState] = {}
        self._locks: dict[str, threading.Lock] = {}

    def _get(self, key: str, plan: Plan) -> tuple[BucketState, threading.Lock]:
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = BucketState(plan.burst, plan.rate, plan.burst, self.clock())
                self._locks[key] = threading.Lock()
            return bucket, self._locks[key]

    def take(self, key: str, plan: Plan) -> float:
        """Take one token: 0.0 if taken, else the seconds until one refills (nothing taken)."""
        bucket, lock = self._get(key, plan)
        with lock:
            return bucket.take(self.clock())[1]

    def set_rate(self, key: str, plan: Plan) -> None:
        bucket, lock = self._get(key, plan)
        with lock:
            bucket.set_rate(self.clock(), plan.rate, plan.burst)

    def drain(self, key: str, plan: Plan) -> None:
        bucket, lock = self._get(key, plan)
        with lock:
            bucket.drain(self.clock())

    def state(self, key: str) -> BucketState | None:
        with self._lock:
            return self._buckets.get(key)

    def close(self) -> None:
        pass
