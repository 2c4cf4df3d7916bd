"""Receiving repairs: the batches table and its "New batch" dialog, a batch's
page (progress, manifest, sessions, flagged devices), the phone page that
scans devices in, the assets table and an asset's page (status, moves by
hand, hold and resume, history, photos).

Every figure and rule comes from `app.repairs.service.receiving`; the tables'
filters live in the URL (state/paging.py) and the pages follow the live
channel, so a device scanned on a phone shows on the batch's page at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import uuid
from datetime import date
from typing import Any, ClassVar

import reflex as rx

from app.platform import auth
from app.platform.db import tenant_session
from app.platform.errors import DomainError, NotFound, ValidationFailed
from app.platform.formatting import ShopFormat, of_tenant
from app.repairs import machine, service
from app.repairs.models import AssetPhoto, RepairAsset
from app.repairs.service._common import LIVE_KIND, READ, WRITE
from app.settings import get_settings
from state.base import AppState, PageVisit, current_principal, guarded, in_tenant
from state.live import Live, LiveState
from state.paging import PagedState, last_page_index
from state.util import sentence

receiving = service.receiving

BATCHES_PATH = "/repairs/batches"
ASSETS_PATH = "/repairs/assets"
BATCH_STATUS_FILTERS = ("", *machine.BATCH_STATUS.values)
ASSET_STATUS_FILTERS = ("", *machine.ASSET_STATUSES)
CONDITIONS = receiving.CONDITIONS
CONDITION_WORDS = receiving.CONDITION_WORDS
ACCESSORIES = receiving.ACCESSORIES
NO_MODEL = "none"  # the model select's "not chosen" value (a select item cannot be "")


def _files(key: str) -> str:
    return f"{get_settings().api_url.rstrip('/')}/api/v1/files/{key}" if key else ""


def _path_id(path: str, index: int) -> str:
    parts = path.strip("/").split("/")
    return parts[index] if len(parts) > index else ""


# --- views ----------------------------------------------------------------------------------------


@dataclasses.dataclass
class BatchView:
    id: str = ""
    number: str = ""
    client: str = ""
    reference: str = ""
    status: str = ""
    expected: int = 0
    received: int = 0
    flagged: int = 0
    sessions: int = 0
    expected_on: str = ""
    created: str = ""
    percent: int = 0  # received of expected, at most 100
    notes: str = ""


def _batch_view(b, client: str, fmt: ShopFormat) -> BatchView:
    percent = 100 if not b.expected_count and b.received_count else 0
    if b.expected_count:
        percent = min(100, round(100 * b.received_count / b.expected_count))
    return BatchView(
        id=str(b.id),
        number=b.number,
        client=client,
        reference=b.client_reference,
        status=b.status,
        expected=b.expected_count,
        received=b.received_count,
        flagged=b.flagged_count,
        sessions=b.session_count,
        expected_on=fmt.day(b.expected_on) if b.expected_on else "",
        created=fmt.when(b.created_at),
        percent=percent,
        notes=b.notes,
    )


@dataclasses.dataclass
class ManifestView:
    id: str = ""
    ident: str = ""  # IMEI or serial
    model: str = ""
    fault: str = ""
    value: str = ""
    asset_id: str = ""
    asset_number: str = ""


@dataclasses.dataclass
class SessionView:
    id: str = ""
    started: str = ""
    closed: str = ""
    who: str = ""
    scanned: int = 0
    flagged: int = 0
    open: bool = False


@dataclasses.dataclass
class AssetView:
    id: str = ""
    number: str = ""
    ident: str = ""
    imei: str = ""
    serial: str = ""
    model: str = ""
    client: str = ""
    batch_id: str = ""
    batch_number: str = ""
    status: str = ""
    condition: str = ""
    accessories: str = ""
    fault: str = ""
    not_on_batch: bool = False
    received: str = ""
    changed: str = ""
    held_from: str = ""
    hold_reason: str = ""
    value: str = ""


def _asset_view(a: RepairAsset, fmt: ShopFormat, client="", batch_number="", model="") -> AssetView:
    return AssetView(
        id=str(a.id),
        number=a.number,
        ident=a.imei or a.serial,
        imei=a.imei,
        serial=a.serial,
        model=model,
        client=client,
        batch_id=str(a.batch_id),
        batch_number=batch_number,
        status=a.status,
        condition=a.condition,
        accessories=", ".join(a.accessories or []),
        fault=a.fault,
        not_on_batch=a.not_on_batch,
        received=fmt.when(a.received_at),
        changed=fmt.when(a.status_changed_at),
        held_from=a.held_from,
        hold_reason=a.hold_reason,
        value=fmt.money(a.declared_value) if a.declared_value is not None else "",
    )


@dataclasses.dataclass
class HistoryView:
    at: str = ""
    status: str = ""  # the status it went to
    text: str = ""
    reason: str = ""
    who: str = ""


@dataclasses.dataclass
class PhotoView:
    id: str = ""
    url: str = ""
    thumb: str = ""
    caption: str = ""


def _photo_view(p: AssetPhoto) -> PhotoView:
    return PhotoView(id=str(p.id), url=_files(p.storage_key), thumb=_files(p.thumbnail_key), caption=p.caption)


@dataclasses.dataclass
class LineView:
    """A line of the asset page's lists (codes, worksheets, BER reviews)."""

    title: str = ""
    text: str = ""
    tone: str = "gray"


