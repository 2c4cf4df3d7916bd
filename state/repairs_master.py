"""States of the repairs master-data pages: /repairs/clients, /repairs/devices,
/repairs/technicians (technicians, and teams in a second card) and
/repairs/codes (the repair-codes catalogue, and price rules in a second card).

Each table searches, filters, sorts and pages; the main table of a page keeps
its view in the URL (state/paging.py) and follows the live channel, so a
change made elsewhere shows without a reload. Create and edit happen in a
dialog whose fields show the service's refusals next to them; deactivating
asks first. Every rule is `app.repairs.service.master`'s.
"""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import date
from typing import TYPE_CHECKING, Any, ClassVar

import reflex as rx
from sqlmodel import Session

from app.platform.db import tenant_session
from app.platform.errors import Conflict, DomainError, Forbidden, NotFound, ValidationFailed
from app.platform.formatting import ShopFormat, of_tenant
from app.repairs.service import master
from app.repairs.service._common import LIVE_KIND, READ, WRITE
from state.base import AppState, PageVisit, current_principal, guarded, in_tenant
from state.live import Live, LiveState
from state.paging import PagedState, rows_of_page
from state.util import field_errors, sentence

SHOW_OPTIONS = [("active", "Active"), ("inactive", "Deactivated"), ("all", "All")]
CATEGORY_OPTIONS = [("all", "All categories"), *[(c, master.CATEGORY_WORDS[c]) for c in master.CATEGORIES]]
ORIGIN_OPTIONS = [("all", "All codes"), ("canonical", "Canonical"), ("shop", "Shop's own")]
CODE_CATEGORY_OPTIONS = [(c, c.capitalize()) for c in master.CODE_CATEGORIES]
NONE = "none"  # the "no choice" value of a drop-down (a select item cannot have an empty value)


def _show(value: str) -> str:
    """The page's "show" choice as the service's active filter."""
    return {"active": "active", "inactive": "inactive"}.get(value, "")


def _opt(value: Any) -> str | None:
    """A drop-down's value as an id, or None for "none"."""
    s = str(value or "").strip()
    return None if s in ("", NONE) else s


# --- what the tables show ----------------------------------------------------------------------


@dataclasses.dataclass
class ClientView:
    id: str = ""
    name: str = ""
    contact_name: str = ""
    email: str = ""
    phone: str = ""
    billing_address: str = ""
    country: str = ""
    vat_number: str = ""
    payment_terms_days: int = 30
    currency: str = "EUR"
    ber_threshold_percent: int = 70
    notes: str = ""
    active: bool = True


@dataclasses.dataclass
class DeviceView:
    id: str = ""
    manufacturer: str = ""
    model: str = ""
    category: str = "phone"
    category_word: str = ""
    variants: list[str] = dataclasses.field(default_factory=list)
    variants_text: str = ""  # one per line, for the form
    typical_value: str = ""  # as the form shows it (389.00)
    value_shown: str = ""  # in the shop's money format
    active: bool = True


@dataclasses.dataclass
class TeamView:
    id: str = ""
    name: str = ""
    description: str = ""
    members: int = 0
    active: bool = True


@dataclasses.dataclass
class TechnicianView:
    id: str = ""
    name: str = ""
    email: str = ""
    team_id: str = NONE
    team_name: str = ""
    user_id: str = NONE
    user_name: str = ""
    hourly_rate: str = ""
    rate_shown: str = ""
    active: bool = True


@dataclasses.dataclass
class CodeView:
    id: str = ""
    code: str = ""
    name: str = ""
    category: str = "other"
    minutes: int = 30
    canonical: bool = True
    active: bool = True


@dataclasses.dataclass
class RuleView:
    id: str = ""
    client_id: str = NONE
    client_name: str = ""
    code_id: str = NONE
    code: str = ""
    code_name: str = ""
    model_id: str = NONE
    model_name: str = ""
    price: str = ""
    price_shown: str = ""
    valid_from: str = ""
    valid_to: str = ""
    validity: str = ""
    description: str = ""
    kind: str = ""
    valid_today: bool = True


@dataclasses.dataclass
class Choice:
    value: str = ""
    label: str = ""


def _choices(pairs: list[tuple[str, str]], none: str = "") -> list[Choice]:
    out = [Choice(NONE, none)] if none else []
    return out + [Choice(v, label) for v, label in pairs]


