"""Run the sandbox over real HTTP in a background thread (tests, benchmarks, the demo)."""

from __future__ import annotations

import dataclasses
import socket
import threading
import time
from typing import Any

import uvicorn

from .app import create_app
from .config import SandboxConfig


class SandboxServer:
    """Context manager: uvicorn serving the sandbox on `host:port` (port 0 = a free port) in a daemon thread.

    When the config's `public_base_url` is left at its default, it becomes this server's own base URL so the
    URLs the sandbox hands out point back at it.
    """

    def __init__(self, config: SandboxConfig | None = None, host: str = "127.0.0.1", port: int = 0,
                 log_level: str = "warning") -> None:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((host, port))
        self.host, self.port = host, self._socket.getsockname()[1]
        self.base_url = f"http://{host}:{self.port}"
        self.lwa_token_url = self.base_url + "/auth/o2/token"
        config = config or SandboxConfig()
        if config.public_base_url == SandboxConfig.public_base_url:
            config = dataclasses.replace(config, public_base_url=self.base_url)
        self.config = config
        self.app = create_app(config)
        self.sandbox = self.app.state.sandbox
        self._server = uvicorn.Server(uvicorn.Config(self.app, log_level=log_level, access_log=False,
                                                     lifespan="on", timeout_graceful_shutdown=2))
        self._thread: threading.Thread | None = None

    def start(self) -> SandboxServer:
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._socket]},
                                        name=f"sandbox-{self.port}", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 15
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError("the sandbox server failed to start")
            if time.monotonic() > deadline:
                raise RuntimeError("the sandbox server did not start within 15 s")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._socket.close()

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()
