"""/inventory/spare-parts: the spare parts the shop keeps for repairs
(screens, batteries, charge ports…), with their units on the shelf against
their minimum, a status (in stock, low, out of stock), a dialog to add or
edit a part, deliveries received and corrections by hand, and one part's
ledger (issued to worksheets, returned, received, adjusted) in a dialog.

The table's search, category and status filters, sort and page live in the
URL (state/paging.py); the page follows the live channel, so a part issued
to a worksheet elsewhere shows without a reload. Every figure and rule comes
from `app.inventory.service` (spare parts).
"""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from datetime import UTC, datetime
from typing import ClassVar

import reflex as rx
from sqlmodel import Session

from app.inventory import service
from app.inventory.models import InventoryTransaction, SparePart
from app.platform import audit
from app.platform.db import tenant_session
from app.platform.errors import Conflict, DomainError, NotFound, ValidationFailed
from app.platform.formatting import ShopFormat, of_tenant
from app.platform.machine import Status, StatusTable
from state.base import AppState, PageVisit, current_principal, guarded, in_tenant
from state.live import Live, LiveState
from state.paging import PagedState, last_page_index, rows_of_page
from state.util import sentence

PATH = "/inventory/spare-parts"
SPARE_STATUS = StatusTable(
    Status("ok", "In stock", "green"),
    Status("low", "Low", "amber"),
    Status("out", "Out of stock", "red"),
)
STATUS_FILTERS = ("", "low", "out")
SORTS = tuple(service.SPARE_SORTS)
CATEGORIES = service.CATEGORIES
CATEGORY_OPTIONS = [("all", "All categories"), *[(c, service.CATEGORY_WORDS[c]) for c in service.CATEGORIES]]
MINUS = "\u2212"  # a typographic minus sign: an entry going out reads minus two, not hyphen two
LEDGER_PAGE = 10
REFERENCE_WORDS = {"WORKSHEET": "Worksheet", "MANUAL": "By hand"}


@dataclasses.dataclass
class SparePartView:
    """A spare part (a row of the table; the dialogs' subject)."""

    id: str = ""
    sku: str = ""
    name: str = ""
    manufacturer: str = ""
    category: str = ""
    category_title: str = ""
    models: str = ""  # the compatible models, comma separated
    unit_cost: str = ""  # in the shop's currency
    cost_plain: str = ""  # "24.90" (the edit form)
    stock: int = 0
    minimum: int = 0
    location: str = ""
    active: bool = True
    status: str = ""  # ok | low | out
    version: int = 0
    updated: str = ""


@dataclasses.dataclass
class SpareCounts:
    all: int = 0
    ok: int = 0
    low: int = 0  # below the minimum (out of stock ones too: what the low filter shows)
    out: int = 0


@dataclasses.dataclass
class SpareLedgerLine:
    at: str = ""
    kind: str = ""
    change: str = ""  # "+3", or a minus sign and "1"
    inward: bool = True
    after: int = 0
    reference: str = ""
    worksheet: str = ""  # the worksheet's id, shortened
    reason: str = ""
    who: str = ""


def _view(p: SparePart, fmt: ShopFormat) -> SparePartView:
    return SparePartView(
        id=str(p.id),
        sku=p.sku,
        name=p.name,
        manufacturer=p.manufacturer,
        category=p.category,
        category_title=service.CATEGORY_WORDS.get(p.category) or p.category.capitalize(),
        models=", ".join(p.compatible_models or []),
        unit_cost=fmt.money(p.unit_cost),
        cost_plain=f"{p.unit_cost:.2f}",
        stock=p.current_stock,
        minimum=p.minimum_stock,
        location=p.location,
        active=p.active,
        status=service.spare_status(p),
        version=p.version,
        updated=fmt.when(p.updated_at) if p.updated_at else "",
    )


