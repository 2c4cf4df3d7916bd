"""Worksheets: the repair of one asset by a technician or a team.

A worksheet is opened for an asset that is in repair or awaiting parts (one
open worksheet per asset: a second is refused, naming the open one). On it
the shop assigns a technician and/or a team, logs labour (the entries add
up), writes notes, marks the asset's repair codes done (or adds a code done
that nobody found before: source "worksheet"), and takes spare parts from
stock: issued and returned through the inventory domain's ledger (reference
WORKSHEET), each request with an idempotency key so a retried click or
request moves stock once. An asset awaiting parts goes back to repair by
hand once its parts are there.

Final QC: an open worksheet is submitted (the asset goes in repair → final
QC) once something was done on it (a code done or a note). Passing it
completes the worksheet and makes the asset ready for dispatch; failing it
(notes required) sends both back (worksheet open, asset in repair) and
counts the failure. Who did what and when is kept in the worksheet's history.

Cancelling returns nothing by itself: a worksheet still holding parts is
refused until they are returned.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import func, or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app.inventory import service as inventory
from app.inventory.models import InventoryTransaction
from app.platform import numbering
from app.platform.auth import Principal
from app.platform.db import session_tenant_id
from app.platform.errors import Conflict, InvalidTransition, NotFound, ValidationFailed
from app.platform.models import utcnow
from app.platform.text import like_pattern, strip_nul
from app.repairs import machine
from app.repairs.models import (
    DeviceModel,
    DeviceRepairCode,
    RepairAsset,
    RepairClient,
    RepairCode,
    RepairTeam,
    Technician,
    Worksheet,
)
from app.repairs.service._common import WRITE, as_uuid, changed, get_row, move_asset

T = TypeVar("T", RepairClient, Technician, RepairTeam, DeviceModel)
N = TypeVar("N", RepairClient, Technician, RepairTeam)
# an asset gets a worksheet while it is being repaired
OPENS_FOR = ("in_repair", "awaiting_parts")
ACTIVE = ("open", "in_qc")  # a worksheet still being worked on or checked
MAX_MINUTES = 24 * 60  # one labour entry: at most a day
MAX_NOTES = 4000
MAX_QC_NOTES = 2000
MAX_HISTORY = 500
SORTS = {
    "number": "number",
    "asset": "asset",
    "status": "status",
    "technician": "technician",
    "labour": "labour",
    "created": "opened",
    "updated": "last change",
}
HISTORY_WORDS = {
    "opened": "Opened",
    "assigned": "Assigned",
    "labour": "Labour",
    "notes": "Notes",
    "code": "Repair code",
    "asset": "Asset",
    "submitted": "Sent to final QC",
    "qc_pass": "Passed final QC",
    "qc_fail": "Failed final QC",
    "cancelled": "Cancelled",
}

__all__ = [
    "ACTIVE",
    "HISTORY_WORDS",
    "OPENS_FOR",
    "SORTS",
    "Assignees",
    "CodeLine",
    "WorksheetDetail",
    "WorksheetFilter",
    "WorksheetRow",
    "add_code_done",
    "assets_needing_worksheet",
    "assign",
    "assignees",
    "cancel",
    "code_choices",
    "counts",
    "detail",
    "get_worksheet",
    "issue_part",
    "labour_entries",
    "list_worksheets",
    "log_labour",
    "open_for_asset",
    "open_worksheet",
    "parts",
    "qc_fail",
    "qc_pass",
    "resume_repair",
    "return_part",
    "set_code_done",
    "set_notes",
    "submit_for_qc",
    "wait_for_parts",
    "worksheets_for_asset",
]


# --- small helpers -------------------------------------------------------------------------------


def _text(value: object, limit: int, what: str) -> str:
    text = strip_nul(str(value or "")).strip()
    if len(text) > limit:
        raise ValidationFailed(f"{what} is at most {limit:,} characters", details={"fields": {what: "Too long."}})
    return text


def _who(actor: Principal) -> str:
    return actor.display_name or actor.username or "someone"


def _record(ws: Worksheet, actor: Principal, kind: str, text: str, **extra: Any) -> None:
    """One line of the worksheet's history (a new list, so the change is saved)."""
    entry = {
        "at": utcnow().isoformat(),
        "by": str(actor.user_id) if actor.user_id else None,
        "who": _who(actor),
        "kind": kind,
        "text": text[:500],
        **extra,
    }
    ws.history = [*(ws.history or []), entry][-MAX_HISTORY:]


