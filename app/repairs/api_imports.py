"""Repairs API: bulk upload (seed S14) — preview a CSV or XLSX file, apply it
in the background, follow its progress; the column templates."""

from __future__ import annotations

import asyncio
import uuid
from typing import Literal

from fastapi import APIRouter, Depends, File, Query, UploadFile
from fastapi.responses import PlainTextResponse

from app.platform.auth import Principal
from app.platform.db import tenant_session
from app.platform.errors import PayloadTooLarge
from app.platform.web import require
from app.repairs.models import RepairImport
from app.repairs.service import imports

router = APIRouter(tags=["repairs"])

Kind = Literal["batches", "assets", "parts"]


def import_json(u: RepairImport) -> dict:
    return {
        "id": str(u.id),
        "kind": u.kind,
        "filename": u.filename,
        "status": u.status,
        "totalRows": u.total_rows,
        "processedRows": u.processed_rows,
        "createdRows": u.created_rows,
        "updatedRows": u.updated_rows,
        "errorRows": u.error_rows,
        "errors": u.errors,
        "error": u.error or None,
        "createdAt": u.created_at,
        "finishedAt": u.finished_at,
    }


@router.post("/repairs/imports", status_code=201)
async def upload(
    kind: Kind = Query(...),
    file: UploadFile = File(...),
    principal: Principal = Depends(require("repairs.write")),
) -> dict:
    """Multipart `file` (.csv or .xlsx): read and checked, kept as an upload to apply.
    The same file again answers with the earlier upload (`duplicate: true`)."""
    data = await file.read(imports.MAX_BYTES + 1)
    if len(data) > imports.MAX_BYTES:
        raise PayloadTooLarge(f"the file is larger than {imports.MAX_BYTES // (1024 * 1024)} MB")

    def work() -> dict:
        with tenant_session(principal.tenant_id) as s:
            p = imports.preview(s, kind, file.filename or "", data, actor=principal)
            s.commit()
            return {
                **import_json(p.upload),
                "duplicate": p.duplicate,
                "columns": p.columns,
                "ignoredColumns": p.ignored,
                "sample": p.sample,
            }

    return await asyncio.to_thread(work)


@router.post("/repairs/imports/{import_id}/start", status_code=202)
def start(import_id: uuid.UUID, principal: Principal = Depends(require("repairs.write"))) -> dict:
    """Apply the upload's good rows in the background (once)."""
    with tenant_session(principal.tenant_id) as s:
        u = imports.start(s, import_id, actor=principal)
        s.commit()
        return import_json(u)


@router.get("/repairs/imports")
def list_uploads(principal: Principal = Depends(require("repairs.read"))) -> dict:
    with tenant_session(principal.tenant_id) as s:
        return {"imports": [import_json(u) for u in imports.list_imports(s, limit=50)]}


@router.get("/repairs/imports/{import_id}")
def get_upload(import_id: uuid.UUID, principal: Principal = Depends(require("repairs.read"))) -> dict:
    with tenant_session(principal.tenant_id) as s:
        return import_json(imports.get_import(s, import_id))


@router.get("/repairs/imports/templates/{kind}.csv", response_class=PlainTextResponse)
def template(kind: Kind, principal: Principal = Depends(require("repairs.read"))) -> PlainTextResponse:
    """An empty sheet with the columns an upload of `kind` reads."""
    return PlainTextResponse(
        imports.template(kind),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{kind}-template.csv"'},
    )
