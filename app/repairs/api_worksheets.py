"""Repairs API: worksheets. Open one for an asset in repair, assign it, log
labour, write notes, mark repair codes done, issue spare parts to it and
return them (with an Idempotency-Key header: the same request again moves
stock once), send it to final QC, pass or fail it, cancel it."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Query
from pydantic import BaseModel, Field

from app.platform.auth import Principal
from app.platform.db import tenant_session
from app.platform.web import require
from app.repairs.models import Worksheet
from app.repairs.service import worksheets as service
from app.repairs.service._common import READ, WRITE

router = APIRouter(tags=["repairs"])
BASE = "/repairs/worksheets"
IdempotencyKey = Annotated[str, Header(alias="Idempotency-Key", min_length=1, max_length=100)]


# --- JSON shapes ------------------------------------------------------------------------------


def _id(value: uuid.UUID | None) -> str | None:
    return str(value) if value else None


def worksheet_json(ws: Worksheet) -> dict:
    return {
        "id": str(ws.id),
        "number": ws.number,
        "assetId": str(ws.asset_id),
        "technicianId": _id(ws.technician_id),
        "teamId": _id(ws.team_id),
        "status": ws.status,
        "labourMinutes": ws.labour_minutes,
        "notes": ws.notes,
        "qcResult": ws.qc_result or None,
        "qcNotes": ws.qc_notes or None,
        "qcFailures": ws.qc_failures,
        "qcById": _id(ws.qc_by_id),
        "qcAt": ws.qc_at,
        "submittedById": _id(ws.submitted_by_id),
        "submittedAt": ws.submitted_at,
        "createdById": _id(ws.created_by_id),
        "createdAt": ws.created_at,
        "updatedAt": ws.updated_at,
        "completedAt": ws.completed_at,
    }


def _row_json(r: service.WorksheetRow) -> dict:
    return {
        **worksheet_json(r.worksheet),
        "asset": {
            "number": r.asset_number,
            "status": r.asset_status,
            "imei": r.imei or None,
            "serial": r.serial or None,
            "device": r.device or None,
            "client": r.client,
        },
        "technician": r.technician or None,
        "team": r.team or None,
    }


def _parts_json(rows: list) -> dict:
    return {
        "spareParts": [
            {
                "sparePartId": str(p.part.id),
                "sku": p.part.sku,
                "name": p.part.name,
                "issued": p.issued,
                "returned": p.returned,
                "used": p.used,
                "unitCost": str(p.unit_cost),
                "cost": str(p.cost),
            }
            for p in rows
        ],
        "totalCost": str(sum((p.cost for p in rows), Decimal("0.00"))),
    }


def _detail_json(d: service.WorksheetDetail) -> dict:
    a = d.asset
    return {
        **worksheet_json(d.worksheet),
        "allowed": d.allowed,
        "asset": {
            "id": str(a.id),
            "number": a.number,
            "status": a.status,
            "imei": a.imei or None,
            "serial": a.serial or None,
            "device": d.device or None,
            "fault": a.fault or None,
            "client": {"id": str(d.client.id), "name": d.client.name},
        },
        "technician": {"id": str(d.technician.id), "name": d.technician.name} if d.technician else None,
        "team": {"id": str(d.team.id), "name": d.team.name} if d.team else None,
        "codes": [
            {
                "id": str(c.id),
                "code": c.code,
                "name": c.name,
                "source": c.source,
                "mapped": c.mapped,
                "done": c.done,
                "doneHere": c.done_here,
                "doneOn": c.done_on or None,
            }
            for c in d.codes
        ],
        "parts": _parts_json(d.parts),
        "labour": [
            {"at": h.get("at"), "who": h.get("who"), "minutes": h.get("minutes"), "note": h.get("note") or None}
            for h in service.labour_entries(d.worksheet)
        ],
        "history": [
            {"at": h.get("at"), "who": h.get("who"), "kind": h.get("kind"), "text": h.get("text")}
            for h in d.worksheet.history or []
        ],
    }


def _detail(principal: Principal, worksheet_id: uuid.UUID) -> dict:
    with tenant_session(principal.tenant_id) as s:
        return _detail_json(service.detail(s, worksheet_id))


# --- bodies -------------------------------------------------------------------------------------


class OpenBody(BaseModel):
    assetId: uuid.UUID
    technicianId: uuid.UUID | None = None
    teamId: uuid.UUID | None = None


class AssignBody(BaseModel):
    technicianId: uuid.UUID | None = None
    teamId: uuid.UUID | None = None


class LabourBody(BaseModel):
    minutes: int = Field(ge=1, le=service.MAX_MINUTES)
    note: str = Field("", max_length=300)


class NotesBody(BaseModel):
    notes: str = Field(max_length=service.MAX_NOTES)


class CodeBody(BaseModel):
    repairCodeId: uuid.UUID


class DoneBody(BaseModel):
    done: bool


class PartBody(BaseModel):
    sparePartId: uuid.UUID
    quantity: int = Field(ge=1, le=100_000)


class QcBody(BaseModel):
    notes: str = Field("", max_length=service.MAX_QC_NOTES)


class FailBody(BaseModel):
    notes: str = Field(min_length=1, max_length=service.MAX_QC_NOTES)


class ReasonBody(BaseModel):
    reason: str = Field("", max_length=300)


# --- routes -------------------------------------------------------------------------------------


@router.get(BASE)
def list_worksheets(
    principal: Principal = Depends(require(READ)),
    status: Literal["", "active", "open", "in_qc", "passed", "cancelled"] = "",
    technician_id: uuid.UUID | None = Query(None, alias="technicianId"),
    team_id: uuid.UUID | None = Query(None, alias="teamId"),
    asset_id: uuid.UUID | None = Query(None, alias="assetId"),
    search: str = Query("", max_length=200),
    sort: Literal["number", "asset", "status", "technician", "labour", "created", "updated"] = "created",
    descending: bool = True,
    page: int = Query(0, ge=0, le=100_000),
    page_size: int = Query(25, ge=1, le=200, alias="pageSize"),
) -> dict:
    """Worksheets, filtered by status (`active`: open or in final QC), technician, team
    or asset, searched by worksheet or asset number, IMEI or serial."""
    f = service.WorksheetFilter(
        status=status,
        technician_id=str(technician_id or ""),
        team_id=str(team_id or ""),
        asset_id=str(asset_id or ""),
        search=search,
        sort=sort,
        descending=descending,
        page=page,
        page_size=page_size,
    )
    with tenant_session(principal.tenant_id) as s:
        rows, total = service.list_worksheets(s, f)
        return {
            "total": total,
            "page": page,
            "pageSize": page_size,
            "counts": service.counts(s),
            "worksheets": [_row_json(r) for r in rows],
        }


@router.post(BASE, status_code=201)
def open_worksheet(body: OpenBody, principal: Principal = Depends(require(WRITE))) -> dict:
    """A worksheet for an asset in repair or awaiting parts (409 when the asset is in
    another status or already has an open worksheet, which the answer names)."""
    with tenant_session(principal.tenant_id) as s:
        ws = service.open_worksheet(
            s, body.assetId, technician_id=body.technicianId, team_id=body.teamId, actor=principal
        )
        s.commit()
        return _detail_json(service.detail(s, ws.id))


@router.get(BASE + "/{worksheet_id}")
def get_worksheet(worksheet_id: uuid.UUID, principal: Principal = Depends(require(READ))) -> dict:
    """One worksheet: its asset, assignees, the asset's codes, parts, labour and history."""
    return _detail(principal, worksheet_id)


