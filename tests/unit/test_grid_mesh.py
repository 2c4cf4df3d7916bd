"""The baseplate meshes: GridFlock's anchors (spec §10: 84 × 84 × 4.65 mm and
5.1 cm³ for a plain 2×2, 8.15 mm with press-fit magnets), the pocket
profile of whole and filler cells (§1, §3), magnet slots (§4.1), padding,
corners, the embossed label, bed fit against the layout, and a clean solid
(watertight, manifold, positive volume, no knife-edge pinches, §9) for every
option on a matrix of drawer sizes. Plus the preview: GLB, STL, PNG."""

from __future__ import annotations

import io
import math
from dataclasses import replace
from functools import cache

import numpy as np
import pytest
import trimesh
from manifold3d import CrossSection, Manifold
from PIL import Image

from app.grid.geometry import connectors
from app.grid.geometry.layout import plan_plate_set
from app.grid.geometry.magnets import MagnetLayout
from app.grid.geometry.mesh import (
    assembled,
    label_spot,
    mesh_checks,
    plate_height_mm,
    plate_meshes,
    segment_mesh,
    segment_solid,
    to_glb,
    to_stl,
)
from app.grid.geometry.render import BACKGROUND, render_png
from app.grid.geometry.spec import GridOptions, PlateSetPlan, SegmentSpec

NONE4 = (False, False, False, False)


def seg(cells_x=(1.0, 1.0), cells_y=(1.0, 1.0), **kw) -> SegmentSpec:
    data = {
        "number": 1,
        "column": 0,
        "row": 0,
        "cells_x": tuple(cells_x),
        "cells_y": tuple(cells_y),
        "padding": (0.0, 0.0, 0.0, 0.0),
        "connectors": NONE4,
        "origin": (0.0, 0.0),
    }
    data.update(kw)
    return SegmentSpec(**data)


@cache
def solid(spec: SegmentSpec) -> Manifold:
    return segment_solid(spec)


@cache
def mesh(spec: SegmentSpec) -> trimesh.Trimesh:
    return segment_mesh(spec)


@cache
def plan_and_meshes(options: GridOptions) -> tuple[PlateSetPlan, dict[str, trimesh.Trimesh]]:
    plan = plan_plate_set(options)
    return plan, plate_meshes(plan)


def is_solid(cs: CrossSection, x: float, y: float) -> bool:
    e = 1e-3
    probe = CrossSection([np.array([(x - e, y - e), (x + e, y - e), (x + e, y + e), (x - e, y + e)])])
    return (probe - cs).area() < 1e-9


def holes(cs: CrossSection) -> list[tuple[float, float, float, float]]:
    """Bounding boxes (x0, y0, x1, y1) of the pocket-sized holes of a slice
    (not the letters of a label)."""
    out = []
    for poly in cs.to_polygons():
        p = np.asarray(poly)
        area = 0.5 * np.sum(p[:, 0] * np.roll(p[:, 1], -1) - np.roll(p[:, 0], -1) * p[:, 1])
        if area < 0 and np.ptp(p[:, 0]) > 8 and np.ptp(p[:, 1]) > 8:
            out.append((p[:, 0].min(), p[:, 1].min(), p[:, 0].max(), p[:, 1].max()))
    return sorted(out)


def size(box: tuple[float, float, float, float]) -> tuple[float, float]:
    return (box[2] - box[0], box[3] - box[1])


# --- anchors (spec §10) ---------------------------------------------------------------------------


def test_plain_2x2_matches_gridflock():
    m = mesh(seg())
    assert mesh_checks(m) == []
    assert m.bounds[0] == pytest.approx((0, 0, 0), abs=1e-6)
    assert m.bounds[1] == pytest.approx((84, 84, 4.65), abs=1e-6)
    assert m.volume == pytest.approx(5100, rel=0.10)


def test_press_fit_magnets_add_a_layer_underneath():
    m = mesh(seg(magnets="press-fit"))
    assert mesh_checks(m) == []
    assert m.bounds[1] == pytest.approx((84, 84, 8.15), abs=1e-6)
    assert plate_height_mm("press-fit") == pytest.approx(8.15)
    assert plate_height_mm("none") == pytest.approx(4.65)


# --- pockets (spec §1, §3) ----------------------------------------------------------------------


