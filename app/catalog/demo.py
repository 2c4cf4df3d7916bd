"""The demo price list: a few hundred parts per slot with made-up but sensible
prices and stock, labelled as demo prices (`PartOffer.is_demo`).

Deterministic: the same catalog always gives the same parts, prices and stock
(every random number is seeded by the part's id). Parts with the data the
compatibility rules read and recent parts come first, and quotas per group make
sure a customer can build working PCs and also run into each kind of block:
AM5 / AM4 / LGA 1700 / LGA 1851 boards and CPUs, DDR4 and DDR5, long graphics
cards next to compact cases with a known maximum GPU length, SFX-only cases
with ATX and SFX power supplies, tall and low-profile air coolers next to cases
with a known cooler clearance, M.2 and SATA drives.

Prices follow the specs, not names: CPUs by cores, clocks and platform age,
GPUs by chipset tier (board power for unknown chipsets), PSUs by wattage,
efficiency, modularity and size, memory by capacity, type and speed, drives by
capacity and interface, cases by size and clearance, coolers by height or
radiator size, boards by chipset and form factor.
"""

from __future__ import annotations

import hashlib
import random
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlmodel import Session, col

from app.catalog import importer
from app.catalog.models import CatalogPart, PartOffer
from app.catalog.service import OfferInput, catalog_empty, shop_currency, upsert_offers
from app.catalog.slots import SLOTS
from app.platform.db import tenant_session

PER_SLOT = 320  # target number of demo offers per slot


@dataclass(frozen=True)
class P:
    id: str
    slot: str
    name: str
    specs: dict
    year: int


def _rng(part_id: str, salt: str = "") -> random.Random:
    return random.Random(int(hashlib.sha256(f"demo:{salt}:{part_id}".encode()).hexdigest()[:16], 16))


def _order_key(p: P) -> str:
    """A stable pseudo-random order (spreads manufacturers and series)."""
    return hashlib.sha256(f"order:{p.id}".encode()).hexdigest()


def _known(p: P, *keys: str) -> int:
    return sum(1 for k in keys if p.specs.get(k) not in (None, [], ""))


def _interleave(parts: list[P], variety: Callable[[P], str]) -> list[P]:
    """Round-robin over the variety key, so every kind shows up early."""
    buckets: dict[str, list[P]] = {}
    for p in parts:
        buckets.setdefault(variety(p), []).append(p)
    out: list[P] = []
    queues = [list(b) for _, b in sorted(buckets.items())]
    while queues:
        for q in queues:
            out.append(q.pop(0))
        queues = [q for q in queues if q]
    return out


@dataclass
class Group:
    """Take up to `quota` parts matching `when`, best first, mixed by `variety`."""

    when: Callable[[P], bool]
    quota: int
    variety: Callable[[P], str] = lambda p: ""
    rank: Callable[[P], tuple] = lambda p: ()


def _select(
    parts: list[P], groups: list[Group], fill: Callable[[P], bool], rank: Callable[[P], tuple], total: int = PER_SLOT
) -> list[P]:
    chosen: dict[str, P] = {}
    for g in groups:
        pool = sorted(
            (p for p in parts if g.when(p) and p.id not in chosen), key=lambda p: (g.rank(p), rank(p), _order_key(p))
        )
        for p in _interleave(pool, g.variety)[: g.quota]:
            chosen[p.id] = p
    rest = sorted((p for p in parts if fill(p) and p.id not in chosen), key=lambda p: (rank(p), _order_key(p)))
    for p in rest[: max(0, total - len(chosen))]:
        chosen[p.id] = p
    return list(chosen.values())


def _num(p: P, key: str, default: float = 0) -> float:
    value = p.specs.get(key)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else default


# --- selection per slot ---------------------------------------------------------------------

MODERN_SOCKETS = ("AM5", "LGA 1851", "LGA 1700", "AM4", "LGA 1200")


def _socket_rank(p: P) -> int:
    s = p.specs.get("socket")
    return MODERN_SOCKETS.index(s) if s in MODERN_SOCKETS else len(MODERN_SOCKETS)


