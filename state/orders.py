"""Orders pages: the dashboard list and one order."""

from __future__ import annotations

import asyncio
import dataclasses
import math
import uuid
from collections.abc import Callable
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar
from urllib.parse import urlencode

import reflex as rx
from sqlmodel import Session

from app.catalog import service as catalog
from app.orders import machine, service
from app.orders.inputs import LineInput, OrderInput
from app.orders.models import Order
from app.platform import auth, retry
from app.platform.db import tenant_session
from app.platform.errors import DomainError, ValidationFailed
from app.platform.formatting import ShopFormat
from app.printing import service as printing
from app.settings import get_settings
from app.shipping import service as shipping
from state.base import AppState, PageVisit, checks_inside, current_principal, guarded, in_tenant
from state.live import Live, LiveState
from state.paging import PagedState, last_page_index
from state.shipping import ShipmentView, TrackingStep, shipment_view, tracking_steps

SUGGESTIONS = 6  # matches shown under a SKU field
BULK_NAMED = 6  # refused orders named in a bulk action's toast (then "and n more")


def _date(value: str) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _amount(text: str) -> Decimal | None:
    """A typed amount ("12.50", "12,50"), or None when it is not one."""
    try:
        value = Decimal((text or "0").strip().replace(",", "."))
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def _sentence(message: str) -> str:
    message = message.strip()
    return message[:1].upper() + message[1:] + ("" if message.endswith((".", "!", "?")) else ".")


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
    total: str = ""  # "€1,234.00", in the shop's format
    placed: str = ""  # "29 Nov 2026, 14:05", in the shop's time zone
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
class DraftLine:
    """One line of the "New order" dialog, as typed, with what is wrong with it."""

    sku: str = ""
    title: str = ""
    quantity: str = "1"
    unit_price: str = "0"
    title_error: str = ""
    quantity_error: str = ""
    price_error: str = ""


@dataclasses.dataclass
class Suggestion:
    """A product a typed SKU or name matches: a sold part or a printed product."""

    sku: str = ""
    title: str = ""
    price: str = ""  # a plain decimal for the price field; "" when the product has no price
    price_text: str = ""  # the price as the shop writes it
    kind: str = ""  # "Part" | "Printed product"


@dataclasses.dataclass
class FormErrors:
    """What is wrong in the "New order" dialog, by field ("" = nothing)."""

    customer_name: str = ""
    customer_email: str = ""
    ship_street: str = ""
    ship_postal_code: str = ""
    ship_city: str = ""
    ship_country_code: str = ""
    shipping_total: str = ""
    lines: str = ""


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
    parts: str = ""  # "done of total"
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
    type: str = ""  # what happened, in words ("Fulfillment changed")
    severity: str = ""
    message: str = ""
    cid: str = ""  # the first 12 characters of the correlation id, or ""


@dataclasses.dataclass
class RetryRow:
    """A retried outbound operation of the order (fulfillment, cancellation…)."""

    id: str = ""
    operation: str = ""  # "Shopify fulfillment"
    status: str = ""  # the retry state's value (its badge)
    attempts: int = 0
    problem: str = ""  # what went wrong, as a sentence ("Shopify could not be reached.")
    detail: str = ""  # the technical error, behind "Show details"
    needs: bool = False  # needs attention: offers "Try again"


def _row(o: Order, fmt: ShopFormat) -> OrderRow:
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
        total=fmt.money(o.total, o.currency),
        placed=fmt.when(o.placed_at),
        problems=len(o.problems or []),
    )


def _bulk_toast(result: service.BulkResult, done_words: str, refused_words: str) -> rx.event.EventSpec:
    """ "3 orders cancelled." and, when some were refused, which and why."""
    n = len(result.done)
    head = f"{n} order{'' if n == 1 else 's'} {done_words}."
    if not result.refused:
        return rx.toast.success(head)
    named = [f"{number} ({_sentence(why).rstrip('.')})" for number, why in result.refused[:BULK_NAMED]]
    more = len(result.refused) - len(named)
    description = f"{refused_words}: " + "; ".join(named) + (f"; and {more} more" if more else "") + "."
    toast = rx.toast.warning if n else rx.toast.error
    return toast(head, description=description, duration=12_000)


