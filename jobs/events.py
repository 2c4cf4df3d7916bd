"""RQ jobs of the event bus (thin: ids in, service call)."""

from __future__ import annotations

import app.handlers  # noqa: F401  registers every domain's handlers
from app.platform.events import run_handler, run_handlers, sweep_outbox


def handle_events(tenant_id: str, event_ids: list[str], handler: str) -> dict[str, int]:
    return run_handlers(tenant_id, event_ids, handler)


def handle_event(tenant_id: str, event_id: str, handler: str) -> str:
    """One event (jobs enqueued before batching, still in Redis after an upgrade)."""
    return run_handler(tenant_id, event_id, handler)


def sweep() -> int:
    return sweep_outbox()