def _touch(session: Session, ws: Worksheet) -> None:
    ws.updated_at = utcnow()
    session.add(ws)
    changed(session, worksheet=str(ws.id), asset=str(ws.asset_id))


def _locked(session: Session, worksheet_id: uuid.UUID | str) -> Worksheet:
    return get_row(session, Worksheet, worksheet_id, "worksheet", lock=True)


def _must_be_open(ws: Worksheet, doing: str) -> None:
    if ws.status != "open":
        words = _ws_words(ws.status)
        hint = " (fail it in final QC to work on it again)" if ws.status == "in_qc" else ""
        raise Conflict(
            f"worksheet {ws.number} is {words}: {doing} only on an open worksheet{hint}",
            code="worksheet_not_open",
            details={"status": ws.status},
        )


def _ws_words(status: str) -> str:
    label = machine.WORKSHEET_STATUS.label(status)
    return label[:1].lower() + label[1:]  # "in final QC", "passed QC"


def _check_move(ws: Worksheet, target: str) -> None:
    """Refuse a move the worksheet's lifecycle does not allow, naming the allowed ones."""
    if machine.WORKSHEET.can(ws.status, target):
        return
    allowed = machine.WORKSHEET.allowed(ws.status)
    raise InvalidTransition(
        f"worksheet {ws.number} is {_ws_words(ws.status)} and cannot go to {_ws_words(target)}; "
        f"allowed: {', '.join(_ws_words(a) for a in allowed) or 'none (final)'}",
        details={"allowed": allowed},
    )


def _asset_words(status: str) -> str:
    return machine.asset_words(status)


def _open_sheet(session: Session, asset_id: uuid.UUID) -> Worksheet | None:
    return session.exec(
        select(Worksheet).where(Worksheet.asset_id == asset_id, col(Worksheet.status).in_(ACTIVE))
    ).first()


def _technician(session: Session, technician_id: uuid.UUID | str | None) -> Technician | None:
    if not technician_id:
        return None
    tech = get_row(session, Technician, technician_id, "technician")
    if not tech.active:
        raise ValidationFailed(
            f"{tech.name} no longer works here (inactive); choose another technician",
            details={"fields": {"technicianId": "Inactive technician."}},
        )
    return tech


def _team(session: Session, team_id: uuid.UUID | str | None) -> RepairTeam | None:
    if not team_id:
        return None
    team = get_row(session, RepairTeam, team_id, "team")
    if not team.active:
        raise ValidationFailed(
            f"the team {team.name} is no longer in use; choose another team",
            details={"fields": {"teamId": "Team no longer in use."}},
        )
    return team


def _assignee_words(tech: Technician | None, team: RepairTeam | None) -> str:
    if tech and team:
        return f"{tech.name} ({team.name})"
    if tech:
        return tech.name
    if team:
        return f"the team {team.name}"
    return "nobody"


# --- opening -------------------------------------------------------------------------------------


def open_worksheet(
    session: Session,
    asset_id: uuid.UUID | str,
    *,
    technician_id: uuid.UUID | str | None = None,
    team_id: uuid.UUID | str | None = None,
    actor: Principal,
) -> Worksheet:
    """A new worksheet (numbered from the shop's "worksheet" sequence) for an
    asset in repair or awaiting parts. An asset with an open worksheet gets no
    second one (Conflict naming the open one)."""
    actor.require(WRITE)
    asset = get_row(session, RepairAsset, asset_id, "asset", lock=True)
    if asset.status not in OPENS_FOR:
        raise Conflict(
            f"asset {asset.number} is {_asset_words(asset.status)}: a worksheet is opened for an asset "
            f"that is in repair or awaiting parts",
            code="asset_not_in_repair",
            details={"status": asset.status, "allowed": list(OPENS_FOR)},
        )
    existing = _open_sheet(session, asset.id)
    if existing is not None:
        raise _already_open(asset, existing)
    tech, team = _technician(session, technician_id), _team(session, team_id)
    now = utcnow()
    ws = Worksheet(
        tenant_id=session_tenant_id(session),
        number=numbering.reserve(session, "worksheet"),
        asset_id=asset.id,
        technician_id=tech.id if tech else None,
        team_id=team.id if team else None,
        created_by_id=actor.user_id,
        created_at=now,
        updated_at=now,
    )
    _record(ws, actor, "opened", f"Opened for asset {asset.number}, assigned to {_assignee_words(tech, team)}")
    try:
        with session.begin_nested():
            session.add(ws)
            session.flush()
    except IntegrityError:
        # another request opened one meanwhile (the unique index decides)
        other = _open_sheet(session, asset.id)
        if other is None:
            raise
        raise _already_open(asset, other) from None
    _touch(session, ws)
    return ws


