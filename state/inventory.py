"""/inventory: the stock of printed products (each product's shelf against its
minimum and maximum), the stock batches printing for it, and the
replenishment scheduler's status; /inventory/products/[mapping_id]: one
product's figures, its stock over time, its ledger and its batches.

Both pages update live (inventory and print farm messages: a batch's
progress and the stock rising when its prints complete) and share the stock
actions (`StockActions`): configure, adjust, scrap (behind a confirmation),
print for stock, cancel a batch. The stock page's view, filters, sort and
page live in the URL (state/paging.py).
"""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, ClassVar

import reflex as rx
from sqlmodel import Session

from app.inventory import service
from app.inventory.models import InventoryTransaction
from app.orders import service as orders
from app.platform import audit, auth
from app.platform.db import tenant_session
from app.platform.errors import DomainError, NotFound, ValidationFailed
from app.platform.formatting import ShopFormat
from app.platform.machine import Status, StatusTable
from app.printing import service as printing
from state.base import AppState, current_principal, guarded, in_tenant
from state.live import Live, LiveState
from state.paging import PagedState, last_page_index
from state.util import sentence

STOCK_STATUS = StatusTable(
    Status("low", "Low", "red"),
    Status("ok", "OK", "green"),
    Status("over", "Over", "amber"),
)
BATCH_STATUS = StatusTable(
    Status("IN_PROGRESS", "Printing", "blue"),
    Status("COMPLETED", "Completed", "green"),
    Status("FAILED", "Failed", "red"),
    Status("CANCELLED", "Cancelled", "gray"),
)
ORIGIN_WORDS = {"SCHEDULER": "Scheduler", "MANUAL": "By hand"}
# the batches view's filter: URL value → (the service's status, words)
BATCH_FILTERS = {
    "active": ("active", "Active"),
    "completed": ("COMPLETED", "Completed"),
    "failed": ("FAILED", "Failed"),
    "cancelled": ("CANCELLED", "Cancelled"),
    "all": ("", "All"),
}
VIEWS = ("stock", "batches")
# the scheduler's six conditions, named as a person reads them
CONDITION_WORDS = {
    "enabled": "Switched on",
    "hours": "Allowed hours",
    "days": "Allowed days",
    "order_queue": "Order queue",
    "stock_jobs": "Stock jobs",
    "deficit": "Below minimum",
}
ACTIONS = ("configure", "adjust", "scrap", "print")
MINUS = "\u2212"  # the typographic minus sign: a ledger entry going out reads as minus two, not hyphen two


# --- what the pages show ------------------------------------------------------------------------


@dataclasses.dataclass
class StockRowView:
    """A product's shelf (a row of the stock table; the product page's figures)."""

    id: str = ""
    sku: str = ""
    name: str = ""
    inactive: bool = False
    current: int = 0
    minimum: int = 0
    maximum: str = "—"  # "—": no cap
    maximum_value: str = ""  # the form's value ("" for no cap)
    priority: int = 0
    batch_size: int = 1
    pending: int = 0  # units in batches still printing
    status: str = "ok"  # low | ok | over
    fill: str = "0%"  # the bar: current against the scale
    min_at: str = ""  # where the minimum's mark sits ("" none)
    max_at: str = ""  # where the maximum's mark sits ("" none)
    updated: str = ""


@dataclasses.dataclass
class BatchView:
    id: str = ""
    mapping_id: str = ""
    sku: str = ""
    name: str = ""
    status: str = ""
    total: int = 0
    done: int = 0
    percent: int = 0
    origin: str = ""
    error: str = ""
    created: str = ""
    finished: str = ""
    can_cancel: bool = False


@dataclasses.dataclass
class Counts:
    all: int = 0
    low: int = 0
    ok: int = 0
    over: int = 0


@dataclasses.dataclass
class BatchCounts:
    active: int = 0
    completed: int = 0
    failed: int = 0
    cancelled: int = 0
    all: int = 0


@dataclasses.dataclass
class ConditionView:
    name: str = ""
    ok: bool = False
    text: str = ""


