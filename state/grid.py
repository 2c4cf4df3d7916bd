"""/grid (staff): the Gridfinity generator and the generation jobs.

The generator takes a drawer in millimetres, magnets, a connector and the
printer (the shop's, a bed preset, or a custom bed), and shows what it
makes as it is typed: plates, unique shapes, grams, print time and price
(the service's instant quote), and the plate set in 3D (the API's preview
GLB, fetched by the browser). "Generate" starts a staff job in the worker.

The jobs table lists plate sets (orders', staff's, the storefront's) with
their progress, the step that failed and why, and Retry; its filter, search
and sort live in the URL (state/paging.py). A job's dialog lists its
plates with their downloads, the rendered picture and the 3D view of the
generated pieces. The page follows the grid's live messages, so a job
moves through its steps on screen without a reload.

`drawer_words`, `print_time` and `grams` are the words both grid pages
(this and the storefront's) use for a plate set.
"""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import ClassVar, cast
from urllib.parse import urlencode

import reflex as rx
from sqlmodel import Session

from app.grid import parsing, service
from app.grid.geometry.printers import BED_PRESETS, CUSTOM
from app.grid.geometry.spec import Connector, GridOptions, Magnets
from app.platform import auth
from app.platform.db import tenant_session
from app.platform.errors import DomainError, ValidationFailed
from app.platform.formatting import ShopFormat
from app.settings import get_settings
from state.base import AppState, current_principal, guarded, in_tenant
from state.live import Live, LiveState
from state.paging import PagedState, last_page_index
from state.util import field_errors, sentence

JOB_STATUS = service.JOB_STATUS  # the one status table (labels, colours) of grid jobs
MAGNET_WORDS = {"none": "No magnets", "press-fit": "Press-fit magnets"}
CONNECTOR_WORDS = {"intersection-puzzle": "Intersection puzzle", "edge-puzzle": "Edge puzzle", "none": "No connectors"}
SHOP_PRINTER = "shop"  # the printer select's value for "the shop's printer" (a select item needs a value)
SORT_COLUMNS = tuple(service.SORTS)


# --- words both grid pages use ------------------------------------------------------------------


