"""What an incoming order looks like before it becomes rows, whatever its source."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal


@dataclass
class LineInput:
    sku: str
    title: str
    quantity: int
    unit_price: Decimal = Decimal("0")
    variant_title: str = ""
    properties: dict = field(default_factory=dict)
    shopify_line_item_id: str | None = None


@dataclass
class OrderInput:
    source: str  # shopify | builder | manual
    lines: list[LineInput]
    customer_name: str = ""
    customer_email: str = ""
    customer_phone: str = ""
    ship_name: str = ""
    ship_company: str = ""
    ship_street: str = ""
    ship_house_number: str = ""
    ship_address2: str = ""
    ship_city: str = ""
    ship_postal_code: str = ""
    ship_country_code: str = ""
    delivery_type: str = "home"
    service_point: dict = field(default_factory=dict)
    currency: str = "EUR"
    subtotal: Decimal = Decimal("0")
    shipping_total: Decimal = Decimal("0")
    total: Decimal = Decimal("0")
    note: str = ""
    placed_at: datetime | None = None
    shopify_order_id: str | None = None
    shopify_gid: str | None = None
    name: str | None = None
    financial_status: str | None = None
    source_updated_at: datetime | None = None
    cancelled_at: datetime | None = None
    cancel_reason: str = ""
    problems: list[str] = field(default_factory=list)