@router.put(BASE + "/{worksheet_id}/assignment")
def assign(worksheet_id: uuid.UUID, body: AssignBody, principal: Principal = Depends(require(WRITE))) -> dict:
    """Give it to a technician and/or a team (both null: nobody)."""
    with tenant_session(principal.tenant_id) as s:
        service.assign(s, worksheet_id, technician_id=body.technicianId, team_id=body.teamId, actor=principal)
        s.commit()
    return _detail(principal, worksheet_id)


@router.post(BASE + "/{worksheet_id}/labour", status_code=201)
def log_labour(worksheet_id: uuid.UUID, body: LabourBody, principal: Principal = Depends(require(WRITE))) -> dict:
    """Minutes of work (1 to 1,440); the entries add up."""
    with tenant_session(principal.tenant_id) as s:
        service.log_labour(s, worksheet_id, body.minutes, note=body.note, actor=principal)
        s.commit()
    return _detail(principal, worksheet_id)


@router.put(BASE + "/{worksheet_id}/notes")
def set_notes(worksheet_id: uuid.UUID, body: NotesBody, principal: Principal = Depends(require(WRITE))) -> dict:
    with tenant_session(principal.tenant_id) as s:
        service.set_notes(s, worksheet_id, body.notes, actor=principal)
        s.commit()
    return _detail(principal, worksheet_id)


@router.post(BASE + "/{worksheet_id}/codes", status_code=201)
def add_code_done(worksheet_id: uuid.UUID, body: CodeBody, principal: Principal = Depends(require(WRITE))) -> dict:
    """A repair code done on this worksheet (the asset's row ticked, or a new one)."""
    with tenant_session(principal.tenant_id) as s:
        service.add_code_done(s, worksheet_id, body.repairCodeId, actor=principal)
        s.commit()
    return _detail(principal, worksheet_id)


@router.put(BASE + "/{worksheet_id}/codes/{code_id}")
def set_code_done(
    worksheet_id: uuid.UUID, code_id: uuid.UUID, body: DoneBody, principal: Principal = Depends(require(WRITE))
) -> dict:
    """Tick or untick one of the asset's repair codes as done on this worksheet."""
    with tenant_session(principal.tenant_id) as s:
        service.set_code_done(s, worksheet_id, code_id, body.done, actor=principal)
        s.commit()
    return _detail(principal, worksheet_id)


