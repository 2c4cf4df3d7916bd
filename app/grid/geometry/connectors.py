"""The joints between the pieces of a plate set (spec §6, §7), in 2D.

Every seam is drawn in one frame, the spec's: the seam is the line fx = 0,
the male piece lies at fx < 0 and the female piece at fx > 0; fy runs along
the seam. Male connectors sit on a piece's N and E sides, female ones on S
and W; a frame point maps to the piece as (seam + fx, p + fy) on an E/W
side and (p + fy, seam + fx) on an N/S side, p being the place on the seam.

- Intersection puzzle (§7.1, GridFlock's puzzle.svg outlines, MIT): a knob
  centred on every cell corner along the seam, built from two halves (one
  per cell side of the corner). Tight and loose outlines share a vertex
  count and are blended by `puzzle_fit` (1 tight … 0 loose). The male piece
  loses hull(half) and gains the half, except in its own pocket's r = 4 top
  corner; the female piece loses the female outline and gains hull(outline)
  - outline (its barbs). On its own side of the seam an addition changes
  nothing, so additions are kept past the seam, clear of the piece's own
  pockets. The pieces go through the full plate height.
  Vertical (E/W) seams run the whole plate depth, so they get a knob at
  every cell corner; a horizontal (N/S) seam skips its end where it meets a
  vertical seam (the vertical seam's knob is there), so a horizontal seam
  one cell long between two vertical seams has none (as in GridFlock).
  Everything a piece adds is clipped to the piece's extent along the seam
  (spec §6: half pieces at the seam ends are clipped to the outline, or
  completed in padding), so neighbours never overlap and nothing sticks out
  over a plate edge.
- Edge puzzle (§7.2): one jigsaw tab per cell edge on the seam, centred on
  the edge: a neck 1.2 mm long (3 mm wide in its middle, flaring to 4.2 mm
  through r = 0.6 fillets) and a 10 × 2.5 mm stadium head. The female socket
  is the male grown by the gap all round (a proper offset, unlike
  GridFlock's one-sided clearance). The mesh module gives them their
  heights and clips the male to the neighbour's solid material.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from manifold3d import CrossSection, JoinType, OpType

from app.grid.geometry.pocket import (
    POCKET_CORNER_INSET_MM,
    POCKET_PROFILE,
    circle,
    pocket_section,
    rect,
    section,
    transform_polygon,
)
from app.grid.geometry.spec import GRID_UNIT_MM, SegmentSpec

N, E, S, W = range(4)

# --- intersection puzzle outlines (spec §7.1), mm, lower half (fy < 0) -------------------------------

MALE_TIGHT = np.array(
    [
        (-4.0, 0.0),
        (-0.064, -3.278),
        (0.066, -3.298),
        (-0.709, -1.215),
        (-0.609, -0.679),
        (-0.093, -0.753),
        (0.464, -1.451),
        (0.874, -1.494),
        (1.180, -1.106),
        (1.180, 0.300),
    ]
)
MALE_LOOSE = np.array(
    [
        (-4.0, 0.0),
        (-0.153, -2.913),
        (-0.108, -2.886),
        (-0.948, -1.037),
        (-0.702, -0.356),
        (0.057, -0.425),
        (0.474, -1.109),
        (0.846, -1.222),
        (1.175, -0.858),
        (1.180, 0.300),
    ]
)
FEMALE_TIGHT = np.array(
    [
        (0.0, -3.017),
        (-0.574, -1.320),
        (-0.473, -0.964),
        (-0.067, -1.014),
        (0.258, -1.446),
        (0.570, -1.614),
        (0.796, -1.607),
        (1.258, -1.080),
        (1.246, 0.299),
        (-2.564, 0.299),
        (-2.535, -3.017),
    ]
)
FEMALE_LOOSE = np.array(
    [
        (0.005, -3.017),
        (-0.256, -1.685),
        (-0.187, -1.460),
        (0.035, -1.439),
        (0.309, -1.835),
        (0.631, -1.853),
        (0.964, -1.818),
        (1.253, -1.366),
        (1.246, 0.299),
        (-2.564, 0.299),
        (-2.535, -3.017),
    ]
)

# --- edge puzzle (spec §7.2), mm ---------------------------------------------------------------------

EDGE_HEAD_MM = (10.0, 2.5)  # along the seam × across
EDGE_NECK_MM = (3.0, 1.2)  # narrowest width × length
EDGE_FILLET_MM = 0.6  # the neck's concave fillets (= half its length)
EDGE_MALE_HEIGHT_MM = 2.0  # above the magnet layer
EDGE_FEMALE_HEIGHT_MM = 2.25
EDGE_FEMALE_BAR_MM = 2.5 + 1.2 + 2.5  # solid magnet-layer bar along a female side (6.2)
EDGE_REACH_MM = EDGE_NECK_MM[1] + EDGE_HEAD_MM[1]  # 3.7 past the seam

_BIG = 1e5


def blend(tight: np.ndarray, loose: np.ndarray, fit: float) -> np.ndarray:
    """The outline for `fit` (1 tight … 0 loose), vertex by vertex."""
    fit = min(max(fit, 0.0), 1.0)
    return tight * fit + loose * (1.0 - fit)


def male_half(fit: float) -> np.ndarray:
    """The male half outline (counter-clockwise), lower half."""
    return _ccw(blend(MALE_TIGHT, MALE_LOOSE, fit))


def female_half(fit: float) -> np.ndarray:
    """The female cut-out outline (counter-clockwise), lower half."""
    return _ccw(blend(FEMALE_TIGHT, FEMALE_LOOSE, fit))


def _ccw(points: np.ndarray) -> np.ndarray:
    x, y = points[:, 0], points[:, 1]
    area = 0.5 * float(np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y))
    return points if area > 0 else points[::-1]


@dataclass(frozen=True)
class Seam:
    """One side of a piece that joins a neighbour: where the seam lies,
    where along it the connectors go, and how frame points map onto the
    piece."""

    side: int  # N, E, S or W
    at: float  # x of an E/W seam, y of an N/S seam, in piece coordinates
    corners: tuple[float, ...]  # cell corners along the seam (intersection puzzle)
    edges: tuple[tuple[float, float], ...]  # (start, length) of each cell edge on the seam (edge puzzle)
    extent: tuple[float, float]  # the piece's range along the seam

    @property
    def male(self) -> bool:
        return self.side in (N, E)

    @property
    def vertical(self) -> bool:
        return self.side in (E, W)

    def place(self, points: np.ndarray, along: float, mirror: bool = False) -> np.ndarray:
        """Frame points → piece coordinates, at `along` on the seam;
        `mirror` flips fy (the other half of a piece)."""
        s = -1.0 if mirror else 1.0
        if self.vertical:
            matrix = np.array([[1.0, 0.0], [0.0, s]])
            offset = (self.at, along)
        else:
            matrix = np.array([[0.0, s], [1.0, 0.0]])
            offset = (along, self.at)
        return transform_polygon(points, matrix, offset)

    def beyond(self) -> CrossSection:
        """Where a piece's additions may go: past its seam (towards the
        neighbour) and within its own extent along the seam."""
        lo, hi = self.extent
        if self.side == E:
            return section([rect(self.at, lo, _BIG, hi)])
        if self.side == W:
            return section([rect(-_BIG, lo, self.at, hi)])
        if self.side == N:
            return section([rect(lo, self.at, hi, _BIG)])
        return section([rect(lo, -_BIG, hi, self.at)])


def seams(spec: SegmentSpec) -> list[Seam]:
    """The piece's seams (the sides with `connectors` set), in N, E, S, W order."""
    _n_pad, _e_pad, s_pad, w_pad = spec.padding
    xs = np.concatenate(([0.0], np.cumsum(spec.cells_x))) * GRID_UNIT_MM + w_pad
    ys = np.concatenate(([0.0], np.cumsum(spec.cells_y))) * GRID_UNIT_MM + s_pad
    width, depth = spec.size_mm
    x_edges = tuple((float(xs[i]), float(xs[i + 1] - xs[i])) for i in range(len(xs) - 1))
    y_edges = tuple((float(ys[i]), float(ys[i + 1] - ys[i])) for i in range(len(ys) - 1))
    out: list[Seam] = []
    for side in (N, E, S, W):
        if not spec.connectors[side]:
            continue
        if side in (E, W):
            at = float(xs[-1]) if side == E else float(xs[0])
            out.append(Seam(side, at, tuple(float(y) for y in ys), y_edges, (0.0, depth)))
        else:
            corners = [float(x) for x in xs]
            # a horizontal seam ends on a vertical one: its knob is there already
            if spec.connectors[E]:
                corners = corners[:-1]
            if spec.connectors[W]:
                corners = corners[1:]
            at = float(ys[-1]) if side == N else float(ys[0])
            out.append(Seam(side, at, tuple(corners), x_edges, (0.0, width)))
    return out