def test_whole_cell_pocket_follows_the_profile():
    s = solid(seg())
    # bottom opening 36.3, 37.7 on the vertical part, the cell less 2 × 0.05 at the top
    for z, side in ((0.001, 36.3), (1.5, 37.7), (4.649, 41.9)):
        found = holes(s.slice(z))
        assert len(found) == 4, z
        for box in found:
            assert size(box) == pytest.approx((side, side), abs=0.03), z
    first = holes(s.slice(0.001))[0]
    assert first[:2] == pytest.approx((2.85, 2.85), abs=0.03)  # 2.85 mm walls at a plate edge


def test_filler_cells_get_pockets_of_their_size():
    # 71 × 130 mm with the integer filler: [1, 0.5] × [1, 1, 1] cells and 4 + 4 mm padding in X
    options = GridOptions(drawer_width_mm=71, drawer_depth_mm=130)
    plan, meshes = plan_and_meshes(options)
    assert len(plan.segments) == 1
    piece = plan.segments[0]
    assert piece.cells_x == (1.0, 0.5)
    s = solid(piece)
    bottom = holes(s.slice(0.001))
    widths = sorted({round(size(b)[0], 1) for b in bottom})
    assert widths == [15.3, 36.3]  # 21 - 5.7 and 42 - 5.7
    assert all(size(b)[1] == pytest.approx(36.3, abs=0.03) for b in bottom)
    top = holes(s.slice(4.649))
    assert sorted({round(size(b)[0], 1) for b in top}) == [20.9, 41.9]
    assert min(b[0] for b in bottom) == pytest.approx(piece.padding[3] + 2.85, abs=0.03)
    assert mesh_checks(meshes[piece.shape_key()]) == []


def test_dynamic_filler_cell_pocket():
    piece = seg(cells_x=(1.0, 0.4), cells_y=(1.0,))  # a 16.8 mm filler cell
    widths = sorted(round(size(b)[0], 2) for b in holes(solid(piece).slice(0.001)))
    assert widths == pytest.approx([16.8 - 5.7, 36.3], abs=0.03)
    assert mesh_checks(mesh(piece)) == []


def test_cells_narrower_than_the_pocket_corners_are_refused():
    with pytest.raises(ValueError, match="at least"):
        segment_mesh(seg(cells_x=(1.0, 0.1)))


# --- magnets (spec §4.1) ------------------------------------------------------------------------------


def test_press_fit_magnet_slots_sit_8mm_from_the_cell_edges():
    piece = seg(magnets="press-fit")
    expected = [(x + dx, y + dy) for x in (0, 42) for y in (0, 42) for dx in (8, 34) for dy in (8, 34)]
    layout = MagnetLayout([(x, y, 42, 42, 1, 1) for x in (0, 42) for y in (0, 42)])
    assert sorted(map(tuple, layout.centres.round(6).tolist())) == sorted(expected)
    s = solid(piece)
    slot, floor, skin = s.slice(1.5), s.slice(0.4), s.slice(3.25)
    for cx, cy in expected:
        towards_centre = math.atan2(np.sign(21 - (cy % 42)), np.sign(21 - (cx % 42)))
        # a 5.9 mm hole (a 24-gon, flats 0.025 mm in): open 2.9 mm from the
        # centre all round, closed at 2.97 across the channel
        for a in np.linspace(0, 2 * math.pi, 48, endpoint=False):
            assert not is_solid(slot, cx + 2.9 * math.cos(a), cy + 2.9 * math.sin(a))
        for a in (towards_centre + math.pi / 2, towards_centre - math.pi / 2):
            assert is_solid(slot, cx + 2.97 * math.cos(a), cy + 2.97 * math.sin(a))
        # a floor under it (but for the 3 mm release slot) and a 0.5 mm skin over it
        assert is_solid(floor, cx + 2.5 * math.cos(towards_centre), cy + 2.5 * math.sin(towards_centre))
        assert not is_solid(floor, cx, cy)
        assert is_solid(skin, cx, cy)
    # the cell's middle is open in the magnet layer, the frame ring round it is not
    assert not is_solid(slot, 21, 21)
    assert is_solid(slot, 1.0, 21)