@dataclasses.dataclass
class RunView:
    """The scheduler's last evaluation ("" at: none yet)."""

    at: str = ""
    ago: str = ""
    trigger: str = ""
    planned: bool = False
    summary: str = ""
    notes: list[str] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class LedgerView:
    at: str = ""
    kind: str = ""
    change: str = ""  # "+3", or a minus sign and "1"
    inward: bool = True
    after: int = 0
    reference: str = ""
    order_id: str = ""
    order_number: str = ""
    reason: str = ""
    who: str = ""


@dataclasses.dataclass
class HistoryPoint:
    at: str = ""
    stock: int = 0


@dataclasses.dataclass
class ActionTarget:
    """The product a stock dialog acts on."""

    id: str = ""
    sku: str = ""
    name: str = ""
    current: int = 0
    minimum: str = "0"
    maximum: str = ""
    priority: str = "0"
    batch_size: str = "1"


def _pct(value: float, scale: float) -> str:
    return f"{max(0.0, min(100.0, 100.0 * value / scale)):.1f}%"


def stock_view(r: service.StockRow, fmt: ShopFormat) -> StockRowView:
    ceiling = r.maximum if r.maximum is not None else max(r.minimum * 2, 1)
    scale = float(max(r.current, ceiling, r.minimum, 1))
    return StockRowView(
        id=str(r.mapping_id),
        sku=r.sku,
        name=r.name,
        inactive=not r.active,
        current=r.current,
        minimum=r.minimum,
        maximum="—" if r.maximum is None else str(r.maximum),
        maximum_value="" if r.maximum is None else str(r.maximum),
        priority=r.priority,
        batch_size=r.batch_size,
        pending=r.pending,
        status=r.status,
        fill=_pct(r.current, scale),
        min_at=_pct(r.minimum, scale) if r.minimum > 0 else "",
        max_at=_pct(r.maximum, scale) if r.maximum is not None else "",
        updated=fmt.when(r.updated_at) if r.updated_at else "",
    )


def batch_view(b: service.BatchRow, fmt: ShopFormat) -> BatchView:
    return BatchView(
        id=str(b.id),
        mapping_id=str(b.mapping_id),
        sku=b.sku,
        name=b.name,
        status=b.status,
        total=b.total_jobs,
        done=b.completed_jobs,
        percent=int(100 * b.completed_jobs / b.total_jobs) if b.total_jobs else 0,
        origin=ORIGIN_WORDS.get(b.origin, b.origin.capitalize()),
        error=sentence(b.error) if b.error else "",
        created=fmt.when(b.created_at),
        finished=fmt.when(b.finished_at) if b.finished_at else "",
        can_cancel=b.status == "IN_PROGRESS",
    )


# --- the stock actions both pages offer -----------------------------------------------------------


def _whole(form: dict, name: str, key: str, errors: dict[str, str], empty: int | None) -> int | None:
    """A whole number typed in a form (`empty` when left empty); a field error otherwise."""
    raw = str(form.get(name) or "").strip()
    if not raw:
        return empty
    try:
        return int(raw)
    except ValueError:
        errors[key] = "Write a whole number."
        return None


def _fields(exc: ValidationFailed) -> dict[str, str]:
    fields = exc.details.get("fields")
    return {str(k): str(v) for k, v in fields.items()} if fields else {"form": sentence(exc.message)}


