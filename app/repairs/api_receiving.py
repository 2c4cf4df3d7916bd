"""Repairs API: receiving. Expected batches and their manifests, receiving
sessions and scans, assets (list, detail, hold, resume, moves by hand) and
their intake photos."""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal
from typing import Literal

from fastapi import APIRouter, Depends, File, Form, Query, UploadFile
from pydantic import BaseModel, Field

from app.platform.auth import Principal
from app.platform.db import tenant_session
from app.platform.photos import MAX_PHOTO_BYTES, PayloadTooLarge
from app.platform.web import Day, require
from app.repairs import machine, service
from app.repairs.models import AssetPhoto, ExpectedBatch, ExpectedDevice, ReceivingSession, RepairAsset
from app.repairs.service._common import READ, WRITE

router = APIRouter(tags=["repairs"])
MAX_SEARCH = 200

BatchStatus = Literal["", "expected", "receiving", "received", "closed"]
AssetStatus = Literal[
    "",
    "received",
    "in_triage",
    "ber_review",
    "awaiting_parts",
    "in_repair",
    "final_qc",
    "ready_for_dispatch",
    "return_unrepaired",
    "scrapped",
    "dispatched",
    "invoiced",
    "on_hold",
]


# --- JSON shapes ------------------------------------------------------------------------------


def batch_json(b: ExpectedBatch, client_name: str = "") -> dict:
    return {
        "id": str(b.id),
        "number": b.number,
        "clientId": str(b.client_id),
        "clientName": client_name,
        "clientReference": b.client_reference,
        "status": b.status,
        "expectedCount": b.expected_count,
        "receivedCount": b.received_count,
        "flaggedCount": b.flagged_count,
        "sessionCount": b.session_count,
        "expectedOn": b.expected_on,
        "notes": b.notes,
        "createdAt": b.created_at,
        "closedAt": b.closed_at,
    }


def line_json(d: ExpectedDevice, model_name: str = "", asset_number: str = "") -> dict:
    return {
        "id": str(d.id),
        "imei": d.imei,
        "serial": d.serial,
        "deviceModelId": str(d.device_model_id) if d.device_model_id else None,
        "modelName": model_name,
        "description": d.description,
        "fault": d.fault,
        "declaredValue": d.declared_value,
        "assetId": str(d.asset_id) if d.asset_id else None,
        "assetNumber": asset_number or None,
    }


def session_json(s: ReceivingSession, started_by: str = "") -> dict:
    return {
        "id": str(s.id),
        "batchId": str(s.batch_id),
        "scannedCount": s.scanned_count,
        "flaggedCount": s.flagged_count,
        "startedBy": started_by or None,
        "startedAt": s.started_at,
        "closedAt": s.closed_at,
        "open": s.closed_at is None,
    }


def asset_json(a: RepairAsset, client_name: str = "", batch_number: str = "", model_name: str = "") -> dict:
    return {
        "id": str(a.id),
        "number": a.number,
        "batchId": str(a.batch_id),
        "batchNumber": batch_number,
        "clientId": str(a.client_id),
        "clientName": client_name,
        "deviceModelId": str(a.device_model_id) if a.device_model_id else None,
        "modelName": model_name,
        "imei": a.imei,
        "serial": a.serial,
        "variant": a.variant,
        "condition": a.condition,
        "conditionNotes": a.condition_notes,
        "accessories": a.accessories,
        "fault": a.fault,
        "declaredValue": a.declared_value,
        "notOnBatch": a.not_on_batch,
        "status": a.status,
        "heldFrom": a.held_from or None,
        "holdReason": a.hold_reason,
        "receivedAt": a.received_at,
        "statusChangedAt": a.status_changed_at,
    }


def photo_json(p: AssetPhoto) -> dict:
    return {
        "id": str(p.id),
        "url": f"/api/v1/files/{p.storage_key}",
        "thumbnailUrl": f"/api/v1/files/{p.thumbnail_key}",
        "width": p.width,
        "height": p.height,
        "caption": p.caption,
        "createdAt": p.created_at,
    }


