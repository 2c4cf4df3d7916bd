"""The shop behind the Shopify stand-in: REST orders, one fulfillment order per order, the
fulfillments made (with their tracking history), and the GraphQL operations on them (the
``orders`` connection, ``order``, ``fulfillmentCreate`` and ``fulfillmentTrackingInfoUpdate``;
the package docstring says what each copies from the contract)."""

from __future__ import annotations

import base64
import copy
import json
import re
import threading
from datetime import UTC, datetime
from typing import Any

from app.orders.samples import gid

API_VERSION = "2026-07"
DEFAULT_SHOP_DOMAIN = "standin-shop.myshopify.com"
LOCATION_ID = 7771
LOCATION_GID = f"gid://shopify/Location/{LOCATION_ID}"
LOCATION_NAME = "Print farm"

_INLINE_FIRST_RE = re.compile(r"\borders\s*\([^)]*?\bfirst\s*:\s*(\d+)")
_INLINE_ORDER_ID_RE = re.compile(r"\border\s*\(\s*id\s*:\s*\"([^\"]+)\"")
_SEARCH_TERM_RE = re.compile(
    r"\b(created_at|updated_at)\s*:\s*(>=|<=|>|<|=)?\s*['\"]?([0-9T:\-+.Z]+)['\"]?", re.IGNORECASE
)
_FINANCIAL_TERM_RE = re.compile(r"\bfinancial_status\s*:\s*['\"]?([A-Za-z_]+)['\"]?", re.IGNORECASE)


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


def _money_set(amount: str | None, currency: str) -> dict[str, Any]:
    return {"shopMoney": {"amount": amount, "currencyCode": currency}}


_FULFILLMENT_STATUS_DISPLAY = {
    None: "UNFULFILLED",
    "partial": "PARTIALLY_FULFILLED",
    "fulfilled": "FULFILLED",
    "restocked": "RESTOCKED",
}


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
        "customer": None
        if not customer
        else {
            "firstName": customer.get("first_name"),
            "lastName": customer.get("last_name"),
            "email": customer.get("email"),
            "phone": customer.get("phone"),
        },
        "shippingAddress": None
        if not address
        else {
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
        "fulfillments": [_fulfillment_node(f) for f in order.get("fulfillments") or []],
    }


def _fulfillment_node(fulfillment: dict[str, Any]) -> dict[str, Any]:
    """A REST order's fulfillment as GraphQL ``Order.fulfillments`` lists it (a plain list, oldest
    first; ``trackingInfo`` a list too)."""
    tracking = _tracking_info(
        {
            "company": fulfillment.get("tracking_company"),
            "numbers": fulfillment.get("tracking_numbers") or [],
            "urls": fulfillment.get("tracking_urls") or [],
        }
    )
    return {
        "id": fulfillment.get("admin_graphql_api_id") or gid("Fulfillment", fulfillment["id"]),
        "status": str(fulfillment.get("status") or "success").upper(),
        "createdAt": _utc_z(fulfillment.get("created_at")),
        "trackingInfo": tracking,
    }


def _tracking_errors(tracking_in: dict[str, Any], field: list[str]) -> list[dict[str, Any]]:
    """FulfillmentTrackingInput rules (contract §4): never ``number`` with ``numbers`` nor ``url`` with ``urls``."""
    errors = []
    if tracking_in.get("number") and tracking_in.get("numbers"):
        errors.append(_user_error(field, "Cannot specify both number and numbers."))
    if tracking_in.get("url") and tracking_in.get("urls"):
        errors.append(_user_error(field, "Cannot specify both url and urls."))
    return errors


def _tracking_info(tracking_in: dict[str, Any]) -> list[dict[str, Any]]:
    """A FulfillmentTrackingInput as the ``Fulfillment.trackingInfo`` list Shopify answers with."""
    numbers = tracking_in.get("numbers") or ([tracking_in["number"]] if tracking_in.get("number") else [])
    urls = tracking_in.get("urls") or ([tracking_in["url"]] if tracking_in.get("url") else [])
    company = tracking_in.get("company")
    tracking = [
        {"company": company, "number": num, "url": urls[k] if k < len(urls) else None} for k, num in enumerate(numbers)
    ]
    if not tracking and (company or urls):
        tracking = [{"company": company, "number": None, "url": urls[0] if urls else None}]
    return tracking


