"""Printer profiles: the printer and print settings a grid piece is sliced
with (seed 003: "Printer Profile ... configured per tenant via
`grid.print_settings`").

A shop picks one of the bed presets (app.grid.geometry.printers: the
beds GridFlock's editor offers, one list for the geometry and the slicer)
and may change any setting; `grid.print_settings` holds
`{"printer": "<preset>", <field>: <value>, …}` and `from_settings` turns it
into a `PrinterProfile`, refusing unknown fields and out-of-range values
with a sentence that names them. `key()` is the content hash of every
setting that changes the G-code (not the name), so a piece sliced once for
a profile is never sliced again for an identical one.

The preset values follow the vendors' own standard 0.20 mm PLA profiles
(Bambu Studio's "0.20mm Standard", PrusaSlicer's "0.20mm SPEED" for the
input-shaper Prusas), rounded, so the print times PrusaSlicer estimates
are near what those printers take; its estimator follows the machine
limits given here. Where one preset covers several printers it takes the
slower one's travel and acceleration (the A1's 10000 mm/s², the X1's
500 mm/s travel). Speeds in mm/s, accelerations in mm/s², and the last
column is the PLA flow limit:

| preset | bed mm (height) | walls (outer) / infill / top | travel | accel. infill / walls / 1st layer (max) | mm³/s |
|---|---|---|---|---|---|
| Bambu Lab A1 / X1 / P1 | 256×256 (256) | 300 (200) / 270 / 200 | 500 | 10000 / 5000 / 500 (10000) | 21 |
| Bambu Lab A1 mini | 180×180 (180) | 300 (200) / 270 / 200 | 700 | 10000 / 5000 / 500 (10000) | 21 |
| Prusa MK4 / Core One | 250×220 (220) | 200 (170) / 200 / 100 | 340 | 4000 / 2500 / 800 (5000) | 15 |

All: 0.4 mm nozzle, 0.2 mm layers, 2 perimeters, 5 top and 3 bottom layers
(MK4: 4), 15 % grid infill, 1.75 mm PLA at 1.24 g/cm³, no skirt and no
brim (the CLI would not stop a skirt that runs off the bed; spec §9), so
`slicer_margin_mm` is 0 and a piece may use the whole bed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from app.grid.geometry import printers
from app.grid.geometry.spec import digest
from app.integrations import slicer
from app.platform.errors import ValidationFailed

INFILL_PATTERNS = ("grid", "rectilinear", "alignedrectilinear", "triangles", "stars", "cubic", "gyroid", "honeycomb")
FILAMENT_TYPES = ("PLA", "PETG", "ABS", "ASA", "TPU", "PA", "PC", "PVA", "HIPS", "PET", "FLEX")
NAME_MAX = 60  # GridJob.printer_profile


@dataclass(frozen=True)
class PrinterProfile:
    """A printer and the settings a piece is printed with. Lengths in mm,
    speeds in mm/s, accelerations in mm/s² (0: the firmware's), °C."""

    name: str
    bed_width_mm: float
    bed_depth_mm: float
    max_height_mm: float = 250.0
    nozzle_mm: float = 0.4
    layer_height_mm: float = 0.2
    first_layer_mm: float = 0.2
    perimeters: int = 2
    top_layers: int = 5
    bottom_layers: int = 3
    infill_percent: int = 15
    infill_pattern: str = "grid"
    filament_type: str = "PLA"
    filament_density: float = 1.24  # g/cm³
    filament_diameter: float = 1.75
    filament_cost_per_kg: float = 20.0  # in the shop's currency, for information
    nozzle_temp_c: int = 220
    bed_temp_c: int = 60
    first_layer_speed: float = 50.0
    perimeter_speed: float = 300.0
    external_perimeter_speed: float = 200.0
    infill_speed: float = 270.0
    solid_infill_speed: float = 250.0
    top_solid_infill_speed: float = 200.0
    travel_speed: float = 500.0
    max_volumetric_speed: float = 21.0  # mm³/s the hot end melts; 0: no limit
    acceleration: float = 10000.0
    perimeter_acceleration: float = 5000.0
    first_layer_acceleration: float = 500.0
    max_acceleration: float = 10000.0  # the machine's limit, for the time estimate
    skirts: int = 0
    skirt_distance_mm: float = 2.0
    brim_width_mm: float = 0.0
    elephant_foot_mm: float = 0.15

    def __post_init__(self) -> None:
        # 256 and 256.0 are one setting: the same value must hash the same.
        for f in fields(self):
            value = getattr(self, f.name)
            if f.type == "float" and not isinstance(value, float):
                object.__setattr__(self, f.name, float(value))
            elif f.type == "int" and not isinstance(value, int):
                object.__setattr__(self, f.name, int(value))

    def key(self) -> str:
        """Content hash of the settings that change the G-code."""
        data = asdict(self)
        data.pop("name")
        return digest(data)

    def to_settings(self) -> dict[str, Any]:
        """Every setting, as `grid.print_settings` stores it."""
        return asdict(self)

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any] | None) -> PrinterProfile:
        return from_settings(settings)


