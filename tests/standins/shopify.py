"""Offline stand-in for the Shopify Admin API (GraphQL) plus webhook helpers.

Follows /work/shared/contracts/shopify.md. What each piece copies from the contract:

* ``POST /admin/api/{version}/graphql.json`` (§1, §7.1): ``{version}`` must be ``YYYY-MM`` or
  ``unstable`` (anything else is a 404). A missing or wrong ``X-Shopify-Access-Token`` gets HTTP
  401 with ``{"errors": "[API] Invalid API key or access token (unrecognized login or wrong
  password)"}``. Every answer echoes the path version in ``X-Shopify-API-Version`` (§7.4) and,
  apart from 401/404/400, carries ``extensions.cost`` with ``throttleStatus`` (§6, §7.3).
  There is no GraphQL parser: the operation is recognised by its text (§7.2):

  - ``fulfillmentCreate(`` (also ``fulfillmentCreateV2(``) -> the mutation of §4 step 2, reading
    ``variables.fulfillment``. Business errors come back as HTTP 200 with
    ``data.fulfillmentCreate.userErrors`` (``{field: [...], message}``, §1 error shapes): unknown
    or repeated fulfillment order, fulfillment orders of different orders, a fulfillment-order line
    item that is not part of that fulfillment order ("wrong order"), status other than
    OPEN/IN_PROGRESS (e.g. CLOSED), and a quantity above ``remainingQuantity`` (over-fulfilment,
    field path and message as in the contract). Omitting ``fulfillmentOrderLineItems`` fulfils
    everything remaining. A fulfillment order whose lines are all fulfilled becomes CLOSED,
    otherwise IN_PROGRESS. ``trackingInfo`` on the returned ``Fulfillment`` is a list.
    The REST order is updated too (``fulfillment_status``, ``fulfillable_quantity``,
    ``fulfillments``, ``updated_at``), and the fulfillment is recorded in ``self.fulfillments``.
  - ``orders(`` -> the backfill connection of §5. Variables: ``cursor`` (or ``after``), ``first``
    (else a literal ``first: N`` in the query text, else 50; outside 1..250 is a GraphQL error) and
    ``q`` (or ``query``). Search syntax supported: ``created_at`` / ``updated_at`` with
    ``>=``, ``>``, ``<=``, ``<``, ``:`` (equality) on an ISO date or datetime, optionally quoted
    (a bare date means midnight UTC), and ``financial_status:<value>``; unknown terms are ignored.
    Always sorted by ``updatedAt`` ascending (``sortKey: UPDATED_AT``) with the numeric order id as
    tie-breaker; cursors are opaque base64 keyset cursors (``{"last_id", "last_value"}`` like
    Shopify's), so pages stay consistent while orders are added.
  - ``order(`` -> §4 step 1: the order node (all fields below) plus ``fulfillmentOrders.nodes``;
    the id comes from ``variables.id`` or an inline ``order(id: "gid://...")``. Unknown id ->
    ``{"data": {"order": null}}``.
  - anything else -> HTTP 200 with a top-level GraphQL ``errors`` list (§1 error shapes).

  Order nodes always contain every field our client asks for, whatever the query selects:
  ``id`` (GID), ``legacyResourceId`` (string), ``name``, ``email``, ``phone``, ``createdAt`` /
  ``updatedAt`` / ``cancelledAt`` (UTC, ``...Z``), ``cancelReason``, ``displayFinancialStatus``
  (``PAID``...), ``displayFulfillmentStatus`` (``UNFULFILLED``/``PARTIALLY_FULFILLED``/
  ``FULFILLED``), ``currencyCode``, ``totalPriceSet { shopMoney { amount currencyCode } }``,
  ``subtotalPriceSet { shopMoney { amount currencyCode } }``,
  ``customer { firstName lastName email phone }``, ``shippingAddress { name firstName lastName
  company address1 address2 city province provinceCode zip country countryCodeV2 phone }`` and
  ``lineItems { nodes { id sku quantity title variantTitle variant { id legacyResourceId }
  customAttributes { key value } originalUnitPriceSet { shopMoney { amount currencyCode } } } }``.
  Connections are returned whole (no nested paging).

* Throttle mode (§6): while ``throttle_next > 0`` each authenticated GraphQL request decrements it
  and gets the THROTTLED body (``errors[0].extensions.code == "THROTTLED"``, ``actualQueryCost``
  null, ``requestedQueryCost - currentlyAvailable == restoreRate * throttle_wait``) with HTTP
  ``throttle_status`` (429 by default, 200 allowed since the contract marks it [U]); a 429 also
  carries ``Retry-After: <throttle_wait>``.

* One fulfillment order per order (§4), OPEN at location ``gid://shopify/Location/7771``
  ("Print farm"), CANCELLED for cancelled orders, CLOSED when nothing is left to fulfil.
  GIDs are ``gid://shopify/<Type>/<int>`` and ``legacyResourceId`` the int as a string (§7.7).

* ``make_order`` builds REST Order JSON as in §3 (the webhook payload); ``sign``,
  ``webhook_headers`` and ``send_webhook`` implement the delivery side of §2 (base64
  HMAC-SHA256 of the exact body bytes; a fresh ``X-Shopify-Webhook-Id`` unless one is given,
  reusing it simulates a retry).

* Not implemented: the legacy REST routes (§5 REST, §7.5) and OAuth client credentials.

Standalone: ``python -m tests.standins.shopify --port 8300 --orders 40``.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import copy
import hashlib
import hmac
import json
import random
import re
import threading
import time
import unicodedata
import uuid
from datetime import UTC, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from types import TracebackType
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.standins.server import ThreadedServer

__all__ = [
    "API_VERSION",
    "CATALOGUE",
    "DEFAULT_TOKEN",
    "INVALID_TOKEN_BODY",
    "LOCATION_GID",
    "ShopifyStandin",
    "gid",
    "make_order",
    "order_node",
    "seeded_standin",
    "send_webhook",
    "sign",
    "webhook_headers",
]

API_VERSION = "2026-07"
DEFAULT_TOKEN = "shpat_standin_token"
DEFAULT_SHOP_DOMAIN = "standin-shop.myshopify.com"
INVALID_TOKEN_BODY = {
    "errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"
}
LOCATION_ID = 7771
LOCATION_GID = f"gid://shopify/Location/{LOCATION_ID}"
LOCATION_NAME = "Print farm"
THROTTLE_DOCS = "https://shopify.dev/api/usage/rate-limits"

_VERSION_RE = re.compile(r"^(\d{4}-(01|04|07|10)|unstable)$")
_FULFILLMENT_CREATE_RE = re.compile(r"\b(fulfillmentCreate(?:V2)?)\s*\(")
_ORDERS_RE = re.compile(r"\borders\s*\(")
_ORDER_RE = re.compile(r"\border\s*\(")
_INLINE_FIRST_RE = re.compile(r"\borders\s*\([^)]*?\bfirst\s*:\s*(\d+)")
_INLINE_ORDER_ID_RE = re.compile(r"\border\s*\(\s*id\s*:\s*\"([^\"]+)\"")
_SEARCH_TERM_RE = re.compile(
    r"\b(created_at|updated_at)\s*:\s*(>=|<=|>|<|=)?\s*['\"]?([0-9T:\-+.Z]+)['\"]?", re.IGNORECASE
)
_FINANCIAL_TERM_RE = re.compile(r"\bfinancial_status\s*:\s*['\"]?([A-Za-z_]+)['\"]?", re.IGNORECASE)


def gid(kind: str, legacy_id: int | str) -> str:
    """``gid://shopify/<Type>/<int>`` (contract §7.7)."""
    return f"gid://shopify/{kind}/{legacy_id}"


