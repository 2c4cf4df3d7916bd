"""The instant quote: what a drawer's plate set costs, how many pieces it
has, and roughly how much filament and time it takes, from arithmetic alone
(the plan of `layout.plan_plate_set`, no meshes), so a customer typing a
size sees it at once.

Price: `base_price + unit_price × grid units`, where grid units is the
cell area in units of `unit_size_mm`² ((cells_x·42/unit)·(cells_y·42/unit)),
rounded half up to cents.

Filament and time per piece: when the cache has sliced an identical piece
(`known(shape_key)` gives its measured grams and seconds), those figures;
otherwise an area model calibrated on PrusaSlicer 2.5 at 0.2 mm layers and
15 % infill (spec §10):

    grams   = PIECE_GRAMS   + GRAMS_PER_CM2[magnets]   × plate area in cm²
    seconds = PIECE_SECONDS + SECONDS_PER_CM2[magnets] × plate area in cm²

The plate area is the piece's size without connector protrusions. The two
press-fit figures (a 5×5 plate, 441 cm²: 89.05 g, 7h38m53s; the largest
piece of a 10×10 set, 529.2 cm²: 106.81 g, 9h12m43s) put a line through
0.25 g and -617 s at zero area: the grams' intercept is the per-piece
constant; the time's is noise around zero (a piece cannot take negative
time), so the per-piece time is 0 and the time rate is the least-squares
rate through the origin. The plain rates come from the 5×5 plain plate
(441 cm²: 34.01 g, 2h37m38s) less the same per-piece grams. The model
reproduces the three figures within 0.3 %. It ignores that padding strips
are solid (denser than pockets) and that connectors add a little: both are
small next to the pockets of a drawer-sized plate. The slicer's own
estimate replaces it as soon as a piece is sliced.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from app.grid.geometry.layout import bed_fit_problems, plan_plate_set
from app.grid.geometry.spec import GRID_UNIT_MM, GridOptions, SegmentSpec

# Calibration figures (spec §10), area in cm², grams, seconds.
_PLAIN_5X5 = (441.0, 34.01, 2 * 3600 + 37 * 60 + 38)
_MAG_5X5 = (441.0, 89.05, 7 * 3600 + 38 * 60 + 53)
_MAG_LARGEST = (529.2, 106.81, 9 * 3600 + 12 * 60 + 43)

PIECE_GRAMS = round(_MAG_5X5[1] - (_MAG_LARGEST[1] - _MAG_5X5[1]) / (_MAG_LARGEST[0] - _MAG_5X5[0]) * _MAG_5X5[0], 4)
PIECE_SECONDS = 0.0
GRAMS_PER_CM2: dict[str, float] = {
    "none": (_PLAIN_5X5[1] - PIECE_GRAMS) / _PLAIN_5X5[0],
    "press-fit": (_MAG_5X5[1] - PIECE_GRAMS) / _MAG_5X5[0],
}
SECONDS_PER_CM2: dict[str, float] = {
    "none": _PLAIN_5X5[2] / _PLAIN_5X5[0],
    "press-fit": (_MAG_5X5[0] * _MAG_5X5[2] + _MAG_LARGEST[0] * _MAG_LARGEST[2])
    / (_MAG_5X5[0] ** 2 + _MAG_LARGEST[0] ** 2),
}

CENT = Decimal("0.01")


@dataclass
class Quote:
    """What the storefront and the generator show before any geometry exists."""

    cells_x: float  # u along X (a half cell counts 0.5)
    cells_y: float
    grid_units: float  # cell area in units of unit_size_mm²
    segments: int
    unique_shapes: int
    plate_width_mm: float
    plate_depth_mm: float
    filament_g: float
    print_seconds: int
    price: Decimal
    currency: str
    measured_pieces: int = 0  # pieces whose grams and time came from a sliced twin
    problems: list[str] = field(default_factory=list)


def estimate_piece(segment: SegmentSpec) -> tuple[float, int]:
    """Grams and seconds of one piece by the area model (module docstring)."""
    w, d = segment.size_mm
    area_cm2 = w * d / 100.0
    magnets = segment.magnets if segment.magnets in GRAMS_PER_CM2 else "none"
    grams = PIECE_GRAMS + GRAMS_PER_CM2[magnets] * area_cm2
    seconds = PIECE_SECONDS + SECONDS_PER_CM2[magnets] * area_cm2
    return grams, round(seconds)


def price_for(grid_units: float, *, base_price: Decimal, unit_price: Decimal) -> Decimal:
    """base + unit price × grid units, half up to cents."""
    units = Decimal(str(round(grid_units, 6)))
    return (base_price + unit_price * units).quantize(CENT, rounding=ROUND_HALF_UP)


def quote(
    options: GridOptions,
    *,
    base_price: Decimal,
    unit_price: Decimal,
    unit_size_mm: float,
    currency: str,
    known: Callable[[str], tuple[float, int] | None] | None = None,
    margin_mm: float = 0.0,
    time_scale: float = 1.0,
) -> Quote:
    """The quote for `options`. `known(shape_key)` may return the measured
    (grams, seconds) of an identical sliced piece; it is asked once per
    distinct shape. `margin_mm` is the clearance kept round each piece on
    the bed, as in `plan_plate_set`. `time_scale` turns the model's time
    into the printer's (the model is calibrated on a slow generic printer;
    see app.grid.profiles.estimate_time_scale); measured times stay as they are."""
    if not unit_size_mm > 0:
        raise ValueError(f"the pricing unit must be a positive size in mm, got {unit_size_mm}")
    plan = plan_plate_set(options, margin_mm=margin_mm)
    cells_x, cells_y = sum(plan.x.cells), sum(plan.y.cells)
    grid_units = (cells_x * GRID_UNIT_MM / unit_size_mm) * (cells_y * GRID_UNIT_MM / unit_size_mm)
    figures: dict[str, tuple[tuple[float, int], bool]] = {}
    grams, seconds, measured = 0.0, 0, 0
    for seg in plan.segments:
        key = seg.shape_key()
        if key not in figures:
            found = known(key) if known else None
            if found:
                figures[key] = (found, True)
            else:
                g, s = estimate_piece(seg)
                figures[key] = ((g, round(s * time_scale)), False)
        (g, s), was_measured = figures[key]
        grams += g
        seconds += int(s)
        measured += was_measured
    return Quote(
        cells_x=cells_x,
        cells_y=cells_y,
        grid_units=round(grid_units, 6),
        segments=len(plan.segments),
        unique_shapes=len(figures),
        plate_width_mm=round(plan.x.length_mm, 3),
        plate_depth_mm=round(plan.y.length_mm, 3),
        filament_g=round(grams, 2),
        print_seconds=seconds,
        price=price_for(grid_units, base_price=base_price, unit_price=unit_price),
        currency=currency,
        measured_pieces=measured,
        problems=bed_fit_problems(plan, options.bed_width_mm, options.bed_depth_mm, margin_mm),
    )
