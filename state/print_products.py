"""/printing/products and /printing/products/[id]: which SKUs are printed, from
which parts, with which print profile and SimplyPrint file."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from typing import TypeVar

import reflex as rx

from app.inventory import service as inventory
from app.platform.db import tenant_session
from app.platform.errors import DomainError
from app.platform.formatting import ShopFormat
from app.printing import machine, service
from app.printing.models import AssemblyPart, ProductMapping
from state.base import AppState, PageVisit, current_principal, guarded, in_tenant
from state.util import sentence

UPLOAD_ID = "part_file"
PROFILE_FIELDS = ("layer_height", "infill", "supports", "material", "nozzle")

N = TypeVar("N", int, float)


class FormError(ValueError):
    pass


def _number(form: dict, name: str, label: str, kind: type[N], low: float = 0, high: float | None = None) -> N | None:
    raw = str(form.get(name) or "").strip().replace(",", ".")
    if not raw:
        return None
    try:
        value = kind(raw)
    except ValueError:
        raise FormError(f"{label} must be {'a whole number' if kind is int else 'a number'}.") from None
    if value < low or (high is not None and value > high):
        raise FormError(
            f"{label} must be between {low:g} and {high:g}."
            if high is not None
            else f"{label} cannot be below {low:g}."
        )
    return value


def profile_from_form(form: dict) -> dict:
    """The print-profile fields of a form; empty fields are left out (for a
    part: inherit the product's default)."""
    profile: dict = {}
    layer = _number(form, "layer_height", "Layer height", float, 0.01, 2)
    infill = _number(form, "infill", "Infill", int, 0, 100)
    nozzle = _number(form, "nozzle", "Nozzle", float, 0.1, 3)
    if layer is not None:
        profile["layer_height"] = layer
    if infill is not None:
        profile["infill"] = infill
    if nozzle is not None:
        profile["nozzle"] = nozzle
    material = str(form.get("material") or "").strip()
    if material:
        profile["material"] = material[:40]
    supports = str(form.get("supports") or "").strip()
    if supports in ("yes", "no"):
        profile["supports"] = supports == "yes"
    return profile


PACKING_INPUTS = (
    ("weight_grams", "The packed weight", "grams"),
    ("length_cm", "The packed length", "cm"),
    ("width_cm", "The packed width", "cm"),
    ("height_cm", "The packed height", "cm"),
)


def packing_from_form(form: dict) -> dict[str, int | None]:
    """The packed weight and size typed in a form, as whole numbers (None for an
    empty field); their limits are the printing service's to check."""
    packing: dict[str, int | None] = {}
    for name, label, unit in PACKING_INPUTS:
        raw = str(form.get(name) or "").strip()
        try:
            packing[name] = int(raw) if raw else None
        except ValueError:
            raise FormError(f"{label} must be a whole number of {unit}.") from None
    return packing


def profile_text(profile: dict | None) -> str:
    p = profile or {}
    bits = []
    if p.get("material"):
        bits.append(str(p["material"]))
    if p.get("layer_height") is not None:
        bits.append(
            f"{p['layer_height']:g} mm layers"
            if isinstance(p["layer_height"], (int, float))
            else f"{p['layer_height']} mm layers"
        )
    if p.get("infill") is not None:
        bits.append(f"{p['infill']}% infill")
    if p.get("supports") is not None:
        bits.append("supports" if p["supports"] else "no supports")
    if p.get("nozzle") is not None:
        bits.append(f"{p['nozzle']} mm nozzle")
    bits += [f"{_field_words(k)}: {v}" for k, v in p.items() if k not in PROFILE_FIELDS]
    return ", ".join(bits)


def _field_words(key: str) -> str:
    """A profile field's name in words (one from an import we do not know: its underscores as spaces)."""
    words = machine.PROFILE_FIELD.label(key)
    return words if words != key else key.replace("_", " ").capitalize()


@dataclasses.dataclass
class ProfileValues:
    """A print profile as form default values (strings; "" for not set)."""

    layer_height: str = ""
    infill: str = ""
    nozzle: str = ""
    material: str = ""
    supports: str = ""  # yes | no | ""


def profile_values(profile: dict | None) -> ProfileValues:
    """A profile as form default values (strings)."""
    p = profile or {}
    supports = p.get("supports")
    return ProfileValues(
        layer_height="" if p.get("layer_height") is None else f"{p['layer_height']}",
        infill="" if p.get("infill") is None else f"{p['infill']}",
        nozzle="" if p.get("nozzle") is None else f"{p['nozzle']}",
        material=str(p.get("material") or ""),
        supports="" if supports is None else ("yes" if supports else "no"),
    )


def _minutes(value: float | int | None) -> str:
    if value is None:
        return "—"
    value = round(value)
    return f"{value // 60} h {value % 60:02d} min" if value >= 60 else f"{value} min"


def _short(file_id: str | None) -> str:
    return "" if not file_id else file_id if len(file_id) <= 14 else f"{file_id[:12]}…"


@dataclasses.dataclass
class MappingRow:
    """A product mapping on /printing/products."""

    id: str = ""
    sku: str = ""
    name: str = ""
    variant: str = ""
    profile: str = ""  # the default print profile, in words
    active: bool = False
    state: str = ""  # active | inactive (machine.MAPPING_STATE)
    updated: str = ""
    parts: int = 0  # assembly parts


@dataclasses.dataclass
class MappingView:
    """The product mapping on /printing/products/[id]."""

    id: str = ""
    sku: str = ""
    name: str = ""
    variant: str = ""
    profile: str = ""
    active: bool = False
    state: str = ""  # active | inactive (machine.MAPPING_STATE)
    updated: str = ""  # when it last changed, in words
    version: str = ""  # the form's key: a save re-reads the form's defaults
    description: str = ""
    weight: str = ""  # one packed unit, in words ("" when not set)
    size: str = ""  # its box, "20 × 15 × 10 cm" ("" when not set)
    weight_grams: str = ""  # the same as form values
    length_cm: str = ""
    width_cm: str = ""
    height_cm: str = ""


@dataclasses.dataclass
class PartRow:
    """An assembly part of a mapping; also what the part dialog edits (id "" for a new part).
    The p_* fields are its print-profile overrides as form values."""

    id: str = ""
    name: str = ""
    number: str = ""
    quantity: int = 1
    minutes: str = ""
    filament: str = ""
    minutes_value: str = ""
    filament_value: str = ""
    overrides: str = ""
    p_layer_height: str = ""
    p_infill: str = ""
    p_nozzle: str = ""
    p_material: str = ""
    p_supports: str = ""
    file_id: str = ""
    filename: str = ""
    file_id_short: str = ""


@dataclasses.dataclass
class PartTotals:
    """One product's prints, time and filament; `missing`: parts without a file (all as text)."""

    parts: str = ""
    minutes: str = ""
    filament: str = ""
    missing: str = ""


def _state(m: ProductMapping) -> str:
    return "active" if m.active else "inactive"


def _mapping_row(m: ProductMapping, parts: int, fmt: ShopFormat) -> MappingRow:
    return MappingRow(
        id=str(m.id),
        sku=m.sku,
        name=m.name,
        variant=m.variant_title or "",
        profile=profile_text(m.default_print_profile),
        active=bool(m.active),
        state=_state(m),
        updated=fmt.when(m.updated_at),
        parts=parts,
    )


def _mapping_view(m: ProductMapping, fmt: ShopFormat) -> MappingView:
    return MappingView(
        id=str(m.id),
        sku=m.sku,
        name=m.name,
        variant=m.variant_title or "",
        profile=profile_text(m.default_print_profile),
        active=bool(m.active),
        state=_state(m),
        updated=fmt.when(m.updated_at),
        version=str(m.updated_at.timestamp()) if m.updated_at else "",
        description=m.description or "",
        weight="" if m.weight_grams is None else f"{fmt.number(m.weight_grams)} g",
        size="" if m.length_cm is None else f"{m.length_cm} × {m.width_cm} × {m.height_cm} cm",
        weight_grams=_text(m.weight_grams),
        length_cm=_text(m.length_cm),
        width_cm=_text(m.width_cm),
        height_cm=_text(m.height_cm),
    )


def _text(value: int | None) -> str:
    return "" if value is None else str(value)


def _part_row(pt: AssemblyPart) -> PartRow:
    overrides = profile_values(pt.print_profile)
    return PartRow(
        id=str(pt.id),
        name=pt.part_name,
        number=pt.part_number or "",
        quantity=pt.quantity_per_product,
        minutes=_minutes(pt.estimated_minutes),
        filament="—" if pt.estimated_filament_g is None else f"{pt.estimated_filament_g:g} g",
        minutes_value="" if pt.estimated_minutes is None else f"{pt.estimated_minutes:g}",
        filament_value="" if pt.estimated_filament_g is None else f"{pt.estimated_filament_g:g}",
        overrides=profile_text(pt.print_profile),
        p_layer_height=overrides.layer_height,
        p_infill=overrides.infill,
        p_nozzle=overrides.nozzle,
        p_material=overrides.material,
        p_supports=overrides.supports,
        file_id=pt.simplyprint_file_id or "",
        filename=pt.filename or "",
        file_id_short=_short(pt.simplyprint_file_id),
    )


class PrintProductsState(PageVisit, AppState):
    rows: list[MappingRow] = []
    search: str = ""
    loaded: bool = False
    create_open: bool = False
    create_error: str = ""

    @rx.var
    def can_write(self) -> bool:
        return "printJobs.write" in self.permissions

    def _fetch(self, tenant_id: uuid.UUID, fmt: ShopFormat) -> None:
        with tenant_session(tenant_id) as s:
            mappings = service.list_mappings(s, self.search)
            counts = service.part_counts(s)
            self.rows = [_mapping_row(m, counts.get(m.id, 0), fmt) for m in mappings]

    async def _refresh(self) -> None:
        p = current_principal()
        await asyncio.to_thread(self._fetch, p.tenant_id, p.fmt)
        self.loaded = True

    @guarded("printJobs.read", quiet=True)
    async def load(self):
        if self._new_visit():  # not when the page loads itself again (a reconnect)
            self.create_open = False
        await self._refresh()

    @guarded("printJobs.read")
    async def set_search(self, value: str):
        self.search = value[:200]
        await self._refresh()

    @guarded("printJobs.write")
    def set_create_open(self, value: bool):
        self.create_open, self.create_error = value, ""

    @guarded("printJobs.write")
    async def create(self, form: dict):
        p = current_principal()
        try:
            profile = profile_from_form(form)
            packing = packing_from_form(form)
        except FormError as exc:
            self.create_error = str(exc)
            return None

        def work(s):
            m = service.create_mapping(
                s,
                sku=(form.get("sku") or "").strip(),
                name=(form.get("name") or "").strip(),
                variant_title=(form.get("variant_title") or "").strip(),
                description=(form.get("description") or "").strip(),
                default_print_profile=profile,
                **packing,
                actor=p,
            )
            return str(m.id), m.name

        try:
            mapping_id, name = await in_tenant(work)
        except DomainError as exc:
            self.create_error = sentence(exc.message)
            return None
        self.create_open, self.create_error = False, ""
        return [
            rx.redirect(f"/printing/products/{mapping_id}"),
            rx.toast.success(f"{name} mapped. Add its parts and upload their files."),
        ]


class PrintProductState(PageVisit, AppState):
    mapping: MappingView = MappingView()
    profile: ProfileValues = ProfileValues()
    parts: list[PartRow] = []
    totals: PartTotals = PartTotals()
    connected: bool = False
    error: str = ""
    loaded: bool = False
    edit_error: str = ""
    part_open: bool = False
    part: PartRow = PartRow()
    part_error: str = ""
    upload_open: bool = False
    upload_part: PartRow = PartRow()
    upload_error: str = ""
    uploading: bool = False

    @rx.var
    def can_write(self) -> bool:
        return "printJobs.write" in self.permissions

    def _mapping_id(self) -> str:
        return self.router.url.path.rstrip("/").rsplit("/", 1)[-1]

    def _fetch(self, tenant_id: uuid.UUID, fmt: ShopFormat) -> None:
        with tenant_session(tenant_id) as s:
            m = service.get_mapping(s, self._mapping_id())
            parts = service.parts(s, m.id)
            self.connected = service.connection(s) is not None
            self.mapping = _mapping_view(m, fmt)
            self.profile = profile_values(m.default_print_profile)
            self.parts = [_part_row(pt) for pt in parts]
            minutes = sum((pt.estimated_minutes or 0) * pt.quantity_per_product for pt in parts)
            grams = sum((pt.estimated_filament_g or 0) * pt.quantity_per_product for pt in parts)
            self.totals = PartTotals(
                parts=str(sum(pt.quantity_per_product for pt in parts)),
                minutes=_minutes(minutes) if minutes else "—",
                filament=f"{grams:g} g" if grams else "—",
                missing=str(sum(1 for pt in parts if not pt.simplyprint_file_id and not pt.filename)),
            )

    async def _refresh(self) -> None:
        p = current_principal()
        try:
            await asyncio.to_thread(self._fetch, p.tenant_id, p.fmt)
            self.error = ""
        except DomainError as exc:
            self.error = sentence(exc.message)
        self.loaded = True

    @guarded("printJobs.read", quiet=True)
    async def load(self):
        if self._new_visit():  # not when the page loads itself again (a reconnect)
            self.loaded, self.part_open, self.upload_open, self.edit_error = False, False, False, ""
        await self._refresh()

    # --- the mapping -----------------------------------------------------------------------

    @guarded("printJobs.write")
    async def save(self, form: dict):
        p, mid = current_principal(), self._mapping_id()
        try:
            profile = profile_from_form(form)
            packing = packing_from_form(form)
        except FormError as exc:
            self.edit_error = str(exc)
            return None
        fields = {
            "sku": (form.get("sku") or "").strip(),
            "name": (form.get("name") or "").strip(),
            "variant_title": (form.get("variant_title") or "").strip(),
            "description": (form.get("description") or "").strip(),
            "active": form.get("active") in ("on", "true", True),
            "default_print_profile": profile,
            **packing,
        }
        try:
            await in_tenant(lambda s: service.update_mapping(s, mid, actor=p, **fields))
        except DomainError as exc:
            self.edit_error = sentence(exc.message)
            return None
        self.edit_error = ""
        await self._refresh()
        return rx.toast.success("Product mapping saved.")

    @guarded("printJobs.write")
    async def delete(self):
        p, mid = current_principal(), self._mapping_id()
        try:
            await in_tenant(lambda s: service.delete_mapping(s, mid, actor=p))
        except DomainError as exc:
            return rx.toast.error(sentence(exc.message))
        return [rx.redirect("/printing/products"), rx.toast.success(f"{self.mapping.sku} removed.")]

    @guarded("inventory.write")
    async def print_stock(self, form: dict):
        p, mid = current_principal(), self._mapping_id()
        try:
            quantity = _number(form, "stock_quantity", "Quantity", int, 1, 500) or 1
        except FormError as exc:
            return rx.toast.error(str(exc))
        try:
            jobs = await in_tenant(
                lambda s: sum(b.total_jobs for b in inventory.create_batches(s, mid, quantity, actor=p))
            )
        except DomainError as exc:
            return rx.toast.error(sentence(exc.message))
        return rx.toast.success(
            f"{quantity} stock batch(es) of {self.mapping.sku} ({jobs} print job(s)) queued for stock, "
            "behind every order; each adds one to the shelf when its prints are done."
        )

    # --- parts -------------------------------------------------------------------------------

    @guarded("printJobs.write")
    def new_part(self):
        self.part = PartRow(quantity=1)
        self.part_error, self.part_open = "", True

    @guarded("printJobs.write")
    def edit_part(self, part: PartRow):
        self.part = dataclasses.replace(part)
        self.part_error, self.part_open = "", True

    @guarded("printJobs.write")
    def set_part_open(self, value: bool):
        self.part_open = value

    @guarded("printJobs.write")
    async def save_part(self, form: dict):
        p, mid, part_id = current_principal(), self._mapping_id(), self.part.id
        try:
            quantity = _number(form, "quantity_per_product", "Quantity per product", int, 1, 1000) or 1
            minutes = _number(form, "estimated_minutes", "Estimated time", float, 0)
            grams = _number(form, "estimated_filament_g", "Estimated filament", float, 0)
            overrides = profile_from_form(form)
        except FormError as exc:
            self.part_error = str(exc)
            return None
        fields = {
            "part_name": (form.get("part_name") or "").strip(),
            "part_number": (form.get("part_number") or "").strip(),
            "quantity_per_product": quantity,
            "estimated_minutes": minutes,
            "estimated_filament_g": grams,
            "print_profile": overrides,
        }
        try:
            if part_id:
                await in_tenant(lambda s: service.update_part(s, part_id, actor=p, **fields))
            else:
                await in_tenant(lambda s: service.add_part(s, mid, actor=p, **fields))
        except DomainError as exc:
            self.part_error = sentence(exc.message)
            return None
        self.part_open, self.part_error = False, ""
        await self._refresh()
        return rx.toast.success(f"Part {fields['part_name']} {'saved' if part_id else 'added'}.")

    @guarded("printJobs.write")
    async def delete_part(self, part_id: str):
        p = current_principal()
        try:
            await in_tenant(lambda s: service.delete_part(s, part_id, actor=p))
        except DomainError as exc:
            return rx.toast.error(sentence(exc.message))
        await self._refresh()
        return rx.toast.success("Part removed.")

    # --- files -------------------------------------------------------------------------------

    @guarded("printJobs.write")
    def open_upload(self, part: PartRow):
        self.upload_part = PartRow(id=part.id, name=part.name, filename=part.filename, file_id=part.file_id)
        self.upload_error, self.upload_open = "", True
        return rx.clear_selected_files(UPLOAD_ID)

    @guarded("printJobs.write")
    def set_upload_open(self, value: bool):
        self.upload_open = value

    @guarded("printJobs.write")
    async def upload_file(self, files: list[rx.UploadFile]):
        if not files:
            self.upload_error = "Choose a .gcode, .stl or .3mf file first."
            return
        upload = files[0]
        name = upload.filename or upload.name or "part.gcode"
        data = await upload.read()
        p, part_id = current_principal(), self.upload_part.id
        self.uploading = True
        yield

        def work(s):
            part = service.upload_part_file(s, part_id, name, data, actor=p)
            return part.filename or name, str(part.simplyprint_file_id or "")

        try:
            filename, file_id = await in_tenant(work)
        except DomainError as exc:
            self.uploading, self.upload_error = False, sentence(exc.message)
            return
        self.uploading, self.upload_open, self.upload_error = False, False, ""
        await self._refresh()
        yield rx.clear_selected_files(UPLOAD_ID)
        yield rx.toast.success(
            f"{filename} uploaded to SimplyPrint (file {_short(file_id)})."
            if file_id
            else f"{filename} saved. It goes to SimplyPrint once SimplyPrint is connected."
        )