def detail_json(d: service.receiving.AssetDetail) -> dict:
    r = d.row
    return {
        **asset_json(r.asset, r.client_name, r.batch_number, r.model_name),
        "allowedMoves": machine.asset_moves(r.asset.status, held_from=r.asset.held_from),
        "handMoves": d.hand_moves,
        "history": [
            {
                "from": h.change.from_status or None,
                "to": h.change.to_status,
                "reason": h.change.reason,
                "by": h.who or None,
                "at": h.change.changed_at,
            }
            for h in d.history
        ],
        "photos": [photo_json(p) for p in d.photos],
        "repairCodes": [{"code": c.code, "name": c.name, "source": c.source, "done": c.done} for c in d.codes],
        "worksheets": [{"id": str(w.id), "number": w.number, "status": w.status} for w in d.worksheets],
        "berReviews": [
            {"id": str(b.id), "decision": b.decision or None, "costPercent": b.cost_percent, "createdAt": b.created_at}
            for b in d.ber_reviews
        ],
    }


# --- batches ----------------------------------------------------------------------------------


@router.get("/repairs/batches")
def list_batches(
    principal: Principal = Depends(require(READ)),
    search: str = Query("", max_length=MAX_SEARCH),
    status: BatchStatus = "",
    client_id: uuid.UUID | None = Query(None, alias="clientId"),
    sort: Literal["number", "client", "expected_on", "created", "status", "progress"] = "created",
    descending: bool = True,
    page: int = Query(0, ge=0, le=100_000),
    page_size: int = Query(25, ge=1, le=200, alias="pageSize"),
) -> dict:
    with tenant_session(principal.tenant_id) as s:
        rows, total = service.receiving.list_batches(
            s,
            service.receiving.BatchFilter(
                search=search,
                status=status,
                client_id=client_id,
                sort=sort,
                descending=descending,
                page=page,
                page_size=page_size,
            ),
        )
        return {"items": [batch_json(r.batch, r.client_name) for r in rows], "total": total, "page": page}


class LineBody(BaseModel):
    imei: str = Field("", max_length=30)
    serial: str = Field("", max_length=60)
    deviceModelId: uuid.UUID | None = None
    model: str = Field("", max_length=200)
    fault: str = Field("", max_length=500)
    declaredValue: Decimal | None = Field(None, ge=0, le=Decimal("9999999999.99"))


class BatchBody(BaseModel):
    clientId: uuid.UUID
    clientReference: str = Field(min_length=1, max_length=100)
    expectedCount: int | None = Field(None, ge=0, le=100_000)
    expectedOn: Day | None = None
    notes: str = Field("", max_length=2000)
    lines: list[LineBody] = Field(default_factory=list, max_length=2000)
    manifestCsv: str = Field("", max_length=400_000)  # or the manifest as CSV text


@router.post("/repairs/batches", status_code=201)
def create_batch(body: BatchBody, principal: Principal = Depends(require(WRITE))) -> dict:
    lines = [
        service.receiving.ManifestLine(
            imei=line.imei,
            serial=line.serial,
            device_model_id=line.deviceModelId,
            model=line.model,
            fault=line.fault,
            declared_value=line.declaredValue,
        )
        for line in body.lines
    ] + service.receiving.parse_manifest(body.manifestCsv)
    with tenant_session(principal.tenant_id) as s:
        batch = service.receiving.create_batch(
            s,
            service.receiving.BatchData(
                client_id=body.clientId,
                client_reference=body.clientReference,
                expected_count=body.expectedCount,
                expected_on=body.expectedOn,
                notes=body.notes,
                lines=lines,
            ),
            actor=principal,
        )
        s.commit()
        return batch_json(batch)


