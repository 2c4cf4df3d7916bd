"""/shipping: the packing bench (orders ready to ship, their labels, one PDF
of labels and packing slips, a scan field) and the tracking board (parcels on
their way, stuck ones first), both updating live.

The view (bench or tracking board), the bench's label filter, search and page
live in the URL, so a bookmark opens the same list and the back button returns
to the previous one. The PDFs come from the shipping API
(`/api/v1/shipping/labels.pdf`, `/api/v1/shipping/shipments/{id}/label`):
the browser opens them in a new tab with its session cookie, so the page only
builds their addresses.

The pieces that show a shipment (`shipment_view`, `tracking_steps`, the words
for weights and sizes) are shared with the order page (state/orders.py).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import re
import uuid
from datetime import UTC, datetime
from typing import ClassVar
from urllib.parse import urlencode

import reflex as rx
from sqlmodel import Session

from app.platform import auth
from app.platform.db import tenant_session
from app.platform.errors import DomainError
from app.platform.formatting import ShopFormat
from app.platform.machine import Status, StatusTable
from app.settings import get_settings
from app.shipping import machine, service
from app.shipping.models import SendcloudConnection, Shipment
from state.base import AppState, current_principal, guarded, in_tenant
from state.live import Live, LiveState
from state.paging import PagedState, last_page_index
from state.util import sentence

VIEWS = ("bench", "tracking")
LABEL_FILTERS = ("", "ready", "waiting", "problem")
# A bench row's label state (its badge); the filter chips use the first three.
LABEL_STATE = StatusTable(
    Status("ready", "Label made", "green"),
    Status("waiting", "Waiting for its label", "gray"),
    Status("problem", "Problem", "red"),
    Status("manual", "No Sendcloud", "amber"),
)
# Where a tracking step came from, in words.
STEP_SOURCES = {"webhook": "Sendcloud", "poll": "tracking check", "label": "label made", "staff": "staff"}
# What the reconciliation's outcomes mean, for its toast.
RECONCILE_WORDS = {
    "applied": "moved on",
    "no-change": "unchanged",
    "duplicate": "already known",
    "out-of-order": "older news ignored",
    "refused": "not moved back",
    "unknown-parcel": "not ours",
}


EXCEPTION_PREFIX = re.compile(r"^(?:[A-Za-z_.]*(?:Error|Exception): )+")


def api_url(path: str, **query: str) -> str:
    """An address on the shipping API (the browser sends its session cookie)."""
    base = f"{get_settings().api_url.rstrip('/')}/api/v1/{path.lstrip('/')}"
    return f"{base}?{urlencode(query)}" if query else base


def labels_href(order_ids: list[str]) -> str:
    """One PDF of these orders' labels and packing slips, in pack order."""
    return api_url("shipping/labels.pdf", orders=",".join(order_ids)) if order_ids else ""


def label_href(shipment_id: str) -> str:
    return api_url(f"shipping/shipments/{shipment_id}/label")


def weight_words(fmt: ShopFormat, grams: int | None) -> str:
    """ "850 g", "1.25 kg" in the shop's number format; "" when unknown."""
    if not grams:
        return ""
    return f"{fmt.number(grams / 1000, 2)} kg" if grams >= 1000 else f"{grams} g"


def size_words(length: int | None, width: int | None, height: int | None) -> str:
    """ "60 × 35 × 55 cm"; "" when the parcel's size is not known."""
    if not (length and width and height):
        return ""
    return f"{length} × {width} × {height} cm"


def service_point_words(point: dict | None) -> str:
    """A service point as a person reads it: carrier, name and address."""
    if not point:
        return ""
    name = str(point.get("name") or "").strip()
    where = ", ".join(str(point.get(k)).strip() for k in ("address", "street", "postal_code", "city") if point.get(k))
    carrier = service.carrier_name(str(point.get("carrier") or ""))
    head = f"{carrier} point" if carrier else "Service point"
    return f"{head}: {name or 'unnamed'}" + (f", {where}" if where else "")


def problem_words(error: str) -> str:
    """A stored problem as a sentence for staff ("" for none): the name of a
    program's exception some sources put in front of it is dropped."""
    text = EXCEPTION_PREFIX.sub("", (error or "").strip())
    return sentence(text) if text else ""


