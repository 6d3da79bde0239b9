"""`make dev`: our SP-API sandbox plus the Dagster UI (`dagster dev`) on 127.0.0.1, stopped together with Ctrl-C.

`dagster dev -w workspace.yaml` is the command (it ships with the pinned dagster-webserver; the newer `dg dev` needs the
separate dagster-dg-cli package and a dg project layout, and `workspace.yaml` is what production uses anyway). It runs
the webserver and the daemon, so the drop-folder sensor, schedules and the run queue work as in production.

The sandbox runs once per SP-API region (NA on --sandbox-port, EU and FE on the next two ports) with the demo seller
registered in each and its credentials in the secret store, as `make demo` does; the sandboxes keep their state in
data/state/ beside the pipeline's database, so both agree across restarts.

`dagster dev` runs in its own session (start_new_session): started in the background from a non-interactive shell it
would otherwise ignore SIGINT/SIGTERM (STACK-NOTES.md), so this script stops it by signalling its process group.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def stop_group(process: subprocess.Popen, timeout: float = 20.0) -> int:
    """Stop `dagster dev` the way it expects: SIGTERM to it alone (it then stops its webserver, daemon and code
    server); whatever of its process group is still there after `timeout` seconds gets SIGKILL."""
    if process.poll() is None:
        process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=timeout)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    return process.wait()


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt


def dagster_dev_command(host: str, port: int) -> list[str]:
    return [str(Path(sys.executable).with_name("dagster")), "dev", "-w", str(ROOT / "workspace.yaml"),
            "-h", host, "-p", str(port)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=3000, help="Dagster UI port")
    parser.add_argument("--sandbox-port", type=int, default=8787, help="NA sandbox port; EU and FE use the next two")
    parser.add_argument("--speed", type=float, default=10.0, help="sandbox speed factor")
    parser.add_argument("--feed-delay", type=float, default=2.0, help="sandbox feed processing delay (s, at speed 1)")
    args = parser.parse_args(argv)

    home = Path(os.environ.setdefault("DAGSTER_HOME", str(ROOT / ".dagster_home")))
    home.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(ROOT / "dagster.yaml", home / "dagster.yaml")

    from amz_pipeline.sandbox import SandboxConfig
    from amz_pipeline.sandbox.server import SandboxServer
    from scripts.demo import REGIONS, register_demo_seller, sandbox_state_path, use_demo_secret_store

    use_demo_secret_store()
    with contextlib.ExitStack() as stack:
        urls = {}
        for offset, region in enumerate(REGIONS):  # one sandbox per region, as Amazon has one endpoint per region
            config = SandboxConfig(speed=args.speed, feed_processing_delay_seconds=args.feed_delay,
                                   state_path=sandbox_state_path(region))
            server = stack.enter_context(SandboxServer(config, port=args.sandbox_port + offset))
            urls[region] = os.environ[f"AMZ_SANDBOX_URL_{region}"] = server.base_url
        os.environ["AMZ_SANDBOX_URL"] = urls["NA"]
        os.environ.pop("AMZ_SPAPI_ENDPOINT", None)
        from assets.resources_config import default_resources
        from resources.spapi import demo_seller

        register_demo_seller(urls, demo_seller(), default_resources())
        env = dict(os.environ)
        for region, url in urls.items():
            print(f"sandbox {region}: {url} (LWA {url}/auth/o2/token; admin API {url}/_sandbox/)")
        print(f"Dagster UI: http://127.0.0.1:{args.port}  (DAGSTER_HOME={home}); drop files into "
              "data/inbox/<seller>/<country>/ (one marketplace) or data/inbox/<seller>/ (rows name theirs)")
        process = subprocess.Popen(dagster_dev_command("127.0.0.1", args.port), cwd=ROOT, env=env,
                                   start_new_session=True)
        # SIGTERM unwinds like Ctrl-C. (Stopping the child from inside the handler would deadlock: the handler
        # interrupts process.wait(), which holds the Popen's wait lock the handler's own wait() needs.)
        previous = signal.signal(signal.SIGTERM, _interrupt)
        try:
            return process.wait()
        except KeyboardInterrupt:
            return stop_group(process)
        finally:
            signal.signal(signal.SIGTERM, previous)
            stop_group(process)


if __name__ == "__main__":
    raise SystemExit(main())