def _client_view(c) -> ClientView:
    return ClientView(
        id=str(c.id),
        name=c.name,
        contact_name=c.contact_name,
        email=c.email,
        phone=c.phone,
        billing_address=c.billing_address,
        country=c.country,
        vat_number=c.vat_number,
        payment_terms_days=c.payment_terms_days,
        currency=c.currency,
        ber_threshold_percent=c.ber_threshold_percent,
        notes=c.notes,
        active=c.active,
    )


def _device_view(d, fmt: ShopFormat) -> DeviceView:
    variants = list(d.variants or [])
    return DeviceView(
        id=str(d.id),
        manufacturer=d.manufacturer,
        model=d.model,
        category=d.category,
        category_word=master.CATEGORY_WORDS.get(d.category) or d.category.capitalize(),
        variants=variants,
        variants_text="\n".join(variants),
        typical_value=str(d.typical_value),
        value_shown=fmt.money(d.typical_value),
        active=d.active,
    )


def _validity(valid_from: date | None, valid_to: date | None, fmt: ShopFormat) -> str:
    if valid_from and valid_to:
        return f"{fmt.day(valid_from)} – {fmt.day(valid_to)}"
    if valid_from:
        return f"from {fmt.day(valid_from)}"
    if valid_to:
        return f"until {fmt.day(valid_to)}"
    return "Always"


def _rule_view(r: master.PriceRuleRow, currencies: dict[str, str], fmt: ShopFormat) -> RuleView:
    rule, today = r.rule, date.today()
    client = str(rule.client_id) if rule.client_id else NONE
    return RuleView(
        id=str(rule.id),
        client_id=client,
        client_name=r.client_name,
        code_id=str(rule.repair_code_id) if rule.repair_code_id else NONE,
        code=r.code,
        code_name=r.code_name,
        model_id=str(rule.device_model_id) if rule.device_model_id else NONE,
        model_name=r.model_name,
        price=str(rule.price),
        price_shown=fmt.money(rule.price, currencies.get(client)),
        valid_from=rule.valid_from.isoformat() if rule.valid_from else "",
        valid_to=rule.valid_to.isoformat() if rule.valid_to else "",
        validity=_validity(rule.valid_from, rule.valid_to, fmt),
        description=rule.description,
        kind=r.specificity,
        valid_today=(rule.valid_from is None or rule.valid_from <= today)
        and (rule.valid_to is None or rule.valid_to >= today),
    )


# --- what every master-data table shares -------------------------------------------------------


SHOWS = ("active", "inactive", "all")


class MasterTable(rx.State, mixin=True):
    """A table's view (search, show, sort) and its create/edit dialog."""

    NOUN: ClassVar[str] = "row"  # "That {NOUN} is no longer on this page."

    search: str = ""
    show: str = "active"  # active | inactive | all
    loaded: bool = False
    error: str = ""
    form_open: bool = False
    form_key: int = 0
    form_errors: dict[str, str] = {}
    form_busy: bool = False
    editing_id: str = ""  # "" while creating

    if TYPE_CHECKING:  # for the type checker only: what the state mixing this in provides
        permissions: list[str]
        rows: list[Any]
        form: Any

        async def _refresh(self) -> None:
            """The state's reload."""
            ...

    @rx.var
    def can_write(self) -> bool:
        return WRITE in self.permissions

    @rx.var
    def editing(self) -> bool:
        return self.editing_id != ""

    # --- the dialog ----------------------------------------------------------------------------

    def _open_form(self, row_id: str = "") -> None:
        self.editing_id, self.form_errors, self.form_busy = row_id, {}, False
        self.form_key += 1
        self.form_open = True

    def _edit(self, row_id: str) -> rx.event.EventSpec | None:
        """Open the dialog on a row of this page."""
        row = next((r for r in self.rows if r.id == row_id), None)
        if row is None:
            return rx.toast.error(f"That {self.NOUN} is no longer on this page.")
        self.form = row
        self._open_form(row_id)
        return None

    async def _save(self, work: Callable[[Session], Any]) -> Any | None:
        """Run `work` in the shop's session; a refusal lands on the form (None is returned)."""
        try:
            return await in_tenant(work)
        except (ValidationFailed, Conflict, NotFound, Forbidden) as exc:
            self.form_errors = field_errors(exc)
            return None

    async def _submit(self, work: Callable[[Session], str], said: str, *then: Any) -> AsyncIterator[Any]:
        """Save the dialog: busy while `work` runs, a refusal lands on the form; once saved the
        dialog closes, the table reloads, `then` is sent and a toast says `said` (with the name
        `work` returned in place of {}) was saved or added. A handler yields what this yields."""
        editing = bool(self.editing_id)
        self.form_busy = True
        yield None
        saved = await self._save(work)
        self.form_busy = False
        if saved is None:
            return
        self.form_open = False
        await self._refresh()
        for event in then:
            yield event
        yield rx.toast.success(f"{said.format(saved)} {'saved' if editing else 'added'}.")

    async def _activate(self, work: Callable[[Session], str], said: str, active: bool) -> rx.event.EventSpec:
        """(De)activate a row: `work` returns its name, which takes the place of {} in `said`."""
        name = await in_tenant(work)
        await self._refresh()
        return rx.toast.success(f"{said.format(name)} {'reactivated' if active else 'deactivated'}.")

    @guarded(READ)
    def set_form_open(self, value: bool):
        self.form_open = value
        if not value:
            self.form_busy = False


