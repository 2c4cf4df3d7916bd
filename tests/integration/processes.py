"""Killing worker processes in the crash tests."""

from __future__ import annotations

import os
import time


def children(pid: int) -> list[int]:
    """The processes whose parent is `pid` (a forking worker's work-horses)."""
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(entry))
    return out


def wait_gone(pid: int, timeout: float = 10) -> None:
    """Until a SIGKILLed process is gone (reaped if it is ours)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        try:  # reap it if it is our grandchild re-parented to us  # noqa: SIM105
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
        time.sleep(0.05)
    raise AssertionError(f"process {pid} survived SIGKILL")
