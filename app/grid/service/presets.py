"""Grid presets (seed 003: GridFlock Preset): saved generation parameters.
System presets (no shop, seeded by the migration) and every shop's public
ones are seen by all shops; a private one only by its shop. A shop changes
and deletes only its own (row security and a trigger in the database hold
that too, whatever the code does)."""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass, fields
from typing import Any

from sqlalchemy import or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app.grid.geometry.spec import CONNECTOR_CODES, GridOptions
from app.grid.models import GridPreset
from app.grid.service._common import changed
from app.platform.auth import Principal
from app.platform.db import session_tenant_id
from app.platform.errors import Conflict, Forbidden, NotFound, ValidationFailed
from app.platform.models import utcnow

NAME_MAX = 100
DESCRIPTION_MAX = 500
# The GridOptions fields a preset may set, and the bounds of the numbers.
PARAMETERS = tuple(f.name for f in fields(GridOptions))
_RANGES: dict[str, tuple[float, float]] = {
    "drawer_width_mm": (42, 5000),
    "drawer_depth_mm": (42, 5000),
    "bed_width_mm": (50, 1000),
    "bed_depth_mm": (50, 1000),
    "filler_minimum_mm": (0, 42),
    "align_x": (0, 1),
    "align_y": (0, 1),
    "puzzle_fit": (0, 1),
    "edge_puzzle_gap": (0, 1),
    "corner_radius_mm": (0, 20),
}
_CHOICES: dict[str, tuple[str, ...]] = {
    "magnets": ("none", "press-fit"),
    "connector": tuple(CONNECTOR_CODES.values()),
    "filler": ("none", "integer", "dynamic"),
}


@dataclass
class PresetRow:
    id: uuid.UUID
    name: str
    description: str
    parameters: dict
    is_public: bool
    is_system: bool
    mine: bool  # the shop's own: it may change and delete it
    created_by: str


def clean_parameters(parameters: Any) -> dict:
    """The preset's GridOptions fields, checked (ValidationFailed names the first wrong one)."""
    if not isinstance(parameters, dict) or not parameters:
        raise ValidationFailed("a preset sets at least one grid parameter")
    out: dict[str, Any] = {}
    for key, value in parameters.items():
        if key not in PARAMETERS:
            raise ValidationFailed(f"unknown grid parameter {key!r}")
        if key in _CHOICES:
            if value not in _CHOICES[key]:
                raise ValidationFailed(f"{key.replace('_', ' ')} is one of {', '.join(_CHOICES[key])}")
            out[key] = value
        elif key == "label":
            if not isinstance(value, bool):
                raise ValidationFailed("label is yes or no")
            out[key] = value
        else:
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                raise ValidationFailed(f"{key.replace('_', ' ')} takes a number")
            low, high = _RANGES[key]
            if not low <= value <= high:
                raise ValidationFailed(f"{key.replace('_', ' ')} is from {low:g} to {high:g}")
            out[key] = float(value)
    return out


def _row(p: GridPreset, tenant_id: uuid.UUID) -> PresetRow:
    return PresetRow(
        id=p.id,
        name=p.name,
        description=p.description,
        parameters=dict(p.parameters or {}),
        is_public=p.is_public,
        is_system=p.is_system or p.tenant_id is None,
        mine=p.tenant_id == tenant_id,
        created_by=p.created_by,
    )


def list_presets(session: Session) -> list[PresetRow]:
    """System presets first, then the shop's own, then other shops' public ones; by name."""
    tid = session_tenant_id(session)
    rows = session.exec(
        select(GridPreset).where(
            or_(
                col(GridPreset.tenant_id).is_(None),
                col(GridPreset.is_public).is_(True),
                col(GridPreset.tenant_id) == tid,
            )
        )
    ).all()
    out = [_row(p, tid) for p in rows]
    return sorted(out, key=lambda r: (not r.is_system, not r.mine, r.name.lower()))


def _get(session: Session, preset_id: uuid.UUID | str) -> GridPreset:
    """A preset this shop sees (its own, a system or a public one), or NotFound."""
    try:
        pid = uuid.UUID(str(preset_id))
    except ValueError:
        raise NotFound("no such preset") from None
    p = session.get(GridPreset, pid)
    if p is None:
        raise NotFound("no such preset")
    return p


def get_preset(session: Session, preset_id: uuid.UUID | str) -> PresetRow:
    return _row(_get(session, preset_id), session_tenant_id(session))


def apply_preset(session: Session, preset_id: uuid.UUID | str, **fields: Any) -> GridOptions:
    """GridOptions from a preset's parameters, with `fields` (e.g. the drawer size) on top."""
    preset = get_preset(session, preset_id)
    merged = {**preset.parameters, **fields}
    if "drawer_width_mm" not in merged or "drawer_depth_mm" not in merged:
        raise ValidationFailed("give the drawer's width and depth")
    return GridOptions(**merged)


def save_preset(
    session: Session,
    *,
    name: str,
    parameters: dict,
    description: str = "",
    is_public: bool = False,
    preset_id: uuid.UUID | str | None = None,
    actor: Principal,
) -> PresetRow:
    """Create the shop's preset, or change one of its own (`preset_id`).
    A system preset or another shop's is never changed (Forbidden)."""
    actor.require("grid.write")
    name = (name or "").strip()
    if not name or len(name) > NAME_MAX:
        message = f"a preset's name has 1 to {NAME_MAX} characters"
        raise ValidationFailed(message, details={"fields": {"name": message}})
    description = (description or "").strip()
    if len(description) > DESCRIPTION_MAX:
        raise ValidationFailed(f"a preset's description has at most {DESCRIPTION_MAX} characters")
    clean = clean_parameters(parameters)
    tid = session_tenant_id(session)
    if preset_id is None:
        preset = GridPreset(tenant_id=tid, name=name, created_by=actor.display_name or actor.username)
    else:
        found = _get(session, preset_id)
        if found.tenant_id != tid:
            raise Forbidden("this preset is not your shop's: save a copy under another name instead")
        preset = found
    preset.name, preset.description, preset.parameters = name, description, clean
    preset.is_public, preset.updated_at = bool(is_public), utcnow()
    try:
        with session.begin_nested():
            session.add(preset)
            session.flush()
    except IntegrityError:
        message = f"your shop already has a preset called {name!r}"
        raise Conflict(message, details={"fields": {"name": message}}) from None
    changed(session, presets=True)
    return _row(preset, tid)


def delete_preset(session: Session, preset_id: uuid.UUID | str, *, actor: Principal) -> None:
    actor.require("grid.write")
    found = _get(session, preset_id)
    if found.tenant_id != session_tenant_id(session):
        raise Forbidden("only the shop that made a preset can delete it")
    session.delete(found)
    session.flush()
    changed(session, presets=True)