def _gid_int(value: str | int) -> int | None:
    """The integer at the end of a GID (or a bare id); None if there is none."""
    tail = str(value).rsplit("/", 1)[-1]
    return int(tail) if tail.isdigit() else None


def _parse_time(value: str) -> datetime:
    """ISO date or datetime -> aware UTC datetime (a bare date means midnight UTC)."""
    parsed = datetime.fromisoformat(value.strip())
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _utc_z(value: str | None) -> str | None:
    """REST timestamp (with offset) -> GraphQL DateTime (UTC, ``Z``)."""
    if value is None:
        return None
    return _parse_time(value).strftime("%Y-%m-%dT%H:%M:%SZ")


def _now_z() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _money(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def _money_set(amount: str | None, currency: str) -> dict[str, Any]:
    return {"shopMoney": {"amount": amount, "currencyCode": currency}}


# ---------------------------------------------------------------------------------------------
# Webhook side (contract §2)
# ---------------------------------------------------------------------------------------------


def sign(body: bytes, secret: str) -> str:
    """``base64(HMAC-SHA256(key=secret, msg=body))`` — the ``X-Shopify-Hmac-Sha256`` value."""
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def webhook_headers(
    body: bytes,
    *,
    topic: str,
    secret: str,
    shop_domain: str = DEFAULT_SHOP_DOMAIN,
    webhook_id: str | None = None,
    event_id: str | None = None,
    api_version: str = API_VERSION,
    triggered_at: datetime | None = None,
    name: str | None = None,
) -> dict[str, str]:
    """All headers Shopify sends with a webhook delivery (contract §2), signed over ``body``.

    ``webhook_id`` defaults to a fresh uuid (a new delivery); pass the previous one to simulate a
    retry of that delivery. ``name`` fills the optional ``X-Shopify-Name``.
    """
    fired = (triggered_at or datetime.now(UTC)).astimezone(UTC)
    headers = {
        "Content-Type": "application/json",
        "X-Shopify-Topic": topic,
        "X-Shopify-Hmac-Sha256": sign(body, secret),
        "X-Shopify-Shop-Domain": shop_domain,
        "X-Shopify-API-Version": api_version,
        "X-Shopify-Webhook-Id": webhook_id or str(uuid.uuid4()),
        "X-Shopify-Triggered-At": fired.isoformat(timespec="microseconds").replace("+00:00", "Z"),
        "X-Shopify-Event-Id": event_id or str(uuid.uuid4()),
    }
    if name is not None:
        headers["X-Shopify-Name"] = name
    return headers


def send_webhook(
    url: str,
    topic: str,
    payload: dict[str, Any],
    secret: str,
    *,
    webhook_id: str | None = None,
    event_id: str | None = None,
    shop_domain: str = DEFAULT_SHOP_DOMAIN,
    api_version: str = API_VERSION,
    triggered_at: datetime | None = None,
    client: httpx.Client | None = None,
    timeout: float = 5.0,
) -> httpx.Response:
    """POST ``payload`` to ``url`` like Shopify does: serialised once, those exact bytes signed."""
    body = json.dumps(payload, separators=(",", ":")).encode("utf-8")
    headers = webhook_headers(
        body,
        topic=topic,
        secret=secret,
        shop_domain=shop_domain,
        webhook_id=webhook_id,
        event_id=event_id,
        api_version=api_version,
        triggered_at=triggered_at,
    )
    if client is not None:
        return client.post(url, content=body, headers=headers)
    return httpx.post(url, content=body, headers=headers, timeout=timeout)


# ---------------------------------------------------------------------------------------------
# Order builder (contract §3)
# ---------------------------------------------------------------------------------------------

# sku -> (title, variant_title, unit price, grams, product_id, variant_id)
CATALOGUE: dict[str, tuple[str, str | None, str, int, int, int]] = {
    "BENCHY-PLA-RED": ("Benchy", "Red / PLA", "8.95", 30, 8123456789, 44123456789),
    "GRID-2x3-MAG-NONE": ("Gridfinity baseplate 2×3", "No magnets", "12.50", 140, 8123456790, 44123456790),
    "PLANTER-S-WHITE": ("Self-watering planter", "S / White", "14.95", 210, 8123456791, 44123456791),
    "CABLE-CLIP-10": ("Cable clips (10-pack)", "Black", "4.50", 25, 8123456792, 44123456792),
    "LITHO-FRAME-A5": ("Lithophane frame", "A5 / Oak look", "24.00", 180, 8123456793, 44123456793),
    "HOOK-PEGBOARD-6": ("Pegboard hooks (6-pack)", None, "6.95", 60, 8123456794, 44123456794),
}

_FIRST_NAMES = ["Ada", "Jan", "Sanne", "Lukas", "Anna", "Pieter", "Lotte", "Jonas", "Emma", "Thomas",
                "Fleur", "Maximilian", "Elif", "Bram", "Sophie", "Wouter"]
_LAST_NAMES = ["Lovelace", "de Vries", "Jansen", "Müller", "Schmidt", "Peeters", "Janssens", "Bakker",
               "van Dijk", "Schneider", "Maes", "Visser", "Fischer", "Claes", "de Boer", "Weber"]

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
    street, city, zip_code, province, province_code, country, country_code, phone_prefix, ship = (
        rng.choice(_ADDRESSES)
    )
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
            [{"name": "Engraving", "value": (first_name[0] + last_name[0]).upper()}]
            if rng.random() < 0.2 else []
        )
        subtotal += Decimal(price) * quantity
        weight += grams * quantity
        line_items.append({
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
        })

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
        "shipping_lines": [{
            "id": 4_412_000_000 + n,
            "title": "Standard",
            "code": "Standard",
            "price": _money(shipping),
            "source": "shopify",
        }],
        "line_items": line_items,
        "fulfillments": [],
    }


