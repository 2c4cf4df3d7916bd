"""The builder's reads: a build with its verdicts, prices and suggestions
(`evaluate_build`), and the part picker of one slot (`pick_list`).

Both take the caller's tenant session: the tenant's offers decide prices and
what is for sale. Catalog specs and offers come from the in-memory index
(`app.catalog.index`), so a call costs two Redis GETs (version stamps) and no
database round trip once the caches are warm.

Compatibility of a candidate part is judged by the rules that read its slot
(`rules.rules_for_slot`) with the candidate in place. Rules never name parts
and read only spec values, so parts that agree on what a rule reads get the
same verdicts: each rule runs once per distinct combination of the values it
reads (a finer grouping than `rules.compat_key`, see `_rule_table`), and numpy
masks over the slot's parts do the rest. That keeps a slot change well under
the 20 ms target over a shop that sells the whole catalog (`bench/builder.py`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np
from sqlmodel import Session

from app.builder import index as catalog_index
from app.builder import rules, slotmap
from app.builder.index import CatalogEntry, CatalogSnapshot, SlotOffers, TenantOffers
from app.builder.slotmap import MULTI_SLOTS, SLOTS
from app.catalog.service import availability_words, parts_low_threshold
from app.platform.errors import ValidationFailed

MAX_SUGGESTIONS = 3
MAX_PAGE_SIZE = 100
SORTS: tuple[str, ...] = ("price_asc", "price_desc", "name")

#: Picker filters per slot: (key, title). A key is a normalised spec key
#: (`app.catalog.normalize.SPEC_KEYS`) or "manufacturer".
FILTERS: dict[str, list[tuple[str, str]]] = {
    "cpu": [("socket", "Socket"), ("manufacturer", "Manufacturer")],
    "motherboard": [("socket", "Socket"), ("form_factor", "Form factor"), ("memory_type", "Memory type")],
    "ram": [("memory_type", "Memory type"), ("modules", "Modules")],
    "gpu": [("chipset_maker", "Chipset maker"), ("chipset", "Chipset")],
    "storage": [("bus", "Connection"), ("kind", "Type")],
    "psu": [("form_factor", "Form factor"), ("efficiency", "Efficiency")],
    "case": [("board_form_factors", "Motherboard size"), ("type", "Type")],
    "cooler": [("water_cooled", "Cooling")],
}

# How some filter values read (the label is also the value a filter takes).
_VALUE_LABELS: dict[str, dict[Any, str]] = {
    "bus": {"m2": "M.2", "sata": "SATA", "other": "Other"},
    "water_cooled": {True: "Liquid", False: "Air"},
}


# --- views ---------------------------------------------------------------------------------


@dataclass
class PricedPart:
    """A chosen part with the shop's offer. `price` is None when the shop does
    not sell it now (`available` False: no offer, or an inactive one)."""

    part: rules.Part
    price: Decimal | None
    currency: str
    stock: int  # units available: on hand - reserved for builds (negative: on back-order)
    available: bool
    availability: str = ""  # "In stock" | "2 left" | "Back-order" ("" when not sold)


@dataclass
class Suggestion:
    """A sold part that resolves a block or a warning. `slots` is the whole build with it
    applied (canonical slot map): the page sets it as the new build. `index` is
    the replaced position in a multi slot (None: a single slot, or every entry
    of a multi slot replaced by this part)."""

    slot: str
    index: int | None
    part_id: str
    name: str
    price: Decimal
    currency: str
    slots: dict


@dataclass
class VerdictView:
    rule: str
    severity: str
    slots: tuple[str, ...]
    message: str
    suggestions: list[Suggestion] = field(default_factory=list)  # only for blocks and warnings


@dataclass
class BuildView:
    slots: dict  # canonical slot map; ids not in the catalog (or in the wrong slot) dropped
    parts: dict[str, list[PricedPart]]  # every slot (SLOTS order), [] when empty
    verdicts: list[VerdictView]
    overall: str  # pass | info | warn | block
    state: str  # Empty | Partial | Complete
    draw_w: int
    draw_parts: list[tuple[str, int]]
    total: Decimal  # sum of the available parts' prices
    currency: str
    unavailable: list[str]  # names of chosen parts the shop does not sell now
    not_checked: list[str]  # messages of the info verdicts that say data is missing
    slot_severity: dict[str, str]  # every slot: worst severity concerning it; "pass" if none; "" when empty


@dataclass
class PickItem:
    part_id: str
    name: str
    manufacturer: str
    price: Decimal
    currency: str
    stock: int  # units available: on hand - reserved for builds (negative: on back-order)
    summary: str
    compatible: bool  # no block caused by this part
    severity: str  # worst verdict this part causes (pass | info | warn | block)
    reasons: list[str]  # messages of the warn/block verdicts this part causes
    availability: str = ""  # "In stock" | "2 left" | "Back-order"


@dataclass
class PickPage:
    items: list[PickItem]
    total: int  # parts matching (after search, filters and compatible_only)
    page: int
    page_size: int
    facets: dict[str, list[tuple[str, int]]]  # filter key → (value, count), values in natural order
    filter_titles: dict[str, str]
    hidden_incompatible: int  # parts matching search and filters hidden by compatible_only


# --- helpers -----------------------------------------------------------------------------


Selection = dict[str, tuple[rules.Part, ...]]
_VKey = tuple[str, str, tuple[str, ...], str]
_NO_VERDICTS: tuple[rules.Verdict, ...] = ()


def _vkey(v: rules.Verdict) -> _VKey:
    return (v.rule, v.severity, v.slots, v.message)


def _selection(cat: CatalogSnapshot, slots: Mapping | None) -> tuple[dict[str, list[str]], Selection]:
    """Canonical slot map (unknown ids dropped) and the rules' selection."""
    clean: dict[str, list[str]] = {}
    sel: Selection = {}
    for slot, ids in slotmap.normalise(slots).items():
        parts = [e.part for e in (cat.get(i, slot) for i in ids) if e is not None]
        if parts:
            clean[slot] = [p.id for p in parts]
            sel[slot] = tuple(parts)
    return clean, sel