class StockActions(rx.State, mixin=True):
    """The stock dialogs (configure, adjust, scrap, print for stock) and
    cancelling a batch. The state mixing this in reloads in `_refresh`."""

    act_kind: str = ""  # "" (closed) | configure | adjust | scrap | print
    act: ActionTarget = ActionTarget()
    act_errors: dict[str, str] = {}
    act_confirm: bool = False  # the scrap dialog asks before it scraps
    act_quantity: int = 0
    act_reason: str = ""
    act_busy: bool = False
    act_key: int = 0  # a new dialog starts from fresh defaults

    if TYPE_CHECKING:  # for the type checker only: what the state mixing this in provides
        permissions: list[str]

        async def _refresh(self) -> None:
            """The state's reload."""
            ...

    @rx.var
    def act_open(self) -> bool:
        return self.act_kind != ""

    @rx.var
    def can_write(self) -> bool:
        return "inventory.write" in self.permissions

    @rx.var
    def can_settle(self) -> bool:
        """May change the shop's settings (where stock management is switched on)."""
        return "settings.write" in self.permissions

    @guarded("inventory.write")
    def open_action(self, kind: str, row: StockRowView):
        if kind not in ACTIONS:
            return
        self.act = ActionTarget(
            id=row.id,
            sku=row.sku,
            name=row.name,
            current=row.current,
            minimum=str(row.minimum),
            maximum=row.maximum_value,
            priority=str(row.priority),
            batch_size=str(row.batch_size),
        )
        self.act_kind, self.act_errors, self.act_confirm, self.act_busy = kind, {}, False, False
        self.act_key += 1

    @guarded("inventory.write")
    def set_act_open(self, value: bool):
        if not value:
            self.act_kind, self.act_confirm = "", False

    @guarded("inventory.write")
    def back_to_form(self):
        self.act_confirm = False

    async def _done(self, message: str):
        self.act_kind, self.act_confirm, self.act_errors, self.act_busy = "", False, {}, False
        await self._refresh()
        return rx.toast.success(message)

    def _failed(self, exc: DomainError) -> None:
        self.act_busy = False
        self.act_errors = _fields(exc) if isinstance(exc, ValidationFailed) else {"form": sentence(exc.message)}

    @guarded("inventory.write")
    async def submit_action(self, form: dict):
        kind, target = self.act_kind, self.act
        if kind == "configure":
            return await self._configure(form, target)
        if kind == "adjust":
            return await self._adjust(form, target)
        if kind == "scrap":
            return self._ask_scrap(form)
        if kind == "print":
            return await self._print(form, target)
        return None

    async def _configure(self, form: dict, t: ActionTarget):
        errors: dict[str, str] = {}
        minimum = _whole(form, "minimum", "minimumStock", errors, 0)
        maximum = _whole(form, "maximum", "maximumStock", errors, None)
        priority = _whole(form, "priority", "replenishmentPriority", errors, 0)
        batch_size = _whole(form, "batch_size", "replenishmentBatchSize", errors, 1)
        if errors:
            self.act_errors = errors
            return None
        c = service.StockConfig(minimum or 0, maximum, priority or 0, batch_size or 1)
        errors = service.config_errors(c)
        if errors:
            self.act_errors = errors
            return None
        p = current_principal()
        try:
            await in_tenant(lambda s: service.configure(s, t.id, c, actor=p))
        except DomainError as exc:
            self._failed(exc)
            return None
        cap = "no maximum" if c.maximum_stock is None else f"maximum {c.maximum_stock}"
        return await self._done(
            f"{t.sku}: minimum {c.minimum_stock}, {cap}, priority {c.replenishment_priority}, "
            f"up to {c.replenishment_batch_size} unit(s) per run."
        )

    async def _adjust(self, form: dict, t: ActionTarget):
        errors: dict[str, str] = {}
        direction = "OUT" if str(form.get("direction") or "IN") == "OUT" else "IN"
        quantity = _whole(form, "quantity", "quantity", errors, None)
        reason = str(form.get("reason") or "").strip()
        if quantity is None and "quantity" not in errors:
            errors["quantity"] = "How many units?"
        if not reason:
            errors["reason"] = "Give a reason (a count, damage, a correction…)."
        if errors:
            self.act_errors = errors
            return None
        p = current_principal()
        try:
            entry = await in_tenant(lambda s: service.adjust(s, t.id, quantity or 0, direction, reason, actor=p))
        except DomainError as exc:
            self._failed(exc)
            return None
        moved = "added to" if direction == "IN" else "taken off"
        return await self._done(f"{quantity} × {t.sku} {moved} the shelf: {entry.stock_after} on it now.")

    def _ask_scrap(self, form: dict):
        errors: dict[str, str] = {}
        quantity = _whole(form, "quantity", "quantity", errors, None)
        reason = str(form.get("reason") or "").strip()
        if "quantity" not in errors and (quantity is None or quantity < 1):
            errors["quantity"] = "Scrap 1 unit or more."
        if not reason:
            errors["reason"] = "Say why (damaged, failed inspection…)."
        self.act_errors = errors
        if not errors:
            self.act_quantity, self.act_reason, self.act_confirm = quantity or 0, reason, True

    @guarded("inventory.write")
    async def confirm_scrap(self):
        t, quantity, reason, p = self.act, self.act_quantity, self.act_reason, current_principal()
        if self.act_kind != "scrap" or not self.act_confirm:
            return
        self.act_busy = True
        yield
        try:
            entry = await in_tenant(lambda s: service.scrap(s, t.id, quantity, reason, actor=p))
        except DomainError as exc:
            self._failed(exc)
            self.act_confirm = False
            return
        yield await self._done(f"{quantity} × {t.sku} scrapped: {entry.stock_after} left on the shelf.")

    async def _print(self, form: dict, t: ActionTarget):
        errors: dict[str, str] = {}
        quantity = _whole(form, "quantity", "quantity", errors, None)
        if "quantity" not in errors and (quantity is None or not 1 <= quantity <= 100):
            errors["quantity"] = "Print 1 to 100 units."
        if errors:
            self.act_errors = errors
            return None
        p = current_principal()
        try:
            jobs = await in_tenant(
                lambda s: sum(b.total_jobs for b in service.create_batches(s, t.id, quantity or 0, actor=p))
            )
        except DomainError as exc:
            self._failed(exc)
            return None
        return await self._done(
            f"{quantity} stock batch(es) of {t.sku} queued behind every order ({jobs} print job(s)); "
            "each adds one unit to the shelf when its prints are done."
        )

    @guarded("inventory.write")
    async def cancel_batch(self, batch_id: str):
        p = current_principal()
        try:
            sku = await in_tenant(lambda s: _cancel(s, batch_id, p))
        except DomainError as exc:
            await self._refresh()
            return rx.toast.error(sentence(exc.message))
        await self._refresh()
        return rx.toast.success(
            f"Stock batch of {sku} cancelled: its waiting prints are cancelled, a printing one is flagged for review."
        )


