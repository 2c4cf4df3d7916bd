"""The printable meshes of a plate set: one watertight, manifold solid per
piece (spec §1–§7), built with manifold3d booleans, no OpenSCAD.

A piece (`SegmentSpec`) is built bottom at z = 0, the SW corner of its cells
and padding at x = y = 0 (connectors may reach past its sides):

1. Its outline in 2D: a rectangle with rounded outer corners, square where a
   corner touches a seam, minus the intersection puzzle's cut-outs plus its
   knobs and barbs; extruded to the full height (4.65 mm, 8.15 with the
   press-fit magnet layer under the frame).
2. Minus one pocket cutter per cell (`pocket.py`; one cutter per distinct
   cell size, translated; its top stops 0.05 mm inside the cell, so walls
   between pockets end in a 0.1 mm flat, not a knife edge), the open middle of each cell in the magnet layer
   (all but the frame ring and the magnet pads), the magnet slots and
   release slots, the edge-puzzle sockets and the embossed shape label; all
   subtracted in one batch boolean.
3. Plus the edge puzzle's tabs, clipped to the neighbour's solid material
   (they never enter its pocket).

The shape label is cut 0.5 mm into the bottom, mirrored so it reads from
below, in material that is solid for the whole depth of the letters plus a
0.4 mm border: the spot of such material nearest the SW corner of the cells
(padding if it is wide enough, else a cell intersection or magnet pad). If
no spot is big enough even for letters at 65 % size — a piece one cell wide
with neither padding nor magnets has only 2.85 mm walls at its bottom — the
label is left out.

`plate_meshes` makes each distinct shape once; `mesh_checks` lists what
would make a slicer reject a mesh; `to_stl` writes binary STL and
`assembled`/`to_glb` the coloured preview scene for the browser.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import trimesh
from manifold3d import CrossSection, Error, JoinType, Manifold, Mesh, OpType
from trimesh.visual import TextureVisuals
from trimesh.visual.material import PBRMaterial

from app.grid.geometry import connectors, glyphs
from app.grid.geometry.magnets import (
    MAGNET_LAYER_MM,
    MAGNET_SLOT_BOTTOM_MM,
    MAGNET_SLOT_TOP_MM,
    MagnetLayout,
)
from app.grid.geometry.pocket import (
    FRAME_HEIGHT_MM,
    POCKET_BOTTOM_OFFSET_MM,
    pocket_cutter,
    pocket_section,
    rounded_rect,
    section,
)
from app.grid.geometry.spec import GRID_UNIT_MM, PlateSetPlan, SegmentSpec

LABEL_DEPTH_MM = 0.5
LABEL_UNIT_MM = 0.6  # glyph grid unit: letters 3.6 mm tall, 2.4 mm wide
LABEL_STROKE_MM = 0.55
LABEL_BORDER_MM = 0.4  # solid material kept round the letters
LABEL_SCALES = (1.0, 0.8, 0.65)
ASSEMBLY_GAP_MM = 2.0

_SUB, _ADD = OpType.Subtract, OpType.Add


def plate_height_mm(magnets: str) -> float:
    """4.65 mm of frame, plus the 3.5 mm magnet layer with press-fit magnets."""
    return FRAME_HEIGHT_MM + (MAGNET_LAYER_MM if magnets != "none" else 0.0)


@dataclass(frozen=True)
class Cell:
    x0: float
    y0: float
    width: float
    depth: float
    width_u: float
    depth_u: float


def cells_of(spec: SegmentSpec) -> list[Cell]:
    """The piece's cells with their SW corners, in piece coordinates."""
    _n, _e, s_pad, w_pad = spec.padding
    out: list[Cell] = []
    y = s_pad
    for du in spec.cells_y:
        x = w_pad
        for wu in spec.cells_x:
            out.append(Cell(x, y, wu * GRID_UNIT_MM, du * GRID_UNIT_MM, wu, du))
            x += wu * GRID_UNIT_MM
        y += du * GRID_UNIT_MM
    return out


def outline(spec: SegmentSpec) -> np.ndarray:
    """The piece's outer outline: its rectangle with the corners rounded by
    `corner_radius_mm`, except the corners on a side with a seam."""
    width, depth = spec.size_mm
    n, e, s, w = spec.connectors
    r = max(spec.corner_radius_mm, 0.0)
    radii = (0.0 if (s or w) else r, 0.0 if (s or e) else r, 0.0 if (n or e) else r, 0.0 if (n or w) else r)
    return rounded_rect(0.0, 0.0, width, depth, radii)


