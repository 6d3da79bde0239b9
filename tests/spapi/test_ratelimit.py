"""Token buckets: arithmetic, plans read from the data files, isolation, and the database store across processes."""

from __future__ import annotations

import asyncio
import multiprocessing
import time

import pytest

import schemas
from amz_pipeline.spapi.ratelimit import (
    CallScope,
    DatabaseBucketStore,
    MemoryBucketStore,
    Plan,
    RateLimiter,
    plans,
)
from amz_pipeline.spapi.ratelimit.bucket import BucketState


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_bucket_takes_whole_tokens_and_says_how_long_to_wait():
    b = BucketState(tokens=2, rate=4, burst=2, updated_at=0)
    assert b.take(0) == (1, 0.0) and b.take(0) == (1, 0.0)
    assert b.take(0) == (0, 0.25)  # nothing taken while empty
    assert b.take(0.25) == (1, 0.0)
    b.refill(10.0)  # capped at burst however long it idled
    assert b.tokens == pytest.approx(2.0)
    assert b.take(10.0, most=5) == (2, 0.0)
    b.drain(10.0)  # empty, and one token owed
    assert b.tokens == -1 and b.take(10.0) == (0, 0.5)


def test_rate_change_counts_past_time_at_old_rate():
    b = BucketState(tokens=0, rate=1, burst=10, updated_at=0)
    b.set_rate(2.0, 5)  # 2 s at 1/s
    assert b.tokens == pytest.approx(2.0)
    b.refill(3.0)  # 1 s at 5/s
    assert b.tokens == pytest.approx(7.0)


def test_plans_come_from_the_data_files():
    usage = schemas.load_json("spapi/usage_plans.json")["operations"]
    limits = schemas.load_json("spapi/limits.json")
    for op in ("patchListingsItem", "createFeed", "getFeed"):
        assert plans.operation_plan(op) == Plan(usage[op]["rate"], usage[op]["burst"])
    assert plans.application_plan("patchListingsItem").rate == limits["per_application"]["patchListingsItem"]["rate"]
    assert plans.application_plan("patchListingsItem", preview=True).rate == limits["validation_preview"]["rate"]
    feed = limits["feed_types"]["JSON_LISTINGS_FEED"]
    assert plans.feed_submission_plan("JSON_LISTINGS_FEED") == Plan(
        feed["submissions_per_window"] / feed["window_seconds"], feed["submissions_per_window"])


def test_limiter_keys_and_margins():
    limiter = RateLimiter(MemoryBucketStore(), headroom_seconds=0.25, rate_factor=0.97)
    scope = CallScope("S1", "NA", "app1", "putListingsItem")
    keys = dict(limiter.buckets(scope))
    plan = schemas.load_json("spapi/usage_plans.json")["operations"]["putListingsItem"]
    ours = keys["seller/S1/NA/putListingsItem"]
    assert ours.rate == pytest.approx(plan["rate"] * 0.97)
    assert ours.burst == plan["burst"] - max(1, plan["rate"] * 0.25)
    fast = limiter._plan(Plan(rate=100, burst=5))  # headroom larger than the burst: keep two tokens
    assert fast.burst == 2
    assert "app/app1/putListingsItem" in keys
    preview = dict(limiter.buckets(CallScope("S1", "NA", "app1", "patchListingsItem", preview=True)))
    assert "app/app1/validation_preview" in preview
    feed = dict(limiter.buckets(CallScope("S1", "NA", "app1", "createFeed", feed_type="JSON_LISTINGS_FEED")))
    assert "seller/S1/NA/feed/JSON_LISTINGS_FEED" in feed


async def test_throttled_seller_does_not_block_another():
    clock = FakeClock()
    limiter = RateLimiter(MemoryBucketStore(clock), rate_factor=1)
    a = CallScope("A", "NA", "app", "patchListingsItem")
    b = CallScope("B", "NA", "app", "patchListingsItem")
    await limiter.throttled(a)
    rate = plans.operation_plan("patchListingsItem").rate
    assert limiter.store.take(limiter.seller_key(a), Plan(rate, 5)) == pytest.approx(2 / rate)
    assert limiter.store.take(limiter.seller_key(b), Plan(rate, 5)) == 0


async def test_observed_rate_limit_header_raises_the_rate():
    clock = FakeClock()
    limiter = RateLimiter(MemoryBucketStore(clock), rate_factor=1)
    scope = CallScope("A", "NA", "app", "getFeed")
    key = limiter.seller_key(scope)
    plan = dict(limiter.buckets(scope))[key]
    while limiter.store.take(key, plan) == 0:
        pass
    await limiter.observe(scope, 20.0)
    assert limiter.store.state(key).rate == 20.0
    assert limiter.store.take(key, plan) == pytest.approx((1 - limiter.store.state(key).tokens) / 20)
    assert limiter.token_interval(scope) == pytest.approx(1 / 20)


async def test_acquire_paces_callers_at_the_rate():
    limiter = RateLimiter(MemoryBucketStore(), rate_factor=1)
    scope = CallScope("P", "NA", "app", "getFeed")
    await limiter.observe(scope, 40.0)
    model = plans.operation_plan("getFeed")
    ours = limiter._plan(model, 40.0)
    calls = int(model.burst) + 20
    start = time.monotonic()
    await asyncio.gather(*(limiter.acquire(scope) for _ in range(calls)))
    elapsed = time.monotonic() - start
    expected = (calls - ours.burst) / 40
    assert expected - 0.05 <= elapsed <= expected + 0.5


RATE, BURST, PER_PROCESS = 20, 5, 30


def _grant_times(url: str, key: str, count: int, out) -> None:
    """Take `count` tokens as fast as the shared bucket allows; record when the shared row granted each."""
    store = DatabaseBucketStore(url, lease_seconds=0.1)
    grants = []
    while len(grants) < count:
        granted, wait = store.take_granted(key, Plan(rate=RATE, burst=BURST))
        if granted is None:
            time.sleep(wait)
        else:
            grants.append(granted)
    store.close()
    out.put(grants)


@pytest.mark.slow
def test_database_bucket_shared_by_two_processes_never_exceeds_the_plan(db_url):
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    procs = [ctx.Process(target=_grant_times, args=(db_url, "seller/X/NA/op", PER_PROCESS, out)) for _ in range(2)]
    for p in procs:
        p.start()
    times = sorted(out.get(timeout=60) + out.get(timeout=60))
    for p in procs:
        p.join(30)
        assert p.exitcode == 0
    n = len(times)
    assert n == 2 * PER_PROCESS
    # Every window [t_i, t_j] holds at most burst + rate * (t_j - t_i) grants.
    worst = max(j - i + 1 - (BURST + RATE * (times[j] - times[i])) for i in range(n) for j in range(i, n))
    assert worst <= 1e-3  # float rounding of epoch seconds only
    # ... which also bounds the total: the pair cannot have taken more than the plan allows.
    assert times[-1] - times[0] >= (n - BURST) / RATE - 0.1


def test_database_store_leases_in_batches_for_fast_buckets(db_url):
    store = DatabaseBucketStore(db_url, lease_seconds=0.1, clock=FakeClock())
    try:
        waits = [store.take("app/A/op", Plan(rate=500, burst=500)) for _ in range(100)]
        assert max(waits) == 0
        assert store.transactions == 2  # 50 tokens per lease (0.1 s at 500/s)
        store.set_rate("app/A/op", Plan(250, 400))
        assert (store.state("app/A/op").rate, store.state("app/A/op").burst) == (250, 400)
        store.drain("app/A/op", Plan(250, 400))
        assert store.state("app/A/op").tokens <= -1
    finally:
        store.close()