def _cancel(s: Session, batch_id: str, p: auth.Principal) -> str:
    batch = service.cancel_batch(s, batch_id, actor=p)
    return printing.get_mapping(s, batch.product_mapping_id).sku


# --- /inventory -----------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class InventoryView:
    view: str = "stock"
    status: str = ""
    search: str = ""
    sort: str = "sku"
    descending: bool = False
    batches: str = "active"
    page: int = 0
    page_size: int = 25


@dataclasses.dataclass
class Snapshot:
    """Everything /inventory shows, read in one go."""

    enabled: bool
    counts: Counts
    rows: list[StockRowView]
    batch_counts: BatchCounts
    batch_rows: list[BatchView]
    total: int
    page: int
    run: RunView
    conditions: list[ConditionView]
    next_run: str
    replenishing: bool
    settings_words: str


def _run_view(s: Session, fmt: ShopFormat) -> tuple[RunView, list[ConditionView]]:
    run = service.last_run(s)
    if run is None:
        return RunView(), []
    notes = [
        f"{p['sku']}: {p['batches']} batch(es) planned" + (f" ({p['note'].split(': ', 1)[-1]})" if p["note"] else "")
        if p.get("batches")
        else sentence(p["note"])
        for p in run.products or []
        if p.get("batches") or p.get("note")
    ]
    view = RunView(
        at=fmt.when(run.ran_at),
        ago=fmt.ago(run.ran_at),
        trigger="run by hand" if run.trigger == "manual" else "on schedule",
        planned=run.planned,
        summary=sentence(run.summary),
        notes=notes,
    )
    conditions = [
        ConditionView(
            name=CONDITION_WORDS.get(str(r.get("condition")), "Condition"),
            ok=bool(r.get("ok")),
            text=sentence(str(r.get("text") or "")),
        )
        for r in run.reasons or []
    ]
    return view, conditions