def _slot_map(clean: Mapping[str, list[str]], slot: str, ids: list[str]) -> dict[str, list[str]]:
    out = {s: list(v) for s, v in clean.items()}
    out[slot] = ids
    return slotmap.normalise(out)


def _run(rule: rules.Rule, sel: Selection) -> list[rules.Verdict]:
    """One rule's verdicts (none when a slot it needs is empty), as `rules.evaluate` runs it."""
    for slot in rule.needs:
        if not sel.get(slot):
            return []
    return rule.check(sel)


def _freeze(value: Any) -> Any:
    return tuple(value) if isinstance(value, list | tuple) else value


# --- candidates: one rule over every part of a slot ----------------------------------------
#
# A rule's verdicts for a candidate depend only on the spec values the rule
# reads from it. `_rule_table` runs the rule once per distinct combination of
# those values: the candidate's specs are wrapped in `_Recorder`, which notes
# every key read; parts that agree on all keys a run read take the same path
# through the rule and get the same verdicts. The keys a rule reads per slot
# are learnt (`_READS`) and re-checked on every run, so a rule that starts
# reading more is picked up, never served a stale grouping.


class _Recorder(Mapping):
    __slots__ = ("_specs", "read")

    def __init__(self, specs: Mapping[str, Any]):
        self._specs = specs
        self.read: set[str] = set()

    def __getitem__(self, key: str) -> Any:
        self.read.add(key)
        return self._specs[key]

    def get(self, key: str, default: Any = None) -> Any:
        self.read.add(key)
        return self._specs.get(key, default)

    def __contains__(self, key: object) -> bool:
        self.read.add(key)  # type: ignore[arg-type]
        return key in self._specs

    def __iter__(self):
        self.read.update(self._specs)
        return iter(self._specs)

    def __len__(self) -> int:
        self.read.update(self._specs)
        return len(self._specs)


_READS: dict[tuple[str, str], frozenset[str]] = {}  # (rule, slot) → spec keys it reads from a candidate


