"""Invariants of print orders: an order's and its lines' statuses and part
counts agree with their print jobs (`python -m app.cli check`).

What orchestration keeps true after every event, stated once more so an
operator (and the tests, after the demo and the flows) can see any order
where it does not hold."""

from __future__ import annotations

import uuid
from collections import defaultdict

from sqlmodel import Session, col, select

from app.orders.models import LineItem, Order
from app.platform.checks import Finding
from app.printing.models import PrintJob

FAILED_LIKE = ("FAILED", "CANCELLED")
PRODUCED = ("ready", "packaging", "shipped", "completed")


def print_orders(session: Session) -> list[Finding]:
    jobs: dict[uuid.UUID, list[tuple[uuid.UUID | None, str]]] = defaultdict(list)
    for order_id, line_id, status in session.exec(
        select(PrintJob.order_id, PrintJob.line_item_id, PrintJob.status).where(PrintJob.purpose == "ORDER")
    ):
        if order_id is not None:
            jobs[order_id].append((line_id, status))
    suspects = set(jobs) | set(
        session.exec(
            select(Order.id).where(col(Order.status).in_(("FAILED", "PARTIALLY_COMPLETED", "COMPLETED", "CANCELLED")))
        )
    )
    findings: list[Finding] = []
    for order in session.exec(select(Order).where(col(Order.id).in_(suspects)).order_by(col(Order.number))):
        findings += _order(session, order, jobs.get(order.id, []))
    return findings


def _order(session: Session, order: Order, jobs: list[tuple[uuid.UUID | None, str]]) -> list[Finding]:
    subject = f"order {order.number}"
    out: list[Finding] = []
    statuses = [s for _, s in jobs]
    failed, done = sum(s in FAILED_LIKE for s in statuses), statuses.count("COMPLETED")
    if (order.total_parts, order.completed_parts) != (len(statuses), done):
        out.append(
            Finding(
                subject,
                f"counts {order.completed_parts} of {order.total_parts} parts printed; "
                f"its print jobs say {done} of {len(statuses)}",
            )
        )
    if order.status in ("FAILED", "PARTIALLY_COMPLETED") and not failed:
        out.append(Finding(subject, f"is {order.status} but none of its {len(statuses)} print job(s) failed"))
    if order.status == "FAILED" and statuses and failed < len(statuses) and done + failed == len(statuses):
        out.append(Finding(subject, f"is FAILED but {done} of its print jobs completed"))
    if order.status != "CANCELLED" and order.fulfillment_status in PRODUCED and done < len(statuses):
        out.append(Finding(subject, f"is {order.fulfillment_status} with {len(statuses) - done} part(s) not printed"))
    by_line: dict[uuid.UUID | None, list[str]] = defaultdict(list)
    for line_id, status in jobs:
        by_line[line_id].append(status)
    for li in session.exec(select(LineItem).where(LineItem.order_id == order.id)):
        line = f"{subject}, line {li.sku or li.title}"
        mine = by_line.get(li.id, [])
        if order.status == "COMPLETED" and li.status not in ("COMPLETED", "CANCELLED"):
            out.append(Finding(line, f"is {li.status} but the order is COMPLETED"))
        if order.status == "CANCELLED" and li.status in ("PENDING", "PRINTING"):
            out.append(Finding(line, f"is {li.status} but the order is CANCELLED"))
        if li.status in ("FAILED", "PARTIALLY_COMPLETED") and not any(s in FAILED_LIKE for s in mine):
            out.append(Finding(line, f"is {li.status} but none of its {len(mine)} print job(s) failed"))
        if mine and li.status == "COMPLETED" and any(s != "COMPLETED" for s in mine):
            out.append(Finding(line, "is COMPLETED but not all of its print jobs are"))
        if mine and (li.total_parts, li.completed_parts) != (len(mine), mine.count("COMPLETED")):
            out.append(
                Finding(
                    line,
                    f"counts {li.completed_parts} of {li.total_parts} parts; "
                    f"its print jobs say {mine.count('COMPLETED')} of {len(mine)}",
                )
            )
    return out
