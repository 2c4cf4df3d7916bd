"""Printing REST API (staff: mappings, parts, files, jobs, printers, the
SimplyPrint connection) and the SimplyPrint webhook."""

from __future__ import annotations

import asyncio
import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Path, Query, Request, UploadFile
from pydantic import BaseModel, Field

from app.platform.auth import Principal
from app.platform.db import tenant_session
from app.platform.errors import DomainError, PayloadTooLarge
from app.platform.text import json_size
from app.platform.web import require
from app.printing import gcode, service
from app.printing.models import AssemblyPart, Printer, PrintJob, ProductMapping, SimplyPrintConnection
from app.printing.service.mappings import MAX_PACKED_CM, MAX_PACKED_GRAMS

router = APIRouter(tags=["printing"])
webhooks = APIRouter(tags=["webhooks"])


# --- JSON shapes -------------------------------------------------------------------------------


def mapping_json(m: ProductMapping, parts: list[AssemblyPart] | None = None, part_count: int | None = None) -> dict:
    out = {
        "id": str(m.id),
        "sku": m.sku,
        "variantTitle": m.variant_title,
        "name": m.name,
        "description": m.description,
        "defaultPrintProfile": m.default_print_profile,
        "weightGrams": m.weight_grams,
        "dimensions": (
            {"length": m.length_cm, "width": m.width_cm, "height": m.height_cm}
            if m.length_cm is not None and m.width_cm is not None and m.height_cm is not None
            else None
        ),
        "active": m.active,
        "createdAt": m.created_at,
        "updatedAt": m.updated_at,
    }
    if parts is not None:
        out["parts"] = [part_json(p) for p in parts]
    if part_count is not None:
        out["partCount"] = part_count
    return out


def part_json(p: AssemblyPart) -> dict:
    return {
        "id": str(p.id),
        "productMappingId": str(p.product_mapping_id),
        "partName": p.part_name,
        "partNumber": p.part_number,
        "simplyPrintFileId": p.simplyprint_file_id,
        "filename": p.filename,
        "fileSize": p.file_size,
        "hasFile": bool(p.file_key or p.simplyprint_file_id),
        "printProfile": p.print_profile,
        "estimatedMinutes": p.estimated_minutes,
        "estimatedFilamentG": p.estimated_filament_g,
        "quantityPerProduct": p.quantity_per_product,
        "position": p.position,
    }


def job_json(j: PrintJob, order_number: str | None = None) -> dict:
    return {
        "id": str(j.id),
        "sequence": j.sequence,
        "orderId": str(j.order_id) if j.order_id else None,
        "orderNumber": order_number,
        "lineItemId": str(j.line_item_id) if j.line_item_id else None,
        "productMappingId": str(j.product_mapping_id) if j.product_mapping_id else None,
        "assemblyPartId": str(j.assembly_part_id) if j.assembly_part_id else None,
        "sku": j.sku,
        "partName": j.part_name,
        "filename": j.filename,
        "copyNumber": j.copy_number,
        "purpose": j.purpose,
        "status": j.status,
        "simplyPrintQueueItemId": j.simplyprint_queue_item_id,
        "simplyPrintJobId": j.simplyprint_job_id,
        "simplyPrintJobUid": j.simplyprint_job_uid,
        "printerId": j.printer_id,
        "printerName": j.printer_name,
        "progress": j.progress,
        "error": j.error,
        "needsReview": j.needs_review,
        "scrap": j.scrap,
        "queuedAt": j.queued_at,
        "startedAt": j.started_at,
        "completedAt": j.completed_at,
        "failedAt": j.failed_at,
        "cancelledAt": j.cancelled_at,
        "updatedAt": j.updated_at,
    }


def printer_json(p: Printer) -> dict:
    return {
        "id": p.simplyprint_id,
        "name": p.name,
        "model": p.model,
        "state": p.state,
        "online": p.online,
        "currentJobUid": p.current_job_uid,
        "currentFile": p.current_file,
        "percentage": p.percentage,
        "updatedAt": p.updated_at,
    }


