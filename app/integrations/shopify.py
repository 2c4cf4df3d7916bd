"""Shopify: webhook verification and the GraphQL Admin client.

Follows ../shared/contracts/shopify.md: base64 HMAC-SHA256 of the raw body
with the app secret (§2), the REST order JSON of webhooks (§3), the GraphQL
`orders` connection with cursors for backfill (§5), and throttling by
`extensions.cost.throttleStatus` or 429 + Retry-After (§6).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import logging
import time
from dataclasses import dataclass

import httpx

from app.platform import logs

log = logging.getLogger(__name__)

API_VERSION = "2026-07"
WEBHOOK_TOPICS = ("orders/create", "orders/updated", "orders/cancelled")
REQUIRED_WEBHOOK_HEADERS = ("x-shopify-hmac-sha256", "x-shopify-topic", "x-shopify-shop-domain", "x-shopify-webhook-id")

# --- webhooks ------------------------------------------------------------------------


def sign(raw_body: bytes, secret: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), raw_body, hashlib.sha256).digest()).decode()


def verify_webhook(raw_body: bytes, header_value: str | None, secret: str) -> bool:
    if not raw_body or not header_value or not secret:
        return False
    return hmac.compare_digest(sign(raw_body, secret), header_value)


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

    def __init__(
        self,
        base_url: str,
        access_token: str,
        *,
        api_version: str = API_VERSION,
        timeout: float = 20.0,
        max_throttle_waits: int = 20,
        transport_retries: int = 3,
        sleep=time.sleep,
    ):
        base = base_url if base_url.startswith("http") else f"https://{base_url}"
        self.url = f"{base.rstrip('/')}/admin/api/{api_version}/graphql.json"
        self.client = httpx.Client(
            timeout=timeout,
            event_hooks=logs.httpx_event_hooks(),
            headers={"X-Shopify-Access-Token": access_token, "Content-Type": "application/json"},
        )
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
                self.sleep(min(8.0, 0.5 * 2**attempts))
                continue
            if r.status_code == 401:
                raise ShopifyAuthError("Shopify refused the access token (401)")
            body: dict = {}
            with contextlib.suppress(ValueError):
                body = r.json()
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
                self.sleep(min(8.0, 0.5 * 2**attempts))
                continue
            if r.status_code >= 400:
                raise ShopifyError(f"Shopify answered {r.status_code}: {r.text[:300]}")
            if body.get("errors"):
                raise ShopifyError(f"Shopify GraphQL error: {body['errors'][0].get('message')}")
            return body.get("data") or {}

    @staticmethod
    def _throttle_wait(r: httpx.Response, body: dict) -> float | None:
        throttled = r.status_code == 429 or any(
            (e.get("extensions") or {}).get("code") == "THROTTLED"
            for e in body.get("errors") or []
            if isinstance(e, dict)
        )
        if not throttled:
            return None
        retry_after = r.headers.get("retry-after")
        if retry_after:
            try:
                return max(0.0, float(retry_after))
            except ValueError:
                pass
        cost = (body.get("extensions") or {}).get("cost") or {}
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
        return OrdersPage(
            nodes=conn.get("nodes") or [], has_next=bool(info.get("hasNextPage")), end_cursor=info.get("endCursor")
        )

    def create_fulfillment(self, order_gid: str, *, number: str, url: str, company: str) -> str | None:
        """Fulfil every open fulfillment order of an order with tracking. Reads the
        fulfillment orders first (fulfillmentCreate is not idempotent), so a retry
        after a lost answer does not fulfil twice. Returns the fulfillment id, or
        None when nothing was left open."""
        data = self.graphql(FULFILLMENT_ORDERS_QUERY, {"id": order_gid})
        nodes = ((data.get("order") or {}).get("fulfillmentOrders") or {}).get("nodes") or []
        open_fos = [fo for fo in nodes if fo.get("status") in ("OPEN", "IN_PROGRESS")]
        if not open_fos:
            return None
        tracking = {k: v for k, v in (("company", company), ("number", number), ("url", url)) if v}
        if "url" in tracking and "number" not in tracking:
            tracking.pop("url")
        created = None
        for fo in open_fos:  # one call per fulfillment order: one location per fulfillment
            fulfillment: dict = {
                "lineItemsByFulfillmentOrder": [{"fulfillmentOrderId": fo["id"]}],
                "notifyCustomer": True,
            }
            if tracking:
                fulfillment["trackingInfo"] = tracking
            result = self.graphql(FULFILLMENT_CREATE, {"fulfillment": fulfillment}).get("fulfillmentCreate") or {}
            errors = result.get("userErrors") or []
            if errors:
                raise ShopifyError(
                    "Shopify refused the fulfillment: " + "; ".join(e.get("message", "") for e in errors)
                )
            created = (result.get("fulfillment") or {}).get("id") or created
        return created
