"""/repairs/unmapped: diagnostic logs and the codes they bring.

- Upload one or more diagnostic-tool exports; each is read by a background
  job, and the logs table follows its status live (queued, parsing, parsed,
  failed) with what it found.
- The unmapped-codes queue: the tool codes no mapping covers yet, grouped,
  with how many rows wait, since when, on which devices. "Map to…" picks a
  repair code: the mapping is made and every waiting row of the code gets
  it at once (the rows leave the queue, the assets' codes follow).
- The shop's mappings: add, change, delete (with a confirmation).

The queue's search and sort live in the URL (state/paging.py); the logs and
mappings tables page on their own. Every figure and rule comes from
`app.repairs.service.diagnostics`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from datetime import UTC, datetime
from typing import ClassVar

import reflex as rx

from app.platform.db import tenant_session
from app.platform.errors import DomainError
from app.platform.formatting import ShopFormat, of_tenant
from app.repairs.service import diagnostics as service
from app.repairs.service._common import LIVE_KIND, READ, WRITE
from state.base import AppState, PageVisit, current_principal, guarded, in_tenant
from state.live import Live, LiveState
from state.paging import PagedState, last_page_index
from state.util import sentence

PATH = "/repairs/unmapped"
UPLOAD_ID = "drfone_upload"
LOG_PAGE = 10
MAPPING_PAGE = 10
LOG_FILTERS = ("", *service.LOG_STATUSES)


@dataclasses.dataclass
class WaitingView:
    code: str = ""
    area: str = ""
    message: str = ""
    count: int = 0
    devices: int = 0
    examples: str = ""
    first_seen: str = ""
    last_seen: str = ""
    suggestion: str = ""


@dataclasses.dataclass
class LogView:
    id: str = ""
    filename: str = ""
    status: str = ""
    error: str = ""
    device: str = ""  # the asset's number, else the IMEI or serial the log names
    matched: bool = False
    tool: str = ""
    tested: str = ""
    uploaded: str = ""
    found: int = 0
    mapped: int = 0  # now: at once, or since from the queue
    waiting: int = 0  # now
    retryable: bool = False


@dataclasses.dataclass
class CodeLine:
    """A code a log brought (the log's dialog)."""

    code: str = ""
    message: str = ""
    source: str = ""
    repair_code: str = ""  # "" while it waits
    repair_code_name: str = ""


@dataclasses.dataclass
class MappingView:
    id: str = ""
    code: str = ""
    repair_code_id: str = ""
    repair_code: str = ""
    repair_code_name: str = ""
    description: str = ""
    applied: int = 0
    created: str = ""


@dataclasses.dataclass
class CodeChoice:
    id: str = ""
    code: str = ""
    label: str = ""


@dataclasses.dataclass
class UploadLine:
    filename: str = ""
    outcome: str = ""
    tone: str = "gray"


@dataclasses.dataclass
class Figures:
    waiting_rows: int = 0
    waiting_codes: int = 0
    queued: int = 0  # queued or being read
    parsed: int = 0
    failed: int = 0
    mappings: int = 0


@dataclasses.dataclass
class Snapshot:
    queue: list[WaitingView]
    queue_total: int
    queue_page: int
    logs: list[LogView]
    log_total: int
    log_page: int
    mappings: list[MappingView]
    mapping_total: int
    mapping_page: int
    figures: Figures
    choices: list[CodeChoice]


@dataclasses.dataclass
class View:
    """What the page asks for: the three tables' filters and pages."""

    queue: service.QueueFilter
    log_status: str
    log_page: int
    mapping_search: str
    mapping_page: int


def _log_view(r: service.LogRow, fmt: ShopFormat) -> LogView:
    lg = r.log
    return LogView(
        id=str(lg.id),
        filename=lg.filename,
        status=lg.status,
        error=sentence(lg.error) if lg.error else "",
        device=r.asset_number or lg.imei or lg.serial,
        matched=bool(r.asset_number),
        tool=lg.tool,
        tested=fmt.when(lg.tested_at) if lg.tested_at else "",
        uploaded=fmt.when(lg.created_at),
        found=lg.codes_found,
        mapped=r.mapped,
        waiting=r.waiting,
        retryable=r.retryable,
    )


def _mapping_view(m: service.MappingRow, fmt: ShopFormat) -> MappingView:
    return MappingView(
        id=str(m.mapping.id),
        code=m.mapping.drfone_code,
        repair_code_id=str(m.mapping.repair_code_id),
        repair_code=m.repair_code,
        repair_code_name=m.repair_code_name,
        description=m.mapping.description,
        applied=m.applied,
        created=fmt.day(m.mapping.created_at),
    )


def _snapshot(tenant_id: uuid.UUID, fmt: ShopFormat, v: View) -> Snapshot:
    with tenant_session(tenant_id) as s:
        queue, queue_total = service.unmapped_queue(s, v.queue)
        if v.queue.page and not queue and queue_total:  # the page is gone: show the last one
            v.queue.page = last_page_index(queue_total, v.queue.page_size)
            queue, queue_total = service.unmapped_queue(s, v.queue)
        lf = service.LogFilter(status=v.log_status, page=v.log_page, page_size=LOG_PAGE)
        logs, log_total = service.list_logs(s, lf)
        if lf.page and not logs and log_total:
            lf.page = last_page_index(log_total, LOG_PAGE)
            logs, log_total = service.list_logs(s, lf)
        mf = service.MappingFilter(search=v.mapping_search, page=v.mapping_page, page_size=MAPPING_PAGE)
        mappings, mapping_total = service.list_mappings(s, mf)
        if mf.page and not mappings and mapping_total:
            mf.page = last_page_index(mapping_total, MAPPING_PAGE)
            mappings, mapping_total = service.list_mappings(s, mf)
        counts = service.log_counts(s)
        _, all_mappings = service.list_mappings(s, service.MappingFilter(page_size=1))
        figures = Figures(
            waiting_rows=service.unmapped_count(s),
            waiting_codes=service.unmapped_codes_count(s),
            queued=counts["queued"] + counts["parsing"],
            parsed=counts["parsed"],
            failed=counts["failed"],
            mappings=all_mappings,
        )
        choices = [
            CodeChoice(id=str(c.id), code=c.code, label=f"{c.code} — {c.name}") for c in service.repair_code_choices(s)
        ]
    return Snapshot(
        queue=[
            WaitingView(
                code=w.drfone_code,
                area=w.area,
                message=w.message,
                count=w.count,
                devices=w.devices,
                examples=", ".join(w.examples) + (" …" if w.devices > len(w.examples) else ""),
                first_seen=fmt.when(w.first_seen),
                last_seen=fmt.ago(w.last_seen),
                suggestion=w.suggestion,
            )
            for w in queue
        ],
        queue_total=queue_total,
        queue_page=v.queue.page,
        logs=[_log_view(r, fmt) for r in logs],
        log_total=log_total,
        log_page=lf.page,
        mappings=[_mapping_view(m, fmt) for m in mappings],
        mapping_total=mapping_total,
        mapping_page=mf.page,
        figures=figures,
        choices=choices,
    )


def _log_detail(tenant_id: uuid.UUID, fmt: ShopFormat, log_id: str) -> tuple[LogView, list[CodeLine]]:
    with tenant_session(tenant_id) as s:
        row = service.get_log(s, log_id)
        codes = service.log_codes(s, log_id)
    return _log_view(row, fmt), [
        CodeLine(
            code=c.row.drfone_code,
            message=c.row.drfone_message,
            source=c.row.source,
            repair_code=c.repair_code,
            repair_code_name=c.repair_code_name,
        )
        for c in codes
    ]


class RepairsDiagnosticsState(PageVisit, LiveState, PagedState, AppState):
    PAGE_PERMISSION: ClassVar[str] = READ
    URL_PARAMS: ClassVar[tuple[str, ...]] = ("search", "sort", "descending")
    # live: uploads, logs read by the worker, mappings made elsewhere
    LIVE: ClassVar[Live] = Live(READ, PATH, (LIVE_KIND,), settle=1.0)

    # the queue (the paged table, its view in the URL)
    search: str = ""
    sort: str = "count"
    descending: bool = True
    page_size: int = 10
    queue: list[WaitingView] = []

    # the logs
    logs: list[LogView] = []
    log_status: str = ""
    log_page: int = 0
    log_total: int = 0

    # the mappings
    mappings: list[MappingView] = []
    mapping_search: str = ""
    mapping_page: int = 0
    mapping_total: int = 0

    figures: Figures = Figures()
    choices: list[CodeChoice] = []
    loaded: bool = False
    error: str = ""
    updated_at: str = ""

    # uploads
    upload_busy: bool = False
    upload_lines: list[UploadLine] = []

    # "Map to…"
    map_open: bool = False
    map_target: WaitingView = WaitingView()
    map_choice: str = ""
    map_error: str = ""
    map_busy: bool = False

    # add or change a mapping
    edit_open: bool = False
    edit_id: str = ""  # "" adds a new one
    edit_code: str = ""
    edit_choice: str = ""
    edit_description: str = ""
    edit_error: str = ""

    # one log's codes
    log_open: bool = False
    log_detail: LogView = LogView()
    log_codes: list[CodeLine] = []

    @rx.var
    def can_write(self) -> bool:
        return WRITE in self.permissions

    @rx.var
    def log_pages(self) -> int:
        return max(1, -(-self.log_total // LOG_PAGE))

    @rx.var
    def mapping_pages(self) -> int:
        return max(1, -(-self.mapping_total // MAPPING_PAGE))

    def _view(self) -> View:
        return View(
            queue=service.QueueFilter(
                search=self.search, sort=self.sort, descending=self.descending, page=self.page, page_size=self.page_size
            ),
            log_status=self.log_status,
            log_page=self.log_page,
            mapping_search=self.mapping_search,
            mapping_page=self.mapping_page,
        )

    def _clean_view(self) -> None:
        if self.sort not in service.QUEUE_SORTS:
            self.sort = "count"

    def _apply(self, snap: Snapshot, fmt: ShopFormat) -> None:
        self.queue, self.total, self.page = snap.queue, snap.queue_total, snap.queue_page
        self.logs, self.log_total, self.log_page = snap.logs, snap.log_total, snap.log_page
        self.mappings, self.mapping_total, self.mapping_page = snap.mappings, snap.mapping_total, snap.mapping_page
        self.figures, self.choices = snap.figures, snap.choices
        self.updated_at = fmt.clock(datetime.now(UTC), seconds=True)
        self.error, self.loaded = "", True

    def _fetch(self, tenant_id: uuid.UUID) -> None:
        """The live reload (in a thread): the tables, and the open log's codes."""
        fmt = of_tenant(tenant_id)
        try:
            self._apply(_snapshot(tenant_id, fmt, self._view()), fmt)
            if self.log_open and self.log_detail.id:
                self.log_detail, self.log_codes = _log_detail(tenant_id, fmt, self.log_detail.id)
        except DomainError as exc:
            self.error = sentence(exc.message)

    async def _refresh(self) -> None:
        p = current_principal()
        try:
            snap = await asyncio.to_thread(_snapshot, p.tenant_id, p.fmt, self._view())
        except DomainError as exc:
            self.error, self.loaded = sentence(exc.message), True
            return
        self._apply(snap, p.fmt)

    @guarded(READ, quiet=True)
    async def load(self):
        self._read_url()
        self._clean_view()
        if self._new_visit():  # not when the page loads itself again (a reconnect)
            self.map_open = self.edit_open = self.log_open = False
        await self._refresh()
        return RepairsDiagnosticsState.watch

    # --- the queue's view (through the URL) ---------------------------------------------------

    @guarded(READ)
    async def set_search(self, value: str):
        return await self._search(search=value.strip()[:200])

    @guarded(READ)
    def sort_by(self, column: str):
        if column not in service.QUEUE_SORTS:
            return None
        if column == self.sort:
            return self._navigate(descending=not self.descending)
        return self._navigate(sort=column, descending=column != "code")

    # --- the logs table -------------------------------------------------------------------------

    @guarded(READ)
    async def set_log_status(self, value: str):
        self.log_status = value if value in LOG_FILTERS else ""
        self.log_page = 0
        await self._refresh()

    @guarded(READ)
    async def logs_next(self):
        if self.log_page + 1 < self.log_pages:
            self.log_page += 1
            await self._refresh()

    @guarded(READ)
    async def logs_prev(self):
        if self.log_page > 0:
            self.log_page -= 1
            await self._refresh()

    @guarded(READ)
    async def open_log(self, log_id: str):
        p = current_principal()
        try:
            self.log_detail, self.log_codes = await asyncio.to_thread(_log_detail, p.tenant_id, p.fmt, log_id)
        except DomainError as exc:
            return rx.toast.error(sentence(exc.message))
        self.log_open = True
        return None

    @guarded(READ)
    def set_log_open(self, value: bool):
        self.log_open = value

    @guarded(WRITE)
    async def retry(self, log_id: str):
        p = current_principal()
        row = await in_tenant(lambda s: service.retry_log(s, log_id, actor=p))
        await self._refresh()
        return rx.toast.info(f"{row.filename} is read again.")

    # --- uploads --------------------------------------------------------------------------------

    @guarded(WRITE)
    async def upload(self, files: list[rx.UploadFile]):
        if not files:
            yield rx.toast.error("Choose one or more diagnostic logs first.")
            return
        p = current_principal()
        self.upload_busy = True
        yield
        lines: list[UploadLine] = []
        for f in files[:50]:
            name = f.filename or f.name or "diagnostic-log.txt"
            data = await f.read(service.MAX_LOG_BYTES + 1)
            try:
                done = await in_tenant(lambda s, n=name, d=data: service.upload(s, n, d, actor=p))
            except DomainError as exc:
                lines.append(UploadLine(name, sentence(exc.message), "red"))
                continue
            if done.duplicate:
                lines.append(UploadLine(name, f"Already uploaded ({done.log.status}); nothing changed.", "amber"))
            else:
                lines.append(UploadLine(name, "Uploaded; it is being read.", "green"))
        self.upload_lines, self.upload_busy = lines, False
        await self._refresh()
        new = sum(1 for line in lines if line.tone == "green")
        same = sum(1 for line in lines if line.tone == "amber")
        refused = len(lines) - new - same
        words = [f"{new} log(s) uploaded"]
        if same:
            words.append(f"{same} already uploaded")
        if refused:
            words.append(f"{refused} refused")
        yield rx.clear_selected_files(UPLOAD_ID)
        text = ", ".join(words) + "."
        yield rx.toast.error(text) if refused and not new else rx.toast.success(text)

    # --- "Map to…" ------------------------------------------------------------------------------

    def _choice_for(self, code: str) -> str:
        return next((c.id for c in self.choices if c.code == code), "")

    @guarded(WRITE)
    def open_map(self, code: str):
        row = next((w for w in self.queue if w.code == code), None)
        if row is None:
            return rx.toast.error("That code is no longer waiting.")
        self.map_target, self.map_error, self.map_busy = row, "", False
        self.map_choice = self._choice_for(row.suggestion)
        self.map_open = True
        return None

    @guarded(WRITE)
    def set_map_open(self, value: bool):
        self.map_open = value

    @guarded(WRITE)
    def set_map_choice(self, value: str):
        self.map_choice, self.map_error = value, ""

    @guarded(WRITE)
    async def submit_map(self):
        if not self.map_choice:
            self.map_error = "Choose the repair code this failure needs."
            return
        p, code, choice = current_principal(), self.map_target.code, self.map_choice
        self.map_busy = True
        yield
        try:
            done = await in_tenant(lambda s: service.resolve_code(s, code, choice, actor=p))
        except DomainError as exc:
            self.map_error, self.map_busy = sentence(exc.message), False
            return
        self.map_busy, self.map_open = False, False
        await self._refresh()
        yield rx.toast.success(f"{code} mapped to {done.repair_code.code}: {done.applied} waiting row(s) updated.")

    # --- mappings -------------------------------------------------------------------------------

    @guarded(READ)
    async def set_mapping_search(self, value: str):
        self.mapping_search, self.mapping_page = value.strip()[:200], 0
        await self._refresh()

    @guarded(READ)
    async def mappings_next(self):
        if self.mapping_page + 1 < self.mapping_pages:
            self.mapping_page += 1
            await self._refresh()

    @guarded(READ)
    async def mappings_prev(self):
        if self.mapping_page > 0:
            self.mapping_page -= 1
            await self._refresh()

    @guarded(WRITE)
    def open_new_mapping(self):
        self.edit_id, self.edit_code, self.edit_choice, self.edit_description = "", "", "", ""
        self.edit_error, self.edit_open = "", True

    @guarded(WRITE)
    def open_edit(self, mapping_id: str):
        m = next((m for m in self.mappings if m.id == mapping_id), None)
        if m is None:
            return rx.toast.error("That mapping is no longer on this page.")
        self.edit_id, self.edit_code, self.edit_choice = m.id, m.code, m.repair_code_id
        self.edit_description, self.edit_error, self.edit_open = m.description, "", True
        return None

    @guarded(WRITE)
    def set_edit_open(self, value: bool):
        self.edit_open = value

    @guarded(WRITE)
    def set_edit_code(self, value: str):
        self.edit_code, self.edit_error = value.upper()[:60], ""

    @guarded(WRITE)
    def set_edit_choice(self, value: str):
        self.edit_choice, self.edit_error = value, ""

    @guarded(WRITE)
    def set_edit_description(self, value: str):
        self.edit_description = value[:300]

    @guarded(WRITE)
    async def save_mapping(self):
        if not self.edit_id and not self.edit_code.strip():
            self.edit_error = "Write the tool's code, such as DF-BAT-012."
            return None
        if not self.edit_choice:
            self.edit_error = "Choose the repair code."
            return None
        p, mid, code, choice, words = (
            current_principal(),
            self.edit_id,
            self.edit_code,
            self.edit_choice,
            self.edit_description,
        )
        try:
            if mid:
                await in_tenant(
                    lambda s: service.update_mapping(s, mid, repair_code_id=choice, description=words, actor=p)
                )
                message = f"Mapping of {code} changed. Logs read from now on get the new repair code."
            else:
                done = await in_tenant(lambda s: service.create_mapping(s, code, choice, description=words, actor=p))
                message = f"{done.mapping.drfone_code} mapped to {done.repair_code.code}"
                message += f": {done.applied} waiting row(s) updated." if done.applied else "."
        except DomainError as exc:
            self.edit_error = sentence(exc.message)
            return None
        self.edit_open = False
        await self._refresh()
        return rx.toast.success(message)

    @guarded(WRITE)
    async def delete_mapping(self, mapping_id: str):
        p = current_principal()
        code = await in_tenant(lambda s: service.delete_mapping(s, mapping_id, actor=p))
        await self._refresh()
        return rx.toast.success(f"Mapping of {code} deleted. Logs read from now on put {code} in the queue.")
