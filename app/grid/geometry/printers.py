"""Printer bed presets: the beds a customer or staff member picks by name.

The sizes are the printable area in millimetres (width along X, depth along
Y), as GridFlock's web editor lists them. "custom" is not a preset: callers
that offer it take an explicit bed size instead. A name is found by its key
("bambu-a1"), its label, or one of the printers the label lists ("X1",
"Core One"), with or without the maker's name, in any case.
"""

from __future__ import annotations

import re

CUSTOM = "custom"

# key → (label people read, bed width mm, bed depth mm)
BED_PRESETS: dict[str, tuple[str, float, float]] = {
    "bambu-a1": ("Bambu Lab A1 / X1 / P1", 256.0, 256.0),
    "bambu-a1-mini": ("Bambu Lab A1 mini", 180.0, 180.0),
    "prusa-mk4": ("Prusa MK4 / Core One", 250.0, 220.0),
}
DEFAULT_PRESET = "bambu-a1"

# Model names the labels do not spell out but customers type.
_MORE_NAMES: dict[str, tuple[str, ...]] = {
    "bambu-a1": ("x1c", "x1 carbon", "x1e", "p1s", "p1p"),
    "prusa-mk4": ("mk4s", "core one", "coreone"),
}
_MAKERS = ("bambu lab ", "bambulab ", "bambu ", "prusa research ", "prusa ", "original prusa ")


def _normal(name: str) -> str:
    text = re.sub(r"[\s_\-/]+", " ", name.strip().lower()).strip()
    for maker in _MAKERS:
        if text.startswith(maker):
            return text[len(maker) :].strip()
    return text


def _names() -> dict[str, str]:
    names: dict[str, str] = {}
    for key, (label, _w, _d) in BED_PRESETS.items():
        for name in (key, label, *label.split("/"), *_MORE_NAMES.get(key, ())):
            names.setdefault(_normal(name), key)
    return names


_BY_NAME = _names()


def find_bed_preset(name: str) -> str | None:
    """The preset key a printer name means, or None when it names none."""
    return _BY_NAME.get(_normal(name))


def preset_names() -> str:
    """The presets as a person reads them, for error messages."""
    return ", ".join(label for label, _w, _d in BED_PRESETS.values())
