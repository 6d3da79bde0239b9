"""`amz-pipeline db upgrade|downgrade|current`.

A bad URL, a missing driver, an unknown revision or an unreachable database ends with one `Error: ...` line naming
the database (password hidden) and exit status 1, never a traceback.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click
from alembic import command as alembic_command
from alembic.util import CommandError
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

from amz_pipeline.settings import Settings, SettingsError
from amz_pipeline.storage.db import alembic_config, downgrade, upgrade


def _url(url: str | None) -> str:
    try:
        return url or Settings.from_env().database_url
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None


def _redacted(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "the given database URL"


@contextmanager
def _database_errors(action: str, url: str) -> Iterator[None]:
    """Turn what a user can get wrong (URL, driver, revision, server) into one clear line."""
    target = _redacted(url)
    try:
        yield
    except ArgumentError:
        raise click.ClickException(
            f"cannot {action} {target}: not a database URL (expected e.g. sqlite:///path/to/file.db or "
            "postgresql+psycopg://user@host:5432/dbname)") from None
    except (NoSuchModuleError, ImportError) as exc:
        raise click.ClickException(f"cannot {action} {target}: no installed driver for it ({exc})") from None
    except CommandError as exc:
        raise click.ClickException(f"cannot {action} {target}: {exc}") from None
    except SQLAlchemyError as exc:
        reason = getattr(exc, "orig", None) or exc
        first_line = (str(reason).splitlines() or [""])[0]
        raise click.ClickException(f"cannot {action} {target}: {type(reason).__name__}: {first_line}") from None


@click.group(name="db")
def command() -> None:
    """Database migrations (AMZ_DATABASE_URL; default SQLite under data/state/)."""


@command.command(name="upgrade")
@click.option("--url", help="Database URL (default: AMZ_DATABASE_URL or the SQLite file).")
@click.option("--revision", default="head", show_default=True)
def upgrade_command(url: str | None, revision: str) -> None:
    url = _url(url)
    with _database_errors("migrate", url):
        upgrade(url, revision)
    click.echo(f"migrated {_redacted(url)} to {revision}")


@command.command(name="downgrade")
@click.option("--url", help="Database URL (default: AMZ_DATABASE_URL or the SQLite file).")
@click.option("--revision", default="base", show_default=True)
def downgrade_command(url: str | None, revision: str) -> None:
    url = _url(url)
    with _database_errors("downgrade", url):
        downgrade(url, revision)
    click.echo(f"downgraded {_redacted(url)} to {revision}")


@command.command(name="current")
@click.option("--url", help="Database URL (default: AMZ_DATABASE_URL or the SQLite file).")
def current_command(url: str | None) -> None:
    url = _url(url)
    with _database_errors("read the revision of", url):
        alembic_command.current(alembic_config(url))
