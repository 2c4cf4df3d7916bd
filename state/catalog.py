"""/catalog: the parts catalog (global), its import with live progress, and
this shop's offers (price-list upload, single edits). Prices and dates are
written in the shop's format (`current_principal().fmt`)."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from typing import Any, ClassVar

import reflex as rx

from app.catalog import demo, importer, service
from app.catalog.machine import offer_status
from app.catalog.models import CatalogImport, CatalogPart, PartOffer
from app.platform.db import platform_session, tenant_session
from app.platform.errors import DomainError
from app.platform.formatting import ShopFormat
from state.base import AppState, PageVisit, current_principal, guarded, in_tenant
from state.live import Live, LiveState
from state.paging import PagedState, last_page_index
from state.util import sentence

SORTS = ("name", "manufacturer", "slot", "price", "stock", "updated")
SHORT = {
    "cpu": "CPU",
    "motherboard": "Board",
    "ram": "RAM",
    "gpu": "GPU",
    "storage": "Storage",
    "psu": "PSU",
    "case": "Case",
    "cooler": "Cooler",
}


@dataclasses.dataclass
class ImportRun:
    """The latest catalog import and its progress; `id` is "" when none has run."""

    id: str = ""
    status: str = ""
    total: int = 0
    processed: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    error: str = ""
    started_by: str = ""
    finished: str = ""


# what a live progress message may change in the run on the page
LIVE_RUN_FIELDS = ("status", "total", "processed", "created", "updated", "unchanged", "skipped", "error")


@dataclasses.dataclass
class OfferRow:
    """A catalog part and this shop's offer for it (if any)."""

    part_id: str = ""
    name: str = ""
    manufacturer: str = ""
    slot: str = ""
    slot_title: str = ""
    sold: bool = False
    status: str = ""  # OFFER_STATUS: active | inactive | unsold
    price: str = ""
    price_value: str = ""  # the price as the edit form's value
    stock: int = 0
    active: bool = False
    demo: bool = False
    updated: str = ""


@dataclasses.dataclass
class SlotCount:
    """Parts per slot for the bar chart (its keys: short, parts, offers)."""

    slot: str = ""
    title: str = ""
    short: str = ""
    parts: int = 0
    offers: int = 0
    active: int = 0


@dataclasses.dataclass
class PriceListRow:
    id: str = ""
    filename: str = ""
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    at: str = ""


@dataclasses.dataclass
class PriceListError:
    """A row of an uploaded price list that was skipped, and why."""

    row: int = 0
    opendb_id: str = ""
    message: str = ""


@dataclasses.dataclass
class PriceListResult:
    """The outcome of the last upload; `present` is False until there was one."""

    present: bool = False
    filename: str = ""
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0


@dataclasses.dataclass
class OfferEdit:
    """The offer in the edit dialog."""

    part_id: str = ""
    name: str = ""
    price: str = ""
    stock: str = ""
    active: bool = True


def _run_view(run: CatalogImport | None, fmt: ShopFormat, tenant_id: uuid.UUID) -> ImportRun:
    if run is None:
        return ImportRun()
    return ImportRun(
        id=str(run.id),
        status=run.status,
        total=run.total,
        processed=run.processed,
        created=run.created,
        updated=run.updated,
        unchanged=run.unchanged,
        skipped=run.skipped,
        error=run.error,
        started_by=service.started_by_label(run, tenant_id),
        finished=fmt.when(run.finished_at) if run.finished_at else "",
    )


def _row(offer: PartOffer | None, part: CatalogPart, fmt: ShopFormat) -> OfferRow:
    return OfferRow(
        part_id=str(part.id),
        name=part.name,
        manufacturer=part.manufacturer or "—",
        slot=part.slot,
        slot_title=service.SLOT_TITLES.get(part.slot, part.slot),
        sold=offer is not None,
        status=offer_status(offer is not None, bool(offer and offer.active)),
        price=fmt.money(offer.price, offer.currency) if offer else "—",
        price_value=f"{offer.price:.2f}" if offer else "",
        stock=offer.stock if offer else 0,
        active=bool(offer and offer.active),
        demo=bool(offer and offer.is_demo),
        updated=fmt.when(offer.updated_at) if offer else "",
    )


