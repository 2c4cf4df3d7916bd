"""Shopify: webhook verification and the GraphQL Admin client.

Follows ../shared/contracts/shopify.md: base64 HMAC-SHA256 of the raw body
with the app secret (§2), the REST order JSON of webhooks (§3), the GraphQL
`orders` connection with cursors for backfill (§5), fulfillments with tracking
and their later tracking updates (§4), and throttling by
`extensions.cost.throttleStatus` or 429 + Retry-After (§6).

Every call goes through the outbound guard (app/platform/outbound.py): only
https://*.myshopify.com in production, no redirects. Errors name the failure
and never carry the answer's body.
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

from app.platform import outbound

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
                                            variant { id legacyResourceId } customAttributes { key value } } }
            fulfillments(first: 5) { id status createdAt trackingInfo { company number url } } }
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
    fulfillments(first: 5) { id status createdAt trackingInfo { company number url } }
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


FULFILLMENT_TRACKING_UPDATE = """
mutation UpdateTracking($fulfillmentId: ID!, $trackingInfoInput: FulfillmentTrackingInput!, $notifyCustomer: Boolean) {
  fulfillmentTrackingInfoUpdate(fulfillmentId: $fulfillmentId, trackingInfoInput: $trackingInfoInput,
                                notifyCustomer: $notifyCustomer) {
    fulfillment { id status trackingInfo { company number url } }
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


@dataclass
class FulfillmentResult:
    """What `create_fulfillment` left in Shopify: the fulfillment it created, or,
    when nothing was open any more, the order's latest fulfillment (None when
    the order has none), with the tracking numbers Shopify holds on it."""

    fulfillment_id: str | None
    created: bool
    tracking_numbers: list[str]


def latest_fulfillment(fulfillments: object) -> dict | None:
    """The newest fulfillment of an order's `fulfillments` list (GraphQL `Order.fulfillments`,
    oldest first) that was not cancelled: the one whose tracking the customer sees."""
    if not isinstance(fulfillments, list):
        return None
    live = [
        f
        for f in fulfillments
        if isinstance(f, dict)
        and f.get("id")
        and str(f.get("status") or "").upper() not in ("CANCELLED", "ERROR", "FAILURE")
    ]
    return live[-1] if live else None


def tracking_numbers(fulfillment: dict) -> list[str]:
    return [str(t["number"]) for t in fulfillment.get("trackingInfo") or [] if isinstance(t, dict) and t.get("number")]


def _tracking_input(*, number: str, url: str, company: str) -> dict[str, str]:
    """A FulfillmentTrackingInput (contract §4) of what is known: a URL only with its number."""
    tracking = {k: v.strip() for k, v in (("company", company), ("number", number), ("url", url)) if v and v.strip()}
    if "url" in tracking and "number" not in tracking:
        tracking.pop("url")
    return tracking


def _refused(what: str, errors: list) -> ShopifyError:
    return ShopifyError(
        f"Shopify refused the {what}: "
        + "; ".join(outbound.api_message(e.get("message") if isinstance(e, dict) else e) for e in errors)
    )


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
        transport: httpx.BaseTransport | None = None,
    ):
        base = base_url if base_url.startswith("http") else f"https://{base_url}"
        self.url = f"{base.rstrip('/')}/admin/api/{api_version}/graphql.json"
        self.client = outbound.client(
            outbound.SHOPIFY,
            timeout=timeout,
            transport=transport,
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
            except outbound.OutboundRefused as exc:
                raise ShopifyError(exc.message) from None
            except httpx.TransportError as exc:
                attempts += 1
                if attempts > self.transport_retries:
                    raise ShopifyError(f"Shopify unreachable: {exc}") from exc
                self.sleep(min(8.0, 0.5 * 2**attempts))
                continue
            if r.status_code in (401, 403):
                raise ShopifyAuthError(outbound.status_hint(outbound.SHOPIFY, r.status_code, "access token"))
            if r.is_redirect:
                raise ShopifyError(outbound.redirect_refused(outbound.SHOPIFY, r))
            answer: object = None
            with contextlib.suppress(ValueError):
                answer = r.json()
            body: dict = answer if isinstance(answer, dict) else {}
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
                raise ShopifyError(outbound.status_hint(outbound.SHOPIFY, r.status_code, "access token"))
            if not isinstance(answer, dict):
                raise ShopifyError(f"Shopify answered HTTP {r.status_code} with something that is not GraphQL")
            errors = body.get("errors")
            if errors:
                first = errors[0] if isinstance(errors, list) and errors else errors
                message = outbound.api_message(first.get("message") if isinstance(first, dict) else first)
                raise ShopifyError("Shopify did not accept the query" + (f": {message}" if message else ""))
            data = body.get("data")
            return data if isinstance(data, dict) else {}

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

    def create_fulfillment(self, order_gid: str, *, number: str, url: str, company: str) -> FulfillmentResult:
        """Fulfil every open fulfillment order of an order with tracking. Reads the
        fulfillment orders first (fulfillmentCreate is not idempotent), so a retry
        after a lost answer does not fulfil twice: with nothing left open, the
        result names the order's latest existing fulfillment instead."""
        data = self.graphql(FULFILLMENT_ORDERS_QUERY, {"id": order_gid})
        order = data.get("order") or {}
        nodes = (order.get("fulfillmentOrders") or {}).get("nodes") or []
        open_fos = [fo for fo in nodes if fo.get("status") in ("OPEN", "IN_PROGRESS")]
        if not open_fos:
            existing = latest_fulfillment(order.get("fulfillments"))
            if existing is None:
                return FulfillmentResult(None, created=False, tracking_numbers=[])
            return FulfillmentResult(str(existing["id"]), created=False, tracking_numbers=tracking_numbers(existing))
        tracking = _tracking_input(number=number, url=url, company=company)
        created: dict = {}
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
                raise _refused("fulfillment", errors)
            created = result.get("fulfillment") or created
        return FulfillmentResult(
            str(created["id"]) if created.get("id") else None, created=True, tracking_numbers=tracking_numbers(created)
        )

    def update_fulfillment_tracking(
        self, fulfillment_gid: str, *, number: str, url: str, company: str, notify_customer: bool = False
    ) -> None:
        """Replace the tracking of a fulfillment made earlier (contract §4,
        `fulfillmentTrackingInfoUpdate`): the parcel got a new label or carrier."""
        tracking = _tracking_input(number=number, url=url, company=company)
        if not tracking:
            raise ShopifyError("there is no tracking number, link or carrier to send to Shopify")
        result = (
            self.graphql(
                FULFILLMENT_TRACKING_UPDATE,
                {"fulfillmentId": fulfillment_gid, "trackingInfoInput": tracking, "notifyCustomer": notify_customer},
            ).get("fulfillmentTrackingInfoUpdate")
            or {}
        )
        errors = result.get("userErrors") or []
        if errors:
            raise _refused("tracking", errors)