@dataclasses.dataclass
class MoveView:
    status: str = ""
    label: str = ""
    where: str = ""


# --- the batches table ----------------------------------------------------------------------------


def _form_date(raw: str, errors: dict[str, str]) -> date | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        errors["expected_on"] = "Pick a date."
        return None


class RepairBatchesState(PageVisit, LiveState, PagedState, AppState):
    PAGE_PERMISSION: ClassVar[str] = READ
    URL_PARAMS: ClassVar[tuple[str, ...]] = ("search", "status", "sort", "descending")
    LIVE: ClassVar[Live] = Live(READ, BATCHES_PATH, (LIVE_KIND,), settle=1.0)

    search: str = ""
    status: str = ""
    sort: str = "created"
    descending: bool = True
    page_size: int = 20
    rows: list[BatchView] = []
    loaded: bool = False
    error: str = ""

    # the "New batch" dialog
    new_open: bool = False
    new_errors: dict[str, str] = {}
    new_busy: bool = False
    new_key: int = 0
    clients: list[list[str]] = []  # [id, name]

    @rx.var
    def can_write(self) -> bool:
        return WRITE in self.permissions

    @rx.var
    def filtered(self) -> bool:
        return bool(self.search or self.status)

    def _filter(self) -> receiving.BatchFilter:
        return receiving.BatchFilter(
            search=self.search,
            status=self.status,
            sort=self.sort,
            descending=self.descending,
            page=self.page,
            page_size=self.page_size,
        )

    def _fetch(self, tenant_id: uuid.UUID) -> None:
        fmt = of_tenant(tenant_id)
        with tenant_session(tenant_id) as s:
            rows, total = receiving.list_batches(s, self._filter())
            if self.page and not rows and total:
                self.page = last_page_index(total, self.page_size)
                rows, total = receiving.list_batches(s, self._filter())
        self.rows = [_batch_view(r.batch, r.client_name, fmt) for r in rows]
        self.total, self.loaded, self.error = total, True, ""

    async def _refresh(self) -> None:
        try:
            await asyncio.to_thread(self._fetch, current_principal().tenant_id)
        except DomainError as exc:
            self.error, self.loaded = sentence(exc.message), True

    @guarded(READ, quiet=True)
    async def load(self):
        self._read_url()
        if self.status not in BATCH_STATUS_FILTERS:
            self.status = ""
        if self.sort not in receiving.BATCH_SORTS:
            self.sort = "created"
        if self._new_visit():  # not when the page loads itself again (a reconnect)
            self.new_open = False
        await self._refresh()
        return RepairBatchesState.watch

    @guarded(READ)
    async def set_search(self, value: str):
        return await self._search(search=value.strip()[:200])

    @guarded(READ)
    def set_status(self, value: str):
        return self._navigate(status=value if value in BATCH_STATUS_FILTERS else "")

    @guarded(READ)
    def sort_by(self, column: str):
        if column not in receiving.BATCH_SORTS:
            return None
        if column == self.sort:
            return self._navigate(descending=not self.descending)
        return self._navigate(sort=column, descending=column in ("created", "expected_on", "progress"))

    @guarded(READ)
    def clear_filters(self):
        return self._navigate(search="", status="")

    # --- a new batch ---------------------------------------------------------------------------

    @guarded(WRITE)
    async def open_new(self):
        tenant_id = current_principal().tenant_id

        def choices() -> list[list[str]]:
            with tenant_session(tenant_id) as s:
                return [[i, n] for i, n in receiving.client_choices(s)]

        self.clients = await asyncio.to_thread(choices)
        self.new_errors, self.new_busy = {}, False
        self.new_key += 1
        self.new_open = True

    @guarded(WRITE)
    def set_new_open(self, value: bool):
        self.new_open = value

    @guarded(WRITE)
    async def create(self, form: dict):
        errors: dict[str, str] = {}
        client_id = str(form.get("client_id") or "").strip()
        if not client_id:
            errors["client_id"] = "Choose the client who sends the batch."
        reference = str(form.get("reference") or "").strip()
        if not reference:
            errors["reference"] = "Give the client's reference (their order or RMA number)."
        raw_count = str(form.get("expected_count") or "").strip()
        expected: int | None = None
        if raw_count:
            try:
                expected = int(raw_count)
                if expected < 0:
                    raise ValueError
            except ValueError:
                errors["expected_count"] = "Write a whole number, 0 or more (empty: the manifest's lines)."
        expected_on = _form_date(str(form.get("expected_on") or ""), errors)
        try:
            lines = receiving.parse_manifest(str(form.get("manifest") or ""))
        except ValidationFailed as exc:
            errors["manifest"] = sentence(exc.message)
            lines = []
        if errors:
            self.new_errors = errors
            return
        p = current_principal()
        data = receiving.BatchData(
            client_id=client_id,
            client_reference=reference,
            expected_count=expected,
            expected_on=expected_on,
            notes=str(form.get("notes") or ""),
            lines=lines,
        )
        self.new_busy = True
        yield
        try:
            batch = await in_tenant(lambda s: receiving.create_batch(s, data, actor=p))
        except DomainError as exc:
            message = sentence(exc.message)
            field = "manifest" if "manifest" in exc.message else "reference" if "reference" in exc.message else "form"
            self.new_errors, self.new_busy = {field: message}, False
            return
        self.new_busy, self.new_open = False, False
        yield rx.toast.success(f"Batch {batch.number} is expected: {batch.expected_count} devices.")
        yield rx.redirect(f"/repairs/batches/{batch.id}")


