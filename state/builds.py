"""Workbench pages: the builds board and one build."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from datetime import UTC, datetime
from typing import ClassVar

import reflex as rx
import segno
from sqlmodel import col, select

from app.builds import machine, service
from app.builds.models import PHOTO_SLOT_LABELS, PHOTO_SLOTS, REQUIRED_SLOTS, Build
from app.orders.models import Order
from app.platform.db import tenant_session
from app.platform.errors import DomainError
from app.platform.models import Attachment, User
from app.settings import get_settings
from state.base import AppState, current_principal, guarded, in_tenant
from state.live import Live, LiveState

SLOT_LABELS = PHOTO_SLOT_LABELS  # one label per slot, kept with the slots (app.builds.models)
ACTION_LABELS = {
    "in_progress": "Start / resume",
    "paused": "Pause",
    "testing": "To testing",
    "completed": "Complete",
    "failed": "Mark failed",
}


@dataclasses.dataclass
class BuildRow:
    """One build on the builds board."""

    id: str = ""
    order: str = ""  # the order's number
    order_id: str = ""
    customer: str = ""
    status: str = ""
    assignee: str = ""
    age: str = ""  # "5 h", "3 d"
    photos: int = 0  # photo slots filled
    booklets: str = ""  # booklet status


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
    qa_result: str = ""  # passed | failed | not signed off
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
    photo: str = ""  # the photo slot of its screenshot, or ""


@dataclasses.dataclass
class StressTestRow:
    """One stress test (tool, minutes, result, hottest reading)."""

    tool: str = ""
    minutes: str = ""
    result: str = ""
    max_temp: str = ""
    notes: str = ""


@dataclasses.dataclass
class TestRunRow:
    """One test run (benchmark, stress test…)."""

    id: str = ""
    type: str = ""
    status: str = ""
    score: str = ""
    notes: str = ""


@dataclasses.dataclass
class FeedEntry:
    """One step or logged event in the build's timeline."""

    at: str = ""
    kind: str = ""  # step | event
    type: str = ""
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


def _age(dt: datetime) -> str:
    hours = (datetime.now(UTC) - dt).total_seconds() / 3600
    return f"{hours:.0f} h" if hours < 48 else f"{hours / 24:.0f} d"


