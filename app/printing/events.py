"""Printing event handlers. Each runs once per event (app.platform.events
records (event, handler) in the handler's own transaction) and is also
idempotent on its own, so a replay changes nothing.

Published by this domain (payloads per the seed, plus `purpose`):
- print-job.status-changed  {printJobId, orderId, lineItemId, purpose, previousStatus, newStatus, via}
- print-job.completed       {printJobId, orderId, lineItemId, purpose}
- print-job.failed          {printJobId, orderId, lineItemId, purpose, errorMessage}
- print-job.cancelled       {printJobId, orderId, lineItemId, purpose, reason}
- print-jobs.created        {orderId, printJobIds}
- integration.simplyprint-changed {action: connected | disconnected}
(orderId is "" and lineItemId null for STOCK jobs.)
"""

from __future__ import annotations

import uuid

from sqlmodel import Session

from app.platform.db import session_tenant_id
from app.platform.events import handles
from app.printing import service


@handles("order.created")
def create_print_jobs(session: Session, event: dict) -> None:
    """One ORDER job per assembly part × quantity per product × line quantity;
    unmapped SKUs become visible problems; submission to SimplyPrint is queued."""
    service.create_jobs_for_order(session, uuid.UUID(event["orderId"]))


@handles("integration.simplyprint-changed")
def reinitialise_client(session: Session, event: dict) -> None:
    """IntegrationReinitialization: bump the tenant's client version stamp, so
    every web and worker process builds a fresh client (or none) at its next
    use; on connect, push jobs created in manual mode to SimplyPrint."""
    tid = session_tenant_id(session)
    service.bump_version(tid)
    if event.get("action") == "connected" and service.connection(session) is not None:
        service.submit_after_commit(session)