@pytest.mark.parametrize(
    ("cells", "expected"),
    [
        ((0.5, 1.0), [(13.0, 8.0), (8.0, 34.0)]),  # narrower: SE and NW
        ((1.0, 0.5), [(8.0, 8.0), (34.0, 13.0)]),  # shallower: SW and NE
        ((0.5, 0.5), [(8.0, 13.0)]),  # both: NW only
    ],
)
def test_filler_cells_carry_fewer_magnets(cells, expected):
    wu, du = cells
    layout = MagnetLayout([(0.0, 0.0, wu * 42, du * 42, wu, du)])
    assert sorted(map(tuple, layout.centres.round(6).tolist())) == sorted(expected)
    piece = seg(cells_x=(wu,), cells_y=(du,), padding=(5.0, 5.0, 5.0, 5.0), magnets="press-fit")
    slot = solid(piece).slice(1.5)
    for x, y in expected:
        assert not is_solid(slot, x + 5, y + 5)
    assert mesh_checks(mesh(piece)) == []


# --- outline, padding, corners ------------------------------------------------------------------------


def test_padding_is_solid_full_height_and_corners_round_except_at_seams():
    piece = seg(padding=(0.0, 0.0, 6.0, 10.0), connectors=(False, True, False, False), magnets="press-fit")
    s = solid(piece)
    w, d = piece.size_mm
    assert (w, d) == (94.0, 90.0)
    for z in (0.2, 2.0, 5.0, 8.1):
        cut = s.slice(z)
        assert is_solid(cut, 5.0, 45.0), z  # west padding
        assert is_solid(cut, 50.0, 3.0), z  # south padding
        assert not is_solid(cut, 0.4, 0.4), z  # SW corner rounded (r = 4)
        assert not is_solid(cut, 0.4, d - 0.4), z  # NW corner rounded
        assert is_solid(cut, w - 0.4, 0.4), z  # SE corner square: it touches the E seam
    assert mesh_checks(mesh(piece)) == []


# --- the label ---------------------------------------------------------------------------------------------


def label_region(piece: SegmentSpec, z: float = 0.25) -> CrossSection:
    plain = replace(piece, label="")
    return solid(plain).slice(z) - solid(piece).slice(z)


def test_label_is_cut_half_a_millimetre_into_the_bottom_mirrored():
    piece = seg(label="L")
    cut = label_region(piece)
    assert cut.area() > 2.0
    assert label_region(piece, 0.6).area() < 1e-6  # 0.5 mm deep only
    assert mesh_checks(mesh(piece)) == []
    # no padding, no magnets: it goes to the cell intersection nearest the SW corner
    (x0, y0), (x1, y1) = cut.bounds()[:2], cut.bounds()[2:]
    assert ((x0 + x1) / 2, (y0 + y1) / 2) == pytest.approx((42, 42), abs=2.0)
    # an L read from below: its foot points to -x, so most of its ink is right of its middle
    pts = np.vstack([np.asarray(p) for p in cut.to_polygons()])
    centroid_x = pts[:, 0].mean()
    assert centroid_x > (x0 + x1) / 2


def test_label_goes_into_padding_when_there_is_some():
    piece = seg(padding=(0.0, 0.0, 10.0, 10.0), label="B")
    x0, y0, x1, y1 = label_region(piece).bounds()
    # in the padding's corner by the SW cell (it may reach into that cell's wall)
    assert x0 >= 0.0 and x1 <= 10.0 + 2.85
    assert y0 >= 0.0 and y1 <= 10.0 + 2.85
    assert mesh_checks(mesh(piece)) == []


def test_label_sits_on_a_magnet_pad_when_that_is_the_solid_spot():
    piece = seg(magnets="press-fit", label="7")
    cut = label_region(piece, 0.1)
    assert cut.area() > 2.0
    assert mesh_checks(mesh(piece)) == []


def test_no_room_no_label():
    # one cell, no padding, no magnets: the bottom is 2.85 mm walls only
    piece = seg(cells_x=(1.0,), cells_y=(1.0,), label="A")
    assert label_spot(piece, solid(seg(cells_x=(1.0,), cells_y=(1.0,))).slice(0.3)) is None
    assert mesh(piece).volume == pytest.approx(mesh(seg(cells_x=(1.0,), cells_y=(1.0,))).volume)


def test_unknown_label_characters_are_refused():
    with pytest.raises(ValueError, match="A–Z and 0–9"):
        segment_mesh(seg(label="a?"))


# --- a clean solid for every option (spec §9) -----------------------------------------------------------

SIZES = [(84, 84), (71, 130), (210, 210), (371, 254), (420, 420)]