def _key_codes(cat: CatalogSnapshot, slot: str, key: str) -> np.ndarray:
    """A small int per part of `slot` (catalog order) for its value of spec
    `key`: equal codes, equal values (and types). Cached per snapshot."""

    def build() -> np.ndarray:
        entries = cat.by_slot.get(slot, ())
        out = np.empty(len(entries), dtype=np.int32)
        codes: dict[tuple[type, Any], int] = {}
        for i, entry in enumerate(entries):
            value = _freeze(entry.part.specs.get(key))
            try:
                out[i] = codes.setdefault((type(value), value), len(codes))
            except TypeError:  # an unhashable value (a dict): grouped by its text
                out[i] = codes.setdefault((type(value), repr(value)), len(codes))
        return out

    return cat.derived(("codes", slot, key), build)


def _projection(cat: CatalogSnapshot, slot: str, keys: tuple[str, ...]) -> tuple[np.ndarray, list[int]]:
    """Group the slot's parts by their values of `keys`: (group id per part in
    catalog order, the position of one part per group). Cached per snapshot."""

    def build() -> tuple[np.ndarray, list[int]]:
        n = len(cat.by_slot.get(slot, ()))
        if not keys or not n:
            return np.zeros(n, dtype=np.int32), [0] if n else []
        if len(keys) == 1:
            codes = _key_codes(cat, slot, keys[0])
            _, first, inverse = np.unique(codes, return_index=True, return_inverse=True)
        else:
            codes = np.stack([_key_codes(cat, slot, k) for k in keys], axis=1)
            _, first, inverse = np.unique(codes, axis=0, return_index=True, return_inverse=True)
        return inverse.reshape(-1).astype(np.int32), first.tolist()

    return cat.derived(("projection", slot, keys), build)


def _rule_table(
    cat: CatalogSnapshot, slot: str, rule: rules.Rule, fn: Callable[[rules.Part], Any]
) -> tuple[np.ndarray, list[Any]]:
    """`fn(part)` for every part of `slot`, as (result index per part in
    catalog order, results). `fn` runs once per group of parts that agree on
    the spec keys `rule` reads."""
    learnt = (rule.name, slot)
    keys = _READS.get(learnt, frozenset())
    entries = cat.by_slot.get(slot, ())
    while True:
        ids, reps = _projection(cat, slot, tuple(sorted(keys)))
        results: list[Any] = []
        for pos in reps:
            part = entries[pos].part
            recorder = _Recorder(part.specs)
            result = fn(rules.Part(part.id, part.slot, part.name, recorder))
            if not recorder.read <= keys:
                keys = keys | recorder.read
                break
            results.append(result)
        else:
            if keys != _READS.get(learnt):
                _READS[learnt] = keys | _READS.get(learnt, frozenset())
            return ids, results


def _any_block(results: list[tuple[rules.Verdict, ...]]) -> np.ndarray:
    return np.fromiter((any(v.severity == "block" for v in r) for r in results), dtype=bool, count=len(results))


class _Judge:
    """What each part of `slot` would cause in the build `sel` (placed at
    `index` of a multi slot, None: added), per rule touching the slot.

    Single slots: the rule's verdicts with the candidate in place. Multi slots
    that keep other entries: what changes against the build without the
    candidate, plus what the candidate alone would block or warn about (so a kit
    already wrong in the build does not mark every other kit incompatible, and a
    wrong kit is caught even beside an identical one)."""

    def __init__(self, cat: CatalogSnapshot, sel: Selection, slot: str, index: int | None):
        self.cat, self.sel, self.slot, self.index = cat, sel, slot, index
        self.rules = rules.rules_for_slot(slot)
        self.tables = [self._table(rule) for rule in self.rules]
        n = len(cat.by_slot.get(slot, ()))
        self.blocked = np.zeros(n, dtype=bool)
        for ids, results in self.tables:
            if results:
                self.blocked |= _any_block(results)[ids]

    def _table(self, rule: rules.Rule) -> tuple[np.ndarray, list[tuple[rules.Verdict, ...]]]:
        sel, slot, index = self.sel, self.slot, self.index
        others = None
        if slot in MULTI_SLOTS:
            others = rules.with_part(sel, slot, None, index) if index is not None else dict(sel)
            if not others.get(slot):
                others = None
        if others is None:

            def fn(part: rules.Part) -> tuple[rules.Verdict, ...]:
                return tuple(_run(rule, rules.with_part(sel, slot, part, index)))
        else:
            baseline = {_vkey(v) for v in _run(rule, others)}
            empty = rules.with_part(sel, slot, None)

            def fn(part: rules.Part) -> tuple[rules.Verdict, ...]:
                seen = set(baseline)
                out = []
                for v in _run(rule, rules.with_part(sel, slot, part, index)):
                    if _vkey(v) not in seen:
                        seen.add(_vkey(v))
                        out.append(v)
                for v in _run(rule, rules.with_part(empty, slot, part)):
                    if v.severity in ("warn", "block") and _vkey(v) not in seen:
                        seen.add(_vkey(v))
                        out.append(v)
                return tuple(out)

        return _rule_table(self.cat, slot, rule, fn)

    def verdicts(self, position: int) -> list[rules.Verdict]:
        out: list[rules.Verdict] = []
        for ids, results in self.tables:
            out.extend(results[ids[position]])
        return out