# --- one batch ------------------------------------------------------------------------------------


class RepairBatchState(LiveState, AppState):
    LIVE: ClassVar[Live] = Live(READ, "", (LIVE_KIND,), settle=0.5)

    batch: BatchView = BatchView()
    manifest: list[ManifestView] = []
    sessions: list[SessionView] = []
    flagged: list[AssetView] = []
    open_session: str = ""
    loaded: bool = False
    error: str = ""
    _watched_path: str = ""

    @rx.var
    def can_write(self) -> bool:
        return WRITE in self.permissions

    @rx.var
    def waiting(self) -> int:
        """Devices still to come: the manifest lines not found yet, or the count not reached."""
        unmatched = sum(1 for m in self.manifest if not m.asset_id)
        return max(unmatched, self.batch.expected - self.batch.received, 0)

    def _batch_id(self) -> str:
        return _path_id(self.router.url.path, 2)

    def _fetch(self, tenant_id: uuid.UUID) -> None:
        fmt = of_tenant(tenant_id)
        with tenant_session(tenant_id) as s:
            d = receiving.get_batch(s, self._batch_id())
        self.batch = _batch_view(d.batch, d.client_name, fmt)
        self.manifest = [
            ManifestView(
                id=str(m.line.id),
                ident=m.line.imei or m.line.serial,
                model=m.model_name or m.line.description,
                fault=m.line.fault,
                value=fmt.money(m.line.declared_value) if m.line.declared_value is not None else "",
                asset_id=str(m.line.asset_id) if m.line.asset_id else "",
                asset_number=m.asset_number,
            )
            for m in d.manifest
        ]
        self.sessions = [
            SessionView(
                id=str(x.session.id),
                started=fmt.when(x.session.started_at),
                closed=fmt.when(x.session.closed_at) if x.session.closed_at else "",
                who=x.started_by,
                scanned=x.session.scanned_count,
                flagged=x.session.flagged_count,
                open=x.session.closed_at is None,
            )
            for x in d.sessions
        ]
        self.flagged = [_asset_view(a, fmt) for a in d.flagged]
        self.open_session = str(d.open_session_id) if d.open_session_id else ""
        self.loaded, self.error = True, ""

    async def _refresh(self) -> None:
        try:
            await asyncio.to_thread(self._fetch, current_principal().tenant_id)
        except DomainError as exc:
            self.error, self.loaded = sentence(exc.message), True

    @guarded(READ, quiet=True)
    async def load(self):
        self.loaded = False
        await self._refresh()
        return RepairBatchState.watch

    def _live_start(self, principal: auth.Principal) -> Any:
        self._watched_path = self.router.url.path.rstrip("/")
        return principal.tenant_id

    def _live_here(self) -> bool:
        return self.router.url.path.rstrip("/") == self._watched_path

    async def _live_refresh(self, principal: auth.Principal, token: str) -> None:
        async with self:
            if self._watch_token != token:
                return
            try:
                await asyncio.to_thread(self._fetch, principal.tenant_id)
            except DomainError:
                return

    @guarded(WRITE)
    def receive(self):
        return rx.redirect(f"/repairs/receive/{self._batch_id()}")

    @guarded(WRITE)
    async def mark_received(self):
        p, bid = current_principal(), self._batch_id()
        batch = await in_tenant(lambda s: receiving.mark_received(s, bid, actor=p))
        await self._refresh()
        return rx.toast.success(f"Batch {batch.number} is received: {batch.received_count} devices.")

    @guarded(WRITE)
    async def close_batch(self):
        p, bid = current_principal(), self._batch_id()
        batch = await in_tenant(lambda s: receiving.close_batch(s, bid, actor=p))
        await self._refresh()
        return rx.toast.success(f"Batch {batch.number} is closed.")