def _already_open(asset: RepairAsset, ws: Worksheet) -> Conflict:
    return Conflict(
        f"asset {asset.number} already has an open worksheet, {ws.number}; finish or cancel it first",
        code="worksheet_already_open",
        details={"worksheetId": str(ws.id), "number": ws.number},
    )


# --- the work ------------------------------------------------------------------------------------


def assign(
    session: Session,
    worksheet_id: uuid.UUID | str,
    *,
    technician_id: uuid.UUID | str | None = None,
    team_id: uuid.UUID | str | None = None,
    actor: Principal,
) -> Worksheet:
    """Give the worksheet to a technician and/or a team of this shop (None: nobody)."""
    actor.require(WRITE)
    ws = _locked(session, worksheet_id)
    if ws.status not in ACTIVE:
        _must_be_open(ws, "the assignment changes")
    tech, team = _technician(session, technician_id), _team(session, team_id)
    new = (tech.id if tech else None, team.id if team else None)
    if new == (ws.technician_id, ws.team_id):
        return ws
    ws.technician_id, ws.team_id = new
    _record(ws, actor, "assigned", f"Assigned to {_assignee_words(tech, team)}")
    _touch(session, ws)
    return ws


def log_labour(
    session: Session, worksheet_id: uuid.UUID | str, minutes: int, *, note: str = "", actor: Principal
) -> Worksheet:
    """Minutes of work on the worksheet (a whole number from 1 to a day's
    1,440); the entries add up to its labour."""
    actor.require(WRITE)
    if isinstance(minutes, bool) or not isinstance(minutes, int) or not 1 <= minutes <= MAX_MINUTES:
        raise ValidationFailed(
            f"labour is a whole number of minutes from 1 to {MAX_MINUTES:,} (a day) per entry",
            details={"fields": {"minutes": f"Write whole minutes, 1 to {MAX_MINUTES:,}."}},
        )
    note = _text(note, 300, "the note")
    ws = _locked(session, worksheet_id)
    _must_be_open(ws, "labour is logged")
    ws.labour_minutes += minutes
    _record(ws, actor, "labour", f"{minutes} min" + (f": {note}" if note else ""), minutes=minutes, note=note)
    _touch(session, ws)
    return ws


def labour_entries(ws: Worksheet) -> list[dict]:
    """The worksheet's labour entries, oldest first: {at, who, minutes, note}."""
    return [h for h in ws.history or [] if h.get("kind") == "labour"]


def set_notes(session: Session, worksheet_id: uuid.UUID | str, notes: str, *, actor: Principal) -> Worksheet:
    """What the technician found and did, in words."""
    actor.require(WRITE)
    notes = _text(notes, MAX_NOTES, "the notes")
    ws = _locked(session, worksheet_id)
    _must_be_open(ws, "notes are written")
    if notes == ws.notes:
        return ws
    ws.notes = notes
    _record(ws, actor, "notes", "Notes changed" if notes else "Notes cleared")
    _touch(session, ws)
    return ws


def _code_words(session: Session, row: DeviceRepairCode) -> str:
    code = session.get(RepairCode, row.repair_code_id) if row.repair_code_id else None
    return f"{code.code} ({code.name})" if code else row.drfone_code