# --- filters -------------------------------------------------------------------------------


def _natural(value: str) -> tuple:
    return tuple((0, int(t), "") if t.isdigit() else (1, 0, t.lower()) for t in re.split(r"(\d+)", value) if t)


def _filter_value(entry: CatalogEntry, key: str) -> tuple[str, ...]:
    value = entry.manufacturer if key == "manufacturer" else entry.part.specs.get(key)
    if value is None or value == "" or value == []:
        return ()
    labels = _VALUE_LABELS.get(key, {})
    if isinstance(value, list | tuple):
        return tuple(dict.fromkeys(str(labels.get(v, v)) for v in value))
    if value in labels:
        return (labels[value],)
    if isinstance(value, bool):
        return ("Yes" if value else "No",)
    return (str(value),)


@dataclass(frozen=True)
class _FilterColumn:
    """One filter over a slot's parts (catalog order): `matrix[i, j]` is True
    when part i has value `labels[j]` (a part may have several, e.g. a case's
    motherboard sizes, or none when unknown)."""

    labels: tuple[str, ...]
    ids: dict[str, int]
    matrix: np.ndarray


def _filter_column(cat: CatalogSnapshot, slot: str, key: str) -> _FilterColumn:
    def build() -> _FilterColumn:
        entries = cat.by_slot.get(slot, ())
        values = [_filter_value(e, key) for e in entries]
        labels = tuple(sorted({v for vs in values for v in vs}, key=_natural))
        ids = {label: j for j, label in enumerate(labels)}
        matrix = np.zeros((len(entries), len(labels)), dtype=bool)
        for i, vs in enumerate(values):
            for v in vs:
                matrix[i, ids[v]] = True
        return _FilterColumn(labels, ids, matrix)

    return cat.derived(("filter", slot, key), build)


def _order(cat: CatalogSnapshot, so: SlotOffers, sort: str) -> np.ndarray:
    """Catalog positions of the sold parts in `sort` order."""

    def build() -> np.ndarray:
        sold = so.sold
        if sort == "price_desc":
            sold = sorted(sold, key=lambda e: (-so.offers[e.part.id].price, e.part.name.lower(), e.part.id))
        elif sort == "name":
            sold = sorted(sold, key=lambda e: (e.part.name.lower(), e.part.id))
        return np.fromiter((cat.position[e.part.id] for e in sold), dtype=np.int64, count=len(sold))

    return so.derived(("order", sort), build)


@catalog_index.on_load
def _warm(cat: CatalogSnapshot) -> None:
    """Precompute what every picker call needs from a new catalog snapshot:
    filter columns and the per-key groupings the rules read."""
    for slot in SLOTS:
        for key, _ in FILTERS[slot]:
            _filter_column(cat, slot, key)
        for key in rules.READ_KEYS.get(slot, ()):
            _projection(cat, slot, (key,))
        for (_, learnt_slot), keys in list(_READS.items()):
            if learnt_slot == slot:
                _projection(cat, slot, tuple(sorted(keys)))