# --- intersection puzzle -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cuts:
    """What the connectors do to a piece's 2D outline: remove `negative`,
    then add `positive` (both full height)."""

    negative: CrossSection
    positive: CrossSection


@lru_cache(maxsize=32)
def _puzzle_shapes(fit: float) -> tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray], list[np.ndarray]]:
    """The lower half's four shapes in the seam frame, as polygons: the
    male's room for the barbs (hull - half, outside its own pocket's r = 4
    top corner), the female's cut-out, the knob (the male half, kept inside
    the female's cut-out) and the barbs (hull - cut-out, kept inside the
    male's room). Trimming each addition to the room its partner makes
    removes the outlines' hairline overlaps (the tight male crosses the seam
    0.066 mm outside the socket at its far end, the loose barb tip 0.04 mm
    into the male)."""
    male, female = male_half(fit), female_half(fit)
    r = POCKET_CORNER_INSET_MM
    male_cs, female_cs = section([male]), section([female])
    room = CrossSection.hull_points(male) - male_cs - section([circle(-r, -r, r)])
    knob = male_cs ^ female_cs
    barbs = (CrossSection.hull_points(female) - female_cs) ^ room
    return _polygons(room), _polygons(female_cs), _polygons(knob), _polygons(barbs)


def _polygons(cs: CrossSection) -> list[np.ndarray]:
    return [np.asarray(p) for p in cs.to_polygons()]