def _matrix() -> list[GridOptions]:
    out: list[GridOptions] = []
    for w, d in SIZES:
        for magnets in ("none", "press-fit"):
            for filler in ("integer", "dynamic", "none"):
                if filler != "integer" and w % 42 == 0 and d % 42 == 0:
                    continue  # whole cells: every filler gives the same plate
                out.append(GridOptions(drawer_width_mm=w, drawer_depth_mm=d, magnets=magnets, filler=filler))
    for w, d in ((371, 254), (420, 420), (300, 340)):
        for magnets in ("none", "press-fit"):
            for connector in ("intersection-puzzle", "edge-puzzle", "none"):
                bed = 130.0 if (w, d) == (300, 340) else 256.0
                out.append(
                    GridOptions(
                        drawer_width_mm=w,
                        drawer_depth_mm=d,
                        magnets=magnets,
                        connector=connector,
                        bed_width_mm=bed,
                        bed_depth_mm=bed,
                        filler="dynamic" if (w, d) == (300, 340) else "integer",
                    )
                )
    for connector in ("intersection-puzzle", "edge-puzzle"):
        for magnets in ("none", "press-fit"):
            # 16 mm filler cells, and one-cell pieces on a tiny bed
            small = {"bed_width_mm": 60.0, "bed_depth_mm": 60.0, "filler": "dynamic"}
            out.append(
                GridOptions(drawer_width_mm=100, drawer_depth_mm=100, connector=connector, magnets=magnets, **small)
            )
    out.append(GridOptions(drawer_width_mm=420, drawer_depth_mm=420, puzzle_fit=0.0))
    out.append(GridOptions(drawer_width_mm=420, drawer_depth_mm=420, puzzle_fit=0.5, magnets="press-fit"))
    out.append(GridOptions(drawer_width_mm=230, drawer_depth_mm=230, bed_width_mm=130, bed_depth_mm=130))
    out.append(GridOptions(drawer_width_mm=230, drawer_depth_mm=230, bed_width_mm=130, bed_depth_mm=130, align_x=0))
    return out


def _name(o: GridOptions) -> str:
    return f"{o.drawer_width_mm:g}x{o.drawer_depth_mm:g}-{o.magnets}-{o.connector}-{o.filler}-fit{o.puzzle_fit:g}"


@pytest.mark.parametrize("options", _matrix(), ids=_name)
def test_every_piece_is_a_clean_solid(options):
    plan, meshes = plan_and_meshes(options)
    assert set(meshes) == set(plan.unique_shapes)
    height = plate_height_mm(options.magnets)
    for piece in plan.segments:
        m = meshes[piece.shape_key()]
        assert mesh_checks(m) == [], f"piece {piece.number}"
        assert m.volume > 0
        assert m.bounds[0][2] == pytest.approx(0.0, abs=1e-9)
        assert m.bounds[1][2] == pytest.approx(height, abs=1e-6)


@pytest.mark.parametrize(
    "options",
    [
        GridOptions(drawer_width_mm=84, drawer_depth_mm=84, magnets="press-fit"),
        GridOptions(drawer_width_mm=420, drawer_depth_mm=420, magnets="press-fit"),
        GridOptions(
            drawer_width_mm=300, drawer_depth_mm=340, connector="edge-puzzle", bed_width_mm=130, bed_depth_mm=130
        ),
    ],
    ids=["2x2-magnets", "10x10-magnets-split", "edge-puzzle-split"],
)
def test_stl_round_trip_stays_watertight(options):
    # GridFlock's press-fit plates lose watertightness exactly here: an STL
    # reader merges vertices by position, and knife edges then join 4 faces
    _plan, meshes = plan_and_meshes(options)
    for m in meshes.values():
        data = to_stl(m)
        assert data[:5] != b"solid"  # binary
        assert len(data) == 84 + 50 * len(m.faces)
        back = trimesh.load_mesh(io.BytesIO(data), file_type="stl")
        assert isinstance(back, trimesh.Trimesh)
        assert back.is_watertight and back.is_volume
        assert back.volume == pytest.approx(m.volume, rel=1e-6)


def test_mesh_checks_name_the_problems():
    good = mesh(seg())
    assert mesh_checks(good) == []
    holed = trimesh.Trimesh(vertices=good.vertices, faces=good.faces[1:], process=False)
    problems = mesh_checks(holed)
    assert any("open edges" in p for p in problems) and "not watertight" in problems
    doubled = trimesh.Trimesh(vertices=good.vertices, faces=np.vstack([good.faces, good.faces[:1]]), process=False)
    assert any("non-manifold" in p for p in mesh_checks(doubled))
    assert mesh_checks(trimesh.Trimesh()) == ["the mesh is empty"]


