"""Workbench pages: the builds board and one build."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from typing import ClassVar

import reflex as rx
import segno
from sqlmodel import col, select

from app.builds import machine, service
from app.builds.models import PHOTO_SLOT_LABELS, PHOTO_SLOTS, REQUIRED_SLOTS
from app.orders.models import Order
from app.platform import auth
from app.platform.db import tenant_session
from app.platform.errors import DomainError
from app.platform.models import Attachment, User
from app.settings import get_settings
from state.base import AppState, current_principal, guarded, in_tenant
from state.live import Live, LiveState
from state.paging import PagedState

SLOT_LABELS = PHOTO_SLOT_LABELS  # one label per slot, kept with the slots (app.builds.models)
ACTION_LABELS = {
    "in_progress": "Start / resume",
    "paused": "Pause",
    "testing": "To testing",
    "completed": "Complete",
    "failed": "Mark failed",
}
EVERYONE, UNASSIGNED = "all", "none"  # the assignee filter's two fixed choices


@dataclasses.dataclass
class BuildRow:
    """One build on the builds board (a card, or a row of the list)."""

    id: str = ""
    order: str = ""  # the order's number
    order_id: str = ""
    customer: str = ""
    status: str = ""
    assignee: str = ""  # the assignee's name, "" for nobody
    age: str = ""  # time in the current status: "waiting 3 days", "in testing for 5 hours"
    photos: int = 0  # photo slots filled
    booklets: str = ""  # booklet status


@dataclasses.dataclass
class AssigneeOption:
    """One choice of the board's assignee filter."""

    value: str = ""
    label: str = ""


@dataclasses.dataclass
class BuildView:
    """The build on its workbench page."""

    id: str = ""
    status: str = ""
    order: str = ""  # the order's number
    order_id: str = ""
    customer: str = ""
    started: str = ""
    finished: str = ""
    qa_result: str = ""  # a QA_RESULT value: passed | failed | open
    qa_notes: str = ""
    booklet_status: str = ""
    booklet_error: str = ""
    quick_url: str = ""  # "" until the Quick Start Guide exists
    dossier_url: str = ""  # "" until the Technical Dossier exists
    assignee: str = ""
    phone_url: str = ""  # the phone page for the photos
    phone_qr: str = ""  # its QR code (an SVG data URI)


@dataclasses.dataclass
class PhotoTile:
    """One photo slot of a build."""

    slot: str = ""
    label: str = ""
    required: bool = False
    thumb: str = ""  # the thumbnail's address, "" while the slot is empty
    full: str = ""  # the photo itself (the larger view)


@dataclasses.dataclass
class ChecklistItem:
    """One QA check."""

    index: int = 0
    item: str = ""
    done: bool = False
    notes: str = ""


@dataclasses.dataclass
class BenchmarkRow:
    """One benchmark result."""

    name: str = ""
    score: str = ""
    unit: str = ""
    photo: str = ""  # the label of the photo slot holding its screenshot, or ""


@dataclasses.dataclass
class StressTestRow:
    """One stress test (tool, minutes, result, hottest reading)."""

    tool: str = ""
    minutes: str = ""
    result: str = ""  # a STRESS_RESULT value
    max_temp: str = ""
    notes: str = ""


@dataclasses.dataclass
class TestRunRow:
    """One test run (benchmark, stress test…) with its screenshot."""

    id: str = ""
    type: str = ""  # a TEST_RUN_TYPE value
    type_label: str = ""
    status: str = ""  # a TEST_RUN_STATUS value
    score: str = ""
    notes: str = ""
    thumb: str = ""  # the screenshot's thumbnail, "" when it has none
    full: str = ""  # the screenshot itself


@dataclasses.dataclass
class FeedEntry:
    """One step or logged event in the build's timeline."""

    at: str = ""
    kind: str = ""  # step | event
    type: str = ""  # the step's or event's words
    severity: str = ""
    message: str = ""


