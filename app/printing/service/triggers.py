"""Work the printing service hands to a worker (queue `integrations`, one run
per burst): submitting pending jobs to SimplyPrint, draining the webhook
inbox, the reconciliation poll; and a run that found another one busy comes
back in a moment instead of waiting."""

from __future__ import annotations

import logging
import uuid

from sqlmodel import Session

from app.platform import tasks
from app.platform.db import on_commit, session_tenant_id

log = logging.getLogger(__name__)


def _submit_key(tenant_id: uuid.UUID | str) -> str:
    return f"simplyprint-submit:{tenant_id}"


def request_submission(tenant_id: uuid.UUID | str) -> None:
    """Have a worker add the tenant's pending jobs to SimplyPrint: one run per
    burst (jobs.enqueue_once); if Redis is down the reconciliation poll submits."""
    try:
        tasks.enqueue_once(
            _submit_key(tenant_id),
            "jobs.printing.submit",
            str(tenant_id),
            queue_name="integrations",
            shop=tenant_id,
            description=f"SimplyPrint submit ({tenant_id})",
        )
    except Exception as exc:  # Redis down: the reconciliation poll submits them
        log.warning("could not enqueue the SimplyPrint submission: %s", exc)


def submit_after_commit(session: Session) -> None:
    """Queue the SimplyPrint submission of pending jobs once this transaction commits."""
    tid = session_tenant_id(session)
    on_commit(session, lambda: request_submission(tid), key="printing.submit")


def _drain_key(tenant_id: uuid.UUID | str) -> str:
    return f"simplyprint-webhooks:{tenant_id}"


def request_drain(tenant_id: uuid.UUID | str) -> None:
    """Have a worker apply the tenant's stored deliveries: one run per burst
    (jobs.enqueue_once). If Redis is down they wait in the inbox for the
    reconciliation poll, which drains it too."""
    try:
        tasks.enqueue_once(
            _drain_key(tenant_id),
            "jobs.printing.drain_webhooks",
            str(tenant_id),
            queue_name="integrations",
            shop=tenant_id,
            description=f"SimplyPrint webhooks ({tenant_id})",
        )
    except Exception as exc:
        log.warning("could not enqueue the SimplyPrint webhook drain: %s; the poll will apply them", exc)


def request_reconcile(tenant_id: uuid.UUID | str) -> None:
    """Poll SimplyPrint for this shop now (normally every poll_minutes)."""
    tasks.enqueue(
        "jobs.printing.reconcile",
        str(tenant_id),
        queue_name="integrations",
        shop=tenant_id,
        description=f"SimplyPrint reconcile ({tenant_id})",
    )


def _come_back_later(func_name: str, tenant_id: uuid.UUID, key: str) -> None:
    """Another run holds the shop's lock: run again in a moment (tasks.come_back_later)."""
    tasks.come_back_later(
        key,
        f"jobs.printing.{func_name}",
        str(tenant_id),
        queue_name="integrations",
        shop=tenant_id,
        description=f"SimplyPrint {func_name} ({tenant_id}), again",
    )
