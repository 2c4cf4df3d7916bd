"""What staff and the storefront see of grid jobs: the job list, a job and
its segments, the files of its pieces (STL, G-code, all as a zip or one
3MF), a rendered picture, and the 3D preview of plates not generated yet.

The preview of a size someone is typing is generated in the request when
the plate set has at most `grid.max_sync_grid_size` cells (seed:
MAX_SYNC_GRID_SIZE; identical pieces are built once) and kept in a small
in-process cache by the options' content hash; a larger one is refused with
`code="preview_too_large"`: generate it as a job (it runs in the worker
with a progress bar) and look at the job's own preview.
"""

from __future__ import annotations

import io
import threading
import uuid
import zipfile
from collections import OrderedDict
from dataclasses import dataclass, replace
from datetime import datetime

import trimesh
from sqlalchemy import ColumnElement, case, func, or_
from sqlmodel import Session, col, select

from app.grid import parsing
from app.grid.geometry import mesh as geometry
from app.grid.geometry.render import render_png
from app.grid.geometry.spec import GridOptions, PlateSetPlan, SegmentSpec
from app.grid.models import GridArtifact, GridJob
from app.grid.service._common import JOB_STATUS, JOB_STATUSES, ORIGINS, STEP_WORDS
from app.grid.service.pipeline import job_options, job_profile, plan_for
from app.grid.service.settings import grid_settings, printer_profile
from app.orders.models import Order
from app.platform import storage
from app.platform.db import get_or_404, session_tenant_id
from app.platform.errors import Conflict, NotFound, ValidationFailed
from app.platform.text import like_pattern

SORTS = {
    "created": "when it was made",
    "updated": "last change",
    "status": "status",
    "progress": "progress",
    "segments": "plates",
}
FILE_KINDS = ("stl", "gcode", "3mf", "zip")


# --- the job list ----------------------------------------------------------------------------


@dataclass
class JobRow:
    id: uuid.UUID
    type: str
    status: str
    status_label: str
    status_color: str
    origin: str
    origin_label: str
    order_id: uuid.UUID | None
    order_number: str
    sku: str
    drawer_width_mm: float
    drawer_depth_mm: float
    magnets: str
    connector: str
    printer: str
    segments: int
    unique_shapes: int
    filament_g: float | None
    print_seconds: int | None
    price: str
    currency: str
    progress: int
    step: str
    failed_step: str
    error: str
    note: str
    needs_attention: bool
    created_by: str
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None
    expires_at: datetime | None

    @property
    def step_words(self) -> str:
        return STEP_WORDS.get(self.failed_step or self.step, "")


def job_row(job: GridJob, order_number: str = "") -> JobRow:
    p = job.parameters or {}
    return JobRow(
        id=job.id,
        type=job.type,
        status=job.status,
        status_label=JOB_STATUS.label(job.status),
        status_color=JOB_STATUS.color(job.status),
        origin=job.origin,
        origin_label=ORIGINS.get(job.origin, job.origin),
        order_id=job.order_id,
        order_number=order_number,
        sku=job.sku,
        drawer_width_mm=float(p.get("drawer_width_mm") or 0),
        drawer_depth_mm=float(p.get("drawer_depth_mm") or 0),
        magnets=str(p.get("magnets") or "none"),
        connector=str(p.get("connector") or "none"),
        printer=job.printer_profile,
        segments=job.segment_count,
        unique_shapes=job.unique_shapes,
        filament_g=job.filament_g,
        print_seconds=job.print_seconds,
        price=job.price,
        currency=job.currency,
        progress=job.progress,
        step=job.step,
        failed_step=job.failed_step,
        error=job.error,
        note=job.note,
        needs_attention=job.needs_attention,
        created_by=job.created_by,
        created_at=job.created_at,
        updated_at=job.updated_at,
        finished_at=job.finished_at,
        expires_at=job.expires_at,
    )


def _sort_columns(sort: str, descending: bool) -> list:
    status_rank = case({s: n for n, s in enumerate(JOB_STATUSES)}, value=col(GridJob.status), else_=99)
    column = {
        "updated": col(GridJob.updated_at),
        "status": status_rank,
        "progress": col(GridJob.progress),
        "segments": col(GridJob.segment_count),
    }.get(sort, col(GridJob.created_at))
    first = column.desc() if descending else column.asc()
    return [first, col(GridJob.created_at).desc(), col(GridJob.id)]


