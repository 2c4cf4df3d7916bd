"""One logging set-up for web, worker and cron: every record carries the shop
(tenant) and the correlation id of the request or webhook that started the
chain, so an operator can follow one order from its webhook to its print jobs.

The two values live in context variables: a request, a job or an event
handler sets them (`context(...)`), and everything it logs, publishes,
enqueues or sends out carries them on (events store the correlation id in
their envelope, jobs in their meta, outbound calls send `X-Correlation-Id`).
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import os
import uuid
from collections.abc import Iterator

_shop: contextvars.ContextVar[str | None] = contextvars.ContextVar("shop", default=None)
_correlation: contextvars.ContextVar[str | None] = contextvars.ContextVar("correlation_id", default=None)

HEADER = "X-Correlation-Id"
FORMAT = "%(asctime)s %(levelname)s %(name)s [shop=%(shop)s cid=%(correlation_id)s] %(message)s"


def shop() -> str | None:
    return _shop.get()


def correlation_id() -> str | None:
    return _correlation.get()


def new_correlation_id() -> str:
    return uuid.uuid4().hex


@contextlib.contextmanager
def context(*, shop: str | None = None, correlation_id: str | None = None) -> Iterator[None]:
    """Within the block, records carry this shop and correlation id (a value
    left None keeps what the outer context has)."""
    tokens = []
    if shop:
        tokens.append((_shop, _shop.set(str(shop))))
    if correlation_id:
        tokens.append((_correlation, _correlation.set(str(correlation_id))))
    try:
        yield
    finally:
        for var, token in reversed(tokens):
            var.reset(token)


def bind(*, shop: str | None = None, correlation_id: str | None = None) -> None:
    """Set the values for the rest of this context (a request's task)."""
    if shop:
        _shop.set(str(shop))
    if correlation_id:
        _correlation.set(str(correlation_id))


def send_correlation_id(request: object) -> None:
    """An httpx request hook: outbound calls name the chain they belong to."""
    cid = _correlation.get()
    if cid:
        request.headers.setdefault(HEADER, cid)  # type: ignore[attr-defined]


def httpx_event_hooks() -> dict[str, list]:
    return {"request": [send_correlation_id]}


class ContextFilter(logging.Filter):
    """Puts `shop` and `correlation_id` on every record ("-" when unknown)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "shop"):
            record.shop = _shop.get() or "-"
        if not hasattr(record, "correlation_id"):
            record.correlation_id = _correlation.get() or "-"
        return True


_configured = False


def setup(level: str | int | None = None) -> None:
    """Configure the root logger once per process (web, worker, cron, CLI)."""
    global _configured
    if _configured:
        return
    _configured = True
    handler = logging.StreamHandler()
    handler.addFilter(ContextFilter())
    handler.setFormatter(logging.Formatter(FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level or os.environ.get("LOG_LEVEL", "INFO"))
    # RQ's worker installs its own handler on the "rq.worker" logger: ours formats its records too.
    for name in ("rq.worker", "rq.job", "rq.scheduler"):
        lg = logging.getLogger(name)
        for old in list(lg.handlers):
            lg.removeHandler(old)
        lg.propagate = True
