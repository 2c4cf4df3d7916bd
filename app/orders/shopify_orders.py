"""Shopify's orders in our terms: a webhook's REST Order JSON (contract §3)
or a GraphQL `orders` node (backfill, §5) → OrderInput, and what Shopify had
already fulfilled of it → ShopifyFulfillment. Missing parts become problems on
the order, never a guess."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlmodel import select

from app.integrations.shopify import latest_fulfillment
from app.orders.inputs import LINE_LIMITS, ORDER_LIMITS, LineInput, OrderInput, fitted
from app.orders.models import ShopifyBackfill
from app.platform import live
from app.platform.db import tenant_session
from app.platform.models import utcnow
from app.platform.values import to_int

# Note attributes a storefront (e.g. Sendcloud's checkout) sets for a service point.
SERVICE_POINT_KEYS = (
    "service_point_id",
    "service_point_name",
    "service_point_street",
    "service_point_house_number",
    "service_point_postal_code",
    "service_point_city",
    "service_point_country",
    "service_point_carrier",
)


# --- mapping ---------------------------------------------------------------------

_HOUSE_NUMBER_END = re.compile(r"^(?P<street>.*?\D)[\s,]+(?P<number>\d+[\w\-/ ]{0,8})$")
_HOUSE_NUMBER_START = re.compile(r"^(?P<number>\d+[a-zA-Z]?)\s+(?P<street>\D.*)$")


def split_street(address1: str) -> tuple[str, str]:
    """'Stationsstraat 12a' → ('Stationsstraat', '12a'); '12 Main St' → ('Main St', '12')."""
    address1 = (address1 or "").strip()
    m = _HOUSE_NUMBER_END.match(address1)
    if m:
        return m.group("street").strip().rstrip(","), m.group("number").strip()
    m = _HOUSE_NUMBER_START.match(address1)
    if m:
        return m.group("street").strip(), m.group("number")
    return address1, ""


def _money(value: Any) -> Decimal:
    try:
        return Decimal(str(value)).quantize(Decimal("0.01")) if value not in (None, "") else Decimal("0")
    except InvalidOperation:
        return Decimal("0")


def _dt(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _service_point(attributes: dict[str, str]) -> dict:
    point = {k.removeprefix("service_point_"): attributes[k] for k in SERVICE_POINT_KEYS if attributes.get(k)}
    return point if point.get("id") else {}


class PayloadError(ValueError):
    """The payload is not a Shopify order we can read."""


def order_from_rest(payload: Any) -> OrderInput:
    """A webhook's REST Order JSON → OrderInput. Missing parts become problems."""
    if not isinstance(payload, dict) or "id" not in payload:
        raise PayloadError("the body is not a Shopify order (no 'id')")
    customer = payload.get("customer") or {}
    address = payload.get("shipping_address") or {}
    street, number = split_street(address.get("address1") or "")
    attributes = {
        str(a.get("name")): str(a.get("value")) for a in payload.get("note_attributes") or [] if isinstance(a, dict)
    }
    problems = []
    lines = []
    raw_lines = payload.get("line_items")
    if not isinstance(raw_lines, list) or not raw_lines:
        problems.append("Shopify sent this order without line items.")
        raw_lines = []
    for i, item in enumerate(raw_lines, 1):
        if not isinstance(item, dict):
            problems.append(f"Line {i} is not readable.")
            continue
        props = {str(p.get("name")): p.get("value") for p in item.get("properties") or [] if isinstance(p, dict)}
        line, cut = fitted(
            {
                "sku": (item.get("sku") or "").strip(),
                "title": item.get("title") or item.get("name") or "",
                "variant_title": item.get("variant_title") or "",
                "quantity": max(0, to_int(item.get("quantity"), 1)),
                "unit_price": _money(item.get("price")),
                "properties": props,
                "shopify_line_item_id": str(item["id"]) if item.get("id") is not None else None,
            },
            LINE_LIMITS,
            f"Line {i}: ",
        )
        problems += [_cut(c) for c in cut]
        lines.append(LineInput(**line))
    name = (
        address.get("name") or " ".join(p for p in (customer.get("first_name"), customer.get("last_name")) if p) or ""
    )
    point = _service_point(attributes)
    return _order_input(
        problems,
        source="shopify",
        lines=lines,
        customer_name=name,
        customer_email=payload.get("email") or payload.get("contact_email") or customer.get("email") or "",
        customer_phone=payload.get("phone") or customer.get("phone") or address.get("phone") or "",
        ship_name=address.get("name") or name,
        ship_company=address.get("company") or "",
        ship_street=street,
        ship_house_number=number,
        ship_address2=address.get("address2") or "",
        ship_city=address.get("city") or "",
        ship_postal_code=address.get("zip") or "",
        ship_country_code=(address.get("country_code") or "").upper()[:2],
        delivery_type="service_point" if point else "home",
        service_point=point,
        currency=(payload.get("currency") or "EUR")[:3],
        subtotal=_money(payload.get("subtotal_price")),
        shipping_total=sum(
            (_money(s.get("price")) for s in payload.get("shipping_lines") or [] if isinstance(s, dict)), Decimal("0")
        ),
        total=_money(payload.get("total_price")),
        note=payload.get("note") or "",
        placed_at=_dt(payload.get("created_at")),
        shopify_order_id=str(payload["id"]),
        shopify_gid=payload.get("admin_graphql_api_id"),
        name=payload.get("name"),
        financial_status=payload.get("financial_status"),
        source_updated_at=_dt(payload.get("updated_at")),
        cancelled_at=_dt(payload.get("cancelled_at")),
        cancel_reason=payload.get("cancel_reason") or "",
    )


