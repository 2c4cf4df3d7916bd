"""/printfarm: the SimplyPrint queue (ORDER before STOCK), printers, failures
and every print job, updating live; operators cancel, requeue and, with no
SimplyPrint connection, move jobs through their statuses by hand."""

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
from app.printing import machine, service
from app.printing.models import PrintJob, ProductMapping
from state.base import AppState, current_principal, guarded, in_tenant
from state.live import Live, LiveState
from state.paging import PagedState
from state.util import at, sentence

STATUSES = machine.STATUSES
LIVE_KINDS = (service.LIVE_KIND,)


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
    printer: str = ""
    progress: int = 0
    error: str = ""
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
class FarmSnapshot:
    """Everything the page shows, read in one go (not a state var: `_apply` spreads it)."""

    manual: bool
    connected: bool
    last_poll: str
    last_error: str
    stats: FarmStats
    status_counts: list[StatusCount]
    order_queue: list[PrintJobRow]
    stock_queue: list[PrintJobRow]
    attention: list[PrintJobRow]
    rows: list[PrintJobRow]
    total: int
    page: int
    printers: list[PrinterCard]


def job_rows(session: Session, jobs: list[PrintJob], manual: bool = False) -> list[PrintJobRow]:
    """Jobs as table rows, with their order number and product name."""
    numbers = service.order_numbers(session, jobs)
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
    return [
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
            printer=j.printer_name or "",
            progress=int(j.progress or 0),
            error=j.error or "",
            needs_review=bool(j.needs_review),
            scrap=bool(j.scrap),
            queued=at(j.queued_at or j.created_at),
            updated=at(j.updated_at),
            can_cancel=j.status in machine.CANCELLABLE,
            can_requeue=j.status in machine.REQUEUEABLE,
            moves=service.manual_moves(j, manual=manual),
        )
        for j in jobs
    ]


def _positions(rows: list[PrintJobRow]) -> list[PrintJobRow]:
    """Queue rows numbered 1, 2, … in the order printers take them."""
    return [dataclasses.replace(r, position=n + 1) for n, r in enumerate(rows)]