# --- bed fit -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "options",
    [
        GridOptions(drawer_width_mm=420, drawer_depth_mm=420),
        GridOptions(drawer_width_mm=420, drawer_depth_mm=420, connector="edge-puzzle", magnets="press-fit"),
        GridOptions(drawer_width_mm=371, drawer_depth_mm=254, magnets="press-fit"),
        GridOptions(drawer_width_mm=300, drawer_depth_mm=340, bed_width_mm=130, bed_depth_mm=130, puzzle_fit=0.3),
        GridOptions(drawer_width_mm=300, drawer_depth_mm=340, bed_width_mm=130, bed_depth_mm=130, connector="none"),
        GridOptions(drawer_width_mm=100, drawer_depth_mm=100, bed_width_mm=60, bed_depth_mm=60, filler="dynamic"),
        GridOptions(
            drawer_width_mm=100,
            drawer_depth_mm=100,
            bed_width_mm=60,
            bed_depth_mm=60,
            filler="dynamic",
            connector="edge-puzzle",
        ),
    ],
    ids=[
        "10x10-ip",
        "10x10-ep-magnets",
        "371x254-magnets",
        "300x340-small-bed",
        "300x340-butt",
        "tiny-bed-ip",
        "tiny-bed-ep",
    ],
)
def test_mesh_footprints_fit_the_planned_bed(options):
    plan, meshes = plan_and_meshes(options)
    for piece in plan.segments:
        lo, hi = meshes[piece.shape_key()].bounds
        width, depth = hi[0] - lo[0], hi[1] - lo[1]
        # exactly what the connectors reach past the piece's sides …
        assert (width, depth) == pytest.approx(connectors.footprint_mm(piece), abs=0.05), piece.number
        # … and never more than the layout planned the bed for
        planned_w, planned_d = plan.footprints[piece.number]
        assert width <= planned_w + 0.05 and depth <= planned_d + 0.05, piece.number
        assert width <= options.bed_width_mm and depth <= options.bed_depth_mm
        # the piece's own area starts at 0,0; only female barbs reach below it
        assert lo[0] >= -0.6 and lo[1] >= -0.6


# --- the preview -------------------------------------------------------------------------------------------


def test_assembled_scene_and_glb():
    options = GridOptions(drawer_width_mm=420, drawer_depth_mm=420, bed_width_mm=150, bed_depth_mm=150)
    plan, meshes = plan_and_meshes(options)
    scene = assembled(plan, meshes, gap=2.0)
    assert len(scene.graph.nodes_geometry) == len(plan.segments)
    assert len(scene.geometry) == len(plan.unique_shapes) < len(plan.segments)  # shared shapes are instanced
    glb = to_glb(scene)
    assert glb[:4] == b"glTF"
    back = trimesh.load(io.BytesIO(glb), file_type="glb")
    columns = 1 + max(s.column for s in plan.segments)
    rows = 1 + max(s.row for s in plan.segments)
    assert back.bounds[1][0] == pytest.approx(420 + 2.0 * (columns - 1), abs=0.6)
    assert back.bounds[1][1] == pytest.approx(420 + 2.0 * (rows - 1), abs=0.6)


def test_render_png_draws_the_plate_set():
    options = GridOptions(drawer_width_mm=210, drawer_depth_mm=130, bed_width_mm=130, bed_depth_mm=130)
    plan, meshes = plan_and_meshes(options)
    assert len(plan.unique_shapes) > 1
    png = render_png(plan, meshes, size=(300, 200))
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.size == (300, 200)
    pixels = np.asarray(image.convert("RGB")).reshape(-1, 3).astype(int)
    drawn = np.abs(pixels - np.array(BACKGROUND)).sum(axis=1) > 30
    assert drawn.mean() > 0.15
    colours = {tuple((p // 40).tolist()) for p in pixels[drawn]}
    assert len(colours) > 5  # shaded, and more than one shape colour


def test_render_png_refuses_missing_meshes():
    plan, _meshes = plan_and_meshes(GridOptions(drawer_width_mm=84, drawer_depth_mm=84))
    with pytest.raises(KeyError):
        render_png(plan, {}, size=(100, 100))
