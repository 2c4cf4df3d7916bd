"""What an incoming order looks like before it becomes rows, whatever its source.

Every door (the REST API, the staff pages, Shopify, the storefront) builds
one of these, so the limits on free-form text live here, once: a value that
breaks one is refused with a message naming the field and its limit, before
anything is stored. The limits match the columns; properties are a small
name → value list on a line (engraving text, a chosen colour), so they get a
size a person could type, not the megabytes one request could carry. NUL
characters, which PostgreSQL text cannot hold, are dropped."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from decimal import Decimal

from app.platform.errors import ValidationFailed
from app.platform.text import bounded, bounded_mapping, strip_nul

MAX_NAME = 200
MAX_NOTE = 2000
MAX_PROPERTIES = 50
MAX_PROPERTY_NAME = 100
MAX_PROPERTY_VALUE = 500
MAX_LINES = 500
# Amounts are stored with 12 digits, 2 after the point.
MAX_AMOUNT = Decimal("9999999999.99")
MAX_QUANTITY = 100_000

# field → (what people call it, at most this many characters)
LINE_LIMITS = {
    "sku": ("SKU", 100),
    "title": ("Title", 300),
    "variant_title": ("Variant", 200),
    "shopify_line_item_id": ("Shopify line id", 30),
}
# (The country code is left to the field checks of the order forms, which
# explain its two letters better than a length could.)
ORDER_LIMITS = {
    "customer_name": ("Customer name", MAX_NAME),
    "customer_email": ("Email", 254),
    "customer_phone": ("Phone", 50),
    "ship_name": ("Ship to name", MAX_NAME),
    "ship_company": ("Company", MAX_NAME),
    "ship_street": ("Street", MAX_NAME),
    "ship_house_number": ("House number", 30),
    "ship_address2": ("Address line 2", MAX_NAME),
    "ship_city": ("City", 100),
    "ship_postal_code": ("Postal code", 20),
    "delivery_type": ("Delivery type", 20),
    "currency": ("Currency", 3),
    "note": ("Note", MAX_NOTE),
    "shopify_order_id": ("Shopify order id", 30),
    "shopify_gid": ("Shopify order reference", 80),
    "name": ("Order name", 40),
    "financial_status": ("Payment status", 30),
    "cancel_reason": ("Cancel reason", 50),
}


def _clean_text(obj: object, limits: dict[str, tuple[str, int]], prefix: str = "") -> None:
    for f in fields(obj):  # pyright: ignore[reportArgumentType]
        value = getattr(obj, f.name)
        if isinstance(value, str):
            value = strip_nul(value)
            setattr(obj, f.name, value)
            if f.name in limits:
                label, limit = limits[f.name]
                bounded(value, prefix + label, limit)


def fitted(values: dict, limits: dict[str, tuple[str, int]], what: str = "") -> tuple[dict, list[str]]:
    """For orders the shop cannot refuse (Shopify's: placed and paid already):
    `values` with each text cut to its limit and the properties to their size,
    and the names of what was cut, for the order's problems. Refusing such an
    order would lose it; cutting keeps it and says so."""
    out, cut = dict(values), []
    for name, (label, limit) in limits.items():
        value = out.get(name)
        if isinstance(value, str) and len(value) > limit:
            out[name] = value[:limit]
            cut.append(what + label)
    props = out.get("properties")
    if isinstance(props, dict):
        kept = {
            str(k)[:MAX_PROPERTY_NAME]: v[:MAX_PROPERTY_VALUE] if isinstance(v, str) else v
            for k, v in list(props.items())[:MAX_PROPERTIES]
        }
        if kept != props:
            cut.append(what + "Properties")
        out["properties"] = kept
    return out, cut


def check_amount(value: Decimal, label: str) -> Decimal:
    """`value` unchanged, or a 422 naming the field and the largest amount."""
    if not value.is_finite():
        raise ValidationFailed(f"{label}: must be a number", code="invalid_amount")
    if abs(value) > MAX_AMOUNT:
        raise ValidationFailed(f"{label}: at most {MAX_AMOUNT:,} (this one is {value:,})", code="amount_too_large")
    return value


@dataclass
class LineInput:
    sku: str
    title: str
    quantity: int
    unit_price: Decimal = Decimal("0")
    variant_title: str = ""
    properties: dict = field(default_factory=dict)
    shopify_line_item_id: str | None = None

    def __post_init__(self) -> None:
        _clean_text(self, LINE_LIMITS, "Line ")
        check_amount(self.unit_price, "Line price")
        if abs(self.quantity) > MAX_QUANTITY:
            raise ValidationFailed(f"Line quantity: at most {MAX_QUANTITY:,}", code="quantity_too_large")
        self.properties = {
            strip_nul(str(k)): strip_nul(v) if isinstance(v, str) else v for k, v in self.properties.items()
        }
        bounded_mapping(
            self.properties,
            "Line properties",
            max_entries=MAX_PROPERTIES,
            max_key=MAX_PROPERTY_NAME,
            max_value=MAX_PROPERTY_VALUE,
        )


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

    def __post_init__(self) -> None:
        _clean_text(self, ORDER_LIMITS)
        for label, amount in (("Subtotal", self.subtotal), ("Shipping", self.shipping_total), ("Total", self.total)):
            check_amount(amount, label)
        if len(self.lines) > MAX_LINES:
            raise ValidationFailed(f"Lines: at most {MAX_LINES} on one order", code="too_many_lines")
        bounded_mapping(self.service_point, "Service point", max_entries=30, max_key=100, max_value=500)
