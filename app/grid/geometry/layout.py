"""Where the cells of a drawer go and how a plate too big for the printer is
cut into a plate set: pure arithmetic, no meshes (spec §2, §3 and §5 of
docs/gridfinity-spec.md, which follow GridFlock's rules and test vectors).

- `axis_cells` / `axis_layout`: the cells of one axis (whole cells, then a
  filler cell at the east/north end) and the padding either side, split by
  the alignment.
- `ideal_plan`, `incremental_plan` + `expand_plan`, `staggered_plans`: how
  many cells each segment of an axis gets. X is split with the ideal plan
  (fewest, evenly sized columns); Y is split per column with two alternating
  plans, so four plate corners never meet in one point.
- `plan_plate_set`: the whole set, with padding only on plate edges,
  connectors on seams (male N/E, female S/W), column-major numbers, shape
  labels (identical pieces share one, so they are made and sliced once) and
  footprints including the connectors' protrusions.
- `bed_fit_problems`: every piece, protrusions and a slicer margin included,
  must fit the bed. `plan_plate_set` already re-plans with more splits when a
  piece would not (GridFlock issue #22 let one through), so this reports only
  what no split can fix, such as a bed smaller than one cell.

Cells are in grid units (u, 42 mm), padding in mm unless a name ends in _u.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from app.grid.geometry.spec import (
    GRID_UNIT_MM,
    AxisLayout,
    Connector,
    Filler,
    GridOptions,
    PlateSetPlan,
    SegmentSpec,
)

# Spec §5.1: bed margin kept clear for the connectors' protrusion when
# planning (edge puzzle: neck 1.2 + head 2.5).
BED_MARGIN_MM: dict[str, float] = {"intersection-puzzle": 3.5, "edge-puzzle": 3.7, "none": 0.0}

# How far a connector reaches past its seam, mm (spec §7).
# Male side (N and E seams): the intersection puzzle's knob sticks out 1.18,
# the edge puzzle's head reaches 3.7.
PROTRUSION_MM: dict[str, float] = {"intersection-puzzle": 1.18, "edge-puzzle": 3.7, "none": 0.0}
# Female side (S and W seams): the intersection puzzle's barbs reach 0.57
# back across the seam; the edge puzzle's socket is only cut, adds nothing.
FEMALE_PROTRUSION_MM: dict[str, float] = {"intersection-puzzle": 0.57, "edge-puzzle": 0.0, "none": 0.0}
# Sideways, at the end of a male intersection-puzzle seam that meets another
# seam, the half knob reaches 0.3 mm past the corner (the outline's (1.18,
# 0.3) point). Together these reproduce GridFlock's measured footprints of
# the 420 × 420 worked example (§5.7) to 0.05 mm.
SEAM_END_PROTRUSION_MM: dict[str, float] = {"intersection-puzzle": 0.3, "edge-puzzle": 0.0, "none": 0.0}

_EPS = 1e-9
_N, _E, _S, _W = range(4)


# --- one axis: cells and padding (spec §2, §3) ---------------------------------------------------


def axis_cells(length_mm: float, filler: Filler | str, filler_minimum_mm: float = 15.0) -> tuple[float, ...]:
    """The cells of an axis `length_mm` long, in u, by the filler rule:
    "none" whole cells only; "integer" whole cells then at most one half cell
    (fraction f = 2); "dynamic" whole cells then one cell of the remainder,
    or the remainder merged into the last cell when it is shorter than
    `filler_minimum_mm`. The rest of the length is padding."""
    if not math.isfinite(length_mm) or length_mm < GRID_UNIT_MM - _EPS:
        raise ValueError(f"an axis needs at least one whole cell ({GRID_UNIT_MM:g} mm), got {length_mm} mm")
    n = length_mm / GRID_UNIT_MM
    if filler == "none":
        return (1.0,) * math.floor(n + _EPS)
    if filler == "integer":
        f = 2
        scaled = math.floor(n * f + _EPS)
        whole, part = divmod(scaled, f)
        return (1.0,) * whole + (1.0 / f,) * part
    if filler == "dynamic":
        whole = math.floor(n + _EPS)
        rest = round(max(n - whole, 0.0), 6)
        if rest < filler_minimum_mm / GRID_UNIT_MM:
            return (1.0,) * (whole - 1) + (round(1.0 + rest, 6),)
        return (1.0,) * whole + (rest,)
    raise ValueError(f"unknown filler {filler!r}: none, integer or dynamic")


def axis_layout(
    length_mm: float, filler: Filler | str = "integer", align: float = 0.5, filler_minimum_mm: float = 15.0
) -> AxisLayout:
    """Cells and padding of one axis; the start (west/south) side gets
    `align` of the padding, the end side the rest (spec §2)."""
    if not 0.0 <= align <= 1.0:
        raise ValueError(f"alignment must be between 0 and 1, got {align}")
    cells = axis_cells(length_mm, filler, filler_minimum_mm)
    pad = max(length_mm - sum(cells) * GRID_UNIT_MM, 0.0)
    start = round(pad * align, 6)
    return AxisLayout(cells=cells, pad_start_mm=start, pad_end_mm=round(pad - start, 6))


# --- splitting one axis (spec §5.2, §5.3) --------------------------------------------------------


def greedy_count(
    cells: tuple[float, ...] | list[float], bed_u: float, pad_start_u: float = 0, pad_end_u: float = 0
) -> int:
    """How many segments an axis needs, walking its cells: a new segment
    starts when the next cell would overflow the bed (the first counts the
    start padding), and one more when the last plus the end padding does."""
    if not cells:
        return 0
    segment, size = 0, pad_start_u
    for c in cells[:-1]:
        if size + c > bed_u + _EPS:
            segment, size = segment + 1, c
        else:
            size += c
    return segment + (2 if size + cells[-1] + pad_end_u > bed_u + _EPS else 1)


def ideal_plan(
    cells: tuple[float, ...] | list[float],
    bed_u: float,
    pad_start_u: float = 0,
    pad_end_u: float = 0,
    count: int | None = None,
) -> list[int]:
    """Cells per segment: the greedy count of segments (or `count`), each
    cell given to segment floor(centre / average size), a centre on a
    boundary to the lower one. Segments come out evenly sized."""
    if not cells:
        return []
    count = count or greedy_count(cells, bed_u, pad_start_u, pad_end_u)
    count = max(1, min(count, len(cells)))
    avg = (sum(cells) + pad_start_u + pad_end_u) / count
    plan = [0] * count
    position = pad_start_u
    for c in cells:
        k = (position + c / 2) / avg
        index = round(k) - 1 if abs(k - round(k)) < _EPS else math.floor(k)
        plan[max(0, min(index, count - 1))] += 1
        position += c
    return [p for p in plan if p]


@dataclass(frozen=True)
class Incremental:
    """An incremental plan in short: `first` cells, then `mid` cells per
    segment while cells remain, the last segment holding `end`. mid = end
    = 0 when the whole axis is one segment."""

    first: int
    mid: int
    end: int

    def as_tuple(self) -> tuple[int, int, int]:
        return (self.first, self.mid, self.end)


def incremental_plan(
    cells: tuple[float, ...] | list[float],
    bed_u: float,
    pad_start_u: float = 0,
    pad_end_u: float = 0,
    force_first: int | None = None,
) -> Incremental:
    """As many cells per segment as the bed takes (GridPlates-like): mid =
    floor(bed), first = floor(bed - start padding) unless forced, the end
    segment what remains; when the end would be a single filler cell or too
    long with the end padding, the first segment gives up one cell."""
    n = len(cells)
    if sum(cells) + pad_start_u + pad_end_u <= bed_u + _EPS:
        return Incremental(n, 0, 0)
    if bed_u <= 1:
        raise ValueError(f"the bed holds no whole cell ({bed_u:.3f} u)")
    mid = math.floor(bed_u + _EPS)

    def end_for(first: int) -> int:
        e = (n - first) % mid
        return e or mid

    first = force_first if force_first is not None else max(1, math.floor(bed_u - pad_start_u + _EPS))
    end = end_for(first)
    too_small = end == 1 and cells[-1] < 1
    too_big = sum(cells[n - end :]) + pad_end_u > bed_u + _EPS
    if (too_small or too_big) and first > 1:
        first -= 1
        end = end_for(first)
    return Incremental(first, mid, end)


def expand_plan(n: int, plan: Incremental) -> list[int]:
    """The cells per segment an incremental plan means for `n` cells."""
    if plan.mid <= 0:
        return [n]
    out = [min(plan.first, n)]
    left = n - out[0]
    while left > 0:
        take = min(plan.mid, left)
        out.append(take)
        left -= take
    return out


def _score_b(a: Incremental, b: Incremental) -> int:
    # lower is better: a one-cell first or last segment is frail; far from
    # plan A's seams is good (spec §5.3)
    return 20 * (b.first == 1) + 20 * (b.end == 1) - abs(a.first - b.first) - abs(a.end - b.end)


def staggered_incremental(
    cells: tuple[float, ...] | list[float], bed_u: float, pad_start_u: float = 0, pad_end_u: float = 0
) -> tuple[Incremental, Incremental]:
    """Plans A and B of `staggered_plans` in short form."""
    n = len(cells)

    def plan(first: int | None = None) -> Incremental:
        return incremental_plan(cells, bed_u, pad_start_u, pad_end_u, first)

    a1 = plan()
    if a1.mid <= 1:  # nothing to split, or one cell per segment: nothing to stagger
        return a1, a1
    a = plan(a1.first - 1) if a1.end < 2 and a1.first > 2 else a1
    if a.first <= 1:
        return a, a
    baseline = len(expand_plan(n, plan(a.first - 1)))
    scored: list[tuple[int, int]] = []  # (score, shift)
    shift = 1
    while shift < a.first:
        candidate = plan(a.first - shift)
        if len(expand_plan(n, candidate)) > baseline:
            break
        scored.append((_score_b(a, candidate), shift))
        shift += 1
    best = min(scored, key=lambda s: (s[0], -s[1]))[1]  # a tie goes to the larger shift
    return a, plan(a.first - best)


def staggered_plans(
    cells: tuple[float, ...] | list[float], bed_u: float, pad_start_u: float = 0, pad_end_u: float = 0
) -> tuple[list[int], list[int]]:
    """Two Y plans for alternating columns (A for even, B for odd) whose
    seams do not line up: A is the incremental plan (its first segment one
    cell shorter when the last would have under 2 cells); B starts 1, 2, …
    cells shorter than A, without needing more segments than a shift of one,
    and is the one scoring lowest (spec §5.3)."""
    a, b = staggered_incremental(cells, bed_u, pad_start_u, pad_end_u)
    return expand_plan(len(cells), a), expand_plan(len(cells), b)


# --- the plate set (spec §5.4-§5.8) --------------------------------------------------------------


def bed_margin_mm(connector: Connector | str) -> float:
    return BED_MARGIN_MM.get(connector, 0.0)


def footprint_mm(seg: SegmentSpec) -> tuple[float, float]:
    """Width and depth of a piece as it lies on the bed: its size plus what
    its connectors reach past its seams (male N/E, female S/W, and the
    intersection puzzle's half knob at the end of a male seam that meets
    another seam)."""
    w, d = seg.size_mm
    n, e, s, west = seg.connectors
    male = PROTRUSION_MM.get(seg.connector, 0.0)
    female = FEMALE_PROTRUSION_MM.get(seg.connector, 0.0)
    side = SEAM_END_PROTRUSION_MM.get(seg.connector, 0.0)
    w += male * e + female * west + side * (n and e) + side * (n and west)
    d += male * n + female * s + side * (e and n) + side * (e and s)
    return (round(w, 6), round(d, 6))


def shape_label(index: int) -> str:
    """ "A", "B", … "Z", "AA", "AB", … for the 0-based `index`."""
    out = ""
    index += 1
    while index:
        index, r = divmod(index - 1, 26)
        out = chr(ord("A") + r) + out
    return out


def _segments(
    options: GridOptions, x: AxisLayout, y: AxisLayout, plan_x: list[int], plans_y: tuple[list[int], list[int]]
) -> list[SegmentSpec]:
    segments: list[SegmentSpec] = []
    columns = len(plan_x)
    x_start = 0
    for col, nx in enumerate(plan_x):
        cells_x = x.cells[x_start : x_start + nx]
        origin_x = 0.0 if col == 0 else x.pad_start_mm + sum(x.cells[:x_start]) * GRID_UNIT_MM
        plan_y = plans_y[col % 2]
        before = math.ceil(col / 2) * len(plans_y[0]) + (col // 2) * len(plans_y[1])
        y_start = 0
        for row, ny in enumerate(plan_y):
            cells_y = y.cells[y_start : y_start + ny]
            origin_y = 0.0 if row == 0 else y.pad_start_mm + sum(y.cells[:y_start]) * GRID_UNIT_MM
            last_row, last_col = row == len(plan_y) - 1, col == columns - 1
            segments.append(
                SegmentSpec(
                    number=before + row + 1,
                    column=col,
                    row=row,
                    cells_x=tuple(cells_x),
                    cells_y=tuple(cells_y),
                    padding=(
                        y.pad_end_mm if last_row else 0.0,
                        x.pad_end_mm if last_col else 0.0,
                        y.pad_start_mm if row == 0 else 0.0,
                        x.pad_start_mm if col == 0 else 0.0,
                    ),
                    connectors=(not last_row, not last_col, row > 0, col > 0),
                    origin=(round(origin_x, 6), round(origin_y, 6)),
                    magnets=options.magnets,
                    connector=options.connector,
                    puzzle_fit=options.puzzle_fit,
                    edge_puzzle_gap=options.edge_puzzle_gap,
                    corner_radius_mm=options.corner_radius_mm,
                )
            )
            y_start += ny
        x_start += nx
    segments.sort(key=lambda s: s.number)
    if not options.label:  # nothing embossed: identical pieces still share their key
        return segments
    labels: dict[str, str] = {}
    return [replace(s, label=labels.setdefault(s.shape_key(), shape_label(len(labels)))) for s in segments]


def plan_plate_set(options: GridOptions, *, margin_mm: float = 0.0) -> PlateSetPlan:
    """The plate set for a drawer: one piece when the plate fits the bed,
    otherwise X split into columns by the ideal plan and each column's Y
    into rows by the staggered plans (even columns A, odd B). An axis whose
    whole length fits the bed is not split. `margin_mm` is kept clear on
    every side of each piece (slicer skirt/brim).

    After planning, a piece over the bed (protrusions and margin included)
    makes its axis re-plan with one more split: X with one more column, Y
    with one cell less per row, until it fits or the rows/columns are one
    cell each."""
    x = axis_layout(options.drawer_width_mm, options.filler, options.align_x, options.filler_minimum_mm)
    y = axis_layout(options.drawer_depth_mm, options.filler, options.align_y, options.filler_minimum_mm)
    bed_w, bed_d = options.bed_width_mm, options.bed_depth_mm
    spare = bed_margin_mm(options.connector) + 2 * margin_mm
    u = GRID_UNIT_MM
    x_pads = (x.pad_start_mm / u, x.pad_end_mm / u)
    y_pads = (y.pad_start_mm / u, y.pad_end_mm / u)
    bed_ux = (bed_w - spare) / u
    bed_uy = (bed_d - spare) / u
    split_x = x.length_mm + 2 * margin_mm > bed_w + _EPS
    split_y = y.length_mm + 2 * margin_mm > bed_d + _EPS

    def x_plan(count: int | None = None) -> list[int]:
        if not split_x:
            return [len(x.cells)]
        if bed_ux <= 1:
            return [1] * len(x.cells)
        return ideal_plan(x.cells, bed_ux, *x_pads, count=count)

    def y_plans(budget: float) -> tuple[list[int], list[int]]:
        if not split_y:
            return [len(y.cells)], [len(y.cells)]
        if budget <= 1:
            return [1] * len(y.cells), [1] * len(y.cells)
        return staggered_plans(y.cells, budget, *y_pads)

    plan_x = x_plan()
    count_x = len(plan_x)
    budget_y = bed_uy
    plans_y = y_plans(budget_y)
    while True:
        segments = _segments(options, x, y, plan_x, plans_y)
        footprints = {s.number: footprint_mm(s) for s in segments}
        too_wide = any(w + 2 * margin_mm > bed_w + _EPS for w, _d in footprints.values())
        too_deep = any(d + 2 * margin_mm > bed_d + _EPS for _w, d in footprints.values())
        changed = False
        if too_wide and split_x and len(plan_x) < len(x.cells):
            # (an even spread over one more column can leave one empty: count on until it cannot)
            count_x += 1
            plan_x = x_plan(count_x) if count_x < len(x.cells) else [1] * len(x.cells)
            changed = True
        if too_deep and split_y and min(len(p) for p in plans_y) < len(y.cells):
            budget_y -= 1
            plans_y = y_plans(budget_y)
            changed = True
        if not changed:
            return PlateSetPlan(options=options, x=x, y=y, segments=segments, footprints=footprints)


def _mm(v: float) -> str:
    return f"{v:,.1f}".removesuffix(".0")


def bed_fit_problems(plan: PlateSetPlan, bed_w: float, bed_d: float, margin_mm: float = 0.0) -> list[str]:
    """One readable sentence per piece that, with its connectors and
    `margin_mm` clear on every side, does not fit a `bed_w` × `bed_d` bed."""
    problems: list[str] = []
    room_w, room_d = bed_w - 2 * margin_mm, bed_d - 2 * margin_mm
    bed = f"the {_mm(bed_w)} × {_mm(bed_d)} mm bed"
    takes = f"{bed} takes {_mm(room_w)} × {_mm(room_d)} mm with a {_mm(margin_mm)} mm margin" if margin_mm else bed
    for seg in plan.segments:
        w, d = plan.footprints.get(seg.number) or footprint_mm(seg)
        if w > room_w + _EPS or d > room_d + _EPS:
            what = "The plate" if len(plan.segments) == 1 else f"Segment {seg.number}"
            size = f"{w:,.1f} × {d:,.1f} mm"
            problems.append(f"{what} is {size}; {takes}" if margin_mm else f"{what} is {size}; it does not fit {takes}")
    return problems