def set_code_done(
    session: Session, worksheet_id: uuid.UUID | str, code_row_id: uuid.UUID | str, done: bool, *, actor: Principal
) -> DeviceRepairCode | None:
    """Tick (or untick) one of the asset's repair codes as done on this
    worksheet. A code added on this worksheet and unticked is taken off the
    asset again (it was never found); the function then returns None."""
    actor.require(WRITE)
    ws = _locked(session, worksheet_id)
    _must_be_open(ws, "codes are marked done")
    row = get_row(session, DeviceRepairCode, code_row_id, "repair code of the asset", lock=True)
    if row.asset_id != ws.asset_id:
        raise NotFound("repair code of the asset not found")
    if row.repair_code_id is None:
        raise Conflict(
            f"the diagnostic code {row.drfone_code} is not mapped to a repair code yet; "
            "map it in the unmapped-codes queue first",
            code="code_unmapped",
        )
    words = _code_words(session, row)
    if done:
        if row.done and row.worksheet_id == ws.id:
            return row
        if row.done and row.worksheet_id and row.worksheet_id != ws.id:
            other = session.get(Worksheet, row.worksheet_id)
            if other is not None and other.status != "cancelled":
                raise Conflict(f"{words} was done on worksheet {other.number} already", code="code_done_elsewhere")
        row.done, row.worksheet_id = True, ws.id
        session.add(row)
        _record(ws, actor, "code", f"{words} done")
    else:
        if not row.done:
            return row
        if row.worksheet_id not in (None, ws.id):
            raise Conflict(f"{words} was marked done on another worksheet", code="code_done_elsewhere")
        _record(ws, actor, "code", f"{words} no longer done")
        if row.source == "worksheet" and row.worksheet_id == ws.id:
            session.delete(row)
            _touch(session, ws)
            return None
        row.done, row.worksheet_id = False, None
        session.add(row)
    _touch(session, ws)
    return row


def add_code_done(
    session: Session, worksheet_id: uuid.UUID | str, repair_code_id: uuid.UUID | str, *, actor: Principal
) -> DeviceRepairCode:
    """A repair code done on the worksheet: an asset's row with that code is
    ticked; a code nobody found before is added (source "worksheet")."""
    actor.require(WRITE)
    ws = _locked(session, worksheet_id)
    _must_be_open(ws, "codes are marked done")
    code = get_row(session, RepairCode, repair_code_id, "repair code")
    if not code.active:
        raise ValidationFailed(f"the repair code {code.code} is no longer in use")
    found = session.exec(
        select(DeviceRepairCode)
        .where(DeviceRepairCode.asset_id == ws.asset_id, DeviceRepairCode.repair_code_id == code.id)
        .order_by(col(DeviceRepairCode.done), col(DeviceRepairCode.created_at))
    ).first()
    if found is not None:
        if found.done and found.worksheet_id == ws.id:
            return found
        result = set_code_done(session, ws.id, found.id, True, actor=actor)
        assert result is not None
        return result
    row = DeviceRepairCode(
        tenant_id=ws.tenant_id,
        asset_id=ws.asset_id,
        repair_code_id=code.id,
        source="worksheet",
        worksheet_id=ws.id,
        done=True,
        created_by_id=actor.user_id,
        mapped_at=utcnow(),
    )
    session.add(row)
    _record(ws, actor, "code", f"{code.code} ({code.name}) done (added on the worksheet)")
    _touch(session, ws)
    session.flush()
    return row


# --- the asset while it waits for parts ----------------------------------------------------------


def _asset_of(session: Session, ws: Worksheet) -> RepairAsset:
    return get_row(session, RepairAsset, ws.asset_id, "asset", lock=True)


def resume_repair(session: Session, worksheet_id: uuid.UUID | str, *, actor: Principal) -> RepairAsset:
    """The parts are there: the asset goes from awaiting parts back to in repair."""
    actor.require(WRITE)
    ws = _locked(session, worksheet_id)
    _must_be_open(ws, "the asset's status changes")
    asset = _asset_of(session, ws)
    if asset.status == "in_repair":
        return asset
    move_asset(session, asset, "in_repair", actor=actor, reason=f"parts arrived (worksheet {ws.number})")
    _record(ws, actor, "asset", "Asset back in repair: parts arrived")
    _touch(session, ws)
    return asset


def wait_for_parts(
    session: Session, worksheet_id: uuid.UUID | str, *, reason: str = "", actor: Principal
) -> RepairAsset:
    """The repair cannot go on without parts: the asset is awaiting parts."""
    actor.require(WRITE)
    reason = _text(reason, 300, "the reason")
    ws = _locked(session, worksheet_id)
    _must_be_open(ws, "the asset's status changes")
    asset = _asset_of(session, ws)
    if asset.status == "awaiting_parts":
        return asset
    move_asset(session, asset, "awaiting_parts", actor=actor, reason=reason or f"waiting for parts ({ws.number})")
    _record(ws, actor, "asset", "Asset awaiting parts" + (f": {reason}" if reason else ""))
    _touch(session, ws)
    return asset


# --- parts ---------------------------------------------------------------------------------------