def list_jobs(
    session: Session,
    *,
    status: str = "",
    search: str = "",
    sort: str = "created",
    descending: bool = True,
    page: int = 0,
    page_size: int = 25,
    order_id: uuid.UUID | str | None = None,
) -> tuple[list[JobRow], int]:
    """A page of generation jobs (plate sets, not their segments). `status`:
    one or more statuses, comma-separated; `search` finds a SKU, an order
    number, a printer or who started it; `sort` one of SORTS."""
    conds: list[ColumnElement[bool]] = [col(GridJob.parent_id).is_(None)]
    if status:
        wanted = [s.strip().upper() for s in status.split(",") if s.strip()]
        unknown = [s for s in wanted if s not in JOB_STATUSES]
        if unknown:
            raise ValidationFailed(f"unknown status {unknown[0]!r}: one of {', '.join(JOB_STATUSES)}")
        conds.append(col(GridJob.status).in_(wanted))
    if order_id:
        conds.append(col(GridJob.order_id) == uuid.UUID(str(order_id)))
    if search.strip():
        like = like_pattern(search.strip())
        conds.append(
            or_(
                col(GridJob.sku).ilike(like),
                col(GridJob.printer_profile).ilike(like),
                col(GridJob.created_by).ilike(like),
                col(GridJob.order_id).in_(select(Order.id).where(col(Order.number).ilike(like))),
            )
        )
    total = session.exec(select(func.count()).select_from(GridJob).where(*conds)).one()
    q = select(GridJob).where(*conds).order_by(*_sort_columns(sort, descending))
    jobs = list(session.exec(q.offset(max(0, page) * page_size).limit(page_size)))
    numbers = _order_numbers(session, jobs)
    return [job_row(j, numbers.get(j.order_id, "") if j.order_id else "") for j in jobs], total


def _order_numbers(session: Session, jobs: list[GridJob]) -> dict[uuid.UUID, str]:
    ids = {j.order_id for j in jobs if j.order_id}
    if not ids:
        return {}
    return dict(session.exec(select(Order.id, Order.number).where(col(Order.id).in_(ids))).all())


def job_counts(session: Session) -> dict[str, int]:
    found = dict(
        session.exec(
            select(GridJob.status, func.count()).where(col(GridJob.parent_id).is_(None)).group_by(col(GridJob.status))
        ).all()
    )
    return {s: found.get(s, 0) for s in JOB_STATUSES}


def get_job(session: Session, job_id: uuid.UUID | str) -> GridJob:
    """A plate set's job (a segment's id gives its plate set)."""
    job = get_or_404(session, GridJob, job_id, "grid job")
    if job.parent_id is not None:
        job = get_or_404(session, GridJob, job.parent_id, "grid job")
    return job


def get_job_row(session: Session, job_id: uuid.UUID | str) -> JobRow:
    job = get_job(session, job_id)
    return job_row(job, _order_numbers(session, [job]).get(job.order_id, "") if job.order_id else "")


@dataclass
class SegmentRow:
    number: int
    label: str
    cells_x: float
    cells_y: float
    width_mm: float
    depth_mm: float
    height_mm: float
    filament_g: float | None
    print_seconds: int | None
    status: str
    has_stl: bool
    has_gcode: bool


def job_segments(session: Session, job_id: uuid.UUID | str) -> list[SegmentRow]:
    """The plate set's pieces by number, once generated (empty before)."""
    job = get_job(session, job_id)
    children = list(session.exec(select(GridJob).where(GridJob.parent_id == job.id).order_by(col(GridJob.number))))
    pieces = _artifacts(session, [c.artifact_id for c in children if c.artifact_id])
    out: list[SegmentRow] = []
    for c in children:
        a = pieces.get(c.artifact_id) if c.artifact_id else None
        out.append(
            SegmentRow(
                number=c.number or 0,
                label=a.label if a else "",
                cells_x=c.cells_x,
                cells_y=c.cells_y,
                width_mm=a.width_mm if a else 0.0,
                depth_mm=a.depth_mm if a else 0.0,
                height_mm=a.height_mm if a else 0.0,
                filament_g=a.filament_g if a else None,
                print_seconds=a.print_seconds if a else None,
                status=c.status,
                has_stl=bool(a and a.stl_key),
                has_gcode=bool(a and a.gcode_key),
            )
        )
    return out


def _artifacts(session: Session, ids: list[uuid.UUID]) -> dict[uuid.UUID, GridArtifact]:
    if not ids:
        return {}
    return {a.id: a for a in session.exec(select(GridArtifact).where(col(GridArtifact.id).in_(set(ids))))}


# --- files -----------------------------------------------------------------------------------


@dataclass
class _Piece:
    number: int
    artifact: GridArtifact


def _pieces(session: Session, job: GridJob) -> list[_Piece]:
    children = list(session.exec(select(GridJob).where(GridJob.parent_id == job.id).order_by(col(GridJob.number))))
    found = _artifacts(session, [c.artifact_id for c in children if c.artifact_id])
    pieces = [_Piece(c.number or 0, found[c.artifact_id]) for c in children if c.artifact_id and c.artifact_id in found]
    if not pieces:
        if job.status == "EXPIRED":
            raise Conflict("this job has expired and its files were cleaned up: generate the plates again")
        raise Conflict("the plates of this job are not generated yet")
    return pieces


