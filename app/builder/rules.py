"""The compatibility engine: pure functions over the chosen parts, no database.

A *selection* maps each slot to the parts in it (`Selection`, slot order
`SLOTS`; "ram" and "storage" hold lists, the others 0 or 1 part). Each `Rule`
reads a few normalised spec values (`app.catalog.normalize`) and returns
`Verdict`s:

- ``pass``  the parts fit ("GPU is 300 mm; this case fits 322 mm");
- ``info``  something to know, most often that the data needed is missing
  ("cooler clearance not checked: this case's maximum cooler height is
  unknown"; such verdicts have ``not_checked=True``);
- ``warn``  it fits, but only just or with an adapter;
- ``block`` it does not fit. A block never prevents saving or ordering.

Messages name both values with units and never a part's name: a verdict
depends only on the spec values listed in `READ_KEYS`, so callers may memoise
evaluations on `compat_key(part)`.

A rule runs only when its required slots (`Rule.needs`) are all filled.
`Rule.slots` lists every slot the rule reads (`rules_for_slot`), and
`Rule.remedy_slots` the slots to swap to fix a block, most natural first.

Power estimate (see `estimated_draw`): CPU TDP + GPU board power + the
allowances below. The PSU rule blocks when the PSU is below the estimate and
warns when it has less than `PSU_HEADROOM` (20 %) above it.

Closeness (see `tier` and `closeness`): a suggested fix should be the closest
equivalent of the part it replaces, so a Ryzen 9 is not "fixed" with a
Celeron nor a 1000 W PSU with a 300 W one. Each slot places its parts on one
scale of tiers; suggestions prefer the nearest tier, then the lowest price.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any, Literal, cast

from app.builder.slotmap import MULTI_SLOTS, SLOTS
from app.platform.machine import Status, StatusTable

# ------------------------------------------------------------- constants ---

#: Power allowances in watts for what the catalog has no figure for. They are
#: deliberately generous typical values, not measurements:
#: - `BOARD_W`: motherboard chipset, VRM losses, USB devices and onboard
#:   controllers; counted for every non-empty build (every PC has a board);
#: - `RAM_MODULE_W`: per memory module (DDR5 with its on-module PMIC peaks
#:   around 3-5 W under load);
#: - `SSD_W` / `HDD_W`: per drive (NVMe SSD under load / 3.5" disk running;
#:   any drive whose kind is not "HDD" or "SSHD" counts as an SSD);
#: - `FANS_W`: case fans plus the CPU cooler's fans or pump, counted for every
#:   non-empty build.
BOARD_W = 50
RAM_MODULE_W = 5
SSD_W = 7
HDD_W = 10
FANS_W = 15

#: The PSU should exceed the estimated draw by this fraction (transient peaks,
#: ageing, efficiency sweet spot); below it the PSU rule warns.
PSU_HEADROOM = 0.20

#: A GPU with less than this much room left to the case's maximum length, or
#: a cooler with less than `COOLER_TIGHT_MM` below the case's maximum height,
#: fits but is flagged `warn` (cables, front fans, side-panel tolerance).
GPU_TIGHT_MM = 10
COOLER_TIGHT_MM = 5

#: Board form factors that mount wherever the listed case form factor does
#: (same mounting holes): Thin Mini-ITX is Mini-ITX with a lower I/O shield,
#: Flex ATX uses a subset of the Micro ATX holes.
BOARD_FITS_AS: dict[str, tuple[str, ...]] = {"Thin Mini-ITX": ("Mini-ITX",), "Flex ATX": ("Micro ATX",)}

#: PSU form factors that are the same physical size as the listed one.
PSU_SAME_AS: dict[str, str] = {"ATX/EPS": "ATX"}
#: PSU form factors that fit an ATX bay only with an adapter bracket (warn).
PSU_NEEDS_BRACKET: frozenset[str] = frozenset({"SFX", "SFX-L"})

MULTI_SLOTS_SET: frozenset[str] = frozenset(MULTI_SLOTS)  # "ram", "storage": lists of parts

Severity = Literal["pass", "info", "warn", "block"]
SEVERITY_ORDER: dict[str, int] = {"pass": 0, "info": 1, "warn": 2, "block": 3}
_SEVERITY_BY_RANK: tuple[Severity, ...] = ("pass", "info", "warn", "block")
SEVERITY = StatusTable(
    Status("pass", "Compatible", "green"),
    Status("info", "Note", "blue"),
    Status("warn", "Warning", "amber"),
    Status("block", "Incompatible", "red"),
)

#: The spec keys any rule (or `estimated_draw`) reads, per slot. `compat_key`
#: is built from exactly these, so a rule must never read anything else.
READ_KEYS: dict[str, tuple[str, ...]] = {
    "cpu": ("socket", "tdp_w", "memory_types", "includes_cooler"),
    "motherboard": ("socket", "form_factor", "memory_type", "memory_slots", "memory_max_gb", "m2_slots", "sata_ports"),
    "ram": ("memory_type", "modules", "module_gb", "total_gb"),
    "gpu": ("length_mm", "board_power_w"),
    "storage": ("bus", "interface", "form_factor", "kind"),
    "psu": ("wattage_w", "form_factor"),
    "case": ("board_form_factors", "max_gpu_length_mm", "max_cooler_height_mm", "psu_form_factors", "includes_psu"),
    "cooler": ("sockets", "height_mm", "water_cooled", "radiator_mm"),
}


# ----------------------------------------------------------------- types ---


@dataclass(frozen=True)
class Part:
    """A catalog part as the rules see it: `specs` are the normalised specs."""

    id: str
    slot: str
    name: str
    specs: Mapping[str, Any]
    price: Decimal | None = None


Selection = Mapping[str, Sequence[Part]]


@dataclass(frozen=True)
class Verdict:
    """One finding. `slots` are the slots it concerns (for badges);
    `not_checked` marks an `info` that says data needed for a check is
    missing (the page lists those under "not checked")."""

    rule: str
    severity: Severity
    slots: tuple[str, ...]
    message: str
    not_checked: bool = False


@dataclass(frozen=True)
class Rule:
    """A compatibility rule. `slots`: every slot it reads; `remedy_slots`:
    slots to swap to fix a block, most natural first; `requires`: the slots
    that must all be filled for it to run (default: `slots`)."""

    name: str
    title: str
    slots: tuple[str, ...]
    remedy_slots: tuple[str, ...]
    check: Callable[[Selection], list[Verdict]]
    requires: tuple[str, ...] = ()

    @property
    def needs(self) -> tuple[str, ...]:
        """The slots that must be filled for this rule to run."""
        return self.requires or self.slots


@dataclass(frozen=True)
class DrawEstimate:
    """Estimated power draw: `total_w` and its parts as (label, watts), plus
    labels of chosen parts whose power figure is unknown (not counted)."""

    total_w: int
    parts: list[tuple[str, int]]
    unknown: tuple[str, ...] = ()


# --------------------------------------------------------------- helpers ---


def _first(sel: Selection, slot: str) -> Mapping[str, Any] | None:
    """Specs of the (first) part in `slot`, or None when empty."""
    parts = sel.get(slot)
    return parts[0].specs if parts else None


def _filled(sel: Selection, slot: str) -> Mapping[str, Any]:
    """Specs of the (first) part in `slot`, a slot the rule's `needs` (checked
    by `evaluate`) guarantee is filled."""
    parts = sel.get(slot)
    assert parts, f"slot {slot!r} is empty"
    return parts[0].specs


def _not_checked(rule: str, slots: tuple[str, ...], what: str, why: str) -> Verdict:
    return Verdict(rule, "info", slots, f"{what} not checked: {why}", True)


def _join(values: Sequence[str], limit: int = 6) -> str:
    """'a, b, c' with at most `limit` items ('… and 4 more')."""
    if len(values) <= limit:
        return ", ".join(values)
    return f"{', '.join(values[:limit])} and {len(values) - limit} more"


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word if n == 1 else (plural or word + 's')}"


def _kit_total_gb(specs: Mapping[str, Any]) -> int | None:
    total = specs.get("total_gb")
    if total is not None:
        return total
    modules, size = specs.get("modules"), specs.get("module_gb")
    return modules * size if modules is not None and size is not None else None


# ----------------------------------------------------------------- rules ---
#
# Each rule is split in two: `_check_x(sel)` pulls the few (hashable) spec
# values it reads out of the selection, and `_x(values...)` turns them into
# verdicts. The second part is memoised (bounded), so the thousands of
# evaluations a picker request makes mostly cost a few dict lookups; the
# verdicts are immutable, so sharing them is safe.

_memo = lru_cache(maxsize=16384)


def _check_cpu_socket(sel: Selection) -> list[Verdict]:
    return list(_cpu_socket(_filled(sel, "cpu").get("socket"), _filled(sel, "motherboard").get("socket")))


@_memo
def _cpu_socket(cpu_socket: str | None, board_socket: str | None) -> tuple[Verdict, ...]:
    slots = ("cpu", "motherboard")
    if cpu_socket is None:
        return (_not_checked("cpu_socket", slots, "CPU socket", "this CPU's socket is unknown"),)
    if board_socket is None:
        return (_not_checked("cpu_socket", slots, "CPU socket", "this motherboard's socket is unknown"),)
    severity = "pass" if cpu_socket == board_socket else "block"
    return (Verdict("cpu_socket", severity, slots, f"CPU socket is {cpu_socket}; this motherboard has {board_socket}"),)


def _draw_key(sel: Selection) -> tuple:
    """The inputs of the power estimate, as a hashable tuple."""
    cpu, gpu = _first(sel, "cpu"), _first(sel, "gpu")
    kits = sel.get("ram") or ()
    drives = sel.get("storage") or ()
    hdds = sum(1 for d in drives if d.specs.get("kind") in ("HDD", "SSHD"))
    return (
        any(sel.values()),  # anything chosen at all
        cpu is not None,
        cpu.get("tdp_w") if cpu is not None else None,
        gpu is not None,
        gpu.get("board_power_w") if gpu is not None else None,
        sum((kit.specs.get("modules") or 1) for kit in kits),  # a kit has at least one module
        len(drives) - hdds,
        hdds,
    )


@_memo
def _draw(key: tuple) -> tuple[int, tuple[tuple[str, int], ...], tuple[str, ...]]:
    """(total W, (label, W) parts, unknown labels) for a `_draw_key`."""
    nonempty, has_cpu, cpu_w, has_gpu, gpu_w, modules, ssds, hdds = key
    if not nonempty:
        return 0, (), ()
    parts: list[tuple[str, int]] = []
    unknown: list[str] = []
    if has_cpu:
        if cpu_w is not None:
            parts.append(("CPU (TDP)", cpu_w))
        else:
            unknown.append("CPU")
    if has_gpu:
        if gpu_w is not None:
            parts.append(("Graphics card (board power)", gpu_w))
        else:
            unknown.append("graphics card")
    parts.append(("Motherboard (allowance)", BOARD_W))
    if modules:
        parts.append((f"Memory ({_plural(modules, 'module')} × {RAM_MODULE_W} W)", modules * RAM_MODULE_W))
    if ssds:
        parts.append((f"SSD ({ssds} × {SSD_W} W)", ssds * SSD_W))
    if hdds:
        parts.append((f"Hard disk ({hdds} × {HDD_W} W)", hdds * HDD_W))
    parts.append(("Fans and pump (allowance)", FANS_W))
    return sum(w for _, w in parts), tuple(parts), tuple(unknown)


def estimated_draw(sel: Selection) -> DrawEstimate:
    """CPU TDP + GPU board power + allowances (see the constants at the top).

    Board and fan allowances count for any non-empty selection; memory per
    module and drives per drive as chosen. A CPU or GPU whose figure is
    unknown is left out and named in `unknown`. An empty selection is 0 W."""
    total, parts, unknown = _draw(_draw_key(sel))
    return DrawEstimate(total, list(parts), unknown)


def _check_psu_wattage(sel: Selection) -> list[Verdict]:
    if not sel.get("cpu") and not sel.get("gpu"):
        return []  # nothing that draws real power chosen yet
    total, _, unknown = _draw(_draw_key(sel))
    has_cpu, has_gpu = bool(sel.get("cpu")), bool(sel.get("gpu"))
    slots = ("psu", "cpu", "gpu") if has_cpu and has_gpu else ("psu", "cpu") if has_cpu else ("psu", "gpu")
    return list(_psu_wattage(_filled(sel, "psu").get("wattage_w"), total, unknown, slots))


@_memo
def _psu_wattage(watts: int | None, need: int, unknown: tuple[str, ...], slots: tuple[str, ...]) -> tuple[Verdict, ...]:
    if watts is None:
        return (_not_checked("psu_wattage", slots, "PSU wattage", "this power supply's wattage is unknown"),)
    percent = round(PSU_HEADROOM * 100)
    if watts < need:
        verdict = Verdict("psu_wattage", "block", slots, f"PSU is {watts} W; the build draws about {need} W")
    elif watts * 100 < need * (100 + percent):
        target = -(-need * (100 + percent) // 100)  # ceil(need × 1.2)
        verdict = Verdict(
            "psu_wattage",
            "warn",
            slots,
            f"PSU is {watts} W; the build draws about {need} W, "
            f"less than {percent} % headroom (aim for {target} W or more)",
        )
    else:
        headroom = round((watts - need) * 100 / need)
        verdict = Verdict(
            "psu_wattage", "pass", slots, f"PSU is {watts} W; the build draws about {need} W ({headroom} % headroom)"
        )
    if not unknown:
        return (verdict,)
    names = " and ".join(unknown)
    return (
        verdict,
        _not_checked(
            "psu_wattage", slots, "power estimate", f"the power draw of this {names} is unknown, so it is not counted"
        ),
    )


def _check_gpu_length(sel: Selection) -> list[Verdict]:
    return list(_gpu_length(_filled(sel, "gpu").get("length_mm"), _filled(sel, "case").get("max_gpu_length_mm")))


@_memo
def _gpu_length(length: int | None, room: int | None) -> tuple[Verdict, ...]:
    slots = ("gpu", "case")
    if length is None:
        return (_not_checked("gpu_length", slots, "GPU clearance", "this GPU's length is unknown"),)
    if room is None:
        return (_not_checked("gpu_length", slots, "GPU clearance", "this case's maximum GPU length is unknown"),)
    if length > room:
        return (Verdict("gpu_length", "block", slots, f"GPU is {length} mm; this case fits {room} mm"),)
    if room - length < GPU_TIGHT_MM:
        return (
            Verdict(
                "gpu_length",
                "warn",
                slots,
                f"GPU is {length} mm; this case fits {room} mm (only {room - length} mm to spare)",
            ),
        )
    return (Verdict("gpu_length", "pass", slots, f"GPU is {length} mm; this case fits {room} mm"),)


_ABSENT = "<absent>"  # a slot that is empty, as opposed to a value that is unknown (None)


def _check_ram_type(sel: Selection) -> list[Verdict]:
    board, cpu = _first(sel, "motherboard"), _first(sel, "cpu")
    if board is None and cpu is None:
        return []
    kit_types = tuple(kit.specs.get("memory_type") for kit in sel["ram"])
    board_type = board.get("memory_type") if board is not None else _ABSENT
    cpu_types = tuple(cpu.get("memory_types") or ()) if cpu is not None else _ABSENT
    return list(_ram_type(kit_types, board_type, cpu_types))


@_memo
def _ram_type(
    kit_types: tuple[str | None, ...], board_type: str | None, cpu_types: tuple[str, ...] | str
) -> tuple[Verdict, ...]:
    has_board, has_cpu = board_type != _ABSENT, cpu_types != _ABSENT
    if None in kit_types:
        slots = ("ram",) + (("motherboard",) if has_board else ()) + (("cpu",) if has_cpu else ())
        return (_not_checked("ram_type", slots, "memory type", "this memory's type is unknown"),)
    kinds = cast(tuple[str, ...], tuple(dict.fromkeys(kit_types)))  # distinct, in order; no None (checked above)
    out: list[Verdict] = []
    if has_board:
        slots = ("ram", "motherboard")
        if board_type is None:
            out.append(_not_checked("ram_type", slots, "memory type", "this motherboard's memory type is unknown"))
        else:
            for kind in kinds:
                severity = "pass" if kind == board_type else "block"
                message = f"Memory is {kind}; this motherboard takes {board_type}"
                out.append(Verdict("ram_type", severity, slots, message))
    if has_cpu:
        slots = ("ram", "cpu")
        if not cpu_types:
            if not has_board:  # with a board chosen, the board's memory type already decides
                out.append(
                    _not_checked(
                        "ram_type", slots, "memory type vs CPU", "this CPU's supported memory types are unknown"
                    )
                )
        else:
            listed = " and ".join(cpu_types)
            for kind in kinds:
                if kind not in cpu_types:
                    out.append(Verdict("ram_type", "block", slots, f"Memory is {kind}; this CPU supports {listed}"))
                elif not has_board:
                    out.append(Verdict("ram_type", "pass", slots, f"Memory is {kind}; this CPU supports {listed}"))
    return tuple(out)


def _check_cooler_height(sel: Selection) -> list[Verdict]:
    cooler = _filled(sel, "cooler")
    return list(
        _cooler_height(
            cooler.get("water_cooled"),
            cooler.get("radiator_mm"),
            cooler.get("height_mm"),
            _filled(sel, "case").get("max_cooler_height_mm"),
        )
    )


@_memo
def _cooler_height(
    water: bool | None, radiator: int | None, height: int | None, room: int | None
) -> tuple[Verdict, ...]:
    slots = ("cooler", "case")
    if water:
        what = f"a {radiator} mm liquid cooler" if radiator is not None else "a liquid cooler"
        return (
            _not_checked(
                "cooler_height",
                slots,
                "radiator fit",
                f"this is {what} and the catalog has no case radiator-mount data",
            ),
        )
    if height is None:
        return (_not_checked("cooler_height", slots, "cooler clearance", "this cooler's height is unknown"),)
    if room is None:
        return (
            _not_checked("cooler_height", slots, "cooler clearance", "this case's maximum cooler height is unknown"),
        )
    if height > room:
        return (Verdict("cooler_height", "block", slots, f"Cooler is {height} mm tall; this case fits {room} mm"),)
    if room - height < COOLER_TIGHT_MM:
        return (
            Verdict(
                "cooler_height",
                "warn",
                slots,
                f"Cooler is {height} mm tall; this case fits {room} mm (only {room - height} mm to spare)",
            ),
        )
    return (Verdict("cooler_height", "pass", slots, f"Cooler is {height} mm tall; this case fits {room} mm"),)


def _check_case_board(sel: Selection) -> list[Verdict]:
    takes = _filled(sel, "case").get("board_form_factors") or ()
    return list(_case_board(_filled(sel, "motherboard").get("form_factor"), tuple(takes)))


@_memo
def _case_board(form: str | None, takes: tuple[str, ...]) -> tuple[Verdict, ...]:
    slots = ("motherboard", "case")
    if form is None:
        return (_not_checked("case_board", slots, "motherboard fit", "this motherboard's form factor is unknown"),)
    if not takes:
        return (
            _not_checked("case_board", slots, "motherboard fit", "this case's supported motherboard sizes are unknown"),
        )
    fits = form in takes or any(alias in takes for alias in BOARD_FITS_AS.get(form, ()))
    severity = "pass" if fits else "block"
    return (Verdict("case_board", severity, slots, f"Motherboard is {form}; this case takes {_join(takes)}"),)


def _check_ram_slots(sel: Selection) -> list[Verdict]:
    modules = tuple(kit.specs.get("modules") for kit in sel["ram"])
    return list(_ram_slots(modules, _filled(sel, "motherboard").get("memory_slots")))


@_memo
def _ram_slots(modules: tuple[int | None, ...], have: int | None) -> tuple[Verdict, ...]:
    slots = ("ram", "motherboard")
    if None in modules:
        return (_not_checked("ram_slots", slots, "memory slots", "this memory kit's module count is unknown"),)
    if have is None:
        return (
            _not_checked("ram_slots", slots, "memory slots", "this motherboard's number of memory slots is unknown"),
        )
    sticks = sum(cast(tuple[int, ...], modules))  # no None (checked above)
    severity = "block" if sticks > have else "pass"
    return (
        Verdict(
            "ram_slots",
            severity,
            slots,
            f"Memory is {_plural(sticks, 'module')}; this motherboard has {_plural(have, 'slot')}",
        ),
    )


def _check_ram_capacity(sel: Selection) -> list[Verdict]:
    sizes = tuple(_kit_total_gb(kit.specs) for kit in sel["ram"])
    return list(_ram_capacity(sizes, _filled(sel, "motherboard").get("memory_max_gb")))


@_memo
def _ram_capacity(sizes: tuple[int | None, ...], most: int | None) -> tuple[Verdict, ...]:
    slots = ("ram", "motherboard")
    if None in sizes:
        return (_not_checked("ram_capacity", slots, "memory capacity", "this memory kit's capacity is unknown"),)
    if most is None:
        return (_not_checked("ram_capacity", slots, "memory capacity", "this motherboard's maximum memory is unknown"),)
    total = sum(cast(tuple[int, ...], sizes))  # no None (checked above)
    severity = "block" if total > most else "pass"
    return (
        Verdict(
            "ram_capacity", severity, slots, f"Memory totals {total} GB; this motherboard supports up to {most} GB"
        ),
    )


def _check_cooler_socket(sel: Selection) -> list[Verdict]:
    cpu = _filled(sel, "cpu")
    fits = tuple(_filled(sel, "cooler").get("sockets") or ())
    return list(_cooler_socket(cpu.get("socket"), fits, bool(cpu.get("includes_cooler"))))


@_memo
def _cooler_socket(socket: str | None, fits: tuple[str, ...], boxed: bool) -> tuple[Verdict, ...]:
    slots = ("cooler", "cpu")
    if socket is None:
        verdict = _not_checked("cooler_socket", slots, "cooler mounting", "this CPU's socket is unknown")
    elif not fits:
        verdict = _not_checked("cooler_socket", slots, "cooler mounting", "this cooler's supported sockets are unknown")
    elif socket in fits:
        verdict = Verdict("cooler_socket", "pass", slots, f"CPU socket is {socket}; this cooler fits {socket}")
    else:
        verdict = Verdict("cooler_socket", "block", slots, f"CPU socket is {socket}; this cooler fits {_join(fits)}")
    if not boxed:
        return (verdict,)
    return (
        verdict,
        Verdict("cooler_socket", "info", slots, "This CPU ships with its own cooler; the chosen cooler replaces it"),
    )


def _check_m2_slots(sel: Selection) -> list[Verdict]:
    drives = sum(1 for d in sel["storage"] if d.specs.get("bus") == "m2")
    if not drives:
        return []
    return list(_m2_slots(drives, _filled(sel, "motherboard").get("m2_slots")))


@_memo
def _m2_slots(drives: int, have: int | None) -> tuple[Verdict, ...]:
    slots = ("storage", "motherboard")
    if have is None:
        return (
            _not_checked(
                "m2_slots", slots, "M.2 slots", "this motherboard's M.2 slot list is empty upstream (none or unknown)"
            ),
        )
    severity = "block" if drives > have else "pass"
    message = f"Storage is {_plural(drives, 'M.2 drive')}; this motherboard has {_plural(have, 'M.2 (key M) slot')}"
    return (Verdict("m2_slots", severity, slots, message),)


def _check_sata_ports(sel: Selection) -> list[Verdict]:
    drives = sum(1 for d in sel["storage"] if d.specs.get("bus") == "sata")
    if not drives:
        return []
    return list(_sata_ports(drives, _filled(sel, "motherboard").get("sata_ports")))


@_memo
def _sata_ports(drives: int, have: int | None) -> tuple[Verdict, ...]:
    slots = ("storage", "motherboard")
    if have is None:
        return (_not_checked("sata_ports", slots, "SATA ports", "this motherboard's number of SATA ports is unknown"),)
    severity = "block" if drives > have else "pass"
    return (
        Verdict(
            "sata_ports",
            severity,
            slots,
            f"Storage is {_plural(drives, 'SATA drive')}; this motherboard has {_plural(have, 'SATA port')}",
        ),
    )


def _check_drive_interface(sel: Selection) -> list[Verdict]:
    odd = tuple(
        (d.specs.get("bus"), d.specs.get("interface") or d.specs.get("form_factor"))
        for d in sel["storage"]
        if d.specs.get("bus") not in ("m2", "sata")
    )
    return list(_drive_interface(odd)) if odd else []


@_memo
def _drive_interface(odd: tuple[tuple[str | None, str | None], ...]) -> tuple[Verdict, ...]:
    slots = ("storage", "motherboard")
    out: list[Verdict] = []
    for bus, how in odd:
        if bus is not None and how is not None:
            out.append(
                _not_checked(
                    "drive_interface",
                    slots,
                    "drive connection",
                    f"this drive connects via {how}, not an M.2 slot or a SATA port",
                )
            )
        else:
            out.append(_not_checked("drive_interface", slots, "drive connection", "this drive's interface is unknown"))
    return tuple(out)


def _check_psu_form_factor(sel: Selection) -> list[Verdict]:
    case = _filled(sel, "case")
    return list(
        _psu_form_factor(
            bool(case.get("includes_psu")),
            _filled(sel, "psu").get("form_factor"),
            tuple(case.get("psu_form_factors") or ()),
        )
    )


@_memo
def _psu_form_factor(bundled: bool, form: str | None, takes: tuple[str, ...]) -> tuple[Verdict, ...]:
    slots = ("psu", "case")
    if bundled:
        return (_not_checked("psu_form_factor", slots, "PSU fit", "this case ships with its own power supply"),)
    if form is None:
        return (_not_checked("psu_form_factor", slots, "PSU fit", "this power supply's form factor is unknown"),)
    if not takes:
        return (
            _not_checked("psu_form_factor", slots, "PSU fit", "this case's supported power supply sizes are unknown"),
        )
    listed = _join(takes)
    if PSU_SAME_AS.get(form, form) in takes:
        return (Verdict("psu_form_factor", "pass", slots, f"PSU is {form}; this case takes {listed}"),)
    if form in PSU_NEEDS_BRACKET and "ATX" in takes:
        return (
            Verdict(
                "psu_form_factor",
                "warn",
                slots,
                f"PSU is {form}; this case takes {listed} (needs an {form}-to-ATX bracket)",
            ),
        )
    return (Verdict("psu_form_factor", "block", slots, f"PSU is {form}; this case takes {listed}"),)


RULES: tuple[Rule, ...] = (
    Rule("cpu_socket", "CPU socket", ("cpu", "motherboard"), ("motherboard", "cpu"), _check_cpu_socket),
    Rule(
        "ram_type",
        "Memory type",
        ("ram", "motherboard", "cpu"),
        ("ram", "motherboard"),
        _check_ram_type,
        requires=("ram",),
    ),
    Rule("ram_slots", "Memory slots", ("ram", "motherboard"), ("ram", "motherboard"), _check_ram_slots),
    Rule("ram_capacity", "Memory capacity", ("ram", "motherboard"), ("ram", "motherboard"), _check_ram_capacity),
    Rule("m2_slots", "M.2 slots", ("storage", "motherboard"), ("storage", "motherboard"), _check_m2_slots),
    Rule("sata_ports", "SATA ports", ("storage", "motherboard"), ("storage", "motherboard"), _check_sata_ports),
    Rule("drive_interface", "Drive connection", ("storage", "motherboard"), ("storage",), _check_drive_interface),
    Rule("cooler_socket", "Cooler mounting", ("cooler", "cpu"), ("cooler", "cpu"), _check_cooler_socket),
    Rule("gpu_length", "GPU length", ("gpu", "case"), ("gpu", "case"), _check_gpu_length),
    Rule("case_board", "Motherboard size", ("motherboard", "case"), ("case", "motherboard"), _check_case_board),
    Rule("cooler_height", "Cooler clearance", ("cooler", "case"), ("cooler", "case"), _check_cooler_height),
    Rule("psu_form_factor", "PSU size", ("psu", "case"), ("psu", "case"), _check_psu_form_factor),
    Rule(
        "psu_wattage",
        "PSU wattage",
        ("psu", "cpu", "gpu", "motherboard", "ram", "storage"),
        ("psu",),
        _check_psu_wattage,
        requires=("psu",),
    ),
)

_RULES_BY_NAME: dict[str, Rule] = {rule.name: rule for rule in RULES}
_RULES_FOR_SLOT: dict[str, tuple[Rule, ...]] = {
    slot: tuple(rule for rule in RULES if slot in rule.slots) for slot in SLOTS
}


# ------------------------------------------------------------- closeness ---
#
# Where a part sits in its slot's range, on one scale per slot measured in
# "tiers": two parts one tier apart are the nearest alternatives that differ
# noticeably. The scales read the normalised specs, and for CPUs and graphics
# cards the performance class in the product's family name ("Ryzen 9",
# "RTX 4070"): the catalog has no benchmark figures, and a class from the name
# only orders suggestions, it never decides compatibility.

#: Motherboard sizes, smallest first (a case is placed by the largest it takes).
BOARD_SIZE: dict[str, int] = {
    "Mini-ITX": 0,
    "Thin Mini-ITX": 0,
    "Mini DTX": 0,
    "Micro ATX": 1,
    "Flex ATX": 1,
    "ATX": 2,
    "EATX": 3,
    "XL ATX": 3,
    "SSI CEB": 3,
    "SSI EEB": 3,
    "HPTX": 3,
}

#: CPU performance classes by family, highest first: the first pattern found
#: in the series or name decides (workstation 6, "9" 5, "7" 4, "5" 3, "3" 2,
#: entry 1). Families without a class (Xeon E, Opteron, …) fall back to their
#: core count (`_CPU_CORE_CLASS`).
_CPU_CLASSES: tuple[tuple[re.Pattern[str], int], ...] = (
    (re.compile(r"threadripper|epyc|xeon w"), 6),
    (re.compile(r"core i9|ryzen 9|core ultra 9"), 5),
    (re.compile(r"core i7|ryzen 7|core ultra 7|\bfx[- ]?[89]"), 4),
    (re.compile(r"core i5|ryzen 5|core ultra 5|\bfx[- ]?6"), 3),
    (re.compile(r"core i3|ryzen 3|core ultra 3|\bfx[- ]?4"), 2),
    (re.compile(r"celeron|pentium|athlon|sempron|\ba\d{1,2}[- ]|a-series|core 2|\batom\b"), 1),
)
#: (most cores, class): the class of a CPU whose family says nothing.
_CPU_CORE_CLASS: tuple[tuple[int, int], ...] = ((2, 1), (4, 2), (6, 3), (8, 4), (16, 5))

_NVIDIA_MODEL = re.compile(r"\b(?:rtx|gtx|gt)\s*(\d{3,4})")
_AMD_MODEL = re.compile(r"\brx\s*(\d{3,4})")
_ARC_MODEL = re.compile(r"\barc\s*[ab](\d)\d\d")
#: (most GB of video memory, class): the class of a GPU whose chipset says nothing.
_GPU_VRAM_CLASS: tuple[tuple[int, int], ...] = ((2, 2), (4, 4), (6, 5), (8, 6), (12, 7), (16, 8))

#: A candidate whose tier is unknown ranks after every known one (this many tiers away).
UNKNOWN_GAP = 50


def _log2(value: Any) -> float | None:
    return math.log2(value) if isinstance(value, int | float) and value > 0 else None


def _cpu_tier(part: Part) -> float | None:
    text = f"{part.specs.get('series') or ''} {part.name}".lower()
    for pattern, klass in _CPU_CLASSES:
        if pattern.search(text):
            return float(klass)
    cores = part.specs.get("cores")
    if not isinstance(cores, int) or cores <= 0:
        return None
    return float(next((klass for most, klass in _CPU_CORE_CLASS if cores <= most), 6))


def _gpu_tier(part: Part) -> float | None:
    """The class digit of the model number: RTX 4090 and RX 7900 are 9, RTX
    4060 and RX 7600 are 6; AMD's three-digit RX 400/500 cards sit two lower
    (an RX 580 is a mid-range card); otherwise by video memory."""
    chipset = str(part.specs.get("chipset") or "").lower()
    klass = 0
    if m := _NVIDIA_MODEL.search(chipset):
        klass = int(m.group(1)[-2])  # RTX 4070 → 7, GTX 970 → 7, GT 710 → 1
    elif m := _AMD_MODEL.search(chipset):
        digits = m.group(1)  # RX 580 → 6 (two below), RX 7900 → 9, RX 9070 → 7
        klass = int(digits[1]) - 2 if len(digits) == 3 else int(digits[2] if digits[1] == "0" else digits[1])
    elif m := _ARC_MODEL.search(chipset):
        klass = int(m.group(1))  # Arc A770 → 7
    if klass > 0:  # workstation cards (RTX 6000 Ada) have no class digit: by memory below
        return float(klass)
    vram = part.specs.get("memory_gb")
    if not isinstance(vram, int | float) or vram <= 0:
        return None
    return float(next((klass for most, klass in _GPU_VRAM_CLASS if vram <= most), 9))


def _board_tier(part: Part) -> float | None:
    size = BOARD_SIZE.get(part.specs.get("form_factor") or "")
    return None if size is None else float(size)


def _case_tier(part: Part) -> float | None:
    sizes = [BOARD_SIZE[f] for f in part.specs.get("board_form_factors") or () if f in BOARD_SIZE]
    return float(max(sizes)) if sizes else None


def _ram_tier(part: Part) -> float | None:
    return _log2(_kit_total_gb(part.specs))  # a doubling of capacity is one tier


def _storage_tier(part: Part) -> float | None:
    return _log2(part.specs.get("capacity_gb"))


def _psu_tier(part: Part) -> float | None:
    watts = part.specs.get("wattage_w")
    return watts / 100 if isinstance(watts, int | float) and watts > 0 else None  # 100 W a tier


def _cooler_tier(part: Part) -> float | None:
    """Low-profile air 0, mid-height air 1, tower air 2, liquid 2 + a tier per
    120 mm of radiator (a 240 mm AIO is 4, a 360 mm one 5)."""
    specs = part.specs
    if specs.get("water_cooled") is True:
        radiator = specs.get("radiator_mm")
        return 2 + radiator / 120 if isinstance(radiator, int | float) and radiator > 0 else 3.0
    height = specs.get("height_mm")
    if specs.get("water_cooled") is not False or not isinstance(height, int | float) or height <= 0:
        return None
    return 0.0 if height < 80 else 1.0 if height < 140 else 2.0


_TIERS: dict[str, Callable[[Part], float | None]] = {
    "cpu": _cpu_tier,
    "motherboard": _board_tier,
    "ram": _ram_tier,
    "gpu": _gpu_tier,
    "storage": _storage_tier,
    "psu": _psu_tier,
    "case": _case_tier,
    "cooler": _cooler_tier,
}


def tier(part: Part) -> float | None:
    """Where `part` sits on its slot's scale (None when its specs do not say):

    - CPU: performance class from the family (Celeron 1 … Ryzen 9 / Core i9 5,
      Threadripper 6), else from the core count;
    - memory: capacity of the kit (a tier per doubling: 2 GB is 1, 32 GB is 5);
    - graphics card: the chipset's class (RTX 4060 6, RTX 4090 9), else video memory;
    - power supply: wattage (a tier per 100 W);
    - storage: capacity (a tier per doubling);
    - case: the largest motherboard size it takes; motherboard: its size;
    - CPU cooler: low-profile air … tower air, then liquid by radiator size."""
    fn = _TIERS.get(part.slot)
    return fn(part) if fn is not None else None


def tier_gap(current: float | None, candidate: float | None) -> int:
    """Whole tiers between two tiers (half a tier rounds up). 0 when the
    current tier is unknown (nothing to be close to), `UNKNOWN_GAP` when only
    the candidate's is."""
    if current is None:
        return 0
    if candidate is None:
        return UNKNOWN_GAP
    return math.floor(abs(current - candidate) + 0.5)


