"""`amz-pipeline sandbox`: serve the SP-API sandbox over HTTP."""

from __future__ import annotations

import gc

import click

from .config import SandboxConfig
from .faults import FaultConfigError, load_faults


@click.command("sandbox")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8787, show_default=True, type=click.IntRange(0, 65535), help="TCP port.")
@click.option("--speed", default=1.0, show_default=True, type=click.FloatRange(min=0, min_open=True),
              help="Multiply every usage-plan rate and divide every delay by N.")
@click.option("--faults", default=None, metavar="FILE|JSON", help="Fault injection (schemas/sandbox/faults.schema.json).")
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of the fault random source.")
@click.option("--require-sigv4", is_flag=True, help="Reject requests without a valid AWS SigV4 signature.")
@click.option("--state", "state_path", default=None, metavar="FILE", help="SQLite file that keeps state across restarts.")
@click.option("--public-base-url", default=None, help="Base URL clients reach the sandbox at (default http://HOST:PORT).")
@click.option("--token-ttl", default=3600, show_default=True, type=click.IntRange(min=1), help="LWA token lifetime (s).")
@click.option("--feed-delay", default=2.0, show_default=True, type=click.FloatRange(min=0),
              help="Seconds a feed spends IN_QUEUE and then IN_PROGRESS (divided by --speed).")
@click.option("--no-usage-plans", is_flag=True, help="Do not enforce usage plans (no 429s from throttling).")
@click.option("--sellers", "sellers_file", default=None, type=click.Path(exists=True, dir_okay=False),
              help="JSON list of sellers to register instead of the demo seller.")
def command(host: str, port: int, speed: float, faults: str | None, seed: int, require_sigv4: bool,
            state_path: str | None, public_base_url: str | None, token_ttl: int, feed_delay: float,
            no_usage_plans: bool, sellers_file: str | None) -> None:
    """Serve the SP-API sandbox (LWA, Listings Items, Listings Restrictions, Feeds, Product Type Definitions)."""
    import uvicorn

    from .app import create_app

    try:
        fault_config = load_faults(faults)
    except FaultConfigError as exc:
        raise click.BadParameter(str(exc), param_hint="--faults") from None
    shown_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    config = SandboxConfig(public_base_url=public_base_url or f"http://{shown_host}:{port}", speed=speed,
                           faults=fault_config, seed=seed, require_sigv4=require_sigv4, state_path=state_path,
                           token_ttl_seconds=token_ttl, enforce_usage_plans=not no_usage_plans,
                           feed_processing_delay_seconds=feed_delay, sellers_file=sellers_file)
    try:
        app = create_app(config)
    except (ValueError, OSError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"SP-API sandbox on {config.public_base_url}  (LWA: {config.public_base_url}/auth/o2/token)", err=True)
    # This process is the sandbox alone: collect the youngest generation every 10,000 net allocations instead of
    # 700. Each collection walks every object of the requests in flight (~10,000 with 64 connections): measured
    # under a 64-connection patch load, collections took ~9% of the sandbox's CPU with the default and ~5% with
    # this. The requests' JSON holds no reference cycles, so nothing waits longer to be freed.
    gc.set_threshold(10_000, 10, 10)
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