def connection_json(c: SimplyPrintConnection | None, webhook_url: str) -> dict:
    if c is None:
        return {"connected": False, "manualMode": True, "webhookUrl": webhook_url}
    return {
        "connected": True,
        "manualMode": False,
        "companyId": c.company_id,
        "apiBaseUrl": c.api_base_url,
        "filesBaseUrl": c.files_base_url,
        "queueGroup": c.queue_group,
        "pollMinutes": c.poll_minutes,
        "reconcileEnabled": c.reconcile_enabled,
        "connectedAt": c.connected_at,
        "lastPollAt": c.last_poll_at,
        "lastError": c.last_error,
        "webhookUrl": webhook_url,
    }


# --- mappings and parts --------------------------------------------------------------------------


# A print profile is a handful of slicer settings (the service checks each).
Profile = Annotated[dict, json_size(8_000)]


# One packed unit's weight (g) and box sides (cm), for its shipping label; null:
# the printed parts' weight is used (the service checks the three sides go together).
PackedGrams = Annotated[int, Field(ge=1, le=MAX_PACKED_GRAMS)]
PackedCm = Annotated[int, Field(ge=1, le=MAX_PACKED_CM)]


class MappingBody(BaseModel):
    sku: str = Field(min_length=1, max_length=100)
    name: str = Field(min_length=1, max_length=200)
    variantTitle: str = Field("", max_length=200)
    description: str = Field("", max_length=2000)
    defaultPrintProfile: Profile = Field(default_factory=dict)
    weightGrams: PackedGrams | None = None
    lengthCm: PackedCm | None = None
    widthCm: PackedCm | None = None
    heightCm: PackedCm | None = None


class MappingPatch(BaseModel):
    """Only the fields sent change; null empties a packing field."""

    sku: str | None = Field(None, min_length=1, max_length=100)
    name: str | None = Field(None, min_length=1, max_length=200)
    variantTitle: str | None = Field(None, max_length=200)
    description: str | None = Field(None, max_length=2000)
    defaultPrintProfile: Profile | None = None
    active: bool | None = None
    weightGrams: PackedGrams | None = None
    lengthCm: PackedCm | None = None
    widthCm: PackedCm | None = None
    heightCm: PackedCm | None = None


_MAPPING_FIELDS = {
    "sku": "sku",
    "name": "name",
    "variantTitle": "variant_title",
    "description": "description",
    "defaultPrintProfile": "default_print_profile",
    "active": "active",
    "weightGrams": "weight_grams",
    "lengthCm": "length_cm",
    "widthCm": "width_cm",
    "heightCm": "height_cm",
}


@router.get("/printing/mappings")
def list_mappings(
    principal: Principal = Depends(require("printJobs.read")), search: str = Query("", max_length=200)
) -> dict:
    with tenant_session(principal.tenant_id) as s:
        counts = service.part_counts(s)
        return {"mappings": [mapping_json(m, part_count=counts.get(m.id, 0)) for m in service.list_mappings(s, search)]}


@router.post("/printing/mappings", status_code=201)
def create_mapping(body: MappingBody, principal: Principal = Depends(require("printJobs.write"))) -> dict:
    with tenant_session(principal.tenant_id) as s:
        m = service.create_mapping(
            s,
            sku=body.sku,
            name=body.name,
            variant_title=body.variantTitle,
            description=body.description,
            default_print_profile=body.defaultPrintProfile,
            weight_grams=body.weightGrams,
            length_cm=body.lengthCm,
            width_cm=body.widthCm,
            height_cm=body.heightCm,
            actor=principal,
        )
        s.commit()
        return mapping_json(m, parts=[])


@router.get("/printing/mappings/{mapping_id}")
def get_mapping(mapping_id: uuid.UUID, principal: Principal = Depends(require("printJobs.read"))) -> dict:
    with tenant_session(principal.tenant_id) as s:
        return mapping_json(service.get_mapping(s, mapping_id), parts=service.parts(s, mapping_id))


@router.patch("/printing/mappings/{mapping_id}")
def patch_mapping(
    mapping_id: uuid.UUID, body: MappingPatch, principal: Principal = Depends(require("printJobs.write"))
) -> dict:
    fields = {_MAPPING_FIELDS[k]: v for k, v in body.model_dump(exclude_unset=True).items()}
    with tenant_session(principal.tenant_id) as s:
        m = service.update_mapping(s, mapping_id, actor=principal, **fields)
        s.commit()
        return mapping_json(m, parts=service.parts(s, mapping_id))