# --- suggestions -----------------------------------------------------------------------------
#
# A block or a warning gets up to MAX_SUGGESTIONS parts the shop sells that
# resolve it (`_resolver`), taken from the rule's remedy slots. Among those,
# the closest equivalents of the part they replace come first (the fewest
# tiers away, `rules.closeness`), then the cheapest: a Ryzen 9 that does not
# fit is replaced by another Ryzen 9 class CPU, not by the cheapest Celeron.

FIXABLE = ("warn", "block")  # verdict severities that get suggested fixes


def _problems(verdicts: list[rules.Verdict]) -> list[rules.Verdict]:
    return [v for v in verdicts if v.severity in FIXABLE]


def _resolver(before: list[rules.Verdict], target: rules.Verdict) -> Callable[[tuple[rules.Verdict, ...]], bool]:
    """A test of the problems after a change: the `target` is gone and nothing
    at least as serious as it has appeared or grown worse.

    Only verdicts at the target's severity or above count (fixing a block may
    leave a warning; fixing a warning may not cause a block). Verdicts of the
    target's rule and slots must all be ones that were there besides the
    target (by message: a GPU still too long, at another length, does not
    resolve it); other rules' verdicts may change their message (a PSU still
    short of a different estimate is not new) but not get more serious nor
    more numerous."""
    level = rules.SEVERITY_ORDER[target.severity]
    tkey = (target.rule, target.slots)
    counted = [v for v in before if rules.SEVERITY_ORDER[v.severity] >= level]
    kept = {v.message for v in counted if (v.rule, v.slots) == tkey} - {target.message}
    was: dict[tuple, tuple[int, int]] = {}  # (rule, slots) → (worst severity, how many at it)
    for v in counted:
        k, rank = (v.rule, v.slots), rules.SEVERITY_ORDER[v.severity]
        worst, n = was.get(k, (-1, 0))
        was[k] = (rank, 1) if rank > worst else (worst, n + (rank == worst))

    def resolves(after: tuple[rules.Verdict, ...]) -> bool:
        now: dict[tuple, tuple[int, int]] = {}
        for v in after:
            rank = rules.SEVERITY_ORDER[v.severity]
            if rank < level:
                continue
            k = (v.rule, v.slots)
            if k == tkey:
                if v.message not in kept:
                    return False
                continue
            worst, n = now.get(k, (-1, 0))
            now[k] = (rank, 1) if rank > worst else (worst, n + (rank == worst))
        return all(now[k] <= was.get(k, (-1, 0)) for k in now)

    return resolves


Move = tuple[int | None, bool]  # (index replaced in a multi slot, every entry replaced)


def _moves(sel: Selection, slot: str) -> list[Move]:
    """Ways to put a part in `slot`: a single slot is replaced; a multi slot
    has each entry replaced in turn, then all of them at once."""
    n = len(sel.get(slot, ()))
    if slot not in MULTI_SLOTS or n == 0:
        return [(None, False)]
    each: list[Move] = [(i, False) for i in range(n)]
    return each + ([(None, True)] if n > 1 else [])


def _apply(sel: Selection, slot: str, part: rules.Part, move: Move) -> Selection:
    index, replace_all = move
    if replace_all:
        return {**sel, slot: (part,) * len(sel[slot])}
    return rules.with_part(sel, slot, part, index)


def _replaced(sel: Selection, slot: str, move: Move) -> rules.Part | None:
    """The part a move takes out (the first one when it replaces them all)."""
    current = sel.get(slot, ())
    index, _ = move
    if not current:
        return None
    return current[index] if index is not None and index < len(current) else current[0]


def _tiers(cat: CatalogSnapshot, slot: str) -> np.ndarray:
    """`rules.tier` of every part of `slot` (catalog order; NaN when unknown). Cached per snapshot."""

    def build() -> np.ndarray:
        entries = cat.by_slot.get(slot, ())
        values = (rules.tier(e.part) for e in entries)
        return np.fromiter((np.nan if t is None else t for t in values), dtype=np.float64, count=len(entries))

    return cat.derived(("tiers", slot), build)