def _cpus(parts: list[P]) -> list[P]:
    complete = lambda p: _known(p, "socket", "tdp_w", "memory_types") == 3
    return _select(
        parts,
        [
            Group(lambda p: complete(p) and p.specs["socket"] == "AM5", 45, lambda p: str(p.specs.get("cores"))),
            Group(lambda p: complete(p) and p.specs["socket"] == "LGA 1700", 60, lambda p: str(p.specs.get("cores"))),
            Group(lambda p: complete(p) and p.specs["socket"] == "LGA 1851", 15),
            Group(lambda p: complete(p) and p.specs["socket"] == "AM4", 80, lambda p: str(p.specs.get("cores"))),
            Group(lambda p: complete(p) and p.specs["socket"] == "LGA 1200", 40),
        ],
        fill=lambda p: complete(p) and p.specs["socket"] in ("LGA 1151", "AM4", "LGA 1200"),
        rank=lambda p: (_socket_rank(p), -p.year),
        total=PER_SLOT - 40,
    )


def _boards(parts: list[P]) -> list[P]:
    complete = lambda p: (
        _known(p, "socket", "form_factor", "memory_type", "memory_slots", "memory_max_gb", "m2_slots", "sata_ports")
        == 7
    )
    ff = lambda p: str(p.specs.get("form_factor"))

    def on(socket: str, memory: str) -> Callable[[P], bool]:
        return lambda p: complete(p) and p.specs["socket"] == socket and p.specs["memory_type"] == memory

    return _select(
        parts,
        [
            Group(on("AM5", "DDR5"), 90, ff),
            Group(on("LGA 1700", "DDR5"), 65, ff),
            Group(on("LGA 1700", "DDR4"), 45, ff),
            Group(on("LGA 1851", "DDR5"), 45, ff),
            Group(on("AM4", "DDR4"), 55, ff),
            Group(on("LGA 1200", "DDR4"), 20, ff),
        ],
        fill=lambda p: complete(p) and p.specs["socket"] in MODERN_SOCKETS,
        rank=lambda p: (_socket_rank(p), -p.year),
    )


def _ram(parts: list[P]) -> list[P]:
    complete = lambda p: _known(p, "memory_type", "speed_mts", "modules", "module_gb", "total_gb") == 5
    kit = lambda p: f"{p.specs.get('modules')}x{p.specs.get('module_gb')}"
    ok_speed = lambda p: (
        4800 <= _num(p, "speed_mts") <= 8000
        if p.specs.get("memory_type") == "DDR5"
        else (2400 <= _num(p, "speed_mts") <= 4000)
    )
    return _select(
        parts,
        [
            Group(lambda p: complete(p) and p.specs["memory_type"] == "DDR5" and ok_speed(p), 180, kit),
            Group(lambda p: complete(p) and p.specs["memory_type"] == "DDR4" and ok_speed(p), 130, kit),
        ],
        fill=lambda p: complete(p) and p.specs["memory_type"] in ("DDR4", "DDR5"),
        rank=lambda p: (-p.year,),
    )


