"""A tiny stroke font (A–Z, 0–9) for the shape label embossed under each
piece, so no font file or text engine is needed.

Each glyph is a few polylines on a 4 × 6 grid (x right, y up, baseline at
0). A label becomes a CrossSection of round-ended strokes: every segment is
the hull of two small discs, and their union is the text.
"""

from __future__ import annotations

import itertools

import numpy as np
from manifold3d import CrossSection, FillRule

from app.grid.geometry.pocket import circle

GLYPH_WIDTH = 4
GLYPH_HEIGHT = 6
GLYPH_SPACING = 2  # between glyphs, grid units

Stroke = tuple[tuple[float, float], ...]

_O: Stroke = ((1, 0), (0, 1), (0, 5), (1, 6), (3, 6), (4, 5), (4, 1), (3, 0), (1, 0))
_P: Stroke = ((0, 0), (0, 6), (3, 6), (4, 5), (4, 4), (3, 3), (0, 3))

GLYPHS: dict[str, tuple[Stroke, ...]] = {
    "A": (((0, 0), (0, 4), (2, 6), (4, 4), (4, 0)), ((0, 3), (4, 3))),
    "B": (((0, 0), (0, 6), (3, 6), (4, 5), (4, 4), (3, 3), (0, 3)), ((3, 3), (4, 2), (4, 1), (3, 0), (0, 0))),
    "C": (((4, 5), (3, 6), (1, 6), (0, 5), (0, 1), (1, 0), (3, 0), (4, 1)),),
    "D": (((0, 0), (0, 6), (2, 6), (4, 4), (4, 2), (2, 0), (0, 0)),),
    "E": (((4, 6), (0, 6), (0, 0), (4, 0)), ((0, 3), (3, 3))),
    "F": (((4, 6), (0, 6), (0, 0)), ((0, 3), (3, 3))),
    "G": (((4, 5), (3, 6), (1, 6), (0, 5), (0, 1), (1, 0), (3, 0), (4, 1), (4, 3), (2, 3)),),
    "H": (((0, 0), (0, 6)), ((4, 0), (4, 6)), ((0, 3), (4, 3))),
    "I": (((1, 6), (3, 6)), ((2, 6), (2, 0)), ((1, 0), (3, 0))),
    "J": (((4, 6), (4, 1), (3, 0), (1, 0), (0, 1)),),
    "K": (((0, 0), (0, 6)), ((4, 6), (0, 2)), ((1, 3), (4, 0))),
    "L": (((0, 6), (0, 0), (4, 0)),),
    "M": (((0, 0), (0, 6), (2, 3), (4, 6), (4, 0)),),
    "N": (((0, 0), (0, 6), (4, 0), (4, 6)),),
    "O": (_O,),
    "P": (_P,),
    "Q": (_O, ((2, 2), (4, 0))),
    "R": (_P, ((2, 3), (4, 0))),
    "S": (((4, 5), (3, 6), (1, 6), (0, 5), (0, 4), (1, 3), (3, 3), (4, 2), (4, 1), (3, 0), (1, 0), (0, 1)),),
    "T": (((0, 6), (4, 6)), ((2, 6), (2, 0))),
    "U": (((0, 6), (0, 1), (1, 0), (3, 0), (4, 1), (4, 6)),),
    "V": (((0, 6), (2, 0), (4, 6)),),
    "W": (((0, 6), (1, 0), (2, 3), (3, 0), (4, 6)),),
    "X": (((0, 0), (4, 6)), ((0, 6), (4, 0))),
    "Y": (((0, 6), (2, 3), (4, 6)), ((2, 3), (2, 0))),
    "Z": (((0, 6), (4, 6), (0, 0), (4, 0)),),
    "0": (_O, ((1, 1), (3, 5))),
    "1": (((1, 5), (2, 6), (2, 0)), ((1, 0), (3, 0))),
    "2": (((0, 5), (1, 6), (3, 6), (4, 5), (4, 4), (0, 0), (4, 0)),),
    "3": (
        ((0, 5), (1, 6), (3, 6), (4, 5), (4, 4), (3, 3), (4, 2), (4, 1), (3, 0), (1, 0), (0, 1)),
        ((1, 3), (3, 3)),
    ),
    "4": (((3, 0), (3, 6), (0, 2), (4, 2)),),
    "5": (((4, 6), (0, 6), (0, 3), (3, 3), (4, 2), (4, 1), (3, 0), (1, 0), (0, 1)),),
    "6": (((4, 5), (3, 6), (1, 6), (0, 5), (0, 1), (1, 0), (3, 0), (4, 1), (4, 2), (3, 3), (0, 3)),),
    "7": (((0, 6), (4, 6), (1, 0)),),
    "8": (
        ((1, 3), (0, 4), (0, 5), (1, 6), (3, 6), (4, 5), (4, 4), (3, 3), (1, 3)),
        ((1, 3), (0, 2), (0, 1), (1, 0), (3, 0), (4, 1), (4, 2), (3, 3)),
    ),
    "9": (((0, 1), (1, 0), (3, 0), (4, 1), (4, 5), (3, 6), (1, 6), (0, 5), (0, 4), (1, 3), (4, 3)),),
}


def supported(text: str) -> bool:
    """Whether every character of `text` has a glyph (case-insensitive)."""
    return all(ch in GLYPHS for ch in text.upper())


def text_size(text: str, unit: float, stroke: float) -> tuple[float, float]:
    """Width and height (mm) of `text` drawn with grid `unit` and `stroke`
    width, strokes' round ends included."""
    n = len(text)
    width = (n * GLYPH_WIDTH + max(n - 1, 0) * GLYPH_SPACING) * unit + stroke
    return width, GLYPH_HEIGHT * unit + stroke


def text_outline(text: str, unit: float, stroke: float, *, mirror: bool = False) -> CrossSection:
    """`text` as a CrossSection centred on 0,0; `mirror` flips it left to
    right so it reads correctly from the other side (from below a plate).
    Unknown characters raise ValueError."""
    text = text.upper()
    missing = sorted({ch for ch in text if ch not in GLYPHS})
    if missing:
        raise ValueError(f"no glyph for {''.join(missing)!r}: labels use A–Z and 0–9")
    r = stroke / 2
    cap = circle(0.0, 0.0, r, 12)
    width, height = text_size(text, unit, stroke)
    origin = np.array([-(width - stroke) / 2, -(height - stroke) / 2])
    pieces: list[CrossSection] = []
    for i, ch in enumerate(text):
        shift = origin + np.array([i * (GLYPH_WIDTH + GLYPH_SPACING) * unit, 0.0])
        for stroke_points in GLYPHS[ch]:
            pts = np.asarray(stroke_points, dtype=float) * unit + shift
            for a, b in itertools.pairwise(pts):
                pieces.append(CrossSection.hull_points(np.vstack((cap + a, cap + b))))
    if not pieces:
        return CrossSection()
    polygons = [np.asarray(p) for piece in pieces for p in piece.to_polygons()]
    outline = CrossSection(polygons, FillRule.Positive)
    return outline.mirror((1.0, 0.0)) if mirror else outline
