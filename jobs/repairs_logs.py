"""Repairs jobs: reading an uploaded diagnostic log (the `default` queue, in
its shop's own line) and the sweep that queues again logs whose job was lost
(cron, per shop)."""

from __future__ import annotations

from app.platform import tasks
from app.platform.db import tenant_session
from app.repairs import service


@tasks.on_abandoned(service.diagnostics.parse_abandoned)
def parse(tenant_id: str, log_id: str) -> dict | None:
    """Mark the log as being read (its own commit, so pages show it), then read it."""
    with tenant_session(tenant_id) as s:
        going = service.diagnostics.start_parsing(s, log_id)
        s.commit()
    if not going:
        return None
    with tenant_session(tenant_id) as s:
        log = service.diagnostics.parse_log(s, log_id)
        s.commit()
        return {"status": log.status, "mapped": log.mapped_count, "unmapped": log.unmapped_count}


def sweep(tenant_id: str) -> dict:
    """Cron, per shop, every few minutes: logs queued long ago lost their job."""
    with tenant_session(tenant_id) as s:
        requeued = service.diagnostics.requeue_stale(s)
        s.commit()
    return {"requeued": requeued}