def _gaps(cat: CatalogSnapshot, slot: str, current: rules.Part | None) -> np.ndarray:
    """`rules.closeness(current, part)` for every part of `slot`, at once."""
    tiers = _tiers(cat, slot)
    here = rules.tier(current) if current is not None else None
    if here is None:
        return np.zeros(len(tiers), dtype=np.int64)
    gaps = np.floor(np.abs(tiers - here) + 0.5)
    return np.where(np.isnan(tiers), rules.UNKNOWN_GAP, gaps).astype(np.int64)


class _Suggester:
    """Suggestions for the blocks and warnings of one build; rule runs over a
    remedy slot are shared between verdicts."""

    def __init__(
        self, session: Session, cat: CatalogSnapshot, offers: TenantOffers, clean: dict[str, list[str]], sel: Selection
    ):
        self.session, self.cat, self.offers, self.clean, self.sel = session, cat, offers, clean, sel
        self._tables: dict[tuple[str, Move, str], tuple[np.ndarray, list[tuple[rules.Verdict, ...]]]] = {}
        self._before: dict[str, list[rules.Verdict]] = {}

    def _table(self, slot: str, move: Move, rule: rules.Rule) -> tuple[np.ndarray, list[tuple[rules.Verdict, ...]]]:
        key = (slot, move, rule.name)
        got = self._tables.get(key)
        if got is None:
            sel = self.sel

            def fn(part: rules.Part) -> tuple[rules.Verdict, ...]:
                return tuple(_problems(_run(rule, _apply(sel, slot, part, move))))

            got = self._tables[key] = _rule_table(self.cat, slot, rule, fn)
        return got

    def _before_problems(self, slot: str) -> list[rules.Verdict]:
        got = self._before.get(slot)
        if got is None:
            got = self._before[slot] = _problems(rules.evaluate(self.sel, rules.rules_for_slot(slot)))
        return got

    def suggest(self, target: rules.Verdict) -> list[Suggestion]:
        """Up to MAX_SUGGESTIONS sold parts in the rule's remedy slots that
        resolve `target` (a block or a warning) without a new problem: the
        closest to the part they replace first, then the cheapest."""
        rule = next((r for r in rules.RULES if r.name == target.rule), None)
        if rule is None or target.severity not in FIXABLE:
            return []
        found: list[tuple[int, Decimal, int, Suggestion]] = []
        for rank, slot in enumerate(rule.remedy_slots):
            so = self.offers.slot(self.session, slot)
            order = _order(self.cat, so, "price_asc")
            if not len(order):
                continue
            resolves = _resolver(self._before_problems(slot), target)
            moves = _moves(self.sel, slot)
            which = np.full(len(order), -1, dtype=np.int64)  # first move that resolves, per sold part
            gap = np.zeros(len(order), dtype=np.int64)  # tiers from the part that move replaces
            for m, move in enumerate(moves):
                ok = np.ones(len(self.cat.by_slot.get(slot, ())), dtype=bool)
                for r in rules.rules_for_slot(slot):
                    ids, results = self._table(slot, move, r)
                    good = np.fromiter((resolves(res) for res in results), dtype=bool, count=len(results))
                    ok &= good[ids]
                fresh = (which < 0) & ok[order]
                which[fresh] = m
                gap[fresh] = _gaps(self.cat, slot, _replaced(self.sel, slot, move))[order[fresh]]
            hits = np.flatnonzero(which >= 0)  # in price order
            hits = hits[np.argsort(gap[hits], kind="stable")]  # closest first, cheapest within a tier
            current = self.clean.get(slot, [])
            entries = self.cat.by_slot[slot]
            for i in hits[:MAX_SUGGESTIONS]:
                part = entries[int(order[i])].part
                index, replace_all = moves[int(which[i])]
                if slot not in MULTI_SLOTS or not current:
                    ids = [part.id]
                elif replace_all:
                    ids = [part.id] * len(current)
                else:
                    assert index is not None  # a multi slot's move replaces one entry or all of them
                    ids = [*current[:index], part.id, *current[index + 1 :]]
                offer = so.offers[part.id]
                found.append(
                    (
                        int(gap[i]),
                        offer.price,
                        rank,
                        Suggestion(
                            slot=slot,
                            index=index if slot in MULTI_SLOTS and current and not replace_all else None,
                            part_id=part.id,
                            name=part.name,
                            price=offer.price,
                            currency=offer.currency,
                            slots=_slot_map(self.clean, slot, ids),
                        ),
                    )
                )
        found.sort(key=lambda t: t[:3])
        return [s for *_, s in found[:MAX_SUGGESTIONS]]


