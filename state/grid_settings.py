"""Settings › Gridfinity: the feature flag (grid SKUs generated, or treated
as regular products), pricing (base price, price per grid unit, the unit's
size, currency), the largest drawer side, the printer the plates are sliced
for, and the hours after which unused generated jobs expire. Admins
(settings.write) edit them; everyone else with settings.read reads them.
The rules (ranges, what is stored) are the grid service's."""

from __future__ import annotations

import dataclasses
from decimal import Decimal, InvalidOperation

import reflex as rx
from sqlmodel import Session

from app.grid import service
from app.grid.geometry.printers import BED_PRESETS
from app.platform.errors import DomainError, ValidationFailed
from app.platform.formatting import ShopFormat
from state.base import AppState, current_principal, guarded, in_tenant
from state.grid import Choice, mm
from state.util import sentence


@dataclasses.dataclass
class GridSettingsView:
    enabled: bool = False
    base_price: str = ""
    unit_price: str = ""
    unit_size_mm: str = ""
    currency: str = ""
    max_dimension_mm: str = ""
    printer: str = ""  # a bed preset's key
    expiry_hours: str = ""
    words: str = ""  # the settings as sentences (the read-only view)


def settings_words(st: service.GridSettings, fmt: ShopFormat) -> str:
    p = st.profile()
    return (
        f"A baseplate costs {fmt.money(st.base_price, st.currency)} plus {fmt.money(st.unit_price, st.currency)} "
        f"per {mm(st.unit_size_mm)} × {mm(st.unit_size_mm)} mm of grid; drawer sides up to {mm(st.max_dimension_mm)} "
        f"mm; sliced for {p.name} ({mm(p.bed_width_mm)} × {mm(p.bed_depth_mm)} mm bed); generated jobs nobody "
        f"ordered expire after {st.expiry_hours} hour(s)."
    )


def _view(s: Session, fmt: ShopFormat) -> GridSettingsView:
    st = service.grid_settings(s)
    printer = st.printer if st.printer in BED_PRESETS else ""
    return GridSettingsView(
        enabled=st.enabled,
        base_price=f"{st.base_price:.2f}",
        unit_price=f"{st.unit_price:.2f}",
        unit_size_mm=mm(st.unit_size_mm),
        currency=st.currency,
        max_dimension_mm=mm(st.max_dimension_mm),
        printer=printer,
        expiry_hours=str(st.expiry_hours),
        words=settings_words(st, fmt),
    )


def settings_from_form(form: dict, current: service.GridSettings) -> tuple[service.GridSettings, dict[str, str]]:
    """The settings typed in the card on top of the current ones, and the
    errors of fields that are not numbers at all (the service checks ranges)."""
    errors: dict[str, str] = {}

    def text(name: str) -> str:
        return str(form.get(name) or "").strip()

    def amount(name: str, key: str) -> Decimal:
        raw = text(name).replace(",", ".")
        try:
            value = Decimal(raw)
            if value.is_finite():
                return value
        except InvalidOperation:
            pass
        errors[key] = "Write an amount, such as 4.50." if raw else "Fill this in."
        return Decimal(0)

    def number(name: str, key: str, kind: type[float] | type[int]) -> float:
        raw = text(name).replace(",", ".")
        try:
            return kind(raw)
        except ValueError:
            errors[key] = ("Write a whole number." if kind is int else "Write a number.") if raw else "Fill this in."
            return 0

    printer = text("printer")
    print_settings = dict(current.print_settings)
    if printer in BED_PRESETS:
        print_settings["printer"] = printer
    elif printer:
        errors["printSettings"] = "Choose a printer from the list."
    new = dataclasses.replace(
        current,
        base_price=amount("base_price", "basePrice"),
        unit_price=amount("unit_price", "unitPrice"),
        unit_size_mm=number("unit_size_mm", "unitSizeMm", float),
        currency=text("currency").upper(),
        max_dimension_mm=number("max_dimension_mm", "maxDimensionMm", float),
        print_settings=print_settings,
        expiry_hours=int(number("expiry_hours", "expiryHours", int)),
    )
    return new, errors


class GridSettingsState(AppState):
    grid: GridSettingsView = GridSettingsView()
    grid_printers: list[Choice] = [
        Choice(key, f"{label} · {mm(w)} × {mm(d)} mm") for key, (label, w, d) in BED_PRESETS.items()
    ]
    grid_errors: dict[str, str] = {}
    grid_version: int = 0  # the form's key: a save re-reads its defaults
    grid_saving: bool = False

    @rx.var
    def grid_can_edit(self) -> bool:
        return "settings.write" in self.permissions

    async def _reload(self) -> None:
        """Read the settings; the form starts again from them only when they changed (as
        the inventory card: a new key remounts the form under the person's click)."""
        fmt = current_principal().fmt
        view = await in_tenant(lambda s: _view(s, fmt))
        if view != self.grid or not self.grid_version:
            self.grid, self.grid_version = view, self.grid_version + 1

    @guarded("settings.read", quiet=True)
    async def load(self):
        self.grid_errors = {}
        await self._reload()

    @guarded("settings.write")
    async def set_enabled(self, on: bool):
        p = current_principal()

        def work(s: Session) -> service.GridSettings:
            return service.save_grid_settings(
                s, dataclasses.replace(service.grid_settings(s), enabled=bool(on)), actor=p
            )

        try:
            await in_tenant(work)
        except DomainError as exc:
            return rx.toast.error(sentence(exc.message))
        await self._reload()
        if on:
            return rx.toast.success(
                "Gridfinity is on: GRID-CUSTOM order lines are generated, sliced and printed, and the storefront "
                "sells baseplates."
            )
        return rx.toast.success("Gridfinity is off: GRID-CUSTOM order lines are treated as regular products.")

    @guarded("settings.write")
    async def save(self, form: dict):
        p = current_principal()

        def work(s: Session) -> dict[str, str] | service.GridSettings:
            new, errors = settings_from_form(form, service.grid_settings(s))
            if errors:
                return errors
            return service.save_grid_settings(s, new, actor=p)

        self.grid_saving = True
        try:
            saved = await in_tenant(work)
        except ValidationFailed as exc:
            fields = exc.details.get("fields")
            self.grid_errors = (
                {str(k): sentence(str(v)) for k, v in fields.items()} if fields else {"form": sentence(exc.message)}
            )
            return None
        except DomainError as exc:
            self.grid_errors = {"form": sentence(exc.message)}
            return None
        finally:
            self.grid_saving = False
        if isinstance(saved, dict):
            self.grid_errors = saved
            return None
        self.grid_errors = {}
        await self._reload()
        return rx.toast.success(f"Gridfinity settings saved. {settings_words(saved, p.fmt)}")