_FULFILLMENT_STATUS_DISPLAY = {None: "UNFULFILLED", "partial": "PARTIALLY_FULFILLED",
                               "fulfilled": "FULFILLED", "restocked": "RESTOCKED"}


def order_node(order: dict[str, Any]) -> dict[str, Any]:
    """The GraphQL ``Order`` node (contract §3 "GraphQL equivalents", §5) for a REST order."""
    currency = order.get("currency") or "EUR"
    address = order.get("shipping_address")
    customer = order.get("customer")
    financial = order.get("financial_status")
    return {
        "id": order.get("admin_graphql_api_id") or gid("Order", order["id"]),
        "legacyResourceId": str(order["id"]),
        "name": order.get("name"),
        "email": order.get("email"),
        "phone": order.get("phone"),
        "createdAt": _utc_z(order.get("created_at")),
        "updatedAt": _utc_z(order.get("updated_at")),
        "cancelledAt": _utc_z(order.get("cancelled_at")),
        "cancelReason": (order.get("cancel_reason") or "").upper() or None,
        "displayFinancialStatus": financial.upper() if financial else None,
        "displayFulfillmentStatus": _FULFILLMENT_STATUS_DISPLAY.get(
            order.get("fulfillment_status"), str(order.get("fulfillment_status")).upper()
        ),
        "currencyCode": currency,
        "totalPriceSet": _money_set(order.get("total_price"), currency),
        "subtotalPriceSet": _money_set(order.get("subtotal_price"), currency),
        "customer": None if not customer else {
            "firstName": customer.get("first_name"),
            "lastName": customer.get("last_name"),
            "email": customer.get("email"),
            "phone": customer.get("phone"),
        },
        "shippingAddress": None if not address else {
            "name": address.get("name"),
            "firstName": address.get("first_name"),
            "lastName": address.get("last_name"),
            "company": address.get("company"),
            "address1": address.get("address1"),
            "address2": address.get("address2"),
            "city": address.get("city"),
            "province": address.get("province"),
            "provinceCode": address.get("province_code"),
            "zip": address.get("zip"),
            "country": address.get("country"),
            "countryCodeV2": address.get("country_code"),
            "phone": address.get("phone"),
        },
        "lineItems": {"nodes": [_line_item_node(line, currency) for line in order.get("line_items", [])]},
    }


