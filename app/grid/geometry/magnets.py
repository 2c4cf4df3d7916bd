"""Press-fit magnets (spec §4.1, GridFlock's defaults), in 2D per layer.

The magnet layer is 3.5 mm added under the 4.65 mm frame (0.75 floor,
2.25 slot for a 6 × 2 mm magnet, 0.5 skin), so a plate with magnets is
8.15 mm tall. In that layer a cell is not solid: it keeps the frame ring
under its walls and, at each magnet corner, an L-shaped pad (two 8 × 12.95
strips and a r = 4.95 disc round the magnet); the middle stays open.

Each magnet sits 8 mm from both cell edges in a 5.9 mm slot (undersized
for a 6 mm magnet, so it grips) with a 5.9 mm channel towards the cell
centre, through the pad's border into the open middle: the magnet is
pushed in sideways from inside the pocket. A 3 mm release slot runs from
under the magnet away from the centre, open at the bottom, for a
screwdriver. Filler cells carry fewer magnets: narrower than a cell, the
SE and NW corners; shallower, SW and NE; both, NW only; the channel then
points along the long side (-90°) instead of diagonally (-45°).

All shapes are built in a corner's own frame (the cell centre towards
+x, +y) and turned onto each corner. Circles have 24 sides (12 for the
1.5 mm ends of the release slot): the flats sit at most 0.03 mm inside the
5.9 mm slot, which only tightens the press fit.
"""

from __future__ import annotations

import math

import numpy as np
from manifold3d import CrossSection

from app.grid.geometry.pocket import circle, rect, section, transform_polygon

MAGNET_DIAMETER_MM = 5.9
MAGNET_SLOT_HEIGHT_MM = 2.25
MAGNET_TOP_MM = 0.5  # skin between the magnet and the frame
MAGNET_BOTTOM_MM = 0.75  # floor under the magnet
MAGNET_BORDER_MM = 2.0
MAGNET_RELEASE_WIDTH_MM = 3.0
MAGNET_INSET_MM = 0.25 + 2.15 + 0.8 + 4.8  # 8.0 from both cell edges
MAGNET_LAYER_MM = MAGNET_BOTTOM_MM + MAGNET_SLOT_HEIGHT_MM + MAGNET_TOP_MM  # 3.5
MAGNET_SLOT_BOTTOM_MM = MAGNET_BOTTOM_MM  # z of the slot's floor, from the plate bottom
MAGNET_SLOT_TOP_MM = MAGNET_BOTTOM_MM + MAGNET_SLOT_HEIGHT_MM  # 3.0

_R = MAGNET_DIAMETER_MM / 2
_PAD_REACH = MAGNET_INSET_MM + _R + MAGNET_BORDER_MM  # 12.95
_CHANNEL = _R + MAGNET_BORDER_MM  # 4.95 from the magnet centre
_EXTRA = 0.5  # the channel runs on into the open middle, so it never just touches the pad's edge
_WHOLE = 1.0 - 1e-6


def magnet_corners(width_u: float, depth_u: float) -> list[tuple[int, float]]:
    """(corner, channel angle) for a cell of `width_u` × `depth_u` grid
    units. Corners: 0 SW, 1 SE, 2 NE, 3 NW."""
    narrow, shallow = width_u < _WHOLE, depth_u < _WHOLE
    if narrow and shallow:
        return [(3, -45.0)]
    if narrow:
        return [(1, -90.0), (3, -90.0)]
    if shallow:
        return [(0, -90.0), (2, -90.0)]
    return [(0, -45.0), (1, -45.0), (2, -45.0), (3, -45.0)]


def _rotation(deg: float) -> np.ndarray:
    t = math.radians(deg)
    return np.array([[math.cos(t), -math.sin(t)], [math.sin(t), math.cos(t)]])


def _corner_pad() -> list[np.ndarray]:
    m = MAGNET_INSET_MM
    return [rect(0.0, 0.0, m, _PAD_REACH), rect(0.0, 0.0, _PAD_REACH, m), circle(m, m, _R + MAGNET_BORDER_MM, 24)]


def _slot(angle: float) -> list[np.ndarray]:
    turn = _rotation(angle)
    channel = transform_polygon(rect(-_R, 0.0, _R, _CHANNEL + _EXTRA), turn, (MAGNET_INSET_MM, MAGNET_INSET_MM))
    return [circle(MAGNET_INSET_MM, MAGNET_INSET_MM, _R, 24), channel]


def _release(angle: float) -> list[np.ndarray]:
    turn = _rotation(angle)
    w = MAGNET_RELEASE_WIDTH_MM / 2
    local = [rect(-w, -_CHANNEL, w, 0.0), circle(0.0, -_CHANNEL, w, 12), circle(0.0, 0.0, w, 12)]
    return [transform_polygon(p, turn, (MAGNET_INSET_MM, MAGNET_INSET_MM)) for p in local]


class MagnetLayout:
    """The magnet shapes of a piece's cells, in piece coordinates:
    `pads` (solid in the magnet layer), `slots` (the magnet and its
    channel, z 0.75–3.0) and `release` (z 0–3.0)."""

    def __init__(self, cells: list[tuple[float, float, float, float, float, float]]) -> None:
        """`cells`: (x0, y0, width mm, depth mm, width u, depth u) each."""
        pads: list[np.ndarray] = []
        slots: list[np.ndarray] = []
        release: list[np.ndarray] = []
        centres: list[np.ndarray] = []
        for x0, y0, w, d, wu, du in cells:
            corner_points = ((x0, y0), (x0 + w, y0), (x0 + w, y0 + d), (x0, y0 + d))
            for corner, angle in magnet_corners(wu, du):
                turn = _rotation(90.0 * corner)
                at = corner_points[corner]
                pads += [transform_polygon(p, turn, at) for p in _corner_pad()]
                slots += [transform_polygon(p, turn, at) for p in _slot(angle)]
                release += [transform_polygon(p, turn, at) for p in _release(angle)]
                centres.append(turn @ np.array([MAGNET_INSET_MM, MAGNET_INSET_MM]) + np.asarray(at))
        self.pads: CrossSection = section(pads)
        self.slots: CrossSection = section(slots)
        self.release: CrossSection = section(release)
        self.centres: np.ndarray = np.array(centres).reshape(-1, 2)  # one row per magnet
