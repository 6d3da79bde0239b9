"""Proactive rate limiting: every call waits for a token from each bucket that governs it.

Buckets (keys in the store):
- `seller/<seller>/<region>/<operation>` - the per seller-application usage plan; its rate follows each response's
  `x-amzn-RateLimit-Limit` (Amazon may grant a seller more than the default);
- `app/<client id>/<operation>` - the per-application cap across all sellers (`limits.json`), or
  `app/<client id>/validation_preview` for put/patch previews;
- `seller/<seller>/<region>/feed/<feedType>` - a feed type's own submission limit (JSON_LISTINGS_FEED).

The server counts a request when it arrives, we count it when we send it; two margins absorb the jitter in between:
our buckets hold `headroom_seconds` of tokens less than the server's burst (at least one, leaving at least two), and refill
at `rate_factor` of the rate, so at steady state the server's bucket slowly fills up to its burst and a late request
still finds a token. After a 429 the bucket owes one more token (everyone behind it waits one interval longer). Sellers
never share a bucket, so one seller's wait never delays another. The store is in-process (`MemoryBucketStore`) or shared through the database (`DatabaseBucketStore`).

No library fits: pyrate-limiter counts windows (no refilling bucket with burst), aiolimiter and token-bucket keep a fixed
rate and memory only, `limits` has no SQL storage; ours is the arithmetic in `bucket.py` plus the two stores.
"""

from __future__ import annotations

import asyncio
import threading
import time
import weakref
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Protocol

from amz_pipeline.spapi.ratelimit import plans
from amz_pipeline.spapi.ratelimit.memory import MemoryBucketStore
from amz_pipeline.spapi.ratelimit.plans import Plan


class BucketStore(Protocol):
    def take(self, key: str, plan: Plan) -> float: ...
    def set_rate(self, key: str, plan: Plan) -> None: ...
    def drain(self, key: str, plan: Plan) -> None: ...
    def close(self) -> None: ...


@dataclass(frozen=True)
class CallScope:
    """Who makes a call and which operation: what selects its buckets."""

    seller_id: str
    region: str
    application_id: str
    operation: str
    preview: bool = False
    feed_type: str | None = None


class RateLimiter:
    """`rate_scale` multiplies the rate of every plan read from the data files (usage plans, application caps, feed
    submission windows: 5 per 300 s becomes 5 per 300/k s) - for emulators that scale plans; never set against
    Amazon. A rate the server reports (`x-amzn-RateLimit-Limit`) is the real one and is adopted as is."""

    def __init__(self, store: BucketStore | None = None, *, headroom_seconds: float = 0.25, rate_factor: float = 0.985,
                 workers: int = 8, rate_scale: float = 1.0) -> None:
        if rate_scale <= 0:
            raise ValueError(f"rate_scale must be > 0, got {rate_scale}")
        self.rate_scale = rate_scale
        self.store: BucketStore = store or MemoryBucketStore()
        self.headroom_seconds = headroom_seconds
        self.rate_factor = rate_factor
        self._blocking = not isinstance(self.store, MemoryBucketStore)
        self._executor = ThreadPoolExecutor(workers, thread_name_prefix="spapi-limiter") if self._blocking else None
        self._rates: dict[str, float] = {}
        self._lock = threading.Lock()
        self._queues: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, asyncio.Lock]] = (
            weakref.WeakKeyDictionary())

    def _plan(self, plan: Plan | None, rate: float | None = None) -> Plan | None:
        """Our bucket for a server plan (optionally at an observed rate): margins as the module docstring says."""
        if plan is None:
            return None
        rate = rate or plan.rate * self.rate_scale
        headroom = max(1.0, rate * self.headroom_seconds)
        # Keep two tokens where the plan allows: with one, every late wake-up from a sleep loses throughput.
        return Plan(rate * self.rate_factor, max(min(2.0, plan.burst), plan.burst - headroom))

    def seller_key(self, scope: CallScope) -> str:
        return f"seller/{scope.seller_id}/{scope.region}/{scope.operation}"

    def buckets(self, scope: CallScope) -> list[tuple[str, Plan]]:
        """The (key, plan) pairs governing a call, seller bucket first."""
        result = []
        seller = self._plan(plans.operation_plan(scope.operation))
        if seller is not None:
            result.append((self.seller_key(scope), seller))
        app = self._plan(plans.application_plan(scope.operation, preview=scope.preview))
        if app is not None:
            suffix = "validation_preview" if scope.preview and scope.operation in ("putListingsItem", "patchListingsItem") \
                else scope.operation
            result.append((f"app/{scope.application_id}/{suffix}", app))
        if scope.feed_type:
            feed = plans.feed_submission_plan(scope.feed_type)
            if feed is not None:
                feed = Plan(feed.rate * self.rate_scale, feed.burst)
                result.append((f"seller/{scope.seller_id}/{scope.region}/feed/{scope.feed_type}", feed))
        return result

    async def _run(self, fn, *args):
        if self._executor is None:
            return fn(*args)
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    def _waiters(self, key: str) -> asyncio.Lock:
        """One waiting line per bucket and event loop: callers queue in order and only the head polls the store."""
        loop = asyncio.get_running_loop()
        with self._lock:
            locks = self._queues.setdefault(loop, {})
            if key not in locks:
                locks[key] = asyncio.Lock()
            return locks[key]

    async def acquire(self, scope: CallScope) -> float:
        """Wait for a token from every bucket of the call, one after the other; returns the seconds waited."""
        started = time.monotonic()
        for key, plan in self.buckets(scope):
            async with self._waiters(key):
                while (wait := await self._run(self.store.take, key, plan)) > 0:
                    await asyncio.sleep(wait)
        return time.monotonic() - started

    async def observe(self, scope: CallScope, rate_limit: float | None) -> None:
        """Adopt the rate Amazon reports for this seller and operation (`x-amzn-RateLimit-Limit`)."""
        if rate_limit is None or rate_limit <= 0:
            return
        key = self.seller_key(scope)
        if self._rates.get(key) == rate_limit:
            return
        plan = self._plan(plans.operation_plan(scope.operation), rate_limit)
        if plan is None:
            return
        self._rates[key] = rate_limit
        await self._run(self.store.set_rate, key, plan)

    async def throttled(self, scope: CallScope) -> None:
        """A 429 came back: the server's bucket is empty, so empty ours (later callers wait a token interval)."""
        plan = self._plan(plans.operation_plan(scope.operation))
        if plan is not None:
            await self._run(self.store.drain, self.seller_key(scope), plan)

    def token_interval(self, scope: CallScope) -> float:
        """Seconds one token takes to refill for this seller and operation (the least wait after a 429)."""
        rate = self._rates.get(self.seller_key(scope))
        if rate is None:
            plan = plans.operation_plan(scope.operation)
            rate = plan.rate * self.rate_scale if plan else None
        return 1.0 / rate if rate else 0.0

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False)
        self.store.close()