# --- the phone page: receive a batch --------------------------------------------------------------


class ReceiveState(AppState):
    batch: BatchView = BatchView()
    session_id: str = ""
    scanned: list[AssetView] = []
    models: list[list[str]] = []  # [id, name]
    model_id: str = NO_MODEL
    condition: str = ""
    accessories: list[str] = []
    notes: str = ""
    result: str = ""  # what the last scan did, in words
    result_tone: str = "green"
    target: AssetView = AssetView()  # the asset a photo goes to (the last scanned)
    photo_busy: bool = False
    busy: bool = False
    form_key: int = 0
    loaded: bool = False
    error: str = ""

    def _batch_id(self) -> str:
        return _path_id(self.router.url.path, 2)

    def _fetch_session(self, tenant_id: uuid.UUID) -> None:
        fmt = of_tenant(tenant_id)
        with tenant_session(tenant_id) as s:
            d = receiving.get_batch(s, self._batch_id())
            assets = receiving.session_assets(s, self.session_id) if self.session_id else []
        self.batch = _batch_view(d.batch, d.client_name, fmt)
        self.scanned = [_asset_view(a, fmt) for a in assets]

    @guarded(WRITE, quiet=True)
    async def load(self):
        self.loaded, self.result, self.target = False, "", AssetView()
        self.condition, self.accessories, self.notes, self.model_id = "", [], "", NO_MODEL
        p, bid = current_principal(), self._batch_id()

        def models() -> list[list[str]]:
            with tenant_session(p.tenant_id) as s:
                return [[i, n] for i, n in receiving.model_choices(s)]

        try:
            rs = await in_tenant(lambda s: receiving.start_session(s, bid, actor=p))
            self.session_id = str(rs.id)
            self.models = await asyncio.to_thread(models)
            await asyncio.to_thread(self._fetch_session, p.tenant_id)
            self.error = ""
        except DomainError as exc:
            self.error = sentence(exc.message)
            self.session_id = ""
            with contextlib.suppress(DomainError):
                await asyncio.to_thread(self._fetch_session, p.tenant_id)
        self.loaded = True

    @guarded(WRITE)
    def set_model(self, value: str):
        self.model_id = value

    @guarded(WRITE)
    def set_condition(self, value: str):
        self.condition = value if value in receiving.CONDITIONS else ""

    @guarded(WRITE)
    def toggle_accessory(self, name: str, on: bool):
        if name not in receiving.ACCESSORIES:
            return
        rest = [a for a in self.accessories if a != name]
        self.accessories = [*rest, name] if on else rest

    @guarded(WRITE)
    def set_notes(self, value: str):
        self.notes = value[:1000]

    @guarded(WRITE)
    async def scan(self, form: dict):
        code = str(form.get("code") or "").strip()
        if not code:
            self.result, self.result_tone = "Scan or type an IMEI or a serial number.", "red"
            return
        p, sid = current_principal(), self.session_id
        data = receiving.ScanData(
            code=code,
            device_model_id=None if self.model_id in ("", NO_MODEL) else self.model_id,
            condition=self.condition,
            condition_notes=self.notes,
            accessories=[a for a in receiving.ACCESSORIES if a in self.accessories],
        )
        self.busy = True
        yield
        try:
            result = await in_tenant(lambda s: receiving.scan(s, sid, data, actor=p))
        except DomainError as exc:  # the callout under the form says why (a toast would cover the list)
            self.busy = False
            self.result, self.result_tone = sentence(exc.message), "red"
            self.form_key += 1
            return
        self.busy = False
        fmt = p.fmt
        self.target = _asset_view(result.asset, fmt)
        if not result.created:
            self.result, self.result_tone = sentence(result.message), "blue"
        elif result.not_on_batch:
            self.result, self.result_tone = sentence(result.message), "amber"
        else:
            self.result, self.result_tone = sentence(result.message), "green"
            self.condition, self.accessories, self.notes = "", [], ""
        if result.created and result.not_on_batch:
            self.condition, self.accessories, self.notes = "", [], ""
        self.form_key += 1
        await asyncio.to_thread(self._fetch_session, p.tenant_id)

    @guarded(WRITE)
    def photo_for(self, asset_id: str):
        found = next((a for a in self.scanned if a.id == asset_id), None)
        if found is not None:
            self.target = found

    @guarded(WRITE)
    async def upload_photo(self, files: list[rx.UploadFile], asset_id: str = ""):
        """The photo goes to the device the page showed (its id is sent with the file)."""
        if not files:
            return None
        asset_id = asset_id or self.target.id
        if not asset_id:
            return rx.toast.error("Scan a device first: the photo goes to the device scanned last.")
        data = await files[0].read()
        found = next((a for a in self.scanned if a.id == asset_id), None)
        p, number = current_principal(), (found.number if found else self.target.number)
        self.photo_busy = True
        try:
            await in_tenant(lambda s: receiving.add_photo(s, asset_id, data, actor=p))
        except DomainError as exc:
            self.photo_busy = False
            return rx.toast.error(f"Photo of {number}: {sentence(exc.message)}")
        self.photo_busy = False
        await asyncio.to_thread(self._fetch_session, p.tenant_id)
        return rx.toast.success(f"Photo of {number} saved.")

    @guarded(WRITE)
    async def close_session(self):
        if not self.session_id:
            return rx.redirect(f"/repairs/batches/{self._batch_id()}")
        p, sid = current_principal(), self.session_id
        batch = await in_tenant(lambda s: receiving.close_session(s, sid, actor=p))
        self.session_id = ""
        words = "received in full" if batch.status == "received" else "still receiving"
        return [
            rx.toast.success(f"Session closed: {batch.received_count} of {batch.expected_count} in, batch {words}."),
            rx.redirect(f"/repairs/batches/{batch.id}"),
        ]


