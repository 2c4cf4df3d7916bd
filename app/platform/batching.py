"""Hold what after-commit hooks send out (events to relay, live updates)
while a block of many short transactions runs, and send it together.

A worker draining a backlog commits once per batch; without this, every
commit would cost its own relay (an RQ job, an UPDATE) or its own Redis
message. Per thread: each worker job or request has its own block.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import Any


class AfterCommitBatch:
    """`pending` is the open block's dict (None outside a block); hooks add to
    it. `block()` opens one (nested blocks join the outer one) and hands the
    dict to `deliver` when it ends; `flush()` delivers what is there now."""

    def __init__(self, deliver: Callable[[dict[Any, Any]], None]) -> None:
        self._local = threading.local()
        self._deliver = deliver

    @property
    def pending(self) -> dict[Any, Any] | None:
        return getattr(self._local, "pending", None)

    @contextlib.contextmanager
    def block(self) -> Iterator[None]:
        if self.pending is not None:
            yield
            return
        self._local.pending = {}
        try:
            yield
        finally:
            pending, self._local.pending = self._local.pending, None
            if pending:
                self._deliver(pending)

    def flush(self) -> None:
        pending = self.pending
        if pending:
            ready = dict(pending)
            pending.clear()
            self._deliver(ready)