class CatalogState(PageVisit, LiveState, PagedState, AppState):
    PAGE_PERMISSION: ClassVar[str] = "catalog.read"
    # live: progress of a catalog import (a global channel) while this page is open; its
    # `_live_message` reads the run once subscribed (its own catch-up), so no reload then
    LIVE: ClassVar[Live] = Live("catalog.read", "/catalog", catch_up=False)

    counts: list[SlotCount] = []
    total_parts: int = 0
    total_offers: int = 0
    demo_offers: int = 0
    run: ImportRun = ImportRun()
    rows: list[OfferRow] = []
    view: str = "offers"  # offers | catalog
    search: str = ""
    slot: str = "all"
    status: str = "all"
    sort: str = "name"
    descending: bool = False
    loaded: bool = False
    upload_result: PriceListResult = PriceListResult()
    upload_errors: list[PriceListError] = []
    upload_error: str = ""
    price_lists: list[PriceListRow] = []
    edit_open: bool = False
    edit: OfferEdit = OfferEdit()
    edit_error: str = ""
    # a platform operator: may re-import the catalog every shop shares
    can_import: bool = False
    _caught_up: bool = False

    @rx.var
    def can_write(self) -> bool:
        return "catalog.write" in self.permissions

    @rx.var
    def running(self) -> bool:
        return self.run.status in ("QUEUED", "RUNNING")

    @rx.var
    def progress(self) -> int:
        r = self.run
        if not r.id:
            return 0
        if r.status == "COMPLETED":
            return 100
        total = r.total or 0
        return min(99, int(100 * (r.processed or 0) / total)) if total else 0

    def _filter(self) -> service.OfferFilter:
        return service.OfferFilter(
            search=self.search,
            slot="" if self.slot == "all" else self.slot,
            status="" if self.status == "all" else self.status,
            sort=self.sort,
            descending=self.descending,
            page=self.page,
            page_size=self.page_size,
            whole_catalog=self.view == "catalog",
        )

    def _fetch_rows(self, tenant_id: uuid.UUID, fmt: ShopFormat) -> None:
        f = self._filter()
        with tenant_session(tenant_id) as s:
            rows, total = service.list_offers(s, f)
            if f.page and not rows and total:
                f.page = self.page = last_page_index(total, f.page_size)
                rows, total = service.list_offers(s, f)
        self.rows, self.total = [_row(o, p, fmt) for o, p in rows], total

    def _fetch(self, tenant_id: uuid.UUID, fmt: ShopFormat) -> None:
        with platform_session() as ps:
            parts = service.slot_counts(ps)
        with tenant_session(tenant_id) as s:
            offers = service.offer_counts(s)
            self.price_lists = [
                PriceListRow(
                    id=str(p.id),
                    filename=p.filename,
                    created=p.created,
                    updated=p.updated,
                    unchanged=p.unchanged,
                    failed=p.failed,
                    at=fmt.when(p.created_at),
                )
                for p in service.list_price_lists(s, 5)
            ]
        self.counts = [
            SlotCount(
                slot=slot,
                title=service.SLOT_TITLES[slot],
                short=SHORT[slot],
                parts=parts[slot],
                offers=offers[slot]["offers"],
                active=offers[slot]["active"],
            )
            for slot in service.SLOTS
        ]
        self.total_parts = sum(parts.values())
        self.total_offers = sum(c["offers"] for c in offers.values())
        self.demo_offers = sum(c["demo"] for c in offers.values())
        self.run = _run_view(importer.latest_run(), fmt, tenant_id)
        self._fetch_rows(tenant_id, fmt)

    async def _refresh(self, rows_only: bool = False) -> None:
        p = current_principal()
        await asyncio.to_thread(self._fetch_rows if rows_only else self._fetch, p.tenant_id, p.fmt)
        self.loaded = True

    @guarded("catalog.read", quiet=True)
    async def load(self):
        if self._new_visit():  # not when the page loads itself again (a reconnect)
            self.upload_error, self.edit_open = "", False
        self.can_import = await asyncio.to_thread(service.can_import_catalog, current_principal())
        await self._refresh()
        return CatalogState.watch

    # --- table -------------------------------------------------------------------------------

    @guarded("catalog.read")
    async def set_view(self, value: str | list[str]):
        value = value[0] if isinstance(value, list) and value else value
        self.view = value if value in ("offers", "catalog") else "offers"
        if self.view == "offers" and self.status == "unsold":
            self.status = "all"
        self.page = 0
        await self._refresh(rows_only=True)

    @guarded("catalog.read")
    async def set_search(self, value: str):
        self.search, self.page = value[:200], 0
        await self._refresh(rows_only=True)

    @guarded("catalog.read")
    async def set_slot(self, value: str):
        self.slot = value if value in service.SLOTS else "all"
        self.page = 0
        await self._refresh(rows_only=True)

    @guarded("catalog.read")
    async def set_status(self, value: str):
        self.status = value if value in ("active", "inactive", "demo", "unsold") else "all"
        self.page = 0
        await self._refresh(rows_only=True)

    @guarded("catalog.read")
    async def sort_by(self, column: str):
        if column not in SORTS:
            return
        if self.sort == column:
            self.descending = not self.descending
        else:
            self.sort, self.descending = column, column in ("price", "stock", "updated")
        self.page = 0
        await self._refresh(rows_only=True)

    @guarded("catalog.read")
    async def clear_filters(self):
        self.search, self.slot, self.status, self.page = "", "all", "all", 0
        await self._refresh(rows_only=True)

    async def _reload_page(self) -> None:
        await self._refresh(rows_only=True)

    # --- writes ------------------------------------------------------------------------------

    @guarded("catalog.read")  # and a platform operator: the service checks
    async def start_import(self):
        p = current_principal()
        try:
            run = await asyncio.to_thread(service.queue_import, p)
        except DomainError as exc:
            return rx.toast.error(sentence(exc.message))
        self.run = _run_view(run, p.fmt, p.tenant_id)
        return [CatalogState.watch, rx.toast.info("Catalog import started. It keeps running if you leave this page.")]

    @guarded("catalog.write")
    async def upload_prices(self, files: list[rx.UploadFile]):
        if not files:
            self.upload_error = "Choose a CSV file first."
            return rx.toast.error(self.upload_error)
        upload = files[0]
        data = await upload.read()
        name = upload.filename or upload.name or "price-list.csv"
        p = current_principal()
        try:
            result = await in_tenant(lambda s: service.import_price_list(s, data, name, p))
        except DomainError as exc:
            self.upload_error, self.upload_errors, self.upload_result = sentence(exc.message), [], PriceListResult()
            return rx.toast.error(self.upload_error)
        self.upload_error = ""
        self.upload_errors = [
            PriceListError(row=e["row"], opendb_id=e["opendbId"] or "—", message=e["message"])
            for e in result.errors[:200]
        ]
        self.upload_result = PriceListResult(
            present=True,
            filename=result.filename,
            rows=result.rows_total,
            created=result.created,
            updated=result.updated,
            unchanged=result.unchanged,
            failed=result.failed,
        )
        await self._refresh()
        text = f"{result.filename}: {result.created} new, {result.updated} changed, {result.unchanged} unchanged offers"
        return [
            rx.clear_selected_files("price_upload"),
            rx.toast.warning(f"{text}; {result.failed} row(s) with errors.")
            if result.failed
            else rx.toast.success(f"{text}."),
        ]

    @guarded("catalog.write")
    async def load_demo_prices(self):
        created, updated, _ = await in_tenant(demo.load_demo_prices)
        await self._refresh()
        return rx.toast.success(f"Demo price list loaded: {created} new, {updated} changed offers.")

    @guarded("catalog.write")
    def open_edit(self, row: OfferRow):
        self.edit = OfferEdit(
            part_id=row.part_id,
            name=row.name,
            price=row.price_value,
            stock=str(row.stock),
            active=row.active or not row.sold,
        )
        self.edit_error, self.edit_open = "", True

    @guarded("catalog.write")
    def set_edit_open(self, value: bool):
        self.edit_open = value

    @guarded("catalog.write")
    async def save_offer(self, form: dict):
        p, part_id = current_principal(), self.edit.part_id
        try:
            stock = int((form.get("stock") or "0").strip())
        except ValueError:
            self.edit_error = "Stock is a whole number."
            return None
        active = form.get("active") in ("on", "true", True)
        try:
            await in_tenant(
                lambda s: service.set_offer(
                    s, part_id, price=form.get("price", ""), stock=stock, active=active, actor=p
                )
            )
        except DomainError as exc:
            self.edit_error = sentence(exc.message)
            return None
        self.edit_open = False
        await self._refresh()
        return rx.toast.success(f"{self.edit.name or 'Offer'} saved.")

    @guarded("catalog.write")
    async def deactivate(self, part_id: str):
        p = current_principal()
        await in_tenant(lambda s: service.deactivate_offer(s, part_id, actor=p))
        await self._refresh()
        return rx.toast.success("No longer for sale.")

    # --- live import progress ------------------------------------------------------------------

    def _live_start(self, principal):
        self._caught_up = False
        return service.CATALOG_CHANNEL

    async def _live_message(self, principal, message: dict | None) -> None:
        if not self._caught_up:  # subscribed now: read the row once for what happened before
            self._caught_up = True
            latest = _run_view(await asyncio.to_thread(importer.latest_run), principal.fmt, principal.tenant_id)
            if latest.status != self.run.status and latest.status in ("COMPLETED", "FAILED"):
                await asyncio.to_thread(self._fetch, principal.tenant_id, principal.fmt)
            else:
                self.run = latest
        if not message or message.get("kind") != "catalog-import":
            return
        if message.get("id") != self.run.id or message.get("status") in ("COMPLETED", "FAILED"):
            await asyncio.to_thread(self._fetch, principal.tenant_id, principal.fmt)
        else:
            changes: dict[str, Any] = {k: message[k] for k in LIVE_RUN_FIELDS if k in message}
            self.run = dataclasses.replace(self.run, **changes)
