"""Turn an upstream BuildCores OpenDB record into the normalised specs the
compatibility rules, picker filters and summaries read.

Pure functions, no database. `normalize(slot, raw)` returns
`(name, manufacturer, specs)`; the keys of `specs` per slot are fixed (see
`SPEC_KEYS`) and every key is always present. A value that is missing, of an
unexpected type, or plainly a placeholder (a length, height or wattage of 0, a
motherboard with 0 SATA ports and 0 memory slots) becomes `None` (lists: `[]`),
which the rules report as "not checked". Nothing is guessed from names.

The upstream data is described in `../shared/data/pc-parts/SOURCE.md`; each
slot's file is named in `SOURCE_FILES` and read with `iter_records`.
"""

from __future__ import annotations

import gzip
import json
import math
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from app.catalog.slots import SLOTS as SLOTS  # the slots it reads files for (callers name it here too)

# Build slot → upstream gzip JSON Lines file in the data folder.
SOURCE_FILES: dict[str, str] = {
    "cpu": "cpu.jsonl.gz",
    "motherboard": "motherboard.jsonl.gz",
    "ram": "ram.jsonl.gz",
    "gpu": "gpu.jsonl.gz",
    "storage": "storage.jsonl.gz",
    "psu": "psu.jsonl.gz",
    "case": "case.jsonl.gz",
    "cooler": "cpu-cooler.jsonl.gz",
}

# The keys `normalize` returns in `specs` for each slot (always all of them).
SPEC_KEYS: dict[str, tuple[str, ...]] = {
    "cpu": (
        "socket",
        "tdp_w",
        "memory_types",
        "has_igpu",
        "includes_cooler",
        "cores",
        "threads",
        "boost_ghz",
        "series",
    ),
    "motherboard": (
        "socket",
        "form_factor",
        "memory_type",
        "memory_slots",
        "memory_max_gb",
        "m2_slots",
        "sata_ports",
        "chipset",
    ),
    "ram": ("memory_type", "speed_mts", "modules", "module_gb", "total_gb", "cas_latency"),
    "gpu": ("length_mm", "board_power_w", "chipset", "chipset_maker", "memory_gb", "slot_width"),
    "storage": ("form_factor", "interface", "nvme", "bus", "capacity_gb", "kind"),
    "psu": ("wattage_w", "form_factor", "efficiency", "modular"),
    "case": (
        "board_form_factors",
        "max_gpu_length_mm",
        "max_cooler_height_mm",
        "psu_form_factors",
        "type",
        "includes_psu",
    ),
    "cooler": ("sockets", "height_mm", "water_cooled", "radiator_mm"),
}


def identity(name: str, manufacturer: str = "") -> str:
    """What makes two catalog records the same product for a shopper: the
    manufacturer and the product name, ignoring case and spacing.

    The upstream data lists some products more than once under different
    ids (a boxed and a tray CPU, a kit under two part numbers, the same name
    from two sources). Every id stays in the catalog, since offers, saved
    builds and orders refer to them; the builder's picker shows one record
    per identity (see `app.builder.index`)."""
    return f"{' '.join(manufacturer.split()).casefold()}|{' '.join(name.split()).casefold()}"


def iter_records(data_dir: str | Path, slot: str) -> Iterator[dict]:
    """Yield the upstream records (dicts) of one slot's file, in file order.

    Blank lines are skipped; a line that is not a JSON object raises
    `ValueError` naming the file and line (the importer reports it)."""
    path = Path(data_dir) / SOURCE_FILES[slot]
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path.name} line {lineno}: not valid JSON ({exc.msg})") from exc
            if not isinstance(record, dict):
                raise ValueError(f"{path.name} line {lineno}: not a JSON object")
            yield record


# ----------------------------------------------------------------- helpers --

_NUMBER = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(?:mm|w|gb|mt/s|mhz)?\s*$", re.IGNORECASE)


def _get(raw: Any, *path: str) -> Any:
    """`raw[p0][p1]...`, or None when any step is missing or not a dict."""
    for key in path:
        if not isinstance(raw, dict):
            return None
        raw = raw.get(key)
    return raw


