"""The Gridfinity cell pocket (spec §1) as a cutter solid, plus the small 2D
shape helpers the other geometry modules share.

A pocket is the 42 × 42 mm opening a bin's foot drops into: a rounded
rectangle whose corner centres sit 4 mm inside the cell edges, swept along
GridFlock's profile (bottom to top: 0.7 mm chamfer, 1.8 mm vertical, 2.15 mm
chamfer; 4.65 mm in all). A filler cell gets the same profile round its own
size, still with r = 4 corners. The cutter is built directly as a loft of
rounded rectangles with one vertex count (a closed, manifold mesh by
construction), so one cutter per distinct cell size is made once, cached and
translated to every cell.

Knife edges (spec §1, §9): two neighbouring pockets meet the plate's top face
in one line, a wall of zero width, and GridFlock's output shows exactly
there edges shared by four faces. Several other shapes are drawn to touch
the pocket's r = 4 top arc (the plate's rounded corners, the intersection
puzzle's outlines). The pocket's top therefore stops `TOP_FLAT_MM` inside
the cell edges (41.9 × 41.9 mm, r = 3.95, for a whole cell; a bin's foot is
41.5 mm): the wall between two pockets ends in a 0.1 mm flat instead of a
knife edge, and nothing that touches the r = 4 arc ever meets the cutter
inside the plate, so the booleans never see surfaces that just touch.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from manifold3d import CrossSection, FillRule, Manifold, Mesh64

FRAME_HEIGHT_MM = 4.65  # GridFlock's frame: the profile with nothing under it
POCKET_CORNER_INSET_MM = 4.0  # corner centres 4 mm inside the cell edges (top radius 4)
# The pocket's inward offset from the cell edge, by height above the frame bottom.
POCKET_PROFILE: tuple[tuple[float, float], ...] = ((0.0, 2.85), (0.7, 2.15), (2.5, 2.15), (4.65, 0.0))
POCKET_BOTTOM_OFFSET_MM = 2.85  # the opening at the bottom: 36.3 mm for a whole cell, r = 1.15
TOP_FLAT_MM = 0.05  # the pocket's top stops this far inside the cell edges
ARC_SEGMENTS = 8  # per quarter circle (32 for a whole circle)
MIN_CELL_MM = 2 * POCKET_CORNER_INSET_MM + 0.5  # GR's cutter needs more than 8 mm


# --- 2D helpers ------------------------------------------------------------------------------------


def arc(cx: float, cy: float, r: float, start_deg: float, end_deg: float, segments: int) -> np.ndarray:
    """Points on a circular arc, both ends included (counter-clockwise when
    end > start)."""
    t = np.radians(np.linspace(start_deg, end_deg, segments + 1))
    return np.column_stack((cx + r * np.cos(t), cy + r * np.sin(t)))


def circle(cx: float, cy: float, r: float, segments: int = 32) -> np.ndarray:
    """A counter-clockwise polygon approximating a circle."""
    t = np.linspace(0.0, 2 * math.pi, segments, endpoint=False)
    return np.column_stack((cx + r * np.cos(t), cy + r * np.sin(t)))


def rect(x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
    """A counter-clockwise axis-aligned rectangle."""
    return np.array([(x0, y0), (x1, y0), (x1, y1), (x0, y1)], dtype=float)


def rounded_rect(
    x0: float,
    y0: float,
    x1: float,
    y1: float,
    radii: tuple[float, float, float, float],
    segments: int = ARC_SEGMENTS,
) -> np.ndarray:
    """A counter-clockwise rectangle with each corner (SW, SE, NE, NW)
    rounded by its own radius; a radius of 0 leaves that corner square."""
    half = min(x1 - x0, y1 - y0) / 2
    corners = ((x0, y0, 1, 1, 180.0), (x1, y0, -1, 1, 270.0), (x1, y1, -1, -1, 0.0), (x0, y1, 1, -1, 90.0))
    points: list[np.ndarray] = []
    for (cx, cy, sx, sy, start), r in zip(corners, radii, strict=True):
        r = min(max(r, 0.0), half)
        if r <= 1e-9:
            points.append(np.array([(cx, cy)]))
        else:
            points.append(arc(cx + sx * r, cy + sy * r, r, start, start + 90.0, segments))
    return np.vstack(points)


def section(polygons: list[np.ndarray]) -> CrossSection:
    """The union of counter-clockwise polygons as one CrossSection."""
    if not polygons:
        return CrossSection()
    return CrossSection(polygons, FillRule.Positive)


def transform_polygon(points: np.ndarray, matrix: np.ndarray, offset: tuple[float, float]) -> np.ndarray:
    """Apply a 2×2 `matrix` then a translation; a mirroring matrix has its
    vertex order reversed so the polygon stays counter-clockwise."""
    out = points @ matrix.T + np.asarray(offset, dtype=float)
    return out[::-1] if np.linalg.det(matrix) < 0 else out


# --- the pocket -------------------------------------------------------------------------------------


def pocket_section(
    width: float, depth: float, offset: float, segments: int = ARC_SEGMENTS, *, circumscribed: bool = True
) -> np.ndarray:
    """The pocket's outline `offset` mm inside the edges of a cell whose SW
    corner is at 0,0 (negative offsets go outside): a rounded rectangle with
    its corner centres 4 mm inside the cell, radius 4 - offset.

    The cutter's rings are circumscribed (vertices at half steps, just
    outside the true arc) so their straight sides lie exactly `offset` from
    the cell edges and none of their vertices shares an angle with the
    inscribed arcs (vertices at whole steps) of the plate outline and of the
    2D masks drawn with `circumscribed=False`: the booleans never meet edge
    on edge, which would leave near-duplicate vertices."""
    inset = POCKET_CORNER_INSET_MM
    centres = ((inset, inset, 180.0), (width - inset, inset, 270.0), (width - inset, depth - inset, 0.0))
    centres += ((inset, depth - inset, 90.0),)
    if not circumscribed:
        return np.vstack([arc(cx, cy, inset - offset, a, a + 90.0, segments) for cx, cy, a in centres])
    r = (inset - offset) / math.cos(math.radians(45.0 / segments))
    step = 90.0 / segments
    parts = [arc(cx, cy, r, a + step / 2, a + 90.0 - step / 2, segments - 1) for cx, cy, a in centres]
    return np.vstack(parts)


def _loft(rings: list[tuple[float, np.ndarray]]) -> Manifold:
    """A closed solid through horizontal rings of equal vertex count,
    bottom to top, each convex and counter-clockwise seen from above."""
    n = len(rings[0][1])
    verts = np.vstack([np.column_stack((ring, np.full(n, z))) for z, ring in rings])
    j = np.arange(n)
    k = (j + 1) % n
    faces: list[np.ndarray] = []
    for level in range(len(rings) - 1):
        a, b = level * n, (level + 1) * n
        faces.append(np.column_stack((a + j, a + k, b + k)))
        faces.append(np.column_stack((a + j, b + k, b + j)))
    fan = np.arange(1, n - 1)
    faces.append(np.column_stack((np.zeros_like(fan), fan + 1, fan)))  # bottom, facing down
    top = (len(rings) - 1) * n
    faces.append(np.column_stack((np.full_like(fan, top), top + fan, top + fan + 1)))
    tris = np.ascontiguousarray(np.vstack(faces), dtype=np.uint64)
    return Manifold(Mesh64(vert_properties=np.ascontiguousarray(verts, dtype=np.float64), tri_verts=tris))


@lru_cache(maxsize=256)
def pocket_cutter(width: float, depth: float, frame_bottom: float, through_bottom: bool) -> Manifold:
    """The solid a cell's pocket removes, for a cell `width` × `depth` mm
    with its SW corner at 0,0. The profile starts at z = `frame_bottom` and
    ends at the frame top (frame_bottom + 4.65) `TOP_FLAT_MM` inside the
    cell edges, then goes on 1 mm further so it cuts through the top face. With
    `through_bottom` the bottom opening continues 1 mm below z = 0 (an open
    "thin" plate); without, the cutter stops at the frame bottom (a magnet
    layer lies underneath). Cached: callers translate the result."""
    if width < MIN_CELL_MM or depth < MIN_CELL_MM:
        raise ValueError(f"a cell must be at least {MIN_CELL_MM:g} mm on each side, got {width:g} × {depth:g} mm")
    top = frame_bottom + FRAME_HEIGHT_MM
    (_, bottom_off), (h1, off1), (h2, off2), _top = POCKET_PROFILE
    # The top chamfer reaches TOP_FLAT_MM at the frame top; continue it 0.5 mm
    # further up (and the bottom chamfer 1 mm further down for an open
    # bottom) so no ring of the cutter lies in the plate's top or bottom
    # face: they cross those faces instead of running along them.
    top_slope = (off2 - TOP_FLAT_MM) / (FRAME_HEIGHT_MM - h2)
    above = TOP_FLAT_MM - 0.5 * top_slope
    levels: list[tuple[float, float]] = []
    if through_bottom:
        bottom_slope = (bottom_off - off1) / h1
        levels.append((frame_bottom - 1.0, bottom_off + bottom_slope))
    else:
        levels.append((frame_bottom, bottom_off))
    levels += [(frame_bottom + h1, off1), (frame_bottom + h2, off2), (top + 0.5, above), (top + 1.0, above)]
    return _loft([(z, pocket_section(width, depth, off)) for z, off in levels])
