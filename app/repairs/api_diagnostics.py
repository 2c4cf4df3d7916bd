"""Repairs REST API, diagnostics: diagnostic-log uploads (multipart, read by a
background job) and their results, the seed's seven drfone code-mapping
routes (list, get, create, update, delete, resolve, and the list of codes),
the unmapped-codes queue and its count for reports. Reading needs
`repairs.read`, changing `repairs.write`."""

from __future__ import annotations

import asyncio
import uuid
from typing import Literal

from fastapi import APIRouter, Depends, File, Form, Query, UploadFile
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from app.platform.auth import Principal
from app.platform.db import tenant_session
from app.platform.errors import ValidationFailed
from app.platform.web import require
from app.repairs.service import diagnostics as service
from app.repairs.service._common import READ, WRITE

router = APIRouter(tags=["repairs"])
MAX_SEARCH = 200
LogStatus = Literal["", "queued", "parsing", "parsed", "failed"]


def _page(total: int, page: int, size: int, key: str, items: list[dict]) -> dict:
    return {"total": total, "page": page, "pageSize": size, key: items}


# --- JSON shapes ----------------------------------------------------------------------------------


def log_json(r: service.LogRow) -> dict:
    row = r.log
    return {
        "id": str(row.id),
        "filename": row.filename,
        "fileHash": row.file_hash,
        "sizeBytes": row.size_bytes,
        "status": row.status,
        "error": row.error or None,
        "assetId": str(row.asset_id) if row.asset_id else None,
        "assetNumber": r.asset_number or None,
        "imei": row.imei or None,
        "serial": row.serial or None,
        "tool": row.tool or None,
        "testedAt": row.tested_at,
        "codesFound": row.codes_found,
        "mappedCount": row.mapped_count,
        "unmappedCount": row.unmapped_count,
        "waitingNow": r.waiting,  # its codes still without a repair code (mappings made since it was read count)
        "createdAt": row.created_at,
        "parsedAt": row.parsed_at,
    }


def code_json(c: service.CodeRow) -> dict:
    r = c.row
    return {
        "id": str(r.id),
        "assetId": str(r.asset_id) if r.asset_id else None,
        "assetNumber": c.asset_number or None,
        "source": r.source,
        "drfoneCode": r.drfone_code or None,
        "message": r.drfone_message or None,
        "repairCodeId": str(r.repair_code_id) if r.repair_code_id else None,
        "repairCode": c.repair_code or None,
        "repairCodeName": c.repair_code_name or None,
        "diagnosticLogId": str(r.diagnostic_log_id) if r.diagnostic_log_id else None,
        "createdAt": r.created_at,
        "mappedAt": r.mapped_at,
    }


def mapping_json(m: service.MappingRow) -> dict:
    return {
        "id": str(m.mapping.id),
        "drfoneCode": m.mapping.drfone_code,
        "repairCodeId": str(m.mapping.repair_code_id),
        "repairCode": m.repair_code,
        "repairCodeName": m.repair_code_name,
        "description": m.mapping.description,
        "applied": m.applied,
        "createdAt": m.mapping.created_at,
    }


def waiting_json(w: service.WaitingCode) -> dict:
    return {
        "drfoneCode": w.drfone_code,
        "count": w.count,
        "devices": w.devices,
        "firstSeen": w.first_seen,
        "lastSeen": w.last_seen,
        "message": w.message,
        "examples": w.examples,
        "area": w.area or None,
        "suggestedRepairCode": w.suggestion or None,
    }


# --- diagnostic logs ------------------------------------------------------------------------------


