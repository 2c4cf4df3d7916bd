"""The shop's grid settings (seed 003: Grid Pricing, Max Dimension,
MAX_SYNC_GRID_SIZE, Printer Profile, the feature flag, EXPIRED cleanup),
kept in the shop's system config and edited by admins in Settings.

- `feature.grid.enabled`: off, grid SKUs are regular products.
- `grid.basePrice`, `grid.unitPrice`, `grid.unitSizeMm`, `grid.currency`:
  a baseplate costs the base price plus the unit price per unit of area
  (one unit = unitSizeMm × unitSizeMm).
- `grid.max_dimension_mm`: a longer drawer side is refused on the order line.
- `grid.print_settings`: the printer profile pieces are sliced with
  (`{"printer": "<preset>", <setting>: <value>, …}`, app.grid.profiles).
- `grid.expiry_hours`: staff and storefront jobs nobody ordered expire then.
- `grid.max_sync_grid_size`: up to this many cells a preview is generated
  while the person waits; larger plate sets are generated in the worker.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from sqlmodel import Session

from app.grid import profiles
from app.grid.geometry import printers
from app.grid.geometry.spec import GridOptions
from app.grid.profiles import PrinterProfile
from app.grid.service._common import changed
from app.platform import config
from app.platform.auth import Principal
from app.platform.db import session_tenant_id
from app.platform.errors import ValidationFailed
from app.platform.formatting import of_tenant

KEYS = {
    "enabled": "feature.grid.enabled",
    "base_price": "grid.basePrice",
    "unit_price": "grid.unitPrice",
    "unit_size_mm": "grid.unitSizeMm",
    "currency": "grid.currency",
    "max_dimension_mm": "grid.max_dimension_mm",
    "print_settings": "grid.print_settings",
    "expiry_hours": "grid.expiry_hours",
    "max_sync_grid_size": "grid.max_sync_grid_size",
}
for _name, _words in (
    ("base_price", "Gridfinity: base price"),
    ("unit_price", "Gridfinity: price per grid unit"),
    ("unit_size_mm", "Gridfinity: grid unit size for pricing"),
    ("currency", "Gridfinity: currency"),
    ("max_dimension_mm", "Gridfinity: largest drawer side"),
    ("print_settings", "Gridfinity: printer profile"),
    ("expiry_hours", "Gridfinity: hours before unused jobs expire"),
    ("max_sync_grid_size", "Gridfinity: largest grid previewed at once (cells)"),
):
    config.describe(KEYS[_name], _words)

MONEY_MAX = Decimal("100000")
UNIT_SIZE_RANGE = (10.0, 500.0)
MAX_DIMENSION_RANGE = (84.0, 5000.0)
EXPIRY_RANGE = (1, 24 * 365)
SYNC_SIZE_RANGE = (0, 2500)
_CURRENCY = re.compile(r"^[A-Z]{3}$")


@dataclass
class GridSettings:
    enabled: bool = False
    base_price: Decimal = Decimal("5.00")
    unit_price: Decimal = Decimal("0.75")
    unit_size_mm: float = 42.0
    currency: str = "EUR"
    max_dimension_mm: float = 1000.0
    print_settings: dict[str, Any] = field(default_factory=lambda: {"printer": profiles.DEFAULT_PRESET})
    expiry_hours: int = 72
    max_sync_grid_size: int = 256

    @property
    def printer(self) -> str:
        """The preset the profile starts from."""
        return str(self.print_settings.get("printer") or profiles.DEFAULT_PRESET)

    def profile(self) -> PrinterProfile:
        """The printer profile pieces are sliced with (the default preset
        when the stored settings no longer read)."""
        try:
            return profiles.from_settings(self.print_settings)
        except ValidationFailed:
            return profiles.default_profile()

    def defaults(self) -> dict[str, Any]:
        """What an order line's parameters start from: the shop's printer bed."""
        p = self.profile()
        return {"bed_width_mm": p.bed_width_mm, "bed_depth_mm": p.bed_depth_mm}

    def options(self, **fields: Any) -> GridOptions:
        """Grid options on the shop's printer bed (what the storefront offers)."""
        return GridOptions(**{**self.defaults(), **fields})


def _decimal(value: Any, default: Decimal) -> Decimal:
    try:
        d = Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        return default
    return d if d.is_finite() else default


def grid_settings(session: Session) -> GridSettings:
    """The shop's grid settings; a hand-edited value that does not read falls back to its default."""
    d = GridSettings(currency=of_tenant(session_tenant_id(session)).currency)

    def get(name: str) -> Any:
        return config.get(session, KEYS[name], getattr(d, name))

    def number(name: str, kind: type) -> Any:
        try:
            value = kind(get(name))
        except (TypeError, ValueError):
            return getattr(d, name)
        return value if math.isfinite(value) else getattr(d, name)

    settings = get("print_settings")
    return GridSettings(
        enabled=bool(get("enabled")),
        base_price=_decimal(get("base_price"), d.base_price),
        unit_price=_decimal(get("unit_price"), d.unit_price),
        unit_size_mm=number("unit_size_mm", float),
        currency=str(get("currency") or d.currency).upper(),
        max_dimension_mm=number("max_dimension_mm", float),
        print_settings=dict(settings) if isinstance(settings, dict) else dict(d.print_settings),
        expiry_hours=number("expiry_hours", int),
        max_sync_grid_size=number("max_sync_grid_size", int),
    )


