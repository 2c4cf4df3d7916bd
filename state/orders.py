"""Orders pages: the dashboard list and one order."""

from __future__ import annotations

import asyncio
import dataclasses
import math
import uuid
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import ClassVar

import reflex as rx

from app.orders import machine, service
from app.orders.inputs import LineInput, OrderInput
from app.orders.models import Order
from app.platform import auth, retry
from app.platform.db import tenant_session
from app.platform.errors import DomainError
from state.base import AppState, current_principal, guarded, in_tenant
from state.live import Live, LiveState
from state.paging import PagedState


def _date(value: str) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


@dataclasses.dataclass
class OrderRow:
    """One order in the orders table."""

    id: str = ""
    number: str = ""
    source: str = ""
    customer: str = ""
    email: str = ""
    city: str = ""
    country: str = ""
    status: str = ""
    fulfillment: str = ""
    total: str = ""  # "EUR 1,234.00"
    placed: str = ""
    problems: int = 0  # how many problems the order has


@dataclasses.dataclass
class StatusCount:
    """How many orders (of the current filter) have one status: a pill and a bar."""

    status: str = ""
    label: str = ""
    count: int = 0
    color: str = ""


@dataclasses.dataclass
class DayCount:
    """Orders placed on one day (the chart's bar)."""

    day: str = ""
    orders: int = 0


@dataclasses.dataclass
class OrderView(OrderRow):
    """One order's page: its row, the addresses, money, shipping and build."""

    phone: str = ""
    ship_name: str = ""
    company: str = ""
    street: str = ""
    address2: str = ""
    postal_code: str = ""
    delivery: str = ""
    service_point: str = ""
    subtotal: str = ""
    shipping: str = ""
    tracking_number: str = ""
    tracking_url: str = ""
    carrier: str = ""
    note: str = ""
    problem_list: list[str] = dataclasses.field(default_factory=list)
    shopify_id: str = ""
    parts: str = ""  # "done/total"
    status_color: str = ""
    build_id: str = ""  # "" while the order has no build
    can_build: bool = False


@dataclasses.dataclass
class OrderLineRow:
    """One line item of an order."""

    sku: str = ""
    title: str = ""
    variant: str = ""
    qty: int = 0
    price: str = ""
    status: str = ""
    parts: str = ""
    problem: str = ""
    properties: str = ""


@dataclasses.dataclass
class TimelineEntry:
    """One event on an order's timeline."""

    at: str = ""
    type: str = ""
    severity: str = ""
    message: str = ""
    cid: str = ""  # the first 12 characters of the correlation id, or ""


@dataclasses.dataclass
class RetryRow:
    """A retried outbound operation of the order (fulfilment, cancellation…)."""

    id: str = ""
    type: str = ""
    status: str = ""
    attempts: int = 0
    error: str = ""
    needs: bool = False  # needs attention: offers "Try again"


def _row(o: Order) -> OrderRow:
    return OrderRow(
        id=str(o.id),
        number=o.number,
        source=o.source,
        customer=o.customer_name or "—",
        email=o.customer_email,
        city=o.ship_city,
        country=o.ship_country_code,
        status=o.status,
        fulfillment=o.fulfillment_status,
        total=f"{o.currency} {o.total:,.2f}",
        placed=o.placed_at.strftime("%Y-%m-%d %H:%M"),
        problems=len(o.problems or []),
    )


