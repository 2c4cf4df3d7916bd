"""RQ jobs of the event bus (thin: ids in, service call)."""

from __future__ import annotations

import app.handlers  # noqa: F401  registers every domain's handlers
from app.platform.events import run_handler, run_handlers, sweep_outbox


def handle_events(tenant_id: str, event_ids: list[str], handlers: str | list[str]) -> dict:
    """Each handler over the events; every handler gets its turn even when
    another fails, then the first error is raised (RQ retries the job and
    what was applied is skipped as a duplicate)."""
    if isinstance(handlers, str):
        return run_handlers(tenant_id, event_ids, handlers)
    results, first_error = {}, None
    for name in handlers:
        try:
            results[name] = run_handlers(tenant_id, event_ids, name)
        except Exception as exc:  # noqa: BLE001
            first_error = first_error or exc
    if first_error is not None:
        raise first_error
    return results


def handle_event(tenant_id: str, event_id: str, handler: str) -> str:
    """One event (jobs enqueued before batching, still in Redis after an upgrade)."""
    return run_handler(tenant_id, event_id, handler)


def sweep() -> int:
    return sweep_outbox()
