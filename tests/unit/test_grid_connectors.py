"""Connector mating (spec §6, §7): a male piece and its female neighbour,
placed as assembled with their seam touching, must not overlap (their
common volume is below the fit clearance's worth, < 0.5 mm³), the male's
knob must really enter the neighbour's cut-out, and the gap along the
interlock must stay within the spec's clearance (≤ 0.35 mm for the tight
intersection puzzle, §7.1 table; 0.15 mm all round for the edge puzzle,
§7.2). Whole plate sets with staggered seams (T-junctions, padding,
filler cells) must assemble without any two pieces overlapping."""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest
from manifold3d import CrossSection, JoinType, Manifold

from app.grid.geometry import connectors
from app.grid.geometry.connectors import (
    EDGE_REACH_MM,
    FEMALE_LOOSE,
    FEMALE_TIGHT,
    MALE_LOOSE,
    MALE_TIGHT,
    E,
    N,
    S,
    W,
    blend,
    edge_male_outline,
    edge_socket_outline,
    footprint_mm,
    seam_reach,
    seams,
)
from app.grid.geometry.layout import plan_plate_set
from app.grid.geometry.mesh import plate_height_mm, segment_solid
from app.grid.geometry.spec import GridOptions, SegmentSpec

BIG = 1e4


def piece(connectors_nesw, connector="intersection-puzzle", magnets="none", fit=1.0, **kw) -> SegmentSpec:
    data = {
        "number": 1,
        "column": 0,
        "row": 0,
        "cells_x": (1.0, 1.0),
        "cells_y": (1.0, 1.0),
        "padding": (0.0, 0.0, 0.0, 0.0),
        "connectors": connectors_nesw,
        "origin": (0.0, 0.0),
        "magnets": magnets,
        "connector": connector,
        "puzzle_fit": fit,
    }
    data.update(kw)
    return SegmentSpec(**data)


@cache
def solid(spec: SegmentSpec) -> Manifold:
    return segment_solid(spec)


def box(x0: float, y0: float, x1: float, y1: float, z0: float = -BIG, z1: float = BIG) -> Manifold:
    return Manifold.cube((x1 - x0, y1 - y0, z1 - z0)).translate((x0, y0, z0))


def square(x0: float, y0: float, x1: float, y1: float) -> CrossSection:
    return CrossSection([np.array([(x0, y0), (x1, y0), (x1, y1), (x0, y1)])])


def pair(kind: str, magnets: str, fit: float, vertical: bool) -> tuple[Manifold, Manifold, float]:
    """A 2×2 male piece at 0,0 and its 2×2 female neighbour, as assembled:
    east of it (vertical seam at x = 84) or north of it (y = 84)."""
    if vertical:
        male = piece((False, True, False, False), kind, magnets, fit)
        female = piece((False, False, False, True), kind, magnets, fit)
        return solid(male), solid(female).translate((84.0, 0.0, 0.0)), 84.0
    male = piece((True, False, False, False), kind, magnets, fit)
    female = piece((False, False, True, False), kind, magnets, fit)
    return solid(male), solid(female).translate((0.0, 84.0, 0.0)), 84.0


def swap_xy(cs: CrossSection) -> CrossSection:
    """Mirror a slice over x = y, so an N/S seam reads like an E/W one."""
    return CrossSection([np.asarray(p)[::-1, ::-1] for p in cs.to_polygons()])


# --- the outlines ----------------------------------------------------------------------------------


def test_fit_blends_tight_and_loose_vertex_by_vertex():
    assert np.allclose(blend(MALE_TIGHT, MALE_LOOSE, 1.0), MALE_TIGHT)
    assert np.allclose(blend(MALE_TIGHT, MALE_LOOSE, 0.0), MALE_LOOSE)
    assert np.allclose(blend(FEMALE_TIGHT, FEMALE_LOOSE, 0.5), (FEMALE_TIGHT + FEMALE_LOOSE) / 2)
    assert np.allclose(blend(MALE_TIGHT, MALE_LOOSE, 7.0), MALE_TIGHT)  # clamped


def reach(spec: SegmentSpec) -> tuple[float, float]:
    """(past the E seam, past the W seam) of a piece with both."""
    by_side = {s.side: s for s in seams(spec)}
    return seam_reach(spec, by_side[E]), seam_reach(spec, by_side[W])