@router.get("/repairs/batches/{batch_id}")
def get_batch(batch_id: uuid.UUID, principal: Principal = Depends(require(READ))) -> dict:
    with tenant_session(principal.tenant_id) as s:
        d = service.receiving.get_batch(s, batch_id)
        return {
            **batch_json(d.batch, d.client_name),
            "manifest": [line_json(m.line, m.model_name, m.asset_number) for m in d.manifest],
            "sessions": [session_json(x.session, x.started_by) for x in d.sessions],
            "flagged": [asset_json(a) for a in d.flagged],
            "openSessionId": str(d.open_session_id) if d.open_session_id else None,
        }


@router.post("/repairs/batches/{batch_id}/sessions", status_code=201)
def start_session(batch_id: uuid.UUID, principal: Principal = Depends(require(WRITE))) -> dict:
    with tenant_session(principal.tenant_id) as s:
        rs = service.receiving.start_session(s, batch_id, actor=principal)
        s.commit()
        return session_json(rs)


@router.post("/repairs/batches/{batch_id}/received")
def mark_received(batch_id: uuid.UUID, principal: Principal = Depends(require(WRITE))) -> dict:
    with tenant_session(principal.tenant_id) as s:
        batch = service.receiving.mark_received(s, batch_id, actor=principal)
        s.commit()
        return batch_json(batch)


@router.post("/repairs/batches/{batch_id}/close")
def close_batch(batch_id: uuid.UUID, principal: Principal = Depends(require(WRITE))) -> dict:
    with tenant_session(principal.tenant_id) as s:
        batch = service.receiving.close_batch(s, batch_id, actor=principal)
        s.commit()
        return batch_json(batch)


# --- receiving sessions -----------------------------------------------------------------------


@router.get("/repairs/receiving-sessions/{session_id}")
def get_session(session_id: uuid.UUID, principal: Principal = Depends(require(READ))) -> dict:
    with tenant_session(principal.tenant_id) as s:
        rs = service.receiving.get_session(s, session_id)
        assets = service.receiving.session_assets(s, rs.id)
        return {**session_json(rs), "assets": [asset_json(a) for a in assets]}


class ScanBody(BaseModel):
    code: str = Field("", max_length=80)  # what the scanner typed: an IMEI or a serial
    imei: str = Field("", max_length=30)
    serial: str = Field("", max_length=60)
    deviceModelId: uuid.UUID | None = None
    variant: str = Field("", max_length=100)
    condition: Literal["", "A", "B", "C", "D"] = ""
    conditionNotes: str = Field("", max_length=1000)
    accessories: list[str] = Field(default_factory=list, max_length=12)
    fault: str = Field("", max_length=500)


@router.post("/repairs/receiving-sessions/{session_id}/scans")
def scan(session_id: uuid.UUID, body: ScanBody, principal: Principal = Depends(require(WRITE))) -> dict:
    """Receive a device. 201 for a new asset, 200 with `alreadyReceived` when the batch already holds it."""
    with tenant_session(principal.tenant_id) as s:
        result = service.receiving.scan(
            s,
            session_id,
            service.receiving.ScanData(
                code=body.code,
                imei=body.imei,
                serial=body.serial,
                device_model_id=body.deviceModelId,
                variant=body.variant,
                condition=body.condition,
                condition_notes=body.conditionNotes,
                accessories=[a[:40] for a in body.accessories],
                fault=body.fault,
            ),
            actor=principal,
        )
        s.commit()
        return {
            **asset_json(result.asset),
            "alreadyReceived": not result.created,
            "message": result.message,
        }


@router.post("/repairs/receiving-sessions/{session_id}/close")
def close_session(session_id: uuid.UUID, principal: Principal = Depends(require(WRITE))) -> dict:
    with tenant_session(principal.tenant_id) as s:
        batch = service.receiving.close_session(s, session_id, actor=principal)
        s.commit()
        return batch_json(batch)


# --- assets -----------------------------------------------------------------------------------


