"""Lease owners: `host:pid:uuid`, so a lease held by a process that no longer exists on this host is taken back at once
(other hosts' leases are trusted until they expire)."""

from __future__ import annotations

import os
import socket
import uuid
from datetime import UTC, datetime


def new_owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def is_dead_local(owner: str | None) -> bool:
    """True when `owner` names a process on this host that is gone (PID reuse makes this conservative, not unsafe:
    a reused PID only means we wait for the lease to expire)."""
    if not owner or owner.count(":") < 2:
        return False
    host, pid_text, _ = owner.rsplit(":", 2)
    if host != socket.gethostname():
        return False
    try:
        pid = int(pid_text)
    except ValueError:
        return False
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    """A killed child that was not reaped yet still answers kill(0); /proc says it is a zombie."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; everything we store is UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)