def _cut(what: str) -> str:
    return f"{what} was longer than Shopfloor keeps and was cut; Shopify has the whole text."


def _order_input(problems: list[str], **values: Any) -> OrderInput:
    """An OrderInput of Shopify's values, each cut to its limit (a cut is one of the order's problems)."""
    values, cut = fitted(values, ORDER_LIMITS)
    return OrderInput(**values, problems=problems + [_cut(c) for c in cut])


def _shop_money(obj: dict | None) -> Decimal:
    return _money(((obj or {}).get("shopMoney") or {}).get("amount"))


def order_from_graphql(node: dict) -> OrderInput:
    """A GraphQL `orders` node (backfill) → OrderInput."""
    address = node.get("shippingAddress") or {}
    customer = node.get("customer") or {}
    street, number = split_street(address.get("address1") or "")
    lines: list[LineInput] = []
    problems: list[str] = []
    for i, item in enumerate((node.get("lineItems") or {}).get("nodes") or [], 1):
        gid = item.get("id") or ""
        line, cut = fitted(
            {
                "sku": (item.get("sku") or "").strip(),
                "title": item.get("title") or "",
                "variant_title": item.get("variantTitle") or "",
                "quantity": max(0, to_int(item.get("quantity"), 1)),
                "unit_price": _shop_money(item.get("originalUnitPriceSet")),
                "properties": {str(a.get("key")): a.get("value") for a in item.get("customAttributes") or []},
                "shopify_line_item_id": gid.rsplit("/", 1)[-1] or None,
            },
            LINE_LIMITS,
            f"Line {i}: ",
        )
        problems += [_cut(c) for c in cut]
        lines.append(LineInput(**line))
    name = address.get("name") or " ".join(p for p in (customer.get("firstName"), customer.get("lastName")) if p)
    total = _shop_money(node.get("totalPriceSet"))
    subtotal = _shop_money(node.get("subtotalPriceSet"))
    if not lines:
        problems.append("Shopify returned this order without line items.")
    return _order_input(
        problems,
        source="shopify",
        lines=lines,
        customer_name=name or "",
        customer_email=node.get("email") or customer.get("email") or "",
        customer_phone=node.get("phone") or customer.get("phone") or address.get("phone") or "",
        ship_name=address.get("name") or name or "",
        ship_company=address.get("company") or "",
        ship_street=street,
        ship_house_number=number,
        ship_address2=address.get("address2") or "",
        ship_city=address.get("city") or "",
        ship_postal_code=address.get("zip") or "",
        ship_country_code=(address.get("countryCodeV2") or "").upper()[:2],
        currency=(node.get("currencyCode") or "EUR")[:3],
        subtotal=subtotal,
        total=total,
        shipping_total=max(Decimal("0"), total - subtotal) if total and subtotal else Decimal("0"),
        placed_at=_dt(node.get("createdAt")),
        shopify_order_id=str(node.get("legacyResourceId") or ""),
        shopify_gid=node.get("id"),
        name=node.get("name"),
        financial_status=(node.get("displayFinancialStatus") or "").lower() or None,
        source_updated_at=_dt(node.get("updatedAt")),
        cancelled_at=_dt(node.get("cancelledAt")),
    )