@router.post("/repairs/diagnostic-logs", status_code=201)
async def upload_log(
    file: UploadFile = File(...),
    asset_id: uuid.UUID | None = Form(None, alias="assetId"),
    principal: Principal = Depends(require(WRITE)),
):
    """Upload a diagnostic-tool export (text, at most 1 MB). 201 with the new
    log (queued for reading); 200 with the existing one when the same file was
    uploaded before (`alreadyUploaded`)."""
    data = await file.read(service.MAX_LOG_BYTES + 1)
    if len(data) > service.MAX_LOG_BYTES:
        raise ValidationFailed("the file is larger than 1 MB; a diagnostic log may be at most 1 MB", code="too_large")

    def work() -> tuple[dict, bool]:
        with tenant_session(principal.tenant_id) as s:
            done = service.upload(s, file.filename or "", data, asset_id=asset_id, actor=principal)
            s.commit()
            row = service.get_log(s, done.log.id)
            return {**log_json(row), "alreadyUploaded": done.duplicate}, done.duplicate

    body, duplicate = await asyncio.to_thread(work)
    return JSONResponse(jsonable_encoder(body), status_code=200 if duplicate else 201)


@router.get("/repairs/diagnostic-logs")
def list_logs(
    principal: Principal = Depends(require(READ)),
    search: str = Query("", max_length=MAX_SEARCH),
    status: LogStatus = "",
    asset_id: uuid.UUID | None = Query(None, alias="assetId"),
    sort: Literal["created", "filename", "status", "codes", "unmapped"] = "created",
    descending: bool = True,
    page: int = Query(0, ge=0, le=100_000),
    page_size: int = Query(25, ge=1, le=200, alias="pageSize"),
) -> dict:
    f = service.LogFilter(
        search=search,
        status=status,
        asset_id=asset_id,
        sort=sort,
        descending=descending,
        page=page,
        page_size=page_size,
    )
    with tenant_session(principal.tenant_id) as s:
        rows, total = service.list_logs(s, f)
        return _page(total, page, page_size, "logs", [log_json(r) for r in rows])


@router.get("/repairs/diagnostic-logs/{log_id}")
def get_log(log_id: uuid.UUID, principal: Principal = Depends(require(READ))) -> dict:
    """A log with the codes it brought (mapped ones with their repair code)."""
    with tenant_session(principal.tenant_id) as s:
        row = service.get_log(s, log_id)
        return {**log_json(row), "codes": [code_json(c) for c in service.log_codes(s, log_id)]}


@router.post("/repairs/diagnostic-logs/{log_id}/retry")
def retry_log(log_id: uuid.UUID, principal: Principal = Depends(require(WRITE))) -> dict:
    """Read a failed log again."""
    with tenant_session(principal.tenant_id) as s:
        service.retry_log(s, log_id, actor=principal)
        s.commit()
        row = service.get_log(s, log_id)
        return log_json(row)


@router.get("/repairs/assets/{asset_id}/repair-codes")
def asset_codes(asset_id: uuid.UUID, principal: Principal = Depends(require(READ))) -> dict:
    """Every repair code on an asset, from triage, logs, legacy imports and worksheets."""
    with tenant_session(principal.tenant_id) as s:
        return {"codes": [code_json(c) for c in service.asset_codes(s, asset_id)]}


# --- code mappings (the seed's seven routes) ------------------------------------------------------


class MappingBody(BaseModel):
    drfoneCode: str = Field(min_length=2, max_length=60)
    repairCodeId: uuid.UUID
    description: str = Field("", max_length=300)


class MappingPatch(BaseModel):
    repairCodeId: uuid.UUID | None = None
    description: str | None = Field(None, max_length=300)


class ResolveBody(BaseModel):
    drfoneCode: str = Field(min_length=2, max_length=60)
    repairCodeId: uuid.UUID


@router.get("/repairs/drfone-mappings")
def list_mappings(
    principal: Principal = Depends(require(READ)),
    search: str = Query("", max_length=MAX_SEARCH),
    sort: Literal["code", "repair_code", "created"] = "code",
    descending: bool = False,
    page: int = Query(0, ge=0, le=100_000),
    page_size: int = Query(25, ge=1, le=200, alias="pageSize"),
) -> dict:
    f = service.MappingFilter(search=search, sort=sort, descending=descending, page=page, page_size=page_size)
    with tenant_session(principal.tenant_id) as s:
        rows, total = service.list_mappings(s, f)
        return _page(total, page, page_size, "mappings", [mapping_json(m) for m in rows])


