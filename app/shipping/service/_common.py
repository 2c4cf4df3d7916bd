"""What the parts of the shipping service share: its event source, live
updates, and the order/shipment timeline entries."""

from __future__ import annotations

from sqlmodel import Session

from app.platform import live

SOURCE = "shipping-service"
LIVE_KIND = "shipping"


def changed(session: Session, order_id: object | None = None) -> None:
    """Open shipping pages (and the order's page) refresh after commit."""
    live.notify_after_commit(session, LIVE_KIND)
    if order_id is not None:
        live.notify_after_commit(session, "orders", orderId=str(order_id))
