"""A customer orders a baseplate on the storefront's Gridfinity page: one
order (a manual one, numbered M-…, as the shop's own sales are) with one
GRID-CUSTOM line whose properties carry the drawer size, magnets and
connector exactly as a Shopify line would, at the price the quote shows.
`order.created` then runs the same pipeline as a Shopify order."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from decimal import Decimal

from sqlmodel import Session

from app.builder.service import clean_address
from app.customers.service import normalise_email
from app.grid import parsing
from app.grid.geometry.spec import CONNECTOR_CODES, GRID_UNIT_MM, GridOptions
from app.grid.service.pipeline import mapping_name, on_bed
from app.grid.service.quotes import quote_with
from app.grid.service.settings import grid_settings
from app.orders import service as orders
from app.orders.inputs import LineInput, OrderInput
from app.orders.models import Order
from app.platform.errors import Conflict, ValidationFailed

CONNECTOR_WORDS = {"intersection-puzzle": "intersection puzzle", "edge-puzzle": "edge puzzle", "none": "none"}


def line_for(options: GridOptions) -> tuple[str, dict[str, str]]:
    """The SKU and line properties that describe these plates (what a
    Shopify product page for them would send)."""
    codes = {v: k for k, v in CONNECTOR_CODES.items()}
    units_x = max(1, int(options.drawer_width_mm // GRID_UNIT_MM))
    units_y = max(1, int(options.drawer_depth_mm // GRID_UNIT_MM))
    magnets = "MAG" if options.magnets != "none" else "NOMAG"
    sku = f"{parsing.SKU_PREFIX}-{units_x}x{units_y}-{magnets}-{codes[options.connector]}"
    properties = {
        "Drawer width (mm)": f"{options.drawer_width_mm:g}",
        "Drawer depth (mm)": f"{options.drawer_depth_mm:g}",
        "Magnets": options.magnets,
        "Connector": CONNECTOR_WORDS[options.connector],
    }
    return sku, properties


def place_storefront_order(
    session: Session,
    options: GridOptions,
    *,
    customer_name: str,
    customer_email: str,
    address: Mapping,
    quantity: int = 1,
    expected_price: Decimal | None = None,
    customer_id: uuid.UUID | None = None,
) -> Order:
    """Order the plates `options` describe on the shop's printer. Refused
    while the shop does not sell grids, for a drawer the shop does not make
    (the same words a Shopify line would get), an incomplete address
    (ValidationFailed naming each field), or — with `expected_price`, what
    the customer was shown — a price that changed meanwhile (Conflict
    price_changed)."""
    settings = grid_settings(session)
    if not settings.enabled:
        raise Conflict("custom Gridfinity baseplates are not on sale here at the moment", code="grid_disabled")
    if not 1 <= quantity <= 20:
        raise ValidationFailed("order 1 to 20 sets at a time", details={"fields": {"quantity": "1 to 20"}})
    name = " ".join((customer_name or "").split())
    if not name or len(name) > 200:
        raise ValidationFailed("enter your name", details={"fields": {"name": "enter your name"}})
    try:
        email = normalise_email(customer_email)
    except ValidationFailed:
        message = "enter a valid email address, so we can tell you about your order"
        raise ValidationFailed(message, details={"fields": {"email": message}}) from None
    ship = clean_address(address)
    profile = settings.profile()
    sku, properties = line_for(options)
    checked = parsing.parse_line(
        sku, properties, defaults=settings.defaults(), max_dimension_mm=settings.max_dimension_mm
    )  # the same rules as an order line from Shopify
    planned = on_bed(checked, profile)
    q = quote_with(session, planned, settings, profile)
    if q.problems:
        raise ValidationFailed("these plates cannot be printed here: " + "; ".join(q.problems))
    if expected_price is not None and expected_price != q.price:
        raise Conflict(
            "the price changed while you were ordering; check the new price and order again",
            code="price_changed",
            details={"price": str(q.price)},
        )
    title = mapping_name(planned)
    total = q.price * quantity
    order, _ = orders.create_order(
        session,
        OrderInput(
            source="manual",
            lines=[LineInput(sku=sku, title=title, quantity=quantity, unit_price=q.price, properties=properties)],
            customer_name=name,
            customer_email=email,
            customer_phone=ship.get("phone", ""),
            ship_name=ship.get("name") or name,
            ship_company=ship.get("company", ""),
            ship_street=ship.get("street", ""),
            ship_house_number=ship.get("house_number", ""),
            ship_address2=ship.get("address2", ""),
            ship_city=ship.get("city", ""),
            ship_postal_code=ship.get("postal_code", ""),
            ship_country_code=ship.get("country_code", ""),
            currency=q.currency,
            subtotal=total,
            total=total,
            note=f"Ordered on the storefront's Gridfinity page: {title}, {q.segments} plate(s).",
        ),
    )
    if customer_id is not None:
        order.customer_id = customer_id
        session.add(order)
    orders.log_event(
        session,
        order,
        "order.grid-storefront",
        f"Ordered by {email} on the storefront's Gridfinity page ({title}, {q.segments} plate(s))",
        meta={"customerId": str(customer_id) if customer_id else None, "sku": sku},
    )
    session.flush()
    return order
