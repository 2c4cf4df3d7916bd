"""Invariants of PC builds and their orders (`python -m app.cli check`): a
cancelled order's build is stopped, a PC order is only ready or later when its
build is completed, and a completed build passed QA."""

from __future__ import annotations

from sqlmodel import Session, col, select

from app.builds import service
from app.builds.models import Build
from app.orders.models import Order
from app.platform.checks import Finding

PRODUCED = ("ready", "packaging", "shipped", "completed")


def builds(session: Session) -> list[Finding]:
    findings: list[Finding] = []
    rows = session.exec(
        select(Order, Build).join(Build, col(Build.order_id) == col(Order.id)).order_by(col(Order.number))
    )
    with_build = set()
    for order, build in rows:
        with_build.add(order.id)
        subject = f"build for {order.number}"
        if order.status == "CANCELLED" and build.status != "cancelled":
            findings.append(Finding(subject, f"is {build.status} but its order is cancelled"))
        if build.status == "cancelled" and order.status != "CANCELLED":
            findings.append(Finding(subject, f"is cancelled but its order is {order.status}"))
        if order.status != "CANCELLED" and order.fulfillment_status in PRODUCED and build.status != "completed":
            findings.append(Finding(subject, f"is {build.status} but its order is {order.fulfillment_status}"))
        if build.status == "completed" and build.qa_passed_at is None and not build.qa_result:
            findings.append(Finding(subject, "is completed without a passed QA sign-off"))
    for order in session.exec(
        select(Order).where(
            Order.source == "builder", Order.status != "CANCELLED", col(Order.fulfillment_status).in_(PRODUCED)
        )
    ):
        if order.id not in with_build and service.needs_build(order):
            findings.append(Finding(f"order {order.number}", f"is {order.fulfillment_status} without its PC build"))
    return findings