class ListedTable(MasterTable, mixin=True):
    """A page's main table: its view in the URL (PagedState) and live (LiveState). The state
    says which columns sort (`SORTS`, the first is the default), builds the service's filter
    (`_filter`) and reads a page of rows (`_read`); the loader and the view's handlers are
    these."""

    SORTS: ClassVar[tuple[str, ...]] = ("name",)
    HIGH_FIRST: ClassVar[frozenset[str]] = frozenset()  # columns whose first click sorts high to low

    if TYPE_CHECKING:  # for the type checker only: what the state mixing this in provides
        sort: str
        descending: bool
        total: int
        page: int
        page_ids: list[str]
        watch: Any

        def _read_url(self) -> None:
            """PagedState's: the view from the URL."""
            ...

        def _navigate(self, replace: bool = False, **changes: Any) -> rx.event.EventSpec:
            """PagedState's: show the view with `changes`."""
            ...

        async def _search(self, **changes: Any) -> rx.event.EventSpec | None:
            """PagedState's: what a search box calls."""
            ...

        def _new_visit(self) -> bool:
            """PageVisit's: a visit, not the page loading itself again."""
            ...

        def _filter(self) -> Any:
            """The state's own: the service's filter for the view shown."""
            ...

        def _read(self, tenant_id: uuid.UUID, fmt: ShopFormat, f: Any) -> Any:
            """The state's own: the snapshot of the page `f` asks for (`rows`, `total`,
            `page`), read in a thread."""
            ...

    def _sort_column(self) -> str:
        return self.sort if self.sort in self.SORTS else self.SORTS[0]

    def _clean_filters(self) -> None:
        """The state's own filters from the URL that mean nothing become the defaults."""

    def _also_load(self) -> list[Any]:
        """Events the loader sends after the watcher (a second card's loader)."""
        return []

    def _apply(self, snap: Any) -> None:
        self.rows, self.total, self.page = snap.rows, snap.total, snap.page
        self.page_ids = [r.id for r in snap.rows]
        self.error, self.loaded = "", True

    def _fetch(self, tenant_id: uuid.UUID) -> None:
        try:
            self._apply(self._read(tenant_id, of_tenant(tenant_id), self._filter()))
        except DomainError as exc:
            self.error = sentence(exc.message)

    async def _refresh(self) -> None:
        p = current_principal()
        try:
            self._apply(await asyncio.to_thread(self._read, p.tenant_id, p.fmt, self._filter()))
        except DomainError as exc:
            self.error, self.loaded = sentence(exc.message), True

    @guarded(READ, quiet=True)
    async def load(self):
        self._read_url()
        if self.show not in SHOWS:
            self.show = "active"
        self._clean_filters()
        if self._new_visit():  # not when the page loads itself again (a reconnect)
            self.form_open = False
        await self._refresh()
        return [type(self).watch, *self._also_load()]

    @guarded(READ)
    async def set_search(self, value: str):
        return await self._search(search=value.strip()[:200])

    @guarded(READ)
    def set_show(self, value: str):
        return self._navigate(show=value if value in SHOWS else "active")

    @guarded(READ)
    def sort_by(self, column: str):
        if column not in self.SORTS:
            return None
        if column == self.sort:
            return self._navigate(descending=not self.descending)
        return self._navigate(sort=column, descending=column in self.HIGH_FIRST)


# --- /repairs/clients ----------------------------------------------------------------------------

