"""`amz-pipeline db upgrade|downgrade|current`."""

from __future__ import annotations

import click
from alembic import command as alembic_command
from sqlalchemy.exc import SQLAlchemyError

from amz_pipeline.settings import Settings, SettingsError
from amz_pipeline.storage.db import alembic_config, downgrade, upgrade


def _url(url: str | None) -> str:
    try:
        return url or Settings.from_env().database_url
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None


def _redacted(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@click.group(name="db")
def command() -> None:
    """Database migrations (AMZ_DATABASE_URL; default SQLite under data/state/)."""


@command.command(name="upgrade")
@click.option("--url", help="Database URL (default: AMZ_DATABASE_URL or the SQLite file).")
@click.option("--revision", default="head", show_default=True)
def upgrade_command(url: str | None, revision: str) -> None:
    url = _url(url)
    try:
        upgrade(url, revision)
    except SQLAlchemyError as exc:
        raise click.ClickException(f"cannot migrate {_redacted(url)}: {exc.__class__.__name__}: {exc.orig or exc}") from None
    click.echo(f"migrated {_redacted(url)} to {revision}")


@command.command(name="downgrade")
@click.option("--url")
@click.option("--revision", default="base", show_default=True)
def downgrade_command(url: str | None, revision: str) -> None:
    url = _url(url)
    downgrade(url, revision)
    click.echo(f"downgraded {_redacted(url)} to {revision}")


@command.command(name="current")
@click.option("--url")
def current_command(url: str | None) -> None:
    alembic_command.current(alembic_config(_url(url)))