def mm(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def drawer_words(width_mm: float, depth_mm: float) -> str:
    """ "371 × 254 mm"."""
    return f"{mm(width_mm)} × {mm(depth_mm)} mm"


def print_time(seconds: float | None) -> str:
    """A print's length as a printer shows it: "9 h 13 min", "45 min"; "—" unknown."""
    if seconds is None:
        return "—"
    minutes = max(1, round(seconds / 60))
    hours, minutes = divmod(minutes, 60)
    if hours >= 24:
        days, hours = divmod(hours, 24)
        return f"{days} d {hours} h"
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


def grams(value: float | None, fmt: ShopFormat) -> str:
    return "—" if value is None else f"{fmt.number(value)} g"


def options_words(magnets: str, connector: str) -> str:
    return f"{MAGNET_WORDS.get(magnets, magnets)} · {CONNECTOR_WORDS.get(connector, connector)}"


def length_error(text: str, what: str, max_mm: float) -> tuple[float, str]:
    """A drawer length typed in a form: (mm, "") or (0, the error in words)."""
    if not text.strip():
        return 0.0, f"{what}: fill in the millimetres."
    try:
        value = parsing.parse_mm(text, what)
        return parsing.check_length(value, what, max_dimension_mm=max_mm), ""
    except parsing.GridInputError as exc:
        return 0.0, sentence(exc.message)


def api(path: str, **query: object) -> str:
    """An address of our API (another origin than the page in development)."""
    base = get_settings().api_url.rstrip("/")
    clean = {k: str(v) for k, v in query.items() if v not in (None, "")}
    return f"{base}/api/v1{path}" + (f"?{urlencode(clean)}" if clean else "")


# --- what the page shows ------------------------------------------------------------------------


@dataclasses.dataclass
class JobView:
    """A row of the jobs table."""

    id: str = ""
    status: str = ""
    origin: str = ""
    order_id: str = ""
    order_number: str = ""
    sku: str = ""
    drawer: str = ""
    options: str = ""
    printer: str = ""
    segments: int = 0
    unique_shapes: int = 0
    grams: str = "—"
    print_time: str = "—"
    price: str = "—"
    progress: int = 0
    running: bool = False
    step: str = ""  # the step running now, in words
    failed_step: str = ""  # in words
    error: str = ""
    note: str = ""
    attention: bool = False
    created: str = ""
    ago: str = ""
    can_retry: bool = False


@dataclasses.dataclass
class Counts:
    all: int = 0
    queued: int = 0
    processing: int = 0
    completed: int = 0
    failed: int = 0
    expired: int = 0


@dataclasses.dataclass
class QuoteView:
    """The generator's instant quote ("" price: nothing to quote yet)."""

    plates: int = 0
    unique_shapes: int = 0
    cells: str = ""  # "8.5 × 6 cells"
    plate: str = ""  # the plate's outer size, "371 × 254 mm"
    grams: str = ""
    print_time: str = ""
    price: str = ""
    measured: bool = False  # grams and time from sliced twins, not the estimate
    problems: list[str] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class SegmentView:
    number: int = 0
    label: str = ""
    cells: str = ""
    size: str = ""
    grams: str = "—"
    print_time: str = "—"
    status: str = ""
    stl_href: str = ""  # "" not there yet
    gcode_href: str = ""


@dataclasses.dataclass
class JobDetail:
    job: JobView = dataclasses.field(default_factory=JobView)
    segments: list[SegmentView] = dataclasses.field(default_factory=list)
    files: bool = False  # the pieces exist: downloads, the picture and the 3D view
    zip_href: str = ""
    threemf_href: str = ""
    png_src: str = ""
    glb_src: str = ""
    updated: str = ""


@dataclasses.dataclass
class Choice:
    value: str = ""
    label: str = ""


@dataclasses.dataclass
class GeneratorFacts:
    """What the generator needs to know of the shop."""

    enabled: bool = False
    printer: str = ""  # the shop's printer, in words
    bed: str = ""  # its bed
    max_mm: float = 1000.0
    max_words: str = "1,000 mm"
    max_sync_cells: int = 256
    currency: str = ""


def job_view(r: service.JobRow, fmt: ShopFormat) -> JobView:
    return JobView(
        id=str(r.id),
        status=r.status,
        origin=r.origin_label,
        order_id=str(r.order_id) if r.order_id else "",
        order_number=r.order_number,
        sku=r.sku,
        drawer=drawer_words(r.drawer_width_mm, r.drawer_depth_mm),
        options=options_words(r.magnets, r.connector),
        printer=r.printer,
        segments=r.segments,
        unique_shapes=r.unique_shapes,
        grams=grams(r.filament_g, fmt),
        print_time=print_time(r.print_seconds),
        price=fmt.money(_amount(r.price), r.currency or None) if r.price else "—",
        progress=max(0, min(100, r.progress)),
        running=r.status == "PROCESSING",
        step=sentence(service.STEP_WORDS[r.step]) if r.status == "PROCESSING" and r.step in service.STEP_WORDS else "",
        failed_step=service.STEP_WORDS.get(r.failed_step, r.failed_step),
        error=sentence(r.error) if r.error else "",
        note=sentence(r.note) if r.note else "",
        attention=r.needs_attention,
        created=fmt.when(r.created_at),
        ago=fmt.ago(r.created_at),
        can_retry=r.status == "FAILED",
    )


def _amount(text: str) -> Decimal | None:
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


def quote_view(q: service.Quote, fmt: ShopFormat) -> QuoteView:
    return QuoteView(
        plates=q.segments,
        unique_shapes=q.unique_shapes,
        cells=f"{q.cells_x:g} × {q.cells_y:g} cells",
        plate=drawer_words(q.plate_width_mm, q.plate_depth_mm),
        grams=grams(q.filament_g, fmt),
        print_time=print_time(q.print_seconds),
        price=fmt.money(q.price, q.currency or None),
        measured=q.measured_pieces > 0,
        problems=[sentence(p) for p in q.problems],
    )


def segment_view(job_id: str, r: service.SegmentRow, fmt: ShopFormat) -> SegmentView:
    return SegmentView(
        number=r.number,
        label=r.label,
        cells=f"{r.cells_x:g} × {r.cells_y:g}",
        size=drawer_words(r.width_mm, r.depth_mm) if r.width_mm else "—",
        grams=grams(r.filament_g, fmt),
        print_time=print_time(r.print_seconds),
        status=r.status,
        stl_href=api(f"/grid/jobs/{job_id}/files/stl", number=r.number) if r.has_stl else "",
        gcode_href=api(f"/grid/jobs/{job_id}/files/gcode", number=r.number) if r.has_gcode else "",
    )


def detail_of(s: Session, job_id: str, fmt: ShopFormat) -> JobDetail:
    row = service.get_job_row(s, job_id)
    jid = str(row.id)
    segments = [segment_view(jid, r, fmt) for r in service.job_segments(s, row.id)]
    files = bool(segments) and all(seg.stl_href for seg in segments) and row.status != "EXPIRED"
    stamp = int(row.updated_at.timestamp())  # a new picture once the job changed
    return JobDetail(
        job=job_view(row, fmt),
        segments=segments,
        files=files,
        zip_href=api(f"/grid/jobs/{jid}/files/zip") if files else "",
        threemf_href=api(f"/grid/jobs/{jid}/files/3mf") if files else "",
        png_src=api(f"/grid/jobs/{jid}/preview.png", v=stamp) if files else "",
        glb_src=api(f"/grid/jobs/{jid}/plates.glb", v=stamp) if files else "",
        updated=fmt.when(row.updated_at),
    )


def printer_choices(shop_printer: str) -> list[Choice]:
    return [
        Choice(SHOP_PRINTER, f"The shop's printer ({shop_printer})"),
        *[Choice(key, f"{label} · {mm(w)} × {mm(d)} mm") for key, (label, w, d) in BED_PRESETS.items()],
        Choice(CUSTOM, "Custom bed…"),
    ]


def facts_of(s: Session) -> GeneratorFacts:
    st = service.grid_settings(s)
    p = st.profile()
    return GeneratorFacts(
        enabled=st.enabled,
        printer=p.name,
        bed=f"{mm(p.bed_width_mm)} × {mm(p.bed_depth_mm)} mm",
        max_mm=st.max_dimension_mm,
        max_words=f"{st.max_dimension_mm:,.0f} mm",
        max_sync_cells=st.max_sync_grid_size,
        currency=st.currency,
    )


# --- the generator's form -------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class GeneratorInput:
    width: str = ""
    depth: str = ""
    magnets: str = "none"
    connector: str = "intersection-puzzle"
    printer: str = SHOP_PRINTER
    bed_width: str = ""
    bed_depth: str = ""


@dataclasses.dataclass
class PresetView:
    """A preset in the presets dialog: what it sets in words, and whose it is."""

    id: str = ""
    name: str = ""
    description: str = ""
    words: str = ""
    kind: str = ""  # System · Ours, shared · Ours, private · Shared by another shop
    mine: bool = False


_PRESET_FORM_KEYS = ("drawer_width_mm", "drawer_depth_mm", "magnets", "connector")


def preset_words(params: dict) -> str:
    """What a preset sets, as a person reads it ("371 × 254 mm · Press-fit magnets · Edge puzzle")."""
    parts: list[str] = []
    w, d = params.get("drawer_width_mm"), params.get("drawer_depth_mm")
    if isinstance(w, int | float) and isinstance(d, int | float):
        parts.append(f"{mm(float(w))} × {mm(float(d))} mm")
    if params.get("magnets") in MAGNET_WORDS:
        parts.append(MAGNET_WORDS[str(params["magnets"])])
    if params.get("connector") in CONNECTOR_WORDS:
        parts.append(CONNECTOR_WORDS[str(params["connector"])])
    more = [k for k in params if k not in _PRESET_FORM_KEYS]
    if more:
        parts.append(f"{len(more)} more setting{'s' if len(more) > 1 else ''}")
    return " · ".join(parts) or "No settings"


def _whose(r: service.PresetRow) -> str:
    if r.is_system:
        return "System"
    if r.mine:
        return "Ours, shared" if r.is_public else "Ours, private"
    return "Shared by another shop"


def presets_of(s: Session) -> tuple[list[Choice], list[PresetView]]:
    rows = service.list_presets(s)
    views = [
        PresetView(
            id=str(r.id),
            name=r.name,
            description=r.description,
            words=preset_words(r.parameters),
            kind=_whose(r),
            mine=r.mine,
        )
        for r in rows
    ]
    return [Choice(str(r.id), r.name) for r in rows], views


def preset_parameters(g: GeneratorInput) -> tuple[dict, dict[str, str]]:
    """The generator's drawer as a preset's parameters, or errors by field."""
    params: dict = {"magnets": g.magnets, "connector": g.connector}
    errors: dict[str, str] = {}
    for key, value in (("drawer_width_mm", g.width), ("drawer_depth_mm", g.depth)):
        try:
            params[key] = float(value.replace(",", "."))
        except ValueError:
            errors["_"] = "Type the drawer's width and depth in the generator first: the preset keeps them."
    return params, errors


@dataclasses.dataclass
class Checked:
    """The form read against the shop's rules: options to quote, or errors by field."""

    options: GridOptions | None
    profile_name: str
    errors: dict[str, str]


def check_input(g: GeneratorInput, facts: GeneratorFacts) -> Checked:
    errors: dict[str, str] = {}
    width, e = length_error(g.width, "Drawer width", facts.max_mm)
    if e:
        errors["width"] = e
    depth, e = length_error(g.depth, "Drawer depth", facts.max_mm)
    if e:
        errors["depth"] = e
    magnets = cast(Magnets, g.magnets if g.magnets in MAGNET_WORDS else "none")
    connector = cast(Connector, g.connector if g.connector in CONNECTOR_WORDS else "intersection-puzzle")
    bed = {"bed_width_mm": GridOptions.bed_width_mm, "bed_depth_mm": GridOptions.bed_depth_mm}
    profile_name = "" if g.printer == SHOP_PRINTER else g.printer
    if g.printer == CUSTOM:
        for key, text, what in (("bed_width", g.bed_width, "Bed width"), ("bed_depth", g.bed_depth, "Bed depth")):
            try:
                bed[key + "_mm"] = parsing.check_bed(parsing.parse_mm(text or "", what), what)
            except parsing.GridInputError as exc:
                errors[key] = sentence(exc.message)
    elif profile_name and profile_name not in BED_PRESETS:
        errors["printer"] = "Choose a printer from the list."
    if errors:
        return Checked(None, profile_name, errors)
    options = GridOptions(
        drawer_width_mm=width,
        drawer_depth_mm=depth,
        magnets=magnets,
        connector=connector,
        bed_width_mm=bed["bed_width_mm"],
        bed_depth_mm=bed["bed_depth_mm"],
    )
    return Checked(options, profile_name, {})


def preview_src(options: GridOptions, profile_name: str) -> str:
    custom = profile_name == CUSTOM
    return api(
        "/grid/preview.glb",
        width=mm(options.drawer_width_mm),
        depth=mm(options.drawer_depth_mm),
        magnets=options.magnets,
        connector=options.connector,
        printer=profile_name,
        bedWidth=mm(options.bed_width_mm) if custom else "",
        bedDepth=mm(options.bed_depth_mm) if custom else "",
    )


@dataclasses.dataclass
class Quoted:
    quote: QuoteView
    errors: dict[str, str]
    preview: str
    preview_note: str


def _quote(s: Session, g: GeneratorInput, fmt: ShopFormat) -> Quoted:
    facts = facts_of(s)
    checked = check_input(g, facts)
    if checked.options is None:
        return Quoted(QuoteView(), checked.errors, "", "")
    try:
        q = service.quote_for(s, checked.options, profile_name=checked.profile_name)
    except ValidationFailed as exc:
        return Quoted(QuoteView(), {"form": sentence(exc.message)}, "", "")
    cells = q.cells_x * q.cells_y
    if q.problems:
        return Quoted(quote_view(q, fmt), {}, "", "")
    if cells > facts.max_sync_cells:
        note = (
            f"{cells:g} cells is more than the instant 3D preview draws (up to {facts.max_sync_cells}): "
            "generate it, and its plates show in the job."
        )
        return Quoted(quote_view(q, fmt), {}, "", note)
    return Quoted(quote_view(q, fmt), {}, preview_src(checked.options, checked.profile_name), "")


# --- the page's view ----------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class GridView:
    status: str = ""
    search: str = ""
    sort: str = "created"
    descending: bool = True
    page: int = 0
    page_size: int = 20


@dataclasses.dataclass
class Snapshot:
    rows: list[JobView]
    total: int
    page: int
    counts: Counts
    detail: JobDetail | None
    last: JobView | None  # the job this user last generated here


def _snapshot(tenant_id: uuid.UUID, fmt: ShopFormat, v: GridView, detail_id: str, last_id: str = "") -> Snapshot:
    with tenant_session(tenant_id) as s:
        status = v.status.upper()
        found, total = service.list_jobs(
            s, status=status, search=v.search, sort=v.sort, descending=v.descending, page=v.page, page_size=v.page_size
        )
        page = v.page
        if page and not found and total:  # past the last page
            page = last_page_index(total, v.page_size)
            found, total = service.list_jobs(
                s,
                status=status,
                search=v.search,
                sort=v.sort,
                descending=v.descending,
                page=page,
                page_size=v.page_size,
            )
        c = service.job_counts(s)
        counts = Counts(
            all=sum(c.values()),
            queued=c.get("QUEUED", 0),
            processing=c.get("PROCESSING", 0),
            completed=c.get("COMPLETED", 0),
            failed=c.get("FAILED", 0),
            expired=c.get("EXPIRED", 0),
        )
        detail = None
        if detail_id:
            try:
                detail = detail_of(s, detail_id, fmt)
            except DomainError:
                detail = None
        last = None
        if last_id:
            try:
                last = job_view(service.get_job_row(s, last_id), fmt)
            except DomainError:
                last = None
        return Snapshot([job_view(r, fmt) for r in found], total, page, counts, detail, last)


STATUS_FILTERS = ("", *(s.lower() for s in service.JOB_STATUSES))


class GridState(LiveState, PagedState, AppState):
    PAGE_PERMISSION: ClassVar[str] = "grid.read"
    URL_PARAMS: ClassVar[tuple[str, ...]] = ("status", "search", "sort", "descending")
    LIVE: ClassVar[Live] = Live("grid.read", "/grid", (service.LIVE_KIND,), settle=1.0)

    # the jobs table
    status: str = ""
    search: str = ""
    sort: str = "created"
    descending: bool = True
    page_size: int = 20
    rows: list[JobView] = []
    counts: Counts = Counts()
    loaded: bool = False
    error: str = ""
    updated_at: str = ""

    # a job's dialog
    detail_id: str = ""
    detail: JobDetail = JobDetail()
    detail_error: str = ""

    # the generator
    facts: GeneratorFacts = GeneratorFacts()
    printers: list[Choice] = []
    presets: list[Choice] = []
    gen: GeneratorInput = GeneratorInput()
    gen_errors: dict[str, str] = {}
    quote: QuoteView = QuoteView()
    preview: str = ""
    preview_note: str = ""
    generating: bool = False
    form_key: int = 0  # a preset fills the form: its fields start again from the state
    preset_rows: list[PresetView] = []
    presets_open: bool = False
    preset_errors: dict[str, str] = {}
    preset_key: int = 0  # the save form starts empty again after a save
    last_job: JobView = JobView()  # the job generated last from this page ("" id: none yet)

    @rx.var
    def can_write(self) -> bool:
        return "grid.write" in self.permissions

    @rx.var
    def can_settle(self) -> bool:
        return "settings.write" in self.permissions

    @rx.var
    def filtered(self) -> bool:
        return bool(self.search or self.status)

    @rx.var
    def detail_open(self) -> bool:
        return self.detail_id != ""

    @rx.var
    def custom_bed(self) -> bool:
        return self.gen.printer == CUSTOM

    @rx.var
    def quoted(self) -> bool:
        return self.quote.price != ""

    @rx.var
    def can_generate(self) -> bool:
        return self.quote.price != "" and not self.quote.problems and not self.gen_errors

    # --- loading -------------------------------------------------------------------------------

    def _view(self) -> GridView:
        return GridView(self.status, self.search, self.sort, self.descending, self.page, self.page_size)

    def _clean_view(self) -> None:
        if self.status not in STATUS_FILTERS:
            self.status = ""
        if self.sort not in SORT_COLUMNS:
            self.sort = "created"

    def _apply(self, snap: Snapshot, fmt: ShopFormat) -> None:
        self.rows, self.total, self.page, self.counts = snap.rows, snap.total, snap.page, snap.counts
        self.page_ids = [r.id for r in snap.rows]
        if snap.last is not None:
            self.last_job = snap.last
        if self.detail_id:
            if snap.detail is None:
                self.detail_error = "This job is no longer there."
            else:
                self.detail, self.detail_error = snap.detail, ""
        self.updated_at = fmt.clock(datetime.now(UTC), seconds=True)
        self.error, self.loaded = "", True

    async def _refresh(self) -> None:
        p = current_principal()
        try:
            snap = await asyncio.to_thread(
                _snapshot, p.tenant_id, p.fmt, self._view(), self.detail_id, self.last_job.id
            )
        except DomainError as exc:
            self.error, self.loaded = sentence(exc.message), True
            return
        self._apply(snap, p.fmt)

    @guarded("grid.read", quiet=True)
    async def load(self):
        self._read_url()
        self._clean_view()
        self.detail_id = ""

        def facts(s: Session) -> tuple[GeneratorFacts, tuple[list[Choice], list[PresetView]]]:
            return facts_of(s), presets_of(s)

        self.facts, (self.presets, self.preset_rows) = await in_tenant(facts)
        self.printers = printer_choices(self.facts.printer)
        await self._refresh()
        if self.gen.width or self.gen.depth:
            await self._requote()
        return GridState.watch

    # --- the table: each change of view goes through the URL ----------------------------------

    @guarded("grid.read")
    def set_status(self, value: str):
        return self._navigate(status=value if value in STATUS_FILTERS else "")

    @guarded("grid.read")
    async def set_search(self, value: str):
        return await self._search(search=value.strip()[:200])

    @guarded("grid.read")
    def clear_filters(self):
        return self._navigate(status="", search="")

    @guarded("grid.read")
    def sort_by(self, column: str):
        if column not in SORT_COLUMNS:
            return None
        if self.sort == column:
            return self._navigate(descending=not self.descending)
        return self._navigate(sort=column, descending=column in ("created", "updated", "progress", "segments"))

    # --- a job's dialog -----------------------------------------------------------------------

    @guarded("grid.read")
    async def open_job(self, job_id: str):
        p = current_principal()
        try:
            uuid.UUID(job_id)
            detail = await in_tenant(lambda s: detail_of(s, job_id, p.fmt))
        except (ValueError, DomainError):
            return rx.toast.error("This job is no longer there.")
        self.detail, self.detail_error, self.detail_id = detail, "", job_id
        return None

    @guarded("grid.read")
    def set_detail_open(self, value: bool):
        if not value:
            self.detail_id = ""

    # --- acting on jobs -----------------------------------------------------------------------

    @guarded("grid.write")
    async def retry(self, job_id: str):
        p = current_principal()
        try:
            uuid.UUID(job_id)
        except ValueError:
            return rx.toast.error("This job is no longer there.")
        try:
            row = await in_tenant(lambda s: _retry(s, job_id, p))
        except DomainError as exc:
            await self._refresh()
            return rx.toast.error(sentence(exc.message))
        await self._refresh()
        return rx.toast.success(f"Retrying {row.drawer}: it picks up where it stopped.")

    # --- the generator ------------------------------------------------------------------------

    async def _requote(self) -> None:
        p, g = current_principal(), self.gen
        result = await in_tenant(lambda s: _quote(s, g, p.fmt))
        self.quote, self.gen_errors = result.quote, result.errors
        self.preview, self.preview_note = result.preview, result.preview_note

    async def _change(self, **changes: str) -> None:
        self.gen = dataclasses.replace(self.gen, **{k: v.strip()[:40] for k, v in changes.items()})
        await self._requote()

    @guarded("grid.read")
    async def set_width(self, value: str):
        await self._change(width=value)

    @guarded("grid.read")
    async def set_depth(self, value: str):
        await self._change(depth=value)

    @guarded("grid.read")
    async def set_magnets(self, value: str | list[str]):
        chosen = value[0] if isinstance(value, list) and value else value
        await self._change(magnets=chosen if isinstance(chosen, str) and chosen in MAGNET_WORDS else "none")

    @guarded("grid.read")
    async def set_connector(self, value: str):
        await self._change(connector=value if value in CONNECTOR_WORDS else "intersection-puzzle")

    @guarded("grid.read")
    async def set_printer(self, value: str):
        await self._change(printer=value)

    @guarded("grid.read")
    async def set_bed_width(self, value: str):
        await self._change(bed_width=value)

    @guarded("grid.read")
    async def set_bed_depth(self, value: str):
        await self._change(bed_depth=value)

    @guarded("grid.read")
    async def use_preset(self, preset_id: str):
        """Fill the form from a saved preset (its size, magnets and connector)."""
        try:
            uuid.UUID(preset_id)
        except ValueError:
            return None
        try:
            params = await in_tenant(lambda s: dict(service.get_preset(s, preset_id).parameters))
        except DomainError as exc:
            return rx.toast.error(sentence(exc.message))
        changes: dict[str, str] = {}
        for key, name in (("drawer_width_mm", "width"), ("drawer_depth_mm", "depth")):
            if isinstance(params.get(key), int | float):
                changes[name] = mm(float(params[key]))
        if params.get("magnets") in MAGNET_WORDS:
            changes["magnets"] = str(params["magnets"])
        if params.get("connector") in CONNECTOR_WORDS:
            changes["connector"] = str(params["connector"])
        await self._change(**changes)
        self.form_key += 1
        return None

    # --- presets: the shop's own saved drawers ---------------------------------------------------

    @guarded("grid.read")
    async def open_presets(self):
        self.presets, self.preset_rows = await in_tenant(presets_of)
        self.preset_errors, self.presets_open = {}, True

    @guarded("grid.read")
    def set_presets_open(self, value: bool):
        self.presets_open = value

    @guarded("grid.write")
    async def save_preset(self, form: dict):
        """Save the generator's drawer (size, magnets, connectors) as one of the shop's presets."""
        p = current_principal()
        params, errors = preset_parameters(self.gen)
        name = str(form.get("name") or "")
        if not name.strip():
            errors["name"] = "Give the preset a name."
        if errors:
            self.preset_errors = errors
            return None
        description, public = str(form.get("description") or ""), form.get("public") in ("on", True, "true")

        def save(s: Session) -> tuple[service.PresetRow, tuple[list[Choice], list[PresetView]]]:
            row = service.save_preset(
                s, name=name, parameters=params, description=description, is_public=public, actor=p
            )
            return row, presets_of(s)

        try:
            row, (self.presets, self.preset_rows) = await in_tenant(save)
        except DomainError as exc:
            self.preset_errors = field_errors(exc, whole="_")
            return None
        self.preset_errors, self.preset_key = {}, self.preset_key + 1
        return rx.toast.success(f"Preset “{row.name}” saved: it is in the list to start from.")

    @guarded("grid.write")
    async def delete_preset(self, preset_id: str):
        p = current_principal()
        try:
            uuid.UUID(preset_id)
        except ValueError:
            return None
        name = next((r.name for r in self.preset_rows if r.id == preset_id), "The preset")

        def delete(s: Session) -> tuple[list[Choice], list[PresetView]]:
            service.delete_preset(s, preset_id, actor=p)
            return presets_of(s)

        try:
            self.presets, self.preset_rows = await in_tenant(delete)
        except DomainError as exc:
            return rx.toast.error(sentence(exc.message))
        return rx.toast.success(f"{name} deleted.")

    @guarded("grid.write")
    async def generate(self):
        p, g = current_principal(), self.gen
        self.generating = True
        yield
        try:
            job = await in_tenant(lambda s: _start(s, g, p))
        except DomainError as exc:
            self.generating = False
            yield rx.toast.error(sentence(exc.message))
            return
        self.generating = False
        if isinstance(job, dict):  # the form's own errors
            self.gen_errors = job
            return
        self.last_job = job
        await self._refresh()
        yield rx.toast.success(
            f"Generating {job.drawer} ({job.segments} plate(s)): it shows in the table below as it goes."
        )

    # --- live updates -------------------------------------------------------------------------

    async def _live_refresh(self, principal: auth.Principal, token: str) -> None:
        """Read outside the lock, so filter changes meanwhile are not held up."""
        async with self:
            if self._watch_token != token:
                return
            view, detail_id, last_id = self._view(), self.detail_id, self.last_job.id
        try:
            snap = await asyncio.to_thread(_snapshot, principal.tenant_id, principal.fmt, view, detail_id, last_id)
        except DomainError:
            return
        async with self:
            if self._watch_token == token and self._view() == view and self.detail_id == detail_id:
                self._apply(snap, principal.fmt)


def _retry(s: Session, job_id: str, p: auth.Principal) -> JobView:
    job = service.retry_job(s, job_id, actor=p)
    return job_view(service.get_job_row(s, job.id), p.fmt)


def _start(s: Session, g: GeneratorInput, p: auth.Principal) -> JobView | dict[str, str]:
    checked = check_input(g, facts_of(s))
    if checked.options is None:
        return checked.errors
    job = service.start_job(s, checked.options, profile_name=checked.profile_name, actor=p, origin="staff")
    s.flush()
    return job_view(service.get_job_row(s, job.id), p.fmt)