CLIENTS_PATH = "/repairs/clients"


@dataclasses.dataclass
class ClientsSnapshot:
    rows: list[ClientView]
    total: int
    page: int


def _clients(tenant_id: uuid.UUID, f: master.ListFilter) -> ClientsSnapshot:
    with tenant_session(tenant_id) as s:
        rows, total = rows_of_page(master.list_clients, s, f)
        return ClientsSnapshot([_client_view(c) for c in rows], total, f.page)


class RepairClientsState(PageVisit, ListedTable, LiveState, PagedState, AppState):
    PAGE_PERMISSION: ClassVar[str] = READ
    URL_PARAMS: ClassVar[tuple[str, ...]] = ("search", "show", "sort", "descending")
    LIVE: ClassVar[Live] = Live(READ, CLIENTS_PATH, (LIVE_KIND,), settle=1.0)
    SORTS: ClassVar[tuple[str, ...]] = master.CLIENT_SORTS
    NOUN: ClassVar[str] = "client"

    sort: str = "name"
    descending: bool = False
    page_size: int = 20
    rows: list[ClientView] = []
    form: ClientView = ClientView()

    def _filter(self) -> master.ListFilter:
        return master.ListFilter(
            search=self.search,
            active=_show(self.show),
            sort=self._sort_column(),
            descending=self.descending,
            page=self.page,
            page_size=self.page_size,
        )

    def _read(self, tenant_id: uuid.UUID, fmt: ShopFormat, f: master.ListFilter) -> ClientsSnapshot:
        return _clients(tenant_id, f)

    @guarded(WRITE)
    def new_client(self):
        self.form = ClientView()
        self._open_form()

    @guarded(WRITE)
    def edit_client(self, client_id: str):
        return self._edit(client_id)

    @guarded(WRITE)
    async def save_client(self, form: dict):
        p, editing = current_principal(), self.editing_id
        data = master.ClientData(
            name=str(form.get("name", "")),
            contact_name=str(form.get("contact_name", "")),
            email=str(form.get("email", "")),
            phone=str(form.get("phone", "")),
            billing_address=str(form.get("billing_address", "")),
            country=str(form.get("country", "")),
            vat_number=str(form.get("vat_number", "")),
            payment_terms_days=str(form.get("payment_terms_days", "")),
            currency=str(form.get("currency", "")),
            ber_threshold_percent=str(form.get("ber_threshold_percent", "")),
            notes=str(form.get("notes", "")),
        )

        def work(s: Session) -> str:
            if editing:
                return master.update_client(s, editing, data, actor=p).name
            return master.create_client(s, data, actor=p).name

        async for event in self._submit(work, "{}"):
            yield event

    @guarded(WRITE)
    async def set_client_active(self, client_id: str, active: bool):
        p = current_principal()
        return await self._activate(
            lambda s: master.set_client_active(s, client_id, active, actor=p).name, "{}", active
        )


# --- /repairs/devices ----------------------------------------------------------------------------

DEVICES_PATH = "/repairs/devices"


@dataclasses.dataclass
class DevicesSnapshot:
    rows: list[DeviceView]
    total: int
    page: int


def _devices(tenant_id: uuid.UUID, fmt: ShopFormat, f: master.DeviceFilter) -> DevicesSnapshot:
    with tenant_session(tenant_id) as s:
        rows, total = rows_of_page(master.list_device_models, s, f)
        return DevicesSnapshot([_device_view(d, fmt) for d in rows], total, f.page)