def _read(session: Session, key: str, what: str) -> bytes:
    try:
        return storage.for_tenant(session_tenant_id(session)).get(key).data
    except (FileNotFoundError, KeyError, NotFound):
        raise Conflict(f"the {what} is no longer stored: generate the plates again") from None


def _base_name(job: GridJob) -> str:
    p = job.parameters or {}
    w, d = float(p.get("drawer_width_mm") or 0), float(p.get("drawer_depth_mm") or 0)
    return f"gridfinity-{w:g}x{d:g}"


def job_file(session: Session, job_id: uuid.UUID | str, kind: str, number: int | None = None) -> tuple[str, bytes]:
    """(filename, bytes) of a job's pieces: `stl` or `gcode` of segment
    `number` (or of the only one), `zip` with every segment's STL and
    G-code, `3mf` with the whole plate set as assembled."""
    if kind not in FILE_KINDS:
        raise ValidationFailed(f"unknown file kind {kind!r}: one of {', '.join(FILE_KINDS)}")
    job = get_job(session, job_id)
    pieces = _pieces(session, job)
    base = _base_name(job)
    if kind in ("stl", "gcode"):
        if number is None:
            if len(pieces) != 1:
                raise ValidationFailed(f"this plate set has {len(pieces)} plates: choose one, or download all as a zip")
            piece = pieces[0]
        else:
            piece = next((p for p in pieces if p.number == number), None)
            if piece is None:
                raise NotFound(f"no plate {number} in this plate set")
        a = piece.artifact
        suffix = f"-{piece.number:02d}-{a.label}" if len(pieces) > 1 else ""
        if kind == "stl":
            return f"{base}{suffix}.stl", _read(session, a.stl_key, "mesh")
        if not a.gcode_key:
            raise Conflict("this plate is not sliced yet")
        return f"{base}{suffix}.gcode", _read(session, a.gcode_key, "G-code")
    if kind == "zip":
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            for p in pieces:
                stem = f"{base}-{p.number:02d}-{p.artifact.label}"
                z.writestr(f"{stem}.stl", _read(session, p.artifact.stl_key, "mesh"))
                if p.artifact.gcode_key:
                    z.writestr(f"{stem}.gcode", _read(session, p.artifact.gcode_key, "G-code"))
        return f"{base}.zip", buf.getvalue()
    plan = plan_for(job_options(job), job_profile(job))
    meshes = _meshes(session, job, plan)
    return f"{base}.3mf", threemf(plan, meshes)


def _meshes(session: Session, job: GridJob, plan: PlateSetPlan) -> dict[str, trimesh.Trimesh]:
    """The job's pieces as meshes, by shape key (from their stored STLs)."""
    by_number = {p.number: p.artifact for p in _pieces(session, job)}
    out: dict[str, trimesh.Trimesh] = {}
    for seg in plan.segments:
        key = seg.shape_key()
        a = by_number.get(seg.number)
        if key in out or a is None:
            continue
        data = _read(session, a.stl_key, "mesh")
        loaded = trimesh.load(io.BytesIO(data), file_type="stl", force="mesh")
        if not isinstance(loaded, trimesh.Trimesh):
            raise Conflict("a stored mesh of this job does not read: generate the plates again")
        out[key] = loaded
    if len(out) != len(plan.unique_shapes):
        raise Conflict("the plates of this job are not all generated yet")
    return out


def threemf(plan: PlateSetPlan, meshes: dict[str, trimesh.Trimesh]) -> bytes:
    """A 3MF package of the plate set: each shape once as an object, each
    segment an item at its place in the assembled plate (millimetres)."""
    ids = {key: n for n, key in enumerate(meshes, 1)}
    objects = []
    for key, mesh in meshes.items():
        vertices = "".join(f'<vertex x="{x:.4f}" y="{y:.4f}" z="{z:.4f}"/>' for x, y, z in mesh.vertices.tolist())
        triangles = "".join(f'<triangle v1="{a}" v2="{b}" v3="{c}"/>' for a, b, c in mesh.faces.tolist())
        label = next((s.label for s in plan.segments if s.shape_key() == key), "")
        objects.append(
            f'<object id="{ids[key]}" type="model" name="shape {label}">'
            f"<mesh><vertices>{vertices}</vertices><triangles>{triangles}</triangles></mesh></object>"
        )
    items = []
    for seg in plan.segments:
        x, y = geometry.segment_position(seg)
        items.append(f'<item objectid="{ids[seg.shape_key()]}" transform="1 0 0 0 1 0 0 0 1 {x:.4f} {y:.4f} 0"/>')
    model = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<model unit="millimeter" xml:lang="en-US" '
        'xmlns="http://schemas.microsoft.com/3dmanufacturing/core/2015/02">'
        f"<resources>{''.join(objects)}</resources><build>{''.join(items)}</build></model>"
    )
    content_types = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="model" ContentType="application/vnd.ms-package.3dmanufacturing-3dmodel+xml"/>'
        "</Types>"
    )
    rels = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Target="/3D/3dmodel.model" Id="rel0" '
        'Type="http://schemas.microsoft.com/3dmanufacturing/2013/01/3dmodel"/>'
        "</Relationships>"
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", content_types)
        z.writestr("_rels/.rels", rels)
        z.writestr("3D/3dmodel.model", model)
    return buf.getvalue()