def test_reach_past_the_seams():
    both = (False, True, False, True)
    assert reach(piece(both)) == pytest.approx((1.18, 0.574))
    assert reach(piece(both, fit=0.0)) == pytest.approx((1.18, 0.256))
    assert reach(piece(both, "edge-puzzle", "press-fit")) == (EDGE_REACH_MM, 0.0)
    assert reach(piece(both, "edge-puzzle")) == pytest.approx((2.85, 0.0))  # clipped to the neighbour's wall
    # by a small neighbour pocket's rounded corners the wall is thicker
    small = reach(piece(both, "edge-puzzle", cells_y=(16 / 42,)))[0]
    assert 2.85 < small < EDGE_REACH_MM
    assert reach(piece(both, "none")) == (0.0, 0.0)
    assert footprint_mm(piece((True, True, True, True))) == pytest.approx((84 + 1.18 + 0.574, 84 + 1.18 + 0.574))
    assert footprint_mm(piece((False, True, False, False))) == pytest.approx((85.18, 84.0))
    # one cell between two vertical seams: no room for a knob on its horizontal seams
    column = piece((True, True, True, True), cells_x=(1.0,))
    assert footprint_mm(column) == pytest.approx((42 + 1.18 + 0.574, 84.0))


def test_horizontal_seams_leave_the_corner_to_the_vertical_seam():
    spec = piece((True, True, False, True), cells_x=(1.0, 1.0, 1.0), cells_y=(1.0, 1.0), padding=(0, 0, 5.0, 0))
    by_side = {s.side: s for s in seams(spec)}
    assert set(by_side) == {N, E, W}
    assert by_side[E].corners == (5.0, 47.0, 89.0)  # every cell corner, seam ends included
    assert by_side[W].corners == (5.0, 47.0, 89.0)
    assert by_side[N].corners == (42.0, 84.0)  # both ends meet vertical seams
    assert by_side[N].male and by_side[E].male and not by_side[W].male
    assert [e for e in by_side[N].edges] == [(0.0, 42.0), (42.0, 42.0), (84.0, 42.0)]


def test_edge_socket_is_the_tab_grown_all_round():
    tab, socket = edge_male_outline(), edge_socket_outline(0.15)
    assert (tab - socket).area() < 1e-6
    grown = tab.offset(0.15, JoinType.Round, circular_segments=64)
    assert abs((socket - grown).area()) < 0.05 and abs((grown - socket).area()) < 0.05
    _x0, y0, x1, y1 = tab.bounds()
    assert (x1, y1 - y0) == pytest.approx((EDGE_REACH_MM, 10.0), abs=1e-6)  # 3.7 past the seam, 10 wide


# --- mating ------------------------------------------------------------------------------------------

CASES = [
    ("intersection-puzzle", "none", 1.0, 0.35),
    ("intersection-puzzle", "press-fit", 1.0, 0.35),
    ("intersection-puzzle", "none", 0.5, 0.8),
    ("intersection-puzzle", "none", 0.0, 1.3),
    ("intersection-puzzle", "press-fit", 0.25, 1.1),
    ("edge-puzzle", "press-fit", 1.0, 0.2),
    ("edge-puzzle", "none", 1.0, 0.2),
]


def _case_id(case) -> str:
    kind, magnets, fit, _gap = case
    return f"{'IP' if kind == 'intersection-puzzle' else 'EP'}-{magnets}-fit{fit:g}"


@pytest.mark.parametrize("vertical", [True, False], ids=["E-W", "N-S"])
@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_male_and_female_halves_mate(case, vertical):
    kind, magnets, fit, max_gap = case
    male, female, seam = pair(kind, magnets, fit, vertical)
    # 1. they do not overlap (the additions are trimmed to the room the partner makes)
    assert (male ^ female).volume() < 0.01
    # 2. the male reaches past the seam, and all of that lies inside the female's outline
    beyond = box(seam, -BIG, BIG, BIG) if vertical else box(-BIG, seam, BIG, BIG)
    knob = male ^ beyond
    expected = 1.0 if kind == "intersection-puzzle" else 10.0
    assert knob.volume() > expected
    fx0, fy0, _fz0, fx1, fy1, _fz1 = female.bounding_box()
    kx0, ky0, _kz0, kx1, ky1, _kz1 = knob.bounding_box()
    assert fx0 - 1e-6 <= kx0 and kx1 <= fx1 + 1e-6 and fy0 - 1e-6 <= ky0 and ky1 <= fy1 + 1e-6
    reached = (kx1 - seam) if vertical else (ky1 - seam)
    assert reached == pytest.approx(reach(piece((False, True, False, True), kind, magnets, fit))[0], abs=0.02)
    # 3. the gap round the interlock stays within the clearance (checked in a slice,
    #    where every empty point of the interlock must lie within max_gap of the male)
    z = 1.0 if kind == "edge-puzzle" else 2.0
    m2, f2 = male.slice(z), female.slice(z)
    if not vertical:
        m2, f2 = swap_xy(m2), swap_xy(f2)
    if kind == "intersection-puzzle":
        windows = [square(seam - 1.0, 42 - 3.3, seam + 1.3, 42 + 3.3)]  # the middle corner of the seam
    else:
        depth = 4.0 if magnets != "none" else 2.0  # without magnets the wall is only 2.15 mm at z = 1
        windows = [square(seam, c - 5.4, seam + depth, c + 5.4) for c in (21.0, 63.0)]
    for window in windows:
        empty = window - m2 - f2
        assert empty.area() > 0.05  # there is clearance …
        assert (empty - m2.offset(max_gap, JoinType.Round)).area() < 1e-3  # … and not more than max_gap
    if kind == "edge-puzzle":
        # 0.15 mm all round the tab: nowhere closer than 0.1 (past the seam,
        # where the two pieces' plain faces touch)
        tab_zone = square(seam + 0.2, 0.0, seam + 4.0, 84.0)
        assert (m2.offset(0.1, JoinType.Round) ^ f2 ^ tab_zone).area() < 1e-6


