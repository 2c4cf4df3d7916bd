"""Grid REST API (seed 003: GenerateForOrder, GetMappingStatus, plus the
staff generator): generation jobs with their files and pictures, retry, the
quote and the 3D preview of a size, presets, and the shop's grid settings
(admins). grid.read to look, grid.write to act; bad input is a 4xx with
the reason."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Response
from pydantic import BaseModel, Field

from app.grid import service
from app.grid.geometry.spec import Connector as ConnectorKind
from app.grid.geometry.spec import GridOptions
from app.grid.models import GridJob
from app.platform.auth import Principal
from app.platform.db import tenant_session
from app.platform.web import require

router = APIRouter(tags=["grid"])
MAX_SEARCH = 200
# One Query object per parameter (a shared default binds to the first only).
Mm = Annotated[float, Query(gt=0, le=10_000)]
Magnets = Literal["none", "press-fit"]
Connector = Literal["intersection-puzzle", "edge-puzzle", "none"]
CONNECTORS: dict[str, ConnectorKind] = {c: c for c in ("intersection-puzzle", "edge-puzzle", "none")}
FILE_TYPES = {
    "stl": "model/stl",
    "gcode": "text/x.gcode",
    "3mf": "model/3mf",
    "zip": "application/zip",
}


# --- JSON shapes ------------------------------------------------------------------------------


def job_json(r: service.JobRow) -> dict:
    return {
        "id": str(r.id),
        "type": r.type,
        "status": r.status,
        "origin": r.origin,
        "orderId": str(r.order_id) if r.order_id else None,
        "orderNumber": r.order_number or None,
        "sku": r.sku,
        "drawerWidthMm": r.drawer_width_mm,
        "drawerDepthMm": r.drawer_depth_mm,
        "magnets": r.magnets,
        "connector": r.connector,
        "printer": r.printer,
        "segments": r.segments,
        "uniqueShapes": r.unique_shapes,
        "filamentG": r.filament_g,
        "printSeconds": r.print_seconds,
        "price": r.price or None,
        "currency": r.currency or None,
        "progress": r.progress,
        "step": r.step or None,
        "failedStep": r.failed_step or None,
        "errorMessage": r.error or None,
        "note": r.note or None,
        "needsAttention": r.needs_attention,
        "createdBy": r.created_by or None,
        "createdAt": r.created_at,
        "updatedAt": r.updated_at,
        "finishedAt": r.finished_at,
        "expiresAt": r.expires_at,
    }


def segment_json(r: service.SegmentRow) -> dict:
    return {
        "number": r.number,
        "label": r.label,
        "cellsX": r.cells_x,
        "cellsY": r.cells_y,
        "widthMm": r.width_mm,
        "depthMm": r.depth_mm,
        "heightMm": r.height_mm,
        "filamentG": r.filament_g,
        "printSeconds": r.print_seconds,
        "status": r.status,
        "hasStl": r.has_stl,
        "hasGcode": r.has_gcode,
    }


def quote_json(q: service.Quote) -> dict:
    return {
        "cellsX": q.cells_x,
        "cellsY": q.cells_y,
        "gridUnits": q.grid_units,
        "segments": q.segments,
        "uniqueShapes": q.unique_shapes,
        "plateWidthMm": q.plate_width_mm,
        "plateDepthMm": q.plate_depth_mm,
        "filamentG": q.filament_g,
        "printSeconds": q.print_seconds,
        "measuredPieces": q.measured_pieces,
        "price": str(q.price),
        "currency": q.currency,
        "problems": q.problems,
    }


def preset_json(p: service.PresetRow) -> dict:
    return {
        "id": str(p.id),
        "name": p.name,
        "description": p.description,
        "parameters": p.parameters,
        "isPublic": p.is_public,
        "isSystem": p.is_system,
        "mine": p.mine,
        "createdBy": p.created_by or None,
    }


def settings_json(s: service.GridSettings) -> dict:
    return {
        "enabled": s.enabled,
        "basePrice": str(s.base_price),
        "unitPrice": str(s.unit_price),
        "unitSizeMm": s.unit_size_mm,
        "currency": s.currency,
        "maxDimensionMm": s.max_dimension_mm,
        "printSettings": s.print_settings,
        "printer": s.printer,
        "profile": s.profile().to_settings(),
        "expiryHours": s.expiry_hours,
        "maxSyncGridSize": s.max_sync_grid_size,
    }


def _job(s, job: GridJob) -> dict:
    return {
        **job_json(service.get_job_row(s, job.id)),
        "segmentList": [segment_json(r) for r in service.job_segments(s, job.id)],
    }


def _options(
    width: float, depth: float, magnets: str, connector: str, bed_width: float | None, bed_depth: float | None
) -> GridOptions:
    options = GridOptions(
        drawer_width_mm=width,
        drawer_depth_mm=depth,
        magnets="press-fit" if magnets == "press-fit" else "none",
        connector=CONNECTORS[connector],
    )
    if bed_width and bed_depth:
        options = replace(options, bed_width_mm=bed_width, bed_depth_mm=bed_depth)
    return options


# --- jobs -------------------------------------------------------------------------------------


@router.get("/grid/jobs")
def list_jobs(
    principal: Principal = Depends(require("grid.read")),
    status: str = Query("", max_length=100),
    search: str = Query("", max_length=MAX_SEARCH),
    sort: Literal["created", "updated", "status", "progress", "segments"] = "created",
    descending: bool = True,
    page: int = Query(0, ge=0, le=100_000),
    page_size: int = Query(25, ge=1, le=200, alias="pageSize"),
) -> dict:
    """Generation jobs (plate sets), newest first; `status` may list several, comma-separated."""
    with tenant_session(principal.tenant_id) as s:
        rows, total = service.list_jobs(
            s, status=status, search=search, sort=sort, descending=descending, page=page, page_size=page_size
        )
        return {"total": total, "page": page, "pageSize": page_size, "jobs": [job_json(r) for r in rows]}


@router.get("/grid/jobs/{job_id}")
def get_job(job_id: uuid.UUID, principal: Principal = Depends(require("grid.read"))) -> dict:
    """A job with its segments (once generated)."""
    with tenant_session(principal.tenant_id) as s:
        return _job(s, service.get_job(s, job_id))


class JobBody(BaseModel):
    drawerWidthMm: float = Field(gt=0, le=10_000)
    drawerDepthMm: float = Field(gt=0, le=10_000)
    magnets: Magnets = "none"
    connector: Connector = "intersection-puzzle"
    printer: str = Field("", max_length=60)  # a printer preset, "custom" (with the bed), or "" for the shop's
    bedWidthMm: float | None = Field(None, gt=0, le=10_000)
    bedDepthMm: float | None = Field(None, gt=0, le=10_000)


@router.post("/grid/jobs", status_code=201)
def start_job(body: JobBody, principal: Principal = Depends(require("grid.write"))) -> dict:
    """Generate and slice plates without an order (the staff generator); runs in the worker."""
    options = _options(
        body.drawerWidthMm, body.drawerDepthMm, body.magnets, body.connector, body.bedWidthMm, body.bedDepthMm
    )
    with tenant_session(principal.tenant_id) as s:
        job = service.start_job(s, options, profile_name=body.printer, actor=principal, origin="staff")
        s.commit()
        return _job(s, job)


@router.post("/grid/jobs/{job_id}/retry")
def retry_job(job_id: uuid.UUID, principal: Principal = Depends(require("grid.write"))) -> dict:
    """Run a failed job again now, from its first step not done."""
    with tenant_session(principal.tenant_id) as s:
        job = service.retry_job(s, job_id, actor=principal)
        s.commit()
        return _job(s, job)


@router.get("/grid/jobs/{job_id}/files/{kind}")
def job_file(
    job_id: uuid.UUID,
    kind: Literal["stl", "gcode", "3mf", "zip"],
    principal: Principal = Depends(require("grid.read")),
    number: int | None = Query(None, ge=1, le=10_000),
) -> Response:
    """A piece's STL or G-code (`number`: the segment), all of them as a zip, or the set as one 3MF."""
    with tenant_session(principal.tenant_id) as s:
        filename, data = service.job_file(s, job_id, kind, number)
    return Response(
        data,
        media_type=FILE_TYPES[kind],
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "private, max-age=300",
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.get("/grid/jobs/{job_id}/preview.png")
def job_png(job_id: uuid.UUID, principal: Principal = Depends(require("grid.read"))) -> Response:
    """A shaded picture of the generated plate set."""
    with tenant_session(principal.tenant_id) as s:
        png = service.preview_png(s, job_id)
    return Response(png, media_type="image/png", headers={"Cache-Control": "private, max-age=300"})


@router.get("/grid/jobs/{job_id}/plates.glb")
def job_glb(job_id: uuid.UUID, principal: Principal = Depends(require("grid.read"))) -> Response:
    """The generated plate set for the 3D viewer."""
    with tenant_session(principal.tenant_id) as s:
        glb = service.job_glb(s, job_id)
    return Response(glb, media_type="model/gltf-binary", headers={"Cache-Control": "private, max-age=300"})


# --- quote and preview of a size ---------------------------------------------------------------


@dataclass(frozen=True)
class DrawerQuery:
    options: GridOptions
    printer: str


def drawer_query(
    width: Mm,
    depth: Mm,
    magnets: Magnets = "none",
    connector: Connector = "intersection-puzzle",
    printer: str = Query("", max_length=60),
    bed_width: float | None = Query(None, gt=0, le=10_000, alias="bedWidth"),
    bed_depth: float | None = Query(None, gt=0, le=10_000, alias="bedDepth"),
) -> DrawerQuery:
    """The drawer a quote or a preview is asked for (one parameter list for both)."""
    return DrawerQuery(_options(width, depth, magnets, connector, bed_width, bed_depth), printer)


@router.get("/grid/quote")
def quote(drawer: DrawerQuery = Depends(drawer_query), principal: Principal = Depends(require("grid.read"))) -> dict:
    """Plates, grams, print time and price of a drawer, at once (no geometry)."""
    with tenant_session(principal.tenant_id) as s:
        return quote_json(service.quote_for(s, drawer.options, profile_name=drawer.printer))


@router.get("/grid/preview.glb")
def preview(
    drawer: DrawerQuery = Depends(drawer_query), principal: Principal = Depends(require("grid.read"))
) -> Response:
    """The 3D preview of a drawer's plates (409 preview_too_large past the shop's instant size)."""
    with tenant_session(principal.tenant_id) as s:
        glb = service.preview_glb(s, drawer.options, profile_name=drawer.printer)
    return Response(glb, media_type="model/gltf-binary", headers={"Cache-Control": "private, max-age=3600"})


# --- the seed's order-service calls ------------------------------------------------------------


@router.get("/grid/mapping-status/{sku}")
def mapping_status(
    sku: str = Path(max_length=100),
    principal: Principal = Depends(require("grid.read")),
    width: float | None = Query(None, gt=0, le=10_000, description="Drawer width (mm), overriding the SKU"),
    depth: float | None = Query(None, gt=0, le=10_000, description="Drawer depth (mm), overriding the SKU"),
) -> dict:
    """GetMappingStatus: whether the plates this SKU describes are mapped already."""
    properties: dict[str, str] = {}
    if width is not None:
        properties["Drawer width (mm)"] = f"{width:g}"
    if depth is not None:
        properties["Drawer depth (mm)"] = f"{depth:g}"
    with tenant_session(principal.tenant_id) as s:
        st = service.mapping_status(s, sku, properties)
    return {
        "sku": st.sku,
        "exists": st.exists,
        "mappingSku": st.mapping_sku,
        "mapping": {
            "productMappingId": str(st.product_mapping_id),
            "simplyPrintFileId": st.simplyprint_file_id,
            "createdAt": st.created_at,
        }
        if st.exists
        else None,
    }


class LineRef(BaseModel):
    lineItemId: uuid.UUID
    sku: str = Field("", max_length=100)
    quantity: int = Field(1, ge=1, le=100_000)


class GenerateBody(BaseModel):
    orderId: uuid.UUID
    lineItems: list[LineRef] | None = Field(None, max_length=500)


@router.post("/grid/generate-for-order", status_code=202)
def generate_for_order(body: GenerateBody, principal: Principal = Depends(require("grid.write"))) -> dict:
    """GenerateForOrder: a job per grid line of the order (or the lines named);
    a line that has one keeps it. Accepted is false when the shop's grid
    feature is off or the order has no grid line."""
    ids = [li.lineItemId for li in body.lineItems] if body.lineItems is not None else None
    with tenant_session(principal.tenant_id) as s:
        outcomes = service.generate_for_order(s, body.orderId, line_item_ids=ids)
        s.commit()
    jobs = [o.job_id for o in outcomes if o.job_id]
    return {
        "accepted": bool(jobs),
        "pipelineId": str(jobs[0]) if jobs else None,
        "lines": [
            {
                "lineItemId": str(o.line_item_id),
                "sku": o.sku,
                "outcome": o.outcome,
                "jobId": str(o.job_id) if o.job_id else None,
                "problem": o.problem or None,
            }
            for o in outcomes
        ],
    }


# --- presets -----------------------------------------------------------------------------------


@router.get("/grid/presets")
def list_presets(principal: Principal = Depends(require("grid.read"))) -> dict:
    """System presets, the shop's own, and other shops' public ones."""
    with tenant_session(principal.tenant_id) as s:
        return {"presets": [preset_json(p) for p in service.list_presets(s)]}


class PresetBody(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    description: str = Field("", max_length=500)
    parameters: dict = Field(default_factory=dict)
    isPublic: bool = False


@router.post("/grid/presets", status_code=201)
def create_preset(body: PresetBody, principal: Principal = Depends(require("grid.write"))) -> dict:
    with tenant_session(principal.tenant_id) as s:
        p = service.save_preset(
            s,
            name=body.name,
            description=body.description,
            parameters=body.parameters,
            is_public=body.isPublic,
            actor=principal,
        )
        s.commit()
        return preset_json(p)


@router.put("/grid/presets/{preset_id}")
def update_preset(
    preset_id: uuid.UUID, body: PresetBody, principal: Principal = Depends(require("grid.write"))
) -> dict:
    """Change one of the shop's own presets (403 for a system preset or another shop's)."""
    with tenant_session(principal.tenant_id) as s:
        p = service.save_preset(
            s,
            name=body.name,
            description=body.description,
            parameters=body.parameters,
            is_public=body.isPublic,
            preset_id=preset_id,
            actor=principal,
        )
        s.commit()
        return preset_json(p)


@router.delete("/grid/presets/{preset_id}", status_code=204)
def delete_preset(preset_id: uuid.UUID, principal: Principal = Depends(require("grid.write"))) -> Response:
    with tenant_session(principal.tenant_id) as s:
        service.delete_preset(s, preset_id, actor=principal)
        s.commit()
    return Response(status_code=204)


# --- settings (admins) ---------------------------------------------------------------------------


@router.get("/grid/settings")
def get_settings(principal: Principal = Depends(require("settings.read"))) -> dict:
    with tenant_session(principal.tenant_id) as s:
        return settings_json(service.grid_settings(s))


class SettingsBody(BaseModel):
    enabled: bool = False
    basePrice: Decimal = Field(ge=0, le=100_000, max_digits=9, decimal_places=2)
    unitPrice: Decimal = Field(ge=0, le=100_000, max_digits=9, decimal_places=2)
    unitSizeMm: float = Field(42.0, gt=0, le=1000)
    currency: str = Field(min_length=3, max_length=3)
    maxDimensionMm: float = Field(1000.0, gt=0, le=100_000)
    printSettings: dict = Field(default_factory=dict)
    expiryHours: int = Field(72, ge=0, le=100_000)
    maxSyncGridSize: int = Field(256, ge=0, le=100_000)


@router.put("/grid/settings")
def save_settings(body: SettingsBody, principal: Principal = Depends(require("settings.write"))) -> dict:
    """The feature flag, pricing, limits and printer profile (422 naming each wrong field)."""
    with tenant_session(principal.tenant_id) as s:
        saved = service.save_grid_settings(
            s,
            service.GridSettings(
                enabled=body.enabled,
                base_price=body.basePrice,
                unit_price=body.unitPrice,
                unit_size_mm=body.unitSizeMm,
                currency=body.currency,
                max_dimension_mm=body.maxDimensionMm,
                print_settings=body.printSettings or {"printer": service.grid_settings(s).printer},
                expiry_hours=body.expiryHours,
                max_sync_grid_size=body.maxSyncGridSize,
            ),
            actor=principal,
        )
        s.commit()
        return settings_json(saved)
