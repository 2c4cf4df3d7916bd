"""/inventory/parts: the PC parts the shop sells for builds, with their units
on hand, reserved for builder orders and available (on hand - reserved;
below zero the part is on back-order), a status per part (in stock, low at
the shop's threshold or fewer available, back-order), adjustments by hand,
and one part's ledger and reservations in a dialog.

The table's search, slot and status filters, sort and page live in the URL
(state/paging.py); the page follows the live channel, so a builder order's
reservation, a completed build or a price list shows without a reload.
Every figure and rule comes from `app.inventory.service` (parts).
"""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from datetime import UTC, datetime
from typing import ClassVar

import reflex as rx
from sqlmodel import Session

from app.catalog.slots import SLOT_TITLES, SLOTS
from app.inventory import service
from app.platform import audit
from app.platform.db import tenant_session
from app.platform.errors import Conflict, DomainError, NotFound, ValidationFailed
from app.platform.formatting import ShopFormat, of_tenant
from app.platform.machine import Status, StatusTable
from state.base import AppState, PageVisit, current_principal, guarded, in_tenant
from state.live import Live, LiveState
from state.paging import PagedState, last_page_index, rows_of_page
from state.util import sentence

PATH = "/inventory/parts"
PART_STATUS = StatusTable(
    Status("in_stock", "In stock", "green"),
    Status("low", "Low", "amber"),
    Status("backorder", "Back-order", "red"),
)
STATUS_FILTERS = ("", *service.PART_STATUSES)
SORTS = tuple(service.PART_SORTS)
SLOT_OPTIONS = [("all", "All slots"), *[(slot, SLOT_TITLES[slot]) for slot in SLOTS]]
# the ledger of a part in words (a build, not an order, uses a part)
KIND_WORDS: dict[str, str] = {**service.TYPE_WORDS, "CONSUMED": "Used in a build"}
RESERVATION_TONES = {"ACTIVE": "blue", "CONSUMED": "green", "RELEASED": "gray"}
MINUS = "\u2212"  # a typographic minus sign: an entry going out reads minus two, not hyphen two
LEDGER_PAGE = 10
CHART_NAME = 22  # characters of a part's name under its bars


@dataclasses.dataclass
class PartRowView:
    """A part the shop sells (a row of the table; the dialogs' subject)."""

    id: str = ""
    name: str = ""
    manufacturer: str = ""
    slot_title: str = ""
    on_hand: int = 0
    reserved: int = 0
    available: int = 0
    status: str = ""  # in_stock | low | backorder
    for_sale: bool = True
    price: str = ""
    held_percent: int = 0  # reserved as a share of on hand (the bar), at most 100
    updated: str = ""


@dataclasses.dataclass
class PartCounts:
    all: int = 0
    in_stock: int = 0
    low: int = 0
    backorder: int = 0
    reserved: int = 0  # units reserved for builds, all parts


@dataclasses.dataclass
class PartBar:
    """A part in the chart: its units on hand against those reserved."""

    name: str = ""
    on_hand: int = 0
    reserved: int = 0


@dataclasses.dataclass
class PartLedgerLine:
    at: str = ""
    kind: str = ""
    change: str = ""  # "+3", or a minus sign and "1"
    inward: bool = True
    after: str = ""  # "5 on hand" or "2 available"
    order_id: str = ""
    order_number: str = ""
    reference: str = ""
    reason: str = ""
    who: str = ""


@dataclasses.dataclass
class ReservationLine:
    order_id: str = ""
    order_number: str = ""
    quantity: int = 0
    status: str = ""  # in words
    tone: str = "gray"
    at: str = ""


def _view(r: service.PartRow, fmt: ShopFormat) -> PartRowView:
    held = 100 if r.reserved and r.on_hand <= 0 else (min(100, round(100 * r.reserved / r.on_hand)) if r.on_hand else 0)
    return PartRowView(
        id=str(r.offer_id),
        name=r.name,
        manufacturer=r.manufacturer,
        slot_title=SLOT_TITLES.get(r.slot, r.slot.capitalize()),
        on_hand=r.on_hand,
        reserved=r.reserved,
        available=r.available,
        status=r.status,
        for_sale=r.active,
        price=fmt.money(r.price, r.currency),
        held_percent=held,
        updated=fmt.when(r.updated_at) if r.updated_at else "",
    )


