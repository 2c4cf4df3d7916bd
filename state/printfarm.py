"""/printfarm: the SimplyPrint queue (ORDER before STOCK), printers, failures
and every print job, updating live; operators cancel, requeue and, with no
SimplyPrint connection, move jobs through their statuses by hand, one job or
several ticked ones at a time.

The job list's view (status, purpose, printer, search, sort, page) lives in the
URL, so a bookmark opens the same list and the back button returns to the
previous one."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from datetime import UTC, datetime
from typing import ClassVar

import reflex as rx
from sqlmodel import Session, col, func, select

from app.platform.db import tenant_session
from app.platform.errors import DomainError
from app.platform.formatting import ShopFormat
from app.printing import machine, service
from app.printing.models import PrintJob, ProductMapping
from state.base import AppState, current_principal, guarded, in_tenant
from state.live import Live, LiveState
from state.paging import PagedState, last_page_index
from state.util import sentence

STATUSES = machine.STATUSES
LIVE_KINDS = (service.LIVE_KIND,)
QUEUE_PREVIEW = 10  # queue rows shown per purpose; the rest are in the job list below
SORTS = tuple(service.SORTS)
SORT_CHOICES = [(key, f"Sort by {words}") for key, words in service.SORTS.items()]
ALL = "all"


@dataclasses.dataclass
class PrintJobRow:
    """A print job as a table row (the queue, needs attention, every job)."""

    id: str = ""
    order_id: str = ""
    order: str = ""  # the order number, "" for stock
    product: str = ""
    sku: str = ""
    part: str = ""
    copy: int = 0
    purpose: str = ""
    status: str = ""
    printer: str = ""  # the printer's name; "" when on none
    on_printer: bool = False  # assigned to or printing on a printer
    printing: bool = False
    progress: int = 0
    elapsed: str = ""  # how long it has printed ("" when not printing)
    remaining: str = ""  # about how long is left, when that is known
    error: str = ""  # what went wrong, as a sentence
    error_detail: str = ""  # what the outside system said, behind "Show details"
    needs_review: bool = False
    scrap: bool = False
    queued: str = ""
    updated: str = ""
    can_cancel: bool = False
    can_requeue: bool = False
    moves: list[str] = dataclasses.field(default_factory=list)
    position: int = 0  # place in the queue (queue rows only)


@dataclasses.dataclass
class PrinterCard:
    """A SimplyPrint printer as last seen."""

    id: str = ""
    name: str = ""
    model: str = ""
    state: str = ""
    online: bool = False
    file: str = ""
    progress: int = 0
    updated: str = ""


@dataclasses.dataclass
class FarmStats:
    queued: int = 0
    printing: int = 0
    done_today: int = 0
    failed: int = 0


@dataclasses.dataclass
class StatusCount:
    status: str = ""
    count: int = 0


@dataclasses.dataclass
class Choice:
    """A drop-down option: its value and its words."""

    value: str = ""
    label: str = ""


@dataclasses.dataclass(frozen=True)
class JobView:
    """What the job list shows: its filters, sort and page."""

    status: str = ""
    purpose: str = ""
    search: str = ""
    printer: str = ""
    sort: str = "queued"
    descending: bool = True
    page: int = 0
    page_size: int = 25


@dataclasses.dataclass
class FarmSnapshot:
    """Everything the page shows, read in one go (not a state var: `_apply` spreads it)."""

    manual: bool
    connected: bool
    sync: str
    last_poll: str
    last_error: str
    last_error_detail: str
    stats: FarmStats
    status_counts: list[StatusCount]
    order_queue: list[PrintJobRow]
    order_waiting: int
    stock_queue: list[PrintJobRow]
    stock_waiting: int
    attention: list[PrintJobRow]
    rows: list[PrintJobRow]
    total: int
    page: int
    printers: list[PrinterCard]
    printer_choices: list[Choice]


def _timing(job: PrintJob, minutes: int | None, fmt: ShopFormat, now: datetime) -> tuple[str, str]:
    """How long a printing job has printed, and about how long is left (each "" when unknown)."""
    if job.status != "PRINTING" or job.started_at is None:
        return "", ""
    started = job.started_at if job.started_at.tzinfo else job.started_at.replace(tzinfo=UTC)
    elapsed = max(0.0, (now - started).total_seconds())
    progress = max(0, min(100, int(job.progress or 0)))
    left: float | None = None
    if minutes:
        left = minutes * 60 * (100 - progress) / 100
    elif 0 < progress < 100 and elapsed > 0:
        left = elapsed * (100 - progress) / progress
    return fmt.duration(elapsed), ("" if left is None else fmt.duration(left))


def job_rows(session: Session, jobs: list[PrintJob], fmt: ShopFormat, manual: bool = False) -> list[PrintJobRow]:
    """Jobs as table rows: order number, product and printer by name, times in the shop's format."""
    numbers = service.order_numbers(session, jobs)
    on = service.printer_names(session, jobs)
    minutes = service.estimated_minutes(session, jobs)
    mapping_ids = {j.product_mapping_id for j in jobs if j.product_mapping_id}
    names: dict[uuid.UUID, str] = (
        dict(
            session.exec(
                select(ProductMapping.id, ProductMapping.name).where(col(ProductMapping.id).in_(mapping_ids))
            ).all()
        )
        if mapping_ids
        else {}
    )
    now = datetime.now(UTC)
    rows = []
    for j in jobs:
        error, detail = machine.describe_error(j.error or "")
        elapsed, remaining = _timing(j, minutes.get(j.id), fmt, now)
        rows.append(
            PrintJobRow(
                id=str(j.id),
                order_id=str(j.order_id) if j.order_id else "",
                order=numbers.get(j.order_id, "") if j.order_id else "",
                product=(names.get(j.product_mapping_id) if j.product_mapping_id else None) or j.sku or "—",
                sku=j.sku,
                part=j.part_name,
                copy=j.copy_number,
                purpose=j.purpose,
                status=j.status,
                printer=on.get(j.id, ""),
                on_printer=j.status in ("ASSIGNED", "PRINTING"),
                printing=j.status == "PRINTING",
                progress=int(j.progress or 0),
                elapsed=elapsed,
                remaining=remaining,
                error=error,
                error_detail=detail,
                needs_review=bool(j.needs_review),
                scrap=bool(j.scrap),
                queued=fmt.when(j.queued_at or j.created_at),
                updated=fmt.ago(j.updated_at, now),
                can_cancel=j.status in machine.CANCELLABLE,
                can_requeue=j.status in machine.REQUEUEABLE,
                moves=service.manual_moves(j, manual=manual),
            )
        )
    return rows


