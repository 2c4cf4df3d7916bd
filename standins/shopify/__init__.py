"""Offline stand-in for the Shopify Admin API (GraphQL) plus webhook helpers.

Follows /work/shared/contracts/shopify.md. What each piece copies from the contract
(the HTTP side is in ``api.py``, the shop's state and operations in ``store.py``, webhook
delivery in ``webhooks.py``):

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
    ``fulfillments``, ``updated_at``), and the fulfillment is recorded in ``self.fulfillments``
    (with ``via`` "api", its ``trackingHistory`` and its line items; ``fulfillments_of(order)``
    reads one order's).
  - ``fulfillmentTrackingInfoUpdate(`` (also ``…V2(``) -> §4 "updating tracking later" [P]:
    ``variables.fulfillmentId``, ``trackingInfoInput`` (a FulfillmentTrackingInput, same rules as
    on create) and ``notifyCustomer``. The fulfillment's ``trackingInfo`` is replaced and the
    change appended to its ``trackingHistory`` (``{"trackingInfo", "notifyCustomer", "at"}``); the
    REST order's fulfillment follows. userErrors for an unknown or cancelled fulfillment and an
    empty or contradictory tracking input.
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
  ``FULFILLED``/``RESTOCKED``), ``currencyCode``, ``totalPriceSet { shopMoney { amount currencyCode } }``,
  ``subtotalPriceSet { shopMoney { amount currencyCode } }``,
  ``customer { firstName lastName email phone }``, ``shippingAddress { name firstName lastName
  company address1 address2 city province provinceCode zip country countryCodeV2 phone }`` and
  ``lineItems { nodes { id sku quantity title variantTitle variant { id legacyResourceId }
  customAttributes { key value } originalUnitPriceSet { shopMoney { amount currencyCode } } } }``
  and ``fulfillments`` (a plain list, oldest first, as Shopify's ``Order.fulfillments(first:)``:
  ``id status createdAt trackingInfo { company number url }``).
  Connections are returned whole (no nested paging).

* Throttle mode (§6): while ``throttle_next > 0`` each authenticated GraphQL request decrements it
  and gets the THROTTLED body (``errors[0].extensions.code == "THROTTLED"``, ``actualQueryCost``
  null, ``requestedQueryCost - currentlyAvailable == restoreRate * throttle_wait``) with HTTP
  ``throttle_status`` (429 by default, 200 allowed since the contract marks it [U]); a 429 also
  carries ``Retry-After: <throttle_wait>``.

* One fulfillment order per order (§4), OPEN at location ``gid://shopify/Location/7771``
  ("Print farm"), CANCELLED for cancelled orders, CLOSED when nothing is left to fulfil.
  GIDs are ``gid://shopify/<Type>/<int>`` and ``legacyResourceId`` the int as a string (§7.7).

* ``fulfil(order, tracking=…, skus=…)``: the merchant fulfils (part of) an order in Shopify's
  admin; the order's REST and GraphQL views change as after ``fulfillmentCreate`` (recorded with
  ``via`` "admin"). ``seeded_standin`` uses it so that a seeded shop has history: fulfilled
  orders with tracking and partly fulfilled ones beside the open ones.

* ``make_order`` (from ``app.orders.samples``) builds REST Order JSON as in §3 (the webhook
  payload); ``sign``, ``webhook_headers`` and ``send_webhook`` implement the delivery side of §2
  (base64 HMAC-SHA256 of the exact body bytes; a fresh ``X-Shopify-Webhook-Id`` unless one is
  given, reusing it simulates a retry).

* Not implemented: the legacy REST routes (§5 REST, §7.5) and OAuth client credentials.

Standalone: ``python -m standins.shopify --port 8300 --orders 40``.
"""

from app.orders.samples import CATALOGUE, DEFAULT_TOKEN, gid, make_order
from standins.shopify.api import INVALID_TOKEN_BODY, ShopifyStandin, seeded_standin
from standins.shopify.store import API_VERSION, LOCATION_GID, order_node
from standins.shopify.webhooks import send_webhook, sign, webhook_headers

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
