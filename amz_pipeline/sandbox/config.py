"""Start-up configuration of the sandbox (what the CLI flags and the test fixtures set)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class SandboxConfig:
    """Everything the sandbox reads at start-up.

    `speed` multiplies every usage-plan rate and divides every delay (feed processing, fault latency, URL lifetimes
    stay in real time). `public_base_url` is where the sandbox is reachable from its clients: every URL it hands out
    (upload, download, schema links) is built from it, never from the request's Host header.
    """

    public_base_url: str = "http://127.0.0.1:8787"
    speed: float = 1.0
    faults: dict[str, Any] | None = None
    seed: int = 0
    require_sigv4: bool = False
    state_path: str | None = None
    token_ttl_seconds: int = 3600
    enforce_usage_plans: bool = True
    # Seconds a feed spends IN_QUEUE and then IN_PROGRESS (each), at speed 1. Zero processes at once.
    feed_processing_delay_seconds: float = 2.0
    # JSON file with a list of sellers (demo_seller.json shape) registered at start-up instead of the demo seller.
    sellers_file: str | None = None
    # ASINs that need approval, per seller id ("*" = every seller): {"*": ["B000GATED1"]}.
    gated_asins: dict[str, list[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.speed or self.speed <= 0:
            raise ValueError(f"speed must be a positive number, got {self.speed!r}")
        if self.token_ttl_seconds <= 0:
            raise ValueError(f"token_ttl_seconds must be positive, got {self.token_ttl_seconds!r}")
        if self.feed_processing_delay_seconds < 0:
            raise ValueError("feed_processing_delay_seconds must be >= 0")
        self.public_base_url = self.public_base_url.rstrip("/")