def _suggest(tenant_id: uuid.UUID, typed: str, fmt: ShopFormat) -> list[Suggestion]:
    """Sold parts (the shop's active offers) and printed products (active
    print mappings) whose SKU or name matches what was typed."""
    typed = typed.strip()
    if len(typed) < 2:
        return []
    search = typed
    pieces = typed.split("-")
    if len(pieces) >= 3 and pieces[0].upper() == "PC":  # a part's SKU: look the part up by its id
        search = pieces[-1]
    found: list[Suggestion] = []
    with tenant_session(tenant_id) as s:
        for m in printing.list_mappings(s, typed)[: SUGGESTIONS * 2]:
            if m.active and len(found) < SUGGESTIONS:
                title = f"{m.name} – {m.variant_title}" if m.variant_title else m.name
                found.append(Suggestion(sku=m.sku, title=title, kind="Printed product"))
        offers, _ = catalog.list_offers(s, catalog.OfferFilter(search=search, status="active", page_size=SUGGESTIONS))
        for offer, part in offers:
            if offer is None or len(found) >= SUGGESTIONS * 2:
                continue
            found.append(
                Suggestion(
                    sku=catalog.part_sku(part.slot, part.id),
                    title=part.name,
                    price=f"{offer.price:.2f}",
                    price_text=fmt.money(offer.price, offer.currency),
                    kind="Part",
                )
            )
    return found[: SUGGESTIONS * 2]