def issue_part(
    session: Session,
    worksheet_id: uuid.UUID | str,
    spare_part_id: uuid.UUID | str,
    qty: int,
    *,
    idempotency_key: str,
    actor: Principal,
) -> InventoryTransaction:
    """Take `qty` units of a spare part off the shelf for this (open)
    worksheet, through the inventory ledger. The same idempotency key again
    issues nothing more and answers with the first entry; fewer units in stock
    than asked is refused by inventory (stock never goes below zero)."""
    actor.require(WRITE)
    ws = _locked(session, worksheet_id)  # a cancel waits for this issue, and the other way round
    _must_be_open(ws, "parts are issued")
    entry = inventory.issue_spare_part(
        session, spare_part_id, qty, worksheet_id=ws.id, idempotency_key=idempotency_key, actor=actor
    )
    _touch(session, ws)
    return entry


def return_part(
    session: Session,
    worksheet_id: uuid.UUID | str,
    spare_part_id: uuid.UUID | str,
    qty: int,
    *,
    idempotency_key: str,
    actor: Principal,
) -> InventoryTransaction:
    """Put unused units back on the shelf: at most what the worksheet holds
    of that part (inventory refuses more). Idempotent by key, like issuing."""
    actor.require(WRITE)
    ws = _locked(session, worksheet_id)
    _must_be_open(ws, "parts are returned")
    entry = inventory.return_spare_part(
        session, spare_part_id, qty, worksheet_id=ws.id, idempotency_key=idempotency_key, actor=actor
    )
    _touch(session, ws)
    return entry


def parts(session: Session, worksheet_id: uuid.UUID | str) -> list[inventory.IssuedPart]:
    """The spare parts the worksheet holds: issued, returned, used, cost."""
    return inventory.issued_to_worksheet(session, as_uuid(worksheet_id, "worksheet id"))


# --- final QC ------------------------------------------------------------------------------------


def _codes_done(session: Session, ws: Worksheet) -> int:
    return int(
        session.exec(
            select(func.count())
            .select_from(DeviceRepairCode)
            .where(DeviceRepairCode.worksheet_id == ws.id, col(DeviceRepairCode.done))
        ).one()
    )


def submit_for_qc(session: Session, worksheet_id: uuid.UUID | str, *, actor: Principal) -> Worksheet:
    """The repair is done: the worksheet goes to final QC and the asset from in
    repair to final QC. Something must have been done on it: a code done or a note."""
    actor.require(WRITE)
    ws = _locked(session, worksheet_id)
    _check_move(ws, "in_qc")
    if not _codes_done(session, ws) and not ws.notes.strip():
        raise ValidationFailed(
            f"worksheet {ws.number} shows no work yet: mark a repair code done or write a note first",
            code="nothing_done",
        )
    asset = _asset_of(session, ws)
    if asset.status != "in_repair":
        allowed = machine.asset_moves(asset.status, held_from=asset.held_from)
        raise InvalidTransition(
            f"asset {asset.number} is {_asset_words(asset.status)}: it goes to final QC from in repair"
            + (" (the parts are there? put it back in repair first)" if asset.status == "awaiting_parts" else "")
            + f"; allowed: {', '.join(_asset_words(a) for a in allowed) or 'none'}",
            details={"allowed": allowed},
        )
    move_asset(session, asset, "final_qc", actor=actor, reason=f"worksheet {ws.number} sent to final QC")
    now = utcnow()
    ws.status, ws.submitted_by_id, ws.submitted_at = "in_qc", actor.user_id, now
    _record(ws, actor, "submitted", "Sent to final QC")
    _touch(session, ws)
    return ws


def qc_pass(session: Session, worksheet_id: uuid.UUID | str, *, notes: str = "", actor: Principal) -> Worksheet:
    """Final QC passed: the worksheet is complete and the asset ready for dispatch."""
    actor.require(WRITE)
    notes = _text(notes, MAX_QC_NOTES, "the QC notes")
    ws = _locked(session, worksheet_id)
    _check_move(ws, "passed")
    asset = _asset_of(session, ws)
    move_asset(session, asset, "ready_for_dispatch", actor=actor, reason=f"final QC passed ({ws.number})")
    now = utcnow()
    ws.status, ws.qc_result, ws.qc_notes = "passed", "pass", notes
    ws.qc_by_id, ws.qc_at, ws.completed_at = actor.user_id, now, now
    _record(ws, actor, "qc_pass", "Passed final QC" + (f": {notes}" if notes else ""))
    _touch(session, ws)
    return ws


