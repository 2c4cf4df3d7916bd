"""Printing operations: the one place print-farm rules live. Pages, the REST
API, SimplyPrint webhooks and jobs call these with a tenant session.

- Product mappings (SKU → assembly parts with files and profiles).
- Print jobs: created per order line (part × quantity per product × line
  quantity), queued on SimplyPrint (ORDER before STOCK, FIFO within each:
  seed ADR-063), moved by SimplyPrint webhooks and the reconciliation poll, or
  by hand in manual mode (no connection).
- The SimplyPrint connection and a per-process client cache that follows a
  version stamp in Redis, so connecting or disconnecting re-initialises every
  web and worker process without a restart.
"""

from __future__ import annotations

import contextlib
import json
import logging
import secrets
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, or_, text, true
from sqlalchemy import event as sa_event
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import Session, select

from app.integrations import simplyprint as sp
from app.orders import machine as orders_machine
from app.orders import service as orders
from app.orders.models import LineItem, Order
from app.platform import audit, live, retry, storage
from app.platform.auth import Principal
from app.platform.db import TENANT_KEY, get_engine, get_or_404, platform_session, session_tenant_id, tenant_session
from app.platform.errors import Conflict, InvalidTransition, NotFound, Unauthorized, ValidationFailed
from app.platform.events import publish
from app.platform.models import EventLog, Tenant, utcnow
from app.printing import gcode, machine
from app.printing.models import (
    AssemblyPart,
    PrintJob,
    Printer,
    ProcessedSimplyPrintWebhook,
    ProductMapping,
    SimplyPrintConnection,
)
from app.settings import get_settings

log = logging.getLogger(__name__)

SOURCE = "print-service"
LIVE_KIND = "printfarm"
PROFILE_KEYS = ("layer_height", "infill", "supports", "material", "nozzle", "perimeters", "brim", "color",
                "printer_model", "notes")


# --- small helpers ---------------------------------------------------------------------------


def _log(session: Session, job: PrintJob | None, event_type: str, message: str, *, severity: str = "INFO",
         actor: Principal | None = None, meta: dict | None = None) -> None:
    """A business event about a print job (the order's timeline shows it too)."""
    session.add(EventLog(tenant_id=session_tenant_id(session), event_type=event_type, severity=severity,
                         message=message[:2000], order_id=job.order_id if job else None,
                         print_job_id=job.id if job else None, actor_user_id=actor.user_id if actor else None,
                         meta=meta or {}))
    _changed(session, job)


def _changed(session: Session, job: PrintJob | None = None) -> None:
    live.notify_after_commit(session, LIVE_KIND, printJobId=str(job.id) if job else None)
    if job is not None and job.order_id:
        live.notify_after_commit(session, "orders", orderId=str(job.order_id))


def _clean_profile(profile: dict | None) -> dict:
    if profile is None:
        return {}
    if not isinstance(profile, dict):
        raise ValidationFailed("a print profile is a set of named settings (JSON object)")
    out = {}
    for k, v in profile.items():
        key = str(k).strip()
        if not key:
            continue
        if len(key) > 60:
            raise ValidationFailed(f"print profile setting '{key[:20]}…' has too long a name")
        if v is None or (isinstance(v, str) and not v.strip()):
            continue
        if not isinstance(v, (str, int, float, bool)):
            raise ValidationFailed(f"print profile setting '{key}' must be text, a number or yes/no")
        out[key] = v.strip() if isinstance(v, str) else v
    if len(json.dumps(out)) > 8000:
        raise ValidationFailed("the print profile is too large")
    return out


def effective_profile(mapping: ProductMapping, part: AssemblyPart) -> dict:
    """The mapping's default print profile with the part's overrides."""
    return {**(mapping.default_print_profile or {}), **(part.print_profile or {})}


def _job_ref(job: PrintJob) -> dict:
    return {"printJobId": str(job.id), "orderId": str(job.order_id) if job.order_id else "",
            "lineItemId": str(job.line_item_id) if job.line_item_id else None, "purpose": job.purpose}


# --- product mappings --------------------------------------------------------------------------


def list_mappings(session: Session, search: str = "") -> list[ProductMapping]:
    q = select(ProductMapping).order_by(ProductMapping.sku)
    if search.strip():
        like = f"%{search.strip()}%"
        q = q.where(or_(ProductMapping.sku.ilike(like), ProductMapping.name.ilike(like),
                        ProductMapping.variant_title.ilike(like)))
    return list(session.exec(q))


def get_mapping(session: Session, mapping_id: uuid.UUID | str) -> ProductMapping:
    return get_or_404(session, ProductMapping, mapping_id, "product mapping")


def mapping_for_sku(session: Session, sku: str) -> ProductMapping | None:
    sku = (sku or "").strip()
    if not sku:
        return None
    return session.exec(select(ProductMapping).where(func.lower(ProductMapping.sku) == sku.lower())).first()


def part_counts(session: Session) -> dict[uuid.UUID, int]:
    """Assembly parts per mapping (for lists)."""
    return dict(session.exec(select(AssemblyPart.product_mapping_id, func.count())
                             .group_by(AssemblyPart.product_mapping_id)).all())


def _check_mapping_fields(sku: str, name: str) -> None:
    if not sku.strip():
        raise ValidationFailed("a product mapping needs the SKU")
    if len(sku.strip()) > 100:
        raise ValidationFailed("the SKU has at most 100 characters")
    if not name.strip():
        raise ValidationFailed("give the product a name")


def create_mapping(session: Session, *, sku: str, name: str, variant_title: str = "", description: str = "",
                   default_print_profile: dict | None = None, actor: Principal) -> ProductMapping:
    actor.require("printJobs.write")
    _check_mapping_fields(sku, name)
    if mapping_for_sku(session, sku) is not None:
        raise Conflict(f"SKU {sku.strip()} already has a product mapping")
    mapping = ProductMapping(tenant_id=session_tenant_id(session), sku=sku.strip(), name=name.strip()[:200],
                             variant_title=variant_title.strip()[:200], description=description.strip()[:2000],
                             default_print_profile=_clean_profile(default_print_profile))
    session.add(mapping)
    try:
        session.flush()
    except Exception as exc:  # a concurrent create of the same SKU
        raise Conflict(f"SKU {sku.strip()} already has a product mapping") from exc
    _log(session, None, "product-mapping.created", f"Product mapping {mapping.sku} created", actor=actor)
    return mapping