def test_edge_puzzle_heights():
    for magnets in ("none", "press-fit"):
        male, female, seam = pair("edge-puzzle", magnets, 1.0, True)
        tab = male ^ box(seam, -BIG, BIG, BIG)
        layer = plate_height_mm(magnets) - 4.65
        assert tab.bounding_box()[5] == pytest.approx(layer + 2.0, abs=1e-6)
        # the socket is 0.25 mm taller than the tab: the female is solid just above it only from there
        above = female.slice(layer + 2.25 + 0.01)
        socket_level = female.slice(layer + 2.2)
        probe = square(seam + 2.0, 19.0, seam + 2.1, 23.0)
        if magnets != "none":
            assert (probe - above).area() < 1e-9  # solid above the socket
        assert (probe ^ socket_level).area() < 1e-9  # empty inside it


# --- whole plate sets -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "options",
    [
        GridOptions(drawer_width_mm=300, drawer_depth_mm=340, bed_width_mm=130, bed_depth_mm=130, magnets="press-fit"),
        GridOptions(drawer_width_mm=300, drawer_depth_mm=340, bed_width_mm=130, bed_depth_mm=130, puzzle_fit=0.0),
        GridOptions(
            drawer_width_mm=300,
            drawer_depth_mm=340,
            bed_width_mm=130,
            bed_depth_mm=130,
            connector="edge-puzzle",
            filler="dynamic",
        ),
        GridOptions(drawer_width_mm=230, drawer_depth_mm=230, bed_width_mm=130, bed_depth_mm=130, align_x=0.2),
        GridOptions(drawer_width_mm=420, drawer_depth_mm=420, connector="none"),
    ],
    ids=["ip-magnets-staggered", "ip-loose", "ep-dynamic-filler", "ip-padding", "butt-joints"],
)
def test_assembled_pieces_never_overlap(options):
    plan = plan_plate_set(options)
    placed = [(s, solid(s).translate((s.origin[0], s.origin[1], 0.0))) for s in plan.segments]
    assert len(placed) > 3
    touching = 0
    for i, (a, ma) in enumerate(placed):
        ax0, ay0, _, ax1, ay1, _ = ma.bounding_box()
        for b, mb in placed[i + 1 :]:
            bx0, by0, _, bx1, by1, _ = mb.bounding_box()
            if ax1 < bx0 or bx1 < ax0 or ay1 < by0 or by1 < ay0:
                continue
            touching += 1
            assert (ma ^ mb).volume() < 0.5, (a.number, b.number)
    assert touching >= len(placed) - 1
    if options.connector != "none":
        # every male side sends something into its neighbours
        for s, m in placed:
            x0, y0 = s.origin
            w, d = s.size_mm
            if s.connectors[E]:
                assert (m ^ box(x0 + w, -BIG, BIG, BIG)).volume() > 1.0, s.number
            if s.connectors[N]:
                assert (m ^ box(-BIG, y0 + d, BIG, BIG)).volume() > 1.0, s.number
            if s.connectors[W] and options.connector == "intersection-puzzle":
                assert (m ^ box(-BIG, -BIG, x0, BIG)).volume() > 0.1, s.number  # the barbs
            if s.connectors[S] and options.connector == "intersection-puzzle":
                assert (m ^ box(-BIG, -BIG, BIG, y0)).volume() > 0.1, s.number


def test_nothing_sticks_out_over_a_plate_edge():
    # half knobs at the ends of a seam are clipped to the piece (spec §6)
    plan = plan_plate_set(GridOptions(drawer_width_mm=420, drawer_depth_mm=420))
    for s in plan.segments:
        x0, y0, _, x1, y1, _ = solid(s).bounding_box()
        w, d = s.size_mm
        n, e, south, west = s.connectors
        assert x0 >= (-0.6 if west else -1e-6) and y0 >= (-0.6 if south else -1e-6)
        assert x1 <= w + (1.2 if e else 1e-6) and y1 <= d + (1.2 if n else 1e-6)
    assert connectors.seams(plan.segments[0])  # the set really has seams