GPU_TIERS: list[tuple[str, int]] = [  # (chipset pattern, typical price EUR), most specific first
    (r"RTX 5090", 2299),
    (r"RTX 5080", 1199),
    (r"RTX 5070 Ti", 849),
    (r"RTX 5070", 599),
    (r"RTX 5060 Ti.*16", 469),
    (r"RTX 5060 Ti", 399),
    (r"RTX 5060", 319),
    (r"RTX 5050", 269),
    (r"RTX 4090", 1899),
    (r"RTX 4080 SUPER", 1099),
    (r"RTX 4080", 1049),
    (r"RTX 4070 Ti SUPER", 849),
    (r"RTX 4070 Ti", 769),
    (r"RTX 4070 SUPER", 629),
    (r"RTX 4070", 549),
    (r"RTX 4060 Ti.*16", 449),
    (r"RTX 4060 Ti", 399),
    (r"RTX 4060", 299),
    (r"RTX 3090 Ti", 1099),
    (r"RTX 3090", 949),
    (r"RTX 3080 Ti", 799),
    (r"RTX 3080", 649),
    (r"RTX 3070 Ti", 529),
    (r"RTX 3070", 469),
    (r"RTX 3060 Ti", 379),
    (r"RTX 3060", 289),
    (r"RTX 3050", 219),
    (r"RX 9070 XT", 679),
    (r"RX 9070", 599),
    (r"RX 9060 XT.*16", 379),
    (r"RX 9060 XT", 319),
    (r"RX 7900 XTX", 949),
    (r"RX 7900 XT\b", 749),
    (r"RX 7900 GRE", 569),
    (r"RX 7800 XT", 499),
    (r"RX 7700 XT", 419),
    (r"RX 7600 XT", 329),
    (r"RX 7600", 269),
    (r"RX 6950 XT", 649),
    (r"RX 6900 XT", 599),
    (r"RX 6800 XT", 529),
    (r"RX 6800", 459),
    (r"RX 6750 XT", 379),
    (r"RX 6700 XT", 349),
    (r"RX 6650 XT", 279),
    (r"RX 6600 XT", 259),
    (r"RX 6600", 219),
    (r"Arc B580", 279),
    (r"Arc B570", 229),
    (r"Arc A770", 299),
    (r"Arc A750", 229),
    (r"Arc A580", 189),
]
_GPU_PATTERNS = [(re.compile(pat, re.IGNORECASE), price) for pat, price in GPU_TIERS]


def gpu_tier_price(chipset: str | None) -> int | None:
    for pattern, price in _GPU_PATTERNS:
        if chipset and pattern.search(chipset):
            return price
    return None


def _gpus(parts: list[P]) -> list[P]:
    complete = lambda p: _known(p, "length_mm", "board_power_w", "chipset") == 3
    tiered = lambda p: complete(p) and gpu_tier_price(p.specs.get("chipset")) is not None
    chip = lambda p: str(p.specs.get("chipset"))
    return _select(
        parts,
        [
            Group(lambda p: tiered(p) and _num(p, "length_mm") >= 330, 45, chip),  # too long for compact cases
            Group(lambda p: tiered(p) and _num(p, "length_mm") <= 210, 20, chip),  # short cards for small cases
            Group(lambda p: tiered(p) and re.search(r"RTX 50|RX 90", chip(p)) is not None, 90, chip),
            Group(lambda p: tiered(p) and re.search(r"RTX 40|RX 7|Arc", chip(p)) is not None, 90, chip),
            Group(lambda p: tiered(p), 75, chip),
        ],
        fill=tiered,
        rank=lambda p: (-p.year,),
    )


def _storage(parts: list[P]) -> list[P]:
    complete = lambda p: _known(p, "bus", "capacity_gb", "kind", "form_factor") == 4
    size = lambda p: str(p.specs.get("capacity_gb"))
    return _select(
        parts,
        [
            Group(
                lambda p: (
                    complete(p)
                    and p.specs["bus"] == "m2"
                    and p.specs.get("nvme") is True
                    and 250 <= _num(p, "capacity_gb") <= 8000
                ),
                170,
                size,
            ),
            Group(
                lambda p: (
                    complete(p)
                    and p.specs["bus"] == "sata"
                    and p.specs["kind"] == "SSD"
                    and p.specs["form_factor"] == '2.5"'
                    and 240 <= _num(p, "capacity_gb") <= 8000
                ),
                75,
                size,
            ),
            Group(
                lambda p: (
                    complete(p)
                    and p.specs["bus"] == "sata"
                    and p.specs["kind"] == "HDD"
                    and p.specs["form_factor"] == '3.5"'
                    and 1000 <= _num(p, "capacity_gb") <= 24000
                ),
                60,
                size,
            ),
        ],
        fill=lambda p: complete(p) and p.specs["bus"] in ("m2", "sata"),
        rank=lambda p: (-p.year,),
    )


