"""Deterministic fault injection (shape: schemas/sandbox/faults.schema.json)."""

from __future__ import annotations

import json
import random
from collections import Counter
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema_rs

import schemas


class FaultConfigError(ValueError):
    """The faults document does not match schemas/sandbox/faults.schema.json."""


@cache
def _validator() -> Any:
    return jsonschema_rs.validator_for(schemas.load_json("sandbox/faults.schema.json"))


def load_faults(value: str | dict[str, Any] | None) -> dict[str, Any] | None:
    """Faults from a dict, a JSON text or a path to a JSON file; checked against the schema."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        text = value.strip()
        if not text.startswith("{"):
            path = Path(text)
            if not path.is_file():
                raise FaultConfigError(f"faults: '{value}' is neither a JSON object nor a readable file")
            text = path.read_text(encoding="utf-8")
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise FaultConfigError(f"faults: invalid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from None
    errors = [f"{'/'.join(map(str, e.instance_path)) or '(root)'}: {e.message}" for e in _validator().iter_errors(value)]
    if errors:
        raise FaultConfigError("faults: " + "; ".join(errors))
    return value


@dataclass
class RequestFault:
    status: int | None = None  # 500, 503 or 429
    error_body: str = "json"
    latency_s: float = 0.0
    drop: bool = False


class Faults:
    def __init__(self, config: dict[str, Any] | None, seed: int, speed: float) -> None:
        self.config = config or {}
        self.seed = seed
        self.speed = speed
        self.counters: Counter = Counter()

    def _rng(self, *key: object) -> random.Random:
        self.counters[key] += 1
        return random.Random(f"{self.seed}|{'|'.join(map(str, key))}|{self.counters[key]}")

    def for_request(self, operation: str) -> RequestFault | None:
        table = self.config.get("requests")
        if not table:
            return None
        spec = table.get(operation, table.get("*"))
        if not spec:
            return None
        rng = self._rng("request", operation)
        fault = RequestFault()
        if spec.get("latency_ms") and rng.random() < spec.get("latency_probability", 1.0):
            fault.latency_s = spec["latency_ms"] / 1000.0 / self.speed
        roll = rng.random()
        for status, key in ((500, "http_500"), (503, "http_503"), (429, "throttle_429")):
            chance = spec.get(key, 0.0)
            if roll < chance:
                fault.status = status
                break
            roll -= chance
        body = spec.get("error_body", "json")
        fault.error_body = rng.choice(["json", "html", "empty"]) if body == "random" else body
        fault.drop = fault.status is None and rng.random() < spec.get("drop_connection", 0.0)
        return fault

    def feed_outcome(self) -> str | None:
        """CANCELLED, FATAL, IN_PROGRESS (stuck) or None (process normally)."""
        spec = self.config.get("feeds")
        if not spec:
            return None
        roll = self._rng("feed").random()
        for outcome, key in (("CANCELLED", "cancelled"), ("FATAL", "fatal"), ("IN_PROGRESS", "stuck_in_progress")):
            chance = spec.get(key, 0.0)
            if roll < chance:
                return outcome
            roll -= chance
        return None

    def suppression_delay(self) -> float | None:
        """Seconds until an accepted listing turns suppressed, or None when it stays live."""
        spec = self.config.get("listings")
        if not spec or not spec.get("suppressed_after_accept"):
            return None
        if self._rng("listing").random() < spec["suppressed_after_accept"]:
            return spec.get("suppress_after_seconds", 0.0) / self.speed
        return None