# --- pictures and previews -------------------------------------------------------------------


def _png_key(job: GridJob) -> str:
    return f"grid/jobs/{job.id}/plates.png"


def preview_png(session: Session, job_id: uuid.UUID | str) -> bytes:
    """A shaded picture of the job's plate set as assembled (rendered once, then stored)."""
    job = get_job(session, job_id)
    store = storage.for_tenant(session_tenant_id(session))
    key = _png_key(job)
    if store.exists(key):
        return store.get(key).data
    plan = plan_for(job_options(job), job_profile(job))
    png = render_png(plan, _meshes(session, job, plan))
    store.put(key, png, "image/png")
    return png


def job_glb(session: Session, job_id: uuid.UUID | str) -> bytes:
    """The job's plate set as a GLB scene for the 3D viewer, from its generated pieces."""
    job = get_job(session, job_id)
    plan = plan_for(job_options(job), job_profile(job))
    return geometry.to_glb(geometry.assembled(plan, _meshes(session, job, plan)))


class _Cache:
    """A small LRU of preview GLBs by options key, bounded in bytes, shared by threads."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.items: OrderedDict[str, bytes] = OrderedDict()
        self.size = 0
        self.lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        with self.lock:
            data = self.items.get(key)
            if data is not None:
                self.items.move_to_end(key)
            return data

    def put(self, key: str, data: bytes) -> None:
        if len(data) > self.max_bytes:
            return
        with self.lock:
            if key in self.items:
                return
            self.items[key] = data
            self.size += len(data)
            while self.size > self.max_bytes:
                _, old = self.items.popitem(last=False)
                self.size -= len(old)


PREVIEWS = _Cache(64 * 1024 * 1024)


def preview_options(session: Session, options: GridOptions, *, profile_name: str = "") -> GridOptions:
    """The options as they would be made: on the bed of the printer that prints them."""
    settings = grid_settings(session)
    profile = printer_profile(settings, profile_name, bed=(options.bed_width_mm, options.bed_depth_mm))
    return replace(options, bed_width_mm=profile.bed_width_mm, bed_depth_mm=profile.bed_depth_mm)


def preview_glb(session: Session, options: GridOptions, *, profile_name: str = "") -> bytes:
    """The 3D preview (GLB) of plates not generated yet: up to the shop's
    `grid.max_sync_grid_size` cells, made now (each shape once) and cached
    by the options' content hash; larger ones are refused (Conflict,
    code preview_too_large)."""
    settings = grid_settings(session)
    parsing.check_options(options, max_dimension_mm=settings.max_dimension_mm)
    profile = printer_profile(settings, profile_name, bed=(options.bed_width_mm, options.bed_depth_mm))
    planned = replace(options, bed_width_mm=profile.bed_width_mm, bed_depth_mm=profile.bed_depth_mm)
    plan = plan_for(planned, profile)
    cells = sum(plan.x.cells) * sum(plan.y.cells)
    if cells > settings.max_sync_grid_size:
        raise Conflict(
            f"a plate set of {cells:g} cells is too large to preview at once (up to "
            f"{settings.max_sync_grid_size} here): generate it, and its picture shows when it is done",
            code="preview_too_large",
        )
    key = f"{planned.key()}:{profile.key()}"
    cached = PREVIEWS.get(key)
    if cached is not None:
        return cached
    data = geometry.to_glb(geometry.assembled(plan, geometry.plate_meshes(plan)))
    PREVIEWS.put(key, data)
    return data


def segment_spec(job: GridJob) -> SegmentSpec | None:
    """A segment job's piece as it was planned (None for a plate set)."""
    if job.parent_id is None:
        return None
    data = dict(job.parameters or {})
    for name in ("cells_x", "cells_y", "padding", "connectors", "origin"):
        if name in data:
            data[name] = tuple(data[name])
    return SegmentSpec(**data)