def _psus(parts: list[P]) -> list[P]:
    complete = lambda p: _known(p, "wattage_w", "form_factor", "efficiency", "modular") == 4
    watts = lambda p: str(int(_num(p, "wattage_w")) // 100 * 100)
    in_range = lambda p: 300 <= _num(p, "wattage_w") <= 1600
    return _select(
        parts,
        [
            Group(lambda p: complete(p) and p.specs["form_factor"] == "SFX" and in_range(p), 45, watts),
            Group(lambda p: complete(p) and p.specs["form_factor"] == "SFX-L" and in_range(p), 15, watts),
            Group(
                lambda p: (
                    complete(p) and p.specs["form_factor"] == "ATX" and in_range(p) and _num(p, "wattage_w") <= 550
                ),
                50,
                watts,
            ),  # small ones: the wattage rule can block
            Group(lambda p: complete(p) and p.specs["form_factor"] == "ATX" and in_range(p), 210, watts),
        ],
        fill=lambda p: complete(p) and in_range(p),
        rank=lambda p: (-p.year,),
    )


def _cases(parts: list[P]) -> list[P]:
    has_gpu = lambda p: p.specs.get("max_gpu_length_mm") is not None and bool(p.specs.get("board_form_factors"))
    kind = lambda p: str(p.specs.get("type"))
    itx_only = lambda p: set(p.specs.get("board_form_factors") or []) <= {"Mini-ITX", "Mini-DTX", "Mini DTX"}
    psu_known = lambda p: bool(p.specs.get("psu_form_factors"))
    return _select(
        parts,
        [
            Group(lambda p: has_gpu(p) and psu_known(p) and "ATX" not in p.specs["psu_form_factors"], 12, kind),
            Group(lambda p: has_gpu(p) and psu_known(p), 40, kind),
            Group(
                lambda p: has_gpu(p) and itx_only(p) and _num(p, "max_gpu_length_mm") < 330,
                40,
                kind,
                rank=lambda p: (p.specs.get("max_cooler_height_mm") is None,),
            ),
            Group(
                lambda p: (
                    has_gpu(p)
                    and p.specs.get("max_cooler_height_mm") is not None
                    and _num(p, "max_cooler_height_mm") < 160
                ),
                50,
                kind,
            ),
            Group(lambda p: has_gpu(p) and p.specs.get("max_cooler_height_mm") is not None, 110, kind),
            Group(
                lambda p: (
                    has_gpu(p)
                    and p.specs.get("type")
                    in ("Micro ATX Mini Tower", "ATX Full Tower", "EATX Full Tower", "EATX Mid Tower")
                ),
                30,
                kind,
            ),
        ],
        fill=has_gpu,
        rank=lambda p: (p.specs.get("max_cooler_height_mm") is None, -p.year),
    )


def _coolers(parts: list[P]) -> list[P]:
    modern = lambda p: bool({"AM5", "LGA 1700", "LGA 1851"} & set(p.specs.get("sockets") or []))
    air = lambda p: modern(p) and p.specs.get("water_cooled") is False and p.specs.get("height_mm") is not None
    aio = lambda p: modern(p) and p.specs.get("water_cooled") is True and p.specs.get("radiator_mm") is not None
    height = lambda p: str(int(_num(p, "height_mm")) // 20 * 20)
    return _select(
        parts,
        [
            Group(lambda p: air(p) and _num(p, "height_mm") >= 160, 50, height),
            Group(lambda p: air(p) and _num(p, "height_mm") <= 75, 35, height),
            Group(lambda p: air(p) and "AM4" in (p.specs.get("sockets") or []), 110, height),
            Group(aio, 110, lambda p: str(p.specs.get("radiator_mm"))),
        ],
        fill=lambda p: air(p) or aio(p),
        rank=lambda p: (-p.year,),
    )


SELECTORS: dict[str, Callable[[list[P]], list[P]]] = {
    "cpu": _cpus,
    "motherboard": _boards,
    "ram": _ram,
    "gpu": _gpus,
    "storage": _storage,
    "psu": _psus,
    "case": _cases,
    "cooler": _coolers,
}


# --- prices -----------------------------------------------------------------------------------


def _money(value: float, rng: random.Random) -> Decimal:
    """Jitter ±6 % and a shop-like ending (.90 / .99 / .00 over 500)."""
    v = max(4.0, value * rng.uniform(0.94, 1.06))
    if v >= 500:
        return Decimal(round(v / 10.0) * 10 - 1) + Decimal("0.00")
    return Decimal(int(v)) + Decimal(rng.choice(("0.90", "0.99", "0.49", "0.99")))


_BOARD_CHIPSETS = [  # (chipset pattern, price) for an ATX board
    (r"X870E", 429),
    (r"X870", 309),
    (r"X670E", 379),
    (r"X670", 289),
    (r"B850", 209),
    (r"B650E", 239),
    (r"B650", 179),
    (r"A620", 109),
    (r"Z890", 339),
    (r"B860", 189),
    (r"H810", 109),
    (r"Z790", 279),
    (r"B760", 159),
    (r"H770", 169),
    (r"H610", 99),
    (r"Z690", 229),
    (r"B660", 139),
    (r"H670", 159),
    (r"X570", 219),
    (r"B550", 139),
    (r"A520", 89),
    (r"X470", 129),
    (r"B450", 89),
    (r"Z590", 189),
    (r"B560", 119),
    (r"H570", 129),
    (r"H510", 79),
    (r"Z490", 169),
    (r"B460", 99),
    (r"H410", 75),
]
_BOARD_PATTERNS = [(re.compile(pat), price) for pat, price in _BOARD_CHIPSETS]
# Factor tables below are looked up with a spec value that may be missing (None).
_CPU_PLATFORM: dict[str | None, float] = {
    "AM5": 1.0,
    "LGA 1851": 1.0,
    "LGA 1700": 0.85,
    "AM4": 0.62,
    "LGA 1200": 0.55,
    "LGA 1151": 0.45,
}
_EFFICIENCY: dict[str | None, float] = {
    "80+ Titanium": 1.75,
    "80+ Platinum": 1.4,
    "80+ Gold": 1.18,
    "80+ Silver": 1.06,
    "80+ Bronze": 1.0,
}
_BOARD_SIZE: dict[str | None, float] = {"Mini-ITX": 1.22, "Micro ATX": 0.86, "EATX": 1.35}
_PSU_SIZE: dict[str | None, float] = {"SFX": 1.3, "SFX-L": 1.35}


def _cpu_price(s: dict) -> float:
    cores, boost = s.get("cores") or 4, s.get("boost_ghz") or 4.0
    value = 35 + 17 * cores * _CPU_PLATFORM.get(s.get("socket"), 0.5) + 70 * max(0.0, boost - 3.6)
    return value * (0.93 if s.get("has_igpu") is False else 1.0)


def _board_price(s: dict) -> float:
    chipset = s.get("chipset") or ""
    base = next((price for pattern, price in _BOARD_PATTERNS if pattern.search(chipset)), 120)
    factor = _BOARD_SIZE.get(s.get("form_factor"), 1.0)
    return base * factor + 4 * max(0, (s.get("m2_slots") or 0) - 2)


def _ram_price(s: dict) -> float:
    total = s.get("total_gb") or 16
    speed = s.get("speed_mts") or 3200
    if s.get("memory_type") == "DDR5":
        per_gb = 3.1 + 0.00045 * max(0, speed - 4800)
    else:
        per_gb = 2.2 + 0.0004 * max(0, speed - 2666)
    return 12 + total * per_gb + 3 * ((s.get("modules") or 1) - 1)


def _gpu_price(s: dict) -> float:
    tier = gpu_tier_price(s.get("chipset"))
    power = s.get("board_power_w") or 150
    if tier is None:
        return 60 + power * 1.4 + (s.get("memory_gb") or 4) * 12
    return tier * (1 + 0.0012 * max(0, (s.get("length_mm") or 280) - 280))  # big coolers cost a bit more


def _storage_price(s: dict) -> float:
    cap = s.get("capacity_gb") or 500
    if s.get("kind") == "HDD":
        return 42 + cap * 0.0135
    iface = (s.get("interface") or "").lower()
    gen = 1.45 if "5.0" in iface else 1.1 if "4.0" in iface else 1.0
    return (22 + cap * 0.068) * gen if s.get("bus") == "m2" else 18 + cap * 0.066


def _psu_price(s: dict) -> float:
    watts = s.get("wattage_w") or 550
    eff = _EFFICIENCY.get(s.get("efficiency"), 0.92)
    modular = {"Full": 1.15, "Semi": 1.07}.get(str(s.get("modular") or "").split(" ")[0].split("-")[0], 1.0)
    size = _PSU_SIZE.get(s.get("form_factor"), 1.0)
    return (30 + watts * 0.085) * eff * modular * size


def _case_price(s: dict) -> float:
    kind = s.get("type") or ""
    base = 55 + 0.12 * (s.get("max_gpu_length_mm") or 300)
    if "Full Tower" in kind:
        base += 60
    elif "Mini ITX" in kind:
        base += 25
    return base + (30 if s.get("includes_psu") else 0)


def _cooler_price(s: dict) -> float:
    if s.get("water_cooled"):
        return 55 + 0.38 * (s.get("radiator_mm") or 240)
    return 18 + 0.32 * (s.get("height_mm") or 150)


PRICERS: dict[str, Callable[[dict], float]] = {
    "cpu": _cpu_price,
    "motherboard": _board_price,
    "ram": _ram_price,
    "gpu": _gpu_price,
    "storage": _storage_price,
    "psu": _psu_price,
    "case": _case_price,
    "cooler": _cooler_price,
}


def demo_price(slot: str, part_id: str, specs: dict) -> Decimal:
    return _money(PRICERS[slot](specs), _rng(part_id, "price"))


def demo_stock(part_id: str) -> int:
    rng = _rng(part_id, "stock")
    roll = rng.random()
    return 0 if roll < 0.06 else rng.randint(1, 4) if roll < 0.4 else rng.randint(5, 40)


# --- loading ----------------------------------------------------------------------------------


def _parts(session: Session) -> dict[str, list[P]]:
    year = CatalogPart.raw["metadata"]["releaseYear"].astext
    out: dict[str, list[P]] = {slot: [] for slot in SLOTS}
    for pid, slot, name, specs, y in session.execute(
        select(col(CatalogPart.id), col(CatalogPart.slot), col(CatalogPart.name), col(CatalogPart.specs), year)
    ):
        try:
            release = int(y) if y and 1990 < int(y) < 2100 else 0
        except ValueError:
            release = 0
        out.setdefault(slot, []).append(P(str(pid), slot, name, specs or {}, release))
    return out


def demo_selection(session: Session) -> dict[str, list[P]]:
    """The parts of the demo price list, per slot."""
    parts = _parts(session)
    return {slot: SELECTORS[slot](parts.get(slot, [])) for slot in SLOTS}


def load_demo_prices(session: Session) -> tuple[int, int, int]:
    """Give the session's tenant the demo price list (a few hundred parts per
    slot, labelled demo); idempotent. Offers the shop already has from a real
    price list (not demo) are left as they are. Returns (created, updated,
    unchanged). Also a staff action on the catalog page."""
    currency = shop_currency(session)
    own = set(session.execute(select(col(PartOffer.part_id)).where(col(PartOffer.is_demo).is_(False))).scalars())
    items = [
        OfferInput(uuid.UUID(p.id), demo_price(slot, p.id, p.specs), demo_stock(p.id), currency, True, True)
        for slot, chosen in demo_selection(session).items()
        for p in chosen
        if uuid.UUID(p.id) not in own
    ]
    return upsert_offers(session, items, reason="demo prices")


def ensure_catalog_and_demo_prices(tenant_id: uuid.UUID | str) -> tuple[int, int, int]:
    """Import the catalog if it is empty, then give the tenant the demo price list.
    Waits for an import another process is running, so the demo prices never
    come from a half-imported catalog."""
    if catalog_empty():
        importer.import_catalog(started_by="demo")
    deadline = time.monotonic() + 300
    while importer.import_running() and time.monotonic() < deadline:
        time.sleep(0.5)
    with tenant_session(tenant_id) as s:
        counts = load_demo_prices(s)
        s.commit()
    return counts


def load(session: Session) -> None:
    """Demo loader (`app.demo`): the catalog if it is empty, then demo prices."""
    if catalog_empty():
        importer.import_catalog(started_by="demo")
    load_demo_prices(session)
    session.commit()