class OrdersState(LiveState, PagedState, AppState):
    PAGE_PERMISSION: ClassVar[str] = "orders.read"
    URL_PARAMS: ClassVar[tuple[str, ...]] = (
        "search",
        "status",
        "fulfillment",
        "source",
        "date_from",
        "date_to",
        "sort",
        "descending",
    )
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
    page_size: int = 25
    loaded: bool = False
    export_href: str = ""  # the CSV of every order matching the filters
    # the "New order" dialog
    create_open: bool = False
    create_error: str = ""
    draft_lines: list[DraftLine] = []
    draft_shipping: str = "0"
    draft_total: str = ""
    form_errors: FormErrors = FormErrors()
    suggest_for: int = -1  # the line whose SKU field shows suggestions
    suggestions: list[Suggestion] = []

    @rx.var
    def can_write(self) -> bool:
        return "orders.write" in self.permissions

    @rx.var
    def export_selected_href(self) -> str:
        """The CSV of the ticked orders only."""
        return f"{get_settings().api_url}/api/v1/orders/export.csv?" + urlencode({"ids": ",".join(self.selected)})

    # --- the table -----------------------------------------------------------------------------

    def _filter(self, fmt: ShopFormat) -> service.OrderFilter:
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
            timezone=fmt.timezone,
        )

    def _export_href(self, f: service.OrderFilter) -> str:
        """The export route with the filters of this view (the API's names)."""
        params = {
            "search": f.search,
            "status": f.status,
            "fulfillmentStatus": f.fulfillment_status,
            "source": f.source,
            "from": f.date_from.isoformat() if f.date_from else "",
            "to": f.date_to.isoformat() if f.date_to else "",
            "sort": f.sort,
            "desc": "true" if f.descending else "false",
        }
        query = urlencode({k: v for k, v in params.items() if v})
        return f"{get_settings().api_url}/api/v1/orders/export.csv?{query}"

    def _fetch(self, principal: auth.Principal) -> None:
        fmt = principal.fmt
        f = self._filter(fmt)
        with tenant_session(principal.tenant_id) as s:
            rows, total = service.list_orders(s, f)
            if f.page and not rows and total:  # past the last page (a bookmark, fewer orders now)
                f.page = self.page = last_page_index(total, f.page_size)
                rows, total = service.list_orders(s, f)
            counts = service.status_counts(s, f)
            per_day = service.orders_per_day(s, 30, fmt.timezone)
        self.rows, self.total = [_row(o, fmt) for o in rows], total
        self.page_ids = [r.id for r in self.rows]
        self.selected = [i for i in self.selected if i in self.page_ids]
        self.counts = [
            StatusCount(status=k, label=machine.ORDER_STATUS.label(k), count=v, color=machine.ORDER_STATUS.color(k))
            for k, v in counts.items()
        ]
        self.per_day = [DayCount(day=fmt.short_day(d), orders=n) for d, n in per_day]
        self.export_href = self._export_href(f)

    async def _refresh(self) -> None:
        await asyncio.to_thread(self._fetch, current_principal())
        self.loaded = True

    async def _live_refresh(self, principal: auth.Principal, token: str) -> None:
        async with self:
            if self._watch_token == token:
                await asyncio.to_thread(self._fetch, principal)

    def _clean_view(self) -> None:
        """A hand-edited URL may say anything: unknown values read as "all"."""
        if self.status not in machine.ORDER_STATUSES:
            self.status = "all"
        if self.fulfillment not in machine.FULFILLMENT_STATUSES:
            self.fulfillment = "all"
        if self.source not in machine.SOURCES:
            self.source = "all"
        if self.sort not in service.SORTS:
            self.sort = "placed_at"
        self.date_from = self.date_from if _date(self.date_from) else ""
        self.date_to = self.date_to if _date(self.date_to) else ""

    @guarded("orders.read", quiet=True)
    async def load(self):
        self._read_url()
        self._clean_view()
        await self._refresh()
        return OrdersState.watch

    @guarded("orders.read")
    async def set_search(self, value: str):
        return await self._search(search=value.strip())

    @guarded("orders.read")
    def set_status(self, value: str):
        return self._navigate(status=value)

    @guarded("orders.read")
    def set_fulfillment(self, value: str):
        return self._navigate(fulfillment=value)

    @guarded("orders.read")
    def set_source(self, value: str):
        return self._navigate(source=value)

    @guarded("orders.read")
    def set_date_from(self, value: str):
        return self._navigate(date_from=value)

    @guarded("orders.read")
    def set_date_to(self, value: str):
        return self._navigate(date_to=value)

    @guarded("orders.read")
    def clear_filters(self):
        return self._navigate(**self._defaults())

    @guarded("orders.read")
    def sort_by(self, column: str):
        if self.sort == column:
            return self._navigate(descending=not self.descending)
        return self._navigate(sort=column, descending=column in ("placed_at", "total"))

    # --- bulk actions ----------------------------------------------------------------------------

    @guarded("orders.write")
    async def bulk_cancel(self):
        ids, p = list(self.selected), current_principal()
        result = await in_tenant(lambda s: service.cancel_many(s, ids, actor=p, reason="other"))
        self.selected = []
        await self._refresh()
        return _bulk_toast(result, "cancelled", "Not cancelled")

    @guarded("orders.write")
    async def bulk_advance(self, target: str):
        ids, p = list(self.selected), current_principal()
        result = await in_tenant(lambda s: service.advance_many(s, ids, target, actor=p))
        self.selected = []
        await self._refresh()
        label = machine.FULFILLMENT_STATUS.label(target).lower()
        return _bulk_toast(result, f"now {label}", "Not changed")

    # --- the "New order" dialog ------------------------------------------------------------------

    def _recount(self) -> None:
        """The dialog's total as typed so far (lines that do not parse count as nothing)."""
        total = _amount(self.draft_shipping) or Decimal("0")
        for line in self.draft_lines:
            quantity = (line.quantity or "").strip()
            total += (_amount(line.unit_price) or Decimal("0")) * (int(quantity) if quantity.isdigit() else 0)
        fmt = current_principal().fmt
        self.draft_total = fmt.money(total, fmt.currency)

    @guarded("orders.write")
    def open_create(self):
        self.create_open, self.create_error = True, ""
        self.form_errors = FormErrors()
        self.draft_lines = [DraftLine()]
        self.draft_shipping = "0"
        self.suggest_for, self.suggestions = -1, []
        self._recount()

    @guarded("orders.write")
    def set_create_open(self, value: bool):
        self.create_open = value

    @guarded("orders.write")
    def add_line(self):
        self.draft_lines = [*self.draft_lines, DraftLine()]
        self._recount()

    @guarded("orders.write")
    def remove_line(self, index: int):
        if len(self.draft_lines) > 1 and 0 <= index < len(self.draft_lines):
            self.draft_lines = [line for i, line in enumerate(self.draft_lines) if i != index]
            self.suggest_for, self.suggestions = -1, []
        self._recount()

    @guarded("orders.write")
    def set_line(self, index: int, name: str, value: str):
        if not 0 <= index < len(self.draft_lines) or name not in ("title", "quantity", "unit_price"):
            return
        lines = list(self.draft_lines)
        lines[index] = dataclasses.replace(lines[index], **{name: value[:300]})
        self.draft_lines = lines
        self._recount()

    @guarded("orders.write")
    def set_shipping(self, value: str):
        self.draft_shipping = value[:20]
        self._recount()

    @guarded("orders.write")
    async def lookup(self, index: int, value: str):
        """The SKU field: keep what was typed and suggest what it matches."""
        if not 0 <= index < len(self.draft_lines):
            return
        lines = list(self.draft_lines)
        lines[index] = dataclasses.replace(lines[index], sku=value[:100])
        self.draft_lines = lines
        p = current_principal()
        self.suggestions = await asyncio.to_thread(_suggest, p.tenant_id, value, p.fmt)
        self.suggest_for = index if self.suggestions else -1

    @guarded("orders.write")
    def pick(self, index: int, choice: int):
        """Fill a line from a suggestion: its SKU, title and (when known) price."""
        if not 0 <= index < len(self.draft_lines) or not 0 <= choice < len(self.suggestions):
            return
        s = self.suggestions[choice]
        lines = list(self.draft_lines)
        lines[index] = dataclasses.replace(
            lines[index], sku=s.sku, title=s.title, unit_price=s.price or lines[index].unit_price, title_error=""
        )
        self.draft_lines = lines
        self.suggest_for, self.suggestions = -1, []
        self._recount()

    @guarded("orders.write")
    def close_suggestions(self):
        self.suggest_for, self.suggestions = -1, []

    def _show_errors(self, fields: dict[str, str]) -> None:
        """Put each message next to its field ("lines.1.title" on line 2's title)."""
        known = {f.name for f in dataclasses.fields(FormErrors)}
        self.form_errors = FormErrors(**{k: v for k, v in fields.items() if k in known})
        lines = []
        for i, line in enumerate(self.draft_lines):
            lines.append(
                dataclasses.replace(
                    line,
                    title_error=fields.get(f"lines.{i}.title", ""),
                    quantity_error=fields.get(f"lines.{i}.quantity", ""),
                    price_error=fields.get(f"lines.{i}.unit_price", ""),
                )
            )
        self.draft_lines = lines

    @guarded("orders.write")
    async def create_manual(self, form: dict):
        p = current_principal()
        self.create_error, self.suggest_for, self.suggestions = "", -1, []
        unreadable: dict[str, str] = {}  # what is not a number at all
        lines: list[LineInput] = []
        for i, draft in enumerate(self.draft_lines):
            quantity = 1
            try:
                quantity = int((draft.quantity or "").strip())
            except ValueError:
                unreadable[f"lines.{i}.quantity"] = "Enter a whole number."
            price = _amount(draft.unit_price)
            if price is None:
                unreadable[f"lines.{i}.unit_price"] = "Enter a price, like 12.50."
            lines.append(
                LineInput(
                    sku=draft.sku.strip(), title=draft.title.strip(), quantity=quantity, unit_price=price or Decimal(0)
                )
            )
        shipping = _amount(self.draft_shipping)
        if shipping is None:
            unreadable["shipping_total"] = "Enter an amount, like 6.95."
        data = OrderInput(
            source="manual",
            customer_name=str(form.get("customer_name", "")).strip(),
            customer_email=str(form.get("customer_email", "")).strip(),
            customer_phone=str(form.get("customer_phone", "")).strip(),
            ship_street=str(form.get("ship_street", "")).strip(),
            ship_house_number=str(form.get("ship_house_number", "")).strip(),
            ship_city=str(form.get("ship_city", "")).strip(),
            ship_postal_code=str(form.get("ship_postal_code", "")).strip(),
            ship_country_code=str(form.get("ship_country_code", "")).strip().upper(),
            currency=p.fmt.currency,
            shipping_total=shipping or Decimal(0),
            note=str(form.get("note", "")).strip()[:2000],
            lines=lines,
        )
        data.ship_name = data.customer_name
        if unreadable:
            self._show_errors({**service.manual_order_errors(data), **unreadable})
            return None

        def apply() -> str:
            with tenant_session(p.tenant_id) as s:
                order = service.take_manual_order(s, data, actor=p)
                s.commit()
                return order.number

        try:
            number = await asyncio.to_thread(apply)
        except ValidationFailed as exc:
            fields = exc.details.get("fields") or {}
            self._show_errors(fields)
            if not fields:
                self.create_error = _sentence(exc.message)
            return None
        except DomainError as exc:
            self._show_errors({})
            self.create_error = _sentence(exc.message)
            return None
        self.create_open = False
        self.form_errors = FormErrors()
        await self._refresh()
        return rx.toast.success(f"Order {number} created.")


