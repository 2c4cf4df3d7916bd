"""Order event handlers and the FULFILLMENT retry operation."""

from __future__ import annotations

import uuid

from sqlmodel import Session, col, select

from app.integrations.shopify import ShopifyClient
from app.orders import shopify as shopify_domain
from app.orders.home import new_order_title
from app.orders.models import Order
from app.orders.service import log_event
from app.platform import retry, tasks
from app.platform.events import handles
from app.platform.formatting import of_tenant
from app.platform.models import RetryEntry
from app.platform.notifications import notify_staff


@handles("order.created")
def notify_new_order(session: Session, event: dict) -> None:
    order = session.get(Order, uuid.UUID(event["orderId"]))
    if order is None or order.status == "COMPLETED":  # shipped history (a backfill of past orders): no new work
        return
    notify_staff(
        session,
        kind="order.created",
        title=new_order_title(order),
        body=of_tenant(order.tenant_id).money(order.total, order.currency),
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
        title=f"Order {order.number} from {order.customer_name or 'a customer'} cancelled",
        body=f"Reason: {event.get('reason') or 'other'} (via {event.get('via', 'staff')})",
        link=f"/orders/{order.id}",
        order_id=order.id,
        severity="WARNING",
    )


@retry.operation("FULFILLMENT")
def push_fulfillment(session: Session, entry: RetryEntry) -> None:
    """Shopify hears of the order's tracking (contract §4), the entry's
    payload {trackingNumber, trackingUrl, carrier, notifyCustomer?}: the first
    entry creates the fulfillment with it and keeps the fulfillment's id on
    the order; every later entry (the tracking changed) updates that
    fulfillment's tracking. Entries of one order run one at a time, and the id
    is committed before the next may look, so two entries never make two
    fulfillments; an entry a newer one has overtaken (it failed, and the
    newer one ran meanwhile) sends nothing, so old tracking never comes back."""
    with tasks.advisory_lock(f"shopify-fulfillment:{entry.order_id}"):
        order = session.get(Order, entry.order_id)
        if order is None or not order.shopify_gid or _overtaken(session, entry):
            return
        shop = shopify_domain.connection(session)
        if shop is None:
            raise RuntimeError("Shopify is not connected")
        number = entry.payload.get("trackingNumber") or ""
        url = entry.payload.get("trackingUrl") or ""
        carrier = entry.payload.get("carrier") or ""
        client = shopify_domain.client_for(shop, transport_retries=0)  # the retry queue retries
        try:
            if order.shopify_fulfillment_id:
                _update_tracking(session, client, order, entry, number, url, carrier)
            else:
                _create_fulfillment(session, client, order, entry, number, url, carrier)
        finally:
            client.close()
        session.commit()


def _overtaken(session: Session, entry: RetryEntry) -> bool:
    """A newer FULFILLMENT entry of the order has run (or is running, waiting
    for this one's lock): its tracking is the one Shopify should keep."""
    newer = session.exec(
        select(RetryEntry.id).where(
            RetryEntry.order_id == entry.order_id,
            RetryEntry.job_type == "FULFILLMENT",
            col(RetryEntry.status).in_(("PROCESSING", "COMPLETED")),
            RetryEntry.created_at > entry.created_at,
        )
    ).first()
    return newer is not None


def _shown(number: str, carrier: str) -> str:
    return " ".join(p for p in (carrier, number) if p) or "—"


def _create_fulfillment(
    session: Session, client: ShopifyClient, order: Order, entry: RetryEntry, number: str, url: str, carrier: str
) -> None:
    result = client.create_fulfillment(order.shopify_gid or "", number=number, url=url, company=carrier)
    if result.fulfillment_id is None:
        log_event(
            session,
            order,
            "order.shopify-fulfilled",
            f"Shopify had nothing open to fulfil for this order, so tracking {_shown(number, carrier)} "
            "was not sent to it",
            severity="WARNING",
        )
        return
    order.shopify_fulfillment_id = result.fulfillment_id
    session.add(order)
    if result.created:
        log_event(
            session,
            order,
            "order.shopify-fulfilled",
            f"Shopify fulfillment created with tracking {_shown(number, carrier)}",
            meta={"fulfillmentId": result.fulfillment_id, "trackingNumber": number, "trackingUrl": url},
        )
        return
    log_event(
        session,
        order,
        "order.shopify-fulfilled",
        "Shopify had already fulfilled this order; its tracking follows this order from now on",
        meta={"fulfillmentId": result.fulfillment_id},
    )
    if number and number not in result.tracking_numbers:  # e.g. fulfilled in Shopify's admin without tracking
        _update_tracking(session, client, order, entry, number, url, carrier)


def _update_tracking(
    session: Session, client: ShopifyClient, order: Order, entry: RetryEntry, number: str, url: str, carrier: str
) -> None:
    if not (number or url or carrier):
        return  # nothing to tell Shopify
    client.update_fulfillment_tracking(
        order.shopify_fulfillment_id,
        number=number,
        url=url,
        company=carrier,
        notify_customer=bool(entry.payload.get("notifyCustomer", False)),
    )
    log_event(
        session,
        order,
        "order.shopify-tracking-updated",
        f"Tracking updated in Shopify: {_shown(number, carrier)}",
        meta={"fulfillmentId": order.shopify_fulfillment_id, "trackingNumber": number, "trackingUrl": url},
    )