def _ledger_lines(s: Session, rows: list[InventoryTransaction], fmt: ShopFormat) -> list[SpareLedgerLine]:
    names = audit.actor_names(s) if any(t.actor_user_id for t in rows) else {}
    out = []
    for t in rows:
        inward = t.direction == "IN"
        out.append(
            SpareLedgerLine(
                at=fmt.when(t.created_at),
                kind=service.SPARE_TYPE_WORDS.get(t.transaction_type) or t.transaction_type.capitalize(),
                change=("+" if inward else MINUS) + str(t.quantity),
                inward=inward,
                after=t.stock_after,
                reference=REFERENCE_WORDS.get(t.reference_type) or t.reference_type.capitalize(),
                worksheet=t.reference_id[:8] if t.reference_type == "WORKSHEET" else "",
                reason=t.reason,
                who=names.get(t.actor_user_id, "") if t.actor_user_id else "",
            )
        )
    return out


@dataclasses.dataclass
class Snapshot:
    rows: list[SparePartView]
    total: int
    page: int
    counts: SpareCounts


@dataclasses.dataclass
class Detail:
    part: SparePartView
    ledger: list[SpareLedgerLine]
    total: int
    page: int


def _snapshot(tenant_id: uuid.UUID, fmt: ShopFormat, f: service.SparePartFilter) -> Snapshot:
    with tenant_session(tenant_id) as s:
        rows, total = rows_of_page(service.list_spare_parts, s, f)
        c = service.spare_counts(s)
    return Snapshot(
        rows=[_view(r, fmt) for r in rows],
        total=total,
        page=f.page,
        counts=SpareCounts(all=c["all"], ok=c["ok"], low=c["below_minimum"], out=c["out"]),
    )


def _detail(tenant_id: uuid.UUID, fmt: ShopFormat, part_id: str, page: int) -> Detail:
    with tenant_session(tenant_id) as s:
        part = service.get_spare_part(s, part_id)
        total = service.spare_part_ledger_count(s, part.id)
        if page * LEDGER_PAGE >= total:
            page = last_page_index(total, LEDGER_PAGE)
        rows = service.spare_part_ledger(s, part.id, LEDGER_PAGE, offset=page * LEDGER_PAGE)
        return Detail(part=_view(part, fmt), ledger=_ledger_lines(s, rows, fmt), total=total, page=page)


def _whole(form: dict, name: str, errors: dict[str, str], message: str) -> int | None:
    raw = str(form.get(name) or "").strip()
    try:
        return int(raw)
    except ValueError:
        errors[name] = message
        return None


def _fields(exc: ValidationFailed | Conflict) -> dict[str, str]:
    fields = (exc.details or {}).get("fields") or {}
    return {k: str(v) for k, v in fields.items()} or {"form": sentence(exc.message)}


