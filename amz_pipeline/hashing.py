"""The one definition of payload identity used by validation, delta, the queue and the feed path.

A payload's hash is the SHA-256 of its canonical JSON: keys sorted, no insignificant whitespace, UTF-8 without
escaping non-ASCII, and no NaN/Infinity (JSON has none; a float that is NaN is a bug upstream and must fail loudly).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any


def canonical_json(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")


def payload_hash(obj: Any) -> str:
    return hashlib.sha256(canonical_json(obj)).hexdigest()


def idempotency_key(seller_id: str, marketplace_id: str, sku: str, payload: Any) -> str:
    """Key of one change: the same payload for the same SKU of the same seller and marketplace."""
    return payload_hash([seller_id, marketplace_id, sku, payload])