def settings_words(st: service.ReplenishmentSettings) -> str:
    return (
        f"Plans in {st.hours_words()}, {st.days_words()}; while the order queue is below "
        f"{st.order_queue_threshold} print job(s) and fewer than {st.max_concurrent_stock_jobs} stock print job(s) "
        f"are active; every {st.interval_minutes} minute(s)."
    )


def _snapshot(tenant_id: uuid.UUID, fmt: ShopFormat, v: InventoryView) -> Snapshot:
    with tenant_session(tenant_id) as s:
        counts = service.stock_counts(s)
        rows: list[StockRowView] = []
        batch_rows: list[BatchView] = []
        page = v.page
        if v.view == "batches":
            status = BATCH_FILTERS.get(v.batches, BATCH_FILTERS["active"])[0]
            found, total = service.list_batches(s, status=status, page=page, page_size=v.page_size)
            if page and not found and total:  # past the last page
                page = last_page_index(total, v.page_size)
                found, total = service.list_batches(s, status=status, page=page, page_size=v.page_size)
            batch_rows = [batch_view(b, fmt) for b in found]
        else:
            f = service.StockFilter(v.search, v.status, v.sort, v.descending, page, v.page_size)
            found_stock, total = service.list_stock(s, f)
            if page and not found_stock and total:
                f.page = page = last_page_index(total, v.page_size)
                found_stock, total = service.list_stock(s, f)
            rows = [stock_view(r, fmt) for r in found_stock]
        batch_counts = BatchCounts(
            **{key: service.list_batches(s, status=st, page_size=1)[1] for key, (st, _) in BATCH_FILTERS.items()}
        )
        run, conditions = _run_view(s, fmt)
        st = service.read_settings(s)
        return Snapshot(
            enabled=service.stock_enabled(s),
            counts=Counts(all=sum(counts.values()), **counts),
            rows=rows,
            batch_counts=batch_counts,
            batch_rows=batch_rows,
            total=total,
            page=page,
            run=run,
            conditions=conditions,
            next_run=fmt.when(service.next_run_at(s)),
            replenishing=st.enabled,
            settings_words=settings_words(st),
        )