def _validate(spec: SegmentSpec) -> None:
    if not spec.cells_x or not spec.cells_y:
        raise ValueError("a piece needs at least one cell on each axis")
    if any(p < 0 or not math.isfinite(p) for p in spec.padding):
        raise ValueError(f"padding must be zero or more, got {spec.padding}")
    if spec.connector not in ("intersection-puzzle", "edge-puzzle", "none"):
        raise ValueError(f"unknown connector {spec.connector!r}")
    if spec.magnets not in ("none", "press-fit"):
        raise ValueError(f"unknown magnet style {spec.magnets!r}")


def segment_mesh(spec: SegmentSpec) -> trimesh.Trimesh:
    """One printable piece as a watertight, manifold mesh (see the module
    docstring for its frame and construction)."""
    return to_trimesh(segment_solid(spec))


def segment_solid(spec: SegmentSpec) -> Manifold:
    """`segment_mesh` as a manifold3d solid (for further booleans)."""
    _validate(spec)
    magnets = spec.magnets != "none"
    layer = MAGNET_LAYER_MM if magnets else 0.0
    height = layer + FRAME_HEIGHT_MM
    cells = cells_of(spec)

    # 1. the outline, with the intersection puzzle's cut-outs and additions, at full height
    plate = section([outline(spec)])
    if spec.connector == "intersection-puzzle" and any(spec.connectors):
        cuts = connectors.intersection_puzzle(spec)
        plate = (plate - cuts.negative) + cuts.positive
    slab = Manifold.extrude(plate, height)

    # 2. everything cut away
    cutters: list[Manifold] = [
        pocket_cutter(round(c.width, 6), round(c.depth, 6), layer, not magnets).translate((c.x0, c.y0, 0.0))
        for c in cells
    ]
    label_keep_out: list[CrossSection] = []
    sockets = CrossSection()
    males = CrossSection()
    placed_males: list[tuple[connectors.Seam, float, float]] = []
    if spec.connector == "edge-puzzle" and any(spec.connectors):
        males, sockets, placed_males = connectors.edge_puzzle(spec)
        if not sockets.is_empty():
            top = layer + connectors.EDGE_FEMALE_HEIGHT_MM
            cutters.append(Manifold.extrude(sockets, top + 1.0).translate((0.0, 0.0, -1.0)))
            label_keep_out.append(sockets)
    if magnets:
        layout = MagnetLayout([(c.x0, c.y0, c.width, c.depth, c.width_u, c.depth_u) for c in cells])
        # 0.1 mm wider than the pocket's floor, and reaching 0.3 mm up into
        # the pocket: its walls cross the pocket's bottom chamfer instead of
        # running along the floor's edge
        floor = POCKET_BOTTOM_OFFSET_MM - 0.1
        middles = section(
            [pocket_section(c.width, c.depth, floor, circumscribed=False) + np.array([c.x0, c.y0]) for c in cells]
        )
        open_middle = middles - layout.pads
        if spec.connector == "edge-puzzle":
            open_middle = open_middle - connectors.female_bars(spec)
        # up into the pocket cutter a little, so the two overlap instead of touching
        cutters.append(Manifold.extrude(open_middle, layer + 1.3).translate((0.0, 0.0, -1.0)))
        slot_height = MAGNET_SLOT_TOP_MM - MAGNET_SLOT_BOTTOM_MM
        cutters.append(Manifold.extrude(layout.slots, slot_height).translate((0.0, 0.0, MAGNET_SLOT_BOTTOM_MM)))
        cutters.append(Manifold.extrude(layout.release, MAGNET_SLOT_TOP_MM + 1.0).translate((0.0, 0.0, -1.0)))
        label_keep_out += [open_middle, layout.slots, layout.release]
    else:
        # the pocket at the letters' top (it widens upward): 0.7 mm up it is 2.15 mm from the cell edge
        label_keep_out.append(
            section(
                [pocket_section(c.width, c.depth, 2.15, circumscribed=False) + np.array([c.x0, c.y0]) for c in cells]
            )
        )
    label = _label(spec, plate, label_keep_out)
    if label is not None:
        cutters.append(Manifold.extrude(label, LABEL_DEPTH_MM + 1.0).translate((0.0, 0.0, -1.0)))
    body = Manifold.batch_boolean([slab, *cutters], _SUB)

    # 3. the edge puzzle's tabs, kept out of the neighbour's pockets
    if placed_males:
        tabs = Manifold.extrude(males, layer + connectors.EDGE_MALE_HEIGHT_MM)
        body = Manifold.batch_boolean([body, tabs - _neighbour_pockets(placed_males, layer, not magnets)], _ADD)
    return body


