"""Invariants of shipments an operator can check (`python -m app.cli check`):
a shipment and its order never contradict each other."""

from __future__ import annotations

from sqlmodel import Session, col, select

from app.orders.models import Order
from app.platform.checks import Finding
from app.shipping.models import Shipment


def shipments(session: Session) -> list[Finding]:
    findings: list[Finding] = []
    rows = session.exec(select(Shipment, Order).join(Order, col(Order.id) == col(Shipment.order_id))).all()
    for shipment, order in rows:
        where = f"order {order.number}"
        if shipment.status == "DELIVERED" and order.fulfillment_status not in ("completed",):
            findings.append(Finding(where, f"its parcel was delivered but fulfillment is {order.fulfillment_status}"))
        if shipment.status == "IN_TRANSIT" and order.fulfillment_status in ("unfulfilled", "ready", "packaging"):
            findings.append(Finding(where, f"its parcel is in transit but fulfillment is {order.fulfillment_status}"))
        if order.status == "CANCELLED" and shipment.status in ("LABEL_CREATED", "ANNOUNCED"):
            findings.append(Finding(where, "the order is cancelled but its label was not voided"))
        if shipment.label_attachment_id and not shipment.tracking_number and not shipment.manual:
            findings.append(Finding(where, "its label has no tracking number"))
    return findings
