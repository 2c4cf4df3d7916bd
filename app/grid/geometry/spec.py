"""The shared vocabulary of the grid geometry: what a customer or staff
member chooses (`GridOptions`), how a drawer is laid out in cells
(`AxisLayout`), and one printable piece of a plate set (`SegmentSpec`).

Conventions (spec: docs/gridfinity-spec.md): millimetres; XY is the bed, +Z
up; N=+Y, E=+X, S=-Y, W=-X; sides are always listed N, E, S, W. One grid
unit ("u") is 42 mm. Cells are listed in units: 1.0 for a whole cell, a
fraction for a filler cell (always at the east/north end of an axis).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Literal

GRID_UNIT_MM = 42.0

Magnets = Literal["none", "press-fit"]
Connector = Literal["intersection-puzzle", "edge-puzzle", "none"]
Filler = Literal["none", "integer", "dynamic"]

CONNECTOR_CODES: dict[str, Connector] = {"IP": "intersection-puzzle", "EP": "edge-puzzle", "NONE": "none"}


@dataclass(frozen=True)
class GridOptions:
    """Everything that decides a plate set's geometry. Frozen and hashable:
    `key()` is the content hash of the geometry parameters."""

    drawer_width_mm: float  # along X
    drawer_depth_mm: float  # along Y
    magnets: Magnets = "none"
    connector: Connector = "intersection-puzzle"
    bed_width_mm: float = 256.0
    bed_depth_mm: float = 256.0
    filler: Filler = "integer"  # spec §3: none (0), integer fraction f=2 (1, default), dynamic (2)
    filler_minimum_mm: float = 15.0  # dynamic filler: a remainder below this merges into the last cell
    align_x: float = 0.5  # spec §2: share of the X padding on the west side
    align_y: float = 0.5  # share of the Y padding on the south side
    puzzle_fit: float = 1.0  # intersection puzzle: 1 tight … 0 loose (spec §7.1)
    edge_puzzle_gap: float = 0.15  # edge puzzle clearance, all round (spec §7.2)
    corner_radius_mm: float = 4.0  # outer plate corners
    label: bool = True  # emboss each piece's shape label under its SW cell

    def key(self) -> str:
        return digest(asdict(self))


@dataclass(frozen=True)
class AxisLayout:
    """One axis of the drawer: its cells (in u) and the padding before
    (west/south) and after (east/north) them, in mm."""

    cells: tuple[float, ...]
    pad_start_mm: float
    pad_end_mm: float

    @property
    def cells_mm(self) -> float:
        return sum(self.cells) * GRID_UNIT_MM

    @property
    def length_mm(self) -> float:
        return self.cells_mm + self.pad_start_mm + self.pad_end_mm


@dataclass(frozen=True)
class SegmentSpec:
    """One printable plate of a plate set (a whole baseplate is a set of one).

    `cells_x`/`cells_y`: its cells in u. `padding`: mm of solid border on
    each side (N, E, S, W), only where the side is a plate edge.
    `connectors`: True on each internal side (seam); male on N and E,
    female on S and W. `origin`: where its SW corner (without protrusions)
    sits in the assembled plate, mm. `number`: 1-based, column-major (spec
    §5.5). `label`: the shape label embossed on it (identical shapes share
    one, so they are generated and sliced once)."""

    number: int
    column: int
    row: int
    cells_x: tuple[float, ...]
    cells_y: tuple[float, ...]
    padding: tuple[float, float, float, float]
    connectors: tuple[bool, bool, bool, bool]
    origin: tuple[float, float]
    magnets: Magnets = "none"
    connector: Connector = "intersection-puzzle"
    puzzle_fit: float = 1.0
    edge_puzzle_gap: float = 0.15
    corner_radius_mm: float = 4.0
    label: str = ""

    @property
    def size_mm(self) -> tuple[float, float]:
        """Width and depth without connector protrusions."""
        n, e, s, w = self.padding
        return (sum(self.cells_x) * GRID_UNIT_MM + e + w, sum(self.cells_y) * GRID_UNIT_MM + n + s)

    def shape_key(self) -> str:
        """The content hash of its geometry: number, position and nothing
        else that leaves the mesh alike is left out."""
        data = asdict(self)
        for k in ("number", "column", "row", "origin"):
            data.pop(k)
        return digest(data)


@dataclass
class PlateSetPlan:
    """A drawer's plate set: the axis layouts, the segments, and the
    segments' footprints including connector protrusions (mm)."""

    options: GridOptions
    x: AxisLayout
    y: AxisLayout
    segments: list[SegmentSpec] = field(default_factory=list)
    footprints: dict[int, tuple[float, float]] = field(default_factory=dict)  # number → (w, d)

    @property
    def unique_shapes(self) -> dict[str, list[int]]:
        """Shape key → the numbers of the segments that share it."""
        out: dict[str, list[int]] = {}
        for s in self.segments:
            out.setdefault(s.shape_key(), []).append(s.number)
        return out


def digest(data: object) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, separators=(",", ":"), default=str).encode()).hexdigest()
