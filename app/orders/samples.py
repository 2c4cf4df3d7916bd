"""Shopify-shaped sample orders: the REST Order JSON a webhook carries
(../shared/contracts/shopify.md §3), deterministic for a given number and seed.

The demo data (app/orders/demo.py) builds its Shopify orders here, and so does the offline
Shopify stand-in, which serves them through its Admin API.
"""

from __future__ import annotations

import hashlib
import random
import re
import unicodedata
from datetime import UTC, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

__all__ = ["CATALOGUE", "DEFAULT_TOKEN", "gid", "make_order"]

# The Admin API access token the Shopify stand-in accepts unless told otherwise (the demo shop's).
DEFAULT_TOKEN = "shpat_standin_token"


def gid(kind: str, legacy_id: int | str) -> str:
    """``gid://shopify/<Type>/<int>`` (contract §7.7)."""
    return f"gid://shopify/{kind}/{legacy_id}"


def _money(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


# sku -> (title, variant_title, unit price, grams, product_id, variant_id)
CATALOGUE: dict[str, tuple[str, str | None, str, int, int, int]] = {
    "BENCHY-PLA-RED": ("Benchy", "Red / PLA", "8.95", 30, 8123456789, 44123456789),
    "GRID-2x3-MAG-NONE": ("Gridfinity baseplate 2×3", "No magnets", "12.50", 140, 8123456790, 44123456790),
    "PLANTER-S-WHITE": ("Self-watering planter", "S / White", "14.95", 210, 8123456791, 44123456791),
    "CABLE-CLIP-10": ("Cable clips (10-pack)", "Black", "4.50", 25, 8123456792, 44123456792),
    "LITHO-FRAME-A5": ("Lithophane frame", "A5 / Oak look", "24.00", 180, 8123456793, 44123456793),
    "HOOK-PEGBOARD-6": ("Pegboard hooks (6-pack)", None, "6.95", 60, 8123456794, 44123456794),
}

_FIRST_NAMES = [
    "Ada",
    "Jan",
    "Sanne",
    "Lukas",
    "Anna",
    "Pieter",
    "Lotte",
    "Jonas",
    "Emma",
    "Thomas",
    "Fleur",
    "Maximilian",
    "Elif",
    "Bram",
    "Sophie",
    "Wouter",
]
_LAST_NAMES = [
    "Lovelace",
    "de Vries",
    "Jansen",
    "Müller",
    "Schmidt",
    "Peeters",
    "Janssens",
    "Bakker",
    "van Dijk",
    "Schneider",
    "Maes",
    "Visser",
    "Fischer",
    "Claes",
    "de Boer",
    "Weber",
]

# (street, city, zip, province, province_code, country, country_code, phone prefix, shipping)
_ADDRESSES: list[tuple[str, str, str, str | None, str | None, str, str, str, str]] = [
    ("Stationsstraat", "Utrecht", "3511 AB", None, None, "Netherlands", "NL", "+316", "4.95"),
    ("Oudegracht", "Utrecht", "3511 AR", None, None, "Netherlands", "NL", "+316", "4.95"),
    ("Kerkstraat", "Amsterdam", "1017 GB", None, None, "Netherlands", "NL", "+316", "4.95"),
    ("Lange Voorhout", "Den Haag", "2514 EA", None, None, "Netherlands", "NL", "+316", "4.95"),
    ("Vismarkt", "Groningen", "9711 KV", None, None, "Netherlands", "NL", "+316", "4.95"),
    ("Hauptstraße", "Berlin", "10115", "Berlin", "BE", "Germany", "DE", "+49151", "6.95"),
    ("Schillerstraße", "München", "80336", "Bavaria", "BY", "Germany", "DE", "+49160", "6.95"),
    ("Am Rathaus", "Köln", "50667", "North Rhine-Westphalia", "NW", "Germany", "DE", "+49170", "6.95"),
    ("Veldstraat", "Gent", "9000", None, None, "Belgium", "BE", "+324", "6.95"),
    ("Meir", "Antwerpen", "2000", None, None, "Belgium", "BE", "+324", "6.95"),
    ("Rue de la Loi", "Bruxelles", "1000", None, None, "Belgium", "BE", "+324", "6.95"),
]

_DEFAULT_EPOCH = datetime(2026, 5, 1, 9, 0, tzinfo=timezone(timedelta(hours=2)))
_FREE_SHIPPING_FROM = Decimal("50.00")


def _ascii_slug(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text.replace("ß", "ss")).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]", "", folded.lower())


def _iso(value: datetime) -> str:
    return value.isoformat(timespec="seconds")