class DeviceModelsState(PageVisit, ListedTable, LiveState, PagedState, AppState):
    PAGE_PERMISSION: ClassVar[str] = READ
    URL_PARAMS: ClassVar[tuple[str, ...]] = ("search", "show", "category", "sort", "descending")
    LIVE: ClassVar[Live] = Live(READ, DEVICES_PATH, (LIVE_KIND,), settle=1.0)
    SORTS: ClassVar[tuple[str, ...]] = master.DEVICE_SORTS
    HIGH_FIRST: ClassVar[frozenset[str]] = frozenset({"value"})
    NOUN: ClassVar[str] = "device model"

    category: str = "all"
    sort: str = "manufacturer"
    descending: bool = False
    page_size: int = 20
    rows: list[DeviceView] = []
    form: DeviceView = DeviceView()

    @rx.var
    def filtered(self) -> bool:
        return bool(self.search) or self.category != "all" or self.show != "active"

    def _filter(self) -> master.DeviceFilter:
        return master.DeviceFilter(
            search=self.search,
            active=_show(self.show),
            category="" if self.category == "all" else self.category,
            sort=self._sort_column(),
            descending=self.descending,
            page=self.page,
            page_size=self.page_size,
        )

    def _read(self, tenant_id: uuid.UUID, fmt: ShopFormat, f: master.DeviceFilter) -> DevicesSnapshot:
        return _devices(tenant_id, fmt, f)

    def _clean_filters(self) -> None:
        if self.category not in master.CATEGORIES:
            self.category = "all"

    @guarded(READ)
    def set_category(self, value: str):
        return self._navigate(category=value if value in master.CATEGORIES else "all")

    @guarded(READ)
    def clear_filters(self):
        return self._navigate(search="", category="all", show="active")

    @guarded(WRITE)
    def new_device(self):
        self.form = DeviceView(typical_value="0.00")
        self._open_form()

    @guarded(WRITE)
    def edit_device(self, model_id: str):
        return self._edit(model_id)

    @guarded(WRITE)
    async def save_device(self, form: dict):
        p, editing = current_principal(), self.editing_id
        data = master.DeviceModelData(
            manufacturer=str(form.get("manufacturer", "")),
            model=str(form.get("model", "")),
            category=str(form.get("category", "")),
            variants=str(form.get("variants", "")),
            typical_value=str(form.get("typical_value", "")),
        )

        def work(s: Session) -> str:
            dm = (
                master.update_device_model(s, editing, data, actor=p)
                if editing
                else master.create_device_model(s, data, actor=p)
            )
            return f"{dm.manufacturer} {dm.model}"

        async for event in self._submit(work, "{}"):
            yield event

    @guarded(WRITE)
    async def set_device_active(self, model_id: str, active: bool):
        p = current_principal()

        def work(s: Session) -> str:
            dm = master.set_device_model_active(s, model_id, active, actor=p)
            return f"{dm.manufacturer} {dm.model}"

        return await self._activate(work, "{}", active)


# --- /repairs/technicians (technicians; teams in the second card) --------------------------------

TECHNICIANS_PATH = "/repairs/technicians"
TEAMS_PAGE_SIZE = 8


@dataclasses.dataclass
class TechniciansSnapshot:
    rows: list[TechnicianView]
    total: int
    page: int
    teams: list[Choice]
    staff: list[Choice]


def _technicians(tenant_id: uuid.UUID, fmt: ShopFormat, f: master.TechnicianFilter) -> TechniciansSnapshot:
    with tenant_session(tenant_id) as s:
        rows, total = rows_of_page(master.list_technicians, s, f)
        views = [
            TechnicianView(
                id=str(r.technician.id),
                name=r.technician.name,
                email=r.technician.email,
                team_id=str(r.technician.team_id) if r.technician.team_id else NONE,
                team_name=r.team_name,
                user_id=str(r.technician.user_id) if r.technician.user_id else NONE,
                user_name=r.user_name,
                hourly_rate=str(r.technician.hourly_rate),
                rate_shown=fmt.money(r.technician.hourly_rate),
                active=r.technician.active,
            )
            for r in rows
        ]
        include = [r.technician.team_id for r in rows if r.technician.team_id]
        return TechniciansSnapshot(
            views,
            total,
            f.page,
            _choices(master.team_choices(s, include=include), "No team"),
            _choices(master.staff_choices(s), "No staff account"),
        )


