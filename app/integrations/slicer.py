"""PrusaSlicer: one STL in, its G-code out, with the grams and print time
the slicer wrote into the G-code's footer.

The `prusa-slicer` command line (Debian's package) runs in a temporary
folder of its own, in a process group of its own so a timeout kills it
whole. The printer settings come from a profile (any object with the
`SlicerProfile` fields: the grid domain's `PrinterProfile`), written as a
PrusaSlicer config file and passed with `--load`.

Facts this module relies on (measured on PrusaSlicer 2.5, see the
gridfinity spec §9-§10):

* The CLI does not stop a piece, or its skirt, that overhangs the bed: it
  slices it anyway (only far larger pieces abort with rc 134 "Objects
  could not fit on the bed"). So the footprint, plus the skirt and brim
  round it, is checked here against the bed before slicing.
* The bed polygon is `0x0,Wx0,WxD,0xD` (a degenerate one is accepted
  silently); the piece is centred on the bed with `--center`.
* The footer gives `filament used [mm]`, `filament used [g]` (needs the
  filament density) and `estimated printing time (normal mode)` as
  `1d 2h 3m 4s`. The time follows the machine limits in the profile
  (`machine_limits_usage = time_estimate_only`).
* Every run prints a `[trace]` line and progress lines (`NN => …`) however
  low the log level: they are never an error message.

The binary is `prusa-slicer` on PATH, or the one named by the SLICER_BIN
environment variable.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import numpy as np

BINARY = "prusa-slicer"
BINARY_ENV = "SLICER_BIN"
FIT_TOLERANCE_MM = 0.01  # float noise in an STL's coordinates
MAX_MESSAGE = 300
_FOOTER_WINDOW = 256 * 1024  # the footer and the config block echoed after it


class SlicerError(Exception):
    """Slicing failed; `message` is one readable sentence (never a log dump)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class SlicerTimeout(SlicerError):
    pass


class SlicerProfile(Protocol):
    """The printer and print settings the slicer needs (what the grid
    domain's `PrinterProfile` carries). Lengths in mm, speeds in mm/s,
    accelerations in mm/s², temperatures in °C."""

    @property
    def bed_width_mm(self) -> float: ...
    @property
    def bed_depth_mm(self) -> float: ...
    @property
    def max_height_mm(self) -> float: ...
    @property
    def nozzle_mm(self) -> float: ...
    @property
    def layer_height_mm(self) -> float: ...
    @property
    def first_layer_mm(self) -> float: ...
    @property
    def perimeters(self) -> int: ...
    @property
    def top_layers(self) -> int: ...
    @property
    def bottom_layers(self) -> int: ...
    @property
    def infill_percent(self) -> int: ...
    @property
    def infill_pattern(self) -> str: ...
    @property
    def filament_type(self) -> str: ...
    @property
    def filament_density(self) -> float: ...
    @property
    def filament_diameter(self) -> float: ...
    @property
    def filament_cost_per_kg(self) -> float: ...
    @property
    def nozzle_temp_c(self) -> int: ...
    @property
    def bed_temp_c(self) -> int: ...
    @property
    def first_layer_speed(self) -> float: ...
    @property
    def perimeter_speed(self) -> float: ...
    @property
    def external_perimeter_speed(self) -> float: ...
    @property
    def infill_speed(self) -> float: ...
    @property
    def solid_infill_speed(self) -> float: ...
    @property
    def top_solid_infill_speed(self) -> float: ...
    @property
    def travel_speed(self) -> float: ...
    @property
    def max_volumetric_speed(self) -> float: ...
    @property
    def acceleration(self) -> float: ...
    @property
    def perimeter_acceleration(self) -> float: ...
    @property
    def first_layer_acceleration(self) -> float: ...
    @property
    def max_acceleration(self) -> float: ...
    @property
    def skirts(self) -> int: ...
    @property
    def skirt_distance_mm(self) -> float: ...
    @property
    def brim_width_mm(self) -> float: ...
    @property
    def elephant_foot_mm(self) -> float: ...


@dataclass
class SliceResult:
    gcode: bytes
    filament_g: float
    filament_mm: float
    print_seconds: int
    slicer_seconds: float  # wall time of the slicer process


@dataclass(frozen=True)
class Footer:
    """The estimates a PrusaSlicer G-code footer carries."""

    filament_g: float
    filament_mm: float
    print_seconds: int


# --- the binary -------------------------------------------------------------------------------


def slicer_binary() -> str:
    """The slicer to run: SLICER_BIN when set (a path or a command name),
    else `prusa-slicer` on PATH."""
    wanted = os.environ.get(BINARY_ENV, "").strip()
    found = shutil.which(wanted or BINARY)
    if not found:
        if wanted:
            raise SlicerError(f"the slicer {wanted!r} named by {BINARY_ENV} cannot be run")
        raise SlicerError(f"PrusaSlicer is not installed ({BINARY} is not on PATH; or set {BINARY_ENV})")
    return found