def make_order(
    n: int,
    *,
    created_at: datetime | None = None,
    skus: list[tuple[str, int, str]] | None = None,
    currency: str = "EUR",
    email: str | None = None,
    cancelled: bool = False,
    seed: int | str | None = None,
) -> dict[str, Any]:
    """A realistic REST Order JSON (contract §3), deterministic for a given ``n``/``seed``.

    ``skus`` is a list of ``(sku, quantity, title)``; the unit price, variant and weight come from
    ``CATALOGUE`` for known SKUs and are derived from the SKU otherwise. Without ``skus`` one to
    three catalogue items are picked. ``created_at`` defaults to 2026-05-01 09:00 +02:00 plus
    47 minutes per ``n`` (a naive datetime is taken as UTC). ``cancelled`` sets ``cancelled_at``,
    ``cancel_reason`` "customer" and ``financial_status`` "refunded"; otherwise it is "paid".
    """
    rng = random.Random(f"shopify-standin:{seed}:{n}")
    created = created_at if created_at is not None else _DEFAULT_EPOCH + timedelta(minutes=47 * n)
    if created.tzinfo is None:
        created = created.replace(tzinfo=UTC)
    updated = created + timedelta(seconds=rng.randint(1, 30))

    order_id = 5_940_139_000_000 + n * 1000 + rng.randrange(1000)
    number = 1000 + n

    first_name = rng.choice(_FIRST_NAMES)
    last_name = rng.choice(_LAST_NAMES)
    mail = email or f"{_ascii_slug(first_name)}.{_ascii_slug(last_name)}{n}@example.com"
    street, city, zip_code, province, province_code, country, country_code, phone_prefix, ship = rng.choice(_ADDRESSES)
    house_number = str(rng.randint(1, 240)) + rng.choice(["", "", "", "A", "-2", "b"])
    phone = phone_prefix + "".join(str(rng.randint(0, 9)) for _ in range(8))
    address: dict[str, Any] = {
        "first_name": first_name,
        "last_name": last_name,
        "name": f"{first_name} {last_name}",
        "company": rng.choice([None, None, None, "Makerspace Noord", "Fab Lab Gent"]),
        "address1": f"{street} {house_number}",
        "address2": rng.choice([None, None, None, "2nd floor", "Apt 3"]),
        "city": city,
        "province": province,
        "province_code": province_code,
        "zip": zip_code,
        "country": country,
        "country_code": country_code,
        "phone": phone,
        "latitude": None,
        "longitude": None,
    }

    if skus is None:
        picked = rng.sample(sorted(CATALOGUE), k=rng.randint(1, 3))
        lines_in = [(sku, rng.randint(1, 3), CATALOGUE[sku][0]) for sku in picked]
    else:
        lines_in = list(skus)

    line_items: list[dict[str, Any]] = []
    subtotal = Decimal("0")
    weight = 0
    for index, (sku, quantity, title) in enumerate(lines_in):
        known = CATALOGUE.get(sku)
        if known is not None:
            _, variant_title, price, grams, product_id, variant_id = known
        else:
            digest = int(hashlib.sha256(sku.encode()).hexdigest()[:8], 16)
            variant_title = None
            price = _money(Decimal(500 + digest % 2500) / 100)
            grams = 20 + digest % 300
            product_id = 8_100_000_000 + digest % 10_000_000
            variant_id = 44_100_000_000 + digest % 10_000_000
        line_id = 13_811_211_000_000 + (order_id % 1_000_000_000) * 10 + index
        properties = (
            [{"name": "Engraving", "value": (first_name[0] + last_name[0]).upper()}] if rng.random() < 0.2 else []
        )
        subtotal += Decimal(price) * quantity
        weight += grams * quantity
        line_items.append(
            {
                "id": line_id,
                "admin_graphql_api_id": gid("LineItem", line_id),
                "product_id": product_id,
                "variant_id": variant_id,
                "sku": sku,
                "title": title,
                "variant_title": variant_title,
                "name": f"{title} - {variant_title}" if variant_title else title,
                "quantity": quantity,
                "current_quantity": quantity,
                "fulfillable_quantity": 0 if cancelled else quantity,
                "fulfillment_status": None,
                "fulfillment_service": "manual",
                "requires_shipping": True,
                "grams": grams,
                "price": price,
                "vendor": "Shopfloor Prints",
                "properties": properties,
            }
        )

    shipping = Decimal("0.00") if subtotal >= _FREE_SHIPPING_FROM else Decimal(ship)
    cancelled_at = _iso(created + timedelta(hours=2)) if cancelled else None
    if cancelled:
        updated = created + timedelta(hours=2)
    customer_id = 7_390_000_000 + n

    return {
        "id": order_id,
        "admin_graphql_api_id": gid("Order", order_id),
        "name": f"#{number}",
        "order_number": number,
        "email": mail,
        "contact_email": mail,
        "phone": None,
        "created_at": _iso(created),
        "updated_at": _iso(updated),
        "processed_at": _iso(created),
        "cancelled_at": cancelled_at,
        "cancel_reason": "customer" if cancelled else None,
        "closed_at": None,
        "financial_status": "refunded" if cancelled else "paid",
        "fulfillment_status": None,
        "currency": currency,
        "total_price": _money(subtotal + shipping),
        "subtotal_price": _money(subtotal),
        "total_weight": weight,
        "test": False,
        "note": rng.choice([None, None, None, "Please ship fast", "Gift, no invoice please"]),
        "note_attributes": [],
        "tags": "",
        "customer": {
            "id": customer_id,
            "email": mail,
            "first_name": first_name,
            "last_name": last_name,
            "phone": phone,
        },
        "shipping_address": address,
        "billing_address": dict(address),
        "shipping_lines": [
            {
                "id": 4_412_000_000 + n,
                "title": "Standard",
                "code": "Standard",
                "price": _money(shipping),
                "source": "shopify",
            }
        ],
        "line_items": line_items,
        "fulfillments": [],
    }