class TechniciansState(PageVisit, ListedTable, LiveState, PagedState, AppState):
    PAGE_PERMISSION: ClassVar[str] = READ
    URL_PARAMS: ClassVar[tuple[str, ...]] = ("search", "show", "team", "sort", "descending")
    LIVE: ClassVar[Live] = Live(READ, TECHNICIANS_PATH, (LIVE_KIND,), settle=1.0)
    SORTS: ClassVar[tuple[str, ...]] = master.TECHNICIAN_SORTS
    HIGH_FIRST: ClassVar[frozenset[str]] = frozenset({"rate"})
    NOUN: ClassVar[str] = "technician"

    team: str = "all"  # all | none | a team's id
    sort: str = "name"
    descending: bool = False
    page_size: int = 20
    rows: list[TechnicianView] = []
    form: TechnicianView = TechnicianView()
    teams: list[Choice] = []
    staff: list[Choice] = []

    @rx.var
    def team_filter_options(self) -> list[Choice]:
        return [Choice("all", "All teams"), *self.teams]

    def _filter(self) -> master.TechnicianFilter:
        team = "" if self.team == "all" else self.team
        return master.TechnicianFilter(
            search=self.search,
            active=_show(self.show),
            team_id=team,
            sort=self._sort_column(),
            descending=self.descending,
            page=self.page,
            page_size=self.page_size,
        )

    def _read(self, tenant_id: uuid.UUID, fmt: ShopFormat, f: master.TechnicianFilter) -> TechniciansSnapshot:
        return _technicians(tenant_id, fmt, f)

    def _apply(self, snap: TechniciansSnapshot) -> None:
        super()._apply(snap)
        self.teams, self.staff = snap.teams, snap.staff

    def _clean_filters(self) -> None:
        if self.team not in ("all", "none"):
            try:
                uuid.UUID(self.team)
            except ValueError:
                self.team = "all"

    def _also_load(self) -> list[Any]:
        return [TeamsState.load]

    @guarded(READ)
    def set_team(self, value: str):
        return self._navigate(team=value or "all")

    @guarded(WRITE)
    def new_technician(self):
        self.form = TechnicianView(hourly_rate="0.00")
        self._open_form()

    @guarded(WRITE)
    def edit_technician(self, technician_id: str):
        return self._edit(technician_id)

    @guarded(WRITE)
    async def save_technician(self, form: dict):
        p, editing = current_principal(), self.editing_id
        data = master.TechnicianData(
            name=str(form.get("name", "")),
            email=str(form.get("email", "")),
            team_id=_opt(form.get("team_id")),
            user_id=_opt(form.get("user_id")),
            hourly_rate=str(form.get("hourly_rate", "")),
        )

        def work(s: Session) -> str:
            if editing:
                return master.update_technician(s, editing, data, actor=p).name
            return master.create_technician(s, data, actor=p).name

        async for event in self._submit(work, "{}", TeamsState.reload):
            yield event

    @guarded(WRITE)
    async def set_technician_active(self, technician_id: str, active: bool):
        p = current_principal()
        return await self._activate(
            lambda s: master.set_technician_active(s, technician_id, active, actor=p).name, "{}", active
        )


class TeamsState(PageVisit, MasterTable, PagedState, AppState):
    """The teams card on the technicians page (paged in place, not in the URL)."""

    PAGE_PERMISSION: ClassVar[str] = READ
    NOUN: ClassVar[str] = "team"

    show: str = "all"
    sort: str = "name"
    descending: bool = False
    page_size: int = TEAMS_PAGE_SIZE
    rows: list[TeamView] = []
    form: TeamView = TeamView()

    async def _refresh(self) -> None:
        p = current_principal()
        f = master.ListFilter(
            search=self.search,
            active=_show(self.show),
            sort=self.sort if self.sort in master.TEAM_SORTS else "name",
            descending=self.descending,
            page=self.page,
            page_size=self.page_size,
        )

        def read() -> tuple[list[TeamView], int]:
            with tenant_session(p.tenant_id) as s:
                rows, total = rows_of_page(master.list_teams, s, f)
                return [
                    TeamView(str(r.team.id), r.team.name, r.team.description, r.members, r.team.active) for r in rows
                ], total

        try:
            self.rows, self.total = await asyncio.to_thread(read)
            self.page = f.page
            self.page_ids = [r.id for r in self.rows]
            self.error, self.loaded = "", True
        except DomainError as exc:
            self.error, self.loaded = sentence(exc.message), True

    @guarded(READ, quiet=True)
    async def load(self):
        if self._new_visit():  # not when the page loads itself again (a reconnect)
            self.page, self.search, self.form_open = 0, "", False
        await self._refresh()

    @guarded(READ)
    async def reload(self):
        await self._refresh()

    @guarded(READ)
    async def set_search(self, value: str):
        self.search, self.page = value.strip()[:200], 0
        await self._refresh()

    @guarded(READ)
    async def sort_by(self, column: str):
        if column not in master.TEAM_SORTS:
            return
        self.descending = not self.descending if column == self.sort else column == "members"
        self.sort, self.page = column, 0
        await self._refresh()

    @guarded(WRITE)
    def new_team(self):
        self.form = TeamView()
        self._open_form()

    @guarded(WRITE)
    def edit_team(self, team_id: str):
        return self._edit(team_id)

    @guarded(WRITE)
    async def save_team(self, form: dict):
        p, editing = current_principal(), self.editing_id
        data = master.TeamData(name=str(form.get("name", "")), description=str(form.get("description", "")))

        def work(s: Session) -> str:
            if editing:
                return master.update_team(s, editing, data, actor=p).name
            return master.create_team(s, data, actor=p).name

        async for event in self._submit(work, "Team {}"):
            yield event

    @guarded(WRITE)
    async def set_team_active(self, team_id: str, active: bool):
        p = current_principal()
        return await self._activate(
            lambda s: master.set_team_active(s, team_id, active, actor=p).name, "Team {}", active
        )