def _line_item_node(line: dict[str, Any], currency: str) -> dict[str, Any]:
    variant_id = line.get("variant_id")
    return {
        "id": line.get("admin_graphql_api_id") or gid("LineItem", line["id"]),
        "sku": line.get("sku"),
        "quantity": line.get("quantity"),
        "title": line.get("title"),
        "variantTitle": line.get("variant_title"),
        "variant": None if variant_id is None else {
            "id": gid("ProductVariant", variant_id),
            "legacyResourceId": str(variant_id),
        },
        "customAttributes": [{"key": p.get("name"), "value": p.get("value")}
                             for p in line.get("properties") or []],
        "originalUnitPriceSet": _money_set(line.get("price"), currency),
    }


def _order_sort_key(order: dict[str, Any]) -> tuple[datetime, int]:
    return _parse_time(order["updated_at"]), int(order["id"])


def _encode_cursor(order: dict[str, Any]) -> str:
    key = {"last_id": int(order["id"]), "last_value": _utc_z(order["updated_at"])}
    return base64.urlsafe_b64encode(json.dumps(key, separators=(",", ":")).encode()).decode()


def _decode_cursor(cursor: str) -> tuple[datetime, int]:
    padded = cursor + "=" * (-len(cursor) % 4)
    key = json.loads(base64.urlsafe_b64decode(padded.encode()))
    return _parse_time(key["last_value"]), int(key["last_id"])


def _matches_search(order: dict[str, Any], q: str | None) -> bool:
    """Shopify search syntax, the subset described in the module docstring."""
    if not q:
        return True
    for field, op, raw in _SEARCH_TERM_RE.findall(q):
        try:
            bound = _parse_time(raw)
        except ValueError:
            continue  # unparseable value: ignore the term, as with unknown terms
        value = _parse_time(order[field.lower()])
        ok = {
            ">=": value >= bound, ">": value > bound, "<=": value <= bound, "<": value < bound,
        }.get(op, value == bound)
        if not ok:
            return False
    for status in _FINANCIAL_TERM_RE.findall(q):
        if (order.get("financial_status") or "").lower() != status.lower():
            return False
    return True


def _user_error(field: list[str], message: str) -> dict[str, Any]:
    return {"field": field, "message": message}


# ---------------------------------------------------------------------------------------------
# The stand-in server
# ---------------------------------------------------------------------------------------------


