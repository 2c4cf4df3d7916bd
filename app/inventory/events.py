"""Inventory event handlers (seed: the StockReplenishment flow's "route by
purpose"): STOCK print jobs move their batches. Each runs once per event and
is idempotent on its own (batch progress is counted from the jobs' statuses).

PC parts: a builder order's `order.created` reserves its parts, its build's
`build.status-changed` to completed consumes them (cancelling releases them:
an orders cancel hook in app.inventory.service.parts).

Published by this domain:
- inventory.stock-replenishment-scheduled {printJobId, fileId, purpose, stockBatchId} (per job of a new batch)
"""

from __future__ import annotations

import uuid

from sqlmodel import Session

from app.inventory import service
from app.platform.events import handles
from app.printing import machine as print_machine


def _stock(event: dict) -> bool:
    return event.get("purpose") == "STOCK"


@handles("print-job.completed", when=_stock)
def stock_job_completed(session: Session, event: dict) -> None:
    """InventoryService.handleStockJobCompleted: the batch's progress; its last job adds the unit."""
    if _stock(event):
        service.on_job_completed(session, event["printJobId"])


@handles("print-job.failed", when=_stock)
def stock_job_failed(session: Session, event: dict) -> None:
    if _stock(event):
        service.on_job_failed(session, event["printJobId"], event.get("errorMessage") or "a print failed")


@handles("print-job.cancelled", when=_stock)
def stock_job_cancelled(session: Session, event: dict) -> None:
    """A STOCK job cancelled on its own (not by cancelling its batch): the batch fails."""
    if _stock(event):
        service.on_job_failed(session, event["printJobId"], "a print of the batch was cancelled")


def _stock_revival(event: dict) -> bool:
    return _stock(event) and print_machine.is_revival(event.get("previousStatus", ""), event.get("newStatus", ""))


@handles("print-job.status-changed", when=_stock_revival)
def stock_job_requeued(session: Session, event: dict) -> None:
    """A failed batch's print was requeued: the batch revives."""
    if _stock_revival(event):
        service.on_job_revived(session, event["printJobId"])


# --- PC parts for builds -----------------------------------------------------------------------


def _builder_order(event: dict) -> bool:
    return event.get("source") == "builder"


@handles("order.created", when=_builder_order)
def reserve_parts(session: Session, event: dict) -> None:
    """A builder order holds its parts (available = on hand - reserved)."""
    if _builder_order(event):
        service.reserve_for_order(session, uuid.UUID(event["orderId"]))


def _build_completed(event: dict) -> bool:
    return event.get("newStatus") == "completed"


@handles("build.status-changed", when=_build_completed)
def consume_parts(session: Session, event: dict) -> None:
    """The PC is built: its reserved parts leave the shelf."""
    if _build_completed(event):
        service.consume_for_build(session, uuid.UUID(event["orderId"]))