def intersection_puzzle(spec: SegmentSpec) -> Cuts:
    """The intersection-puzzle cut-outs and additions of a piece.

    A male piece loses the room for the female's barbs and gains the knob;
    a female piece loses its cut-out and gains the barbs. The additions are
    kept past the seam: on the piece's own side they change nothing, and
    there they stay clear of its own pockets."""
    room, cut, knob, barbs = _puzzle_shapes(round(min(max(spec.puzzle_fit, 0.0), 1.0), 6))
    negatives: list[CrossSection] = []
    positives: list[CrossSection] = []
    for seam in seams(spec):
        removed, added = (room, knob) if seam.male else (cut, barbs)
        neg: list[np.ndarray] = []
        pos: list[np.ndarray] = []
        for p in seam.corners:
            for mirror in (False, True):
                neg += [seam.place(poly, p, mirror) for poly in removed]
                pos += [seam.place(poly, p, mirror) for poly in added]
        if neg:
            negatives.append(section(neg))
            positives.append(section(pos) ^ seam.beyond())
    return Cuts(_union(negatives), _union(positives))


# --- edge puzzle -----------------------------------------------------------------------------------------


def edge_male_outline() -> CrossSection:
    """One edge-puzzle tab in the seam frame, centred on fy = 0: neck from
    the seam out to 1.2 mm, head to 3.7 mm. It reaches 0.5 mm back into its
    own piece so the union with the piece overlaps instead of touching."""
    head_w, head_d = EDGE_HEAD_MM
    neck_w, neck_l = EDGE_NECK_MM
    f = EDGE_FILLET_MM
    flare = neck_w / 2 + f  # 2.1: half the neck's width at its ends
    neck = section([rect(-0.5, -flare - 0.3, 0.0, flare + 0.3), rect(0.0, -flare, neck_l + 0.1, flare)])
    neck = neck - section([circle(neck_l / 2, flare, f, 24), circle(neck_l / 2, -flare, f, 24)])
    r = head_d / 2
    head = CrossSection.hull_points(
        np.vstack([circle(neck_l + r, head_w / 2 - r, r, 24), circle(neck_l + r, -(head_w / 2 - r), r, 24)])
    )
    return neck + head


def edge_socket_outline(gap: float) -> CrossSection:
    """The female socket: the tab grown by `gap` all round."""
    return edge_male_outline().offset(max(gap, 0.0), JoinType.Round, circular_segments=32)