def _neighbour_pockets(placed: list[tuple[connectors.Seam, float, float]], layer: float, through: bool) -> Manifold:
    """The pockets of the cells across each male seam (a whole cell deep,
    as long as ours along the seam)."""
    out: list[Manifold] = []
    u = GRID_UNIT_MM
    for seam, start, length in placed:
        if seam.vertical:
            out.append(pocket_cutter(u, round(length, 6), layer, through).translate((seam.at, start, 0.0)))
        else:
            out.append(pocket_cutter(round(length, 6), u, layer, through).translate((start, seam.at, 0.0)))
    return Manifold.batch_boolean(out, _ADD)


def label_spot(spec: SegmentSpec, solid: CrossSection) -> tuple[float, float, float] | None:
    """Where the label goes: (x, y, scale) of its centre in the `solid`
    region (material solid for the letters' whole depth), nearest the SW
    corner of the cells; None when even the smallest size does not fit."""
    text = spec.label.strip()
    if not text:
        return None
    _n, _e, s_pad, w_pad = spec.padding
    target = np.array([w_pad, s_pad])
    for scale in LABEL_SCALES:
        w, h = glyphs.text_size(text, LABEL_UNIT_MM * scale, max(LABEL_STROKE_MM * scale, 0.45))
        room = solid.offset(-(math.hypot(w, h) / 2 + LABEL_BORDER_MM), JoinType.Round, circular_segments=24)
        if room.is_empty():
            continue
        x, y = _nearest_point(room, target)
        return x, y, scale
    return None


def _label(spec: SegmentSpec, plate: CrossSection, keep_out: list[CrossSection]) -> CrossSection | None:
    text = spec.label.strip()
    if not text:
        return None
    if not glyphs.supported(text):
        raise ValueError(f"label {text!r}: only A–Z and 0–9 can be embossed")
    solid = plate - CrossSection.batch_boolean(keep_out, _ADD) if keep_out else plate
    spot = label_spot(spec, solid)
    if spot is None:
        return None
    x, y, scale = spot
    letters = glyphs.text_outline(text, LABEL_UNIT_MM * scale, max(LABEL_STROKE_MM * scale, 0.45), mirror=True)
    return letters.translate((x, y))


def _nearest_point(region: CrossSection, target: np.ndarray) -> tuple[float, float]:
    """The point of `region` nearest `target` (the target itself when inside)."""
    tx, ty = float(target[0]), float(target[1])
    if (section([_tiny_square(tx, ty)]) - region).area() < 1e-12:  # inside
        return tx, ty
    best, best_d = (tx, ty), math.inf
    for poly in region.to_polygons():
        a = np.asarray(poly)
        b = np.roll(a, -1, axis=0)
        ab = b - a
        t = np.clip(np.einsum("ij,ij->i", target - a, ab) / np.maximum(np.einsum("ij,ij->i", ab, ab), 1e-18), 0, 1)
        p = a + ab * t[:, None]
        d = np.hypot(p[:, 0] - tx, p[:, 1] - ty)
        i = int(np.argmin(d))
        if d[i] < best_d:
            best_d, best = float(d[i]), (float(p[i, 0]), float(p[i, 1]))
    return best


def _tiny_square(x: float, y: float) -> np.ndarray:
    e = 1e-4
    return np.array([(x - e, y - e), (x + e, y - e), (x + e, y + e), (x - e, y + e)])


# --- conversion, checks and export --------------------------------------------------------------------


def to_trimesh(solid: Manifold) -> trimesh.Trimesh:
    """A manifold3d solid as a trimesh mesh (vertices shared, no processing)."""
    mesh = solid.to_mesh64()
    verts = np.asarray(mesh.vert_properties)[:, :3]
    faces = np.asarray(mesh.tri_verts, dtype=np.int64)
    return trimesh.Trimesh(vertices=verts, faces=faces, process=False)


def mesh_checks(mesh: trimesh.Trimesh) -> list[str]:
    """What is wrong with a mesh for printing, in words; [] when it is a
    clean solid. Vertices are merged by position first, as an STL reader
    does, so two surfaces meeting in one edge (a knife edge) count."""
    problems: list[str] = []
    if len(mesh.faces) == 0:
        return ["the mesh is empty"]
    merged = trimesh.Trimesh(vertices=mesh.vertices.copy(), faces=mesh.faces.copy(), process=False)
    merged.merge_vertices(merge_tex=True, merge_norm=True)
    areas = merged.area_faces
    degenerate = int(np.count_nonzero(areas < 1e-10))
    if degenerate:
        problems.append(f"{degenerate} degenerate (zero-area) faces")
    edges = np.sort(merged.edges, axis=1)
    _unique, counts = np.unique(edges, axis=0, return_counts=True)
    over = int(np.count_nonzero(counts > 2))
    open_ = int(np.count_nonzero(counts < 2))
    if over:
        problems.append(f"{over} non-manifold edges (shared by more than two faces)")
    if open_:
        problems.append(f"{open_} open edges (holes in the surface)")
    if not merged.is_watertight:
        problems.append("not watertight")
    if not merged.is_winding_consistent:
        problems.append("faces are not consistently oriented")
    if not merged.is_volume:
        problems.append("not a volume (trimesh)")
    elif merged.volume <= 0:
        problems.append(f"volume is not positive ({merged.volume:.3f} mm³)")
    solid = Manifold(
        Mesh(
            vert_properties=np.ascontiguousarray(merged.vertices, dtype=np.float32),
            tri_verts=np.ascontiguousarray(merged.faces, dtype=np.uint32),
        )
    )
    if solid.status() != Error.NoError:
        problems.append(f"manifold3d rejects it: {solid.status().name}")
    return problems


