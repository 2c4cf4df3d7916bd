"""RQ jobs of the event bus (thin: ids in, service call)."""

from __future__ import annotations

from app.platform.events import run_handler_set, sweep_outbox


def handle_events(tenant_id: str, event_ids: list[str], handlers: list[str]) -> dict:
    return run_handler_set(tenant_id, event_ids, handlers)


def sweep(tenant_id: str | None = None) -> int:
    return sweep_outbox(tenant_id)