# --- the assets table -----------------------------------------------------------------------------


class RepairAssetsState(LiveState, PagedState, AppState):
    PAGE_PERMISSION: ClassVar[str] = READ
    URL_PARAMS: ClassVar[tuple[str, ...]] = ("search", "status", "sort", "descending")
    LIVE: ClassVar[Live] = Live(READ, ASSETS_PATH, (LIVE_KIND,), settle=1.0)

    search: str = ""
    status: str = ""
    sort: str = "received"
    descending: bool = True
    page_size: int = 25
    rows: list[AssetView] = []
    counts: dict[str, int] = {}
    all_count: int = 0
    loaded: bool = False
    error: str = ""

    @rx.var
    def filtered(self) -> bool:
        return bool(self.search or self.status)

    def _filter(self) -> receiving.AssetFilter:
        return receiving.AssetFilter(
            search=self.search,
            status=self.status,
            sort=self.sort,
            descending=self.descending,
            page=self.page,
            page_size=self.page_size,
        )

    def _fetch(self, tenant_id: uuid.UUID) -> None:
        fmt = of_tenant(tenant_id)
        with tenant_session(tenant_id) as s:
            rows, total = receiving.list_assets(s, self._filter())
            if self.page and not rows and total:
                self.page = last_page_index(total, self.page_size)
                rows, total = receiving.list_assets(s, self._filter())
            counts = receiving.asset_counts(s)
        self.rows = [_asset_view(r.asset, fmt, r.client_name, r.batch_number, r.model_name) for r in rows]
        self.counts, self.all_count = counts, sum(counts.values())
        self.total, self.loaded, self.error = total, True, ""

    async def _refresh(self) -> None:
        try:
            await asyncio.to_thread(self._fetch, current_principal().tenant_id)
        except DomainError as exc:
            self.error, self.loaded = sentence(exc.message), True

    @guarded(READ, quiet=True)
    async def load(self):
        self._read_url()
        if self.status not in ASSET_STATUS_FILTERS:
            self.status = ""
        if self.sort not in receiving.ASSET_SORTS:
            self.sort = "received"
        await self._refresh()
        return RepairAssetsState.watch

    @guarded(READ)
    async def set_search(self, value: str):
        return await self._search(search=value.strip()[:200])

    @guarded(READ)
    def set_status(self, value: str):
        return self._navigate(status=value if value in ASSET_STATUS_FILTERS and value != "all" else "")

    @guarded(READ)
    def sort_by(self, column: str):
        if column not in receiving.ASSET_SORTS:
            return None
        if column == self.sort:
            return self._navigate(descending=not self.descending)
        return self._navigate(sort=column, descending=column in ("received", "changed"))

    @guarded(READ)
    def clear_filters(self):
        return self._navigate(search="", status="")