# --- /repairs/codes (repair codes; price rules in the second card) -------------------------------

CODES_PATH = "/repairs/codes"
RULES_PAGE_SIZE = 10


@dataclasses.dataclass
class CodesSnapshot:
    rows: list[CodeView]
    total: int
    page: int


def _codes(tenant_id: uuid.UUID, f: master.CodeFilter) -> CodesSnapshot:
    with tenant_session(tenant_id) as s:
        rows, total = rows_of_page(master.list_codes, s, f)
        views = [
            CodeView(
                id=str(c.id),
                code=c.code,
                name=c.name,
                category=c.category,
                minutes=c.default_labour_minutes,
                canonical=master.is_canonical(c),
                active=c.active,
            )
            for c in rows
        ]
        return CodesSnapshot(views, total, f.page)


class RepairCodesState(PageVisit, ListedTable, LiveState, PagedState, AppState):
    PAGE_PERMISSION: ClassVar[str] = READ
    URL_PARAMS: ClassVar[tuple[str, ...]] = ("search", "show", "origin", "sort", "descending")
    LIVE: ClassVar[Live] = Live(READ, CODES_PATH, (LIVE_KIND,), settle=1.0)
    SORTS: ClassVar[tuple[str, ...]] = master.CODE_SORTS
    NOUN: ClassVar[str] = "code"

    origin: str = "all"
    sort: str = "code"
    descending: bool = False
    page_size: int = 12
    rows: list[CodeView] = []
    form: CodeView = CodeView()

    def _filter(self) -> master.CodeFilter:
        return master.CodeFilter(
            search=self.search,
            active=_show(self.show),
            origin="" if self.origin == "all" else self.origin,
            sort=self._sort_column(),
            descending=self.descending,
            page=self.page,
            page_size=self.page_size,
        )

    def _read(self, tenant_id: uuid.UUID, fmt: ShopFormat, f: master.CodeFilter) -> CodesSnapshot:
        return _codes(tenant_id, f)

    def _clean_filters(self) -> None:
        if self.origin not in ("all", "canonical", "shop"):
            self.origin = "all"

    def _also_load(self) -> list[Any]:
        return [PriceRulesState.load]

    @guarded(READ)
    def set_origin(self, value: str):
        return self._navigate(origin=value if value in ("canonical", "shop") else "all")

    @guarded(WRITE)
    def new_code(self):
        self.form = CodeView(canonical=False, category="other", minutes=30)
        self._open_form()

    @guarded(WRITE)
    def edit_code(self, code_id: str):
        if any(r.id == code_id and r.canonical for r in self.rows):
            return rx.toast.error("Canonical codes are shared by every shop and cannot be changed.")
        return self._edit(code_id)

    @guarded(WRITE)
    async def save_code(self, form: dict):
        p, editing = current_principal(), self.editing_id
        data = master.CodeData(
            code=str(form.get("code", "")),
            name=str(form.get("name", "")),
            category=str(form.get("category", "")),
            default_labour_minutes=str(form.get("minutes", "")),
        )

        def work(s: Session) -> str:
            if editing:
                return master.update_code(s, editing, data, actor=p).code
            return master.create_code(s, data, actor=p).code

        async for event in self._submit(work, "Code {}", PriceRulesState.reload):
            yield event

    @guarded(WRITE)
    async def set_code_active(self, code_id: str, active: bool):
        p = current_principal()
        return await self._activate(
            lambda s: master.set_code_active(s, code_id, active, actor=p).code, "Code {}", active
        )


@dataclasses.dataclass
class RulesSnapshot:
    rows: list[RuleView]
    total: int
    page: int
    clients: list[Choice]
    codes: list[Choice]
    models: list[Choice]