def to_stl(mesh: trimesh.Trimesh) -> bytes:
    """Binary STL."""
    data = mesh.export(file_type="stl")
    if not isinstance(data, bytes):
        raise TypeError("trimesh did not write binary STL")
    return data


def plate_meshes(plan: PlateSetPlan) -> dict[str, trimesh.Trimesh]:
    """One mesh per distinct shape of the set (shape key → mesh); each
    shape is built once, however many pieces share it."""
    out: dict[str, trimesh.Trimesh] = {}
    for seg in plan.segments:
        key = seg.shape_key()
        if key not in out:
            out[key] = segment_mesh(seg)
    return out


# Distinct, light colours for shape labels A, B, C, … (RGBA).
PALETTE: tuple[tuple[int, int, int, int], ...] = (
    (79, 140, 214, 255),
    (232, 137, 62, 255),
    (92, 176, 108, 255),
    (204, 88, 96, 255),
    (148, 112, 196, 255),
    (60, 170, 178, 255),
    (210, 180, 60, 255),
    (150, 150, 150, 255),
)


def label_colour(label: str, index: int) -> tuple[int, int, int, int]:
    """The colour of a shape label (by its letters; `index` when unlabelled)."""
    if label:
        n = 0
        for ch in label.upper():
            n = n * 26 + (ord(ch) - ord("A") + 1 if "A" <= ch <= "Z" else ord(ch))
        return PALETTE[(n - 1) % len(PALETTE)]
    return PALETTE[index % len(PALETTE)]


def segment_position(seg: SegmentSpec, gap: float = ASSEMBLY_GAP_MM) -> tuple[float, float]:
    """Where a piece sits in the assembled preview: its origin, spread by
    `gap` per column and row so the seams show."""
    return (seg.origin[0] + seg.column * gap, seg.origin[1] + seg.row * gap)


def assembled(plan: PlateSetPlan, meshes: dict[str, trimesh.Trimesh], gap: float = ASSEMBLY_GAP_MM) -> trimesh.Scene:
    """Every piece at its place in the assembled plate, `gap` mm apart,
    coloured by shape label (a glTF material per shape). Pieces of one
    shape share one geometry."""
    scene = trimesh.Scene()
    coloured: dict[str, trimesh.Trimesh] = {}
    for i, key in enumerate(plan.unique_shapes):
        if key not in meshes:
            raise KeyError(f"no mesh for shape {key[:12]}…; make them with plate_meshes(plan)")
        seg = next(s for s in plan.segments if s.shape_key() == key)
        mesh = meshes[key].copy()
        r, g, b, a = label_colour(seg.label, i)
        material = PBRMaterial(
            name=f"shape-{seg.label or i}",
            baseColorFactor=[r / 255, g / 255, b / 255, a / 255],
            metallicFactor=0.0,
            roughnessFactor=0.85,
        )
        mesh.visual = TextureVisuals(material=material)
        coloured[key] = mesh
    names: dict[str, str] = {}
    for seg in plan.segments:
        key = seg.shape_key()
        x, y = segment_position(seg, gap)
        transform = trimesh.transformations.translation_matrix((x, y, 0.0))
        node = f"piece-{seg.number}"
        if key not in names:
            names[key] = f"shape-{seg.label or key[:8]}"
            scene.add_geometry(coloured[key], node_name=node, geom_name=names[key], transform=transform)
        else:  # one more instance of a shape already in the scene
            scene.graph.update(frame_to=node, frame_from=scene.graph.base_frame, matrix=transform, geometry=names[key])
    return scene


def to_glb(scene: trimesh.Scene) -> bytes:
    """The scene as binary glTF for the browser's 3D viewer."""
    data = scene.export(file_type="glb")
    if not isinstance(data, bytes):
        raise TypeError("trimesh did not write binary glTF")
    return data