@router.get("/repairs/assets")
def list_assets(
    principal: Principal = Depends(require(READ)),
    search: str = Query("", max_length=MAX_SEARCH),
    status: AssetStatus = "",
    client_id: uuid.UUID | None = Query(None, alias="clientId"),
    batch_id: uuid.UUID | None = Query(None, alias="batchId"),
    sort: Literal["number", "received", "status", "changed", "client", "model"] = "received",
    descending: bool = True,
    page: int = Query(0, ge=0, le=100_000),
    page_size: int = Query(25, ge=1, le=200, alias="pageSize"),
) -> dict:
    with tenant_session(principal.tenant_id) as s:
        rows, total = service.receiving.list_assets(
            s,
            service.receiving.AssetFilter(
                search=search,
                status=status,
                client_id=client_id,
                batch_id=batch_id,
                sort=sort,
                descending=descending,
                page=page,
                page_size=page_size,
            ),
        )
        return {
            "items": [asset_json(r.asset, r.client_name, r.batch_number, r.model_name) for r in rows],
            "total": total,
            "page": page,
        }


@router.get("/repairs/assets/{asset_id}")
def get_asset(asset_id: uuid.UUID, principal: Principal = Depends(require(READ))) -> dict:
    with tenant_session(principal.tenant_id) as s:
        return detail_json(service.receiving.get_asset(s, asset_id))


class HoldBody(BaseModel):
    reason: str = Field(min_length=1, max_length=500)


@router.post("/repairs/assets/{asset_id}/hold")
def hold(asset_id: uuid.UUID, body: HoldBody, principal: Principal = Depends(require(WRITE))) -> dict:
    with tenant_session(principal.tenant_id) as s:
        service.receiving.hold(s, asset_id, body.reason, actor=principal)
        s.commit()
        return detail_json(service.receiving.get_asset(s, asset_id))


@router.post("/repairs/assets/{asset_id}/resume")
def resume(asset_id: uuid.UUID, principal: Principal = Depends(require(WRITE))) -> dict:
    with tenant_session(principal.tenant_id) as s:
        service.receiving.resume(s, asset_id, actor=principal)
        s.commit()
        return detail_json(service.receiving.get_asset(s, asset_id))


class MoveBody(BaseModel):
    status: str = Field(min_length=1, max_length=30)
    reason: str = Field("", max_length=500)


@router.post("/repairs/assets/{asset_id}/moves")
def move(asset_id: uuid.UUID, body: MoveBody, principal: Principal = Depends(require(WRITE))) -> dict:
    """A move by hand (start triage, hold, awaiting parts ↔ in repair); refusals list the allowed moves."""
    with tenant_session(principal.tenant_id) as s:
        service.receiving.move(s, asset_id, body.status, reason=body.reason, actor=principal)
        s.commit()
        return detail_json(service.receiving.get_asset(s, asset_id))


@router.post("/repairs/assets/{asset_id}/photos", status_code=201)
async def upload_photo(
    asset_id: uuid.UUID,
    file: UploadFile = File(...),
    caption: str = Form("", max_length=200),
    principal: Principal = Depends(require(WRITE)),
) -> dict:
    data = await file.read(MAX_PHOTO_BYTES + 1)
    if len(data) > MAX_PHOTO_BYTES:
        raise PayloadTooLarge(f"the photo is larger than {MAX_PHOTO_BYTES // (1024 * 1024)} MB")

    def work() -> dict:
        with tenant_session(principal.tenant_id) as s:
            photo = service.receiving.add_photo(s, asset_id, data, caption=caption, actor=principal)
            s.commit()
            return photo_json(photo)

    return await asyncio.to_thread(work)


@router.delete("/repairs/asset-photos/{photo_id}", status_code=204)
def delete_photo(photo_id: uuid.UUID, principal: Principal = Depends(require(WRITE))) -> None:
    with tenant_session(principal.tenant_id) as s:
        service.receiving.delete_photo(s, photo_id, actor=principal)
        s.commit()
