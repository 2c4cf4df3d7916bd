"""Printable files (pure): which extensions we take, and the estimated print
time and filament a slicer wrote into a G-code header/footer."""

from __future__ import annotations

import re
from dataclasses import dataclass

EXTENSIONS = (".gcode", ".bgcode", ".gco", ".g", ".stl", ".3mf")
GCODE_EXTENSIONS = (".gcode", ".bgcode", ".gco", ".g")
MAX_FILE_BYTES = 100 * 1024 * 1024  # SimplyPrint takes up to 100 MB in one request

_DURATION = re.compile(r"(?:(\d+)\s*d)?\s*(?:(\d+)\s*h)?\s*(?:(\d+)\s*m(?!m))?\s*(?:(\d+)\s*s)?", re.I)
_TIME_PATTERNS = (
    re.compile(r"^;\s*estimated printing time(?: \(normal mode\))?\s*=\s*(.+)$", re.I | re.M),  # PrusaSlicer
    re.compile(r"^;\s*total estimated time\s*:\s*(.+)$", re.I | re.M),  # Bambu/Orca
    re.compile(r"^;\s*model printing time\s*:\s*([^;]+)", re.I | re.M),  # Bambu/Orca
)
_CURA_TIME = re.compile(r"^;\s*TIME\s*:\s*(\d+)\s*$", re.M)
_GRAMS = (
    re.compile(r"^;\s*(?:total )?filament used \[g\]\s*=\s*([\d.]+)", re.I | re.M),  # PrusaSlicer
    re.compile(r"^;\s*total filament weight \[g\]\s*:\s*([\d.]+)", re.I | re.M),  # Bambu/Orca
    re.compile(r"^;\s*filament_weight\s*[:=]\s*([\d.]+)", re.I | re.M),
)
_CURA_METERS = re.compile(r"^;\s*Filament used\s*:\s*([\d.]+)\s*m\b", re.I | re.M)
PLA_GRAMS_PER_METER = 2.98  # 1.75 mm PLA, for Cura's length-only estimate


def extension(filename: str) -> str:
    name = filename.lower().strip()
    return next((ext for ext in sorted(EXTENSIONS, key=len, reverse=True) if name.endswith(ext)), "")


def check_filename(filename: str) -> str | None:
    """None when we take the file, else why not."""
    name = (filename or "").strip()
    if not name or "/" in name or "\\" in name or "\x00" in name:
        return "give the file a plain name (no folders)"
    if not extension(name):
        return f"only {', '.join(EXTENSIONS)} files can be printed"
    return None


def _minutes(text: str) -> int | None:
    text = text.strip()
    m = _DURATION.fullmatch(text)
    if not m or not any(m.groups()):
        return None
    d, h, mins, s = (int(g) if g else 0 for g in m.groups())
    total = d * 1440 + h * 60 + mins + (1 if s >= 30 else 0)
    return max(total, 1)


@dataclass(frozen=True)
class Estimates:
    minutes: int | None = None
    filament_g: float | None = None


def estimates(data: bytes) -> Estimates:
    """Read the slicer's estimates from the first and last 256 KB of a G-code file
    (PrusaSlicer writes them at the end, Cura at the start)."""
    window = data[:262144] + b"\n" + data[-262144:] if len(data) > 524288 else data
    text = window.decode("utf-8", errors="ignore")
    minutes = None
    for pattern in _TIME_PATTERNS:
        m = pattern.search(text)
        if m and (minutes := _minutes(m.group(1))):
            break
    if minutes is None and (m := _CURA_TIME.search(text)):
        minutes = max(1, round(int(m.group(1)) / 60))
    grams = None
    for pattern in _GRAMS:
        m = pattern.search(text)
        if m:
            try:
                grams = round(float(m.group(1)), 2)
            except ValueError:
                grams = None
            if grams:
                break
    if grams is None and (m := _CURA_METERS.search(text)):
        grams = round(float(m.group(1)) * PLA_GRAMS_PER_METER, 2)
    return Estimates(minutes, grams)