# --- what Shopify had fulfilled already ------------------------------------------------------

# Shopify's fulfillment status → ours: "fulfilled" (everything shipped, or shipped and
# restocked: history either way), "partial" (some of it shipped) or "open" (nothing shipped;
# UNFULFILLED, IN_PROGRESS, ON_HOLD, SCHEDULED, … all still need making).
_REST_FULFILLMENT = {"fulfilled": "fulfilled", "restocked": "fulfilled", "partial": "partial"}
_GRAPHQL_FULFILLMENT = {"FULFILLED": "fulfilled", "RESTOCKED": "fulfilled", "PARTIALLY_FULFILLED": "partial"}


@dataclass
class ShopifyFulfillment:
    """What Shopify says was shipped of an order before Shopfloor saw it, and the
    tracking of its latest fulfillment (a backfill of past orders must not
    make them again)."""

    state: str = "open"  # open | partial | fulfilled
    fulfillment_id: str = ""  # the fulfillment's GID
    tracking_number: str = ""
    tracking_url: str = ""
    tracking_carrier: str = ""
    shipped_at: datetime | None = None


def fulfillment_from_rest(payload: dict) -> ShopifyFulfillment:
    """A REST order's `fulfillment_status` and `fulfillments` (contract §3)."""
    state = _REST_FULFILLMENT.get(str(payload.get("fulfillment_status") or "").lower(), "open")
    done = [
        f
        for f in payload.get("fulfillments") or []
        if isinstance(f, dict) and str(f.get("status") or "").lower() not in ("cancelled", "error", "failure")
    ]
    if not done:
        return ShopifyFulfillment(state)
    latest = done[-1]
    return ShopifyFulfillment(
        state,
        fulfillment_id=str(latest.get("admin_graphql_api_id") or "")[:100],
        tracking_number=str(latest.get("tracking_number") or "")[:100],
        tracking_url=str(latest.get("tracking_url") or "")[:500],
        tracking_carrier=str(latest.get("tracking_company") or "")[:100],
        shipped_at=_dt(latest.get("created_at")),
    )


def fulfillment_from_graphql(node: dict) -> ShopifyFulfillment:
    """A GraphQL order's `displayFulfillmentStatus` and `fulfillments` (backfill)."""
    state = _GRAPHQL_FULFILLMENT.get(str(node.get("displayFulfillmentStatus") or "").upper(), "open")
    latest = latest_fulfillment(node.get("fulfillments"))
    if latest is None:
        return ShopifyFulfillment(state)
    infos = [t for t in latest.get("trackingInfo") or [] if isinstance(t, dict)]
    tracking = next((t for t in infos if t.get("number")), infos[0] if infos else {})
    return ShopifyFulfillment(
        state,
        fulfillment_id=str(latest["id"])[:100],
        tracking_number=str(tracking.get("number") or "")[:100],
        tracking_url=str(tracking.get("url") or "")[:500],
        tracking_carrier=str(tracking.get("company") or "")[:100],
        shipped_at=_dt(latest.get("createdAt")),
    )


# --- a backfill whose worker died -------------------------------------------------------------

BACKFILL_FAILED = "The worker stopped during the import; resume it to go on from where it stopped"


def backfill_abandoned(tenant_id: uuid.UUID | str, run_id: uuid.UUID | str, *, retrying: bool) -> None:
    """The platform found the import's job dead with its worker. Every page
    it finished is kept (the cursor commits with its orders): the job's retry
    goes on from there (shown as queued), or, with no retry left, the run
    shows FAILED with the reason and the page's Resume button."""
    tid = uuid.UUID(str(tenant_id))
    with tenant_session(tid) as s:
        run = s.exec(
            select(ShopifyBackfill).where(ShopifyBackfill.id == uuid.UUID(str(run_id))).with_for_update()
        ).first()
        if run is None or run.status not in ("QUEUED", "RUNNING"):
            return
        # retrying: back to queued, no error (a message would outlive the run's success)
        run.status = "QUEUED" if retrying else "FAILED"
        run.error = "" if retrying else BACKFILL_FAILED
        run.updated_at = utcnow()
        s.add(run)
        s.commit()
        live.publish(
            tid,
            "backfill",
            id=str(run.id),
            status=run.status,
            seen=run.seen,
            imported=run.imported,
            skipped=run.skipped,
            pages=run.pages,
        )
