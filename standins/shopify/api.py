"""The Shopify stand-in's HTTP side: ``POST /admin/api/{version}/graphql.json`` with the version,
token, throttle and query-cost behaviour of the contract, dispatching to the shop's operations
(store.py), plus the server's lifecycle and ``seeded_standin``."""

from __future__ import annotations

import asyncio
import copy
import hmac
import json
import re
from datetime import UTC, datetime, timedelta, timezone
from types import TracebackType
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from app.orders.samples import DEFAULT_TOKEN, make_order
from standins.server import ThreadedServer
from standins.shopify.store import API_VERSION, ShopifyStore

INVALID_TOKEN_BODY = {"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}
THROTTLE_DOCS = "https://shopify.dev/api/usage/rate-limits"

_VERSION_RE = re.compile(r"^(\d{4}-(01|04|07|10)|unstable)$")
_FULFILLMENT_CREATE_RE = re.compile(r"\b(fulfillmentCreate(?:V2)?)\s*\(")
_TRACKING_UPDATE_RE = re.compile(r"\b(fulfillmentTrackingInfoUpdate(?:V2)?)\s*\(")
_ORDERS_RE = re.compile(r"\borders\s*\(")
_ORDER_RE = re.compile(r"\border\s*\(")


class ShopifyStandin(ShopifyStore):
    """In-memory Shopify shop with a GraphQL Admin endpoint (see the package docstring).

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

        self._http: ThreadedServer | None = None
        self.base_url: str | None = None
        self.app = Starlette(
            routes=[
                Route("/admin/api/{version}/graphql.json", self._graphql, methods=["POST"]),
                Route("/_standin/health", self._health, methods=["GET"]),
            ]
        )
        super().__init__(orders)  # the shop's state, then ``orders``

    # -- HTTP --------------------------------------------------------------------------------

    @property
    def graphql_url(self) -> str:
        if self.base_url is None:
            raise RuntimeError("stand-in not started")
        return f"{self.base_url}/admin/api/{self.api_version}/graphql.json"

    def _cost(self, requested: int, actual: int | None) -> dict[str, Any]:
        available = self.maximum_available - (actual or 0)
        return {
            "cost": {
                "requestedQueryCost": requested,
                "actualQueryCost": actual,
                "throttleStatus": {
                    "maximumAvailable": float(self.maximum_available),
                    "currentlyAvailable": int(available) if available == int(available) else available,
                    "restoreRate": float(self.restore_rate),
                },
            }
        }

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
            return JSONResponse(
                {"errors": {"query": "Required parameter missing or invalid"}}, status_code=400, headers=version_header
            )

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
        tracking_update = _TRACKING_UPDATE_RE.search(query)
        if mutation:
            with self.lock:
                payload = self._fulfillment_create(variables)
            data: dict[str, Any] = {mutation.group(1): payload}
            cost = self._cost(10, 10)
        elif tracking_update:
            with self.lock:
                payload = self._fulfillment_tracking_update(variables)
            data = {tracking_update.group(1): payload}
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
                "Stand-in does not understand this operation "
                "(supported: orders, order, fulfillmentCreate, fulfillmentTrackingInfoUpdate)",
                version_header,
                code="undefinedField",
            )
        return JSONResponse({"data": data, "extensions": cost}, headers=version_header)

    def _graphql_error(
        self, message: str, headers: dict[str, str], *, code: str = "argumentLiteralsIncompatible"
    ) -> Response:
        body = {
            "errors": [{"message": message, "locations": [{"line": 1, "column": 1}], "extensions": {"code": code}}],
            "extensions": self._cost(1, 0),
        }
        return JSONResponse(body, headers=headers)

    def _throttled_response(self, version_header: dict[str, str]) -> Response:
        available = 10
        requested = available + max(1, round(self.restore_rate * self.throttle_wait))
        body = {
            "errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED", "documentation": THROTTLE_DOCS}}],
            "extensions": {
                "cost": {
                    "requestedQueryCost": requested,
                    "actualQueryCost": None,
                    "throttleStatus": {
                        "maximumAvailable": float(self.maximum_available),
                        "currentlyAvailable": available,
                        "restoreRate": float(self.restore_rate),
                    },
                }
            },
        }
        headers = dict(version_header)
        if self.throttle_status == 429:
            headers["Retry-After"] = f"{self.throttle_wait:g}"
        return JSONResponse(body, status_code=self.throttle_status, headers=headers)

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

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


# ---------------------------------------------------------------------------------------------
# Seeding
# ---------------------------------------------------------------------------------------------


def _amsterdam(moment: datetime) -> datetime:
    """Roughly Europe/Amsterdam: +02:00 from April to October, +01:00 otherwise."""
    return moment.astimezone(timezone(timedelta(hours=2 if 4 <= moment.month <= 10 else 1)))


def seeded_standin(count: int, *, days: int = 30, now: datetime | None = None, **kwargs: Any) -> ShopifyStandin:
    """A stand-in holding ``count`` orders spread evenly over the last ``days`` days, like a shop
    that has been trading: every 17th is cancelled; of the rest, every 4th was fulfilled in
    Shopify's admin with PostNL tracking (history a backfill must not make again) and every 10th
    from the 3rd on had one piece of its first line fulfilled (partly fulfilled)."""
    end = (now or datetime.now(UTC)).replace(microsecond=0)
    start = end - timedelta(days=days)
    step = timedelta(days=days) / max(count, 1)
    standin = ShopifyStandin(**kwargs)
    for n in range(1, count + 1):
        created = _amsterdam(start + step * (n - 1))
        order = standin.add_order(make_order(n, created_at=created, cancelled=(n % 17 == 0)))
        if order["cancelled_at"]:
            continue
        if n % 4 == 0:
            number = f"3SSTANDIN{n:06d}"
            standin.fulfil(
                order["id"],
                tracking={"company": "PostNL", "number": number, "url": f"https://postnl.example/track/{number}"},
            )
        elif n % 10 == 3 and sum(line["quantity"] for line in order["line_items"]) > 1:
            standin.fulfil(order["id"], skus={order["line_items"][0]["sku"]: 1})
    return standin
