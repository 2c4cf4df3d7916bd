"""From an order line to grid parameters: which lines are custom grids and
what drawer, magnets, connector and printer they ask for.

A line is a grid line when its SKU starts with GRID-CUSTOM (seed: "any SKU
starting with GRID-CUSTOM") or its properties carry a drawer size. The SKU
grammar is

    GRID-CUSTOM[-{W}x{D}][-{MAG|MAGPF|NOMAG|NONE}][-{IP|EP|NONE}]

with W and D in grid units (the drawer is units × 42 mm), e.g.
GRID-CUSTOM-4x3-MAG-IP. MAG and MAGPF both mean press-fit magnets (the
only kind we make); NOMAG and NONE mean none. A lone NONE after the size is
read as the magnets, the first optional part. Shopify line item properties
override the SKU: "Drawer width (mm)", "Drawer depth (mm)", "Magnets"
(yes / no / press-fit / none), "Connector" (intersection puzzle / edge
puzzle / none) and "Printer" (a bed preset; "custom" with "Bed width (mm)"
and "Bed depth (mm)"). Names are matched in any case, with or without the
"(mm)" and a leading "_" (Shopify's hidden properties). Numbers may use a
decimal comma ("371,5") and may end in "mm".

Anything unusable raises `GridInputError` with a sentence the customer or
staff member can act on; it is a `ValidationFailed`, so the API answers
422 with that message, never a 500.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import fields
from typing import Any

from app.grid.geometry.printers import BED_PRESETS, CUSTOM, find_bed_preset, preset_names
from app.grid.geometry.spec import CONNECTOR_CODES, GRID_UNIT_MM, GridOptions
from app.platform.errors import ValidationFailed

SKU_PREFIX = "GRID-CUSTOM"
MIN_DRAWER_MM = GRID_UNIT_MM  # one whole cell
MAGNET_CODES: dict[str, str] = {"MAG": "press-fit", "MAGPF": "press-fit", "NOMAG": "none", "NONE": "none"}
MAGNET_WORDS: dict[str, str] = {
    **{w: "press-fit" for w in ("yes", "y", "true", "1", "on", "press-fit", "press fit", "pressfit", "magnets")},
    **{w: "none" for w in ("no", "n", "false", "0", "off", "none", "no magnets", "without")},
}
CONNECTOR_WORDS: dict[str, str] = {
    "intersection puzzle": "intersection-puzzle",
    "ip": "intersection-puzzle",
    "edge puzzle": "edge-puzzle",
    "ep": "edge-puzzle",
    "none": "none",
    "no": "none",
}
# property (normalised name) → what it sets
WIDTH, DEPTH, MAGNETS, CONNECTOR, PRINTER, BED_W, BED_D = (
    "drawer width",
    "drawer depth",
    "magnets",
    "connector",
    "printer",
    "bed width",
    "bed depth",
)
_ALIASES = {"magnet": MAGNETS, "connectors": CONNECTOR, "printer bed": PRINTER}
_SKU = re.compile(
    r"^GRID-CUSTOM(?:-(?P<w>\d+(?:\.\d+)?)\s*[X×]\s*(?P<d>\d+(?:\.\d+)?))?(?P<rest>(?:-[A-Z0-9]+)*)$", re.IGNORECASE
)


class GridInputError(ValidationFailed, ValueError):
    """Grid input that cannot be used; the message says why, in the words
    of the person who gave it."""

    def __init__(self, message: str):
        super().__init__(message, code="grid_input")


def _normal_name(name: object) -> str:
    text = str(name).strip().lstrip("_").lower()
    text = re.sub(r"\(\s*mm\s*\)", " ", text)
    text = re.sub(r"[\s_\-]+", " ", text).strip()
    text = text.removesuffix(" mm").strip()
    return _ALIASES.get(text, text)


def line_properties(properties: Mapping[str, Any] | list | None) -> dict[str, str]:
    """A line's properties by normalised name ("drawer width", "magnets", …),
    from a name → value dict (how our orders store them) or Shopify's list
    of {"name", "value"} (REST) or {"key", "value"} (GraphQL). Empty values
    count as absent."""
    pairs: list[tuple[object, object]] = []
    if isinstance(properties, Mapping):
        pairs = list(properties.items())
    elif isinstance(properties, list):
        for p in properties:
            if isinstance(p, Mapping):
                pairs.append((p.get("name", p.get("key", "")), p.get("value")))
    out: dict[str, str] = {}
    for name, value in pairs:
        if value is None or isinstance(value, (dict, list)):
            continue
        text = ("yes" if value else "no") if isinstance(value, bool) else str(value).strip()
        if text:
            out[_normal_name(name)] = text
    return out


def is_grid_line(sku: str | None, properties: Mapping[str, Any] | list | None = None) -> bool:
    """Does this line ask for a custom grid?"""
    if (sku or "").strip().upper().startswith(SKU_PREFIX):
        return True
    props = line_properties(properties)
    return WIDTH in props or DEPTH in props


def _mm_text(v: float) -> str:
    return f"{v:,.1f}".removesuffix(".0")


def parse_mm(text: str, what: str) -> float:
    """A length in mm as people type it: "371", "371.5", "371,5", "371 mm"."""
    raw = text.strip()
    s = re.sub(r"\s*mm\s*$", "", raw, flags=re.IGNORECASE).replace(" ", "")
    if s.count(",") == 1 and "." not in s:
        if re.fullmatch(r"[+-]?\d{1,3},\d{3}", s):
            raise GridInputError(
                f'{what} "{raw}" is ambiguous: write it without a thousands separator, or with a point'
            )
        s = s.replace(",", ".")
    if not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)", s):
        raise GridInputError(f'{what} "{raw}" is not a number of millimetres (write it like 371 or 371,5)')
    return float(s)


def check_length(value: float, what: str, *, max_dimension_mm: float, source: str = "") -> float:
    """A drawer length is finite, at least one cell and at most the shop's maximum."""
    shown = f"{_mm_text(value)} mm{source}"
    if not math.isfinite(value):
        raise GridInputError(f"{what} is not a number of millimetres")
    if value < MIN_DRAWER_MM:
        raise GridInputError(
            f"{what} {shown} is too small: it must be at least {_mm_text(MIN_DRAWER_MM)} mm (one cell)"
        )
    if value > max_dimension_mm:
        raise GridInputError(f"{what} {shown} is over this shop's maximum of {_mm_text(max_dimension_mm)} mm")
    return value


