"""Build event handlers: the order's fulfillment steps in the build's timeline."""

from __future__ import annotations

import uuid

from sqlmodel import Session

from app.builds import service
from app.platform.events import handles


def _packed_or_shipped(event: dict) -> bool:
    return event.get("newStatus") in ("packaging", "shipped")


@handles("order.fulfillment-changed", when=_packed_or_shipped)
def record_fulfillment(session: Session, event: dict) -> None:
    service.record_fulfillment_step(session, uuid.UUID(event["orderId"]), event["newStatus"])