@router.delete("/printing/mappings/{mapping_id}", status_code=204)
def delete_mapping(mapping_id: uuid.UUID, principal: Principal = Depends(require("printJobs.write"))) -> None:
    with tenant_session(principal.tenant_id) as s:
        service.delete_mapping(s, mapping_id, actor=principal)
        s.commit()


class PartBody(BaseModel):
    partName: str = Field(min_length=1, max_length=200)
    partNumber: str = Field("", max_length=100)
    quantityPerProduct: int = Field(1, ge=1, le=1000)
    estimatedMinutes: int | None = Field(None, ge=0, le=100000)
    estimatedFilamentG: float | None = Field(None, ge=0, le=100000)
    printProfile: Profile = Field(default_factory=dict)
    simplyPrintFileId: str = Field("", max_length=100)


class PartPatch(BaseModel):
    partName: str | None = Field(None, min_length=1, max_length=200)
    partNumber: str | None = Field(None, max_length=100)
    quantityPerProduct: int | None = Field(None, ge=1, le=1000)
    estimatedMinutes: int | None = Field(None, ge=0, le=100000)
    estimatedFilamentG: float | None = Field(None, ge=0, le=100000)
    printProfile: Profile | None = None
    simplyPrintFileId: str | None = Field(None, max_length=100)
    position: int | None = Field(None, ge=0, le=10000)


_PART_FIELDS = {
    "partName": "part_name",
    "partNumber": "part_number",
    "quantityPerProduct": "quantity_per_product",
    "estimatedMinutes": "estimated_minutes",
    "estimatedFilamentG": "estimated_filament_g",
    "printProfile": "print_profile",
    "simplyPrintFileId": "simplyprint_file_id",
    "position": "position",
}


@router.post("/printing/mappings/{mapping_id}/parts", status_code=201)
def add_part(mapping_id: uuid.UUID, body: PartBody, principal: Principal = Depends(require("printJobs.write"))) -> dict:
    with tenant_session(principal.tenant_id) as s:
        part = service.add_part(
            s,
            mapping_id,
            part_name=body.partName,
            part_number=body.partNumber,
            quantity_per_product=body.quantityPerProduct,
            estimated_minutes=body.estimatedMinutes,
            estimated_filament_g=body.estimatedFilamentG,
            print_profile=body.printProfile,
            simplyprint_file_id=body.simplyPrintFileId,
            actor=principal,
        )
        s.commit()
        return part_json(part)


@router.patch("/printing/parts/{part_id}")
def patch_part(part_id: uuid.UUID, body: PartPatch, principal: Principal = Depends(require("printJobs.write"))) -> dict:
    fields = {_PART_FIELDS[k]: v for k, v in body.model_dump(exclude_unset=True).items()}
    with tenant_session(principal.tenant_id) as s:
        part = service.update_part(s, part_id, actor=principal, **fields)
        s.commit()
        return part_json(part)


@router.delete("/printing/parts/{part_id}", status_code=204)
def delete_part(part_id: uuid.UUID, principal: Principal = Depends(require("printJobs.write"))) -> None:
    with tenant_session(principal.tenant_id) as s:
        service.delete_part(s, part_id, actor=principal)
        s.commit()


@router.post("/printing/parts/{part_id}/file")
async def upload_part_file(
    part_id: uuid.UUID, file: UploadFile = File(...), principal: Principal = Depends(require("printJobs.write"))
) -> dict:
    """Multipart `file`: .gcode/.bgcode/.stl/.3mf, stored and sent to SimplyPrint when connected."""
    data = await file.read(gcode.MAX_FILE_BYTES + 1)
    if len(data) > gcode.MAX_FILE_BYTES:
        raise PayloadTooLarge("the file is larger than 100 MB")

    def work() -> dict:
        with tenant_session(principal.tenant_id) as s:
            part = service.upload_part_file(s, part_id, file.filename or "", data, actor=principal)
            s.commit()
            return part_json(part)

    return await asyncio.to_thread(work)


# --- jobs and printers -----------------------------------------------------------------------------