def parse_sku(sku: str) -> dict[str, Any]:
    """What a GRID-CUSTOM SKU sets, as GridOptions fields (drawer sizes in
    mm from the units). Raises GridInputError on anything else."""
    m = _SKU.match(sku.strip())
    if not m:
        raise GridInputError(
            f'SKU "{sku}" is not a custom grid SKU like GRID-CUSTOM-4x3-MAG-IP (width x depth in grid units)'
        )
    out: dict[str, Any] = {}
    if m["w"]:
        for key, units, what in (("drawer_width_mm", m["w"], "width"), ("drawer_depth_mm", m["d"], "depth")):
            if float(units) <= 0:
                raise GridInputError(f'SKU "{sku}": the drawer {what} must be at least 1 grid unit')
            out[key] = round(float(units) * GRID_UNIT_MM, 6)
    tokens = [t.upper() for t in (m["rest"] or "").split("-") if t]
    magnets_done = connector_done = False
    for token in tokens:
        if not magnets_done and not connector_done and token in MAGNET_CODES:
            out["magnets"], magnets_done = MAGNET_CODES[token], True
        elif not connector_done and token in CONNECTOR_CODES:
            out["connector"], connector_done = CONNECTOR_CODES[token], True
            magnets_done = True
        elif re.fullmatch(r"\d+(\.\d+)?X\d+(\.\d+)?", token):
            raise GridInputError(f'SKU "{sku}": the size ({token}) comes right after GRID-CUSTOM')
        elif re.search(r"\d", token):
            raise GridInputError(f'SKU "{sku}": "{token}" is not a size like 4x3 (width x depth in grid units)')
        else:
            allowed = "magnets MAG, MAGPF, NOMAG or NONE, then connector IP, EP or NONE"
            raise GridInputError(f'SKU "{sku}": "{token}" is not expected there (after the size come {allowed})')
    return out


def _word(value: str, words: dict[str, str], what: str, allowed: str) -> str:
    key = re.sub(r"[\s_\-]+", " ", value.strip().lower())
    if key not in words:
        raise GridInputError(f'{what} "{value}" is not one of: {allowed}')
    return words[key]


def parse_properties(props: dict[str, str], *, max_dimension_mm: float) -> dict[str, Any]:
    """What normalised line properties set, as GridOptions fields."""
    out: dict[str, Any] = {}
    for name, key, what in ((WIDTH, "drawer_width_mm", "Drawer width"), (DEPTH, "drawer_depth_mm", "Drawer depth")):
        if name in props:
            out[key] = check_length(parse_mm(props[name], what), what, max_dimension_mm=max_dimension_mm)
    if MAGNETS in props:
        out["magnets"] = _word(props[MAGNETS], MAGNET_WORDS, "Magnets", "yes, no, press-fit, none")
    if CONNECTOR in props:
        out["connector"] = _word(
            props[CONNECTOR], CONNECTOR_WORDS, "Connector", "intersection puzzle, edge puzzle, none"
        )
    printer = props.get(PRINTER, "")
    if printer and _normal_name(printer) != CUSTOM:
        key = find_bed_preset(printer)
        if key is None:
            raise GridInputError(f'Printer "{printer}" is not one we know: {preset_names()}, or custom with a bed size')
        _label, out["bed_width_mm"], out["bed_depth_mm"] = BED_PRESETS[key]
    elif printer or BED_W in props or BED_D in props:
        if BED_W not in props or BED_D not in props:
            raise GridInputError('A custom printer needs "Bed width (mm)" and "Bed depth (mm)"')
        for name, key, what in ((BED_W, "bed_width_mm", "Bed width"), (BED_D, "bed_depth_mm", "Bed depth")):
            out[key] = check_bed(parse_mm(props[name], what), what)
    return out


