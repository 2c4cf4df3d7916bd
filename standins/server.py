"""One ASGI app served by uvicorn in a background thread on a local port:
what the stand-ins (and tests that need our API on a real port) run."""

from __future__ import annotations

import socket
import threading
import time

import httpx
import uvicorn


class ThreadedServer:
    def __init__(
        self, app, *, host: str = "127.0.0.1", port: int = 0, name: str = "asgi", health_path: str | None = None
    ):
        # proto IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on sockets whose proto says TCP,
        # and accepted sockets inherit it. Without it every response body waits ~40 ms (Nagle
        # against the client's delayed ACK) behind its headers.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        self.port = sock.getsockname()[1]
        self.url = f"http://{host}:{self.port}"
        self._socket = sock
        self._server = uvicorn.Server(
            uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off", timeout_graceful_shutdown=1)
        )
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name=f"{name}-{self.port}", daemon=True
        )
        self._thread.start()
        self._wait(name, health_path)

    def _ready(self, health_path: str | None) -> bool:
        if health_path is None:
            return self._server.started
        try:
            return httpx.get(f"{self.url}{health_path}", timeout=0.5).status_code == 200
        except httpx.HTTPError:
            return False

    def _wait(self, name: str, health_path: str | None) -> None:
        deadline = time.monotonic() + 10
        while not self._ready(health_path):
            if time.monotonic() > deadline or not self._thread.is_alive():
                self.stop()
                raise RuntimeError(f"{name} did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=5)
        self._socket.close()