def reported_at(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


@dataclasses.dataclass
class ShipmentView:
    """An order's shipment as the order page shows it ("" id: none yet)."""

    id: str = ""
    status: str = ""
    manual: bool = False
    carrier: str = ""
    tracking_number: str = ""
    tracking_url: str = ""
    weight: str = ""  # "1.25 kg"
    size: str = ""  # "60 × 35 × 55 cm"
    method: str = ""
    service_point: str = ""
    label_href: str = ""  # "" while it has no label
    last_news: str = ""  # Sendcloud's last status message
    error: str = ""  # why the label could not be made
    updated: str = ""  # when its status last changed
    # the parcel as typed in "Edit parcel" and "Remake label"
    weight_grams: int = 0
    length_cm: str = ""
    width_cm: str = ""
    height_cm: str = ""
    method_id: str = ""
    to_service_point: bool = False
    # what staff may do now
    can_edit: bool = False  # no label yet: weight, size and method may change
    can_remake: bool = False
    can_void: bool = False


@dataclasses.dataclass
class TrackingStep:
    """One step of a parcel's tracking history."""

    at: str = ""
    message: str = ""
    status: str = ""
    source: str = ""
    applied: bool = True


def shipment_view(shipment: Shipment | None, fmt: ShopFormat, *, connected: bool, order_open: bool) -> ShipmentView:
    """What the order page shows of a shipment and which of its actions apply.
    `order_open`: the order may still get a label (not cancelled, not gone)."""
    if shipment is None:
        return ShipmentView()
    has_label = shipment.label_attachment_id is not None and shipment.status != "CANCELLED"
    no_label_yet = shipment.status in ("PENDING", "FAILED") and not shipment.sendcloud_parcel_id
    return ShipmentView(
        id=str(shipment.id),
        status=shipment.status,
        manual=shipment.manual,
        carrier=service.carrier_name(shipment.carrier),
        tracking_number=shipment.tracking_number,
        tracking_url=shipment.tracking_url,
        weight=weight_words(fmt, shipment.weight_grams),
        size=size_words(shipment.length_cm, shipment.width_cm, shipment.height_cm),
        method=shipment.shipping_method_name,
        service_point=service_point_words(shipment.service_point),
        label_href=label_href(str(shipment.id)) if has_label else "",
        last_news=shipment.sendcloud_status,
        error=problem_words(shipment.error),
        updated=fmt.when(shipment.status_changed_at),
        weight_grams=shipment.weight_grams,
        length_cm=str(shipment.length_cm or ""),
        width_cm=str(shipment.width_cm or ""),
        height_cm=str(shipment.height_cm or ""),
        method_id=str(shipment.shipping_method_id or ""),
        to_service_point=bool(shipment.service_point),
        can_edit=connected and not shipment.manual and no_label_yet,
        can_remake=connected
        and order_open
        and not shipment.manual
        and shipment.status in ("LABEL_CREATED", "ANNOUNCED", "CANCELLED"),
        can_void=not shipment.manual and has_label and shipment.status in machine.VOIDABLE,
    )


def tracking_steps(session: Session, shipment: Shipment | None, fmt: ShopFormat) -> list[TrackingStep]:
    """The parcel's history, newest first."""
    if shipment is None:
        return []
    return [
        TrackingStep(
            at=fmt.when(reported_at(e.reported_at_ms)),
            message=e.message or machine.SHIPMENT_STATUS.label(e.status),
            status=e.status,
            source=STEP_SOURCES.get(e.source, e.source),
            applied=e.applied,
        )
        for e in service.tracking_history(session, shipment.id)
    ]


def reconcile_summary(counts: dict[str, int], problem: str) -> tuple[str, str]:
    """What "Check with Sendcloud now" found: the toast's kind (success,
    info or error) and its sentence."""
    if problem:
        return "error", sentence(problem)
    if not counts:
        return "info", "Sendcloud checked: no parcel on its way needed a look."
    moved = counts.get("applied", 0)
    head = f"Sendcloud checked: {moved} parcel{'' if moved == 1 else 's'} moved on" if moved else "Sendcloud checked"
    rest = [
        f"{n} {RECONCILE_WORDS.get(k, k.replace('-', ' '))}" for k, n in sorted(counts.items()) if n and k != "applied"
    ]
    return "success", head + (f" ({', '.join(rest)})." if rest else ".")


# --- the bench and the board --------------------------------------------------------------------


@dataclasses.dataclass
class BenchRowView:
    """An order on the packing bench."""

    order_id: str = ""
    number: str = ""
    customer: str = ""
    destination: str = ""  # "Utrecht, NL"
    service_point: str = ""  # "" when it goes to the customer's door
    weight: str = ""
    method: str = ""
    label_state: str = ""  # LABEL_STATE
    reason: str = ""  # why there is no label (a problem, or what to do first)
    carrier: str = ""
    tracking_number: str = ""
    tracking_url: str = ""
    shipment_id: str = ""
    label_href: str = ""  # the carrier label alone ("" without one)
    pack_href: str = ""  # its label and packing slip
    can_create: bool = False  # "Create label" applies
    placed: str = ""


@dataclasses.dataclass
class TrackingRowView:
    """A parcel on its way."""

    shipment_id: str = ""
    order_id: str = ""
    number: str = ""
    customer: str = ""
    destination: str = ""
    carrier: str = ""
    tracking_number: str = ""
    tracking_url: str = ""
    news: str = ""  # Sendcloud's last status message
    status: str = ""
    age: str = ""  # "for 3 days"
    flag: str = ""  # "" | "Stuck" | "Needs a look"
    flag_color: str = ""


@dataclasses.dataclass
class LabelCounts:
    all: int = 0
    ready: int = 0
    waiting: int = 0
    problem: int = 0


@dataclasses.dataclass
class StatusBar:
    """One bar of the tracking board's chart."""

    status: str = ""
    parcels: int = 0


@dataclasses.dataclass(frozen=True)
class BenchView:
    """What the page shows: which view, the bench's filter, search and page."""

    view: str = "bench"
    label: str = ""
    search: str = ""
    page: int = 0
    page_size: int = 25


@dataclasses.dataclass
class Snapshot:
    """Everything the page shows, read in one go (not a state var: `_apply` spreads it)."""

    connected: bool
    last_error: str
    counts: LabelCounts
    rows: list[BenchRowView]
    total: int
    page: int
    parcels: list[TrackingRowView]
    on_their_way: int
    chart: list[StatusBar]


def _label_state(shipment: Shipment | None, connected: bool) -> tuple[str, str]:
    """A bench row's label state and, without a label, why."""
    if shipment is not None and shipment.status == "FAILED":
        return "problem", problem_words(shipment.error) or "The label could not be made."
    if shipment is not None and shipment.label_attachment_id and shipment.status != "CANCELLED":
        return "ready", ""
    if not connected:
        return "manual", "Pack it with its slip; write the carrier and tracking on the order when it goes."
    if shipment is not None and shipment.status == "CANCELLED":
        return "waiting", "Its label was voided: create a new one."
    if shipment is not None and shipment.status == "PENDING":
        return "waiting", "Sendcloud is making it."
    return "waiting", ""


def _bench_row(
    session: Session, row: service.BenchRow, fmt: ShopFormat, conn: SendcloudConnection | None
) -> BenchRowView:
    order, shipment = row.order, row.shipment
    connected = conn is not None
    state, reason = _label_state(shipment, connected)
    problems = service.label_problems(session, order) if connected and state != "ready" else []
    if problems and not reason:
        reason = sentence("; ".join(problems))
    if shipment is not None:
        point, grams = shipment.service_point, shipment.weight_grams
    else:  # no shipment yet: what its label would say
        point = order.service_point if order.delivery_type == "service_point" else {}
        grams = service.parcel_size(session, order, conn).weight_grams
    return BenchRowView(
        order_id=str(order.id),
        number=order.number,
        customer=order.customer_name or "—",
        destination=", ".join(p for p in (order.ship_city, order.ship_country_code) if p) or "—",
        service_point=service_point_words(point),
        weight=weight_words(fmt, grams),
        method=(shipment.shipping_method_name if shipment else "") or (conn.shipping_method_name if conn else ""),
        label_state=state,
        reason=reason,
        carrier=service.carrier_name(shipment.carrier) if shipment else order.tracking_carrier,
        tracking_number=(shipment.tracking_number if shipment else "") or order.tracking_number,
        tracking_url=(shipment.tracking_url if shipment else "") or order.tracking_url,
        shipment_id=str(shipment.id) if shipment else "",
        label_href=label_href(str(shipment.id)) if state == "ready" and shipment else "",
        pack_href=labels_href([str(order.id)]),
        can_create=connected and not problems and (shipment is None or shipment.status in ("FAILED", "CANCELLED")),
        placed=fmt.when(order.placed_at),
    )


def _parcel(r: service.TrackingRow, fmt: ShopFormat, now: datetime) -> TrackingRowView:
    s = r.shipment
    since = r.since if r.since.tzinfo else r.since.replace(tzinfo=UTC)
    flag, color = "", ""
    if r.stuck:
        warned = s.status == "FAILED" or s.sendcloud_status_id in machine.WARNING_STATUS_IDS
        flag, color = ("Needs a look", "amber") if warned else ("Stuck", "red")
    return TrackingRowView(
        shipment_id=str(s.id),
        order_id=str(s.order_id),
        number=r.order_number,
        customer=r.customer or "—",
        destination=r.destination or "—",
        carrier=service.carrier_name(s.carrier),
        tracking_number=s.tracking_number,
        tracking_url=s.tracking_url,
        news=s.sendcloud_status or problem_words(s.error),
        status=s.status,
        age="for " + fmt.duration(max(0.0, (now - since).total_seconds())),
        flag=flag,
        flag_color=color,
    )


def _snapshot(tenant_id: uuid.UUID, fmt: ShopFormat, view: BenchView) -> Snapshot:
    """What the page shows, read in one tenant session: the bench's rows only
    on the bench, the parcels only on the tracking board (both counts always:
    the view switch shows them)."""
    with tenant_session(tenant_id) as s:
        conn = service.connection(s)
        connected = conn is not None
        bench = service.bench_counts(s)
        counts = LabelCounts(all=sum(bench.values()), **bench)
        rows: list[BenchRowView] = []
        total, page = counts.all, view.page
        if view.view == "bench":
            f = service.BenchFilter(view.search, view.label, view.page, view.page_size)
            found, total = service.ready_to_ship(s, f)
            if page and not found and total:  # past the last page (a bookmark, fewer orders now)
                f.page = page = last_page_index(total, view.page_size)
                found, total = service.ready_to_ship(s, f)
            rows = [_bench_row(s, r, fmt, conn) for r in found]
        board = service.tracking_board(s)
        now = datetime.now(UTC)
        parcels = [_parcel(r, fmt, now) for r in board] if view.view == "tracking" else []
        by_status = service.shipment_counts(s)
        chart = [
            StatusBar(status=st.label, parcels=by_status.get(st.value, 0))
            for st in machine.SHIPMENT_STATUS
            if st.value in ("LABEL_CREATED", "ANNOUNCED", "IN_TRANSIT", "FAILED", "DELIVERED")
        ]
        return Snapshot(
            connected=connected,
            last_error=(conn.last_error or "") if conn else "",
            counts=counts,
            rows=rows,
            total=total,
            page=page,
            parcels=parcels,
            on_their_way=len(board),
            chart=chart,
        )


class ShippingState(LiveState, PagedState, AppState):
    PAGE_PERMISSION: ClassVar[str] = "shipping.read"
    URL_PARAMS: ClassVar[tuple[str, ...]] = ("view", "label", "search")
    # live: refresh when parcels move or orders reach the bench (workers, webhooks, colleagues)
    LIVE: ClassVar[Live] = Live("shipping.read", "/shipping", (service.LIVE_KIND, "orders"), settle=1.0)

    view: str = "bench"
    label: str = ""
    search: str = ""
    page_size: int = 25
    rows: list[BenchRowView] = []
    counts: LabelCounts = LabelCounts()
    parcels: list[TrackingRowView] = []
    on_their_way: int = 0
    chart: list[StatusBar] = []
    connected: bool = False
    last_error: str = ""
    scan_error: str = ""
    scanned_number: str = ""  # the last order scanned, with its PDF's address (if the new tab was blocked)
    scanned_href: str = ""
    checking: bool = False
    error: str = ""
    loaded: bool = False
    updated_at: str = ""

    @rx.var
    def can_write(self) -> bool:
        return "shipping.write" in self.permissions

    @rx.var
    def print_selected_href(self) -> str:
        """The ticked orders' labels and slips, in pack order."""
        return labels_href(list(self.selected))

    @rx.var
    def print_page_href(self) -> str:
        """Every order on this page that has its label."""
        return labels_href([r.order_id for r in self.rows if r.label_state == "ready"])

    @rx.var
    def with_label_on_page(self) -> int:
        return sum(1 for r in self.rows if r.label_state == "ready")

    @rx.var
    def filtered(self) -> bool:
        return bool(self.search or self.label)

    def _view(self) -> BenchView:
        return BenchView(self.view, self.label, self.search, self.page, self.page_size)

    def _clean_view(self) -> None:
        """Values from a hand-edited URL that mean nothing become the defaults."""
        if self.view not in VIEWS:
            self.view = "bench"
        if self.label not in LABEL_FILTERS:
            self.label = ""

    def _apply(self, snap: Snapshot, fmt: ShopFormat) -> None:
        self.connected, self.last_error = snap.connected, snap.last_error
        self.counts, self.rows, self.total, self.page = snap.counts, snap.rows, snap.total, snap.page
        self.parcels, self.on_their_way, self.chart = snap.parcels, snap.on_their_way, snap.chart
        self.page_ids = [r.order_id for r in snap.rows]
        self.selected = [i for i in self.selected if i in self.page_ids]
        self.updated_at = fmt.clock(datetime.now(UTC), seconds=True)
        self.error, self.loaded = "", True

    async def _refresh(self) -> None:
        p = current_principal()
        try:
            snap = await asyncio.to_thread(_snapshot, p.tenant_id, p.fmt, self._view())
        except DomainError as exc:
            self.error, self.loaded = sentence(exc.message), True
            return
        self._apply(snap, p.fmt)

    @guarded("shipping.read", quiet=True)
    async def load(self):
        self._read_url()
        self._clean_view()
        self.scan_error = ""
        await self._refresh()
        return ShippingState.watch

    # --- the view: each change goes through the URL (the loader follows) ----------------------

    @guarded("shipping.read")
    def set_view(self, value: str | list[str]):
        value = value[0] if isinstance(value, list) else value
        if value in VIEWS:
            return self._navigate(view=value)
        return None

    @guarded("shipping.read")
    def set_label(self, value: str):
        return self._navigate(label=value if value in LABEL_FILTERS else "")

    @guarded("shipping.read")
    async def set_search(self, value: str):
        return await self._search(search=value.strip()[:200])

    @guarded("shipping.read")
    def clear_filters(self):
        return self._navigate(label="", search="")

    # --- the scan field ------------------------------------------------------------------------

    @guarded("shipping.read")
    async def scan(self, form: dict):
        """A scanner typed an order (or tracking) number and Enter: open that
        order's label and packing slip."""
        code = str(form.get("code") or "").strip()[:100]
        if not code:
            return None

        def find(s: Session) -> tuple[str, str, bool] | None:
            order = service.find_by_scan(s, code)
            if order is None:
                return None
            shipment = service.shipment_for_order(s, order.id)
            labelled = (
                shipment is not None and shipment.label_attachment_id is not None and shipment.status != "CANCELLED"
            )
            return str(order.id), order.number, labelled

        found = await in_tenant(find)
        if found is None:
            self.scan_error = f"No order or parcel “{code}”: check the number and scan again."
            return None
        order_id, number, labelled = found
        href = labels_href([order_id])
        self.scan_error, self.scanned_number, self.scanned_href = "", number, href
        opened = "label and slip opened" if labelled else "packing slip opened (it has no label yet)"
        return [
            rx.call_script(f"window.open({json.dumps(href)}, '_blank')"),
            rx.toast.success(f"Order {number}: {opened}."),
        ]

    # --- labels ----------------------------------------------------------------------------------

    @guarded("shipping.write")
    async def create_label(self, order_id: str):
        """ "Create label" on a row: a first label, another try after a
        problem, or a new one after the label was voided."""
        p = current_principal()
        try:
            oid = uuid.UUID(order_id)
        except ValueError:
            return rx.toast.error("That order no longer exists.")

        try:
            await in_tenant(lambda s: service.create_label(s, oid, actor=p))
        except DomainError as exc:
            await self._refresh()
            return rx.toast.error(sentence(exc.message))
        await self._refresh()
        return rx.toast.success("Label requested: it shows here as soon as Sendcloud has made it.")

    @guarded("shipping.write")
    async def check_now(self):
        """Ask Sendcloud about every parcel on its way now."""
        self.checking = True
        yield

        def check(s: Session) -> tuple[dict[str, int], str]:
            counts = service.reconcile(s, force=True)
            conn = service.connection(s)
            return counts, (conn.last_error or "") if conn else "Sendcloud is not connected: there is nothing to check"

        try:
            counts, problem = await in_tenant(check)
        except DomainError as exc:
            counts, problem = {}, exc.message
        self.checking = False
        await self._refresh()
        kind, text = reconcile_summary(counts, problem)
        yield {"error": rx.toast.error, "info": rx.toast.info}.get(kind, rx.toast.success)(text)

    # --- live updates ------------------------------------------------------------------------

    async def _live_refresh(self, principal: auth.Principal, token: str) -> None:
        """The snapshot is read outside the lock, so filter changes meanwhile are not held up."""
        async with self:
            if self._watch_token != token:
                return
            view = self._view()
        try:
            snap = await asyncio.to_thread(_snapshot, principal.tenant_id, principal.fmt, view)
        except DomainError:
            return
        async with self:
            if self._watch_token == token and self._view() == view:  # the view did not change meanwhile
                self._apply(snap, principal.fmt)