# --- the build ---------------------------------------------------------------------------


def evaluate_build(session: Session, slots: Mapping | None) -> BuildView:
    """The build `slots` as the shop sees it: parts with prices, every rule's
    verdicts (blocks and warnings with suggested fixes), overall status, state,
    estimated draw and total. Ids not in the catalog are dropped."""
    cat = catalog_index.catalog()
    offers = catalog_index.tenant_offers(session, cat)
    clean, sel = _selection(cat, slots)

    parts: dict[str, list[PricedPart]] = {}
    total = Decimal("0")
    currency = ""
    unavailable: list[str] = []
    threshold = parts_low_threshold(session) if any(sel.get(slot) for slot in SLOTS) else 0
    for slot in SLOTS:
        chosen = sel.get(slot, ())
        if not chosen:
            parts[slot] = []
            continue
        so = offers.slot(session, slot)
        out = []
        for part in chosen:
            offer = so.offer(part.id)
            if offer is not None and offer.active:
                words = availability_words(offer.stock, threshold)
                out.append(PricedPart(part, offer.price, offer.currency, offer.stock, True, words))
                total += offer.price
                currency = currency or offer.currency
            else:
                out.append(PricedPart(part, None, offer.currency if offer else "", offer.stock if offer else 0, False))
                if part.name not in unavailable:
                    unavailable.append(part.name)
        parts[slot] = out
    if not currency:
        from app.catalog.service import shop_currency

        currency = shop_currency(session)
    for priced in (p for ps in parts.values() for p in ps if not p.currency):
        priced.currency = currency

    verdicts = rules.evaluate(sel)
    suggester = _Suggester(session, cat, offers, clean, sel)
    views = [
        VerdictView(v.rule, v.severity, v.slots, v.message, suggester.suggest(v) if v.severity in FIXABLE else [])
        for v in verdicts
    ]

    slot_severity: dict[str, str] = {}
    for slot in SLOTS:
        concerning = [v for v in verdicts if slot in v.slots]
        slot_severity[slot] = rules.overall(concerning) if (concerning or sel.get(slot)) else ""
    draw = rules.estimated_draw(sel)
    return BuildView(
        slots=clean,
        parts=parts,
        verdicts=views,
        overall=rules.overall(verdicts),
        state=slotmap.state_of(clean),
        draw_w=draw.total_w,
        draw_parts=list(draw.parts),
        total=total,
        currency=currency,
        unavailable=unavailable,
        not_checked=list(dict.fromkeys(v.message for v in verdicts if v.severity == "info" and v.not_checked)),
        slot_severity=slot_severity,
    )


# --- the picker --------------------------------------------------------------------------