def _positions(rows: list[PrintJobRow]) -> list[PrintJobRow]:
    """Queue rows numbered 1, 2, … in the order printers take them."""
    return [dataclasses.replace(r, position=n + 1) for n, r in enumerate(rows)]


def _jobs(s: Session, view: JobView) -> tuple[list[PrintJob], int]:
    return service.list_jobs(
        s,
        status=view.status,
        purpose=view.purpose,
        search=view.search,
        printer=view.printer,
        sort=view.sort,
        descending=view.descending,
        page=view.page,
        page_size=view.page_size,
    )


def _snapshot(tenant_id: uuid.UUID, fmt: ShopFormat, view: JobView) -> FarmSnapshot:
    """Everything the page shows, read in one tenant session."""
    with tenant_session(tenant_id) as s:
        manual = service.manual_mode(s)
        conn = service.connection(s)
        counts = service.job_counts(s)
        midnight = fmt.local(datetime.now(UTC)).replace(hour=0, minute=0, second=0, microsecond=0)
        done_today = s.exec(
            select(func.count())
            .select_from(PrintJob)
            .where(PrintJob.status == "COMPLETED", col(PrintJob.completed_at) >= midnight)
        ).one()
        queue = service.queue(s)
        order_queue = [j for j in queue if j.purpose == "ORDER"]
        stock_queue = [j for j in queue if j.purpose != "ORDER"]
        failed, _ = service.list_jobs(s, status="FAILED", page_size=25)
        review = [j for j in service.needs_review(s) if j.status != "FAILED"]
        page = view.page
        jobs, total = _jobs(s, view)
        if page and not jobs and total:  # the page is gone (fewer jobs now): its last page
            page = last_page_index(total, view.page_size)
            jobs, total = _jobs(s, dataclasses.replace(view, page=page))
        printers = [
            PrinterCard(
                id=str(p.id),
                name=p.name,
                model=p.model or "",
                state=p.state or "offline",
                online=bool(p.online),
                file=p.current_file or "",
                progress=int(p.percentage or 0),
                updated=fmt.ago(p.updated_at),
            )
            for p in service.printers(s)
        ]
        last_error, last_error_detail = machine.describe_sync_error(conn.last_error if conn else "")
        return FarmSnapshot(
            manual=manual,
            connected=conn is not None,
            sync=machine.sync_state(
                conn is not None, bool(conn and conn.last_poll_at), (conn.last_error or "") if conn else ""
            ),
            last_poll=fmt.ago(conn.last_poll_at) if conn and conn.last_poll_at else "",
            last_error=last_error,
            last_error_detail=last_error_detail,
            stats=FarmStats(
                queued=counts.get("QUEUED", 0) + counts.get("ASSIGNED", 0),
                printing=counts.get("PRINTING", 0),
                done_today=int(done_today),
                failed=counts.get("FAILED", 0),
            ),
            status_counts=[StatusCount(status=st, count=counts.get(st, 0)) for st in STATUSES],
            order_queue=_positions(job_rows(s, order_queue[:QUEUE_PREVIEW], fmt, manual)),
            order_waiting=len(order_queue),
            stock_queue=_positions(job_rows(s, stock_queue[:QUEUE_PREVIEW], fmt, manual)),
            stock_waiting=len(stock_queue),
            attention=job_rows(s, review + failed, fmt, manual),
            rows=job_rows(s, jobs, fmt, manual),
            total=total,
            page=page,
            printers=printers,
            printer_choices=[Choice(ALL, "All printers"), Choice(service.NO_PRINTER, "Not on a printer")]
            + [Choice(name, name) for name in service.printer_choices(s)],
        )


