"""The slot map: which parts a build holds, as `{slot: [opendb ids]}`.

One canonical form for the URL (`?cpu=<id>&ram=<id>,<id>`), the anonymous
cookie and `SavedBuild.slots`. Anything malformed is dropped, never trusted.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from urllib.parse import urlencode

from app.catalog.slots import SLOT_TITLES, SLOTS

__all__ = ["MULTI_SLOTS", "SLOTS", "SLOT_TITLES", "SlotMap"]

MULTI_SLOTS: dict[str, int] = {"ram": 4, "storage": 4}  # slot → most parts it holds

SlotMap = dict[str, list[str]]


def _clean_id(value: object) -> str | None:
    try:
        return str(uuid.UUID(str(value).strip()))
    except (ValueError, AttributeError, TypeError):
        return None


def capacity(slot: str) -> int:
    return MULTI_SLOTS.get(slot, 1)


def normalise(slots: Mapping | None) -> SlotMap:
    """Known slots only, valid ids only, at most `capacity(slot)` each, in SLOTS order."""
    out: SlotMap = {}
    if not isinstance(slots, Mapping):
        return out
    for slot in SLOTS:
        value = slots.get(slot)
        if value is None:
            continue
        items = value if isinstance(value, list | tuple) else [value]
        ids = [i for i in (_clean_id(v) for v in items) if i][: capacity(slot)]
        if ids:
            out[slot] = ids
    return out


def parse_query(params: Mapping[str, object]) -> SlotMap:
    """`{"cpu": "<id>", "ram": "<id>,<id>"}` (a URL's query) → slot map."""
    raw: dict[str, list[str]] = {}
    for slot in SLOTS:
        value = params.get(slot)
        if isinstance(value, list | tuple):
            value = ",".join(str(v) for v in value)
        if value:
            raw[slot] = [v for v in str(value).split(",") if v.strip()]
    return normalise(raw)


def to_query(slots: Mapping) -> str:
    """Slot map → `cpu=<id>&ram=<id>,<id>` (no leading `?`; empty for an empty build)."""
    clean = normalise(slots)
    return urlencode([(slot, ",".join(ids)) for slot, ids in clean.items()], safe=",")


def builder_url(slots: Mapping) -> str:
    q = to_query(slots)
    return f"/build?{q}" if q else "/build"


def part_ids(slots: Mapping) -> list[str]:
    return [i for ids in normalise(slots).values() for i in ids]


def state_of(slots: Mapping) -> str:
    """Seed 002's in-progress states: Empty, Partial or Complete (all eight filled)."""
    clean = normalise(slots)
    if not clean:
        return "Empty"
    return "Complete" if all(clean.get(s) for s in SLOTS) else "Partial"