# --- one asset ------------------------------------------------------------------------------------


class RepairAssetState(PageVisit, LiveState, AppState):
    LIVE: ClassVar[Live] = Live(READ, "", (LIVE_KIND,), settle=0.5)

    asset: AssetView = AssetView()
    history: list[HistoryView] = []
    photos: list[PhotoView] = []
    codes: list[LineView] = []
    worksheets: list[LineView] = []
    reviews: list[LineView] = []
    moves: list[MoveView] = []  # made here, as buttons
    elsewhere: list[MoveView] = []  # made on a workbench
    workbench_label: str = ""  # where the next step is taken (a button)
    workbench_href: str = ""
    loaded: bool = False
    error: str = ""
    hold_open: bool = False
    hold_error: str = ""
    photo_busy: bool = False
    _watched_path: str = ""

    @rx.var
    def can_write(self) -> bool:
        return WRITE in self.permissions

    def _asset_id(self) -> str:
        return _path_id(self.router.url.path, 2)

    def _fetch(self, tenant_id: uuid.UUID) -> None:
        fmt = of_tenant(tenant_id)
        with tenant_session(tenant_id) as s:
            d = receiving.get_asset(s, self._asset_id())
        r, label = d.row, machine.ASSET_STATUS.label
        self.asset = _asset_view(r.asset, fmt, r.client_name, r.batch_number, r.model_name)
        self.history = [
            HistoryView(
                at=fmt.when(h.change.changed_at),
                status=h.change.to_status,
                text=(
                    f"{label(h.change.from_status)} → {label(h.change.to_status)}"
                    if h.change.from_status
                    else label(h.change.to_status)
                ),
                reason=sentence(h.change.reason) if h.change.reason else "",
                who=h.who,
            )
            for h in reversed(d.history)
        ]
        self.photos = [_photo_view(p) for p in d.photos]
        self.codes = [
            LineView(c.code, f"{c.name} · {c.source.replace('_', ' ')}", "green" if c.done else "gray") for c in d.codes
        ]
        self.worksheets = [
            LineView(w.number, machine.WORKSHEET_STATUS.label(w.status), machine.WORKSHEET_STATUS.color(w.status))
            for w in d.worksheets
        ]
        self.reviews = [
            LineView(
                fmt.day(b.created_at),
                f"{b.cost_percent}% of the value · "
                + (machine.BER_DECISION.label(b.decision) if b.decision else "waiting for a decision"),
                machine.BER_DECISION.color(b.decision) if b.decision else "orange",
            )
            for b in d.ber_reviews
        ]
        self.moves = [
            MoveView(
                m,
                f"Resume ({machine.asset_words(m)})"
                if r.asset.status == "on_hold"
                else "Start triage"
                if m == "in_triage"
                else "Put on hold"
                if m == "on_hold"
                else machine.ASSET_STATUS.label(m),
            )
            for m in d.hand_moves
        ]
        self.elsewhere = [MoveView(m, machine.ASSET_STATUS.label(m), where) for m, where in d.other_moves]
        self.workbench_label, self.workbench_href = receiving.workbench_for(r.asset) or ("", "")
        self.loaded, self.error = True, ""

    async def _refresh(self) -> None:
        try:
            await asyncio.to_thread(self._fetch, current_principal().tenant_id)
        except DomainError as exc:
            self.error, self.loaded = sentence(exc.message), True

    @guarded(READ, quiet=True)
    async def load(self):
        if self._new_visit():  # not when the page loads itself again (a reconnect)
            self.loaded, self.hold_open = False, False
        await self._refresh()
        return RepairAssetState.watch

    def _live_start(self, principal: auth.Principal) -> Any:
        self._watched_path = self.router.url.path.rstrip("/")
        return principal.tenant_id

    def _live_here(self) -> bool:
        return self.router.url.path.rstrip("/") == self._watched_path

    async def _live_refresh(self, principal: auth.Principal, token: str) -> None:
        async with self:
            if self._watch_token != token:
                return
            try:
                await asyncio.to_thread(self._fetch, principal.tenant_id)
            except DomainError:
                return

    @guarded(WRITE)
    async def move(self, target: str):
        if target == "on_hold":
            self.hold_open, self.hold_error = True, ""
            return None
        p, aid, number = current_principal(), self._asset_id(), self.asset.number
        held = self.asset.status == "on_hold"
        try:
            if held:
                await in_tenant(lambda s: receiving.resume(s, aid, actor=p))
            else:
                await in_tenant(lambda s: receiving.move(s, aid, target, actor=p))
        except DomainError as exc:
            await self._refresh()
            return rx.toast.error(sentence(exc.message))
        await self._refresh()
        return rx.toast.success(f"{number} is now {machine.asset_words(self.asset.status)}.")

    @guarded(WRITE)
    def set_hold_open(self, value: bool):
        self.hold_open, self.hold_error = value, ""

    @guarded(WRITE)
    async def hold(self, form: dict):
        reason = str(form.get("reason") or "").strip()
        if not reason:
            self.hold_error = "Say why the asset waits (the client, a question, a part…)."
            return None
        p, aid, number = current_principal(), self._asset_id(), self.asset.number
        try:
            await in_tenant(lambda s: receiving.hold(s, aid, reason, actor=p))
        except DomainError as exc:
            self.hold_error = sentence(exc.message)
            return None
        self.hold_open = False
        await self._refresh()
        return rx.toast.success(f"{number} is on hold.")

    @guarded(WRITE)
    async def upload_photo(self, files: list[rx.UploadFile]):
        if not files:
            return None
        data = await files[0].read()
        p, aid = current_principal(), self._asset_id()
        self.photo_busy = True
        try:
            await in_tenant(lambda s: receiving.add_photo(s, aid, data, actor=p))
        except DomainError as exc:
            self.photo_busy = False
            return rx.toast.error(sentence(exc.message))
        self.photo_busy = False
        await self._refresh()
        return rx.toast.success("Photo saved.")

    @guarded(WRITE)
    async def delete_photo(self, photo_id: str):
        p = current_principal()
        with contextlib.suppress(NotFound):
            await in_tenant(lambda s: receiving.delete_photo(s, photo_id, actor=p))
        await self._refresh()
        return rx.toast.success("Photo deleted.")