def check_bed(value: float, what: str) -> float:
    if not math.isfinite(value) or value < MIN_DRAWER_MM:
        raise GridInputError(f"{what} must be at least {_mm_text(MIN_DRAWER_MM)} mm (one cell)")
    if value > 2000:
        raise GridInputError(f"{what} {_mm_text(value)} mm is more than any printer has (at most 2,000 mm)")
    return value


_OPTION_FIELDS = {f.name for f in fields(GridOptions)}
_NUMBER_FIELDS = {f.name for f in fields(GridOptions) if f.type in ("float", float)}


def check_options(options: GridOptions, *, max_dimension_mm: float) -> GridOptions:
    """Every value of `options` in range, whichever door they came through
    (order line, staff generator, storefront, preset)."""
    check_length(options.drawer_width_mm, "Drawer width", max_dimension_mm=max_dimension_mm)
    check_length(options.drawer_depth_mm, "Drawer depth", max_dimension_mm=max_dimension_mm)
    check_bed(options.bed_width_mm, "Bed width")
    check_bed(options.bed_depth_mm, "Bed depth")
    if options.magnets not in ("none", "press-fit"):
        raise GridInputError(f'Magnets "{options.magnets}" is not one of: none, press-fit')
    if options.connector not in ("intersection-puzzle", "edge-puzzle", "none"):
        raise GridInputError(f'Connector "{options.connector}" is not one of: intersection-puzzle, edge-puzzle, none')
    if options.filler not in ("none", "integer", "dynamic"):
        raise GridInputError(f'Filler "{options.filler}" is not one of: none, integer, dynamic')
    ranges = (
        ("align_x", "Alignment X", 0.0, 1.0),
        ("align_y", "Alignment Y", 0.0, 1.0),
        ("puzzle_fit", "Puzzle fit", 0.0, 1.0),
        ("edge_puzzle_gap", "Edge puzzle gap (mm)", 0.0, 1.0),
        ("corner_radius_mm", "Corner radius (mm)", 0.0, 4.0),
        ("filler_minimum_mm", "Filler minimum (mm)", 0.0, GRID_UNIT_MM),
    )
    for name, label, low, high in ranges:
        v = getattr(options, name)
        if not (isinstance(v, (int, float)) and math.isfinite(v) and low <= v <= high):
            raise GridInputError(f"{label} must be between {low:g} and {high:g}, got {v}")
    return options


def parse_line(
    sku: str | None,
    properties: Mapping[str, Any] | list | None,
    *,
    defaults: Mapping[str, Any] | None = None,
    max_dimension_mm: float,
) -> GridOptions:
    """The grid parameters of an order line: `defaults` (GridOptions fields,
    e.g. the shop's preset and printer), then the SKU, then the properties,
    each overriding the one before."""
    values: dict[str, Any] = dict(defaults or {})
    unknown = sorted(set(values) - _OPTION_FIELDS)
    if unknown:
        raise GridInputError(f"Unknown grid setting(s): {', '.join(unknown)}")
    sku_text = (sku or "").strip()
    from_sku: dict[str, Any] = parse_sku(sku_text) if sku_text.upper().startswith(SKU_PREFIX) else {}
    from_props = parse_properties(line_properties(properties), max_dimension_mm=max_dimension_mm)
    for key, what in (("drawer_width_mm", "Drawer width"), ("drawer_depth_mm", "Drawer depth")):
        if key in from_sku and key not in from_props:
            units = from_sku[key] / GRID_UNIT_MM
            check_length(
                from_sku[key], what, max_dimension_mm=max_dimension_mm, source=f" ({units:g} grid units in the SKU)"
            )
    values.update(from_sku)
    values.update(from_props)
    for name in _NUMBER_FIELDS & set(values):
        value = values[name]
        number = parse_mm(value, name) if isinstance(value, str) else value
        if isinstance(number, bool) or not isinstance(number, (int, float)):
            raise GridInputError(f"Grid setting {name} must be a number, got {value!r}")
        values[name] = float(number)
    if "drawer_width_mm" not in values or "drawer_depth_mm" not in values:
        raise GridInputError(
            'No drawer size: give "Drawer width (mm)" and "Drawer depth (mm)", or a SKU like GRID-CUSTOM-4x3'
        )
    try:
        options = GridOptions(**values)
    except TypeError as exc:  # a default of the wrong kind
        raise GridInputError(f"Grid settings could not be read: {exc}") from exc
    return check_options(options, max_dimension_mm=max_dimension_mm)
