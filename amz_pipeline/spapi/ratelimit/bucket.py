"""Token-bucket arithmetic shared by both stores; the state is exactly a `rate_limit_buckets` row.

Tokens are taken when a request is about to be sent, never reserved ahead: a caller that was descheduled for a while
finds at most `burst` tokens when it wakes, so a stalled process cannot fire a backlog of pre-booked requests at once.
The bucket may go negative only through `drain` (a 429 seen): that debt delays everyone by the time to repay it.
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

    def take(self, now: float, most: int = 1) -> tuple[int, float]:
        """Take up to `most` whole tokens if at least one is there: (taken, 0). Otherwise (0, seconds until one is)."""
        self.refill(now)
        if self.tokens >= 1.0:
            taken = max(1, min(most, int(self.tokens)))
            self.tokens -= taken
            return taken, 0.0
        return 0, (1.0 - self.tokens) / self.rate

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