def _line_item_node(line: dict[str, Any], currency: str) -> dict[str, Any]:
    variant_id = line.get("variant_id")
    return {
        "id": line.get("admin_graphql_api_id") or gid("LineItem", line["id"]),
        "sku": line.get("sku"),
        "quantity": line.get("quantity"),
        "title": line.get("title"),
        "variantTitle": line.get("variant_title"),
        "variant": None
        if variant_id is None
        else {
            "id": gid("ProductVariant", variant_id),
            "legacyResourceId": str(variant_id),
        },
        "customAttributes": [{"key": p.get("name"), "value": p.get("value")} for p in line.get("properties") or []],
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
    """Shopify search syntax, the subset described in the package docstring."""
    if not q:
        return True
    for field, op, raw in _SEARCH_TERM_RE.findall(q):
        try:
            bound = _parse_time(raw)
        except ValueError:
            continue  # unparseable value: ignore the term, as with unknown terms
        value = _parse_time(order[field.lower()])
        ok = {
            ">=": value >= bound,
            ">": value > bound,
            "<=": value <= bound,
            "<": value < bound,
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
# The shop
# ---------------------------------------------------------------------------------------------


class ShopifyStore:
    """In-memory Shopify shop: REST orders, their fulfillment orders and the fulfillments made.

    Everything touching state holds ``self.lock``; ``ShopifyStandin`` (api.py) serves it over HTTP.
    """

    def __init__(self, orders: list[dict[str, Any]] | None = None) -> None:
        self.orders: list[dict[str, Any]] = []
        self.fulfillment_orders: dict[int, dict[str, Any]] = {}  # order id -> fulfillment order
        self.fulfillments: list[dict[str, Any]] = []
        self.lock = threading.RLock()
        self._ids = 0
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
            lines.append(
                {
                    "id": gid("FulfillmentOrderLineItem", 9_990_000 + self._next_id()),
                    "remainingQuantity": remaining,
                    "totalQuantity": total,
                    "lineItem": {
                        "id": line.get("admin_graphql_api_id") or gid("LineItem", line["id"]),
                        "sku": line.get("sku"),
                    },
                }
            )
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

    def fulfillments_of(self, order_id: int | str) -> list[dict[str, Any]]:
        """The fulfillments of an order (numeric id or GID), oldest first, as recorded in
        ``self.fulfillments``: ``id``, ``trackingInfo`` (current), ``trackingHistory`` (one
        ``{"trackingInfo", "notifyCustomer", "at"}`` per create or update), ``via`` ("api" or
        "admin"), ``lineItems``."""
        order = self.find_order(order_id)
        if order is None:
            return []
        wanted = order.get("admin_graphql_api_id") or gid("Order", order["id"])
        with self.lock:
            return [copy.deepcopy(f) for f in self.fulfillments if f["orderId"] == wanted]

    def fulfil(
        self,
        order_id: int | str,
        *,
        tracking: dict[str, Any] | None = None,
        skus: dict[str, int] | None = None,
    ) -> dict[str, Any]:
        """The merchant fulfils an order in Shopify's admin (not through the API): everything
        remaining, or ``skus`` (SKU -> quantity) for a partial fulfillment, with ``tracking`` a
        FulfillmentTrackingInput (``{"company", "number", "url"}``). The order's REST and GraphQL
        views change exactly as after ``fulfillmentCreate``. Returns the fulfillment; a refused one
        raises ValueError with Shopify's messages."""
        with self.lock:
            fo = self.fulfillment_order_for(order_id)
            if fo is None:
                raise ValueError(f"no order {order_id} in the stand-in")
            pair: dict[str, Any] = {"fulfillmentOrderId": fo["id"]}
            if skus is not None:
                pair["fulfillmentOrderLineItems"] = [
                    {"id": li["id"], "quantity": skus[li["lineItem"]["sku"]]}
                    for li in fo["lineItems"]["nodes"]
                    if li["lineItem"]["sku"] in skus
                ]
            fulfillment: dict[str, Any] = {"lineItemsByFulfillmentOrder": [pair]}
            if tracking:
                fulfillment["trackingInfo"] = tracking
            result = self._fulfillment_create({"fulfillment": fulfillment}, via="admin")
        if result["userErrors"]:
            raise ValueError("; ".join(e["message"] for e in result["userErrors"]))
        return result["fulfillment"]

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
        data = {
            "orders": {
                "pageInfo": {"hasNextPage": has_next, "endCursor": _encode_cursor(page[-1]) if page else None},
                "nodes": nodes,
            }
        }
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

    def _fulfillment_create(self, variables: dict[str, Any], *, via: str = "api") -> dict[str, Any]:
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
                errors.append(_user_error([*path, "fulfillmentOrderId"], "Fulfillment order ids must be unique."))
                continue
            seen.add(fo_id)
            if order_gid is None:
                order_gid = fo["orderId"]
            elif fo["orderId"] != order_gid:
                errors.append(
                    _user_error([*path, "fulfillmentOrderId"], "All fulfillment orders must belong to the same order.")
                )
                continue
            if fo["status"] not in ("OPEN", "IN_PROGRESS"):
                errors.append(
                    _user_error(
                        [*path, "fulfillmentOrderId"],
                        f"Fulfillment order {fo_id} has an unfulfillable status= {fo['status'].lower()}.",
                    )
                )
                continue
            fo_lines = {li["id"]: li for li in fo["lineItems"]["nodes"]}
            requested_lines = pair.get("fulfillmentOrderLineItems")
            if requested_lines is None:
                plan.extend((li, li["remainingQuantity"]) for li in fo_lines.values() if li["remainingQuantity"] > 0)
                continue
            for j, item in enumerate(requested_lines):
                item_path = [*path, "fulfillmentOrderLineItems", str(j)]
                fo_line = fo_lines.get(str(item.get("id") or ""))
                if fo_line is None:
                    errors.append(
                        _user_error(
                            [*item_path, "id"], "Fulfillment order line item does not belong to the fulfillment order."
                        )
                    )
                    continue
                quantity = int(item.get("quantity") or 0)
                if quantity <= 0:
                    errors.append(_user_error([*item_path, "quantity"], "Quantity must be greater than 0"))
                elif quantity > fo_line["remainingQuantity"]:
                    errors.append(
                        _user_error(
                            [*item_path, "quantity"], "Quantity must be less than or equal to the remaining quantity"
                        )
                    )
                else:
                    plan.append((fo_line, quantity))

        tracking_in = fulfillment_in.get("trackingInfo") or {}
        errors += _tracking_errors(tracking_in, ["fulfillment", "trackingInfo"])
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

        tracking = _tracking_info(tracking_in)
        notify = bool(fulfillment_in.get("notifyCustomer", False))
        fulfillment_id = 5_550_000 + self._next_id()
        created_at = _now_z()
        fulfillment = {
            "id": gid("Fulfillment", fulfillment_id),
            "status": "SUCCESS",
            "createdAt": created_at,
            "trackingInfo": tracking,
        }
        self.fulfillments.append(
            {
                **copy.deepcopy(fulfillment),
                "orderId": order_gid,
                "notifyCustomer": notify,
                "via": via,
                "trackingHistory": [
                    {"trackingInfo": copy.deepcopy(tracking), "notifyCustomer": notify, "at": created_at}
                ],
                "lineItems": [
                    {"id": li["id"], "lineItemId": li["lineItem"]["id"], "sku": li["lineItem"]["sku"], "quantity": qty}
                    for li, qty in plan
                ],
            }
        )
        self._apply_to_rest_order(order_gid, plan, fulfillment_id, tracking, created_at)
        return {"fulfillment": copy.deepcopy(fulfillment), "userErrors": []}

    def _fulfillment_tracking_update(self, variables: dict[str, Any]) -> dict[str, Any]:
        """``fulfillmentTrackingInfoUpdate(fulfillmentId, trackingInfoInput, notifyCustomer)``
        (contract §4, [P]): the fulfillment's tracking is replaced and the change appended to its
        ``trackingHistory``; the REST order's fulfillment follows. Caller holds ``self.lock``."""
        fulfillment_id = str(variables.get("fulfillmentId") or "")
        tracking_in = variables.get("trackingInfoInput")
        record = next((f for f in self.fulfillments if f["id"] == fulfillment_id), None)
        errors: list[dict[str, Any]] = []
        if record is None:
            errors.append(_user_error(["fulfillmentId"], "Fulfillment does not exist."))
        elif record["status"] == "CANCELLED":
            errors.append(_user_error(["fulfillmentId"], "Tracking cannot be updated on a cancelled fulfillment."))
        if not isinstance(tracking_in, dict) or not tracking_in:
            errors.append(_user_error(["trackingInfoInput"], "Tracking info input must not be empty."))
        else:
            errors += _tracking_errors(tracking_in, ["trackingInfoInput"])
        if errors or record is None or not isinstance(tracking_in, dict):
            return {"fulfillment": None, "userErrors": errors}

        notify = bool(variables.get("notifyCustomer") or False)
        tracking = _tracking_info(tracking_in)
        record["trackingInfo"] = tracking
        record["trackingHistory"].append(
            {"trackingInfo": copy.deepcopy(tracking), "notifyCustomer": notify, "at": _now_z()}
        )
        order = self.find_order(record["orderId"])
        rest = next(
            (f for f in (order or {}).get("fulfillments") or [] if f.get("admin_graphql_api_id") == fulfillment_id),
            None,
        )
        if order is not None and rest is not None:
            _set_rest_tracking(rest, tracking)
            order["updated_at"] = datetime.now(UTC).isoformat(timespec="seconds")
        return {
            "fulfillment": {"id": record["id"], "status": record["status"], "trackingInfo": copy.deepcopy(tracking)},
            "userErrors": [],
        }

    def _apply_to_rest_order(
        self,
        order_gid: str | None,
        plan: list[tuple[dict[str, Any], int]],
        fulfillment_id: int,
        tracking: list[dict[str, Any]],
        created_at: str,
    ) -> None:
        order = self.find_order(order_gid) if order_gid else None
        if order is None:
            return
        by_gid = {
            line.get("admin_graphql_api_id") or gid("LineItem", line["id"]): line
            for line in order.get("line_items", [])
        }
        for fo_line, quantity in plan:
            line = by_gid.get(fo_line["lineItem"]["id"])
            if line is not None:
                line["fulfillable_quantity"] = max(0, int(line.get("fulfillable_quantity", 0)) - quantity)
                line["fulfillment_status"] = "fulfilled" if line["fulfillable_quantity"] == 0 else "partial"
        remaining = sum(int(line.get("fulfillable_quantity", 0)) for line in order.get("line_items", []))
        order["fulfillment_status"] = "fulfilled" if remaining == 0 else "partial"
        rest = {
            "id": fulfillment_id,
            "admin_graphql_api_id": gid("Fulfillment", fulfillment_id),
            "order_id": order["id"],
            "status": "success",
            "created_at": created_at,
            "location_id": LOCATION_ID,
        }
        _set_rest_tracking(rest, tracking)
        order.setdefault("fulfillments", []).append(rest)
        order["updated_at"] = datetime.now(UTC).isoformat(timespec="seconds")


def _set_rest_tracking(rest: dict[str, Any], tracking: list[dict[str, Any]]) -> None:
    """A REST fulfillment's tracking fields (contract §4 legacy REST) from a ``trackingInfo`` list."""
    first = tracking[0] if tracking else {}
    rest["tracking_company"] = first.get("company")
    rest["tracking_number"] = first.get("number")
    rest["tracking_numbers"] = [t["number"] for t in tracking if t.get("number")]
    rest["tracking_url"] = first.get("url")
    rest["tracking_urls"] = [t["url"] for t in tracking if t.get("url")]