@lru_cache(maxsize=8)
def _version(binary: str) -> str:
    try:
        done = subprocess.run([binary, "--help"], capture_output=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SlicerError(f"the slicer did not say its version: {exc}") from exc
    text = (done.stdout + b"\n" + done.stderr).decode("utf-8", "replace")
    m = re.search(r"PrusaSlicer-(\d+(?:\.\d+)+)", text)
    if not m:
        raise SlicerError("the slicer did not say its version (is SLICER_BIN a PrusaSlicer?)")
    return f"PrusaSlicer {m.group(1)}"


def slicer_version() -> str:
    """ "PrusaSlicer 2.5.0", say (asked once per binary, then remembered)."""
    return _version(slicer_binary())


# --- the settings -----------------------------------------------------------------------------


def line_width_mm(profile: SlicerProfile) -> float:
    """The extrusion width of every line (PrusaSlicer's auto width for a
    0.4 mm nozzle is about 0.45)."""
    return round(profile.nozzle_mm * 1.125, 3)


def first_layer_width_mm(profile: SlicerProfile) -> float:
    return round(profile.nozzle_mm * 1.25, 3)


def margin_mm(profile: SlicerProfile) -> float:
    """How far the first layer reaches out from a piece's outline: the brim,
    then the skirt's distance and loops. 0 with neither (the default: the
    CLI would not stop a skirt that runs off the bed)."""
    out = max(profile.brim_width_mm, 0.0)
    if profile.skirts > 0:
        out += profile.skirt_distance_mm + profile.skirts * first_layer_width_mm(profile)
    return math.ceil(out * 10 - 1e-6) / 10


def _acceleration(value: float) -> str:
    return f"{value:g}"


def config(profile: SlicerProfile) -> dict[str, str]:
    """The PrusaSlicer config (`key = value`, as `--save` writes it) for a
    profile. Everything else stays PrusaSlicer's default."""
    w, d = profile.bed_width_mm, profile.bed_depth_mm
    accel = profile.max_acceleration
    feedrate = max(
        profile.travel_speed,
        profile.perimeter_speed,
        profile.external_perimeter_speed,
        profile.infill_speed,
        profile.solid_infill_speed,
    )
    values: dict[str, object] = {
        "bed_shape": f"0x0,{w:g}x0,{w:g}x{d:g},0x{d:g}",
        "max_print_height": profile.max_height_mm,
        "nozzle_diameter": profile.nozzle_mm,
        "layer_height": profile.layer_height_mm,
        "first_layer_height": profile.first_layer_mm,
        "extrusion_width": line_width_mm(profile),
        "first_layer_extrusion_width": first_layer_width_mm(profile),
        "perimeters": profile.perimeters,
        "top_solid_layers": profile.top_layers,
        "bottom_solid_layers": profile.bottom_layers,
        "fill_density": f"{profile.infill_percent}%",
        "fill_pattern": profile.infill_pattern,
        "filament_type": profile.filament_type,
        "filament_density": profile.filament_density,
        "filament_diameter": profile.filament_diameter,
        "filament_cost": profile.filament_cost_per_kg,
        "filament_max_volumetric_speed": profile.max_volumetric_speed,
        "temperature": profile.nozzle_temp_c,
        "first_layer_temperature": profile.nozzle_temp_c,
        "bed_temperature": profile.bed_temp_c,
        "first_layer_bed_temperature": profile.bed_temp_c,
        "first_layer_speed": profile.first_layer_speed,
        "perimeter_speed": profile.perimeter_speed,
        "small_perimeter_speed": profile.external_perimeter_speed,
        "external_perimeter_speed": profile.external_perimeter_speed,
        "infill_speed": profile.infill_speed,
        "solid_infill_speed": profile.solid_infill_speed,
        "top_solid_infill_speed": profile.top_solid_infill_speed,
        "gap_fill_speed": profile.external_perimeter_speed,
        "bridge_speed": min(profile.external_perimeter_speed, 50),
        "travel_speed": profile.travel_speed,
        "max_print_speed": feedrate,
        "default_acceleration": _acceleration(profile.acceleration),
        "infill_acceleration": _acceleration(profile.acceleration),
        "perimeter_acceleration": _acceleration(profile.perimeter_acceleration),
        "first_layer_acceleration": _acceleration(profile.first_layer_acceleration),
        "bridge_acceleration": _acceleration(profile.perimeter_acceleration),
        "skirts": profile.skirts,
        "skirt_distance": profile.skirt_distance_mm,
        "skirt_height": 1,
        "min_skirt_length": 0,
        "brim_width": profile.brim_width_mm,
        "brim_type": "outer_only" if profile.brim_width_mm > 0 else "no_brim",
        "elefant_foot_compensation": profile.elephant_foot_mm,
        # The print-time estimate follows the machine's limits (without them
        # PrusaSlicer assumes a slow generic printer).
        "gcode_flavor": "marlin2",
        "machine_limits_usage": "time_estimate_only",
        "machine_max_acceleration_extruding": f"{accel:g},{accel:g}",
        "machine_max_acceleration_retracting": f"{accel:g},{accel:g}",
        "machine_max_acceleration_travel": f"{accel:g},{accel:g}",
        "machine_max_acceleration_x": f"{accel:g},{accel:g}",
        "machine_max_acceleration_y": f"{accel:g},{accel:g}",
        "machine_max_feedrate_x": f"{feedrate:g},{feedrate:g}",
        "machine_max_feedrate_y": f"{feedrate:g},{feedrate:g}",
    }
    return {k: v if isinstance(v, str) else f"{v:g}" if isinstance(v, float) else str(v) for k, v in values.items()}


def config_text(profile: SlicerProfile) -> str:
    return "".join(f"{k} = {v}\n" for k, v in sorted(config(profile).items()))


def command(binary: str, profile: SlicerProfile, config_file: str, stl_file: str, gcode_file: str) -> list[str]:
    """The whole command line (the bench runs the same one bare)."""
    return [
        binary,
        "--loglevel",
        "1",
        "--load",
        config_file,
        "--export-gcode",
        "--center",
        f"{profile.bed_width_mm / 2:g},{profile.bed_depth_mm / 2:g}",
        "-o",
        gcode_file,
        stl_file,
    ]


# --- the STL ----------------------------------------------------------------------------------

_STL_RECORD = np.dtype([("normal", "<f4", (3,)), ("vertices", "<f4", (9,)), ("attr", "<u2")])
_ASCII_VERTEX = re.compile(rb"vertex\s+(\S+)\s+(\S+)\s+(\S+)")


def stl_bounds(stl: bytes) -> tuple[np.ndarray, np.ndarray]:
    """Lowest and highest corner of an STL's triangles (binary or ASCII)."""
    count = int.from_bytes(stl[80:84], "little") if len(stl) >= 84 else -1
    if count >= 0 and len(stl) == 84 + 50 * count:
        if count == 0:
            raise SlicerError("the STL holds no triangles")
        points = np.frombuffer(stl, dtype=_STL_RECORD, count=count, offset=84)["vertices"].reshape(-1, 3)
    elif stl.lstrip()[:5].lower() == b"solid":
        try:
            points = np.array(_ASCII_VERTEX.findall(stl), dtype=np.float64).reshape(-1, 3)
        except ValueError as exc:
            raise SlicerError("the STL cannot be read (a vertex is not three numbers)") from exc
        if not len(points):
            raise SlicerError("the STL holds no triangles")
    else:
        raise SlicerError("the STL cannot be read (neither a binary nor an ASCII STL)")
    if not np.isfinite(points).all():
        raise SlicerError("the STL cannot be read (it has coordinates that are not numbers)")
    return points.min(axis=0), points.max(axis=0)


def check_fit(stl: bytes, profile: SlicerProfile) -> None:
    """Refuse a piece that, with its skirt and brim, would not fit the bed."""
    low, high = stl_bounds(stl)
    w, d, h = (float(v) for v in high - low)
    margin = margin_mm(profile)
    bw, bd = profile.bed_width_mm, profile.bed_depth_mm
    if w + 2 * margin > bw + FIT_TOLERANCE_MM or d + 2 * margin > bd + FIT_TOLERANCE_MM:
        round_it = f" with {margin:g} mm of skirt and brim round it" if margin else ""
        raise SlicerError(
            f"the piece does not fit the printer's bed: {w:.1f} × {d:.1f} mm{round_it} on a {bw:g} × {bd:g} mm bed"
        )
    if h > profile.max_height_mm + FIT_TOLERANCE_MM:
        raise SlicerError(f"the piece is {h:.1f} mm tall; the printer prints up to {profile.max_height_mm:g} mm")


# --- the footer -------------------------------------------------------------------------------

_GRAMS = re.compile(rb"^;\s*(?:total )?filament used \[g\]\s*=\s*([\d.]+)", re.M)
_MM = re.compile(rb"^;\s*filament used \[mm\]\s*=\s*([\d.]+)", re.M)
_TIME = re.compile(rb"^;\s*estimated printing time \(normal mode\)\s*=\s*(.+?)\s*$", re.M)
_DURATION_PART = re.compile(r"(\d+)\s*([dhms])")
_DURATION = re.compile(r"\s*(?:\d+\s*[dhms]\s*)+")
_UNIT_SECONDS = {"d": 86400, "h": 3600, "m": 60, "s": 1}


def parse_duration(text: str) -> int:
    """Seconds in a slicer's duration: "2h 37m 38s", "1d 0h 5m 0s", "45s"."""
    if not _DURATION.fullmatch(text):
        raise ValueError(f"not a duration: {text!r}")
    return sum(int(n) * _UNIT_SECONDS[unit] for n, unit in _DURATION_PART.findall(text))


def parse_footer(gcode: bytes) -> Footer:
    """Grams, filament length and print time from PrusaSlicer's footer
    (single extruder)."""
    tail = gcode[-_FOOTER_WINDOW:]
    grams, mm, duration = _GRAMS.search(tail), _MM.search(tail), _TIME.search(tail)
    if not (grams and mm and duration):
        raise SlicerError("the slicer wrote no filament or print-time estimate into the G-code")
    try:
        seconds = parse_duration(duration.group(1).decode("ascii", "replace"))
    except ValueError as exc:
        raise SlicerError(f"the slicer's print time cannot be read: {exc}") from exc
    return Footer(
        filament_g=round(float(grams.group(1)), 2),
        filament_mm=round(float(mm.group(1)), 2),
        print_seconds=seconds,
    )


# --- running it ------------------------------------------------------------------------------

_LOG_LINE = re.compile(r"^\[[^\]]*\]\s*\[[^\]]*\]\s*\[(\w+)\]\s*(.*)$")
_NOISE = (
    re.compile(r"^\d+\s*=>"),  # progress
    re.compile(r"^Slicing result exported", re.I),
)


def first_useful_line(output: str, *, hide: str = "") -> str:
    """The line of a slicer's output worth showing a person: its own
    closing message, else the first logged error; never trace or progress."""
    plain, logged = [], []
    for raw in output.splitlines():
        line = (raw.replace(hide, "") if hide else raw).strip()
        if not line or any(p.match(line) for p in _NOISE):
            continue
        m = _LOG_LINE.match(line)
        if m:
            if m.group(1).lower() in ("error", "fatal") and m.group(2).strip():
                logged.append(m.group(2).strip())
            continue
        plain.append(line)
    found = (plain or logged or [""])[0]
    return found[:MAX_MESSAGE] + ("…" if len(found) > MAX_MESSAGE else "")


def _kill(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):  # it ended on its own meanwhile
        os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate()


def slice_stl(stl: bytes, profile: SlicerProfile, *, timeout: float = 300) -> SliceResult:
    """Slice one piece for one printer profile, centred on its bed."""
    check_fit(stl, profile)
    binary = slicer_binary()
    with tempfile.TemporaryDirectory(prefix="slice-") as tmp:
        folder = Path(tmp)
        (folder / "profile.ini").write_text(config_text(profile))
        (folder / "in.stl").write_bytes(stl)
        out = folder / "out.gcode"
        cmd = command(binary, profile, str(folder / "profile.ini"), str(folder / "in.stl"), str(out))
        started = time.perf_counter()
        try:
            proc = subprocess.Popen(
                cmd, cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True
            )
        except OSError as exc:
            raise SlicerError(f"the slicer cannot be started: {exc.strerror or exc}") from exc
        try:
            stdout, stderr = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill(proc)
            raise SlicerTimeout(f"the slicer took longer than {timeout:g} s and was stopped") from None
        except BaseException:
            _kill(proc)
            raise
        elapsed = time.perf_counter() - started
        output = stderr.decode("utf-8", "replace") + "\n" + stdout.decode("utf-8", "replace")
        if "could not fit on the bed" in output.lower():
            raise SlicerError(
                f"the piece does not fit the printer's bed ({profile.bed_width_mm:g} × {profile.bed_depth_mm:g} mm)"
            )
        if proc.returncode != 0:
            why = first_useful_line(output, hide=str(folder) + "/")
            if proc.returncode < 0:
                why = why or f"killed by signal {-proc.returncode}"
            raise SlicerError(f"the slicer failed (exit {proc.returncode}): {why or 'it gave no reason'}")
        if not out.is_file() or out.stat().st_size == 0:
            raise SlicerError("the slicer wrote no G-code")
        gcode = out.read_bytes()
    footer = parse_footer(gcode)
    return SliceResult(
        gcode=gcode,
        filament_g=footer.filament_g,
        filament_mm=footer.filament_mm,
        print_seconds=footer.print_seconds,
        slicer_seconds=round(elapsed, 3),
    )
