"""Shopify: webhook verification, order mapping and the GraphQL Admin client.

Follows ../shared/contracts/shopify.md: base64 HMAC-SHA256 of the raw body
with the app secret (§2), the REST order JSON of webhooks (§3), the GraphQL
`orders` connection with cursors for backfill (§5), and throttling by
`extensions.cost.throttleStatus` or 429 + Retry-After (§6).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
import time
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import httpx

from app.orders.inputs import LineInput, OrderInput

log = logging.getLogger(__name__)

API_VERSION = "2026-07"
WEBHOOK_TOPICS = ("orders/create", "orders/updated", "orders/cancelled")
REQUIRED_WEBHOOK_HEADERS = ("x-shopify-hmac-sha256", "x-shopify-topic", "x-shopify-shop-domain",
                            "x-shopify-webhook-id")

# Note attributes a storefront (e.g. Sendcloud's checkout) sets for a service point.
SERVICE_POINT_KEYS = ("service_point_id", "service_point_name", "service_point_street", "service_point_house_number",
                      "service_point_postal_code", "service_point_city", "service_point_country",
                      "service_point_carrier")


def sign(raw_body: bytes, secret: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), raw_body, hashlib.sha256).digest()).decode()


def verify_webhook(raw_body: bytes, header_value: str | None, secret: str) -> bool:
    if not raw_body or not header_value or not secret:
        return False
    return hmac.compare_digest(sign(raw_body, secret), header_value)


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


def _int(value: Any, default: int = 0) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


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
    attributes = {str(a.get("name")): str(a.get("value")) for a in payload.get("note_attributes") or []
                  if isinstance(a, dict)}
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
        lines.append(LineInput(
            sku=(item.get("sku") or "").strip(), title=item.get("title") or item.get("name") or "",
            variant_title=item.get("variant_title") or "", quantity=max(0, _int(item.get("quantity"), 1)),
            unit_price=_money(item.get("price")), properties=props,
            shopify_line_item_id=str(item["id"]) if item.get("id") is not None else None,
        ))
    name = address.get("name") or " ".join(
        p for p in (customer.get("first_name"), customer.get("last_name")) if p) or ""
    point = _service_point(attributes)
    return OrderInput(
        source="shopify", lines=lines,
        customer_name=name,
        customer_email=payload.get("email") or payload.get("contact_email") or customer.get("email") or "",
        customer_phone=payload.get("phone") or customer.get("phone") or address.get("phone") or "",
        ship_name=address.get("name") or name, ship_company=address.get("company") or "",
        ship_street=street, ship_house_number=number, ship_address2=address.get("address2") or "",
        ship_city=address.get("city") or "", ship_postal_code=address.get("zip") or "",
        ship_country_code=(address.get("country_code") or "").upper()[:2],
        delivery_type="service_point" if point else "home", service_point=point,
        currency=(payload.get("currency") or "EUR")[:3],
        subtotal=_money(payload.get("subtotal_price")),
        shipping_total=sum((_money(s.get("price")) for s in payload.get("shipping_lines") or []
                            if isinstance(s, dict)), Decimal("0")),
        total=_money(payload.get("total_price")), note=(payload.get("note") or "")[:2000],
        placed_at=_dt(payload.get("created_at")), shopify_order_id=str(payload["id"]),
        shopify_gid=payload.get("admin_graphql_api_id"), name=payload.get("name"),
        financial_status=payload.get("financial_status"), source_updated_at=_dt(payload.get("updated_at")),
        cancelled_at=_dt(payload.get("cancelled_at")), cancel_reason=payload.get("cancel_reason") or "",
        problems=problems,
    )


def _shop_money(obj: dict | None) -> Decimal:
    return _money(((obj or {}).get("shopMoney") or {}).get("amount"))


def order_from_graphql(node: dict) -> OrderInput:
    """A GraphQL `orders` node (backfill) → OrderInput."""
    address = node.get("shippingAddress") or {}
    customer = node.get("customer") or {}
    street, number = split_street(address.get("address1") or "")
    lines = []
    for item in ((node.get("lineItems") or {}).get("nodes") or []):
        gid = item.get("id") or ""
        lines.append(LineInput(
            sku=(item.get("sku") or "").strip(), title=item.get("title") or "",
            variant_title=item.get("variantTitle") or "", quantity=max(0, _int(item.get("quantity"), 1)),
            unit_price=_shop_money(item.get("originalUnitPriceSet")),
            properties={a.get("key"): a.get("value") for a in item.get("customAttributes") or []},
            shopify_line_item_id=gid.rsplit("/", 1)[-1] or None,
        ))
    name = address.get("name") or " ".join(p for p in (customer.get("firstName"), customer.get("lastName")) if p)
    total = _shop_money(node.get("totalPriceSet"))
    subtotal = _shop_money(node.get("subtotalPriceSet"))
    return OrderInput(
        source="shopify", lines=lines, customer_name=name or "",
        customer_email=node.get("email") or customer.get("email") or "",
        customer_phone=node.get("phone") or customer.get("phone") or address.get("phone") or "",
        ship_name=address.get("name") or name or "", ship_company=address.get("company") or "",
        ship_street=street, ship_house_number=number, ship_address2=address.get("address2") or "",
        ship_city=address.get("city") or "", ship_postal_code=address.get("zip") or "",
        ship_country_code=(address.get("countryCodeV2") or "").upper()[:2],
        currency=(node.get("currencyCode") or "EUR")[:3], subtotal=subtotal, total=total,
        shipping_total=max(Decimal("0"), total - subtotal) if total and subtotal else Decimal("0"),
        placed_at=_dt(node.get("createdAt")), shopify_order_id=str(node.get("legacyResourceId") or ""),
        shopify_gid=node.get("id"), name=node.get("name"),
        financial_status=(node.get("displayFinancialStatus") or "").lower() or None,
        source_updated_at=_dt(node.get("updatedAt")), cancelled_at=_dt(node.get("cancelledAt")),
        problems=[] if lines else ["Shopify returned this order without line items."],
    )


# --- GraphQL client -------------------------------------------------------------------

ORDERS_QUERY = """
query Orders($cursor: String, $q: String, $first: Int) {
  orders(first: $first, after: $cursor, sortKey: UPDATED_AT, query: $q) {
    pageInfo { hasNextPage endCursor }
    nodes { id legacyResourceId name email phone createdAt updatedAt cancelledAt
            displayFinancialStatus displayFulfillmentStatus currencyCode
            totalPriceSet { shopMoney { amount currencyCode } }
            subtotalPriceSet { shopMoney { amount currencyCode } }
            customer { firstName lastName email phone }
            shippingAddress { name firstName lastName company address1 address2 city province provinceCode
                              zip country countryCodeV2 phone }
            lineItems(first: 100) { nodes { id sku quantity title variantTitle
                                            originalUnitPriceSet { shopMoney { amount currencyCode } }
                                            variant { id legacyResourceId } customAttributes { key value } } } }
  }
}
"""


FULFILLMENT_ORDERS_QUERY = """
query FulfillmentOrders($id: ID!) {
  order(id: $id) {
    id name
    fulfillmentOrders(first: 10) {
      nodes { id status lineItems(first: 100) { nodes { id remainingQuantity } } }
    }
  }
}
"""

FULFILLMENT_CREATE = """
mutation CreateFulfillment($fulfillment: FulfillmentInput!, $message: String) {
  fulfillmentCreate(fulfillment: $fulfillment, message: $message) {
    fulfillment { id status createdAt trackingInfo { company number url } }
    userErrors { field message }
  }
}
"""


class ShopifyError(Exception):
    pass


class ShopifyAuthError(ShopifyError):
    pass


@dataclass
class OrdersPage:
    nodes: list[dict]
    has_next: bool
    end_cursor: str | None


class ShopifyClient:
    """GraphQL Admin client for one shop. Waits out throttling as the API says."""

    def __init__(self, base_url: str, access_token: str, *, api_version: str = API_VERSION,
                 timeout: float = 20.0, max_throttle_waits: int = 20, transport_retries: int = 3,
                 sleep=time.sleep):  # noqa: ANN001
        base = base_url if base_url.startswith("http") else f"https://{base_url}"
        self.url = f"{base.rstrip('/')}/admin/api/{api_version}/graphql.json"
        self.client = httpx.Client(timeout=timeout, headers={
            "X-Shopify-Access-Token": access_token, "Content-Type": "application/json"})
        self.max_throttle_waits = max_throttle_waits
        self.transport_retries = transport_retries  # 0 when an outer retry queue owns retries
        self.sleep = sleep
        self.throttle_waits = 0

    def close(self) -> None:
        self.client.close()

    def graphql(self, query: str, variables: dict | None = None) -> dict:
        attempts = 0
        while True:
            try:
                r = self.client.post(self.url, json={"query": query, "variables": variables or {}})
            except httpx.TransportError as exc:
                attempts += 1
                if attempts > self.transport_retries:
                    raise ShopifyError(f"Shopify unreachable: {exc}") from exc
                self.sleep(min(8.0, 0.5 * 2 ** attempts))
                continue
            if r.status_code == 401:
                raise ShopifyAuthError("Shopify refused the access token (401)")
            body: dict = {}
            try:
                body = r.json()
            except ValueError:
                pass
            wait = self._throttle_wait(r, body)
            if wait is not None:
                self.throttle_waits += 1
                if self.throttle_waits > self.max_throttle_waits:
                    raise ShopifyError("Shopify kept throttling; try again later")
                log.info("Shopify throttled; waiting %.2f s", wait)
                self.sleep(wait)
                continue
            if r.status_code >= 500:
                attempts += 1
                if attempts > self.transport_retries:
                    raise ShopifyError(f"Shopify answered {r.status_code}")
                self.sleep(min(8.0, 0.5 * 2 ** attempts))
                continue
            if r.status_code >= 400:
                raise ShopifyError(f"Shopify answered {r.status_code}: {r.text[:300]}")
            if body.get("errors"):
                raise ShopifyError(f"Shopify GraphQL error: {body['errors'][0].get('message')}")
            return body.get("data") or {}

    @staticmethod
    def _throttle_wait(r: httpx.Response, body: dict) -> float | None:
        throttled = r.status_code == 429 or any(
            (e.get("extensions") or {}).get("code") == "THROTTLED" for e in body.get("errors") or []
            if isinstance(e, dict))
        if not throttled:
            return None
        retry_after = r.headers.get("retry-after")
        if retry_after:
            try:
                return max(0.0, float(retry_after))
            except ValueError:
                pass
        cost = ((body.get("extensions") or {}).get("cost") or {})
        status = cost.get("throttleStatus") or {}
        try:
            need = float(cost.get("requestedQueryCost") or 0) - float(status.get("currentlyAvailable") or 0)
            return max(0.1, need / float(status.get("restoreRate") or 50))
        except (TypeError, ValueError, ZeroDivisionError):
            return 1.0

    def orders_page(self, *, cursor: str | None, query: str | None, first: int = 50) -> OrdersPage:
        data = self.graphql(ORDERS_QUERY, {"cursor": cursor, "q": query, "first": first})
        conn = data.get("orders") or {}
        info = conn.get("pageInfo") or {}
        return OrdersPage(nodes=conn.get("nodes") or [], has_next=bool(info.get("hasNextPage")),
                          end_cursor=info.get("endCursor"))

    def create_fulfillment(self, order_gid: str, *, number: str, url: str, company: str) -> str | None:
        """Fulfil every open fulfillment order of an order with tracking. Reads the
        fulfillment orders first (fulfillmentCreate is not idempotent), so a retry
        after a lost answer does not fulfil twice. Returns the fulfillment id, or
        None when nothing was left open."""
        data = self.graphql(FULFILLMENT_ORDERS_QUERY, {"id": order_gid})
        nodes = (((data.get("order") or {}).get("fulfillmentOrders") or {}).get("nodes") or [])
        open_fos = [fo for fo in nodes if fo.get("status") in ("OPEN", "IN_PROGRESS")]
        if not open_fos:
            return None
        tracking = {k: v for k, v in (("company", company), ("number", number), ("url", url)) if v}
        if "url" in tracking and "number" not in tracking:
            tracking.pop("url")
        created = None
        for fo in open_fos:  # one call per fulfillment order: one location per fulfillment
            fulfillment: dict = {"lineItemsByFulfillmentOrder": [{"fulfillmentOrderId": fo["id"]}],
                                 "notifyCustomer": True}
            if tracking:
                fulfillment["trackingInfo"] = tracking
            result = self.graphql(FULFILLMENT_CREATE, {"fulfillment": fulfillment}).get("fulfillmentCreate") or {}
            errors = result.get("userErrors") or []
            if errors:
                raise ShopifyError("Shopify refused the fulfillment: "
                                   + "; ".join(e.get("message", "") for e in errors))
            created = (result.get("fulfillment") or {}).get("id") or created
        return created