class InventoryState(StockActions, LiveState, PagedState, AppState):
    PAGE_PERMISSION: ClassVar[str] = "inventory.read"
    URL_PARAMS: ClassVar[tuple[str, ...]] = ("view", "status", "search", "sort", "descending", "batches")
    # live: the shelf and the batches move when prints complete (workers, webhooks, colleagues)
    LIVE: ClassVar[Live] = Live("inventory.read", "/inventory", (service.LIVE_KIND, printing.LIVE_KIND), settle=1.0)

    view: str = "stock"
    status: str = ""
    search: str = ""
    sort: str = "sku"
    descending: bool = False
    batches: str = "active"
    page_size: int = 25
    enabled: bool = True
    counts: Counts = Counts()
    rows: list[StockRowView] = []
    batch_counts: BatchCounts = BatchCounts()
    batch_rows: list[BatchView] = []
    run: RunView = RunView()
    conditions: list[ConditionView] = []
    next_run: str = ""
    replenishing: bool = False
    settings_words: str = ""
    running: bool = False
    loaded: bool = False
    error: str = ""
    updated_at: str = ""

    @rx.var
    def filtered(self) -> bool:
        return bool(self.search or self.status)

    def _view(self) -> InventoryView:
        return InventoryView(
            self.view, self.status, self.search, self.sort, self.descending, self.batches, self.page, self.page_size
        )

    def _clean_view(self) -> None:
        if self.view not in VIEWS:
            self.view = "stock"
        if self.status not in service.STOCK_STATUSES:
            self.status = ""
        if self.sort not in service.STOCK_SORTS:
            self.sort = "sku"
        if self.batches not in BATCH_FILTERS:
            self.batches = "active"

    def _apply(self, snap: Snapshot, fmt: ShopFormat) -> None:
        self.enabled, self.counts, self.rows = snap.enabled, snap.counts, snap.rows
        self.batch_counts, self.batch_rows = snap.batch_counts, snap.batch_rows
        self.total, self.page = snap.total, snap.page
        self.run, self.conditions, self.next_run = snap.run, snap.conditions, snap.next_run
        self.replenishing, self.settings_words = snap.replenishing, snap.settings_words
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

    @guarded("inventory.read", quiet=True)
    async def load(self):
        self._read_url()
        self._clean_view()
        self.act_kind = ""
        await self._refresh()
        return InventoryState.watch

    # --- the view: each change goes through the URL (the loader follows) ---------------------

    @guarded("inventory.read")
    def set_status(self, value: str):
        return self._navigate(status=value if value in service.STOCK_STATUSES else "")

    @guarded("inventory.read")
    def set_batches(self, value: str):
        return self._navigate(batches=value if value in BATCH_FILTERS else "active")

    @guarded("inventory.read")
    async def set_search(self, value: str):
        return await self._search(search=value.strip()[:200])

    @guarded("inventory.read")
    def clear_filters(self):
        return self._navigate(status="", search="")

    @guarded("inventory.read")
    def sort_by(self, column: str):
        if column not in service.STOCK_SORTS:
            return None
        if self.sort == column:
            return self._navigate(descending=not self.descending)
        return self._navigate(sort=column, descending=column in ("current", "priority"))

    # --- the scheduler ----------------------------------------------------------------------------

    @guarded("inventory.write")
    async def run_now(self):
        """Evaluate now: the same six conditions as the schedule."""
        self.running = True
        yield

        def evaluate(s: Session) -> tuple[str, bool] | None:
            run = service.evaluate(s, trigger="manual")
            return None if run is None else (run.summary, run.planned)

        try:
            result = await in_tenant(evaluate)
        except DomainError as exc:
            self.running = False
            yield rx.toast.error(sentence(exc.message))
            return
        self.running = False
        await self._refresh()
        if result is None:
            yield rx.toast.warning("Another evaluation is running for this shop; try again in a moment.")
            return
        summary, planned = result
        yield (rx.toast.success if planned else rx.toast.info)(sentence(summary))

    # --- live updates ----------------------------------------------------------------------------

    async def _live_refresh(self, principal: auth.Principal, token: str) -> None:
        """Read outside the lock, so filter changes meanwhile are not held up."""
        async with self:
            if self._watch_token != token:
                return
            view = self._view()
        try:
            snap = await asyncio.to_thread(_snapshot, principal.tenant_id, principal.fmt, view)
        except DomainError:
            return
        async with self:
            if self._watch_token == token and self._view() == view:
                self._apply(snap, principal.fmt)


# --- /inventory/products/[mapping_id] ---------------------------------------------------------------


@dataclasses.dataclass
class ProductSnapshot:
    enabled: bool
    product: StockRowView
    history: list[HistoryPoint]
    ledger: list[LedgerView]
    total: int
    page: int
    batches: list[BatchView]


def _ledger_views(s: Session, entries: list[InventoryTransaction], fmt: ShopFormat) -> list[LedgerView]:
    names = audit.actor_names(s) if any(e.actor_user_id for e in entries) else {}
    numbers: dict[uuid.UUID, str] = {}
    for e in entries:
        if e.order_id and e.order_id not in numbers:
            try:
                numbers[e.order_id] = orders.get_order(s, e.order_id).number
            except NotFound:
                numbers[e.order_id] = ""
    out = []
    for e in entries:
        inward = e.direction == "IN"
        number = numbers.get(e.order_id, "") if e.order_id else ""
        reference = service.REFERENCE_WORDS.get(e.reference_type, e.reference_type.capitalize())
        if number:
            reference = "Order"
        out.append(
            LedgerView(
                at=fmt.when(e.created_at),
                kind=service.TYPE_WORDS.get(e.transaction_type, e.transaction_type.capitalize()),
                change=("+" if inward else MINUS) + str(e.quantity),
                inward=inward,
                after=e.stock_after,
                reference=reference,
                order_id=str(e.order_id) if number else "",
                order_number=number,
                reason=e.reason,
                who=names.get(e.actor_user_id, "") if e.actor_user_id else "",
            )
        )
    return out