def qc_fail(session: Session, worksheet_id: uuid.UUID | str, notes: str, *, actor: Principal) -> Worksheet:
    """Final QC failed (say why): the worksheet is open again, the asset back
    in repair, and the failure counted."""
    actor.require(WRITE)
    notes = _text(notes, MAX_QC_NOTES, "the QC notes")
    if not notes:
        raise ValidationFailed(
            "say what failed in final QC (the technician reads it)",
            details={"fields": {"notes": "Say what failed."}},
        )
    ws = _locked(session, worksheet_id)
    _check_move(ws, "open")
    asset = _asset_of(session, ws)
    move_asset(session, asset, "in_repair", actor=actor, reason=f"final QC failed ({ws.number}): {notes}"[:500])
    ws.status, ws.qc_result, ws.qc_notes = "open", "fail", notes
    ws.qc_by_id, ws.qc_at = actor.user_id, utcnow()
    ws.qc_failures += 1
    _record(ws, actor, "qc_fail", f"Failed final QC: {notes}")
    _touch(session, ws)
    return ws


def cancel(session: Session, worksheet_id: uuid.UUID | str, *, reason: str = "", actor: Principal) -> Worksheet:
    """Cancel an open worksheet. Parts still issued to it are not returned by
    themselves: cancelling is refused until they are. Codes ticked done on it
    are open again (codes it added are taken off the asset)."""
    actor.require(WRITE)
    reason = _text(reason, 300, "the reason")
    ws = _locked(session, worksheet_id)
    _check_move(ws, "cancelled")
    held = [p for p in parts(session, ws.id) if p.used > 0]
    if held:
        names = ", ".join(f"{p.used} × {p.part.name}" for p in held)
        raise Conflict(
            f"worksheet {ws.number} still holds parts ({names}); return them before cancelling it",
            code="parts_still_issued",
            details={"parts": [{"sparePartId": str(p.part.id), "units": p.used} for p in held]},
        )
    for row in session.exec(select(DeviceRepairCode).where(DeviceRepairCode.worksheet_id == ws.id)).all():
        if row.source == "worksheet":
            session.delete(row)
        else:
            row.done, row.worksheet_id = False, None
            session.add(row)
    ws.status = "cancelled"
    _record(ws, actor, "cancelled", "Cancelled" + (f": {reason}" if reason else ""))
    _touch(session, ws)
    return ws


# --- reading -------------------------------------------------------------------------------------


def get_worksheet(session: Session, worksheet_id: uuid.UUID | str) -> Worksheet:
    return get_row(session, Worksheet, worksheet_id, "worksheet")


def open_for_asset(session: Session, asset_id: uuid.UUID | str) -> Worksheet | None:
    """The asset's worksheet being worked on or checked, if it has one (the
    asset page links it, or offers "Open worksheet")."""
    return _open_sheet(session, as_uuid(asset_id, "asset id"))


def worksheets_for_asset(session: Session, asset_id: uuid.UUID | str) -> list[Worksheet]:
    """Every worksheet of the asset, newest first."""
    return list(
        session.exec(
            select(Worksheet)
            .where(Worksheet.asset_id == as_uuid(asset_id, "asset id"))
            .order_by(col(Worksheet.created_at).desc())
        ).all()
    )


def assets_needing_worksheet(session: Session, search: str = "", limit: int = 20) -> list[RepairAsset]:
    """Assets in repair or awaiting parts without an open worksheet (the
    "Open worksheet" dialog), searched by number, IMEI or serial, oldest first."""
    active = select(Worksheet.asset_id).where(col(Worksheet.status).in_(ACTIVE))
    q = select(RepairAsset).where(col(RepairAsset.status).in_(OPENS_FOR), col(RepairAsset.id).not_in(active))
    for word in search.split()[:6]:
        pattern = like_pattern(word)
        q = q.where(
            or_(
                col(RepairAsset.number).ilike(pattern),
                col(RepairAsset.imei).ilike(pattern),
                col(RepairAsset.serial).ilike(pattern),
            )
        )
    q = q.order_by(col(RepairAsset.status_changed_at), col(RepairAsset.number)).limit(max(1, min(limit, 100)))
    return list(session.exec(q).all())