def enabled(session: Session) -> bool:
    return config.feature_enabled(session, "grid")


def settings_errors(s: GridSettings) -> dict[str, str]:
    """What is wrong with each field, in words (empty: nothing)."""
    errors: dict[str, str] = {}
    for name, key, words in (("base_price", "basePrice", "base price"), ("unit_price", "unitPrice", "unit price")):
        value = getattr(s, name)
        if not isinstance(value, Decimal) or not value.is_finite() or value < 0:
            errors[key] = f"The {words} is an amount of 0 or more."
        elif value > MONEY_MAX:
            errors[key] = f"The {words} is at most {MONEY_MAX:,}."
        elif value != value.quantize(Decimal("0.01")):
            errors[key] = f"The {words} has at most two decimals."
    low, high = UNIT_SIZE_RANGE
    if not (isinstance(s.unit_size_mm, int | float) and low <= s.unit_size_mm <= high):
        errors["unitSizeMm"] = f"The unit size is from {low:g} to {high:g} mm."
    if not _CURRENCY.match(s.currency or ""):
        errors["currency"] = "The currency is a three-letter code such as EUR."
    low, high = MAX_DIMENSION_RANGE
    if not (isinstance(s.max_dimension_mm, int | float) and low <= s.max_dimension_mm <= high):
        errors["maxDimensionMm"] = f"The largest drawer side is from {low:g} to {high:,g} mm."
    lo, hi = EXPIRY_RANGE
    if not (isinstance(s.expiry_hours, int) and lo <= s.expiry_hours <= hi):
        errors["expiryHours"] = f"Unused jobs expire after {lo} to {hi:,} hours."
    lo, hi = SYNC_SIZE_RANGE
    if not (isinstance(s.max_sync_grid_size, int) and lo <= s.max_sync_grid_size <= hi):
        errors["maxSyncGridSize"] = f"The largest instant preview is from {lo} to {hi:,} cells."
    try:
        profiles.from_settings(s.print_settings)
    except ValidationFailed as exc:
        errors["printSettings"] = exc.message[:1].upper() + exc.message[1:] + "."
    return errors


def save_grid_settings(session: Session, new: GridSettings, *, actor: Principal) -> GridSettings:
    """Admins (settings.write) change the flag, pricing, limits and printer profile.
    Refused with a message per field (ValidationFailed, details.fields)."""
    actor.require("settings.write")
    new.currency = (new.currency or "").strip().upper()
    errors = settings_errors(new)
    if errors:
        raise ValidationFailed("; ".join(errors.values()), details={"fields": errors})
    old = grid_settings(session)
    stored = {
        "enabled": bool(new.enabled),
        "base_price": str(new.base_price.quantize(Decimal("0.01"), ROUND_HALF_UP)),
        "unit_price": str(new.unit_price.quantize(Decimal("0.01"), ROUND_HALF_UP)),
        "unit_size_mm": float(new.unit_size_mm),
        "currency": new.currency,
        "max_dimension_mm": float(new.max_dimension_mm),
        "print_settings": dict(new.print_settings),
        "expiry_hours": int(new.expiry_hours),
        "max_sync_grid_size": int(new.max_sync_grid_size),
    }
    before = {
        **{name: getattr(old, name) for name in KEYS},
        "base_price": str(old.base_price),
        "unit_price": str(old.unit_price),
    }
    for name, value in stored.items():
        if before[name] != value or config.get(session, KEYS[name]) is None:
            config.set_value(session, KEYS[name], value, actor_user_id=actor.user_id)
    changed(session, settings=True)
    return grid_settings(session)


def printer_profile(
    settings: GridSettings, name: str = "", *, bed: tuple[float, float] | None = None
) -> PrinterProfile:
    """The profile a job is sliced with: the shop's (no name), a printer
    preset by name ("bambu-a1-mini", "Prusa MK4"), or "custom" — the shop's
    settings on the bed given (width, depth mm)."""
    shop = settings.profile()
    name = (name or "").strip()
    if not name or name.lower() in (shop.name.lower(), settings.printer.lower()):
        chosen = shop
    elif name.lower() == printers.CUSTOM:
        if bed is None:
            raise ValidationFailed("a custom printer needs its bed width and depth")
        chosen = profiles.from_settings(
            {**settings.print_settings, "bed_width_mm": bed[0], "bed_depth_mm": bed[1], "name": "Custom printer"}
        )
    else:
        try:
            chosen = profiles.preset(name)
        except ValidationFailed:
            key = printers.find_bed_preset(name)
            if key is None:
                raise ValidationFailed(f"unknown printer {name!r}: choose one of {printers.preset_names()}") from None
            _label, w, d = printers.BED_PRESETS[key]
            match = [p for p in profiles.PRESETS.values() if (p.bed_width_mm, p.bed_depth_mm) == (w, d)]
            if not match:
                raise ValidationFailed(f"no printer profile for the {w:g} × {d:g} mm bed of {name}") from None
            chosen = match[0]
    return chosen