@router.get("/printing/jobs")
def list_jobs(
    principal: Principal = Depends(require("printJobs.read")),
    status: str = "",
    purpose: str = "",
    search: str = Query("", max_length=200),
    printer: str = Query("", max_length=200),
    sort: Literal["queued", "updated", "status", "printer", "progress"] = "queued",
    descending: bool = True,
    order_id: uuid.UUID | None = Query(None, alias="orderId"),
    page: int = Query(0, ge=0, le=10_000),
    page_size: int = Query(50, ge=1, le=200, alias="pageSize"),
) -> dict:
    with tenant_session(principal.tenant_id) as s:
        rows, total = service.list_jobs(
            s,
            status=status,
            purpose=purpose,
            search=search,
            printer=printer,
            sort=sort,
            descending=descending,
            page=page,
            page_size=page_size,
            order_id=order_id,
        )
        numbers = service.order_numbers(s, rows)
        return {
            "total": total,
            "page": page,
            "pageSize": page_size,
            "counts": service.job_counts(s),
            "manualMode": service.manual_mode(s),
            "jobs": [job_json(j, numbers.get(j.order_id) if j.order_id else None) for j in rows],
        }


@router.get("/printing/queue")
def get_queue(principal: Principal = Depends(require("printJobs.read"))) -> dict:
    """Active jobs in queue order (ORDER before STOCK, FIFO within each)."""
    with tenant_session(principal.tenant_id) as s:
        rows = service.queue(s)
        numbers = service.order_numbers(s, rows)
        return {"jobs": [job_json(j, numbers.get(j.order_id) if j.order_id else None) for j in rows]}


@router.get("/printing/jobs/{job_id}")
def get_job(job_id: uuid.UUID, principal: Principal = Depends(require("printJobs.read"))) -> dict:
    with tenant_session(principal.tenant_id) as s:
        job = service.get_job(s, job_id)
        number = service.order_numbers(s, [job]).get(job.order_id) if job.order_id else None
        return job_json(job, number)


class CancelBody(BaseModel):
    reason: str = Field(default="", max_length=300)


def _job_action(principal: Principal, action, job_id: uuid.UUID, **kwargs) -> dict:
    """One operator action on one job (a service call), committed; the job as JSON."""
    with tenant_session(principal.tenant_id) as s:
        job = action(s, job_id, actor=principal, **kwargs)
        s.commit()
        return job_json(job)


@router.post("/printing/jobs/{job_id}/cancel")
def cancel_job(
    job_id: uuid.UUID, body: CancelBody | None = None, principal: Principal = Depends(require("printJobs.write"))
) -> dict:
    return _job_action(principal, service.cancel_job, job_id, reason=(body or CancelBody()).reason)


@router.post("/printing/jobs/{job_id}/requeue")
def requeue_job(job_id: uuid.UUID, principal: Principal = Depends(require("printJobs.write"))) -> dict:
    return _job_action(principal, service.requeue_job, job_id)


class MoveBody(BaseModel):
    status: Literal["QUEUED", "ASSIGNED", "PRINTING", "COMPLETED", "FAILED", "CANCELLED"]
    reason: str = Field("", max_length=300)


@router.post("/printing/jobs/{job_id}/status")
def move_job(job_id: uuid.UUID, body: MoveBody, principal: Principal = Depends(require("printJobs.write"))) -> dict:
    """Manual mode: move a job by hand."""
    return _job_action(principal, service.move_job, job_id, status=body.status, reason=body.reason)


class BulkBody(BaseModel):
    action: Literal["move", "cancel", "requeue"]
    ids: list[uuid.UUID] = Field(min_length=1, max_length=200)
    status: Literal["", "QUEUED", "ASSIGNED", "PRINTING", "COMPLETED", "FAILED", "CANCELLED"] = ""


@router.post("/printing/jobs/bulk")
def bulk_jobs(body: BulkBody, principal: Principal = Depends(require("printJobs.write"))) -> dict:
    """One action on several jobs, each through the same rules as a single
    action; the jobs the rules refuse are listed with the reason."""
    with tenant_session(principal.tenant_id) as s:
        result = service.bulk_jobs(s, body.ids, body.action, status=body.status, actor=principal)
        s.commit()
    return {
        "done": result.done,
        "refused": [{"id": r.job_id, "job": r.job, "reason": r.reason} for r in result.refused],
    }


@router.post("/printing/jobs/{job_id}/reviewed")
def review_job(job_id: uuid.UUID, principal: Principal = Depends(require("printJobs.write"))) -> dict:
    return _job_action(principal, service.resolve_review, job_id)


