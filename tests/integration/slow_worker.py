"""A real worker process (`python -m tests.integration.slow_worker POINT
QUEUE...`) whose job stops at a named point and waits there, so a test can
SIGKILL the worker mid-job; and the helpers the worker-death tests share.

The stand-in replaces one step of the job in this process only (the render of
the booklets, the reading of the catalog files): everything before it (the
visible "in progress" state) is the real code."""

from __future__ import annotations

import contextlib
import importlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

from app.platform.tasks import redis_conn
from app.settings import ROOT
from tests.integration.processes import children, wait_gone

POINTS = {
    "booklets": ("app.booklets.service", "render"),
    "catalog": ("app.catalog.importer", "read_records"),
    "label": ("app.shipping.service.shipments", "make_label"),
}
BEAT = 1  # s: the worker's heartbeat in these tests; silent for three beats = dead


def blocked_key(point: str) -> str:
    return f"test:blocked:{point}"


def _block(point: str) -> Callable[..., Any]:
    def waits(*args: Any, **kwargs: Any) -> Any:
        redis_conn().set(blocked_key(point), os.getpid())
        time.sleep(300)
        raise AssertionError("the test should have killed this worker")

    return waits


def start(queues: list[str], point: str | None = None) -> subprocess.Popen:
    """A worker process on `queues` (beating every BEAT); with `point`, its
    job stops there."""
    redis_conn().delete(*(blocked_key(p) for p in POINTS))
    args = ["-m", "tests.integration.slow_worker", point] if point else ["-m", "jobs.worker"]
    return subprocess.Popen(
        [sys.executable, *args, *queues],
        cwd=ROOT,
        start_new_session=True,
        env={**os.environ, "PYTHONPATH": str(ROOT), "WORKER_HEARTBEAT_SECONDS": str(BEAT)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def wait_blocked(proc: subprocess.Popen, point: str, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while not redis_conn().get(blocked_key(point)):
        assert proc.poll() is None, "the worker died on its own"
        assert time.time() < deadline, "the worker never reached the job's slow step"
        time.sleep(0.1)


def kill(proc: subprocess.Popen) -> None:
    """SIGKILL the worker and everything it started (no cleanup runs)."""
    horses = children(proc.pid)
    for pid in horses:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    for pid in horses:
        wait_gone(pid)


def until(check: Callable[[], bool], step: Callable[[], Any], timeout: float = 20) -> float:
    """Run `step` (a sweep, a surviving worker) until `check` holds; returns
    the seconds it took."""
    started = time.time()
    while not check():
        assert time.time() - started < timeout, "still not settled"
        step()
        time.sleep(0.25)
    return time.time() - started


if __name__ == "__main__":
    from jobs.worker import main

    point, *queue_names = sys.argv[1:]
    module, attr = POINTS[point]
    setattr(importlib.import_module(module), attr, _block(point))
    main(queue_names)