# What each bed preset (app.grid.geometry.printers, the one list of beds)
# prints with, beyond the PrinterProfile defaults (which are Bambu Lab's).
_PRINTERS: dict[str, dict[str, Any]] = {
    "bambu-a1": {"max_height_mm": 256, "travel_speed": 500},
    "bambu-a1-mini": {"max_height_mm": 180, "travel_speed": 700},
    "prusa-mk4": {
        "max_height_mm": 220,
        "bottom_layers": 4,
        "nozzle_temp_c": 215,
        "first_layer_speed": 30,
        "perimeter_speed": 200,
        "external_perimeter_speed": 170,
        "infill_speed": 200,
        "solid_infill_speed": 200,
        "top_solid_infill_speed": 100,
        "travel_speed": 340,
        "max_volumetric_speed": 15,
        "acceleration": 4000,
        "perimeter_acceleration": 2500,
        "first_layer_acceleration": 800,
        "max_acceleration": 5000,
        "elephant_foot_mm": 0.2,
    },
}

# The quote's area model (app.grid.geometry.quote) is calibrated on
# PrusaSlicer's generic printer, which is slow. A plate prints mostly as fast as
# the hot end melts plastic, so its time on a real printer scales with the
# profile's volumetric limit. Measured by slicing 4×4 plates, plain and with
# press-fit magnets: the Bambu Lab profiles (21 mm³/s) take 0.37–0.42 of the
# model's time, the Prusa MK4 profile (15 mm³/s) 0.50–0.57.
_TIME_SCALE_AT_21_MM3_S = 0.39


def estimate_time_scale(profile: PrinterProfile) -> float:
    """What the quote's time estimate is multiplied by for this printer
    (measured figures of sliced pieces replace the estimate altogether)."""
    flow = profile.max_volumetric_speed or 21.0 * profile.perimeter_speed / 300.0
    return max(0.1, min(2.0, _TIME_SCALE_AT_21_MM3_S * 21.0 / flow))


PRESETS: dict[str, PrinterProfile] = {
    key: PrinterProfile(name=label, bed_width_mm=w, bed_depth_mm=d, **_PRINTERS.get(key, {}))
    for key, (label, w, d) in printers.BED_PRESETS.items()
}
DEFAULT_PRESET = printers.DEFAULT_PRESET


def preset(name: str) -> PrinterProfile:
    """A preset by its key ("bambu-a1"), its name ("Bambu Lab A1 / X1 / P1")
    or a printer it covers ("X1", "Core One"), any case."""
    key = printers.find_bed_preset(name)
    if key is None or key not in PRESETS:
        raise ValidationFailed(f"unknown printer {name!r}: choose one of {printers.preset_names()}")
    return PRESETS[key]


def default_profile() -> PrinterProfile:
    return PRESETS[DEFAULT_PRESET]


# field → (lowest, highest); ints are whole numbers
_RANGES: dict[str, tuple[float, float]] = {
    "bed_width_mm": (50, 1000),
    "bed_depth_mm": (50, 1000),
    "max_height_mm": (10, 1000),
    "nozzle_mm": (0.1, 1.2),
    "layer_height_mm": (0.04, 1.0),
    "first_layer_mm": (0.04, 1.0),
    "perimeters": (1, 10),
    "top_layers": (0, 30),
    "bottom_layers": (0, 30),
    "infill_percent": (0, 100),
    "filament_density": (0.5, 3.0),
    "filament_diameter": (1.0, 3.0),
    "filament_cost_per_kg": (0, 1000),
    "nozzle_temp_c": (0, 400),
    "bed_temp_c": (0, 150),
    "first_layer_speed": (1, 1000),
    "perimeter_speed": (1, 1000),
    "external_perimeter_speed": (1, 1000),
    "infill_speed": (1, 1000),
    "solid_infill_speed": (1, 1000),
    "top_solid_infill_speed": (1, 1000),
    "travel_speed": (1, 1500),
    "max_volumetric_speed": (0, 100),
    "acceleration": (0, 50000),
    "perimeter_acceleration": (0, 50000),
    "first_layer_acceleration": (0, 50000),
    "max_acceleration": (100, 50000),
    "skirts": (0, 10),
    "skirt_distance_mm": (0, 50),
    "brim_width_mm": (0, 50),
    "elephant_foot_mm": (0, 1.0),
}