def _summary(result: service.BulkResult, done: str) -> rx.event.EventSpec:
    """A bulk action's toast: how many went through, and each refused job with its reason."""
    refused = "; ".join(f"{r.job}: {r.reason}" for r in result.refused[:5])
    more = f" and {len(result.refused) - 5} more" if len(result.refused) > 5 else ""
    if not result.refused:
        return rx.toast.success(f"{len(result.done)} print job(s) {done}.")
    text = f"{len(result.done)} print job(s) {done}. Not changed: {refused}{more}."
    return (rx.toast.warning if result.done else rx.toast.error)(text, duration=12_000)


class PrintFarmState(LiveState, PagedState, AppState):
    PAGE_PERMISSION: ClassVar[str] = "printJobs.read"
    URL_PARAMS: ClassVar[tuple[str, ...]] = ("search", "status", "purpose", "printer", "sort", "descending")
    # live: refresh whenever jobs or printers change (webhooks, the reconciliation poll, workers,
    # colleagues): at most about once a second
    LIVE: ClassVar[Live] = Live("printJobs.read", "/printfarm", LIVE_KINDS, settle=1.0)

    stats: FarmStats = FarmStats()
    status_counts: list[StatusCount] = []
    order_queue: list[PrintJobRow] = []
    order_waiting: int = 0
    stock_queue: list[PrintJobRow] = []
    stock_waiting: int = 0
    attention: list[PrintJobRow] = []
    printers: list[PrinterCard] = []
    printer_choices: list[Choice] = []
    rows: list[PrintJobRow] = []
    status: str = ALL
    purpose: str = ALL
    printer: str = ALL
    search: str = ""
    sort: str = "queued"
    descending: bool = True
    page_size: int = 25
    manual: bool = False
    connected: bool = False
    sync: str = "manual"
    last_poll: str = ""
    last_error: str = ""
    last_error_detail: str = ""
    error: str = ""
    loaded: bool = False
    updated_at: str = ""

    @rx.var
    def can_write(self) -> bool:
        return "printJobs.write" in self.permissions

    @rx.var
    def queue_empty(self) -> bool:
        return not self.order_queue and not self.stock_queue

    @rx.var
    def filtered(self) -> bool:
        return bool(self.search) or any(v != ALL for v in (self.status, self.purpose, self.printer))

    def _view(self) -> JobView:
        return JobView(
            status="" if self.status == ALL else self.status,
            purpose="" if self.purpose == ALL else self.purpose,
            search=self.search,
            printer="" if self.printer == ALL else self.printer,
            sort=self.sort,
            descending=self.descending,
            page=self.page,
            page_size=self.page_size,
        )

    def _clean_view(self) -> None:
        """Values from the URL that mean nothing become the defaults."""
        if self.status not in STATUSES:
            self.status = ALL
        if self.purpose not in machine.PURPOSES:
            self.purpose = ALL
        if self.sort not in SORTS:
            self.sort = "queued"
        self.printer = self.printer.strip() or ALL

    def _apply(self, snap: FarmSnapshot, fmt: ShopFormat) -> None:
        self.manual, self.connected, self.sync = snap.manual, snap.connected, snap.sync
        self.last_poll, self.last_error, self.last_error_detail = (
            snap.last_poll,
            snap.last_error,
            snap.last_error_detail,
        )
        self.stats, self.status_counts = snap.stats, snap.status_counts
        self.order_queue, self.stock_queue = snap.order_queue, snap.stock_queue
        self.order_waiting, self.stock_waiting = snap.order_waiting, snap.stock_waiting
        self.attention, self.rows, self.printers = snap.attention, snap.rows, snap.printers
        self.printer_choices = snap.printer_choices
        if self.printer not in (c.value for c in snap.printer_choices):  # a name from an old link
            self.printer_choices = [*snap.printer_choices, Choice(self.printer, self.printer)]
        self.total, self.page = snap.total, snap.page
        self.page_ids = [r.id for r in snap.rows]
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

    @guarded("printJobs.read", quiet=True)
    async def load(self):
        self._read_url()
        self._clean_view()
        await self._refresh()
        return PrintFarmState.watch

    # --- the job list: each change goes through the URL (the loader follows) ----------------

    @guarded("printJobs.read")
    def set_status(self, value: str):
        return self._navigate(status=value if value in STATUSES else ALL)

    @guarded("printJobs.read")
    def set_purpose(self, value: str):
        return self._navigate(purpose=value if value in machine.PURPOSES else ALL)

    @guarded("printJobs.read")
    def set_printer(self, value: str):
        return self._navigate(printer=(value or ALL)[:200])

    @guarded("printJobs.read")
    async def set_search(self, value: str):
        return await self._search(search=value.strip()[:200])

    @guarded("printJobs.read")
    def set_sort(self, value: str):
        return self._navigate(sort=value if value in SORTS else "queued")

    @guarded("printJobs.read")
    def flip_order(self):
        return self._navigate(descending=not self.descending)

    @guarded("printJobs.read")
    def show_queue(self, purpose: str):
        """The whole waiting queue of one purpose, in the job list (oldest first, as printers take it)."""
        return self._navigate(
            status="QUEUED",
            purpose=purpose if purpose in machine.PURPOSES else ALL,
            printer=ALL,
            search="",
            sort="queued",
            descending=False,
        )

    @guarded("printJobs.read")
    def clear_filters(self):
        return self._navigate(status=ALL, purpose=ALL, printer=ALL, search="")

    # --- operator actions --------------------------------------------------------------------

    async def _act(self, work, ok: str):
        try:
            await in_tenant(work)
        except DomainError as exc:
            await self._refresh()
            return rx.toast.error(sentence(exc.message))
        await self._refresh()
        return rx.toast.success(ok)

    @guarded("printJobs.write")
    async def cancel(self, job_id: str):
        p = current_principal()
        return await self._act(lambda s: service.cancel_job(s, job_id, actor=p), "Print job cancelled.")

    @guarded("printJobs.write")
    async def requeue(self, job_id: str):
        p = current_principal()
        return await self._act(lambda s: service.requeue_job(s, job_id, actor=p), "Print job queued again.")

    @guarded("printJobs.write")
    async def move(self, job_id: str, status: str):
        p = current_principal()
        return await self._act(
            lambda s: service.move_job(s, job_id, status, actor=p),
            f"Print job moved to {machine.status_words(status)}.",
        )

    @guarded("printJobs.write")
    async def reviewed(self, job_id: str):
        p = current_principal()
        return await self._act(lambda s: service.resolve_review(s, job_id, actor=p), "Marked as reviewed.")

    @guarded("printJobs.write")
    async def sync_now(self):
        if not await in_tenant(service.reconcile_now):
            return rx.toast.info("Manual mode: there is no SimplyPrint to ask.")
        return rx.toast.info("Asking SimplyPrint for the printers and jobs now.")

    # --- the ticked rows ---------------------------------------------------------------------

    async def _bulk(self, action: str, done: str, status: str = ""):
        p, ids = current_principal(), list(self.selected)
        if not ids:
            return rx.toast.info("Tick the print jobs first.")
        try:
            result = await in_tenant(lambda s: service.bulk_jobs(s, ids, action, status=status, actor=p))
        except DomainError as exc:
            return rx.toast.error(sentence(exc.message))
        self.selected = []
        await self._refresh()
        return _summary(result, done)

    @guarded("printJobs.write")
    async def bulk_move(self, status: str):
        return await self._bulk("move", f"moved to {machine.status_words(status)}", status)

    @guarded("printJobs.write")
    async def bulk_cancel(self):
        return await self._bulk("cancel", "cancelled")

    @guarded("printJobs.write")
    async def bulk_requeue(self):
        return await self._bulk("requeue", "queued again")

    # --- live updates ------------------------------------------------------------------------

    async def _live_refresh(self, principal, token: str) -> None:
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
            if self._watch_token == token and self._view() == view:  # the filters did not change meanwhile
                self._apply(snap, principal.fmt)