def update_mapping(session: Session, mapping_id: uuid.UUID | str, *, actor: Principal, **fields) -> ProductMapping:  # noqa: ANN003
    """Change sku, name, variant_title, description, default_print_profile or active."""
    actor.require("printJobs.write")
    mapping = get_mapping(session, mapping_id)
    allowed = {"sku", "name", "variant_title", "description", "default_print_profile", "active"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValidationFailed(f"unknown field(s): {', '.join(sorted(unknown))}")
    if "sku" in fields:
        other = mapping_for_sku(session, fields["sku"] or "")
        if other is not None and other.id != mapping.id:
            raise Conflict(f"SKU {fields['sku'].strip()} already has a product mapping")
    _check_mapping_fields(fields.get("sku", mapping.sku) or "", fields.get("name", mapping.name) or "")
    for key, value in fields.items():
        if key == "default_print_profile":
            value = _clean_profile(value)
        elif key == "active":
            value = bool(value)
        else:
            value = (value or "").strip()
        setattr(mapping, key, value)
    mapping.updated_at = utcnow()
    session.add(mapping)
    _log(session, None, "product-mapping.updated", f"Product mapping {mapping.sku} updated", actor=actor,
         meta={"fields": sorted(fields)})
    return mapping


def delete_mapping(session: Session, mapping_id: uuid.UUID | str, *, actor: Principal) -> None:
    """Delete a mapping and its parts. Refused while active jobs print it; old
    jobs keep their SKU and part name."""
    actor.require("printJobs.write")
    mapping = get_mapping(session, mapping_id)
    active = session.exec(select(func.count()).select_from(PrintJob).where(
        PrintJob.product_mapping_id == mapping.id, PrintJob.status.in_(machine.ACTIVE))).one()
    if active:
        raise Conflict(f"{mapping.sku} still has {active} active print job(s); cancel or finish them first")
    _log(session, None, "product-mapping.deleted", f"Product mapping {mapping.sku} deleted", actor=actor)
    session.delete(mapping)
    session.flush()


# --- assembly parts --------------------------------------------------------------------------


def parts(session: Session, mapping_id: uuid.UUID | str) -> list[AssemblyPart]:
    mapping = get_mapping(session, mapping_id)
    return list(session.exec(select(AssemblyPart).where(AssemblyPart.product_mapping_id == mapping.id)
                             .order_by(AssemblyPart.position, AssemblyPart.created_at)))


def get_part(session: Session, part_id: uuid.UUID | str) -> AssemblyPart:
    return get_or_404(session, AssemblyPart, part_id, "assembly part")


def _check_part(part_name: str, quantity_per_product: int, estimated_minutes: int | None,
                estimated_filament_g: float | None) -> None:
    if not (part_name or "").strip():
        raise ValidationFailed("give the part a name")
    if not isinstance(quantity_per_product, int) or not 1 <= quantity_per_product <= 1000:
        raise ValidationFailed("quantity per product is a whole number from 1 to 1000")
    if estimated_minutes is not None and not 0 <= estimated_minutes <= 100000:
        raise ValidationFailed("estimated minutes must be between 0 and 100000")
    if estimated_filament_g is not None and not 0 <= estimated_filament_g <= 100000:
        raise ValidationFailed("estimated filament must be between 0 and 100000 g")


def add_part(session: Session, mapping_id: uuid.UUID | str, *, part_name: str, part_number: str = "",
             quantity_per_product: int = 1, estimated_minutes: int | None = None,
             estimated_filament_g: float | None = None, print_profile: dict | None = None,
             simplyprint_file_id: str = "", actor: Principal) -> AssemblyPart:
    actor.require("printJobs.write")
    mapping = get_mapping(session, mapping_id)
    _check_part(part_name, quantity_per_product, estimated_minutes, estimated_filament_g)
    position = session.exec(select(func.coalesce(func.max(AssemblyPart.position) + 1, 0))
                            .where(AssemblyPart.product_mapping_id == mapping.id)).one()
    part = AssemblyPart(tenant_id=session_tenant_id(session), product_mapping_id=mapping.id,
                        part_name=part_name.strip()[:200], part_number=part_number.strip()[:100],
                        quantity_per_product=quantity_per_product, estimated_minutes=estimated_minutes,
                        estimated_filament_g=estimated_filament_g, print_profile=_clean_profile(print_profile),
                        simplyprint_file_id=simplyprint_file_id.strip()[:100], position=position)
    session.add(part)
    mapping.updated_at = utcnow()
    session.add(mapping)
    session.flush()
    _log(session, None, "assembly-part.created", f"Part {part.part_name} added to {mapping.sku}", actor=actor)
    return part


def update_part(session: Session, part_id: uuid.UUID | str, *, actor: Principal, **fields) -> AssemblyPart:  # noqa: ANN003
    """Change part_name, part_number, quantity_per_product, estimated_minutes,
    estimated_filament_g, print_profile, simplyprint_file_id or position."""
    actor.require("printJobs.write")
    part = get_part(session, part_id)
    allowed = {"part_name", "part_number", "quantity_per_product", "estimated_minutes", "estimated_filament_g",
               "print_profile", "simplyprint_file_id", "position"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValidationFailed(f"unknown field(s): {', '.join(sorted(unknown))}")
    _check_part(fields.get("part_name", part.part_name), fields.get("quantity_per_product", part.quantity_per_product),
                fields.get("estimated_minutes", part.estimated_minutes),
                fields.get("estimated_filament_g", part.estimated_filament_g))
    for key, value in fields.items():
        if key == "print_profile":
            value = _clean_profile(value)
        elif key in ("part_name", "part_number", "simplyprint_file_id"):
            value = (value or "").strip()
        setattr(part, key, value)
    part.updated_at = utcnow()
    session.add(part)
    _log(session, None, "assembly-part.updated", f"Part {part.part_name} updated", actor=actor,
         meta={"fields": sorted(fields)})
    return part


def delete_part(session: Session, part_id: uuid.UUID | str, *, actor: Principal) -> None:
    actor.require("printJobs.write")
    part = get_part(session, part_id)
    active = session.exec(select(func.count()).select_from(PrintJob).where(
        PrintJob.assembly_part_id == part.id, PrintJob.status.in_(machine.ACTIVE))).one()
    if active:
        raise Conflict(f"part {part.part_name} still has {active} active print job(s)")
    _log(session, None, "assembly-part.deleted", f"Part {part.part_name} deleted", actor=actor)
    session.delete(part)
    session.flush()


def upload_part_file(session: Session, part_id: uuid.UUID | str, filename: str, data: bytes, *,
                     actor: Principal) -> AssemblyPart:
    """Store a part's G-code/STL/3MF, upload it to SimplyPrint when connected
    (the API file id is kept) and read the slicer's estimates from G-code."""
    actor.require("printJobs.write")
    part = get_part(session, part_id)
    filename = (filename or "").strip().rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
    problem = gcode.check_filename(filename)
    if problem:
        raise ValidationFailed(problem)
    if not data:
        raise ValidationFailed("the file is empty")
    if len(data) > gcode.MAX_FILE_BYTES:
        raise ValidationFailed("the file is larger than 100 MB")
    tid = session_tenant_id(session)
    key = f"printing/parts/{part.id}/{uuid.uuid4().hex[:8]}-{filename}"
    storage.for_tenant(tid).put(key, data, "application/octet-stream")
    part.file_key, part.filename, part.file_size = key, filename[:255], len(data)
    part.simplyprint_file_id, part.file_uploaded_at = "", None
    if gcode.extension(filename) in gcode.GCODE_EXTENSIONS:
        est = gcode.estimates(data)
        if est.minutes is not None:
            part.estimated_minutes = est.minutes
        if est.filament_g is not None:
            part.estimated_filament_g = est.filament_g
    c = client(session)
    if c is not None:
        try:
            uploaded = c.upload_file(filename, data)
        except sp.SimplyPrintError as exc:
            raise ValidationFailed(f"the file is stored, but SimplyPrint refused it: {exc.message}") from exc
        part.simplyprint_file_id = str(uploaded["id"])[:100]
        part.file_uploaded_at = utcnow()
        submit_after_commit(session)  # jobs that waited for this file
    part.updated_at = utcnow()
    session.add(part)
    _log(session, None, "assembly-part.file-uploaded",
         f"File {filename} ({len(data)} bytes) for part {part.part_name}"
         + (" uploaded to SimplyPrint" if part.simplyprint_file_id else " stored (manual mode)"), actor=actor)
    return part


def _ensure_remote_file(session: Session, c: sp.SimplyPrintClient, part: AssemblyPart, *, force: bool = False) -> str:
    """The part's SimplyPrint file id, uploading our stored copy when it has none
    (or when SimplyPrint forgot it: uploads expire until used)."""
    if part.simplyprint_file_id and not force:
        return part.simplyprint_file_id
    if not part.file_key:
        return part.simplyprint_file_id
    stored = storage.for_tenant(session_tenant_id(session)).get(part.file_key)
    uploaded = c.upload_file(part.filename or "part.gcode", stored.data)
    part.simplyprint_file_id = str(uploaded["id"])[:100]
    part.file_uploaded_at = utcnow()
    session.add(part)
    return part.simplyprint_file_id


# --- reading jobs ---------------------------------------------------------------------------


def get_job(session: Session, job_id: uuid.UUID | str, *, lock: bool = False) -> PrintJob:
    return get_or_404(session, PrintJob, job_id, "print job", lock=lock)


def list_jobs(session: Session, *, status: str = "", purpose: str = "", search: str = "", page: int = 0,
              page_size: int = 50, order_id: uuid.UUID | str | None = None,
              needs_review: bool | None = None) -> tuple[list[PrintJob], int]:
    q = select(PrintJob)
    cq = select(func.count()).select_from(PrintJob)
    conds = []
    if status:
        conds.append(PrintJob.status.in_([s.strip().upper() for s in status.split(",") if s.strip()]))
    if purpose:
        conds.append(PrintJob.purpose == purpose.upper())
    if order_id:
        conds.append(PrintJob.order_id == uuid.UUID(str(order_id)))
    if needs_review is not None:
        conds.append(PrintJob.needs_review == needs_review)
    if search.strip():
        like = f"%{search.strip()}%"
        conds.append(or_(PrintJob.sku.ilike(like), PrintJob.part_name.ilike(like), PrintJob.filename.ilike(like),
                         PrintJob.printer_name.ilike(like),
                         PrintJob.order_id.in_(select(Order.id).where(Order.number.ilike(like)))))
    if conds:
        q, cq = q.where(*conds), cq.where(*conds)
    total = session.exec(cq).one()
    rows = list(session.exec(q.order_by(PrintJob.sequence.desc())
                             .offset(max(0, page) * page_size).limit(page_size)))
    return rows, total


def queue(session: Session) -> list[PrintJob]:
    """Active jobs in queue order: ORDER before STOCK, FIFO within each (ADR-063);
    printing jobs first."""
    rows = list(session.exec(select(PrintJob).where(PrintJob.status.in_(machine.ACTIVE))))
    rank = {"PRINTING": 0, "ASSIGNED": 1, "QUEUED": 2}
    return sorted(rows, key=lambda j: (rank[j.status], *machine.queue_key(j.purpose, j.sequence or 0)))


def job_counts(session: Session) -> dict[str, int]:
    found = dict(session.exec(select(PrintJob.status, func.count()).group_by(PrintJob.status)).all())
    return {s: found.get(s, 0) for s in machine.STATUSES}


def order_numbers(session: Session, jobs: list[PrintJob]) -> dict[uuid.UUID, str]:
    ids = {j.order_id for j in jobs if j.order_id}
    if not ids:
        return {}
    return dict(session.exec(select(Order.id, Order.number).where(Order.id.in_(ids))).all())


def jobs_for_order(session: Session, order_id: uuid.UUID | str) -> list[PrintJob]:
    return list(session.exec(select(PrintJob).where(PrintJob.order_id == uuid.UUID(str(order_id)))
                             .order_by(PrintJob.sequence)))


def printers(session: Session) -> list[Printer]:
    return list(session.exec(select(Printer).order_by(Printer.name)))


def needs_review(session: Session) -> list[PrintJob]:
    return list(session.exec(select(PrintJob).where(PrintJob.needs_review).order_by(PrintJob.sequence)))


# --- creating jobs ---------------------------------------------------------------------------


@dataclass
class CreatedJobs:
    jobs: list[PrintJob] = field(default_factory=list)
    unmapped: list[str] = field(default_factory=list)
    skipped: str = ""


def create_jobs_for_order(session: Session, order_id: uuid.UUID | str) -> CreatedJobs:
    """`order.created`: one ORDER job per assembly part × quantity per product ×
    line quantity, copy numbers 1…n per (line, part); part counts on the order
    and its lines. Lines whose SKU has no mapping get a visible problem.
    Idempotent: lines that already have jobs are left alone."""
    order = orders.get_order(session, order_id, lock=True)
    result = CreatedJobs()
    if order.status == "CANCELLED" or order.source == "builder":
        result.skipped = "cancelled" if order.status == "CANCELLED" else "builder order (no printing)"
        return result
    if order.status == "COMPLETED" or order.fulfillment_status in orders_machine.FULFILLED:
        result.skipped = "already fulfilled (e.g. an imported past order)"
        return result
    lines = orders.line_items(session, order.id)
    with_jobs = set(session.exec(select(PrintJob.line_item_id).where(PrintJob.order_id == order.id).distinct()))
    tid = session_tenant_id(session)
    plan: list[tuple[LineItem, ProductMapping, list[AssemblyPart]]] = []
    unmapped: list[tuple[int, LineItem, str]] = []
    for pos, li in enumerate(lines, 1):
        if not li.sku or li.id in with_jobs:
            continue
        mapping = mapping_for_sku(session, li.sku)
        mapping_parts = [] if mapping is None else parts(session, mapping.id)
        if mapping is None:
            unmapped.append((pos, li, f"no print mapping for SKU {li.sku}"))
        elif not mapping.active:
            unmapped.append((pos, li, f"the print mapping for SKU {li.sku} is inactive"))
        elif not mapping_parts:
            unmapped.append((pos, li, f"the print mapping for SKU {li.sku} has no parts"))
        else:
            plan.append((li, mapping, mapping_parts))
    # Manual orders are often PCs: only flag their unmapped lines when something on them prints.
    if order.source == "manual" and not plan and not with_jobs:
        result.skipped = "nothing to print"
        return result
    now = utcnow()
    for li, mapping, mapping_parts in plan:
        line_total = 0
        for part in mapping_parts:
            for copy in range(1, part.quantity_per_product * li.quantity + 1):
                job = PrintJob(tenant_id=tid, order_id=order.id, line_item_id=li.id, product_mapping_id=mapping.id,
                               assembly_part_id=part.id, sku=li.sku, part_name=part.part_name,
                               filename=part.filename, copy_number=copy, purpose="ORDER", status="QUEUED",
                               queued_at=now, created_at=now, updated_at=now)
                session.add(job)
                result.jobs.append(job)
                line_total += 1
        li.total_parts, li.completed_parts = line_total, 0
        if li.status == "PENDING":
            li.status = "PRINTING"
        li.problem = ""
        session.add(li)
    for pos, li, problem in unmapped:
        li.problem = problem[:500]
        session.add(li)
        result.unmapped.append(li.sku)
        orders.add_problem(session, order, f"Line {pos} ({li.title or li.sku}): {problem}, so nothing is printed for it.")
    session.flush()
    if result.jobs:
        order.total_parts = session.exec(select(func.count()).select_from(PrintJob).where(
            PrintJob.order_id == order.id)).one()
        order.updated_at = utcnow()
        session.add(order)
        if order.status == "PENDING":
            orders.change_status(session, order, "PROCESSING", reason="print jobs created")
        orders.log_event(session, order, "print-jobs.created",
                         f"{len(result.jobs)} print job(s) created for {len(plan)} line(s)",
                         meta={"printJobIds": [str(j.id) for j in result.jobs]})
        publish(session, "print-jobs.created", {"orderId": str(order.id),
                                                "printJobIds": [str(j.id) for j in result.jobs]}, source=SOURCE)
        _changed(session)
        submit_after_commit(session)
    return result


def create_stock_jobs(session: Session, mapping_id: uuid.UUID | str, quantity: int = 1, *,
                      actor: Principal) -> list[PrintJob]:
    """Print `quantity` products for the shelf: STOCK jobs queue behind every ORDER job."""
    actor.require("printJobs.write")
    if not isinstance(quantity, int) or not 1 <= quantity <= 500:
        raise ValidationFailed("print between 1 and 500 products for stock")
    mapping = get_mapping(session, mapping_id)
    mapping_parts = parts(session, mapping.id)
    if not mapping_parts:
        raise ValidationFailed(f"{mapping.sku} has no parts to print")
    tid, now, jobs = session_tenant_id(session), utcnow(), []
    for part in mapping_parts:
        for copy in range(1, part.quantity_per_product * quantity + 1):
            job = PrintJob(tenant_id=tid, product_mapping_id=mapping.id, assembly_part_id=part.id, sku=mapping.sku,
                           part_name=part.part_name, filename=part.filename, copy_number=copy, purpose="STOCK",
                           queued_at=now, created_at=now, updated_at=now)
            session.add(job)
            jobs.append(job)
    session.flush()
    _log(session, None, "print-jobs.created", f"{len(jobs)} STOCK print job(s) for {quantity} × {mapping.sku}",
         actor=actor, meta={"printJobIds": [str(j.id) for j in jobs]})
    publish(session, "print-jobs.created", {"orderId": "", "printJobIds": [str(j.id) for j in jobs]}, source=SOURCE)
    submit_after_commit(session)
    return jobs


# --- status changes --------------------------------------------------------------------------


def _set_status(session: Session, job: PrintJob, target: str, *, via: str, actor: Principal | None = None,
                reason: str = "", error: str = "") -> bool:
    """Move a job and publish what happened. Callers have checked the move.
    `via`: simplyprint | reconcile | operator | cascade."""
    previous = job.status
    if previous == target:
        return False
    now = utcnow()
    job.status = target
    job.updated_at = now
    if target == "QUEUED":
        job.queued_at = now
        job.progress, job.error = 0, ""
        job.assigned_at = job.started_at = job.failed_at = job.cancelled_at = None
    elif target == "ASSIGNED":
        job.assigned_at = now
    elif target == "PRINTING":
        job.started_at = job.started_at if previous == "PRINTING" else now
        job.error = ""
    elif target == "COMPLETED":
        job.completed_at, job.progress, job.error = now, 100, ""
    elif target == "FAILED":
        job.failed_at = now
        job.error = (error or reason or "the print failed")[:1000]
    elif target == "CANCELLED":
        job.cancelled_at = now
        if error or reason:
            job.error = (error or reason)[:1000]
    if target == "COMPLETED" and job.order_id:
        order = session.get(Order, job.order_id)
        if order is not None and order.status == "CANCELLED":
            job.scrap = True  # finished for an order that no longer wants it
    session.add(job)
    who = actor.display_name if actor else {"simplyprint": "SimplyPrint", "reconcile": "reconciliation",
                                            "cascade": "order cancellation"}.get(via, "system")
    severity = "ERROR" if target == "FAILED" else "WARNING" if target == "CANCELLED" else "INFO"
    _log(session, job, "print-job.status-changed",
         f"{job.part_name or 'Job'} #{job.copy_number}: {previous} → {target} by {who}"
         + (f" ({reason})" if reason else ""), severity=severity, actor=actor,
         meta={"previousStatus": previous, "newStatus": target, "via": via})
    ref = _job_ref(job)
    publish(session, "print-job.status-changed", {**ref, "previousStatus": previous, "newStatus": target,
                                                  "via": via}, source=SOURCE)
    if target == "COMPLETED":
        publish(session, "print-job.completed", ref, source=SOURCE)
    elif target == "FAILED":
        publish(session, "print-job.failed", {**ref, "errorMessage": job.error}, source=SOURCE)
    elif target == "CANCELLED":
        publish(session, "print-job.cancelled", {**ref, "reason": reason or via}, source=SOURCE)
    return True


def apply_remote(session: Session, job: PrintJob, target: str | None, *, via: str = "simplyprint",
                 timestamp: int = 0, job_uid: str | None = None, job_id: int | None = None,
                 printer_id: int | None = None, printer_name: str = "", progress: int | None = None,
                 error: str = "") -> str:
    """A status SimplyPrint reported for one of our jobs. Returns applied |
    unchanged | stale | refused. Out-of-order and repeated reports change nothing:
    an older timestamp than the newest applied is stale, and the machine refuses
    moves backwards (a COMPLETED job never goes back to PRINTING)."""
    if timestamp and timestamp < (job.last_event_at or 0):
        return "stale"
    if target == "QUEUED":
        return "refused"  # only an operator puts a job back in the queue
    uid_changed = bool(job_uid) and job_uid != job.simplyprint_job_uid
    if job.status == "FAILED" and target in ("PRINTING", "COMPLETED", "ASSIGNED") and not uid_changed:
        return "stale"  # the failed attempt itself, reported late
    if job.status == "CANCELLED" and target == "PRINTING" and uid_changed and not job.needs_review:
        # SimplyPrint took the item before our cancellation removed it: a part is on
        # a printer for a job we no longer want. An operator decides.
        job.needs_review, job.simplyprint_job_uid = True, (job_uid or "")[:64] or None
        job.printer_id, job.printer_name = printer_id or job.printer_id, printer_name[:200] or job.printer_name
        job.last_event_at, job.updated_at = max(job.last_event_at or 0, int(timestamp or 0)), utcnow()
        session.add(job)
        _log(session, job, "print-job.needs-review", f"{job.part_name} #{job.copy_number} is printing on "
             f"{printer_name or 'a printer'} although it was cancelled: stop it or keep the part", severity="WARNING")
        return "flagged"
    moved = False
    if target and target != job.status:
        if not machine.can_move(job.status, target):
            return "refused"
        moved = True
    touched = False
    if job_uid and (moved or job.status in machine.ACTIVE) and job.simplyprint_job_uid != job_uid:
        job.simplyprint_job_uid, touched = job_uid[:64], True
    if job_id and (moved or job.status in machine.ACTIVE) and job.simplyprint_job_id != job_id:
        job.simplyprint_job_id, touched = int(job_id), True
    if printer_id and job.printer_id != printer_id and (moved or job.status in machine.ACTIVE):
        job.printer_id, touched = int(printer_id), True
    if printer_name and job.printer_name != printer_name[:200] and (moved or job.status in machine.ACTIVE):
        job.printer_name, touched = printer_name[:200], True
    if progress is not None and job.status == "PRINTING" and not moved:
        value = max(0, min(100, int(progress)))
        if value != job.progress:
            job.progress, touched = value, True
    if timestamp and (moved or touched):
        job.last_event_at = max(job.last_event_at or 0, int(timestamp))
    if moved:
        if target == "PRINTING" and progress is not None:
            job.progress = max(0, min(100, int(progress)))
        _set_status(session, job, target, via=via, error=error)
        return "applied"
    if touched:
        job.updated_at = utcnow()
        session.add(job)
        _changed(session, job)
    return "unchanged"


def manual_mode(session: Session) -> bool:
    return connection(session) is None


def movable_by_hand(job: PrintJob, *, manual: bool) -> bool:
    """An operator sets this job's status by hand: in manual mode, or when
    SimplyPrint could not take the job (no queue item, and the refusal or the
    missing file recorded), so SimplyPrint reports nothing. A job merely not
    submitted yet is the submitter's: moving it would race its AddItem."""
    return manual or (not job.simplyprint_queue_item_id and bool(job.error))


def manual_moves(job: PrintJob, *, manual: bool) -> list[str]:
    """The statuses an operator may move this job to by hand (none when SimplyPrint reports it)."""
    return machine.allowed_manual(job.status) if movable_by_hand(job, manual=manual) else []


def move_job(session: Session, job_id: uuid.UUID | str, status: str, *, actor: Principal, reason: str = "") -> PrintJob:
    """Manual mode: an operator moves a job through its statuses by hand (the
    same events and orchestration as SimplyPrint's reports). Also allowed,
    while connected, for a job SimplyPrint could not take (movable_by_hand)."""
    actor.require("printJobs.write")
    status = (status or "").strip().upper()
    if status not in machine.STATUSES:
        raise ValidationFailed(f"unknown print job status '{status}'")
    job = get_job(session, job_id, lock=True)
    if not movable_by_hand(job, manual=manual_mode(session)):
        raise Conflict("SimplyPrint reports this job's status; cancel or requeue it instead")
    if job.status == status:
        return job
    if not machine.can_move_manually(job.status, status):
        allowed = ", ".join(machine.allowed_manual(job.status)) or "none (final)"
        raise InvalidTransition(f"a {job.status} job cannot be moved to {status}; allowed: {allowed}",
                                details={"allowed": machine.allowed_manual(job.status)})
    if status == "QUEUED" and job.order_id:
        order = session.get(Order, job.order_id)
        if order is not None and order.fulfillment_status in ("shipped", "completed"):
            raise Conflict("its order has already shipped")
    _set_status(session, job, status, via="operator", actor=actor, reason=reason,
                error=reason if status == "FAILED" else "")
    return job


def cancel_job(session: Session, job_id: uuid.UUID | str, *, actor: Principal, reason: str = "") -> PrintJob:
    """Operator cancel: a queued item leaves the SimplyPrint queue; a printing
    job is stopped on its printer. Idempotent for a cancelled job."""
    actor.require("printJobs.write")
    job = get_job(session, job_id, lock=True)
    if job.status == "CANCELLED":
        return job
    if job.status not in machine.CANCELLABLE:
        raise InvalidTransition(f"a {job.status} job cannot be cancelled")
    c = client(session)
    if c is not None:
        try:
            _cancel_remote(c, job)
        except sp.SimplyPrintError as exc:
            raise Conflict(f"SimplyPrint did not cancel it: {exc.message}") from exc
    _set_status(session, job, "CANCELLED", via="operator", actor=actor, reason=reason or "cancelled by an operator")
    return job


def _cancel_remote(c: sp.SimplyPrintClient, job: PrintJob) -> None:
    if job.status in ("QUEUED", "ASSIGNED") and job.simplyprint_queue_item_id:
        try:
            c.delete_queue_item(job.simplyprint_queue_item_id)
        except sp.SimplyPrintError as exc:
            if not exc.not_found:
                raise
    elif job.status == "PRINTING" and job.printer_id:
        try:
            c.cancel_print(job.printer_id, comment="cancelled in Shopfloor")
        except sp.SimplyPrintError as exc:
            if exc.status_code is None or exc.status_code >= 500:
                raise  # not reached / server trouble; a refusal means it is not printing any more


def requeue_job(session: Session, job_id: uuid.UUID | str, *, actor: Principal) -> PrintJob:
    """A FAILED or CANCELLED job goes back to QUEUED (its order revives). When
    connected it gets a fresh SimplyPrint queue item unless its item is still
    waiting there."""
    actor.require("printJobs.write")
    job = get_job(session, job_id, lock=True)
    if job.status == "QUEUED":
        return job
    if job.status not in machine.REQUEUEABLE:
        raise InvalidTransition(f"only FAILED or CANCELLED jobs can be requeued (this one is {job.status})")
    if job.order_id:
        order = session.get(Order, job.order_id)
        if order is not None and order.fulfillment_status in ("shipped", "completed"):
            raise Conflict("its order has already shipped")
    c = client(session)
    keep_item = False
    if c is not None and job.simplyprint_queue_item_id:
        try:
            item = c.queue_item(job.simplyprint_queue_item_id)
        except sp.SimplyPrintError as exc:
            raise Conflict(f"SimplyPrint did not answer: {exc.message}") from exc
        keep_item = item is not None and int(item.get("left") or 0) > 0
    if not keep_item:
        job.simplyprint_queue_item_id = None
        job.submitting_at = None
    job.simplyprint_job_uid, job.simplyprint_job_id, job.printer_id, job.printer_name = None, None, None, ""
    job.needs_review, job.scrap = False, False
    job.last_event_at = int(time.time())  # reports about the earlier attempt are stale from now on
    _set_status(session, job, "QUEUED", via="operator", actor=actor, reason="requeued")
    if c is not None and not keep_item:
        submit_after_commit(session)
    return job


def resolve_review(session: Session, job_id: uuid.UUID | str, *, actor: Principal) -> PrintJob:
    """An operator has dealt with a job flagged at cancellation."""
    actor.require("printJobs.write")
    job = get_job(session, job_id, lock=True)
    if job.needs_review:
        job.needs_review = False
        job.updated_at = utcnow()
        session.add(job)
        _log(session, job, "print-job.reviewed", f"{job.part_name} #{job.copy_number} reviewed", actor=actor)
    return job


# --- order cancellation cascade -----------------------------------------------------------------


@dataclass
class CascadeResult:
    cancelled: list[uuid.UUID] = field(default_factory=list)
    flagged: list[uuid.UUID] = field(default_factory=list)
    scrapped: list[uuid.UUID] = field(default_factory=list)
    remote_failed: list[int] = field(default_factory=list)


def cancel_jobs_for_order(session: Session, order_id: uuid.UUID | str) -> CascadeResult:
    """`order.cancelled` (seed OrderCancellation): QUEUED/ASSIGNED jobs are
    removed from the SimplyPrint queue and cancelled here, PRINTING jobs are
    flagged for operator review, completed parts are recorded as scrap. Each
    step is a no-op the second time; queue items SimplyPrint could not delete
    go to the retry queue (CANCELLATION)."""
    result = CascadeResult()
    jobs = list(session.exec(select(PrintJob).where(PrintJob.order_id == uuid.UUID(str(order_id)))
                             .order_by(PrintJob.sequence).with_for_update()))
    c = client(session) if any(j.status in ("QUEUED", "ASSIGNED") and j.simplyprint_queue_item_id
                               for j in jobs) else None
    for job in jobs:
        if job.status in ("QUEUED", "ASSIGNED"):
            if c is not None and job.simplyprint_queue_item_id:
                try:
                    _cancel_remote(c, job)
                except sp.SimplyPrintError as exc:
                    log.warning("cancel queue item %s: %s (retry queue)", job.simplyprint_queue_item_id, exc)
                    result.remote_failed.append(job.simplyprint_queue_item_id)
            _set_status(session, job, "CANCELLED", via="cascade", reason="order cancelled")
            result.cancelled.append(job.id)
        elif job.status == "PRINTING" and not job.needs_review:
            job.needs_review, job.updated_at = True, utcnow()
            session.add(job)
            _log(session, job, "print-job.needs-review",
                 f"{job.part_name} #{job.copy_number} is printing on {job.printer_name or 'a printer'} for a "
                 "cancelled order: stop it or keep the part", severity="WARNING")
            result.flagged.append(job.id)
        elif job.status == "COMPLETED" and not job.scrap:
            job.scrap, job.updated_at = True, utcnow()
            session.add(job)
            _log(session, job, "print-job.scrapped", f"{job.part_name} #{job.copy_number} recorded as scrap "
                 "(its order was cancelled)", severity="WARNING")
            result.scrapped.append(job.id)
    if result.remote_failed:
        retry.schedule(session, "CANCELLATION", order_id=uuid.UUID(str(order_id)),
                       payload={"queueItemIds": result.remote_failed})
    return result


@retry.operation("CANCELLATION")
def _retry_cancellation(session: Session, entry) -> None:  # noqa: ANN001
    """Delete queue items a cancellation could not delete at the time."""
    c = client(session)
    if c is None:
        return  # disconnected: nothing left to clean up on SimplyPrint
    for item_id in entry.payload.get("queueItemIds") or []:
        try:
            c.delete_queue_item(int(item_id))
        except sp.SimplyPrintError as exc:
            if not exc.not_found:
                raise


# --- the SimplyPrint connection and its client ----------------------------------------------------


def connection(session: Session) -> SimplyPrintConnection | None:
    return session.exec(select(SimplyPrintConnection).where(SimplyPrintConnection.disconnected_at.is_(None))).first()


VERSION_KEY = "shopfloor:simplyprint:version:{tenant_id}"
_clients: dict[uuid.UUID, tuple[tuple, sp.SimplyPrintClient]] = {}
_clients_lock = threading.Lock()


def _version(tenant_id: uuid.UUID) -> str:
    from jobs import redis_conn

    try:
        value = redis_conn().get(VERSION_KEY.format(tenant_id=tenant_id))
    except Exception:  # noqa: BLE001 — Redis down: the connection row's fingerprint still guards the cache
        return "?"
    return value.decode() if value else "0"


def bump_version(tenant_id: uuid.UUID | str) -> None:
    """Every process drops its cached client for the tenant at its next use."""
    from jobs import redis_conn

    tid = uuid.UUID(str(tenant_id))
    forget_client(tid)
    forget_routes()
    try:
        redis_conn().incr(VERSION_KEY.format(tenant_id=tid))
    except Exception as exc:  # noqa: BLE001
        log.warning("could not bump the SimplyPrint client version: %s", exc)


def forget_client(tenant_id: uuid.UUID | None = None) -> None:
    with _clients_lock:
        gone = [_clients.pop(tenant_id, None)] if tenant_id else list(_clients.values())
        if tenant_id is None:
            _clients.clear()
    for hit in gone:
        if hit:
            with contextlib.suppress(Exception):
                hit[1].close()


def make_client(conn: SimplyPrintConnection, *, retries: int = 2) -> sp.SimplyPrintClient:
    return sp.SimplyPrintClient(conn.company_id, conn.api_key, api_base=conn.api_base_url or sp.DEFAULT_API_BASE,
                                files_base=conn.files_base_url or sp.DEFAULT_FILES_BASE, timeout=15.0,
                                retries=retries)


def client(session: Session) -> sp.SimplyPrintClient | None:
    """This process's client for the session's tenant, or None in manual mode.
    Re-created when the connection changed (Redis version stamp or row)."""
    conn = connection(session)
    tid = session_tenant_id(session)
    if conn is None:
        if tid in _clients:
            forget_client(tid)
        return None
    stamp = (_version(tid), conn.id, conn.company_id, conn.api_key, conn.api_base_url, conn.files_base_url,
             conn.connected_at)
    with _clients_lock:
        hit = _clients.get(tid)
        if hit and hit[0] == stamp:
            return hit[1]
        fresh = make_client(conn)
        _clients[tid] = (stamp, fresh)
    if hit:
        with contextlib.suppress(Exception):
            hit[1].close()
    return fresh


def webhook_url(session: Session) -> str:
    """Where SimplyPrint should send this tenant's webhooks."""
    slug = session.exec(select(Tenant.slug).where(Tenant.id == session_tenant_id(session))).first()
    return f"{get_settings().api_url.rstrip('/')}/api/v1/webhooks/simplyprint/{slug}"


def connect(session: Session, *, company_id: str | int, api_key: str, webhook_secret: str = "",
            api_base_url: str = "", files_base_url: str = "", actor: Principal,
            test: bool = True) -> SimplyPrintConnection:
    """Save (and by default test) the credentials; every process re-initialises
    its client. An empty webhook secret gets a generated one."""
    actor.require("settings.write")
    company = str(company_id).strip()
    if not company.isdigit():
        raise ValidationFailed("the company id is the number in your SimplyPrint panel URL (simplyprint.io/panel/<id>)")
    if not api_key.strip():
        raise ValidationFailed("enter the SimplyPrint API key")
    secret = webhook_secret.strip() or secrets.token_urlsafe(24)
    if len(secret) > 128:
        raise ValidationFailed("the webhook secret has at most 128 characters")
    for url in (api_base_url, files_base_url):
        if url.strip() and not url.strip().startswith(("http://", "https://")):
            raise ValidationFailed(f"'{url.strip()}' is not an http(s) URL")
    conn = session.exec(select(SimplyPrintConnection)).first()
    if conn is None:
        conn = SimplyPrintConnection(tenant_id=session_tenant_id(session), company_id=company, api_key="",
                                     webhook_secret="")
    conn.company_id, conn.api_key, conn.webhook_secret = company, api_key.strip(), secret
    conn.api_base_url, conn.files_base_url = api_base_url.strip().rstrip("/"), files_base_url.strip().rstrip("/")
    if test:
        with make_client(conn, retries=0) as c:
            try:
                c.test()
            except sp.SimplyPrintError as exc:
                raise ValidationFailed(f"SimplyPrint refused these credentials: {exc.message}") from exc
    conn.connected_at, conn.disconnected_at, conn.last_error, conn.updated_at = utcnow(), None, "", utcnow()
    session.add(conn)
    session.flush()
    audit.record(session, "integration.simplyprint.connected", actor_user_id=actor.user_id,
                 target_type="simplyprint_connection", target_id=company)
    publish(session, "integration.simplyprint-changed", {"action": "connected"}, source=SOURCE)
    _after_commit(session, "bump_version")
    _changed(session)
    submit_after_commit(session)
    return conn


def disconnect(session: Session, *, actor: Principal) -> None:
    """Forget the connection (kept, marked disconnected): manual mode from now on."""
    actor.require("settings.write")
    conn = connection(session)
    if conn is None:
        return
    conn.disconnected_at, conn.updated_at = utcnow(), utcnow()
    session.add(conn)
    audit.record(session, "integration.simplyprint.disconnected", actor_user_id=actor.user_id,
                 target_type="simplyprint_connection", target_id=conn.company_id)
    publish(session, "integration.simplyprint-changed", {"action": "disconnected"}, source=SOURCE)
    _after_commit(session, "bump_version")
    _changed(session)


def update_connection_settings(session: Session, *, actor: Principal, poll_minutes: int | None = None,
                               reconcile_enabled: bool | None = None,
                               queue_group: int | None | str = "") -> SimplyPrintConnection:
    actor.require("settings.write")
    conn = connection(session)
    if conn is None:
        raise NotFound("SimplyPrint is not connected")
    if poll_minutes is not None:
        if not isinstance(poll_minutes, int) or not 1 <= poll_minutes <= 1440:
            raise ValidationFailed("poll every 1 to 1440 minutes")
        conn.poll_minutes = poll_minutes
    if reconcile_enabled is not None:
        conn.reconcile_enabled = bool(reconcile_enabled)
    if queue_group != "":
        conn.queue_group = int(queue_group) if queue_group not in (None, 0) else None
    conn.updated_at = utcnow()
    session.add(conn)
    audit.record(session, "integration.simplyprint.settings", actor_user_id=actor.user_id,
                 target_type="simplyprint_connection", target_id=conn.company_id,
                 meta={"pollMinutes": conn.poll_minutes, "reconcileEnabled": conn.reconcile_enabled})
    return conn


def test_connection(session: Session) -> str:
    """account/Test with the saved credentials; the message, or ValidationFailed."""
    conn = connection(session)
    if conn is None:
        raise ValidationFailed("SimplyPrint is not connected (manual mode)")
    with make_client(conn, retries=0) as c:
        try:
            c.test()
        except sp.SimplyPrintError as exc:
            raise ValidationFailed(f"SimplyPrint refused: {exc.message}") from exc
    return f"Connected to SimplyPrint company {conn.company_id}: the API key is valid."


# --- after-commit work --------------------------------------------------------------------------

_AFTER = "printing_after_commit"


def _after_commit(session: Session, what: str) -> None:
    session.info.setdefault(_AFTER, set()).add(what)


def submit_after_commit(session: Session) -> None:
    """Queue the SimplyPrint submission of pending jobs once this transaction commits."""
    _after_commit(session, "submit")


@sa_event.listens_for(Session, "after_commit")
def _run_after_commit(session: Session) -> None:
    work = session.info.pop(_AFTER, None)
    if not work:
        return
    tid = session.info.get(TENANT_KEY)
    if "bump_version" in work:
        bump_version(tid)
    if "submit" in work:
        request_submission(tid)


@sa_event.listens_for(Session, "after_soft_rollback")
def _forget_after_rollback(session: Session, previous_transaction) -> None:  # noqa: ANN001
    session.info.pop(_AFTER, None)


# --- submitting jobs to SimplyPrint ----------------------------------------------------------------

SUBMIT_BATCH = 20  # jobs claimed, added and recorded together


def _submit_key(tenant_id: uuid.UUID | str) -> str:
    return f"simplyprint-submit:{tenant_id}"


def request_submission(tenant_id: uuid.UUID | str) -> None:
    """Have a worker add the tenant's pending jobs to SimplyPrint: one run per
    burst (jobs.enqueue_once); if Redis is down the reconciliation poll submits."""
    try:
        from jobs import enqueue_once
        from jobs.printing import submit

        enqueue_once(_submit_key(tenant_id), submit, str(tenant_id), queue_name="integrations",
                     description=f"SimplyPrint submit ({tenant_id})")
    except Exception as exc:  # noqa: BLE001 — Redis down: the reconciliation poll submits them
        log.warning("could not enqueue the SimplyPrint submission: %s", exc)


@contextlib.contextmanager
def _advisory_lock(key: str, *, wait: bool = True) -> Iterator[bool]:
    """A transaction-level advisory lock on a dedicated connection: it ends
    with the connection, so a killed worker never leaves it held. With
    wait=False it yields False at once when another holder has it."""
    with get_engine().connect() as conn:
        if wait:
            conn.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"), {"k": key})
            got = True
        else:
            got = bool(conn.execute(text("SELECT pg_try_advisory_xact_lock(hashtextextended(:k, 0))"),
                                    {"k": key}).scalar())
        try:
            yield got
        finally:
            conn.rollback()


def _queue_lock(tenant_id: uuid.UUID, *, wait: bool = True) -> contextlib.AbstractContextManager[bool]:
    """One submitter per tenant at a time (keeps the SimplyPrint queue FIFO)."""
    return _advisory_lock(f"simplyprint-queue:{tenant_id}", wait=wait)


BUSY_RETRY_S = 1.0  # a run that finds another one busy comes back this much later instead of waiting


def _come_back_later(func_name: str, tenant_id: uuid.UUID, key: str) -> None:
    """Another run holds the tenant's lock: rather than keep a worker waiting
    on it, run again shortly (it sees whatever the busy run leaves behind).
    Coalesced on the run's own key, so a long busy run costs one retry chain."""
    import jobs.printing as entry
    from jobs import enqueue_once

    enqueue_once(key, getattr(entry, func_name), str(tenant_id), queue_name="integrations", delay=BUSY_RETRY_S,
                 description=f"SimplyPrint {func_name} ({tenant_id}), again")


def pending_submissions(session: Session) -> list[uuid.UUID]:
    rows = session.exec(select(PrintJob.id, PrintJob.purpose, PrintJob.sequence).where(
        PrintJob.status == "QUEUED", PrintJob.simplyprint_queue_item_id.is_(None))).all()
    return [r[0] for r in sorted(rows, key=lambda r: machine.queue_key(r[1], r[2]))]


def submit_pending(tenant_id: uuid.UUID | str, *, wait_busy: bool = True, slice_s: float | None = None) -> int:
    """Add every QUEUED job without a queue item to SimplyPrint, in queue order,
    SUBMIT_BATCH at a time (claim in one transaction, AddItem each, record in
    one transaction). Safe to run any number of times, concurrently, or after
    a crash: a job with a queue item id is skipped, and an item a killed run
    added but never recorded is found in the queue and adopted instead of
    added twice. The worker's run passes wait_busy=False (when another run
    holds the queue lock it comes back in a moment instead of waiting) and a
    `slice_s`: after that long it queues its continuation and returns, so a
    big backlog does not keep other work off its worker."""
    tid = uuid.UUID(str(tenant_id))
    with contextlib.suppress(Exception):  # from here on, a new trigger queues another run
        from jobs import release_once

        release_once(_submit_key(tid))
    started = time.monotonic()
    more = False
    with _queue_lock(tid, wait=wait_busy) as got:
        if not got:
            _come_back_later("submit", tid, _submit_key(tid))
            return 0
        done, seen = 0, set()
        files: dict[uuid.UUID, str] = {}
        while not more:  # until nothing new is pending: jobs created meanwhile go out in this run
            with tenant_session(tid) as s:
                c = client(s)
                if c is None:
                    return done
                group = connection(s).queue_group
                pending = [j for j in pending_submissions(s) if j not in seen]
            if not pending:
                break
            for start in range(0, len(pending), SUBMIT_BATCH):
                if slice_s is not None and time.monotonic() - started > slice_s:
                    more = True  # the rest goes in the continuation
                    break
                chunk = pending[start:start + SUBMIT_BATCH]
                seen.update(chunk)
                batch = _SubmitBatch(tid, c, group, files)
                try:
                    batch.run(chunk)
                except sp.SimplyPrintError as exc:
                    _submission_failed(tid, batch.failed_job, exc)
                    return done + batch.recorded
                done += batch.recorded
    if more:  # after the lock is let go
        request_submission(tid)
    return done


def _submission_failed(tid: uuid.UUID, job_id: uuid.UUID | None, exc: sp.SimplyPrintError) -> None:
    from app.platform.models import RetryEntry

    with tenant_session(tid) as s:
        job = s.get(PrintJob, job_id) if job_id else None
        if job is not None:
            job.error = f"SimplyPrint: {exc.message}"[:1000]
            job.updated_at = utcnow()
            s.add(job)
            _changed(s, job)
        conn = connection(s)
        if conn is not None:
            conn.last_error = f"{exc.message}"[:1000]
            s.add(conn)
        waiting = s.exec(select(RetryEntry.id).where(RetryEntry.job_type == "PRINT_JOB_CREATION",
                                                     RetryEntry.status.in_(("PENDING", "PROCESSING")))).first()
        if waiting is None:
            retry.schedule(s, "PRINT_JOB_CREATION", order_id=job.order_id if job else None,
                           payload={"printJobId": str(job_id) if job_id else "", "error": exc.message[:500]})
        s.commit()


@retry.operation("PRINT_JOB_CREATION")
def _retry_submission(session: Session, entry) -> None:  # noqa: ANN001
    """Retry queue: submit what is still pending; raises while SimplyPrint refuses."""
    tid = session_tenant_id(session)
    with tenant_session(tid) as s:
        c = client(s)
        if c is None:
            return
        c.test()  # raises while SimplyPrint is unreachable: counts as a failed attempt
        pending = pending_submissions(s)
    if pending:
        submit_pending(tid)
        with tenant_session(tid) as s:
            left = pending_submissions(s)
        if left and left[0] in pending:
            raise RuntimeError(f"{len(left)} print job(s) still not on SimplyPrint")


def _retriable(exc: sp.SimplyPrintError) -> bool:
    """Worth trying again later as it is (SimplyPrint busy or unreachable)."""
    return exc.status_code is None or exc.status_code >= 500 or exc.status_code == 429


@dataclass
class _Claim:
    job_id: uuid.UUID
    part_id: uuid.UUID
    file_id: str
    filename: str
    resumed: bool  # an earlier run claimed it and may have added its item before dying
    purpose: str


class _SubmitBatch:
    """One batch of submissions: claim → AddItem (or adopt an orphan) → record
    → ORDER items moved before the STOCK items. Raises SimplyPrintError after
    recording what did go through; `failed_job` names the job it stopped at."""

    def __init__(self, tid: uuid.UUID, c: sp.SimplyPrintClient, group: int | None, files: dict) -> None:
        self.tid, self.c, self.group, self.files = tid, c, group, files
        self.recorded = 0
        self.failed_job: uuid.UUID | None = None

    def run(self, job_ids: list[uuid.UUID]) -> None:
        claims = self._claim(job_ids)
        if not claims:
            return
        orphans = self._orphan_finder(claims)
        added: list[tuple[_Claim, int]] = []
        try:
            for claim in claims:
                self.failed_job = claim.job_id
                item_id = orphans(claim) if orphans else None
                added.append((claim, item_id if item_id is not None else self._add(claim)))
            self.failed_job = None
        finally:
            recorded = self._record(added) if added else []
            self.recorded = len(recorded)
        ordered = [item for claim, item in recorded if claim.purpose == "ORDER"]
        if ordered:
            _place_before_stock(self.tid, self.c, ordered, self.group)

    def _claim(self, job_ids: list[uuid.UUID]) -> list[_Claim]:
        claims: list[_Claim] = []
        with tenant_session(self.tid) as s:
            jobs = {j.id: j for j in s.exec(select(PrintJob).where(PrintJob.id.in_(job_ids)).with_for_update())}
            part_ids = {j.assembly_part_id for j in jobs.values() if j.assembly_part_id}
            if part_ids:  # into the identity map: the loop below runs no query, its writes go in one flush
                list(s.exec(select(AssemblyPart).where(AssemblyPart.id.in_(part_ids))))
            for job_id in job_ids:  # queue order
                job = jobs.get(job_id)
                if job is None or job.status != "QUEUED" or job.simplyprint_queue_item_id:
                    continue
                part = s.get(AssemblyPart, job.assembly_part_id) if job.assembly_part_id else None
                if part is None or not (part.simplyprint_file_id or part.file_key):
                    message = "no file for this part: upload its G-code on the product's page"
                    if job.error != message:
                        job.error, job.updated_at = message, utcnow()
                        s.add(job)
                        _log(s, job, "print-job.not-submitted", f"{job.part_name}: {message}", severity="WARNING")
                    continue
                if part.id not in self.files:
                    self.failed_job = job.id
                    self.files[part.id] = _ensure_remote_file(s, self.c, part)
                claims.append(_Claim(job.id, part.id, self.files[part.id], job.filename or part.filename,
                                     job.submitting_at is not None, job.purpose))
                job.submitting_at = utcnow()
                job.filename = job.filename or part.filename
                s.add(job)
            s.commit()
        self.failed_job = None
        return claims

    def _orphan_finder(self, claims: list[_Claim]):  # noqa: ANN202
        """For resumed claims: a queue item an interrupted run added but never
        recorded (same file, nothing printed yet, known to none of our jobs)."""
        if not any(c.resumed for c in claims):
            return None
        items = sorted(self.c.queue_items(self.group), key=lambda i: int(i.get("id") or 0))
        with tenant_session(self.tid) as s:
            taken = set(s.exec(select(PrintJob.simplyprint_queue_item_id).where(
                PrintJob.simplyprint_queue_item_id.is_not(None))))

        def find(claim: _Claim) -> int | None:
            if not claim.resumed:
                return None
            for item in items:
                item_id = _int(item.get("id"))
                if item_id is None or item_id in taken or (item.get("filename") or "") != claim.filename \
                        or int(item.get("printed") or 0):
                    continue
                taken.add(item_id)
                return item_id
            return None

        return find

    def _add(self, claim: _Claim) -> int:
        try:
            return self.c.add_to_queue(claim.file_id, amount=1, group=self.group)
        except sp.SimplyPrintError as exc:
            if _retriable(exc):
                raise
        with tenant_session(self.tid) as s:  # the upload expired or was unknown: upload again, once
            part = s.get(AssemblyPart, claim.part_id)
            if part is None or not part.file_key:
                raise sp.SimplyPrintError(f"SimplyPrint does not know the file of {claim.filename}")
            self.files[claim.part_id] = _ensure_remote_file(s, self.c, part, force=True)
            s.commit()
        claim.file_id = self.files[claim.part_id]
        return self.c.add_to_queue(claim.file_id, amount=1, group=self.group)

    def _record(self, added: list[tuple[_Claim, int]]) -> list[tuple[_Claim, int]]:
        recorded, stray = [], []
        with tenant_session(self.tid) as s:
            jobs = {j.id: j for j in s.exec(select(PrintJob).where(
                PrintJob.id.in_([c.job_id for c, _ in added])).with_for_update())}
            for claim, item_id in added:
                job = jobs.get(claim.job_id)
                if job is None or job.simplyprint_queue_item_id or job.status != "QUEUED":
                    # cancelled (or recorded by someone else) meanwhile: take our item back out
                    if job is None or job.simplyprint_queue_item_id != item_id:
                        stray.append(item_id)
                    continue
                job.simplyprint_queue_item_id = item_id
                job.error, job.updated_at = "", utcnow()
                s.add(job)
                _log(s, job, "print-job.submitted", f"{job.part_name} #{job.copy_number} queued on SimplyPrint "
                     f"(queue item {item_id})", meta={"queueItemId": item_id})
                recorded.append((claim, item_id))
            s.commit()
        for item_id in stray:
            with contextlib.suppress(sp.SimplyPrintError):
                self.c.delete_queue_item(item_id)
        return recorded


def _item_position(item: dict, fallback: int) -> int:
    for key in ("index", "sort_order"):
        try:
            if item.get(key) is not None:
                return int(item[key])
        except (TypeError, ValueError):
            continue
    return fallback


def _place_before_stock(tid: uuid.UUID, c: sp.SimplyPrintClient, item_ids: list[int], group: int | None) -> None:
    """ADR-063: each new ORDER item goes right before the first STOCK item, in
    the order given (so ORDER items stay FIFO among themselves, and every
    STOCK item waits behind them)."""
    with tenant_session(tid) as s:
        stock = set(s.exec(select(PrintJob.simplyprint_queue_item_id).where(
            PrintJob.purpose == "STOCK", PrintJob.status.in_(("QUEUED", "ASSIGNED")),
            PrintJob.simplyprint_queue_item_id.is_not(None))))
    if not stock:
        return  # nothing to overtake: the items are already behind every ORDER item (FIFO)
    items = c.queue_items(group)
    listed = [(_item_position(i, n), _int(i.get("id"))) for n, i in enumerate(items, 1)]
    order = [item_id for _, item_id in sorted(listed, key=lambda p: p[0]) if item_id is not None]
    for item_id in item_ids:
        stock_at = [n for n, i in enumerate(order) if i in stock]
        if item_id not in order or not stock_at:
            continue
        mine, first_stock = order.index(item_id), min(stock_at)
        if mine > first_stock:
            c.set_order(item_id, to=first_stock + 1, frm=mine + 1)
            order.insert(first_stock, order.pop(mine))


# --- SimplyPrint webhooks --------------------------------------------------------------------------


@dataclass
class WebhookResult:
    status: str  # accepted | duplicate | ignored | test
    record_id: uuid.UUID | None = None


_ROUTE_TTL = 30.0
_routes: dict[str, tuple[float, uuid.UUID, str, str]] = {}


def _route(tenant_slug: str) -> tuple[uuid.UUID, str] | None:
    """(tenant, webhook secret) for a tenant slug, cached briefly (webhooks come
    in bursts); a changed secret or a disconnect (a new version stamp) takes
    effect at once, anything else within _ROUTE_TTL."""
    key = tenant_slug.strip().lower()
    hit = _routes.get(key)
    if hit and hit[0] > time.monotonic() and hit[3] == _version(hit[1]):
        return hit[1], hit[2]
    with platform_session() as ps:
        tenant_id = ps.exec(select(Tenant.id).where(Tenant.slug == key)).first()
    if tenant_id is None:
        return None
    with tenant_session(tenant_id) as s:
        conn = connection(s)
        if conn is None:
            return None
        secret = conn.webhook_secret
    if len(_routes) > 1000:
        _routes.clear()
    _routes[key] = (time.monotonic() + _ROUTE_TTL, tenant_id, secret, _version(tenant_id))
    return tenant_id, secret


def forget_routes() -> None:
    _routes.clear()


def handle_webhook(tenant_slug: str, raw_body: bytes, headers: dict[str, str]) -> WebhookResult:
    """Verify the shared secret (X-SP-Secret or X-SP-Token), dedupe on
    (webhook_id, event, job uid, timestamp) and store the delivery in the
    inbox (processed_simplyprint_webhooks) in one short transaction; a worker
    drains the inbox (drain_webhooks). The answer goes back at once."""
    route = _route(tenant_slug)
    if route is None:
        raise Unauthorized("SimplyPrint is not connected for this shop")
    tenant_id, secret = route
    if not sp.verify_webhook(headers, secret):
        _routes.pop(tenant_slug.strip().lower(), None)  # perhaps the secret just changed: look again next time
        raise Unauthorized("the webhook secret does not match")
    try:
        payload = json.loads(raw_body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationFailed(f"the body is not valid JSON: {exc}", code="malformed_json") from exc
    if not isinstance(payload, dict) or not isinstance(payload.get("event"), str) or not payload["event"]:
        raise ValidationFailed("not a SimplyPrint webhook (no event)", code="malformed_webhook")
    if payload.get("data") is not None and not isinstance(payload.get("data"), dict):
        raise ValidationFailed("not a SimplyPrint webhook (data is not an object)", code="malformed_webhook")
    event = payload["event"].strip().lower()
    if event == "test":
        return WebhookResult("test")
    webhook_id, _, ref, ts = sp.webhook_dedupe_key(payload)
    try:
        timestamp = int(float(ts or 0))
    except ValueError:
        timestamp = 0
    relevant = _relevant(event)
    with tenant_session(tenant_id) as s:
        record_id = s.execute(insert(ProcessedSimplyPrintWebhook).values(
            id=uuid.uuid4(), tenant_id=tenant_id, webhook_id=webhook_id[:40], event=event[:60], job_uid=ref[:64],
            timestamp=timestamp, payload=payload, received_at=utcnow(),
            outcome="received" if relevant else "ignored",
        ).on_conflict_do_nothing().returning(ProcessedSimplyPrintWebhook.id)).scalar()
        s.commit()
    if record_id is None:
        return WebhookResult("duplicate")
    if not relevant:
        return WebhookResult("ignored", record_id)
    request_drain(tenant_id)
    return WebhookResult("accepted", record_id)


def _drain_key(tenant_id: uuid.UUID | str) -> str:
    return f"simplyprint-webhooks:{tenant_id}"


def request_drain(tenant_id: uuid.UUID | str) -> None:
    """Have a worker apply the tenant's stored deliveries: one run per burst
    (jobs.enqueue_once). If Redis is down they wait in the inbox for the
    reconciliation poll, which drains it too."""
    try:
        from jobs import enqueue_once
        from jobs.printing import drain_webhooks

        enqueue_once(_drain_key(tenant_id), drain_webhooks, str(tenant_id), queue_name="integrations",
                     description=f"SimplyPrint webhooks ({tenant_id})")
    except Exception as exc:  # noqa: BLE001
        log.warning("could not enqueue the SimplyPrint webhook drain: %s; the poll will apply them", exc)


DRAIN_BATCH = 200


def pending_webhooks(session: Session, *, exclude: set[uuid.UUID] | None = None,
                     limit: int = DRAIN_BATCH) -> list[tuple[uuid.UUID, str]]:
    """Stored deliveries not applied yet, oldest first: (record id, job uid)."""
    q = select(ProcessedSimplyPrintWebhook.id, ProcessedSimplyPrintWebhook.job_uid).where(
        ProcessedSimplyPrintWebhook.processed_at.is_(None), ProcessedSimplyPrintWebhook.outcome == "received")
    if exclude:
        q = q.where(ProcessedSimplyPrintWebhook.id.not_in(exclude))
    return [(r[0], r[1]) for r in session.exec(q.order_by(ProcessedSimplyPrintWebhook.timestamp,
                                                          ProcessedSimplyPrintWebhook.received_at).limit(limit))]


def drain_webhooks(tenant_id: uuid.UUID | str, *, wait_busy: bool = True,
                   slice_s: float | None = None) -> dict[str, int]:
    """Apply every stored delivery of the tenant, oldest first, DRAIN_BATCH
    to a transaction; the events and live updates they cause go out once per
    batch. One drain per tenant at a time (an advisory lock: a second run
    waits, then finds what arrived meanwhile). Jobs the webhooks name by uid
    only are looked up in SimplyPrint's job history a page at a time, not
    once per delivery. Deliveries whose queue item a submission is still
    recording stay in the inbox and the run raises SubmissionInFlight at the
    end, so RQ tries again in a moment. With `slice_s` (the worker's run) it
    queues its continuation after that long, like submit_pending."""
    from app.platform.events import batched_relay, flush_relay

    tid = uuid.UUID(str(tenant_id))
    with contextlib.suppress(Exception):  # from here on, a new delivery queues another run
        from jobs import release_once

        release_once(_drain_key(tid))
    counts: dict[str, int] = {}
    waiting: set[uuid.UUID] = set()
    started, more = time.monotonic(), False
    with _advisory_lock(f"simplyprint-inbox:{tid}", wait=wait_busy) as got, batched_relay(), live.batched():
        if not got:
            _come_back_later("drain_webhooks", tid, _drain_key(tid))
            return counts
        while True:
            if slice_s is not None and time.monotonic() - started > slice_s:
                more = True  # the rest goes in the continuation
                break
            with tenant_session(tid) as s:
                rows = pending_webhooks(s, exclude=waiting)
                if not rows:
                    break
                c = client(s)
                uids = {uid for _, uid in rows if uid}
                known = set(s.exec(select(PrintJob.simplyprint_job_uid).where(
                    PrintJob.simplyprint_job_uid.in_(uids)))) if uids else set()
            hints = _history_hints(c, uids - known) if c is not None and uids - known else {}
            with tenant_session(tid) as s:
                printers: dict[int, dict] = {}
                records = {r.id: r for r in s.exec(select(ProcessedSimplyPrintWebhook).where(
                    ProcessedSimplyPrintWebhook.id.in_([r for r, _ in rows]),
                    ProcessedSimplyPrintWebhook.processed_at.is_(None)).with_for_update(skip_locked=True))}
                known_jobs = KnownJobs.load(s, uids, set(hints.values()))
                for record_id, _ in rows:
                    if record_id not in records:
                        continue  # applied meanwhile (the poll's run, or a run before an upgrade)
                    try:
                        outcome = _apply_record(s, records[record_id], hints=hints, c=c, printers=printers,
                                                known=known_jobs)
                    except SubmissionInFlight:
                        waiting.add(record_id)
                        continue
                    counts[outcome] = counts.get(outcome, 0) + 1
                for printer_id, values in sorted(printers.items()):  # one lock order: no deadlock
                    _upsert_printer(s, printer_id, **values)
                s.commit()
            flush_relay()
            live.flush()
    if more:  # after the lock is let go
        request_drain(tid)
    if waiting:
        raise SubmissionInFlight(f"{len(waiting)} delivery(ies) name queue items a submission is still recording")
    return counts


def _history_hints(c: sp.SimplyPrintClient, uids: set[str], max_pages: int = 50) -> dict[str, int]:
    """uid → queue item id for SimplyPrint jobs we cannot place yet, read from
    the jobs history (newest first, 100 a page) until all are found; what is
    still missing is looked up one by one."""
    hints: dict[str, int] = {}
    for page in range(1, max_pages + 1):
        try:
            entries, pages = c.jobs(page=page, page_size=100)
        except sp.SimplyPrintError as exc:
            log.warning("SimplyPrint jobs history unavailable (%s); looking jobs up one by one", exc)
            break
        for entry in entries:
            uid = str(entry.get("uid") or "")
            item = entry.get("queueItem") if isinstance(entry.get("queueItem"), dict) else {}
            if uid in uids and _int(item.get("id")) is not None:
                hints[uid] = _int(item.get("id"))
        if len(hints) == len(uids) or page >= pages:
            break
    return hints


def _relevant(event: str) -> bool:
    """Job events move print jobs; the rest (printer.*, queue.*, …) are recorded
    and left to the reconciliation poll."""
    return machine.from_webhook(event) is not None or event in machine.WEBHOOK_EVENTS


def _int(value) -> int | None:  # noqa: ANN001
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _job_by_item(session: Session, item_id: int | None) -> PrintJob | None:
    if item_id is None:
        return None
    return session.exec(select(PrintJob).where(PrintJob.simplyprint_queue_item_id == item_id)
                        .with_for_update()).first()


class SubmissionInFlight(RuntimeError):
    """SimplyPrint already prints a queue item whose id our submitter has not
    recorded yet (it is between AddItem and its commit): try again shortly."""


@dataclass
class KnownJobs:
    """Jobs a drain batch locked up front (one query each instead of one per delivery)."""

    by_uid: dict[str, PrintJob] = field(default_factory=dict)
    by_item: dict[int, PrintJob] = field(default_factory=dict)

    @classmethod
    def load(cls, session: Session, uids: set[str], item_ids: set[int]) -> KnownJobs:
        known = cls()
        if uids:
            for job in session.exec(select(PrintJob).where(PrintJob.simplyprint_job_uid.in_(uids))
                                    .order_by(PrintJob.updated_at).with_for_update()):
                known.by_uid[job.simplyprint_job_uid] = job  # the newest wins, as in find_job
        if item_ids:
            for job in session.exec(select(PrintJob).where(PrintJob.simplyprint_queue_item_id.in_(item_ids))
                                    .with_for_update()):
                known.by_item[job.simplyprint_queue_item_id] = job
        order_ids = {j.order_id for j in (*known.by_uid.values(), *known.by_item.values()) if j.order_id}
        if order_ids:  # in the session's identity map: applying the batch needs no query, so its
            list(session.exec(select(Order).where(Order.id.in_(order_ids))))  # writes go in one flush
        return known

    def find(self, uid: str | None, hints: dict[str, int] | None) -> PrintJob | None:
        if uid and uid in self.by_uid:
            return self.by_uid[uid]
        if uid and hints and uid in hints:
            return self.by_item.get(hints[uid])
        return None

    def saw(self, job: PrintJob) -> None:
        if job.simplyprint_job_uid:
            self.by_uid[job.simplyprint_job_uid] = job


def find_job(session: Session, c: sp.SimplyPrintClient | None, remote: dict,
             hints: dict[str, int] | None = None, known: KnownJobs | None = None) -> PrintJob | None:
    """Our job for a SimplyPrint job object. The webhook's job has no queue item
    id (contract §3 gap): known uid first, then `hints` (uid → queue item id
    from a history page the caller already read), then the jobs history's
    `queueItem.id`, then the job's details. Raises SubmissionInFlight when the
    item is one a submission is still recording."""
    uid = str(remote.get("uid") or "") or None
    if known is not None and (job := known.find(uid, hints)) is not None:
        return job
    item_id = _int((remote.get("queueItem") or {}).get("id")) if isinstance(remote.get("queueItem"), dict) else None
    job = _job_by_item(session, item_id)
    if job is None and uid:
        job = session.exec(select(PrintJob).where(PrintJob.simplyprint_job_uid == uid)
                           .order_by(PrintJob.updated_at.desc()).with_for_update()).first()
    if job is None and uid and hints and uid in hints:
        item_id = hints[uid]
        job = _job_by_item(session, item_id)
        if job is None:
            _raise_if_in_flight(session, item_id)
        return job
    if job is not None or c is None or not uid:
        return job
    printer_id = _int(remote.get("printer_id")) or _int((remote.get("printer") or {}).get("id")
                                                       if isinstance(remote.get("printer"), dict) else None)
    found = False
    for page in (1, 2, 3):
        entries, pages = c.jobs(page=page, page_size=100, printer_ids=[printer_id] if printer_id else None)
        for entry in entries:
            if str(entry.get("uid") or "") == uid:
                item = entry.get("queueItem") if isinstance(entry.get("queueItem"), dict) else {}
                item_id, found = _int(item.get("id")), True
                break
        if found or page >= pages:
            break
    if not found:
        try:
            details = c.job(uid)
        except sp.SimplyPrintError:
            return None
        item = details.get("queueItem") if isinstance(details.get("queueItem"), dict) else {}
        item_id = _int(item.get("id"))
    job = _job_by_item(session, item_id)
    if job is None:
        _raise_if_in_flight(session, item_id)
    return job


def _raise_if_in_flight(session: Session, item_id: int | None) -> None:
    if item_id is not None and session.exec(select(PrintJob.id).where(
            PrintJob.status == "QUEUED", PrintJob.submitting_at > utcnow() - timedelta(minutes=2),
            PrintJob.simplyprint_queue_item_id.is_(None))).first() is not None:
        raise SubmissionInFlight(f"queue item {item_id} is not recorded yet")


def _upsert_printer(session: Session, simplyprint_id: int, **values) -> None:  # noqa: ANN003
    values = {k: v for k, v in values.items() if v is not None}
    tid = session_tenant_id(session)
    session.execute(insert(Printer).values(id=uuid.uuid4(), tenant_id=tid, simplyprint_id=simplyprint_id,
                                           updated_at=utcnow(), **{"name": "", "model": "", "state": "offline",
                                                                   "online": False, "current_file": "",
                                                                   "percentage": 0, **values})
                    .on_conflict_do_update(index_elements=["tenant_id", "simplyprint_id"],
                                           set_={**values, "updated_at": utcnow()}))


_EVENT_PRINTER_STATE = {"job.started": "printing", "job.resumed": "printing", "job.paused": "paused",
                        "job.done": "operational", "job.failed": "operational", "job.cancelled": "operational"}


_CLIENT = object()


def process_webhook(session: Session, record_id: uuid.UUID | str, *, hints: dict[str, int] | None = None,
                    c: sp.SimplyPrintClient | None | object = _CLIENT, printers: dict[int, dict] | None = None) -> str:
    """Apply one stored SimplyPrint delivery (drain_webhooks' body). A record
    another run is applying right now is skipped, not waited for. `c` is the
    caller's client (looked up when not given); with `printers` the printer
    state goes there (printer id → latest values) for the caller to write
    once, instead of an upsert per delivery. Raises SubmissionInFlight before
    writing anything."""
    rec = session.exec(select(ProcessedSimplyPrintWebhook).where(
        ProcessedSimplyPrintWebhook.id == uuid.UUID(str(record_id))).with_for_update(skip_locked=True)).first()
    if rec is None or rec.processed_at is not None:
        return "done"
    return _apply_record(session, rec, hints=hints, c=c, printers=printers)


def _apply_record(session: Session, rec: ProcessedSimplyPrintWebhook, *, hints: dict[str, int] | None,
                  c: sp.SimplyPrintClient | None | object, printers: dict[int, dict] | None,
                  known: KnownJobs | None = None) -> str:
    data = rec.payload.get("data") if isinstance(rec.payload.get("data"), dict) else {}
    remote = data.get("job") if isinstance(data.get("job"), dict) else None
    outcome = "ignored"
    if remote is not None:
        if c is _CLIENT:
            c = client(session)
        printer = remote.get("printer") if isinstance(remote.get("printer"), dict) else {}
        printer_id = _int(remote.get("printer_id")) or _int(printer.get("id"))
        percentage = _int(remote.get("percentage"))
        try:
            job = find_job(session, c, remote, hints, known)
        except sp.SimplyPrintError as exc:
            log.warning("SimplyPrint lookup for webhook %s failed: %s; the poll will catch up", rec.id, exc)
            job = None
        if printer_id and rec.event in _EVENT_PRINTER_STATE:
            printing = _EVENT_PRINTER_STATE[rec.event] in ("printing", "paused")
            state = dict(name=(printer.get("name") or None), online=True, state=_EVENT_PRINTER_STATE[rec.event],
                         current_job_uid=str(remote.get("uid") or "") if printing else "",
                         current_file=(remote.get("file") or "") if printing else "",
                         percentage=percentage if printing and percentage is not None else 0)
            if printers is not None:
                printers[printer_id] = {**printers.get(printer_id, {}), **{k: v for k, v in state.items() if v is not None}}
            else:
                _upsert_printer(session, printer_id, **state)
            _changed(session)
        target = machine.from_webhook(rec.event) if rec.event.startswith("job.") else None
        if job is None:
            outcome = "unmatched"
        else:
            outcome = apply_remote(session, job, target, timestamp=rec.timestamp,
                                   job_uid=str(remote.get("uid") or "") or None, job_id=_int(remote.get("id")),
                                   printer_id=printer_id, printer_name=printer.get("name") or "",
                                   progress=percentage, error=f"SimplyPrint reported {rec.event}"
                                   + (f" on {printer.get('name')}" if printer.get("name") else ""))
            rec.print_job_id = job.id
            if known is not None:
                known.saw(job)
    rec.outcome, rec.processed_at = outcome, utcnow()
    session.add(rec)
    return outcome


# --- reconciliation ------------------------------------------------------------------------------


@dataclass
class ReconcileResult:
    printers: int = 0
    corrected: int = 0
    progress: int = 0
    submitted_pending: int = 0
    skipped: str = ""
    errors: list[str] = field(default_factory=list)


def _epoch(value) -> int:  # noqa: ANN001
    if not value:
        return 0
    if isinstance(value, (int, float)):
        return int(value)
    try:
        return int(datetime.fromisoformat(str(value).replace("Z", "+00:00")).astimezone(timezone.utc).timestamp())
    except ValueError:
        return 0


def reconcile(session: Session, *, history_pages: int = 2) -> ReconcileResult:
    """The safety net for missed webhooks: refresh the printer cache from
    printers/Get, then correct every job whose SimplyPrint history (via
    `queueItem.id`) or printer says otherwise, and queue the submission of
    jobs that never reached SimplyPrint. The caller commits."""
    result = ReconcileResult()
    conn = connection(session)
    c = client(session)
    if conn is None or c is None:
        result.skipped = "manual mode"
        return result
    try:
        remote_printers = c.printers()
        entries: list[dict] = []
        for page in range(1, history_pages + 1):
            batch, pages = c.jobs(page=page, page_size=100)
            entries.extend(batch)
            if page >= pages:
                break
    except sp.SimplyPrintError as exc:
        conn.last_error, conn.last_poll_at = exc.message[:1000], utcnow()
        session.add(conn)
        result.errors.append(exc.message)
        return result
    seen = set()
    current: dict[str, tuple[int, str, int | None]] = {}
    for p in remote_printers:
        pid = _int(p.get("id"))
        if pid is None:
            continue
        seen.add(pid)
        info = p.get("printer") if isinstance(p.get("printer"), dict) else {}
        model = info.get("model") if isinstance(info.get("model"), dict) else {}
        rjob = p.get("job") if isinstance(p.get("job"), dict) else {}
        _upsert_printer(session, pid, name=str(info.get("name") or "")[:200], model=str(model.get("name") or "")[:100],
                        state=str(info.get("state") or "offline")[:30], online=bool(info.get("online")),
                        current_job_uid=str(rjob.get("uid") or "")[:64] or "",
                        current_file=str(rjob.get("file") or "")[:255],
                        percentage=_int(rjob.get("percentage")) or 0)
        if rjob.get("uid"):
            current[str(rjob["uid"])] = (pid, str(info.get("name") or ""), _int(rjob.get("percentage")))
        result.printers += 1
    stale = session.exec(select(Printer).where(Printer.simplyprint_id.not_in(seen) if seen else true())).all()
    for printer in stale:
        session.delete(printer)
    # Oldest first, so a later attempt of the same queue item wins.
    for entry in sorted(entries, key=lambda e: _epoch(e.get("startDate")) or _int(e.get("id")) or 0):
        item = entry.get("queueItem") if isinstance(entry.get("queueItem"), dict) else {}
        job = _job_by_item(session, _int(item.get("id")))
        if job is None:
            continue
        target = machine.from_history(str(entry.get("status") or ""))
        uid = str(entry.get("uid") or "") or None
        on_printer = current.get(uid or "")
        outcome = apply_remote(session, job, target, via="reconcile",
                               timestamp=_epoch(entry.get("endDate")) or _epoch(entry.get("startDate")),
                               job_uid=uid, job_id=_int(entry.get("id")), printer_id=_int(entry.get("printer")),
                               printer_name=on_printer[1] if on_printer else "",
                               progress=_int(entry.get("currentPercentage")),
                               error=f"SimplyPrint history says {entry.get('status')}")
        if outcome == "applied":
            result.corrected += 1
    for uid, (pid, name, pct) in current.items():
        job = session.exec(select(PrintJob).where(PrintJob.simplyprint_job_uid == uid)).first()
        if job is not None and job.status == "PRINTING" and pct is not None and pct != job.progress:
            apply_remote(session, job, None, via="reconcile", progress=pct, printer_id=pid, printer_name=name)
            result.progress += 1
    result.submitted_pending = len(pending_submissions(session))
    if result.submitted_pending:
        submit_after_commit(session)
    conn.last_poll_at, conn.last_error = utcnow(), ""
    session.add(conn)
    _changed(session)
    if result.corrected:
        _log(session, None, "simplyprint.reconciled",
             f"Reconciliation corrected {result.corrected} print job(s) from SimplyPrint", severity="WARNING")
    return result


def reconcile_due(session: Session) -> bool:
    """Whether this tenant's poll is due (connected, enabled, interval passed)."""
    conn = connection(session)
    if conn is None or not conn.reconcile_enabled:
        return False
    if conn.last_poll_at is None:
        return True
    return (utcnow() - conn.last_poll_at).total_seconds() >= max(1, conn.poll_minutes) * 60 - 5