def _short(name: str) -> str:
    return name if len(name) <= CHART_NAME else name[: CHART_NAME - 1].rstrip() + "…"


def _ledger_lines(s: Session, rows: list, fmt: ShopFormat) -> list[PartLedgerLine]:
    names = audit.actor_names(s) if any(t.actor_user_id for t, _ in rows) else {}
    out = []
    for t, number in rows:
        inward = t.direction == "IN"
        on_hand = t.transaction_type in service.ON_HAND_TYPES
        out.append(
            PartLedgerLine(
                at=fmt.when(t.created_at),
                kind=KIND_WORDS.get(t.transaction_type) or t.transaction_type.capitalize(),
                change=("+" if inward else MINUS) + str(t.quantity),
                inward=inward,
                after=f"{t.stock_after} on hand" if on_hand else f"{t.stock_after} available",
                order_id=str(t.order_id) if t.order_id and number else "",
                order_number=number or "",
                reference="Catalog"
                if t.reference_id == service.CATALOG_REFERENCE
                else str(service.REFERENCE_WORDS.get(t.reference_type) or t.reference_type.capitalize()),
                reason=t.reason,
                who=names.get(t.actor_user_id, "") if t.actor_user_id else "",
            )
        )
    return out


@dataclasses.dataclass
class Snapshot:
    rows: list[PartRowView]
    total: int
    page: int
    counts: PartCounts
    chart: list[PartBar]
    threshold: int


@dataclasses.dataclass
class PartDetail:
    part: PartRowView
    ledger: list[PartLedgerLine]
    total: int
    page: int
    reservations: list[ReservationLine]


def _snapshot(tenant_id: uuid.UUID, fmt: ShopFormat, f: service.PartFilter) -> Snapshot:
    with tenant_session(tenant_id) as s:
        rows, total = rows_of_page(service.list_parts, s, f)
        counts = service.part_counts(s)
        chart = service.most_reserved(s)
        threshold = service.low_threshold(s)
    return Snapshot(
        rows=[_view(r, fmt) for r in rows],
        total=total,
        page=f.page,
        counts=PartCounts(
            all=counts["in_stock"] + counts["low"] + counts["backorder"],
            in_stock=counts["in_stock"],
            low=counts["low"],
            backorder=counts["backorder"],
            reserved=counts["reserved"],
        ),
        chart=[PartBar(name=_short(r.name), on_hand=max(0, r.on_hand), reserved=r.reserved) for r in chart],
        threshold=threshold,
    )


def _detail(tenant_id: uuid.UUID, fmt: ShopFormat, offer_id: str, page: int) -> PartDetail:
    with tenant_session(tenant_id) as s:
        part = service.get_part(s, offer_id)
        rows, total = service.part_ledger(s, part.offer_id, page=page, page_size=LEDGER_PAGE)
        if page and not rows and total:
            page = last_page_index(total, LEDGER_PAGE)
            rows, total = service.part_ledger(s, part.offer_id, page=page, page_size=LEDGER_PAGE)
        held = service.reservations(s, part.offer_id, limit=20)
        return PartDetail(
            part=_view(part, fmt),
            ledger=_ledger_lines(s, rows, fmt),
            total=total,
            page=page,
            reservations=[
                ReservationLine(
                    order_id=str(r.order_id),
                    order_number=r.order_number,
                    quantity=r.quantity,
                    status=service.RESERVATION_WORDS.get(r.status, r.status.capitalize()),
                    tone=RESERVATION_TONES.get(r.status, "gray"),
                    at=fmt.when(r.created_at),
                )
                for r in held
            ],
        )


def _whole(form: dict, name: str, errors: dict[str, str], message: str) -> int | None:
    raw = str(form.get(name) or "").strip()
    try:
        return int(raw)
    except ValueError:
        errors[name] = message
        return None


