"""Demo shipping for `make dev`: the shop is connected to the Sendcloud
stand-in (docker/Procfile.dev runs it on port 8302 with the keys below, and
its carrier picks parcels up a while after their label is made); the orders
the print farm demo shipped by hand keep their hand-written tracking, and
every order waiting on the packing bench has its label made by the worker,
through the real service."""

from __future__ import annotations

from sqlmodel import Session, col, select

from app.orders.models import Order
from app.platform.db import session_tenant_id
from app.platform.errors import DomainError
from app.platform.models import utcnow
from app.shipping import service
from app.shipping.models import SendcloudConnection

DEMO_STANDIN_URL = "http://127.0.0.1:8302"
DEMO_PUBLIC_KEY = "demo-sendcloud-public-key"
DEMO_SECRET_KEY = "demo-sendcloud-secret-key"
DEMO_SHIPPING_METHOD = (8, "PostNL Standard 0-23kg")
DEMO_SERVICE_POINT_METHOD = (1343, "PostNL Service Point 0-23kg")


def load(session: Session) -> None:
    if session.exec(select(SendcloudConnection)).first() is not None:
        return
    # Shipped by hand before the shop connected Sendcloud.
    for order in session.exec(
        select(Order).where(col(Order.fulfillment_status).in_(("shipped", "completed"))).order_by(col(Order.placed_at))
    ).all():
        service.record_manual(session, order)
        if order.fulfillment_status == "completed":
            service.deliver_manual(session, order)
    session.add(
        SendcloudConnection(
            tenant_id=session_tenant_id(session),
            public_key=DEMO_PUBLIC_KEY,
            secret_key=DEMO_SECRET_KEY,
            api_base_url=DEMO_STANDIN_URL,
            shipping_method_id=DEMO_SHIPPING_METHOD[0],
            shipping_method_name=DEMO_SHIPPING_METHOD[1],
            service_point_method_id=DEMO_SERVICE_POINT_METHOD[0],
            service_point_method_name=DEMO_SERVICE_POINT_METHOD[1],
            sender_address="Demo Shop, Oudegracht 100, 3511 AX Utrecht, NL",
            connected_at=utcnow(),
        )
    )
    session.flush()
    for order in session.exec(
        select(Order)
        .where(col(Order.fulfillment_status).in_(("ready", "packaging")), Order.status != "CANCELLED")
        .order_by(col(Order.placed_at))
    ).all():
        try:
            service.request_label(session, order, reason="demo")
        except DomainError:
            continue  # a PC before its packaging checks: staff make its label
    session.commit()