def pick_list(
    session: Session,
    slots: Mapping | None,
    slot: str,
    *,
    search: str = "",
    filters: Mapping[str, str] | None = None,
    compatible_only: bool = True,
    sort: str = "price_asc",
    page: int = 0,
    page_size: int = 20,
    index: int | None = None,
) -> PickPage:
    """The parts the shop sells for `slot`, judged against the build `slots`.

    `search`: every word must occur in the name or manufacturer (any case).
    `filters`: filter key → value (see FILTERS; unknown keys and empty values
    are ignored). `compatible_only` hides parts that would cause a block.
    `sort`: price_asc | price_desc | name. For "ram" and "storage", `index`
    None means "add another", an int replaces that entry. Facets count each
    filter's values among the listed parts matching every other criterion."""
    if slot not in SLOTS:
        raise ValidationFailed(f"unknown slot '{slot}' (one of {', '.join(SLOTS)})")
    if sort not in SORTS:
        raise ValidationFailed(f"unknown sort '{sort}' (one of {', '.join(SORTS)})")
    page_size = max(1, min(int(page_size), MAX_PAGE_SIZE))
    page = max(0, int(page))

    cat = catalog_index.catalog()
    offers = catalog_index.tenant_offers(session, cat)
    _, sel = _selection(cat, slots)
    if slot not in MULTI_SLOTS or index is None or not 0 <= index < len(sel.get(slot, ())):
        index = None
    so = offers.slot(session, slot)
    entries = cat.by_slot.get(slot, ())
    order = _order(cat, so, sort)
    judge = _Judge(cat, sel, slot, index)
    n = len(order)

    words = search.lower().split()
    if words:
        match = np.fromiter((all(w in entries[p].search for w in words) for p in order.tolist()), dtype=bool, count=n)
    else:
        match = np.ones(n, dtype=bool)
    blocked = judge.blocked[order]
    base = match & ~blocked if compatible_only else match

    keys = [k for k, _ in FILTERS[slot]]
    columns = [_filter_column(cat, slot, k) for k in keys]
    wanted = {k: str(v) for k, v in (filters or {}).items() if k in keys and v not in (None, "")}
    fits: list[np.ndarray | None] = []
    for key, col in zip(keys, columns, strict=False):
        want = wanted.get(key)
        if want is None:
            fits.append(None)
        elif want in col.ids:
            fits.append(col.matrix[order, col.ids[want]])
        else:
            fits.append(np.zeros(n, dtype=bool))

    def all_fit(skip: int | None = None) -> np.ndarray:
        out = np.ones(n, dtype=bool)
        for j, f in enumerate(fits):
            if f is not None and j != skip:
                out &= f
        return out

    fit = all_fit()
    listed = order[base & fit]
    hidden = int(np.count_nonzero(match & fit & blocked)) if compatible_only else 0

    facets: dict[str, list[tuple[str, int]]] = {}
    for j, (key, col) in enumerate(zip(keys, columns, strict=False)):
        rows = order[base & all_fit(skip=j)]
        counts = col.matrix[rows].sum(axis=0) if len(col.labels) else np.zeros(0, dtype=np.int64)
        pairs = [(label, int(c)) for label, c in zip(col.labels, counts.tolist(), strict=False) if c]
        want = wanted.get(key)
        if want is not None and not any(label == want for label, _ in pairs):
            pairs.append((want, 0))  # keep the chosen value selectable
            pairs.sort(key=lambda kv: _natural(kv[0]))
        facets[key] = pairs

    total = len(listed)
    page = min(page, max(0, (total - 1) // page_size))
    threshold = parts_low_threshold(session)
    items = []
    for p in listed[page * page_size : (page + 1) * page_size].tolist():
        entry = entries[p]
        verdicts = judge.verdicts(p)
        severity = rules.overall(verdicts)
        offer = so.offers[entry.part.id]
        items.append(
            PickItem(
                part_id=entry.part.id,
                name=entry.part.name,
                manufacturer=entry.manufacturer,
                price=offer.price,
                currency=offer.currency,
                stock=offer.stock,
                summary=entry.summary,
                compatible=severity != "block",
                severity=severity,
                reasons=list(dict.fromkeys(v.message for v in verdicts if v.severity in ("warn", "block"))),
                availability=availability_words(offer.stock, threshold),
            )
        )
    return PickPage(
        items=items,
        total=total,
        page=page,
        page_size=page_size,
        facets=facets,
        filter_titles=dict(FILTERS[slot]),
        hidden_incompatible=hidden,
    )


# --- plain data (Reflex state, JSON) -----------------------------------------------------


def plain(value: Any) -> Any:
    """A view (BuildView, PickPage, …) as plain dicts/lists/str/int: Decimals
    become strings ("12.50"), tuples lists, a `rules.Part` {id, slot, name, specs}."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, rules.Part):
        return {"id": value.id, "slot": value.slot, "name": value.name, "specs": dict(value.specs)}
    if hasattr(value, "__dataclass_fields__"):
        return {name: plain(getattr(value, name)) for name in value.__dataclass_fields__}
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value