class BuildsState(AppState):
    rows: list[BuildRow] = []
    status_filter: str = "all"
    counts: dict[str, int] = {}
    loaded: bool = False

    def _fetch(self, tenant_id: uuid.UUID) -> None:
        with tenant_session(tenant_id) as s:
            q = (
                select(Build, Order)
                .join(Order, col(Order.id) == col(Build.order_id))
                .order_by(col(Build.created_at).desc())
            )
            all_rows = s.exec(q).all()
            users = {u.id: u.display_name or u.username for u in s.exec(select(User))}
        self.counts = {st: sum(1 for b, _ in all_rows if b.status == st) for st in machine.STATUSES}
        self.rows = [
            BuildRow(
                id=str(b.id),
                order=o.number,
                order_id=str(o.id),
                customer=o.customer_name,
                status=b.status,
                assignee=users.get(b.assignee_id, "—") if b.assignee_id else "—",
                age=_age(b.created_at),
                photos=sum(1 for v in service.photo_ids(b).values() if v),
                booklets=b.booklet_status,
            )
            for b, o in all_rows
            if self.status_filter in ("all", b.status)
        ]

    @guarded("builds.read", quiet=True)
    async def load(self):
        await asyncio.to_thread(self._fetch, current_principal().tenant_id)
        self.loaded = True

    @guarded("builds.read")
    async def set_status_filter(self, value: str):
        self.status_filter = value
        await asyncio.to_thread(self._fetch, current_principal().tenant_id)


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
    loaded: bool = False
    _watch_build_id: str = ""

    @rx.var
    def can_write(self) -> bool:
        return "builds.write" in self.permissions

    def _build_id(self) -> str:
        return self.router.url.path.rstrip("/").rsplit("/", 1)[-1]

    def _fetch(self, tenant_id: uuid.UUID) -> None:
        api = get_settings().api_url.rstrip("/")
        with tenant_session(tenant_id) as s:
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
            self.build = BuildView(
                id=str(b.id),
                status=b.status,
                order=order.number,
                order_id=str(order.id),
                customer=order.customer_name,
                started=b.started_at.strftime("%Y-%m-%d %H:%M") if b.started_at else "—",
                finished=b.finished_at.strftime("%Y-%m-%d %H:%M") if b.finished_at else "—",
                qa_result="passed" if b.qa_result else "failed" if b.qa_result is False else "not signed off",
                qa_notes=b.qa_notes,
                booklet_status=b.booklet_status,
                booklet_error=b.booklet_error,
                quick_url=f"{api}/api/v1/files/{quick.key}" if quick else "",
                dossier_url=f"{api}/api/v1/files/{dossier.key}" if dossier else "",
                assignee=(assignee.display_name or assignee.username) if assignee else "nobody",
                phone_url=phone_url,
                phone_qr=segno.make(phone_url, error="m").svg_data_uri(scale=4, border=1),
            )
            self.photos = [
                PhotoTile(
                    slot=slot,
                    label=SLOT_LABELS[slot],
                    required=slot in REQUIRED_SLOTS,
                    thumb=f"{api}/api/v1/files/{atts[i].thumbnail_key}" if i and i in atts else "",
                )
                for slot, i in ids.items()
            ]
            self.checklist = [
                ChecklistItem(
                    index=n,
                    item=str(c.get("item") or ""),
                    done=bool(c.get("done")),
                    notes=str(c.get("notes") or ""),
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
            self.benchmarks = [
                BenchmarkRow(
                    name=bm.get("name", ""),
                    score=f"{bm.get('score', '')}",
                    unit=bm.get("unit", ""),
                    photo=next(
                        (
                            slot
                            for slot, i in ids.items()
                            if bm.get("photoAttachmentId") and str(i) == bm["photoAttachmentId"]
                        ),
                        "",
                    ),
                )
                for bm in (b.benchmarks or [])
            ]
            self.test_runs = [
                TestRunRow(
                    id=str(r.id),
                    type=r.type.replace("_", " "),
                    status=r.status,
                    score="—" if r.score is None else f"{r.score:g}",
                    notes=r.notes,
                )
                for r in service.test_runs(s, b.id)
            ]
            self.feed = [
                FeedEntry(
                    at=e["at"].strftime("%Y-%m-%d %H:%M"),
                    kind=e["kind"],
                    type=machine.TIMELINE_STEP.label(e["type"]) if e["kind"] == "step" else e["type"],
                    severity=e["severity"],
                    message=e["message"],
                )
                for e in reversed(service.feed(s, b.id))
            ]
            self.actions = [
                BuildMove(target=t, label=ACTION_LABELS.get(t, t)) for t in machine.allowed(b.status) if t != "pending"
            ]
            self.missing = [] if b.status == "cancelled" else service.packaging_blockers(s, b)
            self.system_config = [ConfigEntry(key=k, value=str(v)) for k, v in (b.system_config or {}).items()]
            self.temps = {
                k: "" if getattr(b, column) is None else f"{getattr(b, column):g}"
                for k, column in service.TEMPERATURE_FIELDS.items()
            }

    async def _refresh(self) -> None:
        try:
            await asyncio.to_thread(self._fetch, current_principal().tenant_id)
            self.error = ""
        except DomainError as exc:
            self.error = exc.message
        self.loaded = True

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
            lambda s: service.change_status(s, bid, target, actor=p), f"Build is now {target.replace('_', ' ')}."
        )

    @guarded("builds.write")
    async def assign_to_me(self):
        bid, p = self._build_id(), current_principal()
        return await self._do(lambda s: service.assign(s, bid, p.user_id, actor=p), "Assigned to you.")

    @guarded("builds.write")
    def set_upload_slot(self, value: str):
        self.upload_slot = value

    @guarded("builds.write")
    async def upload(self, files: list[rx.UploadFile]):
        if not files:
            return rx.toast.error("Choose a photo first.")
        bid, p, slot = self._build_id(), current_principal(), self.upload_slot
        data = await files[0].read()
        name = files[0].filename or ""
        return await self._do(
            lambda s: service.store_photo(s, bid, slot, data, filename=name, actor=p),
            f"{SLOT_LABELS.get(slot, slot)} photo saved.",
        )

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
            lambda s: service.update_test_run(s, run_id, status=status, actor=p), f"Test run marked {status}."
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
        bid = self._build_id()
        return await self._do(
            lambda s: service.request_booklets(s, service.get_build(s, bid, lock=True)), "Booklets queued."
        )

    # --- live: booklet status and photos from other devices -----------------------------------

    def _live_start(self, principal):
        self._watch_build_id = self._build_id()
        return principal.tenant_id

    def _live_here(self) -> bool:
        return self.router.url.path.endswith(self._watch_build_id)

    def _live_wanted(self, message: dict) -> bool:
        return message.get("kind") == "builds" and message.get("buildId") == self._watch_build_id


PHOTO_SLOT_OPTIONS = [(s, SLOT_LABELS[s]) for s in PHOTO_SLOTS]
