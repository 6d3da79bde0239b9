"""Shared fixtures are modules in tests/support/, registered here."""

pytest_plugins = [
    "tests.support.db",
    "tests.support.sandbox",
]
