"""Optional SQLite state file: a restart keeps sellers, tokens, listings, feeds, documents, history and
notifications.

State lives in memory; a background task writes a snapshot when something changed (at most every
`FLUSH_SECONDS`) and once more at shutdown. Feeds that were still queued or in progress resume after a restart.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from dataclasses import asdict
from typing import Any

from .state import AccessToken, Document, Feed, Listing, Seller

FLUSH_SECONDS = 1.0
SCHEMA = """
CREATE TABLE IF NOT EXISTS blobs (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS documents (document_id TEXT PRIMARY KEY, meta TEXT NOT NULL, data BLOB);
"""


class StateStore:
    def __init__(self, sandbox: Any) -> None:
        self.sandbox = sandbox
        self.path = sandbox.config.state_path
        self.dirty = False
        with self._connect() as db:
            db.executescript(SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path)
        db.execute("PRAGMA journal_mode=WAL")
        return db

    def load(self) -> None:
        """Fill the sandbox's state from the file (sellers there are added to those registered at start-up)."""
        state = self.sandbox.state
        with self._connect() as db:
            blobs = {name: json.loads(value) for name, value in db.execute("SELECT name, value FROM blobs")}
            rows = db.execute("SELECT meta, data FROM documents").fetchall()
        for entry in blobs.get("sellers", []):
            state.sellers[entry["seller_id"]] = Seller(**entry)
        for token, entry in blobs.get("tokens", {}).items():
            state.tokens[token] = AccessToken(**entry)
        for entry in blobs.get("listings", []):
            listing = Listing(**entry)
            state.listings.setdefault((listing.seller_id, listing.sku), {})[listing.marketplace_id] = listing
        for entry in blobs.get("feeds", []):
            feed = Feed(**entry)
            state.feeds[feed.feed_id] = feed
        for meta, data in rows:
            fields = json.loads(meta)
            state.documents[fields["document_id"]] = Document(**fields, data=data)
        state.history.update(blobs.get("history", {}))
        state.notifications.extend(blobs.get("notifications", []))

    def unfinished_feeds(self) -> list[Feed]:
        return [f for f in self.sandbox.state.feeds.values() if f.status in ("IN_QUEUE", "IN_PROGRESS")]

    def flush(self) -> None:
        state = self.sandbox.state
        self.dirty = False
        blobs = {
            "sellers": [s.to_dict() for s in state.sellers.values()],
            "tokens": {token: asdict(t) for token, t in state.tokens.items()},
            "listings": [listing.to_dict() for by_market in state.listings.values() for listing in by_market.values()],
            "feeds": [f.to_dict() for f in state.feeds.values()],
            "history": {seller_id: state.history_of(seller_id) for seller_id in state.history},
            "notifications": state.notifications,
        }
        documents = [(d.document_id, json.dumps({k: v for k, v in asdict(d).items() if k != "data"}), d.data)
                     for d in state.documents.values()]
        with self._connect() as db:
            db.execute("DELETE FROM blobs")
            db.executemany("INSERT INTO blobs (name, value) VALUES (?, ?)",
                           [(name, json.dumps(value)) for name, value in blobs.items()])
            db.execute("DELETE FROM documents")
            db.executemany("INSERT INTO documents (document_id, meta, data) VALUES (?, ?, ?)", documents)

    async def run(self) -> None:
        while True:
            await asyncio.sleep(FLUSH_SECONDS)
            if self.dirty:
                self.flush()