@dataclasses.dataclass
class BuildMove:
    """A status the build can move to now: a button."""

    target: str = ""
    label: str = ""


@dataclasses.dataclass
class ConfigEntry:
    """One line of the system configuration (OS, BIOS…)."""

    key: str = ""
    value: str = ""


def _files_url(key: str) -> str:
    return f"{get_settings().api_url.rstrip('/')}/api/v1/files/{key}"


class BuildsState(LiveState, PagedState, AppState):
    """The builds board: a column per status, or the same builds as a list.
    Its view (board or list, whose builds, closed ones shown) lives in the URL:
    "/builds?mine=1" is a bookmark of my builds."""

    LIVE: ClassVar[Live] = Live("builds.read", "/builds", ("builds",), settle=2.0)
    PAGE_PERMISSION: ClassVar[str] = "builds.read"
    URL_PARAMS: ClassVar[tuple[str, ...]] = ("view", "assignee", "mine", "show_closed")

    rows: list[BuildRow] = []
    view: str = "board"  # board | list
    assignee: str = EVERYONE  # EVERYONE, UNASSIGNED or a user id
    mine: bool = False  # "My builds": the signed-in user's builds only
    show_closed: bool = False  # completed and cancelled builds folded away by default
    assignees: list[AssigneeOption] = []
    closed_count: int = 0
    loaded: bool = False

    @rx.var
    def by_status(self) -> dict[str, list[BuildRow]]:
        return {s: [r for r in self.rows if r.status == s] for s in machine.STATUSES}

    @rx.var
    def counts(self) -> dict[str, int]:
        return {s: sum(1 for r in self.rows if r.status == s) for s in machine.STATUSES}

    def _filter(self, principal: auth.Principal) -> service.BoardFilter:
        if self.mine:
            return service.BoardFilter(assignee_id=principal.user_id, include_closed=self.show_closed)
        if self.assignee == UNASSIGNED:
            return service.BoardFilter(unassigned=True, include_closed=self.show_closed)
        try:
            who = uuid.UUID(self.assignee) if self.assignee != EVERYONE else None
        except ValueError:
            who = None
        return service.BoardFilter(assignee_id=who, include_closed=self.show_closed)

    def _fetch(self, principal: auth.Principal) -> None:
        fmt, flt = principal.fmt, self._filter(principal)
        with tenant_session(principal.tenant_id) as s:
            cards = service.board(s, flt)
            counts = service.status_counts(s)
            people = service.staff(s)
        self.closed_count = sum(counts.get(st, 0) for st in machine.CLOSED)
        self.assignees = [
            AssigneeOption(EVERYONE, "Everyone"),
            AssigneeOption(UNASSIGNED, "Nobody yet"),
            *[AssigneeOption(str(uid), name) for uid, name in people],
        ]
        self.rows = [
            BuildRow(
                id=str(c.id),
                order=c.order_number,
                order_id=str(c.order_id),
                customer=c.customer,
                status=c.status,
                assignee=c.assignee,
                age=service.time_in_status(c, fmt),
                photos=c.photos,
                booklets=c.booklet_status,
            )
            for c in cards
        ]

    async def _reload(self) -> None:
        await asyncio.to_thread(self._fetch, current_principal())

    async def _live_refresh(self, principal: auth.Principal, token: str) -> None:
        async with self:
            if self._watch_token == token:
                await asyncio.to_thread(self._fetch, principal)

    @guarded("builds.read", quiet=True)
    async def load(self):
        self._read_url()
        if self.view not in ("board", "list"):
            self.view = "board"
        await self._reload()
        self.loaded = True
        return BuildsState.watch

    @guarded("builds.read")
    def set_assignee(self, value: str):
        return self._navigate(assignee=value, mine=False)

    @guarded("builds.read")
    def set_mine(self, value: bool):
        return self._navigate(mine=value)

    @guarded("builds.read")
    def set_show_closed(self, value: bool):
        return self._navigate(show_closed=value)

    @guarded("builds.read")
    def set_view(self, value: str | list[str]):
        value = value[0] if isinstance(value, list) else value
        if value in ("board", "list"):
            return self._navigate(view=value)
        return None