def _num(value: Any) -> float | None:
    """A finite number from an int/float or a plain numeric string ("170", "170 mm")."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, str):
        match = _NUMBER.match(value)
        return float(match.group(1)) if match else None
    return None


def _int(value: Any, *, positive: bool = True) -> int | None:
    """A rounded int; with `positive`, 0 and negatives (upstream placeholders) → None."""
    number = _num(value)
    if number is None or number < 0 or (positive and number == 0):
        return None
    return round(number)


def _float(value: Any, *, positive: bool = True) -> float | None:
    number = _num(value)
    if number is None or number < 0 or (positive and number == 0):
        return None
    return number


def _str(value: Any) -> str | None:
    """A stripped non-empty string, else None."""
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return None


def _bool(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def _str_list(value: Any) -> list[str]:
    """The non-empty strings of a list, de-duplicated in order; anything else → []."""
    if not isinstance(value, list):
        return []
    out: list[str] = []
    for item in value:
        text = _str(item)
        if text is not None and text not in out:
            out.append(text)
    return out


# ------------------------------------------------------------- per slot ----


def _cpu(raw: dict) -> dict:
    spec = raw.get("specifications")
    igpu_model = _str(_get(spec, "integratedGraphics", "model"))
    if igpu_model is None:
        has_igpu = None
    elif igpu_model.lower() == "none":
        has_igpu = False
    elif igpu_model == "0":  # odd placeholder: neither "None" nor a model name
        has_igpu = None
    else:
        has_igpu = True
    return {
        "socket": _str(raw.get("socket")),
        "tdp_w": _int(_get(spec, "tdp")),
        "memory_types": _str_list(_get(spec, "memory", "types")),
        "has_igpu": has_igpu,
        "includes_cooler": _bool(_get(spec, "includesCooler")),
        "cores": _int(_get(raw, "cores", "total")),
        "threads": _int(_get(raw, "cores", "threads")),
        "boost_ghz": _float(_get(raw, "clocks", "performance", "boost")),
        "series": _str(raw.get("series")) or _str(_get(raw, "metadata", "series")),
    }


def _m2_key_m(value: Any) -> int | None:
    """Count M.2 slots with key "M" (drive slots; "E" is Wi-Fi, "B" legacy).
    An empty or missing list means unknown upstream (it may also mean "none")
    → None; so does a list with an entry whose key is missing, because that
    entry may or may not be a drive slot."""
    if not isinstance(value, list) or not value:
        return None
    count = 0
    for slot in value:
        key = _str(slot.get("key")) if isinstance(slot, dict) else None
        if key is None:
            return None
        if key.upper() == "M":
            count += 1
    return count


def _sata_ports(devices: Any) -> int | None:
    """SATA 6 Gb/s + 3 Gb/s ports. A board listing 0 of both is nearly always
    unfilled upstream data (e.g. boards that really have 4-6 ports) → None."""
    if not isinstance(devices, dict):
        return None
    fast = _int(devices.get("sata_6_gb_s"), positive=False)
    slow = _int(devices.get("sata_3_gb_s"), positive=False)
    if fast is None and slow is None:
        return None
    total = (fast or 0) + (slow or 0)
    return total or None


def _motherboard(raw: dict) -> dict:
    memory = raw.get("memory")
    return {
        "socket": _str(raw.get("socket")),
        "form_factor": _str(raw.get("form_factor")),
        "memory_type": _str(_get(memory, "ram_type")),
        "memory_slots": _int(_get(memory, "slots")),
        "memory_max_gb": _int(_get(memory, "max")),
        "m2_slots": _m2_key_m(raw.get("m2_slots")),
        "sata_ports": _sata_ports(raw.get("storage_devices")),
        "chipset": _str(raw.get("chipset")),
    }


def _ram(raw: dict) -> dict:
    modules = _int(_get(raw, "modules", "quantity"))
    module_gb = _int(_get(raw, "modules", "capacity_gb"))
    total = _int(raw.get("capacity"))
    if total is None and modules is not None and module_gb is not None:
        total = modules * module_gb  # arithmetic on two upstream values, not a guess
    return {
        "memory_type": _str(raw.get("ram_type")),
        "speed_mts": _int(raw.get("speed")),
        "modules": modules,
        "module_gb": module_gb,
        "total_gb": total,
        "cas_latency": _int(raw.get("cas_latency")),
    }


def _gpu(raw: dict) -> dict:
    return {
        "length_mm": _int(raw.get("length")),
        "board_power_w": _int(raw.get("tdp")),
        "chipset": _str(raw.get("chipset")),
        "chipset_maker": _str(raw.get("chipset_manufacturer")),
        "memory_gb": _int(raw.get("memory")),
        "slot_width": _float(raw.get("total_slot_width")),
    }


def _storage_bus(form_factor: str | None, interface: str | None) -> str | None:
    """Where the drive plugs in: "m2" (an M.2 slot), "sata" (a SATA port),
    "other" (PCIe card, mSATA, SAS, U.2, PATA ...), None when unknown."""
    if form_factor is None and interface is None:
        return None
    ff = (form_factor or "").lower()
    iface = (interface or "").lower()
    if ff.startswith("m.2"):
        return "m2"
    if ff in ('2.5"', '3.5"') and iface.startswith("sata"):
        return "sata"
    if form_factor is None and iface.startswith("sata"):
        return "sata"
    if form_factor is None and iface.startswith("m.2"):
        return "m2"
    return "other"


def _storage(raw: dict) -> dict:
    form_factor = _str(raw.get("form_factor"))
    interface = _str(raw.get("interface"))
    return {
        "form_factor": form_factor,
        "interface": interface,
        "nvme": _bool(raw.get("nvme")),
        "bus": _storage_bus(form_factor, interface),
        "capacity_gb": _int(raw.get("capacity")),
        "kind": _str(raw.get("storage_type")) or _str(raw.get("type")),
    }


def _psu(raw: dict) -> dict:
    return {
        "wattage_w": _int(raw.get("wattage")),
        "form_factor": _str(raw.get("form_factor")),
        "efficiency": _str(raw.get("efficiency_rating")),
        "modular": _str(raw.get("modular")),
    }


_PSU_WATTS = re.compile(r"\d\s*w\b", re.IGNORECASE)
_PSU_NOT_INCLUDED = {"none", "no", "not included"}


def _case_includes_psu(value: Any) -> bool | None:
    """Upstream `power_supply` is free text: "None" / "No" / "Not Included" /
    "... (not included)" / "... (optional)" → False; a wattage ("300 W",
    "SFX-L 650W 80 Plus Gold") → True; anything else or missing → None."""
    text = _str(value)
    if text is None:
        return None
    low = text.lower()
    if low in _PSU_NOT_INCLUDED or "not included" in low or "optional" in low:
        return False
    if _PSU_WATTS.search(text):
        return True
    return None


def _case(raw: dict) -> dict:
    return {
        "board_form_factors": _str_list(raw.get("supported_motherboard_form_factors")),
        "max_gpu_length_mm": _int(raw.get("max_video_card_length")),
        "max_cooler_height_mm": _int(raw.get("max_cpu_cooler_height")),
        "psu_form_factors": _str_list(raw.get("supported_power_supply_form_factors")),
        "type": _str(raw.get("form_factor")),
        "includes_psu": _case_includes_psu(raw.get("power_supply")),
    }


def _cooler(raw: dict) -> dict:
    return {
        "sockets": _str_list(raw.get("cpu_sockets")),
        "height_mm": _int(raw.get("height")),
        "water_cooled": _bool(raw.get("water_cooled")),
        "radiator_mm": _int(raw.get("radiator_size")),
    }


_NORMALISERS = {
    "cpu": _cpu,
    "motherboard": _motherboard,
    "ram": _ram,
    "gpu": _gpu,
    "storage": _storage,
    "psu": _psu,
    "case": _case,
    "cooler": _cooler,
}


def normalize(slot: str, raw: dict) -> tuple[str, str, dict]:
    """`(name, manufacturer, specs)` for one upstream record of `slot`.

    `name` is `metadata.name` ("" when missing: the importer skips such
    records); `manufacturer` is `metadata.manufacturer` or "". `specs` holds
    exactly `SPEC_KEYS[slot]`. Raises `KeyError` for an unknown slot; never
    raises for odd record contents."""
    normaliser = _NORMALISERS[slot]
    if not isinstance(raw, dict):
        raw = {}
    name = _str(_get(raw, "metadata", "name")) or _str(raw.get("name")) or ""
    manufacturer = _str(_get(raw, "metadata", "manufacturer")) or ""
    return name, manufacturer, normaliser(raw)
