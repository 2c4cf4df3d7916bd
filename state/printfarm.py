"""/printfarm: the SimplyPrint queue (ORDER before STOCK), printers, failures
and every print job, updating live; operators cancel, requeue and, with no
SimplyPrint connection, move jobs through their statuses by hand."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import datetime, timezone

import reflex as rx
from sqlmodel import Session, func, select

from app.platform import live
from app.platform.db import tenant_session
from app.platform.errors import DomainError
from app.printing import machine, service
from app.printing.models import PrintJob, ProductMapping
from state.base import AppState, checks_inside, current_principal, guarded, in_tenant

STATUSES = machine.STATUSES
LIVE_KINDS = (service.LIVE_KIND,)


def _sentence(message: str) -> str:
    return message[:1].upper() + message[1:] + ("" if message.endswith(".") else ".")


def _at(dt: datetime | None) -> str:
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M") if dt else ""


def job_rows(session: Session, jobs: list[PrintJob], manual: bool = False) -> list[dict]:
    """Jobs as table rows, with their order number and product name."""
    numbers = service.order_numbers(session, jobs)
    mapping_ids = {j.product_mapping_id for j in jobs if j.product_mapping_id}
    names = dict(session.exec(select(ProductMapping.id, ProductMapping.name)
                              .where(ProductMapping.id.in_(mapping_ids))).all()) if mapping_ids else {}
    rows = []
    for j in jobs:
        rows.append({
            "id": str(j.id), "order_id": str(j.order_id) if j.order_id else "",
            "order": numbers.get(j.order_id, "") if j.order_id else "",
            "product": names.get(j.product_mapping_id) or j.sku or "—", "sku": j.sku, "part": j.part_name,
            "copy": j.copy_number, "purpose": j.purpose, "status": j.status, "printer": j.printer_name or "",
            "progress": int(j.progress or 0), "error": j.error or "", "needs_review": bool(j.needs_review),
            "scrap": bool(j.scrap), "queued": _at(j.queued_at or j.created_at), "updated": _at(j.updated_at),
            "can_cancel": j.status in machine.CANCELLABLE, "can_requeue": j.status in machine.REQUEUEABLE,
            "moves": service.manual_moves(j, manual=manual),
        })
    return rows


def _snapshot(tenant_id: uuid.UUID, status: str, purpose: str, search: str, page: int, page_size: int) -> dict:
    """Everything the page shows, read in one tenant session."""
    with tenant_session(tenant_id) as s:
        manual = service.manual_mode(s)
        conn = service.connection(s)
        counts = service.job_counts(s)
        midnight = datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
        done_today = s.exec(select(func.count()).select_from(PrintJob).where(
            PrintJob.status == "COMPLETED", PrintJob.completed_at >= midnight)).one()
        queue = job_rows(s, service.queue(s), manual)
        failed, _ = service.list_jobs(s, status="FAILED", page_size=25)
        review = [j for j in service.needs_review(s) if j.status != "FAILED"]
        jobs, total = service.list_jobs(s, status=status, purpose=purpose, search=search, page=page,
                                        page_size=page_size)
        if page and not jobs and total:
            page = max(0, -(-total // page_size) - 1)
            jobs, total = service.list_jobs(s, status=status, purpose=purpose, search=search, page=page,
                                            page_size=page_size)
        printers = [{"id": str(p.id), "name": p.name, "model": p.model or "", "state": p.state or "unknown",
                     "online": bool(p.online), "file": p.current_file or "", "progress": int(p.percentage or 0),
                     "updated": _at(p.updated_at)} for p in service.printers(s)]
        return {
            "manual": manual, "connected": conn is not None,
            "last_poll": _at(conn.last_poll_at) if conn else "", "last_error": (conn.last_error or "") if conn else "",
            "stats": {"queued": counts.get("QUEUED", 0) + counts.get("ASSIGNED", 0),
                      "printing": counts.get("PRINTING", 0), "done_today": int(done_today),
                      "failed": counts.get("FAILED", 0)},
            "status_counts": [{"status": st, "count": counts.get(st, 0)} for st in STATUSES],
            "order_queue": [{**r, "position": n + 1} for n, r in enumerate(x for x in queue if x["purpose"] == "ORDER")],
            "stock_queue": [{**r, "position": n + 1} for n, r in enumerate(x for x in queue if x["purpose"] != "ORDER")],
            "attention": job_rows(s, review + failed, manual),
            "rows": job_rows(s, jobs, manual), "total": total, "page": page,
            "printers": printers,
        }


class PrintFarmState(AppState):
    stats: dict[str, int] = {"queued": 0, "printing": 0, "done_today": 0, "failed": 0}
    status_counts: list[dict] = []
    order_queue: list[dict] = []
    stock_queue: list[dict] = []
    attention: list[dict] = []
    printers: list[dict] = []
    rows: list[dict] = []
    total: int = 0
    status: str = "all"
    purpose: str = "all"
    search: str = ""
    page: int = 0
    page_size: int = 25
    manual: bool = False
    connected: bool = False
    last_poll: str = ""
    last_error: str = ""
    error: str = ""
    loaded: bool = False
    updated_at: str = ""
    _watch_token: str = ""

    @rx.var
    def can_write(self) -> bool:
        return "printJobs.write" in self.permissions

    @rx.var
    def page_count(self) -> int:
        return max(1, -(-self.total // self.page_size))

    @rx.var
    def queue_empty(self) -> bool:
        return not self.order_queue and not self.stock_queue

    def _args(self) -> tuple:
        return ("" if self.status == "all" else self.status, "" if self.purpose == "all" else self.purpose,
                self.search, self.page, self.page_size)

    def _apply(self, snap: dict) -> None:
        for key, value in snap.items():
            setattr(self, key, value)
        self.updated_at = datetime.now(timezone.utc).strftime("%H:%M:%S")
        self.error, self.loaded = "", True

    async def _refresh(self) -> None:
        try:
            snap = await asyncio.to_thread(_snapshot, current_principal().tenant_id, *self._args())
        except DomainError as exc:
            self.error, self.loaded = _sentence(exc.message), True
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

    @guarded("printJobs.read")
    async def next_page(self):
        if self.page + 1 < self.page_count:
            self.page += 1
            await self._refresh()

    @guarded("printJobs.read")
    async def prev_page(self):
        if self.page > 0:
            self.page -= 1
            await self._refresh()

    # --- operator actions --------------------------------------------------------------------

    async def _act(self, work, ok: str):  # noqa: ANN001
        try:
            await in_tenant(work)
        except DomainError as exc:
            await self._refresh()
            return rx.toast.error(_sentence(exc.message))
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
        return await self._act(lambda s: service.move_job(s, job_id, status, actor=p),
                               f"Print job moved to {status.lower()}.")

    @guarded("printJobs.write")
    async def reviewed(self, job_id: str):
        p = current_principal()
        return await self._act(lambda s: service.resolve_review(s, job_id, actor=p), "Marked as reviewed.")

    @guarded("printJobs.write")
    async def sync_now(self):
        from jobs import enqueue
        from jobs.printing import reconcile

        tid = current_principal().tenant_id
        await asyncio.to_thread(enqueue, reconcile, str(tid), queue_name="integrations")
        return rx.toast.info("Asking SimplyPrint for the printers and jobs now.")

    # --- live updates ------------------------------------------------------------------------

    @rx.event(background=True)
    @checks_inside("printJobs.read")
    async def watch(self):
        """Refresh while the page is open whenever jobs or printers change (webhooks, the
        reconciliation poll, workers, colleagues): at most about once a second."""
        async with self:
            token = self._watch_token = uuid.uuid4().hex  # a newer watcher replaces this one
            _, principal = await self._check("printJobs.read", True)
            if principal is None:
                return
        pending, last = False, 0.0
        async for message in live.subscribe(principal.tenant_id, max_seconds=3600):
            pending = pending or bool(message and message.get("kind") in LIVE_KINDS)
            async with self:
                if self._watch_token != token or self.router.url.path.rstrip("/") != "/printfarm":
                    return
                args = self._args()
            if not pending or (message is not None and time.monotonic() - last < 1.0):
                continue  # a burst: refresh on the next quiet moment, or a second after the last refresh
            pending, last = False, time.monotonic()
            try:
                snap = await asyncio.to_thread(_snapshot, principal.tenant_id, *args)
            except DomainError:
                continue
            async with self:
                if self._watch_token != token:
                    return
                if self._args() == args:  # the filters did not change meanwhile
                    self._apply(snap)