@router.get(BASE + "/{worksheet_id}/parts")
def worksheet_parts(worksheet_id: uuid.UUID, principal: Principal = Depends(require(READ))) -> dict:
    with tenant_session(principal.tenant_id) as s:
        service.get_worksheet(s, worksheet_id)
        return {"worksheetId": str(worksheet_id), **_parts_json(service.parts(s, worksheet_id))}


def _part_move(kind: str, worksheet_id: uuid.UUID, body: PartBody, key: str, principal: Principal) -> dict:
    move = service.issue_part if kind == "issue" else service.return_part
    with tenant_session(principal.tenant_id) as s:
        entry = move(s, worksheet_id, body.sparePartId, body.quantity, idempotency_key=key, actor=principal)
        s.commit()
        out = {
            "transactionId": str(entry.id),
            "transactionType": entry.transaction_type,
            "quantity": entry.quantity,
            "stockAfter": entry.stock_after,
        }
    return {"transaction": out, "worksheet": _detail(principal, worksheet_id)}


@router.post(BASE + "/{worksheet_id}/parts/issue", status_code=201)
def issue_part(
    worksheet_id: uuid.UUID,
    body: PartBody,
    idempotency_key: IdempotencyKey,
    principal: Principal = Depends(require(WRITE)),
) -> dict:
    """Units of a spare part taken off the shelf for this worksheet (409 when fewer are
    in stock). The same Idempotency-Key again answers with the first entry."""
    return _part_move("issue", worksheet_id, body, idempotency_key, principal)


@router.post(BASE + "/{worksheet_id}/parts/return", status_code=201)
def return_part(
    worksheet_id: uuid.UUID,
    body: PartBody,
    idempotency_key: IdempotencyKey,
    principal: Principal = Depends(require(WRITE)),
) -> dict:
    """Unused units back on the shelf (409 when more than the worksheet holds)."""
    return _part_move("return", worksheet_id, body, idempotency_key, principal)


@router.post(BASE + "/{worksheet_id}/asset/resume")
def resume_repair(worksheet_id: uuid.UUID, principal: Principal = Depends(require(WRITE))) -> dict:
    """The parts are there: the asset goes from awaiting parts back to in repair."""
    with tenant_session(principal.tenant_id) as s:
        service.resume_repair(s, worksheet_id, actor=principal)
        s.commit()
    return _detail(principal, worksheet_id)


@router.post(BASE + "/{worksheet_id}/asset/awaiting-parts")
def wait_for_parts(worksheet_id: uuid.UUID, body: ReasonBody, principal: Principal = Depends(require(WRITE))) -> dict:
    """The repair waits for parts: the asset is awaiting parts."""
    with tenant_session(principal.tenant_id) as s:
        service.wait_for_parts(s, worksheet_id, reason=body.reason, actor=principal)
        s.commit()
    return _detail(principal, worksheet_id)


@router.post(BASE + "/{worksheet_id}/submit")
def submit_for_qc(worksheet_id: uuid.UUID, principal: Principal = Depends(require(WRITE))) -> dict:
    """Send it to final QC (the asset too); a code done or a note is needed."""
    with tenant_session(principal.tenant_id) as s:
        service.submit_for_qc(s, worksheet_id, actor=principal)
        s.commit()
    return _detail(principal, worksheet_id)


@router.post(BASE + "/{worksheet_id}/qc-pass")
def qc_pass(worksheet_id: uuid.UUID, body: QcBody, principal: Principal = Depends(require(WRITE))) -> dict:
    """Final QC passed: the worksheet is complete, the asset ready for dispatch."""
    with tenant_session(principal.tenant_id) as s:
        service.qc_pass(s, worksheet_id, notes=body.notes, actor=principal)
        s.commit()
    return _detail(principal, worksheet_id)


@router.post(BASE + "/{worksheet_id}/qc-fail")
def qc_fail(worksheet_id: uuid.UUID, body: FailBody, principal: Principal = Depends(require(WRITE))) -> dict:
    """Final QC failed (notes required): back to work, the asset back in repair."""
    with tenant_session(principal.tenant_id) as s:
        service.qc_fail(s, worksheet_id, body.notes, actor=principal)
        s.commit()
    return _detail(principal, worksheet_id)


@router.post(BASE + "/{worksheet_id}/cancel")
def cancel(worksheet_id: uuid.UUID, body: ReasonBody, principal: Principal = Depends(require(WRITE))) -> dict:
    """Cancel an open worksheet (409 while it still holds parts: return them first)."""
    with tenant_session(principal.tenant_id) as s:
        service.cancel(s, worksheet_id, reason=body.reason, actor=principal)
        s.commit()
    return _detail(principal, worksheet_id)
