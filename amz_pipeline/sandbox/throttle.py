"""Usage plans: token buckets per (seller, operation) and per application, read from schemas/spapi/.

Rates and bursts come from `usage_plans.json` (generated from the models) and `limits.json` (the limits the
models do not carry); nothing is re-typed here. `speed` multiplies every rate.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import schemas


@dataclass
class Bucket:
    rate: float
    burst: float
    tokens: float
    stamp: float

    def take(self, now: float) -> bool:
        tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if tokens >= 1.0:
            self.tokens = tokens - 1.0
            return True
        self.tokens = tokens
        return False


def format_rate(rate: float) -> str:
    """`x-amzn-RateLimit-Limit` value: a decimal like Amazon's `5.0` or `0.0083`."""
    return repr(round(float(rate), 6))


class UsagePlans:
    def __init__(self, speed: float, enforce: bool) -> None:
        self.clock = time.monotonic  # replaceable so tests can step time exactly
        self.operations: dict[str, Any] = schemas.load_json("spapi/usage_plans.json")["operations"]
        self.limits: dict[str, Any] = schemas.load_json("spapi/limits.json")
        self.configure(speed, enforce)

    def configure(self, speed: float, enforce: bool) -> None:
        self.speed = speed
        self.enforce = enforce
        self.buckets: dict[tuple[str, ...], Bucket] = {}
        self._headers: dict[str, str | None] = {}

    def rate_header(self, operation: str) -> str | None:
        """The effective per account-application rate of an operation, or None when the models give none."""
        if operation not in self._headers:
            plan = self.operations.get(operation)
            rate = plan.get("rate") if plan else None
            self._headers[operation] = format_rate(rate * self.speed) if rate else None
        return self._headers[operation]

    def _take(self, key: tuple[str, ...], rate: float, burst: float, now: float) -> bool:
        bucket = self.buckets.get(key)
        if bucket is None:
            bucket = self.buckets[key] = Bucket(rate * self.speed, float(burst), float(burst), now)
        return bucket.take(now)

    def allow(self, operation: str, seller_id: str, client_id: str, preview: bool = False) -> bool:
        """Consume one token from every bucket that applies; False (throttled) when any is empty."""
        if not self.enforce:
            return True
        now = self.clock()
        plan = self.operations.get(operation)
        if plan and plan.get("rate") and not self._take(("seller", seller_id, operation), plan["rate"],
                                                         plan["burst"], now):
            return False
        app = self.limits["per_application"].get(operation)
        if app and not self._take(("app", client_id, operation), app["rate"], app["burst"], now):
            return False
        if preview:
            cap = self.limits["validation_preview"]
            if not self._take(("preview", client_id), cap["rate"], cap["burst"], now):
                return False
        return True

    def feed_type_limit(self, feed_type: str) -> dict[str, Any] | None:
        return self.limits["feed_types"].get(feed_type)
