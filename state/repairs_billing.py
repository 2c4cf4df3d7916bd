"""/repairs/dispatches (the table and the new-dispatch dialog),
/repairs/dispatches/[id] (a dispatch: the client's ready assets to add, the
assets in it, carrier and tracking, Finalize), /repairs/invoices (the table
with its status filter and totals) and /repairs/invoices/[id] (an invoice or
credit note: lines, totals, editing while a draft, Send, the PDF, Mark paid,
Void with a reason).

The tables' filters, sort and page live in the URL (state/paging.py). Every
page follows the live channel, so the PDF's "rendering…" turns into its
download link, and a colleague's change shows, without a reload. Every rule
lives in `app.repairs.service.billing`; these states only call it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar

import reflex as rx
from sqlmodel import col, select

from app.platform import auth
from app.platform.db import tenant_session
from app.platform.errors import DomainError
from app.platform.formatting import ShopFormat, of_tenant
from app.repairs import machine
from app.repairs.models import DeviceModel, RepairAsset, RepairClient, RepairInvoice, RepairInvoiceLine
from app.repairs.service import billing as service
from app.repairs.service._common import LIVE_KIND, READ, WRITE
from state.base import AppState, PageVisit, current_principal, guarded, in_tenant
from state.live import Live, LiveState
from state.paging import PagedState, rows_of_page
from state.util import sentence

DISPATCHES = "/repairs/dispatches"
INVOICES = "/repairs/invoices"
DISPATCH_FILTERS = ("", *machine.DISPATCH_STATUS.values)
INVOICE_FILTERS = ("", *machine.INVOICE_STATUS.values)
KIND_FILTERS = ("", "invoice", "credit_note")
PDF_WORDS = {"queued": "Rendering the PDF…", "rendering": "Rendering the PDF…"}


def pdf_url(invoice_id: str) -> str:
    return f"/api/v1/repairs/invoices/{invoice_id}/pdf"


def _kind_words(kind: str) -> str:
    return "Credit note" if kind == "credit_note" else "Invoice"


# --- views -------------------------------------------------------------------------------------


@dataclasses.dataclass
class DispatchRowView:
    id: str = ""
    number: str = ""
    client: str = ""
    assets: int = 0
    status: str = ""
    carrier: str = ""
    tracking: str = ""
    invoice_id: str = ""
    invoice_number: str = ""  # "Draft" while it has none
    invoice_status: str = ""
    created: str = ""


@dataclasses.dataclass
class ClientOption:
    id: str = ""
    name: str = ""
    ready: int = 0
    label: str = ""


@dataclasses.dataclass
class AssetView:
    id: str = ""
    number: str = ""
    device: str = ""
    identifier: str = ""  # IMEI or serial
    status: str = ""


@dataclasses.dataclass
class DispatchView:
    id: str = ""
    number: str = ""
    client: str = ""
    client_id: str = ""
    status: str = ""
    carrier: str = ""
    tracking: str = ""
    notes: str = ""
    created: str = ""
    finalized: str = ""
    invoice_id: str = ""
    invoice_number: str = ""
    invoice_status: str = ""
    invoice_total: str = ""
    version: str = ""  # the shipping form's key: a save re-reads its defaults


@dataclasses.dataclass
class InvoiceRowView:
    id: str = ""
    kind: str = ""
    kind_words: str = ""
    number: str = ""
    client: str = ""
    dispatch: str = ""
    status: str = ""
    total: str = ""
    issued: str = ""
    due: str = ""
    overdue: bool = False


@dataclasses.dataclass
class StatusTotal:
    status: str = ""
    label: str = ""
    count: int = 0
    total: str = ""


@dataclasses.dataclass
class LineView:
    id: str = ""
    kind: str = ""
    description: str = ""
    quantity: str = ""
    quantity_value: str = ""
    unit: str = ""
    unit_value: str = ""
    amount: str = ""
    warning: str = ""


@dataclasses.dataclass
class InvoiceView:
    id: str = ""
    kind: str = ""
    title: str = ""
    number: str = ""
    status: str = ""
    client: str = ""
    client_lines: list[str] = dataclasses.field(default_factory=list)
    vat_number: str = ""
    currency: str = ""
    subtotal: str = ""
    vat_rate: str = ""
    vat: str = ""
    total: str = ""
    issued: str = ""
    due: str = ""
    paid: str = ""
    voided: str = ""
    void_reason: str = ""
    dispatch_id: str = ""
    dispatch_number: str = ""
    pdf_status: str = ""
    pdf_error: str = ""
    pdf_url: str = ""
    credit_id: str = ""  # the credit note voiding this invoice
    credit_number: str = ""
    voids_id: str = ""  # the invoice this credit note voids
    voids_number: str = ""
    warnings: int = 0


# --- loading -----------------------------------------------------------------------------------


def _clients(s) -> list[ClientOption]:
    ready = service.ready_counts(s)
    clients = s.exec(
        select(RepairClient).where(col(RepairClient.active).is_(True)).order_by(col(RepairClient.name))
    ).all()
    out = []
    for c in clients:
        n = ready.get(c.id, 0)
        out.append(ClientOption(str(c.id), c.name, n, f"{c.name} · {n} ready" if n else f"{c.name} · nothing ready"))
    return sorted(out, key=lambda o: (o.ready == 0, o.name.lower()))


@dataclasses.dataclass
class DispatchesSnapshot:
    rows: list[DispatchRowView]
    total: int
    page: int
    counts: dict[str, int]
    clients: list[ClientOption]


def _dispatches(tenant_id: uuid.UUID, fmt: ShopFormat, f: service.DispatchFilter) -> DispatchesSnapshot:
    with tenant_session(tenant_id) as s:
        rows, total = rows_of_page(service.list_dispatches, s, f)
        counts = service.dispatch_counts(s)
        return DispatchesSnapshot(
            rows=[
                DispatchRowView(
                    id=str(r.dispatch.id),
                    number=r.dispatch.number,
                    client=r.client_name,
                    assets=r.assets,
                    status=r.dispatch.status,
                    carrier=r.dispatch.carrier,
                    tracking=r.dispatch.tracking_number,
                    invoice_id=str(r.dispatch.invoice_id or ""),
                    invoice_number=r.invoice_number or ("Draft" if r.dispatch.invoice_id else ""),
                    invoice_status=r.invoice_status,
                    created=fmt.when(r.dispatch.created_at),
                )
                for r in rows
            ],
            total=total,
            page=f.page,
            counts={**counts, "": sum(counts.values())},
            clients=_clients(s),
        )


def _asset_views(s, assets: list[RepairAsset]) -> list[AssetView]:
    ids = {a.device_model_id for a in assets if a.device_model_id}
    models = (
        {m.id: f"{m.manufacturer} {m.model}" for m in s.exec(select(DeviceModel).where(col(DeviceModel.id).in_(ids)))}
        if ids
        else {}
    )
    return [
        AssetView(
            id=str(a.id),
            number=a.number,
            device=models.get(a.device_model_id, "") if a.device_model_id else "",
            identifier=a.imei or a.serial,
            status=a.status,
        )
        for a in assets
    ]


@dataclasses.dataclass
class DispatchSnapshot:
    dispatch: DispatchView
    assets: list[AssetView]
    ready: list[AssetView]


def _dispatch(tenant_id: uuid.UUID, fmt: ShopFormat, dispatch_id: str) -> DispatchSnapshot:
    with tenant_session(tenant_id) as s:
        d = service.get_dispatch(s, dispatch_id)
        client = s.get(RepairClient, d.client_id)
        invoice = s.get(RepairInvoice, d.invoice_id) if d.invoice_id else None
        assets = service.dispatch_assets(s, d.id)
        ready = service.ready_assets(s, d.client_id) if d.status == "open" else []
        return DispatchSnapshot(
            dispatch=DispatchView(
                id=str(d.id),
                number=d.number,
                client=client.name if client else "",
                client_id=str(d.client_id),
                status=d.status,
                carrier=d.carrier,
                tracking=d.tracking_number,
                notes=d.notes,
                created=fmt.when(d.created_at),
                finalized=fmt.when(d.finalized_at) if d.finalized_at else "",
                invoice_id=str(invoice.id) if invoice else "",
                invoice_number=(invoice.number or "Draft") if invoice else "",
                invoice_status=invoice.status if invoice else "",
                invoice_total=fmt.money(invoice.total, invoice.currency) if invoice else "",
                version=f"{d.carrier}|{d.tracking_number}|{d.notes}",
            ),
            assets=_asset_views(s, assets),
            ready=_asset_views(s, ready),
        )


@dataclasses.dataclass
class InvoicesSnapshot:
    rows: list[InvoiceRowView]
    total: int
    page: int
    totals: list[StatusTotal]


def _money_by_currency(fmt: ShopFormat, by: dict[str, Any]) -> str:
    return " + ".join(fmt.money(v, c) for c, v in sorted(by.items())) if by else fmt.money(0)


def _invoices(tenant_id: uuid.UUID, fmt: ShopFormat, f: service.InvoiceFilter) -> InvoicesSnapshot:
    with tenant_session(tenant_id) as s:
        rows, total = rows_of_page(service.list_invoices, s, f)
        sums = service.invoice_totals(s)
        today = service.shop_today(s)
    views = []
    for r in rows:
        i = r.invoice
        views.append(
            InvoiceRowView(
                id=str(i.id),
                kind=i.kind,
                kind_words=_kind_words(i.kind),
                number=i.number or "Draft",
                client=r.client_name,
                dispatch=r.dispatch_number,
                status=i.status,
                total=fmt.money(i.total, i.currency),
                issued=fmt.day(i.issued_on) if i.issued_on else "",
                due=fmt.day(i.due_on) if i.due_on and i.kind == "invoice" else "",
                overdue=bool(i.status == "sent" and i.kind == "invoice" and i.due_on and i.due_on < today),
            )
        )
    return InvoicesSnapshot(
        rows=views,
        total=total,
        page=f.page,
        totals=[
            StatusTotal(
                st.value, st.label, sums.counts.get(st.value, 0), _money_by_currency(fmt, sums.totals.get(st.value, {}))
            )
            for st in machine.INVOICE_STATUS
        ],
    )


def _number(value) -> str:
    """A quantity as a person writes it: 1, 2.5."""
    return f"{value.normalize():f}"


@dataclasses.dataclass
class InvoiceSnapshot:
    invoice: InvoiceView
    lines: list[LineView]


def _invoice(tenant_id: uuid.UUID, fmt: ShopFormat, invoice_id: str) -> InvoiceSnapshot:
    with tenant_session(tenant_id) as s:
        i = service.get_invoice(s, invoice_id)
        client = s.get(RepairClient, i.client_id)
        dispatch = service.get_dispatch(s, i.dispatch_id) if i.dispatch_id else None
        credit = service.credit_note_for(s, i.id) if i.kind == "invoice" else None
        voids = s.get(RepairInvoice, i.credit_for_id) if i.credit_for_id else None
        lines: list[RepairInvoiceLine] = service.invoice_lines(s, i.id)

    def cash(v) -> str:
        return fmt.money(v, i.currency)

    return InvoiceSnapshot(
        invoice=InvoiceView(
            id=str(i.id),
            kind=i.kind,
            title=_kind_words(i.kind),
            number=i.number,
            status=i.status,
            client=client.name if client else "",
            client_lines=[ln for ln in (client.billing_address if client else "").splitlines() if ln.strip()],
            vat_number=client.vat_number if client else "",
            currency=i.currency,
            subtotal=cash(i.subtotal),
            vat_rate=_number(i.vat_rate),
            vat=cash(i.vat_amount),
            total=cash(i.total),
            issued=fmt.day(i.issued_on) if i.issued_on else "",
            due=fmt.day(i.due_on) if i.due_on else "",
            paid=fmt.when(i.paid_at) if i.paid_at else "",
            voided=fmt.when(i.voided_at) if i.voided_at else "",
            void_reason=i.void_reason,
            dispatch_id=str(dispatch.id) if dispatch else "",
            dispatch_number=dispatch.number if dispatch else "",
            pdf_status=i.pdf_status,
            pdf_error=i.pdf_error,
            pdf_url=pdf_url(str(i.id)) if i.pdf_key else "",
            credit_id=str(credit.id) if credit else "",
            credit_number=credit.number if credit else "",
            voids_id=str(voids.id) if voids else "",
            voids_number=voids.number if voids else "",
            warnings=sum(1 for ln in lines if ln.warning),
        ),
        lines=[
            LineView(
                id=str(ln.id),
                kind=ln.kind,
                description=ln.description,
                quantity=_number(ln.quantity),
                quantity_value=_number(ln.quantity),
                unit=cash(ln.unit_price),
                unit_value=f"{ln.unit_price:f}",
                amount=cash(ln.amount),
                warning=ln.warning,
            )
            for ln in lines
        ],
    )


def _now(fmt: ShopFormat) -> str:
    return fmt.clock(datetime.now(UTC), seconds=True)


# --- /repairs/dispatches -------------------------------------------------------------------------


class RepairDispatchesState(PageVisit, LiveState, PagedState, AppState):
    PAGE_PERMISSION: ClassVar[str] = READ
    URL_PARAMS: ClassVar[tuple[str, ...]] = ("search", "status", "sort", "descending")
    LIVE: ClassVar[Live] = Live(READ, DISPATCHES, (LIVE_KIND,), settle=1.0)

    search: str = ""
    status: str = ""
    sort: str = "created"
    descending: bool = True
    page_size: int = 25
    rows: list[DispatchRowView] = []
    counts: dict[str, int] = {}
    clients: list[ClientOption] = []
    loaded: bool = False
    error: str = ""
    updated_at: str = ""

    create_open: bool = False
    create_client: str = ""
    create_error: str = ""
    create_busy: bool = False

    @rx.var
    def can_write(self) -> bool:
        return WRITE in self.permissions

    @rx.var
    def filtered(self) -> bool:
        return bool(self.search or self.status)

    def _filter(self) -> service.DispatchFilter:
        return service.DispatchFilter(
            search=self.search,
            status=self.status,
            sort=self.sort,
            descending=self.descending,
            page=self.page,
            page_size=self.page_size,
        )

    def _apply(self, snap: DispatchesSnapshot, fmt: ShopFormat) -> None:
        self.rows, self.total, self.page = snap.rows, snap.total, snap.page
        self.counts, self.clients = snap.counts, snap.clients
        self.updated_at, self.error, self.loaded = _now(fmt), "", True

    def _fetch(self, tenant_id: uuid.UUID) -> None:
        fmt = of_tenant(tenant_id)
        try:
            self._apply(_dispatches(tenant_id, fmt, self._filter()), fmt)
        except DomainError as exc:
            self.error = sentence(exc.message)

    async def _refresh(self) -> None:
        p = current_principal()
        try:
            snap = await asyncio.to_thread(_dispatches, p.tenant_id, p.fmt, self._filter())
        except DomainError as exc:
            self.error, self.loaded = sentence(exc.message), True
            return
        self._apply(snap, p.fmt)

    @guarded(READ, quiet=True)
    async def load(self):
        self._read_url()
        if self.status not in DISPATCH_FILTERS:
            self.status = ""
        if self.sort not in service.DISPATCH_SORTS:
            self.sort = "created"
        if self._new_visit():  # not when the page loads itself again (a reconnect)
            self.create_open = False
        await self._refresh()
        return RepairDispatchesState.watch

    @guarded(READ)
    async def set_search(self, value: str):
        return await self._search(search=value.strip()[:200])

    @guarded(READ)
    def set_status(self, value: str):
        return self._navigate(status=value if value in DISPATCH_FILTERS else "")

    @guarded(READ)
    def sort_by(self, column: str):
        if column not in service.DISPATCH_SORTS:
            return None
        if column == self.sort:
            return self._navigate(descending=not self.descending)
        return self._navigate(sort=column, descending=column in ("created", "assets"))

    @guarded(READ)
    def clear_filters(self):
        return self._navigate(search="", status="")

    @guarded(WRITE)
    def set_create_open(self, value: bool):
        self.create_open, self.create_error, self.create_busy = value, "", False
        if value and not self.create_client and self.clients:
            self.create_client = self.clients[0].id

    @guarded(WRITE)
    def set_create_client(self, value: str):
        self.create_client, self.create_error = value, ""

    @guarded(WRITE)
    async def create(self, form: dict):
        client_id = self.create_client
        if not client_id:
            self.create_error = "Choose the client the devices go back to."
            return
        carrier = str(form.get("carrier") or "")
        p = current_principal()
        self.create_busy = True
        yield
        try:
            d = await in_tenant(lambda s: service.create_dispatch(s, client_id, actor=p, carrier=carrier))
        except DomainError as exc:
            self.create_error, self.create_busy = sentence(exc.message), False
            return
        self.create_open = self.create_busy = False
        yield rx.toast.success(f"Dispatch {d.number} opened: add the devices that leave.")
        yield rx.redirect(f"{DISPATCHES}/{d.id}")


# --- /repairs/dispatches/[id] --------------------------------------------------------------------


class RepairDispatchState(LiveState, AppState):
    LIVE: ClassVar[Live] = Live(READ, DISPATCHES, (LIVE_KIND,), settle=0.5)

    dispatch: DispatchView = DispatchView()
    assets: list[AssetView] = []
    ready: list[AssetView] = []
    error: str = ""
    loaded: bool = False
    busy: bool = False
    shipping_error: str = ""
    _watched_path: str = ""

    @rx.var
    def can_write(self) -> bool:
        return WRITE in self.permissions

    @rx.var
    def editable(self) -> bool:
        return WRITE in self.permissions and self.dispatch.status == "open"

    def _dispatch_id(self) -> str:
        return self.router.url.path.rstrip("/").rsplit("/", 1)[-1]

    def _apply(self, snap: DispatchSnapshot) -> None:
        self.dispatch, self.assets, self.ready = snap.dispatch, snap.assets, snap.ready
        self.error, self.loaded = "", True

    def _fetch(self, tenant_id: uuid.UUID) -> None:
        try:
            self._apply(_dispatch(tenant_id, of_tenant(tenant_id), self._dispatch_id()))
        except DomainError:
            return

    async def _refresh(self) -> None:
        p = current_principal()
        try:
            snap = await asyncio.to_thread(_dispatch, p.tenant_id, p.fmt, self._dispatch_id())
        except DomainError as exc:
            self.error, self.loaded = sentence(exc.message), True
            return
        self._apply(snap)

    @guarded(READ, quiet=True)
    async def load(self):
        self.loaded, self.error, self.shipping_error = False, "", ""
        await self._refresh()
        return RepairDispatchState.watch

    def _live_start(self, principal: auth.Principal) -> Any:
        self._watched_path = self.router.url.path.rstrip("/")
        return principal.tenant_id

    def _live_here(self) -> bool:
        return self.router.url.path.rstrip("/") == self._watched_path

    async def _do(self, work, ok: str | None):
        p = current_principal()
        self.busy = True
        try:
            result = await in_tenant(lambda s: work(s, p))
        except DomainError as exc:
            self.busy = False
            await self._refresh()
            return rx.toast.error(sentence(exc.message)), None
        self.busy = False
        await self._refresh()
        return (rx.toast.success(ok) if ok else None), result

    @guarded(WRITE)
    async def add_asset(self, asset_id: str):
        did = self._dispatch_id()
        toast, _ = await self._do(lambda s, p: service.add_assets(s, did, [asset_id], actor=p), None)
        return toast

    @guarded(WRITE)
    async def add_all(self):
        did, ids = self._dispatch_id(), [a.id for a in self.ready]
        if not ids:
            return rx.toast.info("Nothing of this client is waiting to leave.")
        toast, _ = await self._do(
            lambda s, p: service.add_assets(s, did, ids, actor=p), f"{len(ids)} device(s) added to the dispatch."
        )
        return toast

    @guarded(WRITE)
    async def remove_asset(self, asset_id: str):
        did = self._dispatch_id()
        toast, _ = await self._do(lambda s, p: service.remove_asset(s, did, asset_id, actor=p), None)
        return toast

    @guarded(WRITE)
    async def save_shipping(self, form: dict):
        did, p = self._dispatch_id(), current_principal()
        carrier, tracking = str(form.get("carrier") or ""), str(form.get("tracking") or "")
        notes = str(form.get("notes") or "")
        try:
            await in_tenant(
                lambda s: service.update_dispatch(
                    s, did, actor=p, carrier=carrier, tracking_number=tracking, notes=notes
                )
            )
        except DomainError as exc:
            self.shipping_error = sentence(exc.message)
            return None
        self.shipping_error = ""
        await self._refresh()
        return rx.toast.success("Carrier and tracking saved.")

    @guarded(WRITE)
    async def finalize(self):
        """Finalize (once: a second click, or a colleague's, shows the same invoice)."""
        did = self._dispatch_id()
        already = self.dispatch.status == "finalized"
        toast, invoice = await self._do(lambda s, p: service.finalize_dispatch(s, did, actor=p), None)
        if invoice is None:
            return toast
        words = "already finalized: its invoice" if already else "finalized: invoice draft written"
        return [
            rx.toast.success(f"Dispatch {self.dispatch.number} {words}."),
            rx.redirect(f"{INVOICES}/{invoice.id}"),
        ]

    @guarded(WRITE)
    async def cancel(self):
        did = self._dispatch_id()
        toast, _ = await self._do(
            lambda s, p: service.cancel_dispatch(s, did, actor=p), "Dispatch cancelled: its devices wait for another."
        )
        return toast


# --- /repairs/invoices ---------------------------------------------------------------------------


class RepairInvoicesState(LiveState, PagedState, AppState):
    PAGE_PERMISSION: ClassVar[str] = READ
    URL_PARAMS: ClassVar[tuple[str, ...]] = ("search", "status", "kind", "sort", "descending")
    LIVE: ClassVar[Live] = Live(READ, INVOICES, (LIVE_KIND,), settle=1.0)

    search: str = ""
    status: str = ""
    kind: str = ""
    sort: str = "created"
    descending: bool = True
    page_size: int = 25
    rows: list[InvoiceRowView] = []
    totals: list[StatusTotal] = []
    loaded: bool = False
    error: str = ""
    updated_at: str = ""

    @rx.var
    def filtered(self) -> bool:
        return bool(self.search or self.status or self.kind)

    def _filter(self) -> service.InvoiceFilter:
        return service.InvoiceFilter(
            search=self.search,
            status=self.status,
            kind=self.kind,
            sort=self.sort,
            descending=self.descending,
            page=self.page,
            page_size=self.page_size,
        )

    def _apply(self, snap: InvoicesSnapshot, fmt: ShopFormat) -> None:
        self.rows, self.total, self.page, self.totals = snap.rows, snap.total, snap.page, snap.totals
        self.updated_at, self.error, self.loaded = _now(fmt), "", True

    def _fetch(self, tenant_id: uuid.UUID) -> None:
        fmt = of_tenant(tenant_id)
        try:
            self._apply(_invoices(tenant_id, fmt, self._filter()), fmt)
        except DomainError as exc:
            self.error = sentence(exc.message)

    async def _refresh(self) -> None:
        p = current_principal()
        try:
            snap = await asyncio.to_thread(_invoices, p.tenant_id, p.fmt, self._filter())
        except DomainError as exc:
            self.error, self.loaded = sentence(exc.message), True
            return
        self._apply(snap, p.fmt)

    @guarded(READ, quiet=True)
    async def load(self):
        self._read_url()
        if self.status not in INVOICE_FILTERS:
            self.status = ""
        if self.kind not in KIND_FILTERS:
            self.kind = ""
        if self.sort not in service.INVOICE_SORTS:
            self.sort = "created"
        await self._refresh()
        return RepairInvoicesState.watch

    @guarded(READ)
    async def set_search(self, value: str):
        return await self._search(search=value.strip()[:200])

    @guarded(READ)
    def set_status(self, value: str):
        return self._navigate(status=value if value in INVOICE_FILTERS else "")

    @guarded(READ)
    def set_kind(self, value: str):
        value = "" if value == "all" else value
        return self._navigate(kind=value if value in KIND_FILTERS else "")

    @guarded(READ)
    def sort_by(self, column: str):
        if column not in service.INVOICE_SORTS:
            return None
        if column == self.sort:
            return self._navigate(descending=not self.descending)
        return self._navigate(sort=column, descending=column in ("created", "issued", "due", "total"))

    @guarded(READ)
    def clear_filters(self):
        return self._navigate(search="", status="", kind="")


# --- /repairs/invoices/[id] ----------------------------------------------------------------------


class RepairInvoiceState(PageVisit, LiveState, AppState):
    LIVE: ClassVar[Live] = Live(READ, INVOICES, (LIVE_KIND,), settle=0.3)

    invoice: InvoiceView = InvoiceView()
    lines: list[LineView] = []
    error: str = ""
    loaded: bool = False
    busy: bool = False

    # the line dialog (add: line id "")
    line_open: bool = False
    line: LineView = LineView()
    line_error: str = ""
    line_key: int = 0

    vat_error: str = ""
    void_open: bool = False
    void_error: str = ""
    _watched_path: str = ""

    @rx.var
    def can_write(self) -> bool:
        return WRITE in self.permissions

    @rx.var
    def editable(self) -> bool:
        return WRITE in self.permissions and self.invoice.status == "draft" and self.invoice.kind == "invoice"

    @rx.var
    def rendering(self) -> bool:
        return self.invoice.pdf_status in ("queued", "rendering")

    def _invoice_id(self) -> str:
        return self.router.url.path.rstrip("/").rsplit("/", 1)[-1]

    def _apply(self, snap: InvoiceSnapshot) -> None:
        self.invoice, self.lines = snap.invoice, snap.lines
        self.error, self.loaded = "", True

    def _fetch(self, tenant_id: uuid.UUID) -> None:
        try:
            self._apply(_invoice(tenant_id, of_tenant(tenant_id), self._invoice_id()))
        except DomainError:
            return

    async def _refresh(self) -> None:
        p = current_principal()
        try:
            snap = await asyncio.to_thread(_invoice, p.tenant_id, p.fmt, self._invoice_id())
        except DomainError as exc:
            self.error, self.loaded = sentence(exc.message), True
            return
        self._apply(snap)

    @guarded(READ, quiet=True)
    async def load(self):
        self.loaded, self.error = False, ""
        if self._new_visit():  # not when the page loads itself again (a reconnect)
            self.line_open = self.void_open = False
            self.vat_error = self.void_error = self.line_error = ""
        await self._refresh()
        return RepairInvoiceState.watch

    def _live_start(self, principal: auth.Principal) -> Any:
        self._watched_path = self.router.url.path.rstrip("/")
        return principal.tenant_id

    def _live_here(self) -> bool:
        return self.router.url.path.rstrip("/") == self._watched_path

    async def _do(self, work, ok: str | None):
        p = current_principal()
        self.busy = True
        try:
            result = await in_tenant(lambda s: work(s, p))
        except DomainError as exc:
            self.busy = False
            await self._refresh()
            return rx.toast.error(sentence(exc.message)), None
        self.busy = False
        await self._refresh()
        return (rx.toast.success(ok) if ok else None), result

    # --- lines -----------------------------------------------------------------------------------

    @guarded(WRITE)
    def open_line(self, line_id: str):
        found = next((ln for ln in self.lines if ln.id == line_id), None)
        self.line = found or LineView(quantity_value="1", unit_value="")
        self.line_error = ""
        self.line_key += 1
        self.line_open = True

    @guarded(WRITE)
    def set_line_open(self, value: bool):
        self.line_open = value

    @guarded(WRITE)
    async def save_line(self, form: dict):
        iid, line_id, p = self._invoice_id(), self.line.id, current_principal()
        description = str(form.get("description") or "")
        quantity, price = str(form.get("quantity") or "").strip(), str(form.get("unit_price") or "").strip()
        if not price:
            self.line_error = "Write the unit price (0 is a price)."
            return None
        try:
            if line_id:
                await in_tenant(
                    lambda s: service.update_line(
                        s, line_id, actor=p, description=description, quantity=quantity or "1", unit_price=price
                    )
                )
            else:
                await in_tenant(
                    lambda s: service.add_line(
                        s, iid, description=description, quantity=quantity or "1", unit_price=price, actor=p
                    )
                )
        except DomainError as exc:
            self.line_error = sentence(exc.message)
            return None
        self.line_open, self.line_error = False, ""
        await self._refresh()
        return rx.toast.success(f"Line saved: the total is {self.invoice.total}.")

    @guarded(WRITE)
    async def remove_line(self, line_id: str):
        toast, _ = await self._do(lambda s, p: service.remove_line(s, line_id, actor=p), "Line removed.")
        return toast

    @guarded(WRITE)
    async def save_vat(self, form: dict):
        iid, rate, p = self._invoice_id(), str(form.get("vat_rate") or "").strip(), current_principal()
        try:
            await in_tenant(lambda s: service.set_vat_rate(s, iid, rate or "0", actor=p))
        except DomainError as exc:
            self.vat_error = sentence(exc.message)
            return None
        self.vat_error = ""
        await self._refresh()
        return rx.toast.success(f"VAT {self.invoice.vat_rate} %: the total is {self.invoice.total}.")

    # --- the lifecycle ---------------------------------------------------------------------------

    @guarded(WRITE)
    async def send(self):
        iid = self._invoice_id()
        toast, sent = await self._do(lambda s, p: service.send_invoice(s, iid, actor=p), None)
        if sent is None:
            return toast
        return rx.toast.success(f"Invoice {sent.number} sent: the PDF is being rendered.")

    @guarded(WRITE)
    async def mark_paid(self):
        iid = self._invoice_id()
        toast, _ = await self._do(lambda s, p: service.mark_paid(s, iid, actor=p), "Marked paid.")
        return toast

    @guarded(WRITE)
    def set_void_open(self, value: bool):
        self.void_open, self.void_error = value, ""

    @guarded(WRITE)
    async def void(self, form: dict):
        iid, reason, p = self._invoice_id(), str(form.get("reason") or ""), current_principal()
        if not reason.strip():
            self.void_error = "Say why the invoice is voided (it is printed on the credit note)."
            return None
        try:
            note = await in_tenant(lambda s: service.void_invoice(s, iid, reason, actor=p))
        except DomainError as exc:
            self.void_error = sentence(exc.message)
            return None
        self.void_open, self.void_error = False, ""
        await self._refresh()
        if note is None:
            return rx.toast.success("The draft is void.")
        return rx.toast.success(f"Invoice void: credit note {note.number} issued.")

    @guarded(WRITE)
    async def retry_pdf(self):
        iid = self._invoice_id()
        toast, _ = await self._do(lambda s, p: service.request_pdf(s, iid, actor=p), "Rendering the PDF again.")
        return toast