@dataclasses.dataclass
class MethodOption:
    """A shipping method Sendcloud offers (the "Edit parcel" drop-down)."""

    value: str = ""
    label: str = ""


def _shipping_methods(tenant_id: uuid.UUID, to_service_point: bool) -> tuple[list[MethodOption], str]:
    """The methods that go where the parcel goes (a service point or a door), or why Sendcloud did not say."""
    try:
        with tenant_session(tenant_id) as s:
            _, methods = shipping.choices(s)
    except DomainError as exc:
        return [], _sentence(exc.message)
    return [
        MethodOption(str(m["id"]), m["name"]) for m in methods if bool(m.get("servicePoint")) == to_service_point
    ], ""


def _parcel_change(form: dict, methods: dict[str, str]) -> shipping.ParcelChange:
    """What "Edit parcel" or "Remake label" typed; empty fields change nothing."""

    def whole(name: str, what: str) -> int | None:
        raw = str(form.get(name) or "").strip()
        if not raw:
            return None
        if not raw.isdigit():
            raise ValidationFailed(f"{what} must be a whole number")
        return int(raw)

    method = str(form.get("method") or "").strip()
    return shipping.ParcelChange(
        weight_grams=whole("weight", "the weight in grams"),
        length_cm=whole("length", "the length in cm"),
        width_cm=whole("width", "the width in cm"),
        height_cm=whole("height", "the height in cm"),
        shipping_method_id=int(method) if method.isdigit() and method in methods else None,
        shipping_method_name=methods.get(method),
    )