def closeness(current: Part | None, candidate: Part) -> int:
    """How many tiers `candidate` is from `current`, the part it would
    replace (0: the same tier). Suggestions prefer the smallest, then the
    cheapest."""
    return tier_gap(tier(current) if current is not None else None, tier(candidate))


# ------------------------------------------------------------ public API ---


def evaluate(sel: Selection, rules: Sequence[Rule] = RULES) -> list[Verdict]:
    """All verdicts of `rules` over `sel`, in rule order. A rule runs only
    when every slot in its `needs` holds at least one part."""
    out: list[Verdict] = []
    for rule in rules:
        for slot in rule.needs:
            if not sel.get(slot):
                break
        else:
            out.extend(rule.check(sel))
    return out


def overall(verdicts: Sequence[Verdict]) -> Severity:
    """The highest severity (pass < info < warn < block); "pass" when empty."""
    rank = 0
    for verdict in verdicts:
        r = SEVERITY_ORDER[verdict.severity]
        if r > rank:
            rank = r
            if rank == 3:
                break
    return _SEVERITY_BY_RANK[rank]


def rules_for_slot(slot: str) -> tuple[Rule, ...]:
    """The rules that read `slot` (a part there can change their verdicts)."""
    return _RULES_FOR_SLOT.get(slot, ())


