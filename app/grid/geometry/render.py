"""A shaded picture of an assembled plate set, drawn with Pillow alone (no
display, no OpenGL): for staff pages and for looking at a result.

Every piece is placed as in `mesh.assembled` (its origin, a small gap per
column and row) and coloured by its shape label. The camera looks from the
south-east, above; triangles facing away are dropped, the rest are sorted
far to near and filled in that order (painter's algorithm) with flat
Lambert shading. The picture is drawn at twice the size and scaled down,
which smooths the edges. Each piece's number and shape label are written
on it.
"""

from __future__ import annotations

import io

import numpy as np
import trimesh
from PIL import Image, ImageDraw, ImageFont

from app.grid.geometry.mesh import ASSEMBLY_GAP_MM, label_colour, segment_position
from app.grid.geometry.spec import PlateSetPlan

BACKGROUND = (246, 247, 249)
_VIEW = np.array([0.55, -1.0, 0.95])  # from the scene towards the camera
_LIGHT = np.array([-0.35, -0.5, 1.0])  # from the surface towards the light
_AMBIENT = 0.35
_SUPERSAMPLE = 2


def _camera() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    back = _VIEW / np.linalg.norm(_VIEW)
    right = np.cross(np.array([0.0, 0.0, 1.0]), back)
    right /= np.linalg.norm(right)
    up = np.cross(back, right)
    return right, up, back


def render_png(
    plan: PlateSetPlan,
    meshes: dict[str, trimesh.Trimesh],
    *,
    size: tuple[int, int] = (900, 600),
    gap: float = ASSEMBLY_GAP_MM,
    captions: bool = True,
) -> bytes:
    """The assembled plate set as a PNG of `size` pixels."""
    width, height = size
    if width < 16 or height < 16:
        raise ValueError(f"picture too small: {width} × {height}")
    right, up, back = _camera()
    light = _LIGHT / np.linalg.norm(_LIGHT)
    keys = list(plan.unique_shapes)

    tris: list[np.ndarray] = []
    colours: list[np.ndarray] = []
    centres: list[tuple[np.ndarray, str]] = []
    for seg in plan.segments:
        key = seg.shape_key()
        mesh = meshes.get(key)
        if mesh is None:
            raise KeyError(f"no mesh for segment {seg.number}; make them with plate_meshes(plan)")
        x, y = segment_position(seg, gap)
        world = mesh.vertices[mesh.faces] + np.array([x, y, 0.0])
        tris.append(world)
        base = np.array(label_colour(seg.label, keys.index(key))[:3], dtype=float)
        colours.append(np.broadcast_to(base, (len(world), 3)))
        top = mesh.bounds[1][2]
        w, d = seg.size_mm
        centres.append((np.array([x + w / 2, y + d / 2, top]), f"{seg.number} {seg.label}".strip()))
    if not tris:
        raise ValueError("the plate set has no pieces")
    world = np.concatenate(tris)
    base_colour = np.concatenate(colours)

    normals = np.cross(world[:, 1] - world[:, 0], world[:, 2] - world[:, 0])
    lengths = np.linalg.norm(normals, axis=1)
    keep = (lengths > 1e-12) & (normals @ back > 0)  # facing the camera
    world, normals, base_colour = world[keep], normals[keep] / lengths[keep, None], base_colour[keep]
    shade = _AMBIENT + (1 - _AMBIENT) * np.clip(normals @ light, 0.0, 1.0)
    fill = np.clip(base_colour * shade[:, None], 0, 255).astype(np.uint8)

    screen = np.stack((world @ right, world @ up), axis=-1)  # (n, 3, 2)
    depth = (world @ back).mean(axis=1)  # larger is nearer the camera
    order = np.argsort(depth)

    lo = screen.reshape(-1, 2).min(axis=0)
    hi = screen.reshape(-1, 2).max(axis=0)
    s = _SUPERSAMPLE
    margin = 0.06 * min(width, height) * s
    scale = min(
        (width * s - 2 * margin) / max(hi[0] - lo[0], 1e-9), (height * s - 2 * margin) / max(hi[1] - lo[1], 1e-9)
    )
    offset = np.array([(width * s - (hi[0] - lo[0]) * scale) / 2, (height * s - (hi[1] - lo[1]) * scale) / 2])

    def to_pixels(points: np.ndarray) -> np.ndarray:
        px = (points - lo) * scale + offset
        px[..., 1] = height * s - px[..., 1]
        return px

    pixels = to_pixels(screen)
    image = Image.new("RGB", (width * s, height * s), BACKGROUND)
    draw = ImageDraw.Draw(image)
    for i in order:
        colour = tuple(int(c) for c in fill[i])
        draw.polygon([tuple(p) for p in pixels[i].tolist()], fill=colour, outline=colour)
    if captions:
        font = ImageFont.load_default(size=max(12, int(22 * s * min(width, height) / 600)))
        for point, text in centres:
            px = to_pixels(np.array([point @ right, point @ up]))
            draw.text(
                (float(px[0]), float(px[1])),
                text,
                fill=(20, 24, 32),
                font=font,
                anchor="mm",
                stroke_width=2 * s,
                stroke_fill=(255, 255, 255),
            )
    image = image.resize((width, height), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=False)
    return out.getvalue()
