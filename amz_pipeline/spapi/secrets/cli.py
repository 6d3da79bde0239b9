"""`amz-pipeline secrets ...`: operators store and list LWA credentials. Values are never printed."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import click

from amz_pipeline.settings import PROFILES, Settings, SettingsError

from .env import ENV_FIELDS
from .envelope import LocalKey
from .errors import SecretError
from .factory import BACKENDS, secret_store_from_env
from .names import regions, secret_name

_PROFILE = click.option(
    "--profile", type=click.Choice(PROFILES), default=None, help="Secret profile (default: AMZ_PROFILE, else dev)."
)


@contextmanager
def _user_errors() -> Iterator[None]:
    try:
        yield
    except (SecretError, SettingsError) as exc:
        raise click.ClickException(str(exc)) from None


@click.group(name="secrets")
def command() -> None:
    """Store and list LWA credentials, named amz/<profile>/<seller>/<region>."""


@command.command("put")
@click.option("--seller", required=True, help="Selling partner (merchant) id, e.g. A1B2C3D4E5F6G7.")
@click.option("--region", required=True, type=click.Choice(regions(), case_sensitive=False))
@_PROFILE
@click.option(
    "--backend", type=click.Choice(["db", "aws"]), default=None,
    help="Where to store (default: AMZ_SECRETS_BACKEND when db or aws, else db).",
)
def put(seller: str, region: str, profile: str | None, backend: str | None) -> None:
    """Store a seller's LWA credentials, read from AMZ_LWA_CLIENT_ID, AMZ_LWA_CLIENT_SECRET and AMZ_REFRESH_TOKEN
    or, when unset, prompted for (secret and token hidden)."""
    env_backend = os.environ.get("AMZ_SECRETS_BACKEND")
    backend = backend or (env_backend if env_backend in ("db", "aws") else "db")
    with _user_errors():
        profile = profile or Settings.from_env().profile
        name = secret_name(profile, seller, region)
        store = secret_store_from_env(backend=backend, profile=profile)
        value = {
            field: os.environ.get(var) or click.prompt(f"{field} ({var})", hide_input=field != "client_id")
            for field, var in ENV_FIELDS.items()
        }
        store.put(name, value)
    click.echo(f"stored {name} in the {backend} secret store")


@command.command("list")
@_PROFILE
@click.option("--backend", type=click.Choice(BACKENDS), default=None, help="Default: AMZ_SECRETS_BACKEND, else env.")
@click.option("--prefix", default=None, help="Only names under this prefix (default amz/<profile>/).")
def list_(profile: str | None, backend: str | None, prefix: str | None) -> None:
    """List secret names (never values)."""
    with _user_errors():
        store = secret_store_from_env(backend=backend, profile=profile)
        for name in store.list(prefix):
            click.echo(name)


@command.command("rotate")
@_PROFILE
@click.option("--backend", type=click.Choice(["db", "aws"]), default="db", show_default=True)
def rotate(profile: str | None, backend: str) -> None:
    """Re-encrypt every secret of the profile with the current key (AMZ_SECRETS_KEY or AMZ_SECRETS_KMS_KEY_ID),
    reading old rows with AMZ_SECRETS_PREVIOUS_KEYS. Afterwards the previous keys can be retired."""
    with _user_errors():
        store = secret_store_from_env(backend=backend, profile=profile)
        names = store.list()
        for name in names:
            store.put(name, store.get(name))
    click.echo(f"re-encrypted {len(names)} secret(s) under {store.prefix} in the {backend} secret store")


@command.command("generate-key")
def generate_key() -> None:
    """Print a fresh random key for AMZ_SECRETS_KEY (base64 of 32 bytes)."""
    click.echo(LocalKey.generate())