def _rules(tenant_id: uuid.UUID, fmt: ShopFormat, f: master.PriceRuleFilter) -> RulesSnapshot:
    with tenant_session(tenant_id) as s:
        rows, total = rows_of_page(master.list_price_rules, s, f)
        client_ids = [r.rule.client_id for r in rows if r.rule.client_id]
        currencies: dict[str, str] = {}
        if client_ids:
            currencies = {str(c.id): c.currency for c in (master.get_client(s, i) for i in set(client_ids))}
        return RulesSnapshot(
            [_rule_view(r, currencies, fmt) for r in rows],
            total,
            f.page,
            _choices(master.client_choices(s, include=client_ids), "Every client (default)"),
            _choices(master.code_choices(s), "Any code (flat price for the model)"),
            _choices(master.device_choices(s), "Any model"),
        )


class PriceRulesState(PageVisit, MasterTable, PagedState, AppState):
    """The price rules card on the codes page (paged in place, not in the URL)."""

    PAGE_PERMISSION: ClassVar[str] = READ
    NOUN: ClassVar[str] = "price rule"

    client: str = "all"  # all | default | a client's id
    sort: str = "client"
    descending: bool = False
    page_size: int = RULES_PAGE_SIZE
    rows: list[RuleView] = []
    form: RuleView = RuleView()
    clients: list[Choice] = []
    codes: list[Choice] = []
    models: list[Choice] = []

    @rx.var
    def client_filter_options(self) -> list[Choice]:
        return [
            Choice("all", "All clients"),
            Choice("default", "Default rules"),
            *[c for c in self.clients if c.value != NONE],
        ]

    async def _refresh(self) -> None:
        p = current_principal()
        f = master.PriceRuleFilter(
            search=self.search,
            client_id="" if self.client == "all" else self.client,
            sort=self.sort if self.sort in master.RULE_SORTS else "client",
            descending=self.descending,
            page=self.page,
            page_size=self.page_size,
        )
        try:
            snap = await asyncio.to_thread(_rules, p.tenant_id, p.fmt, f)
        except DomainError as exc:
            self.error, self.loaded = sentence(exc.message), True
            return
        self.rows, self.total, self.page = snap.rows, snap.total, snap.page
        self.clients, self.codes, self.models = snap.clients, snap.codes, snap.models
        self.page_ids = [r.id for r in snap.rows]
        self.error, self.loaded = "", True

    @guarded(READ, quiet=True)
    async def load(self):
        if self._new_visit():  # not when the page loads itself again (a reconnect)
            self.page, self.search, self.client, self.form_open = 0, "", "all", False
        await self._refresh()

    @guarded(READ)
    async def reload(self):
        await self._refresh()

    @guarded(READ)
    async def set_search(self, value: str):
        self.search, self.page = value.strip()[:200], 0
        await self._refresh()

    @guarded(READ)
    async def set_client(self, value: str):
        self.client, self.page = value or "all", 0
        await self._refresh()

    @guarded(READ)
    async def sort_by(self, column: str):
        if column not in master.RULE_SORTS:
            return
        self.descending = not self.descending if column == self.sort else column == "price"
        self.sort, self.page = column, 0
        await self._refresh()

    @guarded(WRITE)
    def new_rule(self):
        self.form = RuleView()
        self._open_form()

    @guarded(WRITE)
    def edit_rule(self, rule_id: str):
        return self._edit(rule_id)

    @guarded(WRITE)
    async def save_rule(self, form: dict):
        p, editing = current_principal(), self.editing_id
        price = str(form.get("price", "")).strip()
        data = master.PriceRuleData(
            price=price,
            client_id=_opt(form.get("client_id")),
            repair_code_id=_opt(form.get("repair_code_id")),
            device_model_id=_opt(form.get("device_model_id")),
            valid_from=str(form.get("valid_from", "")).strip() or None,
            valid_to=str(form.get("valid_to", "")).strip() or None,
            description=str(form.get("description", "")),
        )

        def work(s: Session) -> str:
            if editing:
                return master.rule_kind(master.update_price_rule(s, editing, data, actor=p))
            return master.rule_kind(master.create_price_rule(s, data, actor=p))

        async for event in self._submit(work, "Price rule ({})"):
            yield event

    @guarded(WRITE)
    async def delete_rule(self, rule_id: str):
        p = current_principal()
        await in_tenant(lambda s: master.delete_price_rule(s, rule_id, actor=p))
        await self._refresh()
        return rx.toast.success("Price rule deleted.")