def get_rule(name: str) -> Rule:
    """The rule called `name` (KeyError when unknown)."""
    return _RULES_BY_NAME[name]


def with_part(sel: Selection, slot: str, part: Part | None, index: int | None = None) -> dict[str, tuple[Part, ...]]:
    """A new selection with `part` placed in `slot`; `sel` is not changed.

    Single slots are replaced. Multi slots ("ram", "storage"): `index=None`
    appends, otherwise the part at `index` is replaced (an index past the end
    appends). `part=None` empties a single slot, or removes the entry at
    `index` of a multi slot (all entries when `index` is None). Capacity
    limits are the slot map's business (`app.builder.slotmap`), not checked
    here."""
    out: dict[str, tuple[Part, ...]] = {s: tuple(p) for s, p in sel.items() if p}
    current = out.get(slot, ())
    if slot not in MULTI_SLOTS_SET:
        new: tuple[Part, ...] = (part,) if part is not None else ()
    elif part is None:
        new = () if index is None else current[:index] + current[index + 1 :]
    elif index is None or index >= len(current):
        new = (*current, part)
    else:
        new = (*current[:index], part, *current[index + 1 :])
    if new:
        out[slot] = new
    else:
        out.pop(slot, None)
    return out


def _freeze(value: Any) -> Hashable:
    if isinstance(value, list | tuple):
        return tuple(value)
    return value


def compat_key(part: Part) -> Hashable:
    """A hashable of the part's slot and every spec value the rules read for
    that slot (`READ_KEYS`). Two parts with equal keys get identical verdicts
    in any build, so evaluations can be memoised on them."""
    specs = part.specs
    return (part.slot, *(_freeze(specs.get(key)) for key in READ_KEYS.get(part.slot, ())))
