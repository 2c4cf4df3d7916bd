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
DEMO_SHOP_DOMAIN = "demo-shop.myshopify.com"  # the stand-in's shop


def load(session: Session) -> None:
    if session.exec(select(func.count()).select_from(Order)).one():
        return

    tid = session_tenant_id(session)
    if session.exec(select(ShopifyShop)).first() is None:
        session.add(
            ShopifyShop(
                tenant_id=tid,
                shop_domain=DEMO_SHOP_DOMAIN,
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
    # Printed, shipped, failed and partly failed orders come from their print jobs:
    # the print farm's demo moves them through the real services (app/printing/demo.py),
    # never a status set here.
    for idx in (14, 15):
        service.cancel(session, orders[idx].id, actor=None, reason="customer")
    session.commit()
