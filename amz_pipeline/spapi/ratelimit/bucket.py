"""Token-bucket arithmetic with reservations, shared by both stores.

A caller always takes its token at once; if that drives the bucket below zero it must wait until the refill covers
the debt (`-tokens / rate`). Waiting callers therefore queue in arrival order without polling, and the bucket's state is
three numbers (tokens, rate, updated_at) plus the burst - exactly the `rate_limit_buckets` row.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class BucketState:
    tokens: float
    rate: float
    burst: float
    updated_at: float

    def refill(self, now: float) -> None:
        elapsed = max(0.0, now - self.updated_at)
        self.tokens = min(self.burst, self.tokens + elapsed * self.rate)
        self.updated_at = max(self.updated_at, now)

    def reserve(self, now: float, count: int = 1) -> list[float]:
        """Take `count` tokens; return the time (on the `now` clock) at which each may be used."""
        self.refill(now)
        slots = []
        for _ in range(count):
            self.tokens -= 1.0
            slots.append(now if self.tokens >= 0 else now + (-self.tokens) / self.rate)
        return slots

    def available(self, now: float) -> float:
        """Whole tokens usable right now (after refill), without taking any."""
        self.refill(now)
        return max(0.0, self.tokens)

    def set_rate(self, now: float, rate: float, burst: float | None = None) -> None:
        """Switch rate (and burst) at run time: tokens accrued so far count at the old rate."""
        self.refill(now)
        self.rate = rate
        if burst is not None:
            self.burst = burst
            self.tokens = min(self.tokens, burst)

    def drain(self, now: float) -> None:
        """After a 429 the server's bucket is empty: empty ours and owe one more token, so the callers queued behind
        wait one interval longer and the server gets a token of slack back."""
        self.refill(now)
        self.tokens = min(self.tokens, 0.0) - 1.0