@router.get("/repairs/drfone-mappings/codes")
def list_codes(principal: Principal = Depends(require(READ)), search: str = Query("", max_length=MAX_SEARCH)) -> dict:
    """Every tool code seen in the shop's logs or mapped, with its mapping."""
    with tenant_session(principal.tenant_id) as s:
        codes = service.known_codes(s, search=search)
        return {
            "codes": [
                {
                    "drfoneCode": c.drfone_code,
                    "area": c.area or None,
                    "seen": c.seen,
                    "waiting": c.waiting,
                    "lastSeen": c.last_seen,
                    "mappingId": str(c.mapping_id) if c.mapping_id else None,
                    "repairCode": c.repair_code or None,
                }
                for c in codes
            ]
        }


@router.post("/repairs/drfone-mappings/resolve")
def resolve(body: ResolveBody, principal: Principal = Depends(require(WRITE))) -> dict:
    """Map a code from the unmapped queue: the mapping, and every waiting row
    of the code gets the repair code, in one transaction."""
    with tenant_session(principal.tenant_id) as s:
        done = service.resolve_code(s, body.drfoneCode, body.repairCodeId, actor=principal)
        s.commit()
        return {"mapping": mapping_json(service.get_mapping(s, done.mapping.id)), "applied": done.applied}


@router.post("/repairs/drfone-mappings", status_code=201)
def create_mapping(body: MappingBody, principal: Principal = Depends(require(WRITE))) -> dict:
    with tenant_session(principal.tenant_id) as s:
        done = service.create_mapping(
            s, body.drfoneCode, body.repairCodeId, description=body.description, actor=principal
        )
        s.commit()
        return {**mapping_json(service.get_mapping(s, done.mapping.id)), "appliedNow": done.applied}


@router.get("/repairs/drfone-mappings/{mapping_id}")
def get_mapping(mapping_id: uuid.UUID, principal: Principal = Depends(require(READ))) -> dict:
    with tenant_session(principal.tenant_id) as s:
        return mapping_json(service.get_mapping(s, mapping_id))


@router.patch("/repairs/drfone-mappings/{mapping_id}")
def update_mapping(mapping_id: uuid.UUID, body: MappingPatch, principal: Principal = Depends(require(WRITE))) -> dict:
    with tenant_session(principal.tenant_id) as s:
        service.update_mapping(
            s, mapping_id, repair_code_id=body.repairCodeId, description=body.description, actor=principal
        )
        s.commit()
        return mapping_json(service.get_mapping(s, mapping_id))


@router.delete("/repairs/drfone-mappings/{mapping_id}", status_code=204)
def delete_mapping(mapping_id: uuid.UUID, principal: Principal = Depends(require(WRITE))) -> None:
    with tenant_session(principal.tenant_id) as s:
        service.delete_mapping(s, mapping_id, actor=principal)
        s.commit()


# --- the queue and its count ----------------------------------------------------------------------


@router.get("/repairs/qc/unmapped-queue")
def unmapped_queue(
    principal: Principal = Depends(require(READ)),
    search: str = Query("", max_length=MAX_SEARCH),
    sort: Literal["count", "code", "first_seen", "last_seen"] = "count",
    descending: bool = True,
    page: int = Query(0, ge=0, le=100_000),
    page_size: int = Query(25, ge=1, le=200, alias="pageSize"),
) -> dict:
    """The codes waiting for a mapping, grouped by code, with counts, first and
    last seen, up to three example devices and the tool's message."""
    f = service.QueueFilter(search=search, sort=sort, descending=descending, page=page, page_size=page_size)
    with tenant_session(principal.tenant_id) as s:
        rows, total = service.unmapped_queue(s, f)
        return _page(total, page, page_size, "codes", [waiting_json(w) for w in rows])


@router.get("/repairs/reports/drfone-unmapped-count")
def unmapped_count(principal: Principal = Depends(require(READ))) -> dict:
    """How many repair-code rows wait for a mapping, and how many distinct codes."""
    with tenant_session(principal.tenant_id) as s:
        return {"count": service.unmapped_count(s), "codes": service.unmapped_codes_count(s)}