class OrdersState(LiveState, PagedState, AppState):
    PAGE_PERMISSION: ClassVar[str] = "orders.read"
    # live: refresh when orders change anywhere (webhooks, workers, colleagues), once a burst settles
    LIVE: ClassVar[Live] = Live("orders.read", "/orders", ("orders",), settle=math.inf)

    rows: list[OrderRow] = []
    counts: list[StatusCount] = []
    per_day: list[DayCount] = []
    search: str = ""
    status: str = "all"
    fulfillment: str = "all"
    source: str = "all"
    date_from: str = ""
    date_to: str = ""
    sort: str = "placed_at"
    descending: bool = True
    loaded: bool = False
    create_open: bool = False
    create_error: str = ""

    @rx.var
    def can_write(self) -> bool:
        return "orders.write" in self.permissions

    def _filter(self) -> service.OrderFilter:
        return service.OrderFilter(
            search=self.search,
            status="" if self.status == "all" else self.status,
            fulfillment_status="" if self.fulfillment == "all" else self.fulfillment,
            source="" if self.source == "all" else self.source,
            date_from=_date(self.date_from),
            date_to=_date(self.date_to),
            sort=self.sort,
            descending=self.descending,
            page=self.page,
            page_size=self.page_size,
        )

    def _fetch(self, tenant_id: uuid.UUID) -> None:
        f = self._filter()
        with tenant_session(tenant_id) as s:
            rows, total = service.list_orders(s, f)
            if f.page and not rows and total:
                f.page = self.page = max(0, -(-total // f.page_size) - 1)
                rows, total = service.list_orders(s, f)
            counts = service.status_counts(s, f)
            per_day = service.orders_per_day(s, 30)
        self.rows, self.total = [_row(o) for o in rows], total
        self.counts = [
            StatusCount(status=k, label=k.replace("_", " ").capitalize(), count=v, color=machine.ORDER_STATUS.color(k))
            for k, v in counts.items()
        ]
        self.per_day = [DayCount(day=d.strftime("%d %b"), orders=n) for d, n in per_day]

    async def _refresh(self) -> None:
        await asyncio.to_thread(self._fetch, current_principal().tenant_id)
        self.loaded = True

    @guarded("orders.read", quiet=True)
    async def load(self):
        params = self.router.url.query_parameters
        if params.get("status") in machine.ORDER_STATUSES:
            self.status = params["status"]
        await self._refresh()
        return OrdersState.watch

    @guarded("orders.read")
    async def set_search(self, value: str):
        self.search, self.page = value, 0
        await self._refresh()

    @guarded("orders.read")
    async def set_status(self, value: str):
        self.status, self.page = value, 0
        await self._refresh()

    @guarded("orders.read")
    async def set_fulfillment(self, value: str):
        self.fulfillment, self.page = value, 0
        await self._refresh()

    @guarded("orders.read")
    async def set_source(self, value: str):
        self.source, self.page = value, 0
        await self._refresh()

    @guarded("orders.read")
    async def set_date_from(self, value: str):
        self.date_from, self.page = value, 0
        await self._refresh()

    @guarded("orders.read")
    async def set_date_to(self, value: str):
        self.date_to, self.page = value, 0
        await self._refresh()

    @guarded("orders.read")
    async def clear_filters(self):
        self.search, self.status, self.fulfillment, self.source = "", "all", "all", "all"
        self.date_from = self.date_to = ""
        self.page = 0
        await self._refresh()

    @guarded("orders.read")
    async def sort_by(self, column: str):
        if self.sort == column:
            self.descending = not self.descending
        else:
            self.sort, self.descending = column, column in ("placed_at", "total")
        await self._refresh()

    @guarded("orders.write")
    def open_create(self):
        self.create_open, self.create_error = True, ""

    @guarded(None)
    def set_create_open(self, value: bool):
        self.create_open = value

    @guarded("orders.write")
    async def create_manual(self, form: dict):
        p = current_principal()
        try:
            price = Decimal(form.get("price") or "0")
            qty = int(form.get("quantity") or "1")
        except (InvalidOperation, ValueError):
            self.create_error = "Price and quantity must be numbers."
            return None
        data = OrderInput(
            source="manual",
            customer_name=form.get("customer_name", "").strip(),
            customer_email=form.get("customer_email", "").strip(),
            ship_street=form.get("street", "").strip(),
            ship_house_number=form.get("house_number", "").strip(),
            ship_city=form.get("city", "").strip(),
            ship_postal_code=form.get("postal_code", "").strip(),
            ship_country_code=form.get("country_code", "").strip().upper(),
            lines=[
                LineInput(
                    sku=form.get("sku", "").strip(), title=form.get("title", "").strip(), quantity=qty, unit_price=price
                )
            ],
        )
        data.ship_name = data.customer_name

        def apply() -> str:
            with tenant_session(p.tenant_id) as s:
                order = service.create_manual_order(s, data, actor=p)
                s.commit()
                return order.number

        try:
            number = await asyncio.to_thread(apply)
        except DomainError as exc:
            self.create_error = exc.message[:1].upper() + exc.message[1:] + "."
            return None
        self.create_open = False
        await self._refresh()
        return rx.toast.success(f"Order {number} created.")


class OrderDetailState(AppState):
    order: OrderView = OrderView()
    items: list[OrderLineRow] = []
    events: list[TimelineEntry] = []
    actions: list[str] = []
    attention: list[RetryRow] = []
    missing: str = ""
    error: str = ""
    ship_open: bool = False
    loaded: bool = False

    def _order_id(self) -> str:
        return self.router.url.path.rstrip("/").rsplit("/", 1)[-1]

    def _fetch(self, principal: auth.Principal) -> None:
        from app.builds import service as builds

        with tenant_session(principal.tenant_id) as s:
            o = service.get_order(s, self._order_id())
            build = builds.build_for_order(s, o.id)
            self.order = OrderView(
                **dataclasses.asdict(_row(o)),
                phone=o.customer_phone,
                ship_name=o.ship_name,
                company=o.ship_company,
                street=f"{o.ship_street} {o.ship_house_number}".strip(),
                address2=o.ship_address2,
                postal_code=o.ship_postal_code,
                delivery=o.delivery_type,
                service_point=", ".join(f"{k}: {v}" for k, v in (o.service_point or {}).items()),
                subtotal=f"{o.subtotal:,.2f}",
                shipping=f"{o.shipping_total:,.2f}",
                tracking_number=o.tracking_number,
                tracking_url=o.tracking_url,
                carrier=o.tracking_carrier,
                note=o.note,
                problem_list=[str(p) for p in o.problems or []],
                shopify_id=o.shopify_order_id or "",
                parts=f"{o.completed_parts}/{o.total_parts}",
                status_color=machine.ORDER_STATUS.color(o.status),
                build_id=str(build.id) if build else "",
                can_build=builds.offers_build(o, build, principal),
            )
            self.items = [
                OrderLineRow(
                    sku=li.sku or "—",
                    title=li.title,
                    variant=li.variant_title,
                    qty=li.quantity,
                    price=f"{li.unit_price:,.2f}",
                    status=li.status,
                    parts=f"{li.completed_parts}/{li.total_parts}",
                    problem=li.problem,
                    properties=", ".join(f"{k}: {v}" for k, v in (li.properties or {}).items()),
                )
                for li in service.line_items(s, o.id)
            ]
            self.events = [
                TimelineEntry(
                    at=e.created_at.strftime("%Y-%m-%d %H:%M:%S"),
                    type=e.event_type,
                    severity=e.severity,
                    message=e.message,
                    cid=str((e.meta or {}).get("correlationId") or "")[:12],
                )
                for e in service.timeline(s, o.id)
            ]
            self.actions = service.allowed_actions(s, o, principal)
            step, missing = service.next_step_problems(s, o)
            self.missing = f"{service.STEP_BANNERS[step]}: " + "; ".join(missing) + "." if missing else ""
            self.attention = [
                RetryRow(
                    id=str(r.id),
                    type=r.job_type,
                    status=r.status,
                    attempts=r.attempts,
                    error=r.last_error,
                    needs=r.needs_attention,
                )
                for r in service.retry_entries(s, o.id)
            ]

    async def _refresh(self) -> None:
        try:
            await asyncio.to_thread(self._fetch, current_principal())
            self.error = ""
        except DomainError as exc:
            self.error = exc.message
        self.loaded = True

    @guarded("orders.read", quiet=True)
    async def load(self):
        self.loaded, self.ship_open = False, False
        await self._refresh()

    async def _step(self, target: str, tracking: service.Tracking | None = None):
        order_id, p = self._order_id(), current_principal()
        try:
            await in_tenant(lambda s: service.advance_fulfillment(s, order_id, target, actor=p, tracking=tracking))
        except DomainError as exc:
            await self._refresh()  # what stops it now, in the banner
            return rx.toast.error(exc.message[:1].upper() + exc.message[1:] + ".")
        await self._refresh()
        return rx.toast.success(f"Order {self.order.number} is now {target}.")

    @guarded("orders.write")
    async def advance(self, target: str):
        return await self._step(target)

    @guarded("orders.write")
    def set_ship_open(self, value: bool):
        self.ship_open = value

    @guarded("orders.write")
    async def ship(self, form: dict):
        self.ship_open = False
        return await self._step(
            "shipped",
            service.Tracking(form.get("tracking_number", ""), form.get("tracking_url", ""), form.get("carrier", "")),
        )

    @guarded("orders.write")
    async def cancel(self, reason: str = "other"):
        order_id, p = self._order_id(), current_principal()
        await in_tenant(lambda s: service.cancel(s, order_id, actor=p, reason=reason))
        await self._refresh()
        return rx.toast.success(f"Order {self.order.number} cancelled.")

    @guarded("builds.write")
    async def create_build(self):
        from app.builds import service as builds

        order_id, p = self._order_id(), current_principal()
        try:
            build = await in_tenant(lambda s: builds.create_build(s, order_id, actor=p))
        except DomainError as exc:
            return rx.toast.error(exc.message)
        return rx.redirect(f"/builds/{build.id}")

    @guarded("orders.write")
    async def retry_now(self, entry_id: str):
        await in_tenant(lambda s: retry.retry_now(s, uuid.UUID(entry_id)))
        await self._refresh()
        return rx.toast.success("Trying again.")
