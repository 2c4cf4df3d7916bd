"""RQ entry points of the printing domain (thin: ids in, service call)."""

from __future__ import annotations

import logging

from app.platform import tasks
from app.platform.db import tenant_session
from app.printing import service
from app.printing.service.submission import submission_abandoned
from jobs.periodic import for_each_shop

log = logging.getLogger(__name__)

SLICE_S = 2.0  # a submit or drain run hands over to a continuation after this long: other jobs get a turn


@tasks.on_abandoned(submission_abandoned)
def submit(tenant_id: str) -> int:
    """Add the tenant's pending print jobs to the SimplyPrint queue."""
    return service.submit_pending(tenant_id, wait_busy=False, slice_s=SLICE_S)


def drain_webhooks(tenant_id: str) -> dict:
    """Apply the tenant's stored SimplyPrint deliveries."""
    return service.drain_webhooks(tenant_id, wait_busy=False, slice_s=SLICE_S)


def reconcile(tenant_id: str) -> dict:
    """Poll SimplyPrint once for one tenant and correct drift; apply any
    deliveries still waiting in the inbox (Redis was down, a run died)."""
    with tenant_session(tenant_id) as s:
        result = service.reconcile(s)
        s.commit()
        waiting = bool(service.pending_webhooks(s, limit=1))
    if waiting:
        service.request_drain(tenant_id)
    return {
        "printers": result.printers,
        "corrected": result.corrected,
        "progress": result.progress,
        "pending": result.submitted_pending,
        "skipped": result.skipped,
        "errors": result.errors,
    }


def reconcile_if_due(tenant_id: str) -> dict | None:
    """Cron, per shop: reconcile when the shop is connected and its poll
    interval (poll_minutes, on by default) has passed."""
    with tenant_session(tenant_id) as s:
        due = service.reconcile_due(s)
    return reconcile(tenant_id) if due else None


def reconcile_due() -> int:
    """What cron does every minute, now: one `reconcile_if_due` job per shop.
    Returns how many shops were asked."""
    return for_each_shop("jobs.printing.reconcile_if_due", "integrations")
