"""Shipping event handlers. Each runs once per event (app.platform.events
records (event, handler) in the handler's own transaction) and is idempotent
on its own, so a replay changes nothing.

Published by this domain (payloads per seed 003):
- shipment.created          {shipmentId, orderId, trackingNumber, trackingUrl, carrier}
- shipment.status-changed   {shipmentId, orderId, previousStatus, newStatus, message}
- integration.sendcloud-changed {action: connected | disconnected}
"""

from __future__ import annotations

import uuid

from sqlmodel import Session

from app.orders import service as orders
from app.orders.models import Order
from app.platform.db import session_tenant_id
from app.platform.errors import InvalidTransition
from app.platform.events import handles
from app.platform.formatting import of_tenant
from app.platform.notifications import notify_staff
from app.shipping import service


@handles("order.ready-for-fulfillment")
def create_shipment(session: Session, event: dict) -> None:
    """Every part is printed: the order's label is made (CreateShipment). An
    order a label cannot be made for shows why, and staff hear of it."""
    order = session.get(Order, uuid.UUID(event["orderId"]))
    if order is None:
        return
    try:
        service.request_label(session, order, reason="all parts printed")
    except InvalidTransition as exc:
        problem = f"No shipping label: {exc.message.removeprefix('cannot make a label yet: ')}"
        if orders.add_problem(session, order, problem):
            notify_staff(
                session,
                kind="shipment.problem",
                severity="WARNING",
                title=f"Order {order.number} needs a label by hand",
                body=problem,
                link=f"/orders/{order.id}",
                order_id=order.id,
                permission="shipping.read",
            )


@handles("order.fulfillment-changed")
def follow_fulfillment(session: Session, event: dict) -> None:
    """An order shipped or delivered by hand (manual mode) has its parcel
    recorded, so the tracking board and the order's shipment agree."""
    order = session.get(Order, uuid.UUID(event["orderId"]))
    if order is None:
        return
    if event.get("newStatus") == "shipped":
        shipment = service.shipment_for_order(session, order.id)
        if shipment is None or shipment.status in ("PENDING", "FAILED", "CANCELLED"):
            service.record_manual(session, order)
    elif event.get("newStatus") == "completed":
        service.deliver_manual(session, order)


@handles("shipment.created")
def render_packing_slip(session: Session, event: dict) -> None:
    """The label is made: its packing slip is rendered now, beside it, so the
    packing bench's batch PDF only joins files."""
    service.store_slip(session, event["shipmentId"], of_tenant(session_tenant_id(session)))


@handles("integration.sendcloud-changed")
def reinitialise_client(session: Session, event: dict) -> None:
    """IntegrationReinitialization: every web and worker process builds a
    fresh client (or none) at its next use."""
    service.bump_version(session_tenant_id(session))
