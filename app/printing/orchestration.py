"""Order orchestration (seed: Orchestration, OrderFulfillment, Order Revival,
OrderCancellation): print-job events move orders and their line items.

Every handler locks the order row first, so two workers applying events of
the same order take turns, and recomputes part counts from the jobs' actual
statuses instead of adding to them: a replayed or reordered event yields the
same numbers, and `order.ready-for-fulfillment` is published once (only on the
move to `ready`).

- print-job.completed: part counts; when every part is done the fulfillment
  becomes `ready` and `order.ready-for-fulfillment` is published.
- print-job.failed / print-job.cancelled (order still wanted): all jobs
  failed → FAILED, else PARTIALLY_COMPLETED (line items alike); a failure
  also goes to the retry queue as a NOTIFICATION entry, so staff hear of it
  even when sending the notification fails at first.
- print-job.status-changed terminal → active (a requeue): the order revives
  to PROCESSING (`order.revived`), counts are recalculated.
- order.cancelled: the printing cascade (queued jobs cancelled on SimplyPrint
  and here, printing jobs flagged for review, completed parts scrap).
"""

from __future__ import annotations

import uuid

from sqlmodel import Session, func, select

from app.orders import machine
from app.orders import service as orders
from app.orders.models import LineItem, Order
from app.platform import retry
from app.platform.events import handles, publish
from app.platform.models import RetryEntry, utcnow
from app.platform.notifications import notify_staff
from app.printing import machine as print_machine
from app.printing.models import PrintJob

SOURCE = "order-service"
FAILED_LIKE = ("FAILED", "CANCELLED")


def _order(session: Session, event: dict) -> Order | None:
    if not event.get("orderId") or event.get("purpose", "ORDER") != "ORDER":
        return None  # STOCK jobs have no order
    return session.exec(select(Order).where(Order.id == uuid.UUID(event["orderId"])).with_for_update()).first()


def _statuses(session: Session, order_id: uuid.UUID) -> dict[uuid.UUID | None, list[str]]:
    out: dict[uuid.UUID | None, list[str]] = {}
    for line_id, status in session.exec(
        select(PrintJob.line_item_id, PrintJob.status).where(PrintJob.order_id == order_id, PrintJob.purpose == "ORDER")
    ).all():
        out.setdefault(line_id, []).append(status)
    return out


def _line_status(statuses: list[str], current: str) -> str:
    if not statuses:
        return current
    if all(s == "COMPLETED" for s in statuses):
        return "COMPLETED"
    failed = [s for s in statuses if s in FAILED_LIKE]
    if failed:
        return "FAILED" if len(failed) == len(statuses) else "PARTIALLY_COMPLETED"
    return "PRINTING"


def recalculate(session: Session, order: Order, *, failures: bool = False) -> dict[uuid.UUID | None, list[str]]:
    """Part counts of the order and its lines from the jobs; line statuses
    follow their jobs (a failure shows only when `failures`, i.e. on a failure
    event, so a revived line does not fall back because of another line's old
    failure)."""
    by_line = _statuses(session, order.id)
    lines = session.exec(select(LineItem).where(LineItem.order_id == order.id)).all()
    cancelled = order.status == "CANCELLED"  # what is not done of a cancelled order is cancelled
    for li in lines:
        statuses = by_line.get(li.id, [])
        if not statuses:
            if cancelled and li.status not in ("COMPLETED", "CANCELLED"):
                li.status = "CANCELLED"
                session.add(li)
            continue
        total, done = len(statuses), statuses.count("COMPLETED")
        target = _line_status(statuses, li.status)
        if target in ("FAILED", "PARTIALLY_COMPLETED") and not failures:
            target = li.status if li.status in ("FAILED", "PARTIALLY_COMPLETED") else "PRINTING"
        if cancelled and target != "COMPLETED":
            target = "CANCELLED"
        if (li.total_parts, li.completed_parts, li.status) != (total, done, target):
            li.total_parts, li.completed_parts, li.status = total, done, target
            session.add(li)
    all_statuses = [s for ss in by_line.values() for s in ss]
    total, done = len(all_statuses), all_statuses.count("COMPLETED")
    if (order.total_parts, order.completed_parts) != (total, done):
        order.total_parts, order.completed_parts = total, done
        order.updated_at = utcnow()
        session.add(order)
    return by_line


def _unproducible(session: Session, order: Order) -> bool:
    """A line with a problem (no SKU, no print mapping) keeps the order from
    going to fulfillment on its own: staff decide."""
    return (
        session.exec(
            select(func.count()).select_from(LineItem).where(LineItem.order_id == order.id, LineItem.problem != "")
        ).one()
        > 0
    )


def check_ready(session: Session, order: Order) -> bool:
    """All parts printed: fulfillment → ready and `order.ready-for-fulfillment`
    (once). True when this call made it ready."""
    if order.status == "CANCELLED" or not order.total_parts or order.completed_parts < order.total_parts:
        return False
    if order.fulfillment_status not in ("unfulfilled", "building", "testing") or _unproducible(session, order):
        return False
    if orders.fulfillment_problems(session, order, "ready"):  # e.g. a line whose plates are still generated
        return False
    if order.status in ("PENDING", "FAILED", "PARTIALLY_COMPLETED"):
        orders.change_status(session, order, "PROCESSING", reason="every part printed")
    orders.set_fulfillment_by_production(session, order, "ready", reason=f"all {order.total_parts} part(s) printed")
    publish(
        session, "order.ready-for-fulfillment", {"orderId": str(order.id), "orderNumber": order.number}, source=SOURCE
    )
    return True