class OrderDetailState(PageVisit, LiveState, AppState):
    # live: the order (and its shipment) as workers, webhooks and colleagues change it
    LIVE: ClassVar[Live] = Live("orders.read", "/orders", ("orders", shipping.LIVE_KIND), settle=1.0)

    order: OrderView = OrderView()
    items: list[OrderLineRow] = []
    events: list[TimelineEntry] = []
    actions: list[str] = []
    attention: list[RetryRow] = []
    missing: str = ""
    error: str = ""
    ship_open: bool = False
    loaded: bool = False
    # the shipment card (with shipping.read)
    shipment: ShipmentView = ShipmentView()
    tracking: list[TrackingStep] = []
    label_problems: list[str] = []
    sendcloud: bool = False  # connected: labels are made by Sendcloud
    parcel_open: bool = False
    remake_open: bool = False
    methods: list[MethodOption] = []
    methods_error: str = ""
    _watched_path: str = ""

    @rx.var
    def can_write(self) -> bool:
        return "orders.write" in self.permissions

    @rx.var
    def can_see_shipping(self) -> bool:
        return "shipping.read" in self.permissions

    @rx.var
    def can_ship(self) -> bool:
        return "shipping.write" in self.permissions

    def _order_id(self) -> str:
        return self.router.url.path.rstrip("/").rsplit("/", 1)[-1]

    def _fetch(self, principal: auth.Principal) -> None:
        from app.builds import service as builds

        fmt = principal.fmt
        with tenant_session(principal.tenant_id) as s:
            o = service.get_order(s, self._order_id())
            build = builds.build_for_order(s, o.id)
            self.order = OrderView(
                **dataclasses.asdict(_row(o, fmt)),
                phone=o.customer_phone,
                ship_name=o.ship_name,
                company=o.ship_company,
                street=f"{o.ship_street} {o.ship_house_number}".strip(),
                address2=o.ship_address2,
                postal_code=o.ship_postal_code,
                delivery=machine.words(machine.DELIVERY_TYPE, o.delivery_type),
                service_point=", ".join(str(v) for k, v in (o.service_point or {}).items() if k != "id" and v),
                subtotal=fmt.money(o.subtotal, o.currency),
                shipping=fmt.money(o.shipping_total, o.currency),
                tracking_number=o.tracking_number,
                tracking_url=o.tracking_url,
                carrier=o.tracking_carrier,
                note=o.note,
                problem_list=[str(p) for p in o.problems or []],
                shopify_id=o.shopify_order_id or "",
                parts=f"{o.completed_parts} of {o.total_parts}" if o.total_parts else "—",
                build_id=str(build.id) if build else "",
                can_build=builds.offers_build(o, build, principal),
            )
            self.items = [
                OrderLineRow(
                    sku=li.sku or "—",
                    title=li.title,
                    variant=li.variant_title,
                    qty=li.quantity,
                    price=fmt.money(li.unit_price, o.currency),
                    status=li.status,
                    parts=f"{li.completed_parts} of {li.total_parts}" if li.total_parts else "—",
                    problem=li.problem,
                    properties=", ".join(f"{k}: {v}" for k, v in service.shown_properties(li.properties)),
                )
                for li in service.line_items(s, o.id)
            ]
            self.events = [
                TimelineEntry(
                    at=fmt.when(e.created_at, seconds=True),
                    type=machine.words(machine.TIMELINE_EVENT, e.event_type),
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
                    operation=machine.words(machine.RETRY_OPERATION, r.job_type),
                    status=r.status,
                    attempts=r.attempts,
                    problem=machine.retry_error(r.job_type, r.last_error),
                    detail=r.last_error,
                    needs=r.needs_attention,
                )
                for r in service.retry_entries(s, o.id)
            ]
            self._fetch_shipping(s, o, principal)

    def _fetch_shipping(self, s: Session, o: Order, principal: auth.Principal) -> None:
        """The shipment card: the order's shipment, its tracking history, and
        what stops a label now."""
        if not principal.can("shipping.read"):
            return
        found = shipping.shipment_for_order(s, o.id)
        self.sendcloud = shipping.connection(s) is not None
        problems = shipping.label_problems(s, o)
        self.label_problems = [_sentence(p) for p in problems]
        self.shipment = shipment_view(found, principal.fmt, connected=self.sendcloud, order_open=not problems)
        self.tracking = tracking_steps(s, found, principal.fmt)

    async def _refresh(self) -> None:
        try:
            await asyncio.to_thread(self._fetch, current_principal())
            self.error = ""
        except DomainError as exc:
            self.error = _sentence(exc.message)
        self.loaded = True

    @guarded("orders.read", quiet=True)
    async def load(self):
        if self._new_visit():  # not when the page loads itself again (a reconnect)
            self.loaded, self.ship_open = False, False
            self.parcel_open = self.remake_open = False
        await self._refresh()
        return OrderDetailState.watch

    # --- live updates: this order's page, while it stays open --------------------------------

    def _live_start(self, principal: auth.Principal) -> Any:
        self._watched_path = self.router.url.path.rstrip("/")
        return principal.tenant_id

    def _live_here(self) -> bool:
        return self.router.url.path.rstrip("/") == self._watched_path

    def _live_wanted(self, message: dict) -> bool:
        """Shipping news (it names no order) and news of this order or of
        several (a batch names one of them, or none)."""
        kind = message.get("kind")
        if kind == shipping.LIVE_KIND:
            return True
        return kind == "orders" and message.get("orderId") in (None, self._watched_path.rsplit("/", 1)[-1])

    async def _live_refresh(self, principal: auth.Principal, token: str) -> None:
        async with self:
            if self._watch_token != token:
                return
            try:
                await asyncio.to_thread(self._fetch, principal)
            except DomainError:
                return  # the order is gone: the page says so on its next load

    async def _step(self, target: str, tracking: service.Tracking | None = None):
        order_id, p = self._order_id(), current_principal()
        try:
            await in_tenant(lambda s: service.advance_fulfillment(s, order_id, target, actor=p, tracking=tracking))
        except DomainError as exc:
            await self._refresh()  # what stops it now, in the banner
            return rx.toast.error(_sentence(exc.message))
        await self._refresh()
        label = machine.FULFILLMENT_STATUS.label(target).lower()
        return rx.toast.success(f"Order {self.order.number} is now {label}.")

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
        try:
            await in_tenant(lambda s: service.cancel(s, order_id, actor=p, reason=reason))
        except DomainError as exc:
            await self._refresh()
            return rx.toast.error(_sentence(exc.message))
        await self._refresh()
        return rx.toast.success(f"Order {self.order.number} cancelled.")

    @guarded("builds.write")
    async def create_build(self):
        from app.builds import service as builds

        order_id, p = self._order_id(), current_principal()
        try:
            build = await in_tenant(lambda s: builds.create_build(s, order_id, actor=p))
        except DomainError as exc:
            return rx.toast.error(_sentence(exc.message))
        return rx.redirect(f"/builds/{build.id}")

    @guarded("orders.write")
    async def retry_now(self, entry_id: str):
        await in_tenant(lambda s: retry.retry_now(s, uuid.UUID(entry_id)))
        await self._refresh()
        return rx.toast.success("Trying again.")

    # --- the shipment card ---------------------------------------------------------------------

    async def _ship_act(self, work: Callable[[Session], object], ok: str):
        """A shipment action: its refusal (a parcel with the carrier, a label
        Sendcloud will not void) as an error toast, the card fresh either way."""
        try:
            await in_tenant(work)
        except DomainError as exc:
            await self._refresh()
            return rx.toast.error(_sentence(exc.message))
        await self._refresh()
        return rx.toast.success(ok)

    @guarded("shipping.write")
    async def create_label(self):
        order_id, p = self._order_id(), current_principal()
        return await self._ship_act(
            lambda s: shipping.create_label(s, order_id, actor=p),
            "Label requested: it shows here as soon as Sendcloud has made it.",
        )

    @guarded("shipping.write")
    def set_parcel_open(self, value: bool):
        self.parcel_open = value
        if value:
            self.methods_error = ""
            return OrderDetailState.load_methods
        return None

    @rx.event(background=True)
    @checks_inside("shipping.write")
    async def load_methods(self):
        """The shipping methods Sendcloud offers (a call to Sendcloud, in the
        background): the ones that go where this parcel goes."""
        async with self:
            _, principal = await self._check("shipping.write", True)
            if principal is None or not self.sendcloud:
                return
            to_point = self.shipment.to_service_point
        methods, error = await asyncio.to_thread(_shipping_methods, principal.tenant_id, to_point)
        async with self:
            current = self.shipment.method_id
            if current and all(m.value != current for m in methods):
                methods = [MethodOption(current, self.shipment.method or "the current method"), *methods]
            self.methods, self.methods_error = methods, error

    @guarded("shipping.write")
    async def save_parcel(self, form: dict):
        """ "Edit parcel": weight, size and method before the label is made."""
        try:
            change = _parcel_change(form, {m.value: m.label for m in self.methods})
        except ValidationFailed as exc:
            return rx.toast.error(_sentence(exc.message))
        shipment_id, p = self.shipment.id, current_principal()
        self.parcel_open = False
        return await self._ship_act(
            lambda s: shipping.update_parcel(s, shipment_id, change, actor=p), "Parcel updated."
        )

    @guarded("shipping.write")
    def set_remake_open(self, value: bool):
        self.remake_open = value

    @guarded("shipping.write")
    async def remake_label(self, form: dict):
        """Void the label and make a new one (with a new weight, if given)."""
        try:
            change = _parcel_change({"weight": form.get("weight", "")}, {})
        except ValidationFailed as exc:
            return rx.toast.error(_sentence(exc.message))
        shipment_id, p = self.shipment.id, current_principal()
        self.remake_open = False
        return await self._ship_act(
            lambda s: shipping.remake_label(s, shipment_id, change, actor=p),
            "The old label is voided; the new one shows here as soon as Sendcloud has made it.",
        )

    @guarded("shipping.write")
    async def void_label(self):
        shipment_id, p = self.shipment.id, current_principal()
        return await self._ship_act(
            lambda s: shipping.void_label(s, shipment_id, actor=p),
            "Label voided. The order stays; make a new label when it is ready to go.",
        )