def edge_puzzle(spec: SegmentSpec) -> tuple[CrossSection, CrossSection, list[tuple[Seam, float, float]]]:
    """(male tabs, female sockets, [(seam, place, cell edge length) of each
    male tab]) of a piece, in piece coordinates. The caller extrudes them to
    their heights and clips each male by its neighbour cell's pocket."""
    tab = edge_male_outline()
    socket = edge_socket_outline(spec.edge_puzzle_gap)
    tab_polys = [np.asarray(p) for p in tab.to_polygons()]
    socket_polys = [np.asarray(p) for p in socket.to_polygons()]
    males: list[np.ndarray] = []
    sockets: list[np.ndarray] = []
    placed: list[tuple[Seam, float, float]] = []
    for seam in seams(spec):
        for start, length in seam.edges:
            centre = start + length / 2
            if seam.male:
                males += [seam.place(p, centre) for p in tab_polys]
                placed.append((seam, start, length))
            else:
                sockets += [seam.place(p, centre) for p in socket_polys]
    return section(males), section(sockets), placed


def female_bars(spec: SegmentSpec) -> CrossSection:
    """Edge puzzle with magnets: the solid strip of the magnet layer along
    each female side that holds the socket (spec §7.2)."""
    width, depth = spec.size_mm
    bars: list[np.ndarray] = []
    for seam in seams(spec):
        if seam.male:
            continue
        if seam.vertical:
            bars.append(rect(seam.at, 0.0, seam.at + EDGE_FEMALE_BAR_MM, depth))
        else:
            bars.append(rect(0.0, seam.at, width, seam.at + EDGE_FEMALE_BAR_MM))
    return section(bars)


# --- footprint ------------------------------------------------------------------------------------------


def seam_reach(spec: SegmentSpec, seam: Seam) -> float:
    """How far the piece's mesh reaches past one of its seams, mm.

    Intersection puzzle: the knob's head 1.18 mm past a male seam, the
    barbs 0.574 (tight) … 0.256 (loose) past a female one; nothing on a
    horizontal seam too short to carry a knob (one cell between two vertical
    seams). Edge puzzle: the tab's head 3.7 mm with a magnet layer; without
    one the tab is clipped to the neighbour's wall, 2.85 mm at the bottom
    (a little more by the rounded corners of a small neighbour pocket);
    nothing past a female seam. No connector: nothing."""
    if spec.connector == "intersection-puzzle":
        if not seam.corners:
            return 0.0
        if seam.male:
            return float(male_half(spec.puzzle_fit)[:, 0].max())
        # the barb's tip is the female outline's second vertex (the rest of
        # the outline's left part is the cut-out itself)
        return float(-blend(FEMALE_TIGHT, FEMALE_LOOSE, spec.puzzle_fit)[1, 0])
    if spec.connector == "edge-puzzle" and seam.male and seam.edges:
        if spec.magnets != "none":
            return EDGE_REACH_MM
        return max(_clipped_tab_reach(round(length, 6)) for _start, length in seam.edges)
    return 0.0


@lru_cache(maxsize=64)
def _clipped_tab_reach(edge_length: float) -> float:
    # the tab, centred on an edge `edge_length` long, less the neighbour
    # cell's pocket at the plate bottom (where the pocket is narrowest)
    pocket = section([pocket_section(GRID_UNIT_MM, edge_length, POCKET_PROFILE[0][1]) - (0.0, edge_length / 2)])
    rest = edge_male_outline() - pocket
    return float(rest.bounds()[2])


def footprint_mm(spec: SegmentSpec) -> tuple[float, float]:
    """Width and depth the piece's mesh occupies on the bed: its size plus
    what its connectors reach past its seams (male N and E, female S and W).
    Nothing reaches past a seam's ends: the additions are clipped there."""
    width, depth = spec.size_mm
    for seam in seams(spec):
        if seam.vertical:
            width += seam_reach(spec, seam)
        else:
            depth += seam_reach(spec, seam)
    return (width, depth)


def _union(parts: list[CrossSection]) -> CrossSection:
    if not parts:
        return CrossSection()
    return CrossSection.batch_boolean(parts, OpType.Add) if len(parts) > 1 else parts[0]