@handles("print-job.completed", batch=True)
def on_print_jobs_completed(session: Session, events: list[dict]) -> None:
    """Part counts of each order whose prints finished, once per order however
    many of its prints are in the batch (orders locked in id order: two
    batches never wait on each other in a circle); ready when all are done."""
    order_ids = sorted({e["orderId"] for e in events if e.get("orderId") and e.get("purpose", "ORDER") == "ORDER"})
    for order_id in order_ids:
        order = _order(session, {"orderId": order_id})
        if order is None:
            continue
        recalculate(session, order)
        check_ready(session, order)


def _apply_failure(session: Session, order: Order) -> str | None:
    by_line = recalculate(session, order, failures=True)
    statuses = [s for ss in by_line.values() for s in ss]
    failed = [s for s in statuses if s in FAILED_LIKE]
    if not failed or order.status == "CANCELLED":
        return None
    target = "FAILED" if len(failed) == len(statuses) else "PARTIALLY_COMPLETED"
    if order.status != target and machine.can_change_status(order.status, target):
        orders.change_status(
            session, order, target, reason=f"{len(failed)} of {len(statuses)} print job(s) failed or were cancelled"
        )
    return target


@handles("print-job.failed")
def on_print_job_failed(session: Session, event: dict) -> None:
    order = _order(session, event)
    if order is None:
        return
    _apply_failure(session, order)
    if order.status != "CANCELLED":
        retry.schedule(
            session,
            "NOTIFICATION",
            order_id=order.id,
            payload={
                "kind": "print-job.failed",
                "severity": "ERROR",
                "printJobId": event["printJobId"],
                "title": f"A print for order {order.number} failed",
                "body": (event.get("errorMessage") or "The print failed")[:500]
                + ". Requeue it on the print farm when the printer is ready.",
                "link": "/printfarm",
                "permission": "printJobs.read",
            },
        )


@handles("print-job.cancelled")
def on_print_job_cancelled(session: Session, event: dict) -> None:
    order = _order(session, event)
    if order is None:
        return
    if order.status == "CANCELLED":
        recalculate(session, order)
        return
    _apply_failure(session, order)


def _is_revival(event: dict) -> bool:
    return print_machine.is_revival(event.get("previousStatus", ""), event.get("newStatus", ""))


@handles("print-job.status-changed", when=_is_revival)  # the relay skips every other status change
def on_print_job_status_changed(session: Session, event: dict) -> None:
    """Order revival: a terminal → active move of one of its jobs."""
    if not _is_revival(event):
        return
    order = _order(session, event)
    if order is None:
        return
    orders.revive(
        session,
        order,
        reason=(
            f"print job requeued ({print_machine.STATUS.label(event['previousStatus']).lower()} → "
            f"{print_machine.STATUS.label(event['newStatus']).lower()})"
        ),
        meta={"printJobId": event["printJobId"]},
    )
    recalculate(session, order)
    if event.get("lineItemId"):
        li = session.get(LineItem, uuid.UUID(event["lineItemId"]))
        if li is not None and li.status in ("FAILED", "PARTIALLY_COMPLETED", "COMPLETED", "PENDING", "CANCELLED"):
            li.status = "PRINTING"
            session.add(li)


@handles("order.cancelled")
def cancel_print_jobs(session: Session, event: dict) -> None:
    from app.printing import service as printing

    order = session.exec(select(Order).where(Order.id == uuid.UUID(event["orderId"])).with_for_update()).first()
    if order is None:
        return
    result = printing.cancel_jobs_for_order(session, order.id)
    recalculate(session, order)
    if result.cancelled or result.flagged or result.scrapped:
        orders.log_event(
            session,
            order,
            "order.print-jobs-cancelled",
            f"Printing: {len(result.cancelled)} job(s) cancelled, {len(result.flagged)} printing "
            f"job(s) flagged for review, {len(result.scrapped)} printed part(s) scrapped",
            severity="WARNING",
            meta={
                "cancelled": [str(i) for i in result.cancelled],
                "flagged": [str(i) for i in result.flagged],
                "scrapped": [str(i) for i in result.scrapped],
            },
        )
    if result.flagged:
        notify_staff(
            session,
            kind="print-job.needs-review",
            severity="WARNING",
            permission="printJobs.read",
            title=f"Order {order.number} was cancelled mid-print",
            body=f"{len(result.flagged)} job(s) are still printing: stop them or keep the parts.",
            link="/printfarm",
            order_id=order.id,
        )


@retry.operation("NOTIFICATION")
def send_notification(session: Session, entry: RetryEntry) -> None:
    """Retry queue NOTIFICATION: tell staff (payload: title, body, link,
    severity, kind, permission)."""
    p = entry.payload
    notify_staff(
        session,
        kind=p.get("kind", "notification"),
        title=p.get("title", "Shopfloor"),
        body=p.get("body", ""),
        link=p.get("link", ""),
        order_id=entry.order_id,
        severity=p.get("severity", "INFO"),
        permission=p.get("permission", "orders.read"),
    )