class ShopifyStandin:
    """In-memory Shopify shop with a GraphQL Admin endpoint (see the module docstring).

    State and knobs are plain attributes; tests may change them between requests. Handlers run
    on the uvicorn thread and take ``self.lock`` while touching state.
    """

    def __init__(
        self,
        orders: list[dict[str, Any]] | None = None,
        *,
        access_token: str = DEFAULT_TOKEN,
        api_version: str = API_VERSION,
        throttle_status: int = 429,
        restore_rate: float = 100.0,
        maximum_available: float = 2000.0,
        page_delay: float = 0.0,
    ) -> None:
        self.orders: list[dict[str, Any]] = []
        self.access_token = access_token
        self.api_version = api_version
        # knobs
        self.throttle_next: int = 0
        self.throttle_status: int = throttle_status
        self.throttle_wait: float = 0.3
        self.restore_rate: float = restore_rate
        self.maximum_available: float = maximum_available
        self.page_delay: float = page_delay
        # counters / records for assertions
        self.requests: int = 0  # authenticated GraphQL requests, throttled ones included
        self.throttled: int = 0
        self.unauthorized: int = 0
        self.calls: list[dict[str, Any]] = []  # {"query", "variables"} per authenticated request
        self.fulfillment_orders: dict[int, dict[str, Any]] = {}  # order id -> fulfillment order
        self.fulfillments: list[dict[str, Any]] = []

        self.lock = threading.RLock()
        self._ids = 0
        self._http: ThreadedServer | None = None
        self.base_url: str | None = None
        self.app = Starlette(routes=[
            Route("/admin/api/{version}/graphql.json", self._graphql, methods=["POST"]),
            Route("/_standin/health", self._health, methods=["GET"]),
        ])
        for order in orders or []:
            self.add_order(order)

    # -- state -------------------------------------------------------------------------------

    def _next_id(self) -> int:
        self._ids += 1
        return self._ids

    def add_order(self, order: dict[str, Any]) -> dict[str, Any]:
        """Add (or replace, matching on ``id``) a REST order; gives it a fulfillment order."""
        with self.lock:
            for index, existing in enumerate(self.orders):
                if existing["id"] == order["id"]:
                    self.orders[index] = order
                    break
            else:
                self.orders.append(order)
            fo = self.fulfillment_orders.get(order["id"])
            if fo is None:
                fo = self._new_fulfillment_order(order)
                self.fulfillment_orders[order["id"]] = fo
            if order.get("cancelled_at"):
                fo["status"] = "CANCELLED"
            return order

    def _new_fulfillment_order(self, order: dict[str, Any]) -> dict[str, Any]:
        fo_id = 6_630_000_000 + self._next_id()
        lines = []
        for line in order.get("line_items", []):
            total = int(line.get("quantity") or 0)
            remaining = int(line.get("fulfillable_quantity", total) or 0)
            lines.append({
                "id": gid("FulfillmentOrderLineItem", 9_990_000 + self._next_id()),
                "remainingQuantity": remaining,
                "totalQuantity": total,
                "lineItem": {"id": line.get("admin_graphql_api_id") or gid("LineItem", line["id"]),
                             "sku": line.get("sku")},
            })
        if order.get("cancelled_at"):
            status = "CANCELLED"
        elif lines and all(li["remainingQuantity"] == 0 for li in lines):
            status = "CLOSED"
        else:
            status = "OPEN"
        return {
            "id": gid("FulfillmentOrder", fo_id),
            "orderId": order.get("admin_graphql_api_id") or gid("Order", order["id"]),
            "status": status,
            "requestStatus": "UNSUBMITTED",
            "assignedLocation": {"location": {"id": LOCATION_GID, "name": LOCATION_NAME}},
            "lineItems": {"nodes": lines},
        }

    def find_order(self, order_id: int | str) -> dict[str, Any] | None:
        """The REST order for a numeric id or an Order GID."""
        wanted = _gid_int(order_id)
        with self.lock:
            return next((o for o in self.orders if int(o["id"]) == wanted), None)

    def fulfillment_order_for(self, order_id: int | str) -> dict[str, Any] | None:
        order = self.find_order(order_id)
        return None if order is None else self.fulfillment_orders.get(order["id"])

    # -- HTTP --------------------------------------------------------------------------------

    @property
    def graphql_url(self) -> str:
        if self.base_url is None:
            raise RuntimeError("stand-in not started")
        return f"{self.base_url}/admin/api/{self.api_version}/graphql.json"

    def _cost(self, requested: int, actual: int | None) -> dict[str, Any]:
        available = self.maximum_available - (actual or 0)
        return {"cost": {
            "requestedQueryCost": requested,
            "actualQueryCost": actual,
            "throttleStatus": {
                "maximumAvailable": float(self.maximum_available),
                "currentlyAvailable": int(available) if available == int(available) else available,
                "restoreRate": float(self.restore_rate),
            },
        }}

    async def _health(self, request: Request) -> Response:
        return JSONResponse({"ok": True})

    async def _graphql(self, request: Request) -> Response:
        version = request.path_params["version"]
        version_header = {"X-Shopify-API-Version": version}
        if not _VERSION_RE.match(version):
            return JSONResponse({"errors": "Not Found"}, status_code=404, headers=version_header)
        token = request.headers.get("x-shopify-access-token")
        if not token or not hmac.compare_digest(token, self.access_token):
            with self.lock:
                self.unauthorized += 1
            return JSONResponse(INVALID_TOKEN_BODY, status_code=401, headers=version_header)
        try:
            body = json.loads(await request.body())
            query = body["query"]
            variables = body.get("variables") or {}
            if not isinstance(query, str) or not isinstance(variables, dict):
                raise TypeError
        except (ValueError, KeyError, TypeError):
            return JSONResponse({"errors": {"query": "Required parameter missing or invalid"}},
                                status_code=400, headers=version_header)

        with self.lock:
            self.requests += 1
            self.calls.append({"query": query, "variables": copy.deepcopy(variables)})
            throttle = self.throttle_next > 0
            if throttle:
                self.throttle_next -= 1
                self.throttled += 1
        if throttle:
            return self._throttled_response(version_header)

        mutation = _FULFILLMENT_CREATE_RE.search(query)
        if mutation:
            with self.lock:
                payload = self._fulfillment_create(variables)
            data: dict[str, Any] = {mutation.group(1): payload}
            cost = self._cost(10, 10)
        elif _ORDERS_RE.search(query):
            try:
                data, requested, actual = self._orders_page(query, variables)
            except ValueError as exc:
                return self._graphql_error(str(exc), version_header)
            if self.page_delay > 0:
                await asyncio.sleep(self.page_delay)
            cost = self._cost(requested, actual)
        elif _ORDER_RE.search(query):
            data = {"order": self._order_with_fulfillment_orders(query, variables)}
            cost = self._cost(27, 9)
        else:
            return self._graphql_error(
                "Stand-in does not understand this operation (supported: orders, order, "
                "fulfillmentCreate)", version_header, code="undefinedField",
            )
        return JSONResponse({"data": data, "extensions": cost}, headers=version_header)

    def _graphql_error(self, message: str, headers: dict[str, str], *,
                       code: str = "argumentLiteralsIncompatible") -> Response:
        body = {
            "errors": [{"message": message, "locations": [{"line": 1, "column": 1}],
                        "extensions": {"code": code}}],
            "extensions": self._cost(1, 0),
        }
        return JSONResponse(body, headers=headers)

    def _throttled_response(self, version_header: dict[str, str]) -> Response:
        available = 10
        requested = available + max(1, round(self.restore_rate * self.throttle_wait))
        body = {
            "errors": [{"message": "Throttled",
                        "extensions": {"code": "THROTTLED", "documentation": THROTTLE_DOCS}}],
            "extensions": {"cost": {
                "requestedQueryCost": requested,
                "actualQueryCost": None,
                "throttleStatus": {"maximumAvailable": float(self.maximum_available),
                                   "currentlyAvailable": available,
                                   "restoreRate": float(self.restore_rate)},
            }},
        }
        headers = dict(version_header)
        if self.throttle_status == 429:
            headers["Retry-After"] = f"{self.throttle_wait:g}"
        return JSONResponse(body, status_code=self.throttle_status, headers=headers)

    # -- operations --------------------------------------------------------------------------

    def _orders_page(self, query: str, variables: dict[str, Any]) -> tuple[dict[str, Any], int, int]:
        first_raw = variables.get("first")
        if first_raw is None:
            inline = _INLINE_FIRST_RE.search(query)
            first_raw = inline.group(1) if inline else 50
        try:
            first = int(first_raw)
        except (TypeError, ValueError):
            raise ValueError("Argument 'first' on Field 'orders' has an invalid value") from None
        if not 1 <= first <= 250:
            raise ValueError("Argument 'first' on Field 'orders' must be between 1 and 250")
        q = variables.get("q", variables.get("query"))
        cursor = variables.get("cursor", variables.get("after"))
        after: tuple[datetime, int] | None = None
        if cursor:
            try:
                after = _decode_cursor(str(cursor))
            except (ValueError, KeyError, TypeError):
                raise ValueError("Invalid cursor for current pagination sort.") from None

        with self.lock:
            matching = sorted((o for o in self.orders if _matches_search(o, q)), key=_order_sort_key)
            if after is not None:
                matching = [o for o in matching if _order_sort_key(o) > after]
            page = matching[:first]
            nodes = [order_node(o) for o in page]
        has_next = len(matching) > first
        data = {"orders": {
            "pageInfo": {"hasNextPage": has_next,
                         "endCursor": _encode_cursor(page[-1]) if page else None},
            "nodes": nodes,
        }}
        line_cost = sum(len(n["lineItems"]["nodes"]) for n in nodes)
        requested = min(1000, 2 + first * 3)
        actual = 2 + len(nodes) * 2 + line_cost
        return data, requested, actual

    def _order_with_fulfillment_orders(self, query: str, variables: dict[str, Any]) -> dict[str, Any] | None:
        wanted = variables.get("id")
        if wanted is None:
            inline = _INLINE_ORDER_ID_RE.search(query)
            wanted = inline.group(1) if inline else None
        if wanted is None:
            return None
        with self.lock:
            order = self.find_order(str(wanted))
            if order is None:
                return None
            node = order_node(order)
            fo = copy.deepcopy(self.fulfillment_orders[order["id"]])
        fo.pop("orderId", None)
        node["fulfillmentOrders"] = {"nodes": [fo]}
        return node

    def _fulfillment_create(self, variables: dict[str, Any]) -> dict[str, Any]:
        """``fulfillmentCreate`` (contract §4 step 2). Caller holds ``self.lock``."""
        fulfillment_in = variables.get("fulfillment") or {}
        pairs = fulfillment_in.get("lineItemsByFulfillmentOrder") or []
        base = ["fulfillment", "lineItemsByFulfillmentOrder"]
        errors: list[dict[str, Any]] = []
        if not pairs:
            errors.append(_user_error(base, "Line items by fulfillment order must not be empty"))

        fo_by_gid = {fo["id"]: fo for fo in self.fulfillment_orders.values()}
        seen: set[str] = set()
        order_gid: str | None = None
        plan: list[tuple[dict[str, Any], int]] = []  # (fo line item, quantity)
        for i, pair in enumerate(pairs):
            path = [*base, str(i)]
            fo_id = str(pair.get("fulfillmentOrderId") or "")
            fo = fo_by_gid.get(fo_id)
            if fo is None:
                errors.append(_user_error([*path, "fulfillmentOrderId"], "Fulfillment order does not exist."))
                continue
            if fo_id in seen:
                errors.append(_user_error([*path, "fulfillmentOrderId"],
                                          "Fulfillment order ids must be unique."))
                continue
            seen.add(fo_id)
            if order_gid is None:
                order_gid = fo["orderId"]
            elif fo["orderId"] != order_gid:
                errors.append(_user_error([*path, "fulfillmentOrderId"],
                                          "All fulfillment orders must belong to the same order."))
                continue
            if fo["status"] not in ("OPEN", "IN_PROGRESS"):
                errors.append(_user_error([*path, "fulfillmentOrderId"],
                                          f"Fulfillment order {fo_id} has an unfulfillable status= "
                                          f"{fo['status'].lower()}."))
                continue
            fo_lines = {li["id"]: li for li in fo["lineItems"]["nodes"]}
            requested_lines = pair.get("fulfillmentOrderLineItems")
            if requested_lines is None:
                plan.extend((li, li["remainingQuantity"]) for li in fo_lines.values()
                            if li["remainingQuantity"] > 0)
                continue
            for j, item in enumerate(requested_lines):
                item_path = [*path, "fulfillmentOrderLineItems", str(j)]
                fo_line = fo_lines.get(str(item.get("id") or ""))
                if fo_line is None:
                    errors.append(_user_error([*item_path, "id"],
                                              "Fulfillment order line item does not belong to the "
                                              "fulfillment order."))
                    continue
                quantity = int(item.get("quantity") or 0)
                if quantity <= 0:
                    errors.append(_user_error([*item_path, "quantity"],
                                              "Quantity must be greater than 0"))
                elif quantity > fo_line["remainingQuantity"]:
                    errors.append(_user_error([*item_path, "quantity"],
                                              "Quantity must be less than or equal to the remaining "
                                              "quantity"))
                else:
                    plan.append((fo_line, quantity))

        tracking_in = fulfillment_in.get("trackingInfo") or {}
        if tracking_in.get("number") and tracking_in.get("numbers"):
            errors.append(_user_error(["fulfillment", "trackingInfo"],
                                      "Cannot specify both number and numbers."))
        if tracking_in.get("url") and tracking_in.get("urls"):
            errors.append(_user_error(["fulfillment", "trackingInfo"],
                                      "Cannot specify both url and urls."))
        if not errors and not plan:
            errors.append(_user_error(base, "There are no remaining line items to fulfill."))
        if errors:
            return {"fulfillment": None, "userErrors": errors}

        for fo_line, quantity in plan:
            fo_line["remainingQuantity"] -= quantity
        for fo_id in seen:
            fo = fo_by_gid[fo_id]
            done = all(li["remainingQuantity"] == 0 for li in fo["lineItems"]["nodes"])
            fo["status"] = "CLOSED" if done else "IN_PROGRESS"

        numbers = tracking_in.get("numbers") or ([tracking_in["number"]] if tracking_in.get("number") else [])
        urls = tracking_in.get("urls") or ([tracking_in["url"]] if tracking_in.get("url") else [])
        company = tracking_in.get("company")
        tracking = [{"company": company, "number": num, "url": urls[k] if k < len(urls) else None}
                    for k, num in enumerate(numbers)]
        if not tracking and (company or urls):
            tracking = [{"company": company, "number": None, "url": urls[0] if urls else None}]

        fulfillment_id = 5_550_000 + self._next_id()
        created_at = _now_z()
        fulfillment = {
            "id": gid("Fulfillment", fulfillment_id),
            "status": "SUCCESS",
            "createdAt": created_at,
            "trackingInfo": tracking,
        }
        self.fulfillments.append({
            **fulfillment,
            "orderId": order_gid,
            "notifyCustomer": bool(fulfillment_in.get("notifyCustomer", False)),
            "lineItems": [{"id": li["id"], "lineItemId": li["lineItem"]["id"], "sku": li["lineItem"]["sku"],
                           "quantity": qty} for li, qty in plan],
        })
        self._apply_to_rest_order(order_gid, plan, fulfillment_id, tracking, created_at)
        return {"fulfillment": copy.deepcopy(fulfillment), "userErrors": []}

    def _apply_to_rest_order(self, order_gid: str | None, plan: list[tuple[dict[str, Any], int]],
                             fulfillment_id: int, tracking: list[dict[str, Any]], created_at: str) -> None:
        order = self.find_order(order_gid) if order_gid else None
        if order is None:
            return
        by_gid = {line.get("admin_graphql_api_id") or gid("LineItem", line["id"]): line
                  for line in order.get("line_items", [])}
        for fo_line, quantity in plan:
            line = by_gid.get(fo_line["lineItem"]["id"])
            if line is not None:
                line["fulfillable_quantity"] = max(0, int(line.get("fulfillable_quantity", 0)) - quantity)
                line["fulfillment_status"] = "fulfilled" if line["fulfillable_quantity"] == 0 else "partial"
        remaining = sum(int(line.get("fulfillable_quantity", 0)) for line in order.get("line_items", []))
        order["fulfillment_status"] = "fulfilled" if remaining == 0 else "partial"
        first = tracking[0] if tracking else {}
        order.setdefault("fulfillments", []).append({
            "id": fulfillment_id,
            "admin_graphql_api_id": gid("Fulfillment", fulfillment_id),
            "order_id": order["id"],
            "status": "success",
            "created_at": created_at,
            "location_id": LOCATION_ID,
            "tracking_company": first.get("company"),
            "tracking_number": first.get("number"),
            "tracking_numbers": [t["number"] for t in tracking if t.get("number")],
            "tracking_url": first.get("url"),
            "tracking_urls": [t["url"] for t in tracking if t.get("url")],
        })
        order["updated_at"] = datetime.now(UTC).isoformat(timespec="seconds")

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> str:
        """Serve on 127.0.0.1 (free port) in a background thread; returns the base URL."""
        if self.base_url is not None:
            return self.base_url
        self._http = ThreadedServer(self.app, name="shopify-standin", health_path="/_standin/health")
        base = self._http.url
        self.base_url = base
        return base

    def stop(self) -> None:
        if self._http is not None:
            self._http.stop()
            self._http = None
        self.base_url = None

    def __enter__(self) -> ShopifyStandin:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


