"""An in-memory, per-process copy of what the builder reads on every click.

- The global catalog (every part's id, slot, name, manufacturer and specs as a
  `rules.Part`, grouped by slot, with its search text and a short summary) is
  loaded once through `platform_session()` and reloaded when
  `versions.catalog_version()` changes.
- Each tenant's offers (part id → price, currency, available, active) are
  loaded per slot through the caller's tenant session and reloaded when
  `versions.offers_version(tenant)` changes. Available is the units on hand
  less those reserved for builds (`catalog.reserved_units`; below zero: on
  back-order), and a reservation bumps the offers version. Only a few tenants stay cached
  (least recently used first out).

Each request pays one Redis GET per version. Snapshots are immutable once
built; loading happens under a lock (Reflex handlers run in threads), readers
never wait for a snapshot that is already current.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import String, cast, select
from sqlmodel import Session, col

from app.builder import rules
from app.catalog import normalize, versions
from app.catalog.models import CatalogPart, PartOffer
from app.catalog.service import reserved_units
from app.catalog.slots import SLOTS
from app.platform.db import platform_session, session_tenant_id

MAX_TENANTS = 64  # tenants whose offers stay cached in one process


# --- catalog -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CatalogEntry:
    """One catalog part as the picker sees it."""

    part: rules.Part
    manufacturer: str
    search: str  # lower-case "name manufacturer", for substring search
    summary: str  # key specs, short ("AM5 · 8C/16T · 5.4 GHz · 120 W")
    identity: str = ""  # the same product listed under several ids shares it (`normalize.identity`)

    @property
    def id(self) -> str:
        return self.part.id

    @property
    def name(self) -> str:
        return self.part.name


class _Derived:
    """Values computed once per immutable snapshot, thread-safely."""

    memo: dict
    _memo_lock: threading.RLock

    def derived(self, key: Any, build: Callable[[], Any]) -> Any:
        """The value for `key`, built on first use (e.g. a slot's filter values)."""
        try:
            return self.memo[key]
        except KeyError:
            pass
        with self._memo_lock:
            if key not in self.memo:
                self.memo[key] = build()
            return self.memo[key]


@dataclass(eq=False)
class CatalogSnapshot(_Derived):
    version: Any
    by_id: dict[str, CatalogEntry]
    by_slot: dict[str, tuple[CatalogEntry, ...]]  # each slot's parts, by name
    position: dict[str, int]  # part id → its index in `by_slot[its slot]`
    loaded_at: float
    load_seconds: float
    memo: dict = field(default_factory=dict)  # derived per-slot data (see `derived`)
    _memo_lock: threading.RLock = field(default_factory=threading.RLock)

    def get(self, part_id: str, slot: str | None = None) -> CatalogEntry | None:
        entry = self.by_id.get(part_id)
        if entry is None or (slot is not None and entry.part.slot != slot):
            return None
        return entry


def _fmt_num(value: float) -> str:
    return f"{value:g}"


def _capacity(gb: int | None) -> str | None:
    if not gb:
        return None
    return f"{_fmt_num(round(gb / 1000, 1))} TB" if gb >= 1000 else f"{gb} GB"


def summary(slot: str, s: dict) -> str:
    """The few specs a shopper compares, joined with " · " (unknown ones left out)."""
    g = s.get
    bits: list[str | None]
    if slot == "cpu":
        cores = f"{g('cores')}C/{g('threads') or g('cores')}T" if g("cores") else None
        bits = [
            g("socket"),
            cores,
            f"{_fmt_num(boost)} GHz" if (boost := g("boost_ghz")) else None,
            f"{g('tdp_w')} W" if g("tdp_w") else None,
            "iGPU" if g("has_igpu") else None,
            "cooler included" if g("includes_cooler") else None,
        ]
    elif slot == "motherboard":
        bits = [
            g("socket"),
            g("form_factor"),
            g("memory_type"),
            f"{g('memory_slots')} DIMM" if g("memory_slots") else None,
            f"{g('m2_slots')}× M.2" if g("m2_slots") else None,
            f"{g('sata_ports')}× SATA" if g("sata_ports") else None,
        ]
    elif slot == "ram":
        speed = f"{g('memory_type')}-{g('speed_mts')}" if g("memory_type") and g("speed_mts") else g("memory_type")
        kit = (
            f"{g('modules')}×{g('module_gb')} GB"
            if g("modules") and g("module_gb")
            else (f"{g('total_gb')} GB" if g("total_gb") else None)
        )
        bits = [speed, kit, f"CL{g('cas_latency')}" if g("cas_latency") else None]
    elif slot == "gpu":
        bits = [
            g("chipset"),
            f"{g('memory_gb')} GB" if g("memory_gb") else None,
            f"{g('length_mm')} mm" if g("length_mm") else None,
            f"{g('board_power_w')} W" if g("board_power_w") else None,
        ]
    elif slot == "storage":
        bus = "NVMe" if g("nvme") else g("interface")
        bits = [_capacity(g("capacity_gb")), g("form_factor"), bus, g("kind")]
    elif slot == "psu":
        modular = g("modular")
        bits = [
            f"{g('wattage_w')} W" if g("wattage_w") else None,
            g("form_factor"),
            g("efficiency"),
            f"{modular} modular" if modular in ("Full", "Semi") else modular,
        ]
    elif slot == "case":
        bits = [
            g("type"),
            f"GPU ≤ {g('max_gpu_length_mm')} mm" if g("max_gpu_length_mm") else None,
            f"cooler ≤ {g('max_cooler_height_mm')} mm" if g("max_cooler_height_mm") else None,
            "PSU included" if g("includes_psu") else None,
        ]
    elif slot == "cooler":
        if g("water_cooled") is True:
            kind = f"Liquid {g('radiator_mm')} mm" if g("radiator_mm") else "Liquid"
        elif g("water_cooled") is False:
            kind = "Air"
        else:
            kind = None
        bits = [
            kind,
            f"{g('height_mm')} mm tall" if g("height_mm") else None,
            f"{len(sockets)} sockets" if (sockets := g("sockets")) else None,
        ]
    else:
        bits = []
    return " · ".join(str(b) for b in bits if b not in (None, ""))


def _load_catalog(version: Any) -> CatalogSnapshot:
    t0 = time.perf_counter()
    by_id: dict[str, CatalogEntry] = {}
    grouped: dict[str, list[CatalogEntry]] = {slot: [] for slot in SLOTS}
    with platform_session() as ps:
        rows = ps.execute(
            select(
                col(CatalogPart.id),
                col(CatalogPart.slot),
                col(CatalogPart.name),
                col(CatalogPart.manufacturer),
                col(CatalogPart.specs),
            )
        ).all()
    for pid, slot, name, manufacturer, specs in rows:
        if slot not in grouped:
            continue
        specs = specs or {}
        part = rules.Part(id=str(pid), slot=slot, name=name, specs=specs)
        entry = CatalogEntry(
            part=part,
            manufacturer=manufacturer or "",
            search=f"{name} {manufacturer or ''}".lower(),
            summary=summary(slot, specs),
            identity=normalize.identity(name, manufacturer or ""),
        )
        by_id[part.id] = entry
        grouped[slot].append(entry)
    by_slot = {
        slot: tuple(sorted(entries, key=lambda e: (e.part.name.lower(), e.part.id)))
        for slot, entries in grouped.items()
    }
    position = {e.part.id: i for entries in by_slot.values() for i, e in enumerate(entries)}
    return CatalogSnapshot(
        version=version,
        by_id=by_id,
        by_slot=by_slot,
        position=position,
        loaded_at=time.time(),
        load_seconds=time.perf_counter() - t0,
    )


_catalog: CatalogSnapshot | None = None
_catalog_lock = threading.Lock()
_on_load: list[Callable[[CatalogSnapshot], None]] = []


def on_load(fn: Callable[[CatalogSnapshot], None]) -> Callable[[CatalogSnapshot], None]:
    """Register `fn(snapshot)` to run on every freshly loaded snapshot before
    it is served (to precompute derived data; see `CatalogSnapshot.derived`)."""
    if fn not in _on_load:
        _on_load.append(fn)
    return fn


def catalog() -> CatalogSnapshot:
    """The current catalog snapshot, reloaded when the catalog version changed.
    While one thread reloads, the others keep getting the previous snapshot
    (the first load, with nothing to serve yet, makes them wait)."""
    global _catalog
    version = versions.catalog_version()
    snap = _catalog
    if snap is not None and snap.version == version:
        return snap
    if not _catalog_lock.acquire(blocking=snap is None):
        return snap  # type: ignore[return-value]  # being reloaded by another thread
    try:
        snap = _catalog
        if snap is None or snap.version != version:
            snap = _load_catalog(version)
            t0 = time.perf_counter()
            for fn in _on_load:
                fn(snap)
            snap.load_seconds += time.perf_counter() - t0
            _catalog = snap
        return snap
    finally:
        _catalog_lock.release()


# --- offers --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Offer:
    price: Decimal
    currency: str
    stock: int  # available: on hand - reserved for builds (negative: on back-order)
    active: bool


@dataclass(eq=False)
class SlotOffers(_Derived):
    """One tenant's offers on one slot's parts."""

    slot: str
    offers: dict[str, Offer]  # part id → offer (inactive ones too)
    sold: tuple[CatalogEntry, ...]  # parts with an active offer, cheapest first (then by name), one per product
    memo: dict = field(default_factory=dict)
    _memo_lock: threading.RLock = field(default_factory=threading.RLock)

    def offer(self, part_id: str) -> Offer | None:
        return self.offers.get(part_id)

    def sells(self, part_id: str) -> bool:
        o = self.offers.get(part_id)
        return o is not None and o.active


class TenantOffers:
    """A tenant's offers at one offers version over one catalog snapshot;
    slots load on first use."""

    def __init__(self, tenant_id: uuid.UUID, version: Any, cat: CatalogSnapshot):
        self.tenant_id = tenant_id
        self.version = version
        self.catalog = cat
        self._slots: dict[str, SlotOffers] = {}
        self._lock = threading.Lock()

    def slot(self, session: Session, slot: str) -> SlotOffers:
        got = self._slots.get(slot)
        if got is not None:
            return got
        with self._lock:
            got = self._slots.get(slot)
            if got is None:
                got = self._load(session, slot)
                self._slots[slot] = got
            return got

    def _load(self, session: Session, slot: str) -> SlotOffers:
        if session_tenant_id(session) != self.tenant_id:
            raise RuntimeError("offers must load through their own tenant's session")
        rows = session.execute(
            select(
                cast(PartOffer.part_id, String),
                col(PartOffer.price),
                col(PartOffer.currency),
                col(PartOffer.stock),
                col(PartOffer.active),
            ).where(col(PartOffer.slot) == slot)
        ).all()
        reserved = reserved_units(session, slot)
        offers: dict[str, Offer] = {}
        sold: list[tuple[Decimal, str, str, CatalogEntry]] = []
        get = self.catalog.get
        for pid, price, currency, stock, active in rows:
            offers[pid] = Offer(price, currency, (stock or 0) - reserved.get(pid, 0), active)
            if active:
                entry = get(pid, slot)
                if entry is not None:
                    sold.append((price, entry.part.name.lower(), pid, entry))
        sold.sort(key=lambda t: t[:3])
        return SlotOffers(slot=slot, offers=offers, sold=_one_per_product(t[3] for t in sold))


def _one_per_product(sold: Iterable[CatalogEntry]) -> tuple[CatalogEntry, ...]:
    """The sold parts with each product once: the upstream catalog lists some
    products under several ids (`normalize.identity`), and a shopper should
    see one of them, the cheapest the shop sells (`sold` comes cheapest
    first). This is the one place the picker, its sorting and the suggested
    fixes get their parts from, so none of them shows a product twice. Every
    offer stays priced: a build holding a pricier twin keeps its price."""
    seen: set[str] = set()
    out: list[CatalogEntry] = []
    for entry in sold:
        key = entry.identity or entry.part.id
        if key in seen:
            continue
        seen.add(key)
        out.append(entry)
    return tuple(out)


_offers: OrderedDict[uuid.UUID, TenantOffers] = OrderedDict()
_offers_lock = threading.Lock()


def tenant_offers(session: Session, cat: CatalogSnapshot | None = None) -> TenantOffers:
    """The session tenant's offers, current as of its offers version (and the
    catalog snapshot `cat`, default the current one)."""
    cat = cat or catalog()
    tid = session_tenant_id(session)
    version = versions.offers_version(tid)
    with _offers_lock:
        got = _offers.get(tid)
        if got is not None and got.version == version and got.catalog is cat:
            _offers.move_to_end(tid)
            return got
        got = TenantOffers(tid, version, cat)
        _offers[tid] = got
        _offers.move_to_end(tid)
        while len(_offers) > MAX_TENANTS:
            _offers.popitem(last=False)
        return got


def clear() -> None:
    """Forget every cached snapshot (tests, or after a process fork)."""
    global _catalog
    with _catalog_lock:
        _catalog = None
    with _offers_lock:
        _offers.clear()
