"""/repairs/worksheets (the table), /repairs/worksheets/new?asset=<id> (opens
one for an asset and goes there) and /repairs/worksheets/[id] (one
worksheet: its asset, assignees, labour, codes, parts and final QC).

The table's filters, sort and page live in the URL (state/paging.py). Both
pages follow the live channel: a colleague's change, a part issued
elsewhere or an asset moved shows without a reload. Every rule lives in
`app.repairs.service.worksheets`; these states only call it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, ClassVar

import reflex as rx

from app.inventory import service as inventory
from app.platform import auth
from app.platform.db import tenant_session
from app.platform.errors import DomainError, ValidationFailed
from app.platform.formatting import ShopFormat, of_tenant
from app.repairs import machine
from app.repairs.service import worksheets as service
from app.repairs.service._common import LIVE_KIND, READ, WRITE
from state.base import AppState, PageVisit, current_principal, guarded, in_tenant
from state.live import Live, LiveState
from state.paging import PagedState, rows_of_page
from state.util import sentence

PATH = "/repairs/worksheets"
NOBODY = "none"  # the selects' "nobody" (a select item cannot have an empty value)
STATUS_FILTERS = ("", "active", *machine.WORKSHEET_STATUS.values)
SORTS = tuple(service.SORTS)
SOURCE_WORDS = {
    "triage": "Triage",
    "drfone": "Diagnostic log",
    "drfone_auto": "Diagnostic log",
    "migrated": "Migrated",
    "worksheet": "Added here",
}
PART_SEARCH_LIMIT = 8


def _minutes(total: int) -> str:
    """90 → "1 h 30 min"."""
    hours, minutes = divmod(max(0, total), 60)
    if not hours:
        return f"{minutes} min"
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


def _when(fmt: ShopFormat, iso: Any) -> str:
    try:
        return fmt.when(datetime.fromisoformat(str(iso)))
    except ValueError:
        return ""


@dataclasses.dataclass
class Option:
    value: str = ""
    label: str = ""


@dataclasses.dataclass
class WorksheetRowView:
    id: str = ""
    number: str = ""
    status: str = ""
    asset_id: str = ""
    asset_number: str = ""
    asset_status: str = ""
    identity: str = ""  # IMEI or serial
    device: str = ""
    client: str = ""
    assignee: str = ""
    labour: str = ""
    qc_failures: int = 0
    opened: str = ""
    updated: str = ""


@dataclasses.dataclass
class WorksheetCounts:
    all: int = 0
    active: int = 0
    open: int = 0
    in_qc: int = 0
    passed: int = 0
    cancelled: int = 0


def _row_view(r: service.WorksheetRow, fmt: ShopFormat) -> WorksheetRowView:
    ws = r.worksheet
    assignee = " · ".join(x for x in (r.technician, r.team) if x)
    return WorksheetRowView(
        id=str(ws.id),
        number=ws.number,
        status=ws.status,
        asset_id=str(ws.asset_id),
        asset_number=r.asset_number,
        asset_status=r.asset_status,
        identity=r.imei or r.serial,
        device=r.device,
        client=r.client,
        assignee=assignee or "Nobody yet",
        labour=_minutes(ws.labour_minutes),
        qc_failures=ws.qc_failures,
        opened=fmt.when(ws.created_at),
        updated=fmt.when(ws.updated_at),
    )


@dataclasses.dataclass
class ListSnapshot:
    rows: list[WorksheetRowView]
    total: int
    page: int
    counts: WorksheetCounts
    technicians: list[Option]
    teams: list[Option]


def _options(a: service.Assignees) -> tuple[list[Option], list[Option]]:
    return (
        [Option(str(t.id), t.name) for t in a.technicians],
        [Option(str(t.id), t.name) for t in a.teams],
    )


def _list_snapshot(tenant_id: uuid.UUID, fmt: ShopFormat, f: service.WorksheetFilter) -> ListSnapshot:
    with tenant_session(tenant_id) as s:
        rows, total = rows_of_page(service.list_worksheets, s, f)
        c = service.counts(s)
        technicians, teams = _options(service.assignees(s))
    return ListSnapshot(
        rows=[_row_view(r, fmt) for r in rows],
        total=total,
        page=f.page,
        counts=WorksheetCounts(**{k: c.get(k, 0) for k in ("all", "active", "open", "in_qc", "passed", "cancelled")}),
        technicians=technicians,
        teams=teams,
    )


def _eligible(tenant_id: uuid.UUID, search: str) -> list[Option]:
    with tenant_session(tenant_id) as s:
        return [
            Option(
                str(a.id),
                f"{a.number} · {a.imei or a.serial} · {machine.ASSET_STATUS.label(a.status)}",
            )
            for a in service.assets_needing_worksheet(s, search)
        ]


class RepairsWorksheetsState(LiveState, PagedState, AppState):
    PAGE_PERMISSION: ClassVar[str] = READ
    URL_PARAMS: ClassVar[tuple[str, ...]] = ("status", "technician", "team", "search", "sort", "descending")
    LIVE: ClassVar[Live] = Live(READ, PATH, (LIVE_KIND,), settle=1.0)

    status: str = "active"
    technician: str = "all"
    team: str = "all"
    search: str = ""
    sort: str = "created"
    descending: bool = True
    page_size: int = 25
    rows: list[WorksheetRowView] = []
    counts: WorksheetCounts = WorksheetCounts()
    technicians: list[Option] = []
    teams: list[Option] = []
    loaded: bool = False
    error: str = ""
    updated_at: str = ""

    # the "Open worksheet" dialog
    open_dialog: bool = False
    asset_search: str = ""
    eligible: list[Option] = []
    open_error: str = ""
    open_busy: bool = False

    @rx.var
    def can_write(self) -> bool:
        return WRITE in self.permissions

    @rx.var
    def filtered(self) -> bool:
        return bool(self.search or self.technician != "all" or self.team != "all" or self.status != "active")

    def _filter(self) -> service.WorksheetFilter:
        return service.WorksheetFilter(
            status=self.status,
            technician_id="" if self.technician == "all" else self.technician,
            team_id="" if self.team == "all" else self.team,
            search=self.search,
            sort=self.sort,
            descending=self.descending,
            page=self.page,
            page_size=self.page_size,
        )

    def _clean_view(self) -> None:
        """Values from a hand-edited URL that mean nothing become the defaults."""
        if self.status not in STATUS_FILTERS:
            self.status = "active"
        if self.sort not in SORTS:
            self.sort = "created"
        for name in ("technician", "team"):
            value = getattr(self, name)
            if value != "all":
                try:
                    uuid.UUID(value)
                except ValueError:
                    setattr(self, name, "all")

    def _apply(self, snap: ListSnapshot, fmt: ShopFormat) -> None:
        self.rows, self.total, self.page, self.counts = snap.rows, snap.total, snap.page, snap.counts
        self.technicians, self.teams = snap.technicians, snap.teams
        self.page_ids = [r.id for r in snap.rows]
        self.updated_at = fmt.clock(datetime.now(UTC), seconds=True)
        self.error, self.loaded = "", True

    def _fetch(self, tenant_id: uuid.UUID) -> None:
        fmt = of_tenant(tenant_id)
        try:
            self._apply(_list_snapshot(tenant_id, fmt, self._filter()), fmt)
        except DomainError as exc:
            self.error = sentence(exc.message)

    async def _refresh(self) -> None:
        p = current_principal()
        try:
            snap = await asyncio.to_thread(_list_snapshot, p.tenant_id, p.fmt, self._filter())
        except DomainError as exc:
            self.error, self.loaded = sentence(exc.message), True
            return
        self._apply(snap, p.fmt)

    @guarded(READ, quiet=True)
    async def load(self):
        self._read_url()
        self._clean_view()
        self.open_dialog = False
        await self._refresh()
        return RepairsWorksheetsState.watch

    # --- the view --------------------------------------------------------------------------------

    @guarded(READ)
    async def set_search(self, value: str):
        return await self._search(search=value.strip()[:200])

    @guarded(READ)
    def set_status(self, value: str):
        return self._navigate(status=value if value in STATUS_FILTERS else "active")

    @guarded(READ)
    def set_technician(self, value: str):
        return self._navigate(technician=value or "all")

    @guarded(READ)
    def set_team(self, value: str):
        return self._navigate(team=value or "all")

    @guarded(READ)
    def sort_by(self, column: str):
        if column not in SORTS:
            return None
        if column == self.sort:
            return self._navigate(descending=not self.descending)
        return self._navigate(sort=column, descending=column in ("created", "updated", "labour"))

    @guarded(READ)
    def clear_filters(self):
        return self._navigate(search="", technician="all", team="all", status="active")

    # --- opening a worksheet -------------------------------------------------------------------

    @guarded(WRITE)
    async def set_open_dialog(self, value: bool):
        self.open_dialog, self.open_error, self.open_busy = value, "", False
        if value:
            self.asset_search = ""
            p = current_principal()
            self.eligible = await asyncio.to_thread(_eligible, p.tenant_id, "")

    @guarded(WRITE)
    async def search_assets(self, value: str):
        self.asset_search = value.strip()[:100]
        p = current_principal()
        self.eligible = await asyncio.to_thread(_eligible, p.tenant_id, self.asset_search)

    @guarded(WRITE)
    async def open_for(self, asset_id: str):
        p = current_principal()
        self.open_busy = True
        try:
            ws = await in_tenant(lambda s: service.open_worksheet(s, asset_id, actor=p))
        except DomainError as exc:
            self.open_error, self.open_busy = sentence(exc.message), False
            return None
        self.open_dialog, self.open_busy = False, False
        return [rx.toast.success(f"Worksheet {ws.number} opened."), rx.redirect(f"{PATH}/{ws.id}")]


# --- /repairs/worksheets/new?asset=<id> --------------------------------------------------------------


class NewWorksheetState(AppState):
    """Opens a worksheet for the asset in the address (the asset page's
    "Open worksheet" link) and goes to it; an asset that has one goes to that."""

    error: str = ""

    @guarded(WRITE, quiet=True)
    async def load(self):
        self.error = ""
        asset_id = str(self.router.url.query_parameters.get("asset") or "")
        p = current_principal()

        def work(s):
            found = service.open_for_asset(s, asset_id)
            return (found, False) if found else (service.open_worksheet(s, asset_id, actor=p), True)

        try:
            ws, new = await in_tenant(work)
        except DomainError as exc:
            self.error = sentence(exc.message)
            return None
        goto = rx.redirect(f"{PATH}/{ws.id}", replace=True)
        return [rx.toast.success(f"Worksheet {ws.number} opened."), goto] if new else goto


# --- /repairs/worksheets/[id] ----------------------------------------------------------------------


@dataclasses.dataclass
class SheetView:
    id: str = ""
    number: str = ""
    status: str = ""
    technician_id: str = NOBODY
    team_id: str = NOBODY
    labour: str = "0 min"
    labour_minutes: int = 0
    notes: str = ""
    qc_result: str = ""
    qc_notes: str = ""
    qc_failures: int = 0
    qc_at: str = ""
    opened: str = ""
    submitted: str = ""
    completed: str = ""


@dataclasses.dataclass
class AssetView:
    id: str = ""
    number: str = ""
    status: str = ""
    imei: str = ""
    serial: str = ""
    device: str = ""
    client: str = ""
    fault: str = ""
    condition: str = ""


@dataclasses.dataclass
class CodeView:
    id: str = ""
    code: str = ""
    name: str = ""
    source: str = ""
    mapped: bool = True
    done: bool = False
    done_here: bool = False
    done_on: str = ""


@dataclasses.dataclass
class PartView:
    id: str = ""
    sku: str = ""
    name: str = ""
    issued: int = 0
    returned: int = 0
    used: int = 0
    cost: str = ""


@dataclasses.dataclass
class SpareOption:
    id: str = ""
    sku: str = ""
    name: str = ""
    stock: int = 0
    cost: str = ""


@dataclasses.dataclass
class LogLine:
    at: str = ""
    who: str = ""
    kind: str = ""
    what: str = ""
    text: str = ""


@dataclasses.dataclass
class SheetSnapshot:
    sheet: SheetView
    asset: AssetView
    codes: list[CodeView]
    parts: list[PartView]
    parts_total: str
    labour: list[LogLine]
    history: list[LogLine]
    technicians: list[Option]
    teams: list[Option]
    code_choices: list[Option]


def _sheet_snapshot(tenant_id: uuid.UUID, fmt: ShopFormat, worksheet_id: str) -> SheetSnapshot:
    with tenant_session(tenant_id) as s:
        d = service.detail(s, worksheet_id)
        technicians, teams = _options(service.assignees(s))
        choices = service.code_choices(s)
    ws, a = d.worksheet, d.asset
    history = [
        LogLine(
            at=_when(fmt, h.get("at")),
            who=str(h.get("who") or ""),
            kind=str(h.get("kind") or ""),
            what=service.HISTORY_WORDS.get(str(h.get("kind")), str(h.get("kind") or "")),
            text=str(h.get("text") or ""),
        )
        for h in reversed(ws.history or [])
    ]
    done = {c.code for c in d.codes if c.done_here}
    currency = d.client.currency or None
    return SheetSnapshot(
        sheet=SheetView(
            id=str(ws.id),
            number=ws.number,
            status=ws.status,
            technician_id=str(ws.technician_id) if ws.technician_id else NOBODY,
            team_id=str(ws.team_id) if ws.team_id else NOBODY,
            labour=_minutes(ws.labour_minutes),
            labour_minutes=ws.labour_minutes,
            notes=ws.notes,
            qc_result=ws.qc_result,
            qc_notes=ws.qc_notes,
            qc_failures=ws.qc_failures,
            qc_at=fmt.when(ws.qc_at) if ws.qc_at else "",
            opened=fmt.when(ws.created_at),
            submitted=fmt.when(ws.submitted_at) if ws.submitted_at else "",
            completed=fmt.when(ws.completed_at) if ws.completed_at else "",
        ),
        asset=AssetView(
            id=str(a.id),
            number=a.number,
            status=a.status,
            imei=a.imei,
            serial=a.serial,
            device=d.device,
            client=d.client.name,
            fault=a.fault,
            condition=a.condition,
        ),
        codes=[
            CodeView(
                id=str(c.id),
                code=c.code,
                name=c.name,
                source=SOURCE_WORDS.get(c.source, c.source),
                mapped=c.mapped,
                done=c.done,
                done_here=c.done_here,
                done_on=c.done_on,
            )
            for c in d.codes
        ],
        parts=[
            PartView(
                id=str(p.part.id),
                sku=p.part.sku,
                name=p.part.name,
                issued=p.issued,
                returned=p.returned,
                used=p.used,
                cost=fmt.money(p.cost, currency),
            )
            for p in d.parts
        ],
        parts_total=fmt.money(sum((p.cost for p in d.parts), Decimal("0.00")), currency),
        labour=[line for line in history if line.kind == "labour"],
        history=history,
        technicians=technicians,
        teams=teams,
        code_choices=[Option(str(c.id), f"{c.code} · {c.name}") for c in choices if c.code not in done],
    )


def _spares(tenant_id: uuid.UUID, fmt: ShopFormat, search: str) -> list[SpareOption]:
    with tenant_session(tenant_id) as s:
        rows, _ = inventory.list_spare_parts(
            s, inventory.SparePartFilter(search=search, active=True, page_size=PART_SEARCH_LIMIT)
        )
    return [SpareOption(str(p.id), p.sku, p.name, p.current_stock, fmt.money(p.unit_cost)) for p in rows]


def _whole(raw: Any) -> int | None:
    try:
        return int(str(raw or "").strip())
    except ValueError:
        return None


class RepairWorksheetState(PageVisit, LiveState, AppState):
    # live: a colleague's change of this worksheet, its asset or its parts
    LIVE: ClassVar[Live] = Live(READ, PATH, (LIVE_KIND, inventory.LIVE_KIND), settle=0.5)

    sheet: SheetView = SheetView()
    asset: AssetView = AssetView()
    codes: list[CodeView] = []
    parts: list[PartView] = []
    parts_total: str = ""
    labour: list[LogLine] = []
    history: list[LogLine] = []
    technicians: list[Option] = []
    teams: list[Option] = []
    code_choices: list[Option] = []
    error: str = ""
    loaded: bool = False
    busy: bool = False
    labour_error: str = ""
    labour_key: int = 0
    notes_error: str = ""

    # the parts card: the search and the issue / return dialog
    part_search: str = ""
    spares: list[SpareOption] = []
    move_open: bool = False
    move_kind: str = "issue"  # issue | return
    move_part: SpareOption = SpareOption()
    move_max: int = 0
    move_error: str = ""
    move_busy: bool = False
    _move_key: str = ""  # one idempotency key per dialog opening: a double click moves stock once

    # the QC fail dialog
    fail_open: bool = False
    fail_error: str = ""
    _watched_path: str = ""

    @rx.var
    def can_write(self) -> bool:
        return WRITE in self.permissions

    @rx.var
    def can_issue(self) -> bool:
        """Issuing moves inventory: it needs both permissions."""
        return WRITE in self.permissions and "inventory.write" in self.permissions

    @rx.var
    def editable(self) -> bool:
        return WRITE in self.permissions and self.sheet.status == "open"

    @rx.var
    def codes_done(self) -> int:
        return len([c for c in self.codes if c.done_here])

    def _sheet_id(self) -> str:
        return self.router.url.path.rstrip("/").rsplit("/", 1)[-1]

    def _apply(self, snap: SheetSnapshot) -> None:
        self.sheet, self.asset, self.codes = snap.sheet, snap.asset, snap.codes
        self.parts, self.parts_total = snap.parts, snap.parts_total
        self.labour, self.history = snap.labour, snap.history
        self.technicians, self.teams, self.code_choices = snap.technicians, snap.teams, snap.code_choices
        self.error, self.loaded = "", True

    def _fetch(self, tenant_id: uuid.UUID) -> None:
        try:
            self._apply(_sheet_snapshot(tenant_id, of_tenant(tenant_id), self._sheet_id()))
        except DomainError:
            return  # gone: the page says so on its next load

    async def _refresh(self) -> None:
        p = current_principal()
        try:
            snap = await asyncio.to_thread(_sheet_snapshot, p.tenant_id, p.fmt, self._sheet_id())
        except DomainError as exc:
            self.error, self.loaded = sentence(exc.message), True
            return
        self._apply(snap)

    @guarded(READ, quiet=True)
    async def load(self):
        self.loaded, self.error = False, ""
        if self._new_visit():  # not when the page loads itself again (a reconnect)
            self.move_open = self.fail_open = False
            self.labour_error = self.notes_error = ""
            self.part_search, self.spares = "", []
        await self._refresh()
        return RepairWorksheetState.watch

    def _live_start(self, principal: auth.Principal) -> Any:
        self._watched_path = self.router.url.path.rstrip("/")
        return principal.tenant_id

    def _live_here(self) -> bool:
        return self.router.url.path.rstrip("/") == self._watched_path

    async def _do(self, work, ok: str | None):
        """Run a change, reload, and say how it went."""
        p = current_principal()
        self.busy = True
        try:
            await in_tenant(lambda s: work(s, p))
        except DomainError as exc:
            self.busy = False
            await self._refresh()
            return rx.toast.error(sentence(exc.message))
        self.busy = False
        await self._refresh()
        return rx.toast.success(ok) if ok else None

    # --- assignment, labour, notes ---------------------------------------------------------------

    @guarded(WRITE)
    async def assign_technician(self, value: str):
        wid, team = self._sheet_id(), self.sheet.team_id
        tech = None if value == NOBODY else value
        return await self._do(
            lambda s, p: service.assign(s, wid, technician_id=tech, team_id=None if team == NOBODY else team, actor=p),
            "Technician assigned." if tech else "No technician now.",
        )

    @guarded(WRITE)
    async def assign_team(self, value: str):
        wid, tech = self._sheet_id(), self.sheet.technician_id
        team = None if value == NOBODY else value
        return await self._do(
            lambda s, p: service.assign(s, wid, technician_id=None if tech == NOBODY else tech, team_id=team, actor=p),
            "Team assigned." if team else "No team now.",
        )

    @guarded(WRITE)
    async def log_labour(self, form: dict):
        minutes = _whole(form.get("minutes"))
        if minutes is None or not 1 <= minutes <= service.MAX_MINUTES:
            self.labour_error = f"Write whole minutes, 1 to {service.MAX_MINUTES:,}."
            return None
        note, wid, p = str(form.get("note") or "")[:300], self._sheet_id(), current_principal()
        try:
            await in_tenant(lambda s: service.log_labour(s, wid, minutes, note=note, actor=p))
        except DomainError as exc:
            self.labour_error = sentence(exc.message)
            return None
        self.labour_error = ""
        self.labour_key += 1  # an empty form for the next entry
        await self._refresh()
        return rx.toast.success(f"{minutes} min logged: {self.sheet.labour} in all.")

    @guarded(WRITE)
    async def save_notes(self, form: dict):
        notes, wid, p = str(form.get("notes") or ""), self._sheet_id(), current_principal()
        try:
            await in_tenant(lambda s: service.set_notes(s, wid, notes, actor=p))
        except DomainError as exc:
            self.notes_error = sentence(exc.message)
            return None
        self.notes_error = ""
        await self._refresh()
        return rx.toast.success("Notes saved.")

    # --- codes -----------------------------------------------------------------------------------

    @guarded(WRITE)
    async def toggle_code(self, code_id: str, done: bool):
        wid = self._sheet_id()
        return await self._do(lambda s, p: service.set_code_done(s, wid, code_id, bool(done), actor=p), None)

    @guarded(WRITE)
    async def add_code(self, repair_code_id: str):
        wid = self._sheet_id()
        return await self._do(
            lambda s, p: service.add_code_done(s, wid, repair_code_id, actor=p), "Repair code marked done."
        )

    # --- parts -----------------------------------------------------------------------------------

    @guarded(READ)
    async def search_parts(self, value: str):
        self.part_search = value.strip()[:100]
        if not self.part_search:
            self.spares = []
            return
        p = current_principal()
        self.spares = await asyncio.to_thread(_spares, p.tenant_id, p.fmt, self.part_search)

    @guarded(WRITE)
    def open_issue(self, part_id: str):
        part = next((x for x in self.spares if x.id == part_id), None)
        if part is None:
            return rx.toast.error("That part is no longer in the list; search again.")
        self.move_kind, self.move_part, self.move_max = "issue", part, part.stock
        self._open_move()
        return None

    @guarded(WRITE)
    def open_return(self, part_id: str):
        held = next((x for x in self.parts if x.id == part_id), None)
        if held is None:
            return rx.toast.error("This worksheet holds none of that part.")
        self.move_kind, self.move_max = "return", held.used
        self.move_part = SpareOption(held.id, held.sku, held.name, held.used, "")
        self._open_move()
        return None

    def _open_move(self) -> None:
        self._move_key = uuid.uuid4().hex
        self.move_error, self.move_busy, self.move_open = "", False, True

    @guarded(WRITE)
    def set_move_open(self, value: bool):
        self.move_open = value

    @guarded(WRITE)
    async def submit_move(self, form: dict):
        qty = _whole(form.get("quantity"))
        if qty is None or qty < 1:
            self.move_error = "Write a whole number of units, 1 or more."
            return
        if self.move_busy or not self.move_open:
            return  # a second click: the first is at work or done (it carries the same key anyway)
        kind, part, key = self.move_kind, self.move_part, self._move_key
        wid, p = self._sheet_id(), current_principal()
        move = service.issue_part if kind == "issue" else service.return_part
        self.move_busy = True
        yield
        try:
            await in_tenant(lambda s: move(s, wid, part.id, qty, idempotency_key=key, actor=p))
        except ValidationFailed as exc:
            self.move_error, self.move_busy = sentence(exc.message), False
            return
        except DomainError as exc:
            self.move_error, self.move_busy = sentence(exc.message), False
            await self._refresh()
            return
        self.move_busy, self.move_open = False, False
        await self._refresh()
        if self.part_search:
            self.spares = await asyncio.to_thread(_spares, p.tenant_id, p.fmt, self.part_search)
        verb = "issued to" if kind == "issue" else "returned from"
        yield rx.toast.success(f"{qty} × {part.name} {verb} {self.sheet.number}.")

    # --- the asset while it waits for parts ------------------------------------------------------

    @guarded(WRITE)
    async def resume_repair(self):
        wid = self._sheet_id()
        return await self._do(lambda s, p: service.resume_repair(s, wid, actor=p), "The asset is back in repair.")

    @guarded(WRITE)
    async def wait_for_parts(self):
        wid = self._sheet_id()
        return await self._do(lambda s, p: service.wait_for_parts(s, wid, actor=p), "The asset is awaiting parts.")

    # --- final QC and cancelling -------------------------------------------------------------------

    @guarded(WRITE)
    async def submit_qc(self):
        wid = self._sheet_id()
        return await self._do(lambda s, p: service.submit_for_qc(s, wid, actor=p), "Sent to final QC.")

    @guarded(WRITE)
    async def qc_pass(self):
        wid = self._sheet_id()
        return await self._do(
            lambda s, p: service.qc_pass(s, wid, actor=p), "Final QC passed: the asset is ready for dispatch."
        )

    @guarded(WRITE)
    def set_fail_open(self, value: bool):
        self.fail_open, self.fail_error = value, ""

    @guarded(WRITE)
    async def qc_fail(self, form: dict):
        notes = str(form.get("notes") or "").strip()
        if not notes:
            self.fail_error = "Say what failed: the technician reads it."
            return None
        wid, p = self._sheet_id(), current_principal()
        try:
            await in_tenant(lambda s: service.qc_fail(s, wid, notes, actor=p))
        except DomainError as exc:
            self.fail_error = sentence(exc.message)
            return None
        self.fail_open, self.fail_error = False, ""
        await self._refresh()
        return rx.toast.warning("Final QC failed: the worksheet is open again and the asset back in repair.")

    @guarded(WRITE)
    async def cancel(self):
        wid = self._sheet_id()
        return await self._do(lambda s, p: service.cancel(s, wid, actor=p), "Worksheet cancelled.")