def _history(s: Session, row: service.StockRow, fmt: ShopFormat) -> list[HistoryPoint]:
    """The figure after each ledger entry, and where it stands now (so the last step has a width)."""
    points = [HistoryPoint(at=fmt.when(at), stock=n) for at, n in service.stock_history(s, row.mapping_id)]
    return [*points, HistoryPoint(at="now", stock=row.current)] if points else []


def _product_snapshot(tenant_id: uuid.UUID, fmt: ShopFormat, mapping_id: str, page: int, size: int) -> ProductSnapshot:
    with tenant_session(tenant_id) as s:
        row = service.stock_row(s, mapping_id)
        entries, total = service.ledger(s, row.mapping_id, page=page, page_size=size)
        if page and not entries and total:
            page = last_page_index(total, size)
            entries, total = service.ledger(s, row.mapping_id, page=page, page_size=size)
        batches, _ = service.list_batches(s, status="", mapping_id=row.mapping_id, page_size=20)
        return ProductSnapshot(
            enabled=service.stock_enabled(s),
            product=stock_view(row, fmt),
            history=_history(s, row, fmt),
            ledger=_ledger_views(s, list(entries), fmt),
            total=total,
            page=page,
            batches=[batch_view(b, fmt) for b in batches],
        )


class InventoryProductState(StockActions, LiveState, PagedState, AppState):
    PAGE_PERMISSION: ClassVar[str] = "inventory.read"
    LIVE: ClassVar[Live] = Live("inventory.read", "/inventory/products", (service.LIVE_KIND,), settle=1.0)

    page_size: int = 20
    enabled: bool = True
    product: StockRowView = StockRowView()
    history: list[HistoryPoint] = []
    ledger: list[LedgerView] = []
    product_batches: list[BatchView] = []
    loaded: bool = False
    error: str = ""

    def _product_id(self) -> str:
        return self.router.url.path.rstrip("/").rsplit("/", 1)[-1]

    def _live_here(self) -> bool:
        return self.router.url.path.rstrip("/") == f"/inventory/products/{self.product.id}"

    def _apply(self, snap: ProductSnapshot) -> None:
        self.enabled, self.product, self.history = snap.enabled, snap.product, snap.history
        self.ledger, self.total, self.page = snap.ledger, snap.total, snap.page
        self.product_batches = snap.batches
        self.error, self.loaded = "", True

    async def _refresh(self) -> None:
        p = current_principal()
        try:
            snap = await asyncio.to_thread(
                _product_snapshot, p.tenant_id, p.fmt, self._product_id(), self.page, self.page_size
            )
        except DomainError as exc:
            self.error, self.loaded = sentence(exc.message), True
            return
        self._apply(snap)

    @guarded("inventory.read", quiet=True)
    async def load(self):
        self.loaded, self.page, self.act_kind, self.error = False, 0, "", ""
        await self._refresh()
        if not self.error:
            return InventoryProductState.watch
        return None

    async def _live_refresh(self, principal: auth.Principal, token: str) -> None:
        async with self:
            if self._watch_token != token:
                return
            mapping_id, page, size = self.product.id, self.page, self.page_size
        try:
            snap = await asyncio.to_thread(
                _product_snapshot, principal.tenant_id, principal.fmt, mapping_id, page, size
            )
        except DomainError:
            return
        async with self:
            if self._watch_token == token and self.product.id == mapping_id and self.page == page:
                self._apply(snap)