def _snapshot(tenant_id: uuid.UUID, status: str, purpose: str, search: str, page: int, page_size: int) -> FarmSnapshot:
    """Everything the page shows, read in one tenant session."""
    with tenant_session(tenant_id) as s:
        manual = service.manual_mode(s)
        conn = service.connection(s)
        counts = service.job_counts(s)
        midnight = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        done_today = s.exec(
            select(func.count())
            .select_from(PrintJob)
            .where(PrintJob.status == "COMPLETED", col(PrintJob.completed_at) >= midnight)
        ).one()
        queue = job_rows(s, service.queue(s), manual)
        failed, _ = service.list_jobs(s, status="FAILED", page_size=25)
        review = [j for j in service.needs_review(s) if j.status != "FAILED"]
        jobs, total = service.list_jobs(
            s, status=status, purpose=purpose, search=search, page=page, page_size=page_size
        )
        if page and not jobs and total:
            page = max(0, -(-total // page_size) - 1)
            jobs, total = service.list_jobs(
                s, status=status, purpose=purpose, search=search, page=page, page_size=page_size
            )
        printers = [
            PrinterCard(
                id=str(p.id),
                name=p.name,
                model=p.model or "",
                state=p.state or "unknown",
                online=bool(p.online),
                file=p.current_file or "",
                progress=int(p.percentage or 0),
                updated=at(p.updated_at),
            )
            for p in service.printers(s)
        ]
        return FarmSnapshot(
            manual=manual,
            connected=conn is not None,
            last_poll=at(conn.last_poll_at) if conn else "",
            last_error=(conn.last_error or "") if conn else "",
            stats=FarmStats(
                queued=counts.get("QUEUED", 0) + counts.get("ASSIGNED", 0),
                printing=counts.get("PRINTING", 0),
                done_today=int(done_today),
                failed=counts.get("FAILED", 0),
            ),
            status_counts=[StatusCount(status=st, count=counts.get(st, 0)) for st in STATUSES],
            order_queue=_positions([r for r in queue if r.purpose == "ORDER"]),
            stock_queue=_positions([r for r in queue if r.purpose != "ORDER"]),
            attention=job_rows(s, review + failed, manual),
            rows=job_rows(s, jobs, manual),
            total=total,
            page=page,
            printers=printers,
        )


class PrintFarmState(LiveState, PagedState, AppState):
    PAGE_PERMISSION: ClassVar[str] = "printJobs.read"
    # live: refresh whenever jobs or printers change (webhooks, the reconciliation poll, workers,
    # colleagues): at most about once a second
    LIVE: ClassVar[Live] = Live("printJobs.read", "/printfarm", LIVE_KINDS, settle=1.0)

    stats: FarmStats = FarmStats()
    status_counts: list[StatusCount] = []
    order_queue: list[PrintJobRow] = []
    stock_queue: list[PrintJobRow] = []
    attention: list[PrintJobRow] = []
    printers: list[PrinterCard] = []
    rows: list[PrintJobRow] = []
    status: str = "all"
    purpose: str = "all"
    search: str = ""
    page_size: int = 25
    manual: bool = False
    connected: bool = False
    last_poll: str = ""
    last_error: str = ""
    error: str = ""
    loaded: bool = False
    updated_at: str = ""

    @rx.var
    def can_write(self) -> bool:
        return "printJobs.write" in self.permissions

    @rx.var
    def queue_empty(self) -> bool:
        return not self.order_queue and not self.stock_queue

    def _args(self) -> tuple[str, str, str, int, int]:
        return (
            "" if self.status == "all" else self.status,
            "" if self.purpose == "all" else self.purpose,
            self.search,
            self.page,
            self.page_size,
        )

    def _apply(self, snap: FarmSnapshot) -> None:
        self.manual, self.connected = snap.manual, snap.connected
        self.last_poll, self.last_error = snap.last_poll, snap.last_error
        self.stats, self.status_counts = snap.stats, snap.status_counts
        self.order_queue, self.stock_queue = snap.order_queue, snap.stock_queue
        self.attention, self.rows, self.printers = snap.attention, snap.rows, snap.printers
        self.total, self.page = snap.total, snap.page
        self.updated_at = datetime.now(UTC).strftime("%H:%M:%S")
        self.error, self.loaded = "", True

    async def _refresh(self) -> None:
        try:
            snap = await asyncio.to_thread(_snapshot, current_principal().tenant_id, *self._args())
        except DomainError as exc:
            self.error, self.loaded = sentence(exc.message), True
            return
        self._apply(snap)

    @guarded("printJobs.read", quiet=True)
    async def load(self):
        params = self.router.url.query_parameters
        if params.get("status") in STATUSES:
            self.status, self.page = params["status"], 0
        await self._refresh()
        return PrintFarmState.watch

    # --- the job list ------------------------------------------------------------------------

    @guarded("printJobs.read")
    async def set_status(self, value: str):
        self.status = value if value in STATUSES else "all"
        self.page = 0
        await self._refresh()

    @guarded("printJobs.read")
    async def set_purpose(self, value: str):
        self.purpose = value if value in ("ORDER", "STOCK") else "all"
        self.page = 0
        await self._refresh()

    @guarded("printJobs.read")
    async def set_search(self, value: str):
        self.search, self.page = value[:200], 0
        await self._refresh()

    @guarded("printJobs.read")
    async def clear_filters(self):
        self.status, self.purpose, self.search, self.page = "all", "all", "", 0
        await self._refresh()

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
            lambda s: service.move_job(s, job_id, status, actor=p), f"Print job moved to {status.lower()}."
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

    # --- live updates ------------------------------------------------------------------------

    async def _live_refresh(self, principal, token: str) -> None:
        """The snapshot is read outside the lock, so filter changes meanwhile are not held up."""
        async with self:
            if self._watch_token != token:
                return
            args = self._args()
        try:
            snap = await asyncio.to_thread(_snapshot, principal.tenant_id, *args)
        except DomainError:
            return
        async with self:
            if self._watch_token == token and self._args() == args:  # the filters did not change meanwhile
                self._apply(snap)