def _words(name: str) -> str:
    """A field as people read it: "bed_width_mm" → "bed width (mm)"."""
    for suffix, unit in (("_mm", " (mm)"), ("_c", " (°C)"), ("_per_kg", " per kg")):
        if name.endswith(suffix):
            return name.removesuffix(suffix).replace("_", " ") + unit
    return name.replace("_", " ")


_WORDS = {f.name: _words(f.name) for f in fields(PrinterProfile)}


def _number(key: str, value: Any, whole: bool) -> float | int:
    if isinstance(value, bool) or value is None:
        raise ValidationFailed(f"print setting {_WORDS[key]} takes a number")
    try:
        number = float(str(value).strip()) if isinstance(value, str) else float(value)
    except (TypeError, ValueError):
        raise ValidationFailed(f"print setting {_WORDS[key]} takes a number, not {value!r}") from None
    if not math.isfinite(number):
        raise ValidationFailed(f"print setting {_WORDS[key]} takes a number, not {value!r}")
    low, high = _RANGES[key]
    if whole and number != int(number):
        raise ValidationFailed(f"print setting {_WORDS[key]} takes a whole number")
    if not low <= number <= high:
        raise ValidationFailed(f"print setting {_WORDS[key]} must be between {low:g} and {high:g}, not {number:g}")
    return int(number) if whole else number


def from_settings(settings: Mapping[str, Any] | None) -> PrinterProfile:
    """The profile a shop's `grid.print_settings` describes: a preset
    (`printer`, the default one when absent) with any field changed."""
    settings = dict(settings or {})
    printer = settings.pop("printer", None)
    if printer is not None and not isinstance(printer, str):
        raise ValidationFailed("print setting printer takes a printer's name")
    base = preset(printer) if printer else default_profile()
    types = {f.name: f.type for f in fields(PrinterProfile)}
    changes: dict[str, Any] = {}
    for key, value in settings.items():
        if key not in types:
            raise ValidationFailed(f"unknown print setting {key!r}")
        if key == "name":
            name = str(value or "").strip()
            if not name or len(name) > NAME_MAX:
                raise ValidationFailed(f"a printer profile's name needs 1 to {NAME_MAX} characters")
            changes[key] = name
        elif key == "infill_pattern":
            if value not in INFILL_PATTERNS:
                raise ValidationFailed(f"infill pattern {value!r} is not one of {', '.join(INFILL_PATTERNS)}")
            changes[key] = value
        elif key == "filament_type":
            kind = str(value or "").strip().upper()
            if kind not in FILAMENT_TYPES:
                raise ValidationFailed(f"filament type {value!r} is not one of {', '.join(FILAMENT_TYPES)}")
            changes[key] = kind
        else:
            changes[key] = _number(key, value, whole=types[key] == "int")
    profile = replace(base, **changes)
    if profile.layer_height_mm > profile.nozzle_mm * 0.8 or profile.first_layer_mm > profile.nozzle_mm * 0.8:
        raise ValidationFailed(
            f"layers of {max(profile.layer_height_mm, profile.first_layer_mm):g} mm are too thick for a "
            f"{profile.nozzle_mm:g} mm nozzle (at most {profile.nozzle_mm * 0.8:g} mm)"
        )
    if "name" not in changes and profile != base:
        profile = replace(profile, name=f"{base.name} (custom)"[:NAME_MAX])
    return profile


def slicer_margin_mm(profile: PrinterProfile) -> float:
    """The clearance the pipeline keeps round each piece on the bed: how far
    the skirt and brim reach out from it (0 with the presets)."""
    return slicer.margin_mm(profile)


def usable_bed_mm(profile: PrinterProfile) -> tuple[float, float]:
    """The bed a piece's footprint (connector protrusions included) must fit in."""
    m = 2 * slicer_margin_mm(profile)
    return (profile.bed_width_mm - m, profile.bed_depth_mm - m)