class InventorySparePartsState(PageVisit, LiveState, PagedState, AppState):
    PAGE_PERMISSION: ClassVar[str] = "inventory.read"
    URL_PARAMS: ClassVar[tuple[str, ...]] = ("search", "category", "status", "sort", "descending")
    # live: parts issued to worksheets and returned, deliveries, corrections, edits
    LIVE: ClassVar[Live] = Live("inventory.read", PATH, (service.LIVE_KIND,), settle=1.0)

    search: str = ""
    category: str = "all"
    status: str = ""
    sort: str = "sku"
    descending: bool = False
    page_size: int = 25
    rows: list[SparePartView] = []
    counts: SpareCounts = SpareCounts()
    loaded: bool = False
    error: str = ""
    updated_at: str = ""

    # one part's ledger (the dialog)
    detail_open: bool = False
    detail: SparePartView = SparePartView()
    ledger: list[SpareLedgerLine] = []
    ledger_page: int = 0
    ledger_total: int = 0

    # the add / edit dialog ("" id: a new part)
    edit_open: bool = False
    edit: SparePartView = SparePartView()
    edit_errors: dict[str, str] = {}
    edit_key: int = 0
    edit_busy: bool = False

    # the receive / adjust dialog
    move_open: bool = False
    move_kind: str = "receive"  # receive | adjust
    move: SparePartView = SparePartView()
    move_errors: dict[str, str] = {}
    move_key: int = 0
    move_busy: bool = False

    @rx.var
    def can_write(self) -> bool:
        return "inventory.write" in self.permissions

    @rx.var
    def filtered(self) -> bool:
        return bool(self.search or self.status or self.category != "all")

    @rx.var
    def ledger_pages(self) -> int:
        return max(1, -(-self.ledger_total // LEDGER_PAGE))

    @rx.var
    def editing(self) -> bool:
        """The dialog edits a part (not a new one)."""
        return self.edit.id != ""

    def _filter(self) -> service.SparePartFilter:
        return service.SparePartFilter(
            search=self.search,
            category="" if self.category == "all" else self.category,
            status=self.status,
            sort=self.sort,
            descending=self.descending,
            page=self.page,
            page_size=self.page_size,
        )

    def _clean_view(self) -> None:
        """Values from a hand-edited URL that mean nothing become the defaults."""
        if self.category != "all" and self.category not in service.CATEGORIES:
            self.category = "all"
        if self.status not in STATUS_FILTERS:
            self.status = ""
        if self.sort not in SORTS:
            self.sort = "sku"

    def _apply(self, snap: Snapshot, fmt: ShopFormat) -> None:
        self.rows, self.total, self.page, self.counts = snap.rows, snap.total, snap.page, snap.counts
        self.updated_at = fmt.clock(datetime.now(UTC), seconds=True)
        self.error, self.loaded = "", True

    def _apply_detail(self, d: Detail) -> None:
        self.detail, self.ledger, self.ledger_total, self.ledger_page = d.part, d.ledger, d.total, d.page

    def _fetch(self, tenant_id: uuid.UUID) -> None:
        """The live reload (in a thread): the table, and the open part's ledger."""
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
            self.detail_open = self.edit_open = self.move_open = False
        await self._refresh()
        return InventorySparePartsState.watch

    # --- the view: each change goes through the URL (the loader follows) ----------------------

    @guarded("inventory.read")
    async def set_search(self, value: str):
        return await self._search(search=value.strip()[:200])

    @guarded("inventory.read")
    def set_category(self, value: str):
        return self._navigate(category=value if value in service.CATEGORIES else "all")

    @guarded("inventory.read")
    def set_status(self, value: str):
        return self._navigate(status=value if value in STATUS_FILTERS else "")

    @guarded("inventory.read")
    def sort_by(self, column: str):
        if column not in SORTS:
            return None
        if column == self.sort:
            return self._navigate(descending=not self.descending)
        # figures and the last change read most useful from the top; words from A
        return self._navigate(sort=column, descending=column in ("stock", "cost", "updated"))

    @guarded("inventory.read")
    def clear_filters(self):
        return self._navigate(search="", category="all", status="")

    # --- one part's ledger --------------------------------------------------------------------------

    async def _load_detail(self, part_id: str, page: int) -> bool:
        p = current_principal()
        try:
            d = await asyncio.to_thread(_detail, p.tenant_id, p.fmt, part_id, page)
        except NotFound:
            self.detail_open = False
            return False
        self._apply_detail(d)
        return True

    @guarded("inventory.read")
    async def open_part(self, part_id: str):
        self.ledger, self.ledger_total = [], 0
        if not await self._load_detail(part_id, 0):
            return rx.toast.error("That spare part is gone.")
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

    # --- add and edit -----------------------------------------------------------------------------

    def _open_edit(self, part: SparePartView) -> None:
        self.edit = part
        self.edit_errors, self.edit_busy = {}, False
        self.edit_key += 1
        self.detail_open, self.edit_open = False, True

    @guarded("inventory.write")
    def open_new(self):
        self._open_edit(SparePartView(category="other", cost_plain="0.00"))

    @guarded("inventory.write")
    def open_edit(self, part_id: str):
        row = next((r for r in self.rows if r.id == part_id), None)
        if row is None:
            return rx.toast.error("That part is no longer on this page.")
        self._open_edit(row)
        return None

    @guarded("inventory.write")
    def edit_detail(self):
        """ "Edit" in a part's ledger dialog: the form, for the part shown."""
        self._open_edit(self.detail)

    @guarded("inventory.write")
    def set_edit_open(self, value: bool):
        self.edit_open = value

    @guarded("inventory.write")
    async def submit_edit(self, form: dict):
        errors: dict[str, str] = {}
        minimum = _whole(form, "minimum", errors, "Write a whole number, 0 or more.")
        stock = None
        if not self.edit.id:
            stock = _whole({"stock": form.get("stock") or "0"}, "stock", errors, "Write a whole number, 0 or more.")
        data = service.SparePartData(
            sku=str(form.get("sku") or ""),
            name=str(form.get("name") or ""),
            manufacturer=str(form.get("manufacturer") or ""),
            category=str(form.get("category") or "other"),
            compatible_models=str(form.get("models") or "").split(","),
            unit_cost=str(form.get("cost") or "0"),
            minimum_stock=minimum if minimum is not None else 0,
            location=str(form.get("location") or ""),
            active=str(form.get("active") or "") in ("on", "true", "1"),
            stock=stock,
        )
        errors = {**_form_keys(service.spare_part_errors(data)), **errors}
        if errors:
            self.edit_errors = errors
            return
        p, part_id, version = current_principal(), self.edit.id, self.edit.version
        self.edit_busy = True
        yield
        try:
            if part_id:
                saved = await in_tenant(lambda s: service.update_spare_part(s, part_id, data, actor=p, version=version))
            else:
                saved = await in_tenant(lambda s: service.create_spare_part(s, data, actor=p))
        except (ValidationFailed, Conflict, NotFound) as exc:
            self.edit_errors = _form_keys(_fields(exc)) if not isinstance(exc, NotFound) else {"form": exc.message}
            self.edit_busy = False
            return
        self.edit_busy, self.edit_open = False, False
        await self._refresh()
        yield rx.toast.success(f"{saved.name} ({saved.sku}) {'saved' if part_id else 'added'}.")

    # --- receive and adjust -------------------------------------------------------------------------

    def _open_move(self, part: SparePartView, kind: str) -> None:
        self.move, self.move_kind = part, kind
        self.move_errors, self.move_busy = {}, False
        self.move_key += 1
        self.detail_open, self.move_open = False, True

    @guarded("inventory.write")
    def open_receive(self, part_id: str):
        row = next((r for r in self.rows if r.id == part_id), None)
        if row is None:
            return rx.toast.error("That part is no longer on this page.")
        self._open_move(row, "receive")
        return None

    @guarded("inventory.write")
    def open_adjust(self, part_id: str):
        row = next((r for r in self.rows if r.id == part_id), None)
        if row is None:
            return rx.toast.error("That part is no longer on this page.")
        self._open_move(row, "adjust")
        return None

    @guarded("inventory.write")
    def receive_detail(self):
        self._open_move(self.detail, "receive")

    @guarded("inventory.write")
    def set_move_open(self, value: bool):
        self.move_open = value

    @guarded("inventory.write")
    async def submit_move(self, form: dict):
        errors: dict[str, str] = {}
        kind = self.move_kind
        quantity = _whole(form, "quantity", errors, "Write a whole number of units, 1 or more.")
        if quantity is not None and quantity < 1:
            errors["quantity"] = "Write a whole number of units, 1 or more."
        direction = str(form.get("direction") or "IN")
        if kind == "adjust" and direction not in ("IN", "OUT"):
            errors["direction"] = "Choose add or take off."
        reason = str(form.get("reason") or "").strip()
        if kind == "adjust" and not reason:
            errors["reason"] = "Give a reason (a count, damage, a correction…)."
        if errors or quantity is None:
            self.move_errors = errors
            return
        p, part_id, name = current_principal(), self.move.id, self.move.name
        self.move_busy = True
        yield
        try:
            if kind == "receive":
                entry = await in_tenant(
                    lambda s: service.receive_spare_part(s, part_id, quantity, actor=p, reason=reason)
                )
            else:
                delta = quantity if direction == "IN" else -quantity
                entry = await in_tenant(lambda s: service.adjust_spare_part(s, part_id, delta, actor=p, reason=reason))
        except (ValidationFailed, Conflict) as exc:
            self.move_errors = _fields(exc)
            self.move_busy = False
            return
        except NotFound as exc:
            self.move_errors = {"form": sentence(exc.message)}
            self.move_busy = False
            return
        self.move_busy, self.move_open = False, False
        await self._refresh()
        said = {"receive": "received", "IN": "added", "OUT": "taken off"}
        words = said["receive" if kind == "receive" else direction]
        yield rx.toast.success(f"{quantity} × {name} {words}: {entry.stock_after} on the shelf.")


def _form_keys(errors: dict[str, str]) -> dict[str, str]:
    """The service's field names as the form's inputs are named."""
    names = {"minimumStock": "minimum", "unitCost": "cost", "compatibleModels": "models"}
    return {names.get(k, k): v for k, v in errors.items()}
