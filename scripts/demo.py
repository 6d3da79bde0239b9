"""`make demo`: run the pipeline end to end on the built-in sandbox and SQLite, no credentials.

Until the Dagster layer lands this migrates the demo database and reports what exists."""

from __future__ import annotations

from amz_pipeline.settings import Settings
from amz_pipeline.storage.db import upgrade


def main() -> int:
    settings = Settings.from_env()
    upgrade(settings.database_url)
    print(f"demo database ready: {settings.database_url}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
