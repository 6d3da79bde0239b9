"""`amz-pipeline`: one click group; each subcommand lives beside its package and is imported only when used,
so `amz-pipeline --help` stays fast and a broken optional dependency of one command cannot break the others."""

from __future__ import annotations

import importlib
import os

import click

# name -> "module:attribute" of a click command
SUBCOMMANDS: dict[str, str] = {
    "db": "amz_pipeline.storage.cli:command",
    "sandbox": "amz_pipeline.sandbox.cli:command",
    "validate": "amz_pipeline.catalog.cli:command",
    "publish": "amz_pipeline.publishing.cli:publish_command",
    "status": "amz_pipeline.publishing.cli:status_command",
    "dlq": "amz_pipeline.publishing.cli:dlq_command",
    "secrets": "amz_pipeline.spapi.secrets.cli:command",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(SUBCOMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = SUBCOMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attribute = target.split(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name and module_name.startswith(exc.name):
                return _unavailable(cmd_name, f"{module_name} is not available in this build")
            raise
        return getattr(module, attribute)


def _unavailable(name: str, reason: str) -> click.Command:
    @click.command(name=name, help=f"(unavailable: {reason})")
    def stub() -> None:
        raise click.ClickException(reason)

    return stub


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="amz-pipeline")
def main() -> None:
    """Publish Amazon listings through the Selling Partner API."""
    # Structured, redacted JSON log lines on stderr (stdout stays for humans and --json).
    from amz_pipeline.settings import SettingsError, log_level_from_env
    from amz_pipeline.telemetry import configure_logging

    try:
        configure_logging(log_level_from_env(os.environ))
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None


if __name__ == "__main__":
    main()