class BuildState(LiveState, AppState):
    LIVE: ClassVar[Live] = Live("builds.read")  # live: booklet status and photos from other devices

    build: BuildView = BuildView()
    photos: list[PhotoTile] = []
    checklist: list[ChecklistItem] = []
    test_runs: list[TestRunRow] = []
    benchmarks: list[BenchmarkRow] = []
    system_config: list[ConfigEntry] = []
    feed: list[FeedEntry] = []
    stress_tests: list[StressTestRow] = []
    actions: list[BuildMove] = []
    missing: list[str] = []
    temps: dict[str, str] = {}
    error: str = ""
    upload_slot: str = "coverPhoto"
    shot_run_id: str = ""  # the test run whose screenshot is being uploaded
    shot_run_label: str = ""
    shot_open: bool = False
    loaded: bool = False
    _watch_build_id: str = ""

    @rx.var
    def can_write(self) -> bool:
        return "builds.write" in self.permissions

    @rx.var
    def editable(self) -> bool:
        """Inputs and buttons only for staff who may change builds, and never on
        a cancelled build (its order was cancelled: everything is read-only)."""
        return "builds.write" in self.permissions and self.build.status != "cancelled"

    def _build_id(self) -> str:
        return self.router.url.path.rstrip("/").rsplit("/", 1)[-1]

    def _fetch(self, principal: auth.Principal) -> None:
        fmt = principal.fmt
        with tenant_session(principal.tenant_id) as s:
            b = service.get_build(s, self._build_id())
            phone_url = f"{get_settings().app_url.rstrip('/')}/floor/builds/{b.id}/photos"
            order = s.get_one(Order, b.order_id)
            ids = service.photo_ids(b)
            atts = {
                a.id: a
                for a in s.exec(select(Attachment).where(col(Attachment.id).in_([i for i in ids.values() if i])))
            }
            quick = s.get(Attachment, b.quick_start_booklet_id) if b.quick_start_booklet_id else None
            dossier = s.get(Attachment, b.technical_dossier_booklet_id) if b.technical_dossier_booklet_id else None
            assignee = s.get(User, b.assignee_id) if b.assignee_id else None
            runs = service.test_runs(s, b.id)
            shots = service.test_run_photos(s, runs)
            feed = service.feed(s, b.id)
            missing = [] if b.status == "cancelled" else service.packaging_blockers(s, b)
        self.build = BuildView(
            id=str(b.id),
            status=b.status,
            order=order.number,
            order_id=str(order.id),
            customer=order.customer_name,
            started=fmt.when(b.started_at),
            finished=fmt.when(b.finished_at),
            qa_result=machine.qa_result(b.qa_result),
            qa_notes=b.qa_notes,
            booklet_status=b.booklet_status,
            booklet_error=b.booklet_error,
            quick_url=_files_url(quick.key) if quick else "",
            dossier_url=_files_url(dossier.key) if dossier else "",
            assignee=(assignee.display_name or assignee.username) if assignee else "nobody",
            phone_url=phone_url,
            phone_qr=segno.make(phone_url, error="m").svg_data_uri(scale=4, border=1),
        )
        self.photos = [
            PhotoTile(
                slot=slot,
                label=SLOT_LABELS[slot],
                required=slot in REQUIRED_SLOTS,
                thumb=_files_url(atts[i].thumbnail_key) if i and i in atts else "",
                full=_files_url(atts[i].key) if i and i in atts else "",
            )
            for slot, i in ids.items()
        ]
        self.checklist = [
            ChecklistItem(
                index=n, item=str(c.get("item") or ""), done=bool(c.get("done")), notes=str(c.get("notes") or "")
            )
            for n, c in enumerate(b.qa_checklist or [])
        ]
        self.stress_tests = [
            StressTestRow(
                tool=str(t.get("tool", "")),
                minutes=f"{float(t.get('durationMinutes') or 0):g} min",
                result=str(t.get("result", "")),
                max_temp="—" if t.get("maxTemp") is None else f"{float(t['maxTemp']):g} °C",
                notes=str(t.get("notes", "")),
            )
            for t in b.stress_tests or []
        ]
        slot_of = {str(i): slot for slot, i in ids.items() if i}
        self.benchmarks = [
            BenchmarkRow(
                name=bm.get("name", ""),
                score=f"{bm.get('score', '')}",
                unit=bm.get("unit", ""),
                photo=SLOT_LABELS.get(slot_of.get(str(bm.get("photoAttachmentId")), ""), ""),
            )
            for bm in (b.benchmarks or [])
        ]
        self.test_runs = [
            TestRunRow(
                id=str(r.id),
                type=r.type,
                type_label=machine.TEST_RUN_TYPE.label(r.type),
                status=r.status,
                score="—" if r.score is None else f"{r.score:g}",
                notes=r.notes,
                thumb=_files_url(shots[r.id].thumbnail_key) if r.id in shots else "",
                full=_files_url(shots[r.id].key) if r.id in shots else "",
            )
            for r in runs
        ]
        self.feed = [
            FeedEntry(
                at=fmt.when(e["at"]),
                kind=e["kind"],
                type=(machine.TIMELINE_STEP if e["kind"] == "step" else machine.EVENT_TYPE).label(e["type"]),
                severity=e["severity"],
                message=e["message"],
            )
            for e in reversed(feed)
        ]
        self.actions = [
            BuildMove(target=t, label=ACTION_LABELS.get(t, machine.STATUS.label(t)))
            for t in machine.allowed(b.status)
            if t != "pending"
        ]
        self.missing = missing
        self.system_config = [ConfigEntry(key=k, value=str(v)) for k, v in (b.system_config or {}).items()]
        self.temps = {
            k: "" if getattr(b, column) is None else f"{getattr(b, column):g}"
            for k, column in service.TEMPERATURE_FIELDS.items()
        }

    async def _refresh(self) -> None:
        try:
            await asyncio.to_thread(self._fetch, current_principal())
            self.error = ""
        except DomainError as exc:
            self.error = exc.message
        self.loaded = True

    async def _live_refresh(self, principal: auth.Principal, token: str) -> None:
        async with self:
            if self._watch_token == token:
                await asyncio.to_thread(self._fetch, principal)

    @guarded("builds.read", quiet=True)
    async def load(self):
        self.loaded = False
        await self._refresh()
        return BuildState.watch

    async def _do(self, work, ok: str):
        try:
            await in_tenant(work)
        except DomainError as exc:
            await self._refresh()
            return rx.toast.error(exc.message[:1].upper() + exc.message[1:] + ".")
        await self._refresh()
        return rx.toast.success(ok)

    @guarded("builds.write")
    async def move(self, target: str):
        bid, p = self._build_id(), current_principal()
        return await self._do(
            lambda s: service.change_status(s, bid, target, actor=p),
            f"Build is now {machine.STATUS.label(target).lower()}.",
        )

    @guarded("builds.write")
    async def assign_to_me(self):
        bid, p = self._build_id(), current_principal()
        return await self._do(lambda s: service.assign(s, bid, p.user_id, actor=p), "Assigned to you.")

    @guarded("builds.write")
    def set_upload_slot(self, value: str):
        self.upload_slot = value

    @guarded("builds.write")
    async def upload(self, files: list[rx.UploadFile], slot: str = ""):
        """Store the chosen photo in the slot the page showed (sent with the file, not read back from
        the state: the file comes over HTTP and may overtake the socket's last slot change)."""
        if not files:
            return rx.toast.error("Choose a photo first.")
        bid, p, slot = self._build_id(), current_principal(), slot or self.upload_slot
        data = await files[0].read()
        name = files[0].filename or ""
        return await self._do(
            lambda s: service.store_photo(s, bid, slot, data, filename=name, actor=p),
            f"{SLOT_LABELS.get(slot, 'The')} photo saved.",
        )

    # --- a test run's screenshot -----------------------------------------------------------------

    @guarded("builds.write")
    def choose_shot(self, run_id: str, label: str):
        """Open the screenshot dialog for one test run."""
        self.shot_run_id, self.shot_run_label, self.shot_open = run_id, label, True

    @guarded("builds.write")
    def set_shot_open(self, value: bool):
        self.shot_open = value

    @guarded("builds.write")
    async def upload_run_photo(self, files: list[rx.UploadFile], run_id: str = ""):
        if not files:
            return rx.toast.error("Choose a screenshot first.")
        bid, p, run_id = self._build_id(), current_principal(), run_id or self.shot_run_id
        data, name = await files[0].read(), files[0].filename or ""
        try:
            await in_tenant(lambda s: service.store_test_run_photo(s, bid, run_id, data, filename=name, actor=p))
        except DomainError as exc:  # the dialog stays open with the reason
            return rx.toast.error(exc.message[:1].upper() + exc.message[1:] + ".")
        self.shot_open = False
        await self._refresh()
        return rx.toast.success(f"Screenshot saved for the {self.shot_run_label.lower()} test run.")

    @guarded("builds.write")
    async def remove_run_photo(self, run_id: str):
        bid, p = self._build_id(), current_principal()
        return await self._do(lambda s: service.remove_test_run_photo(s, bid, run_id, actor=p), "Screenshot removed.")

    # --- QA, test data, timeline ------------------------------------------------------------------

    @guarded("builds.write")
    async def add_check(self, form: dict):
        item = (form.get("item") or "").strip()
        if not item:
            return rx.toast.error("Name the check.")
        items = [{"item": c.item, "done": c.done, "notes": c.notes} for c in self.checklist]
        items.append({"item": item, "done": False, "notes": ""})
        bid, p = self._build_id(), current_principal()
        return await self._do(
            lambda s: service.update_qa(s, bid, service.QAUpdate(checklist=items), actor=p), "Check added."
        )

    @guarded("builds.write")
    async def toggle_check(self, index: int):
        items = [
            {"item": c.item, "done": (not c.done) if c.index == index else c.done, "notes": c.notes}
            for c in self.checklist
        ]
        bid, p = self._build_id(), current_principal()
        return await self._do(
            lambda s: service.update_qa(s, bid, service.QAUpdate(checklist=items), actor=p), "Checklist updated."
        )

    @guarded("builds.write")
    async def save_temps(self, form: dict):
        try:
            temps = {k: (float(form[k]) if form.get(k, "").strip() else None) for k in service.TEMPERATURE_FIELDS}
        except ValueError:
            return rx.toast.error("Temperatures are numbers in °C.")
        bid, p = self._build_id(), current_principal()
        return await self._do(
            lambda s: service.update_qa(s, bid, service.QAUpdate(temperatures=temps), actor=p), "Temperatures saved."
        )

    @guarded("builds.write")
    async def save_qa_notes(self, form: dict):
        bid, p, notes = self._build_id(), current_principal(), form.get("qa_notes", "")
        return await self._do(
            lambda s: service.update_qa(s, bid, service.QAUpdate(notes=notes), actor=p), "QA notes saved."
        )

    @guarded("builds.write")
    async def add_config(self, form: dict):
        key, value = (form.get("key") or "").strip(), (form.get("value") or "").strip()
        if not key:
            return rx.toast.error("Name the setting (e.g. OS).")
        config = {c.key: c.value for c in self.system_config} | {key[:60]: value[:300]}
        bid, p = self._build_id(), current_principal()
        return await self._do(
            lambda s: service.update_qa(s, bid, service.QAUpdate(system_config=config), actor=p),
            "System configuration saved.",
        )

    @guarded("builds.write")
    async def sign_off(self, passed: bool):
        bid, p = self._build_id(), current_principal()
        return await self._do(
            lambda s: service.sign_off_qa(s, bid, passed, actor=p),
            "QA signed off as passed." if passed else "QA recorded as failed.",
        )

    @guarded("builds.write")
    async def add_test_run(self, form: dict):
        try:
            score = float(form["score"]) if form.get("score", "").strip() else None
        except ValueError:
            return rx.toast.error("The score is a number.")
        bid, p = self._build_id(), current_principal()
        return await self._do(
            lambda s: service.add_test_run(
                s,
                bid,
                type=form.get("type", ""),
                status=form.get("status", "pending"),
                score=score,
                notes=form.get("notes", ""),
                actor=p,
            ),
            "Test run added.",
        )

    @guarded("builds.write")
    async def set_run_status(self, run_id: str, status: str):
        p = current_principal()
        return await self._do(
            lambda s: service.update_test_run(s, run_id, status=status, actor=p),
            f"Test run marked {machine.TEST_RUN_STATUS.label(status).lower()}.",
        )

    @guarded("builds.write")
    async def add_benchmark(self, form: dict):
        try:
            score = float(form.get("score") or "")
        except ValueError:
            return rx.toast.error("The benchmark score is a number.")
        bid, p = self._build_id(), current_principal()
        slot = form.get("photo_slot", "")
        return await self._do(
            lambda s: service.add_benchmark(
                s,
                bid,
                name=form.get("name", ""),
                score=score,
                unit=form.get("unit", ""),
                photo_slot="" if slot == "none" else slot,
                actor=p,
            ),
            "Benchmark added.",
        )

    @guarded("builds.write")
    async def add_event(self, form: dict):
        bid, p = self._build_id(), current_principal()
        return await self._do(
            lambda s: service.add_event(
                s,
                bid,
                form.get("event_type", "note"),
                form.get("message", ""),
                severity=form.get("severity", "info"),
                actor=p,
            ),
            "Added to the log.",
        )

    @guarded("builds.write")
    async def add_stress_test(self, form: dict):
        bid, p = self._build_id(), current_principal()
        entry = {
            "tool": form.get("tool", ""),
            "durationMinutes": form.get("minutes", ""),
            "result": form.get("result", "passed"),
            "maxTemp": form.get("max_temp", ""),
            "notes": form.get("stress_notes", ""),
        }
        return await self._do(lambda s: service.add_stress_test(s, bid, entry, actor=p), "Stress test added.")

    @guarded("builds.write")
    async def add_step(self, form: dict):
        bid, p = self._build_id(), current_principal()
        step = form.get("step", "update")
        return await self._do(
            lambda s: service.add_step(s, bid, step, form.get("note", ""), actor=p),
            f"{machine.TIMELINE_STEP.label(step)} added to the timeline.",
        )

    @guarded("builds.write")
    async def regenerate(self):
        bid, p = self._build_id(), current_principal()
        return await self._do(lambda s: service.regenerate_booklets(s, bid, actor=p), "Booklets queued.")

    # --- live: booklet status and photos from other devices -----------------------------------

    def _live_start(self, principal):
        self._watch_build_id = self._build_id()
        return principal.tenant_id

    def _live_here(self) -> bool:
        return self.router.url.path.endswith(self._watch_build_id)

    def _live_wanted(self, message: dict) -> bool:
        return message.get("kind") == "builds" and message.get("buildId") == self._watch_build_id


PHOTO_SLOT_OPTIONS = [(s, SLOT_LABELS[s]) for s in PHOTO_SLOTS]