# ---------------------------------------------------------------------------------------------
# Standalone
# ---------------------------------------------------------------------------------------------


def _amsterdam(moment: datetime) -> datetime:
    """Roughly Europe/Amsterdam: +02:00 from April to October, +01:00 otherwise."""
    return moment.astimezone(timezone(timedelta(hours=2 if 4 <= moment.month <= 10 else 1)))


def seeded_standin(count: int, *, days: int = 30, now: datetime | None = None,
                   **kwargs: Any) -> ShopifyStandin:
    """A stand-in holding ``count`` orders spread evenly over the last ``days`` days."""
    end = (now or datetime.now(UTC)).replace(microsecond=0)
    start = end - timedelta(days=days)
    step = timedelta(days=days) / max(count, 1)
    standin = ShopifyStandin(**kwargs)
    for n in range(1, count + 1):
        created = _amsterdam(start + step * (n - 1))
        standin.add_order(make_order(n, created_at=created, cancelled=(n % 17 == 0)))
    return standin


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Offline Shopify Admin API stand-in")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8300)
    parser.add_argument("--orders", type=int, default=40, help="orders spread over the last 30 days")
    parser.add_argument("--token", default=DEFAULT_TOKEN)
    args = parser.parse_args(argv)

    standin = seeded_standin(args.orders, access_token=args.token)
    base = f"http://{args.host}:{args.port}"
    print(f"Shopify stand-in with {len(standin.orders)} orders", flush=True)
    print(f"  URL:          {base}", flush=True)
    print(f"  GraphQL:      {base}/admin/api/{standin.api_version}/graphql.json", flush=True)
    print(f"  Access token: {standin.access_token}", flush=True)
    uvicorn.run(standin.app, host=args.host, port=args.port, log_level="info", lifespan="off")


if __name__ == "__main__":
    main()