@router.get("/printing/printers")
def list_printers(principal: Principal = Depends(require("printJobs.read"))) -> dict:
    with tenant_session(principal.tenant_id) as s:
        return {"manualMode": service.manual_mode(s), "printers": [printer_json(p) for p in service.printers(s)]}


@router.post("/printing/reconcile", status_code=202)
def reconcile_now(principal: Principal = Depends(require("printJobs.write"))) -> dict:
    """Poll SimplyPrint now (normally every poll_minutes)."""
    with tenant_session(principal.tenant_id) as s:
        queued = service.reconcile_now(s)
        s.commit()
    return {"queued": queued, "manualMode": not queued}


# --- the SimplyPrint connection ---------------------------------------------------------------------


# Keys and secrets travel in HTTP headers, which carry plain ASCII only.
TOKEN = r"^\s*[\x21-\x7e]+\s*$"


class ConnectBody(BaseModel):
    companyId: str = Field(min_length=1, max_length=20, pattern=r"^\s*[A-Za-z0-9_-]+\s*$")
    apiKey: str = Field(min_length=1, max_length=500, pattern=TOKEN)
    webhookSecret: str = Field("", max_length=128, pattern=r"^[\x21-\x7e]*$")
    apiBaseUrl: str = Field("", max_length=500)
    filesBaseUrl: str = Field("", max_length=500)


class ConnectionSettingsBody(BaseModel):
    pollMinutes: int | None = Field(None, ge=1, le=1440)
    reconcileEnabled: bool | None = None
    queueGroup: int | None = Field(None, ge=0, le=2_147_483_647)


@router.get("/integrations/simplyprint", tags=["settings"])
def get_connection(principal: Principal = Depends(require("settings.read"))) -> dict:
    with tenant_session(principal.tenant_id) as s:
        return connection_json(service.connection(s), service.webhook_url(s))


@router.put("/integrations/simplyprint", tags=["settings"])
def connect(body: ConnectBody, principal: Principal = Depends(require("settings.write"))) -> dict:
    """Save and test the credentials. The answer carries the webhook secret (generated
    when none was given) once, to paste into SimplyPrint's webhook settings."""
    with tenant_session(principal.tenant_id) as s:
        conn = service.connect(
            s,
            company_id=body.companyId,
            api_key=body.apiKey,
            webhook_secret=body.webhookSecret,
            api_base_url=body.apiBaseUrl,
            files_base_url=body.filesBaseUrl,
            actor=principal,
        )
        s.commit()
        return {**connection_json(conn, service.webhook_url(s)), "webhookSecret": conn.webhook_secret}


@router.patch("/integrations/simplyprint", tags=["settings"])
def update_connection(body: ConnectionSettingsBody, principal: Principal = Depends(require("settings.write"))) -> dict:
    fields = body.model_dump(exclude_unset=True)
    with tenant_session(principal.tenant_id) as s:
        conn = service.update_connection_settings(
            s,
            actor=principal,
            poll_minutes=fields.get("pollMinutes"),
            reconcile_enabled=fields.get("reconcileEnabled"),
            queue_group=fields.get("queueGroup", ""),
        )
        s.commit()
        return connection_json(conn, service.webhook_url(s))


@router.delete("/integrations/simplyprint", tags=["settings"], status_code=204)
def disconnect(principal: Principal = Depends(require("settings.write"))) -> None:
    with tenant_session(principal.tenant_id) as s:
        service.disconnect(s, actor=principal)
        s.commit()


@router.post("/integrations/simplyprint/test", tags=["settings"])
def test_connection(principal: Principal = Depends(require("settings.write"))) -> dict:
    with tenant_session(principal.tenant_id) as s:
        return {"ok": True, "message": service.test_connection(s)}


# --- the webhook ---------------------------------------------------------------------------------------


@webhooks.post("/webhooks/simplyprint/{tenant_slug}")
async def simplyprint_webhook(request: Request, tenant_slug: str = Path(max_length=63)) -> dict:
    """SimplyPrint job/printer webhooks for one shop: the shared secret
    (X-SP-Secret or X-SP-Token) is checked, the delivery deduplicated on
    (webhook_id, event, job uid, timestamp) and stored; a worker applies it."""
    raw = await request.body()
    if not raw:
        raise DomainError("the body is empty", code="empty_body")
    result = await asyncio.to_thread(service.handle_webhook, tenant_slug, raw, dict(request.headers))
    return {"status": result.status}