@dataclass
class WorksheetFilter:
    status: str = ""  # "" (all) | active (open or in QC) | open | in_qc | passed | cancelled
    technician_id: str = ""
    team_id: str = ""
    asset_id: str = ""
    search: str = ""  # words found in the worksheet's or the asset's number, the IMEI or the serial
    sort: str = "created"
    descending: bool = True
    page: int = 0
    page_size: int = 25


@dataclass
class WorksheetRow:
    worksheet: Worksheet
    asset_number: str
    asset_status: str
    imei: str
    serial: str
    device: str  # "Apple iPhone 12" or ""
    client: str
    technician: str
    team: str


def _device_words(dm: DeviceModel | None) -> str:
    return f"{dm.manufacturer} {dm.model}".strip() if dm else ""


def _rows(session: Session, model: type[T], ids: set[uuid.UUID]) -> list[T]:
    if not ids:
        return []
    return list(session.exec(select(model).where(col(model.id).in_(ids))).all())  # type: ignore[attr-defined]


def _names(session: Session, model: type[N], ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    return {row.id: row.name for row in _rows(session, model, ids)}


def list_worksheets(session: Session, f: WorksheetFilter) -> tuple[list[WorksheetRow], int]:
    """Worksheets searched, filtered, sorted and paged, and how many match in all."""
    statuses = machine.WORKSHEET_STATUS.values
    if f.status and f.status != "active" and f.status not in statuses:
        raise ValidationFailed(f"the status is active or one of {', '.join(statuses)}")
    if f.sort and f.sort not in SORTS:
        raise ValidationFailed(f"sort by one of {', '.join(SORTS)}")
    q = (
        select(Worksheet, RepairAsset)
        .join(RepairAsset, col(RepairAsset.id) == Worksheet.asset_id)
        .outerjoin(Technician, col(Technician.id) == Worksheet.technician_id)
        .outerjoin(RepairTeam, col(RepairTeam.id) == Worksheet.team_id)
    )
    if f.status == "active":
        q = q.where(col(Worksheet.status).in_(ACTIVE))
    elif f.status:
        q = q.where(Worksheet.status == f.status)
    if f.technician_id:
        q = q.where(Worksheet.technician_id == as_uuid(f.technician_id, "technician id"))
    if f.team_id:
        q = q.where(Worksheet.team_id == as_uuid(f.team_id, "team id"))
    if f.asset_id:
        q = q.where(Worksheet.asset_id == as_uuid(f.asset_id, "asset id"))
    for word in f.search.split()[:6]:
        pattern = like_pattern(word)
        q = q.where(
            or_(
                col(Worksheet.number).ilike(pattern),
                col(RepairAsset.number).ilike(pattern),
                col(RepairAsset.imei).ilike(pattern),
                col(RepairAsset.serial).ilike(pattern),
            )
        )
    total = session.exec(select(func.count()).select_from(q.subquery())).one()
    column = {
        "number": col(Worksheet.number),
        "asset": col(RepairAsset.number),
        "status": col(Worksheet.status),
        "technician": func.lower(func.coalesce(Technician.name, RepairTeam.name, "")),
        "labour": col(Worksheet.labour_minutes),
        "updated": col(Worksheet.updated_at),
    }.get(f.sort, col(Worksheet.created_at))
    size = max(1, min(f.page_size, 200))
    q = (
        q.order_by(column.desc() if f.descending else column.asc(), col(Worksheet.number).desc())
        .offset(max(0, f.page) * size)
        .limit(size)
    )
    found = list(session.exec(q).all())
    clients = _names(session, RepairClient, {a.client_id for _, a in found})
    models = {
        m.id: _device_words(m)
        for m in _rows(session, DeviceModel, {a.device_model_id for _, a in found if a.device_model_id})
    }
    techs = _names(session, Technician, {w.technician_id for w, _ in found if w.technician_id})
    teams = _names(session, RepairTeam, {w.team_id for w, _ in found if w.team_id})
    rows = [
        WorksheetRow(
            worksheet=ws,
            asset_number=asset.number,
            asset_status=asset.status,
            imei=asset.imei,
            serial=asset.serial,
            device=models.get(asset.device_model_id, "") if asset.device_model_id else "",
            client=clients.get(asset.client_id, ""),
            technician=techs.get(ws.technician_id, "") if ws.technician_id else "",
            team=teams.get(ws.team_id, "") if ws.team_id else "",
        )
        for ws, asset in found
    ]
    return rows, int(total)


def counts(session: Session) -> dict[str, int]:
    """Worksheets per status, `active` (open and in QC) and `all`."""
    out = dict.fromkeys(machine.WORKSHEET_STATUS.values, 0)
    for status, n in session.exec(select(Worksheet.status, func.count()).group_by(col(Worksheet.status))).all():
        out[status] = int(n)
    out["active"] = out["open"] + out["in_qc"]
    out["all"] = sum(out[s] for s in machine.WORKSHEET_STATUS.values)
    return out


@dataclass
class CodeLine:
    """A repair code on the worksheet's asset."""

    id: uuid.UUID
    code: str  # the repair code ("SCR-REPL"), or the tool's code while unmapped
    name: str
    source: str  # triage | drfone | drfone_auto | migrated | worksheet
    mapped: bool
    done: bool
    done_here: bool  # done on this worksheet
    done_on: str  # the number of another worksheet it was done on, or ""


@dataclass
class WorksheetDetail:
    worksheet: Worksheet
    asset: RepairAsset
    client: RepairClient
    device: str
    technician: Technician | None
    team: RepairTeam | None
    codes: list[CodeLine]
    parts: list[inventory.IssuedPart]
    codes_done: int
    allowed: list[str] = field(default_factory=list)  # the worksheet's next statuses


def _code_lines(session: Session, ws: Worksheet) -> list[CodeLine]:
    rows = session.exec(
        select(DeviceRepairCode, RepairCode)
        .outerjoin(RepairCode, col(RepairCode.id) == DeviceRepairCode.repair_code_id)
        .where(DeviceRepairCode.asset_id == ws.asset_id)
        .order_by(col(DeviceRepairCode.created_at), col(DeviceRepairCode.id))
    ).all()
    others = {r.worksheet_id for r, _ in rows if r.worksheet_id and r.worksheet_id != ws.id}
    numbers = (
        {w.id: w.number for w in session.exec(select(Worksheet).where(col(Worksheet.id).in_(others))).all()}
        if others
        else {}
    )
    out: list[CodeLine] = []
    seen: set[tuple[uuid.UUID | None, str]] = set()
    for r, code in rows:
        key = (r.repair_code_id, "" if r.repair_code_id else r.drfone_code)
        if key in seen and not r.done:
            continue  # the same code found twice (triage and a log): one line
        seen.add(key)
        out.append(
            CodeLine(
                id=r.id,
                code=code.code if code else r.drfone_code,
                name=code.name if code else (r.drfone_message or "Not mapped to a repair code yet"),
                source=r.source,
                mapped=code is not None,
                done=r.done,
                done_here=r.done and r.worksheet_id == ws.id,
                done_on=numbers.get(r.worksheet_id, "") if r.worksheet_id else "",
            )
        )
    return out


def detail(session: Session, worksheet_id: uuid.UUID | str) -> WorksheetDetail:
    """One worksheet with its asset, assignees, the asset's codes and the parts it holds."""
    ws = get_worksheet(session, worksheet_id)
    asset = session.get_one(RepairAsset, ws.asset_id)
    client = session.get_one(RepairClient, asset.client_id)
    dm = session.get(DeviceModel, asset.device_model_id) if asset.device_model_id else None
    codes = _code_lines(session, ws)
    return WorksheetDetail(
        worksheet=ws,
        asset=asset,
        client=client,
        device=_device_words(dm),
        technician=session.get(Technician, ws.technician_id) if ws.technician_id else None,
        team=session.get(RepairTeam, ws.team_id) if ws.team_id else None,
        codes=codes,
        parts=parts(session, ws.id),
        codes_done=sum(1 for c in codes if c.done_here),
        allowed=machine.WORKSHEET.allowed(ws.status),
    )


@dataclass
class Assignees:
    technicians: list[Technician]
    teams: list[RepairTeam]


def assignees(session: Session) -> Assignees:
    """The shop's technicians and teams in use, by name (the assign selects)."""
    return Assignees(
        technicians=list(
            session.exec(select(Technician).where(col(Technician.active)).order_by(func.lower(Technician.name))).all()
        ),
        teams=list(
            session.exec(select(RepairTeam).where(col(RepairTeam.active)).order_by(func.lower(RepairTeam.name))).all()
        ),
    )


def code_choices(session: Session) -> list[RepairCode]:
    """Repair codes in use the shop can mark done: the canonical ones and its own, by code."""
    return list(session.exec(select(RepairCode).where(col(RepairCode.active)).order_by(RepairCode.code)).all())
