"""Order event handlers and the FULFILLMENT retry operation."""

from __future__ import annotations

import uuid

from sqlmodel import Session

from app.orders import shopify as shopify_domain
from app.orders.models import Order
from app.orders.service import log_event
from app.platform import retry
from app.platform.events import handles
from app.platform.models import RetryEntry
from app.platform.notifications import notify_staff


@handles("order.created")
def notify_new_order(session: Session, event: dict) -> None:
    order = session.get(Order, uuid.UUID(event["orderId"]))
    if order is None:
        return
    notify_staff(
        session,
        kind="order.created",
        title=f"New order {order.number}",
        body=f"{order.customer_name or 'A customer'} · {order.currency} {order.total}",
        link=f"/orders/{order.id}",
        order_id=order.id,
        severity="WARNING" if order.problems else "INFO",
    )


@handles("order.cancelled")
def notify_cancelled(session: Session, event: dict) -> None:
    order = session.get(Order, uuid.UUID(event["orderId"]))
    if order is None:
        return
    notify_staff(
        session,
        kind="order.cancelled",
        title=f"Order {order.number} cancelled",
        body=f"Reason: {event.get('reason') or 'other'} (via {event.get('via', 'staff')})",
        link=f"/orders/{order.id}",
        order_id=order.id,
        severity="WARNING",
    )


@retry.operation("FULFILLMENT")
def push_fulfillment(session: Session, entry: RetryEntry) -> None:
    """Create the Shopify fulfillment with tracking (contract §4)."""
    order = session.get(Order, entry.order_id)
    if order is None or not order.shopify_gid:
        return
    shop = shopify_domain.connection(session)
    if shop is None:
        raise RuntimeError("Shopify is not connected")
    client = shopify_domain.client_for(shop, transport_retries=0)  # the retry queue retries
    try:
        result = client.create_fulfillment(
            order.shopify_gid,
            number=entry.payload.get("trackingNumber") or "",
            url=entry.payload.get("trackingUrl") or "",
            company=entry.payload.get("carrier") or "",
        )
    finally:
        client.close()
    log_event(
        session,
        order,
        "order.shopify-fulfilled",
        f"Shopify fulfillment {result or 'already complete'} created with tracking "
        f"{entry.payload.get('trackingNumber') or '—'}",
    )