class InventoryPartsState(PageVisit, LiveState, PagedState, AppState):
    PAGE_PERMISSION: ClassVar[str] = "inventory.read"
    URL_PARAMS: ClassVar[tuple[str, ...]] = ("search", "slot", "status", "sort", "descending")
    # live: reservations (builder orders), builds completed, adjustments, price lists
    LIVE: ClassVar[Live] = Live("inventory.read", PATH, (service.LIVE_KIND, "offers"), settle=1.0)

    search: str = ""
    slot: str = "all"
    status: str = ""
    sort: str = "name"
    descending: bool = False
    page_size: int = 25
    rows: list[PartRowView] = []
    counts: PartCounts = PartCounts()
    chart: list[PartBar] = []
    threshold: int = 2
    loaded: bool = False
    error: str = ""
    updated_at: str = ""

    # one part's ledger and reservations (the dialog)
    detail_open: bool = False
    detail: PartRowView = PartRowView()
    ledger: list[PartLedgerLine] = []
    ledger_page: int = 0
    ledger_total: int = 0
    reserved_by: list[ReservationLine] = []

    # the adjust dialog
    adjust_open: bool = False
    adjust: PartRowView = PartRowView()
    adjust_errors: dict[str, str] = {}
    adjust_key: int = 0
    adjust_busy: bool = False

    # the threshold dialog
    threshold_open: bool = False
    threshold_error: str = ""

    @rx.var
    def can_write(self) -> bool:
        return "inventory.write" in self.permissions

    @rx.var
    def filtered(self) -> bool:
        return bool(self.search or self.status or self.slot != "all")

    @rx.var
    def chart_height(self) -> int:
        """Room for each part's pair of bars, the axis and the legend."""
        return 70 + 34 * len(self.chart)

    @rx.var
    def ledger_pages(self) -> int:
        return max(1, -(-self.ledger_total // LEDGER_PAGE))

    def _filter(self) -> service.PartFilter:
        return service.PartFilter(
            search=self.search,
            slot="" if self.slot == "all" else self.slot,
            status=self.status,
            sort=self.sort,
            descending=self.descending,
            page=self.page,
            page_size=self.page_size,
        )

    def _clean_view(self) -> None:
        """Values from a hand-edited URL that mean nothing become the defaults."""
        if self.slot not in SLOTS:
            self.slot = "all"
        if self.status not in STATUS_FILTERS:
            self.status = ""
        if self.sort not in SORTS:
            self.sort = "name"

    def _apply(self, snap: Snapshot, fmt: ShopFormat) -> None:
        self.rows, self.total, self.page = snap.rows, snap.total, snap.page
        self.counts, self.chart, self.threshold = snap.counts, snap.chart, snap.threshold
        self.updated_at = fmt.clock(datetime.now(UTC), seconds=True)
        self.error, self.loaded = "", True

    def _apply_detail(self, d: PartDetail) -> None:
        self.detail, self.ledger, self.ledger_total, self.ledger_page = d.part, d.ledger, d.total, d.page
        self.reserved_by = d.reservations

    def _fetch(self, tenant_id: uuid.UUID) -> None:
        """The live reload (in a thread): the table, and the open part's dialog."""
        fmt = of_tenant(tenant_id)
        try:
            self._apply(_snapshot(tenant_id, fmt, self._filter()), fmt)
            if self.detail_open and self.detail.id:
                self._apply_detail(_detail(tenant_id, fmt, self.detail.id, self.ledger_page))
        except NotFound:
            self.detail_open = False
        except DomainError as exc:
            self.error = sentence(exc.message)

    async def _refresh(self) -> None:
        p = current_principal()
        try:
            snap = await asyncio.to_thread(_snapshot, p.tenant_id, p.fmt, self._filter())
        except DomainError as exc:
            self.error, self.loaded = sentence(exc.message), True
            return
        self._apply(snap, p.fmt)

    @guarded("inventory.read", quiet=True)
    async def load(self):
        self._read_url()
        self._clean_view()
        if self._new_visit():  # not when the page loads itself again (a reconnect)
            self.detail_open = self.adjust_open = self.threshold_open = False
        await self._refresh()
        return InventoryPartsState.watch

    # --- the view: each change goes through the URL (the loader follows) ----------------------

    @guarded("inventory.read")
    async def set_search(self, value: str):
        return await self._search(search=value.strip()[:200])

    @guarded("inventory.read")
    def set_slot(self, value: str):
        return self._navigate(slot=value if value in SLOTS else "all")

    @guarded("inventory.read")
    def set_status(self, value: str):
        return self._navigate(status=value if value in STATUS_FILTERS else "")

    @guarded("inventory.read")
    def sort_by(self, column: str):
        if column not in SORTS:
            return None
        if column == self.sort:
            return self._navigate(descending=not self.descending)
        # figures read most useful from the top; names from A
        return self._navigate(sort=column, descending=column in ("on_hand", "reserved", "price"))

    @guarded("inventory.read")
    def clear_filters(self):
        return self._navigate(search="", slot="all", status="")

    # --- one part: its ledger and reservations ----------------------------------------------------

    async def _load_detail(self, offer_id: str, page: int) -> bool:
        p = current_principal()
        try:
            d = await asyncio.to_thread(_detail, p.tenant_id, p.fmt, offer_id, page)
        except NotFound:
            self.detail_open = False
            return False
        self._apply_detail(d)
        return True

    @guarded("inventory.read")
    async def open_part(self, offer_id: str):
        self.ledger, self.reserved_by, self.ledger_total = [], [], 0
        if not await self._load_detail(offer_id, 0):
            return rx.toast.error("The shop no longer sells that part.")
        self.detail_open = True
        return None

    @guarded("inventory.read")
    def set_detail_open(self, value: bool):
        self.detail_open = value

    @guarded("inventory.read")
    async def ledger_next(self):
        if self.ledger_page + 1 < self.ledger_pages:
            await self._load_detail(self.detail.id, self.ledger_page + 1)

    @guarded("inventory.read")
    async def ledger_prev(self):
        if self.ledger_page > 0:
            await self._load_detail(self.detail.id, self.ledger_page - 1)

    # --- adjust by hand ---------------------------------------------------------------------------

    @guarded("inventory.write")
    def open_adjust(self, offer_id: str):
        row = next((r for r in self.rows if r.id == offer_id), None)
        if row is None:
            return rx.toast.error("That part is no longer on this page.")
        self.adjust = row
        self.adjust_errors, self.adjust_busy = {}, False
        self.adjust_key += 1
        self.adjust_open = True
        return None

    @guarded("inventory.write")
    def adjust_detail(self):
        """ "Adjust" in a part's dialog: the same form, for the part shown."""
        self.adjust = self.detail
        self.adjust_errors, self.adjust_busy = {}, False
        self.adjust_key += 1
        self.detail_open, self.adjust_open = False, True

    @guarded("inventory.write")
    def set_adjust_open(self, value: bool):
        self.adjust_open = value

    @guarded("inventory.write")
    async def submit_adjust(self, form: dict):
        errors: dict[str, str] = {}
        direction = str(form.get("direction") or "IN")
        if direction not in ("IN", "OUT"):
            errors["direction"] = "Choose receive or remove."
        quantity = _whole(form, "quantity", errors, "Write a whole number of units, 1 or more.")
        if quantity is not None and quantity < 1:
            errors["quantity"] = "Write a whole number of units, 1 or more."
        reason = str(form.get("reason") or "").strip()
        if not reason:
            errors["reason"] = "Give a reason (a delivery, a count, damage…)."
        if errors or quantity is None:
            self.adjust_errors = errors
            return
        p, offer_id, name = current_principal(), self.adjust.id, self.adjust.name
        self.adjust_busy = True
        yield
        try:
            entry = await in_tenant(lambda s: service.adjust_part(s, offer_id, quantity, direction, reason, actor=p))
        except ValidationFailed as exc:
            fields = (exc.details or {}).get("fields") or {}
            self.adjust_errors = {k: str(v) for k, v in fields.items()} or {"form": sentence(exc.message)}
            self.adjust_busy = False
            return
        except (Conflict, NotFound) as exc:
            self.adjust_errors = {"form": sentence(exc.message)}
            self.adjust_busy = False
            return
        self.adjust_busy, self.adjust_open = False, False
        await self._refresh()
        verb = "received" if direction == "IN" else "removed"
        yield rx.toast.success(f"{quantity} × {name} {verb}: {entry.stock_after} on hand.")

    # --- the low-stock threshold ----------------------------------------------------------------

    @guarded("inventory.write")
    def set_threshold_open(self, value: bool):
        self.threshold_open, self.threshold_error = value, ""

    @guarded("inventory.write")
    async def save_threshold(self, form: dict):
        errors: dict[str, str] = {}
        value = _whole(form, "threshold", errors, "Write a whole number, 0 or more.")
        if value is None:
            self.threshold_error = errors["threshold"]
            return None
        p = current_principal()
        try:
            saved = await in_tenant(lambda s: service.set_low_threshold(s, value, actor=p))
        except ValidationFailed as exc:
            self.threshold_error = sentence(exc.message)
            return None
        self.threshold_open, self.threshold_error = False, ""
        await self._refresh()
        return rx.toast.success(f"Parts are low at {saved} or fewer available.")
