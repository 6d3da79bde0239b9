"""Typed SP-API operations, mixed into `SPAPIClient` (they rely on its `_call` request path)."""
