"""Demo orders for `make dev`: Shopify orders (app/orders/samples.py, the payloads the stand-in
serves too, through the real mapping and service), manual orders, and every fulfillment state."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlmodel import Session, func, select

from app.orders import service, shopify_orders
from app.orders.inputs import LineInput, OrderInput
from app.orders.models import Order, ShopifyShop
from app.orders.samples import DEFAULT_TOKEN, make_order
from app.platform.db import session_tenant_id

DEMO_STANDIN_URL = "http://127.0.0.1:8300"  # docker/Procfile.dev runs the stand-in there
DEMO_WEBHOOK_SECRET = "demo-webhook-secret"


def load(session: Session) -> None:
    if session.exec(select(func.count()).select_from(Order)).one():
        return

    tid = session_tenant_id(session)
    if session.exec(select(ShopifyShop)).first() is None:
        session.add(
            ShopifyShop(
                tenant_id=tid,
                shop_domain="demo-shop.myshopify.com",
                api_base_url=DEMO_STANDIN_URL,
                access_token=DEFAULT_TOKEN,
                webhook_secret=DEMO_WEBHOOK_SECRET,
            )
        )
    now = datetime.now(UTC)
    orders = []
    for n in range(1, 49):
        placed = now - timedelta(days=29) + timedelta(hours=14.5 * n)
        payload = make_order(900 + n, created_at=placed, seed="demo")
        if n == 7:
            payload["line_items"][0]["sku"] = None  # shows what a problem looks like
        order, _ = service.create_order(session, shopify_orders.order_from_rest(payload))
        orders.append(order)
    for i, (name, city, item, price) in enumerate(
        [
            ("Jan de Vries", "Utrecht", "Custom gaming PC (Ryzen 7, RTX 4070)", "1849.00"),
            ("Sophie Müller", "Köln", "Workstation build (Threadripper)", "4290.00"),
            ("Lucas Peeters", "Gent", "Silent office PC", "749.00"),
        ]
    ):
        orders.append(
            service.create_order(
                session,
                OrderInput(
                    source="manual",
                    customer_name=name,
                    ship_name=name,
                    ship_city=city,
                    ship_street="Marktplein",
                    ship_house_number=str(3 + i),
                    ship_postal_code="1000",
                    ship_country_code="NL" if i == 0 else "DE" if i == 1 else "BE",
                    customer_email=f"{name.split()[0].lower()}@example.com",
                    total=Decimal(price),
                    subtotal=Decimal(price),
                    placed_at=now - timedelta(days=2 - i),
                    lines=[LineInput(sku=f"PC-{i + 1:03d}", title=item, quantity=1, unit_price=Decimal(price))],
                ),
            )[0]
        )
    session.flush()
    # walk some orders through fulfillment so every state shows
    plan = {
        0: "completed",
        1: "completed",
        2: "shipped",
        3: "shipped",
        4: "packaging",
        5: "packaging",
        6: "ready",
        8: "ready",
        9: "ready",
    }
    steps = ["ready", "packaging", "shipped", "completed"]
    for idx, final in plan.items():
        for step in steps[: steps.index(final) + 1]:
            tracking = service.Tracking(f"3SDEMO{idx:05d}", f"https://tracking.example/3SDEMO{idx:05d}", "PostNL")
            service.advance_fulfillment(
                session, orders[idx].id, step, actor=None, tracking=tracking if step == "shipped" else None
            )
    for idx in (10, 11):
        service.change_status(session, orders[idx], "PROCESSING", reason="printing")
    service.change_status(session, orders[12], "PROCESSING")
    service.change_status(session, orders[12], "PARTIALLY_COMPLETED", reason="one print failed")
    service.change_status(session, orders[13], "FAILED", reason="all prints failed")
    for idx in (14, 15):
        service.cancel(session, orders[idx].id, actor=None, reason="customer")
    # shipped Shopify orders would push fulfillments to the demo stand-in; drop those retries
    from app.platform.models import RetryEntry

    for entry in session.exec(select(RetryEntry)):
        session.delete(entry)
    session.info.pop("retry_pending", None)
    session.commit()
