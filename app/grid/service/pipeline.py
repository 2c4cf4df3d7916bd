"""The GridFlock pipeline (seed 003: GenerateForOrder, the GridFlock
Pipeline, GetMappingStatus, grid.mapping-ready, grid.pipeline-failed): an
order line for a custom baseplate becomes print jobs with no human step.

1. `order.created` (the shop's `feature.grid.enabled` on): each grid line
   (a GRID-CUSTOM-… SKU, or the drawer size in its properties) is parsed
   with the shop's defaults and largest drawer side. Input that does not
   read fails the line with the reason and puts a problem on the order;
   no job. Otherwise one GridJob per line (a redelivered event finds it):
   when a mapping for the same parameters and printer profile exists, the
   job completes at once and `grid.mapping-ready` goes out; else the
   pipeline is queued on the `slicing` queue in the shop's own line.
2. The steps, each recorded in `steps_done` when it finished, so a retry
   skips what is done: stl-generation (plan the plate set, check every
   piece against the bed, one mesh per unique shape), slicing (one G-code
   per unique shape, the real slicer), simplyprint-upload (each unique
   G-code once; in manual mode nothing goes up and the stored files are
   uploaded by the normal submission later), mapping-creation (a product
   mapping with one assembly part per segment).
3. Done: `grid.mapping-ready` {orderId, lineItemId, sku}; its handler asks
   printing for the order's jobs, and printing takes over: one print job per
   segment (printing asks this domain for the line's mapping through its
   `mapping_source` hook and leaves grid lines alone meanwhile: `line_claim`).
4. A step failing: the job FAILED with the step and a readable reason, the
   line FAILED with it, `grid.pipeline-failed` {orderId, lineItemId, sku,
   errorMessage, failedStep}, and a GRIDFLOCK_PIPELINE entry in the retry
   queue (backoff; after the last try the job is flagged and staff are
   told). Staff may retry at once. A run that succeeds clears the line.
5. A worker dying mid-run: the platform's abandoned-job hook puts the job
   back in the queue (or fails it, with the reason, when no retry is left);
   the hourly cron re-queues jobs whose run was lost outright.

Staff and storefront jobs (no order) only generate and slice.
"""

from __future__ import annotations

import logging
import math
import uuid
from dataclasses import asdict, dataclass, replace
from datetime import timedelta

from sqlalchemy import and_, func, or_
from sqlmodel import Session, col, select

from app.grid import parsing
from app.grid.geometry import layout
from app.grid.geometry.spec import CONNECTOR_CODES, GridOptions, PlateSetPlan, SegmentSpec, digest
from app.grid.models import GridArtifact, GridJob
from app.grid.profiles import PrinterProfile, slicer_margin_mm
from app.grid.service import artifacts
from app.grid.service._common import (
    MAPPING,
    MAPPING_READY,
    ORDER_STEPS,
    PIPELINE_FAILED,
    PREVIEW_STEPS,
    SLICING,
    SOURCE,
    STEP_PROGRESS,
    STEP_WORDS,
    STL_GENERATION,
    UPLOAD,
    changed,
    pipeline_actor,
)
from app.grid.service.quotes import quote_with
from app.grid.service.settings import GridSettings, grid_settings, printer_profile
from app.grid.service.settings import enabled as grid_enabled
from app.integrations import simplyprint as sp
from app.integrations import slicer
from app.orders import service as orders
from app.orders.models import LineItem, Order
from app.platform import retry, storage, tasks
from app.platform.auth import Principal
from app.platform.db import get_or_404, on_commit, session_tenant_id, tenant_session
from app.platform.errors import Conflict, DomainError, ValidationFailed
from app.platform.events import publish
from app.platform.models import RetryEntry, utcnow
from app.printing import service as printing
from app.printing.models import AssemblyPart, ProductMapping

log = logging.getLogger(__name__)

RETRY_JOB = "GRIDFLOCK_PIPELINE"
RUN_TIMEOUT_S = 3600  # a big plate set slices for many minutes
STUCK_AFTER = timedelta(minutes=30)  # PROCESSING this long without a change: its run was lost
LOST_AFTER = timedelta(minutes=10)  # QUEUED this long: its queued run was lost (Redis was down)
ABANDONED = "the worker running it stopped mid-way (restarted, or out of memory)"
MANUAL_MODE_NOTE = (
    "Not uploaded: no SimplyPrint connection (manual mode). The G-code is stored; "
    "it goes up with the print jobs once SimplyPrint is connected."
)


class Hopeless(Exception):
    """A failure trying again cannot mend (a piece larger than the bed): no retry."""


# --- which lines are grid lines --------------------------------------------------------------


def is_grid_line(li: LineItem) -> bool:
    return parsing.is_grid_line(li.sku or "", li.properties or {})


def order_job(session: Session, line_item_id: uuid.UUID, *, lock: bool = False) -> GridJob | None:
    """The generation job of an order line (a plate set, not one of its segments)."""
    q = select(GridJob).where(GridJob.line_item_id == line_item_id, col(GridJob.parent_id).is_(None))
    return session.exec(q.with_for_update() if lock else q).first()


@printing.line_claim
def _claim_line(session: Session, order: Order, li: LineItem) -> bool:
    """Printing leaves a grid line alone while the shop generates it (flag on)."""
    return is_grid_line(li) and grid_enabled(session)


@printing.mapping_source
def line_mapping(session: Session, order: Order, li: LineItem) -> ProductMapping | None:
    """The mapping generated for this line, once its job completed."""
    if not is_grid_line(li) or not grid_enabled(session):
        return None
    job = order_job(session, li.id)
    if job is None or job.status != "COMPLETED" or job.product_mapping_id is None:
        return None
    return session.get(ProductMapping, job.product_mapping_id)


@orders.fulfillment_gate
def _plates_generated(session: Session, order: Order, target: str) -> list[str]:
    """An order whose Gridfinity plates are still being generated is not produced yet."""
    waiting = session.exec(
        select(func.count())
        .select_from(GridJob)
        .where(
            GridJob.order_id == order.id,
            col(GridJob.parent_id).is_(None),
            col(GridJob.status).in_(("QUEUED", "PROCESSING", "FAILED")),
        )
    ).one()
    return [f"{waiting} Gridfinity plate set(s) not generated yet"] if waiting else []


@orders.on_cancel
def _order_cancelled(session: Session, order: Order, actor: Principal | None) -> None:
    """A cancelled order's plates are not made: its unfinished jobs stop (no retries)."""
    jobs = session.exec(
        select(GridJob).where(GridJob.order_id == order.id, col(GridJob.status).in_(("QUEUED", "FAILED")))
    ).all()
    for job in jobs:
        job.status, job.error, job.needs_attention = "FAILED", "its order was cancelled", False
        job.updated_at = utcnow()
        session.add(job)
        changed(session, job.id)


# --- the job's parameters --------------------------------------------------------------------


def job_options(job: GridJob) -> GridOptions:
    return GridOptions(**job.parameters)


def job_profile(job: GridJob) -> PrinterProfile:
    return PrinterProfile(**job.profile_settings)


def plan_for(options: GridOptions, profile: PrinterProfile) -> PlateSetPlan:
    return layout.plan_plate_set(options, margin_mm=slicer_margin_mm(profile))


def on_bed(options: GridOptions, profile: PrinterProfile) -> GridOptions:
    """The options planned for the bed of the printer that prints them."""
    return replace(options, bed_width_mm=profile.bed_width_mm, bed_depth_mm=profile.bed_depth_mm)


def mapping_sku(options: GridOptions, profile: PrinterProfile) -> str:
    """The SKU of the product mapping for these plates on this printer:
    readable, and unique per (parameters, profile) so an identical drawer
    finds the mapping made before."""
    codes = {v: k for k, v in CONNECTOR_CODES.items()}
    magnets = "MAG" if options.magnets != "none" else "NOMAG"
    key = digest({"options": options.key(), "profile": profile.key()})[:10].upper()
    return f"GRID-{options.drawer_width_mm:g}x{options.drawer_depth_mm:g}-{magnets}-{codes[options.connector]}-{key}"


def mapping_name(options: GridOptions) -> str:
    magnets = "magnets" if options.magnets != "none" else "no magnets"
    return f"Gridfinity baseplate {options.drawer_width_mm:g} × {options.drawer_depth_mm:g} mm, {magnets}"


def _mapping_ready(session: Session, sku: str) -> ProductMapping | None:
    """An active mapping with its parts for this SKU (GetMappingStatus)."""
    mapping = printing.mapping_for_sku(session, sku)
    if mapping is None or not mapping.active:
        return None
    has_parts = session.exec(select(AssemblyPart.id).where(AssemblyPart.product_mapping_id == mapping.id)).first()
    return mapping if has_parts else None


def new_job(
    session: Session,
    options: GridOptions,
    profile: PrinterProfile,
    *,
    origin: str,
    settings: GridSettings,
    order: Order | None = None,
    line: LineItem | None = None,
    created_by: str = "",
) -> GridJob:
    """A QUEUED job with its plan's figures and the quote (not yet run)."""
    plan = plan_for(options, profile)
    q = quote_with(session, options, settings, profile)
    now = utcnow()
    job = GridJob(
        tenant_id=session_tenant_id(session),
        type="BASEPLATE" if len(plan.segments) == 1 else "PLATE_SET",
        status="QUEUED",
        origin=origin,
        parameters=asdict(options),
        parameters_hash=options.key(),
        printer_profile=profile.name[:60],
        profile_settings=profile.to_settings(),
        order_id=order.id if order else None,
        line_item_id=line.id if line else None,
        sku=(line.sku if line else mapping_sku(options, profile))[:100],
        segment_count=len(plan.segments),
        unique_shapes=len(plan.unique_shapes),
        cells_x=sum(plan.x.cells),
        cells_y=sum(plan.y.cells),
        filament_g=q.filament_g,
        print_seconds=q.print_seconds,
        price=str(q.price),
        currency=q.currency,
        created_by=created_by[:200],
        created_at=now,
        updated_at=now,
        expires_at=None if order else now + timedelta(hours=settings.expiry_hours),
    )
    session.add(job)
    session.flush()
    changed(session, job.id)
    return job


def enqueue_after_commit(session: Session, job: GridJob) -> None:
    """Run the job's pipeline in the worker once this transaction commits
    (the `slicing` queue, in the shop's own line)."""
    tid, job_id = session_tenant_id(session), job.id

    def go() -> None:
        try:
            tasks.enqueue(
                "jobs.grid.run_pipeline",
                str(tid),
                str(job_id),
                queue_name="slicing",
                shop=tid,
                job_timeout=RUN_TIMEOUT_S,
                description=f"Gridfinity plates {job_id}",
            )
        except Exception as exc:  # Redis down: the hourly sweep queues it again
            log.warning("could not queue grid job %s (%s); the sweep will", job_id, exc)

    on_commit(session, go, key=f"grid-run:{job_id}")


# --- GenerateForOrder ------------------------------------------------------------------------


@dataclass
class LineOutcome:
    line_item_id: uuid.UUID
    sku: str
    outcome: str  # queued | mapped | exists | failed
    job_id: uuid.UUID | None = None
    problem: str = ""


def _problem_prefix(position: int, li: LineItem) -> str:
    """How the order's problem about this line's plates starts (they all say "Gridfinity")."""
    return f"Line {position} ({li.title or li.sku}): Gridfinity"


def _set_line_problem(session: Session, order: Order, position: int, li: LineItem, problem: str) -> bool:
    """The line FAILED with `problem` (or, with "", its grid failure cleared);
    the order's problem list follows. True when something changed."""
    prefix = _problem_prefix(position, li)
    kept = [p for p in (order.problems or []) if not p.startswith(prefix)]
    if problem:
        line_problem = problem[:500]
        if li.problem == line_problem and li.status == "FAILED":
            return False
        li.status, li.problem = "FAILED", line_problem
        session.add(li)
        order.problems = kept
        orders.add_problem(session, order, f"{prefix.removesuffix(' Gridfinity')} {problem}"[:1000])
        return True
    if li.status != "FAILED" and not li.problem and len(kept) == len(order.problems or []):
        return False
    if li.status == "FAILED":
        li.status = "PENDING"
    li.problem = ""
    session.add(li)
    order.problems, order.updated_at = kept, utcnow()
    session.add(order)
    return True


def _position(session: Session, li: LineItem) -> int:
    lines = orders.line_items(session, li.order_id)
    return next((n for n, other in enumerate(lines, 1) if other.id == li.id), li.position + 1)


def generate_for_order(
    session: Session, order_id: uuid.UUID | str, *, line_item_ids: list[uuid.UUID] | None = None
) -> list[LineOutcome]:
    """GenerateForOrder: a job per grid line of the order (those named, or
    all), or the line's readable problem. Idempotent: a line that has a job
    keeps it. Does nothing while the shop's feature flag is off."""
    order = orders.get_order(session, order_id, lock=True)
    if not grid_enabled(session) or order.status == "CANCELLED" or order.source == "builder":
        return []
    settings = grid_settings(session)
    profile = settings.profile()
    out: list[LineOutcome] = []
    for position, li in enumerate(orders.line_items(session, order.id), 1):
        if (line_item_ids is not None and li.id not in line_item_ids) or not is_grid_line(li):
            continue
        existing = order_job(session, li.id)
        if existing is not None:
            out.append(LineOutcome(li.id, li.sku, "exists", existing.id))
            continue
        try:
            options = parsing.parse_line(
                li.sku, li.properties or {}, defaults=settings.defaults(), max_dimension_mm=settings.max_dimension_mm
            )
        except parsing.GridInputError as exc:
            reason = str(exc).rstrip(".")
            problem = f"Gridfinity baseplate: {reason}, so nothing is made for this line"
            _set_line_problem(session, order, position, li, problem)
            out.append(LineOutcome(li.id, li.sku, "failed", problem=problem))
            continue
        asked = (options.bed_width_mm, options.bed_depth_mm)
        options = on_bed(options, profile)
        if asked != (options.bed_width_mm, options.bed_depth_mm):  # the line named another printer or bed
            orders.log_event(
                session,
                order,
                "grid.printer-replaced",
                f"Line {position} ({li.title or li.sku}): the order asked for plates for a {asked[0]:g} × "
                f"{asked[1]:g} mm bed; they are split and sliced for the shop's printer, {profile.name} "
                f"({profile.bed_width_mm:g} × {profile.bed_depth_mm:g} mm)",
            )
        job = new_job(session, options, profile, origin="order", settings=settings, order=order, line=li)
        mapping = _mapping_ready(session, mapping_sku(options, profile))
        if mapping is not None:  # the same plates were made before: no generation
            _finish_from_mapping(session, job, mapping, order, li)
            out.append(LineOutcome(li.id, li.sku, "mapped", job.id))
        else:
            enqueue_after_commit(session, job)
            orders.log_event(
                session,
                order,
                "grid.job-queued",
                f"Line {position} ({li.title or li.sku}): Gridfinity plates queued for generation "
                f"({job.segment_count} plate(s), {mapping_name(options).removeprefix('Gridfinity baseplate ')})",
            )
            out.append(LineOutcome(li.id, li.sku, "queued", job.id))
    return out


def _finish_from_mapping(session: Session, job: GridJob, mapping: ProductMapping, order: Order, li: LineItem) -> None:
    now = utcnow()
    job.status, job.progress, job.steps_done = "COMPLETED", 100, list(ORDER_STEPS)
    job.product_mapping_id, job.started_at, job.finished_at, job.updated_at = mapping.id, now, now, now
    job.note = f"The plates were made before (mapping {mapping.sku}): nothing to generate"
    session.add(job)
    publish(
        session,
        MAPPING_READY,
        {"orderId": str(order.id), "lineItemId": str(li.id), "sku": li.sku},
        source=SOURCE,
    )
    changed(session, job.id)


# --- GetMappingStatus ------------------------------------------------------------------------


@dataclass
class MappingStatus:
    sku: str
    exists: bool
    mapping_sku: str = ""
    product_mapping_id: uuid.UUID | None = None
    simplyprint_file_id: str | None = None
    created_at: object = None


def mapping_status(session: Session, sku: str, properties: dict | None = None) -> MappingStatus:
    """Whether the plates a grid SKU (and line properties) describe are
    mapped already for the shop's printer. Unreadable input: ValidationFailed."""
    settings = grid_settings(session)
    try:
        options = parsing.parse_line(
            sku, properties or {}, defaults=settings.defaults(), max_dimension_mm=settings.max_dimension_mm
        )
    except parsing.GridInputError as exc:
        raise ValidationFailed(str(exc)) from None
    profile = settings.profile()
    wanted = mapping_sku(on_bed(options, profile), profile)
    mapping = _mapping_ready(session, wanted)
    if mapping is None:
        return MappingStatus(sku=sku, exists=False, mapping_sku=wanted)
    first = session.exec(
        select(AssemblyPart)
        .where(AssemblyPart.product_mapping_id == mapping.id)
        .order_by(col(AssemblyPart.position))
        .limit(1)
    ).first()
    return MappingStatus(
        sku=sku,
        exists=True,
        mapping_sku=mapping.sku,
        product_mapping_id=mapping.id,
        simplyprint_file_id=(first.simplyprint_file_id or None) if first else None,
        created_at=mapping.created_at,
    )


# --- running the pipeline --------------------------------------------------------------------


def steps_of(job: GridJob) -> tuple[str, ...]:
    return ORDER_STEPS if job.line_item_id else PREVIEW_STEPS


def run(tenant_id: uuid.UUID | str, job_id: uuid.UUID | str, *, via_retry: bool = False) -> str:
    """One run of a job's pipeline from its first step not done. One run per
    job at a time ("busy" when another holds it). Returns completed, failed,
    skipped or busy; inside a retry attempt a failure raises instead (the
    retry queue counts it, or gives up at once when trying again cannot help)."""
    tid, jid = uuid.UUID(str(tenant_id)), uuid.UUID(str(job_id))
    with tasks.advisory_lock(f"grid-job:{jid}", wait=False) as got:
        if not got:
            if via_retry:
                raise RuntimeError("another run of this job is busy")
            return "busy"
        return _run(tid, jid, via_retry=via_retry)


def _run(tid: uuid.UUID, jid: uuid.UUID, *, via_retry: bool) -> str:
    with tenant_session(tid) as s:
        job = s.exec(select(GridJob).where(GridJob.id == jid).with_for_update()).first()
        if job is None or job.parent_id is not None or job.status in ("COMPLETED", "EXPIRED"):
            return "skipped"
        if job.order_id is not None:
            order = s.get(Order, job.order_id)
            if order is None or order.status == "CANCELLED":
                return "skipped"
        job.status, job.failed_step, job.error = "PROCESSING", "", ""
        job.attempts += 1
        job.started_at = job.updated_at = utcnow()
        s.add(job)
        _children_status(s, job, "PROCESSING")
        changed(s, job.id)
        s.commit()
        steps, done = steps_of(job), set(job.steps_done or [])
    for step in steps:
        if step in done:
            continue
        _begin_step(tid, jid, step)
        try:
            STEPS[step](tid, jid)
        except Exception as exc:
            message = readable(exc, step)
            if not isinstance(exc, (DomainError, slicer.SlicerError, sp.SimplyPrintError, Hopeless)):
                log.exception("grid job %s failed while %s", jid, STEP_WORDS[step])
            hopeless = isinstance(exc, Hopeless)
            fail(tid, jid, step, message, schedule_retry=not via_retry and not hopeless)
            if via_retry:
                raise (retry.GiveUp(message) if hopeless else RuntimeError(message)) from exc
            return "failed"
        _end_step(tid, jid, step)
    _complete(tid, jid)
    return "completed"


def readable(exc: BaseException, step: str) -> str:
    """What went wrong, in a sentence a person can act on."""
    if isinstance(exc, (slicer.SlicerError, sp.SimplyPrintError, DomainError)):
        text = exc.message
    elif isinstance(exc, Hopeless):
        text = str(exc)
    else:
        text = f"unexpected error while {STEP_WORDS[step]} ({type(exc).__name__}: {exc})"
    if isinstance(exc, sp.SimplyPrintError):
        text = f"SimplyPrint: {text}"
    text = " ".join(str(text).split()) or f"{STEP_WORDS[step]} failed"
    return (text[0].upper() + text[1:])[:1000]


def _job(s: Session, jid: uuid.UUID | str, *, lock: bool = False) -> GridJob:
    return get_or_404(s, GridJob, jid, "grid job", lock=lock)


def _children(s: Session, job: GridJob) -> list[GridJob]:
    return list(s.exec(select(GridJob).where(GridJob.parent_id == job.id).order_by(col(GridJob.number))))


def _children_status(s: Session, job: GridJob, status: str) -> None:
    for child in _children(s, job):
        if child.status != status and child.status != "COMPLETED":
            child.status, child.updated_at = status, utcnow()
            s.add(child)


def _progress(s: Session, job: GridJob, step: str, share: float) -> None:
    low, high = STEP_PROGRESS[step]
    job.progress = max(job.progress, min(100, round(low + (high - low) * share)))
    job.updated_at = utcnow()
    s.add(job)
    changed(s, job.id, progress=job.progress)


def _begin_step(tid: uuid.UUID, jid: uuid.UUID, step: str) -> None:
    with tenant_session(tid) as s:
        job = _job(s, jid, lock=True)
        job.step = step
        _progress(s, job, step, 0)
        s.commit()


def _end_step(tid: uuid.UUID, jid: uuid.UUID, step: str) -> None:
    with tenant_session(tid) as s:
        job = _job(s, jid, lock=True)
        job.steps_done = [*[d for d in job.steps_done or [] if d != step], step]
        _progress(s, job, step, 1)
        s.commit()


# -- the steps --


def _generate(tid: uuid.UUID, jid: uuid.UUID) -> None:
    """stl-generation: the plan, every piece against the bed, one mesh per unique shape."""
    with tenant_session(tid) as s:
        job = _job(s, jid)
        options, profile = job_options(job), job_profile(job)
    plan = plan_for(options, profile)
    problems = layout.bed_fit_problems(plan, profile.bed_width_mm, profile.bed_depth_mm, slicer_margin_mm(profile))
    if problems:
        raise Hopeless("; ".join(problems))
    shapes = plan.unique_shapes
    by_number = {seg.number: seg for seg in plan.segments}
    for n, numbers in enumerate(shapes.values(), 1):
        with tenant_session(tid) as s:
            artifact = artifacts.ensure_mesh(s, by_number[numbers[0]], profile)
            job = _job(s, jid, lock=True)
            for number in numbers:
                _segment(s, job, by_number[number], artifact)
            _progress(s, job, STL_GENERATION, n / len(shapes))
            s.commit()
    with tenant_session(tid) as s:
        job = _job(s, jid, lock=True)
        job.segment_count, job.unique_shapes = len(plan.segments), len(shapes)
        job.cells_x, job.cells_y = sum(plan.x.cells), sum(plan.y.cells)
        job.type = "BASEPLATE" if len(plan.segments) == 1 else "PLATE_SET"
        s.add(job)
        s.commit()


def _segment(s: Session, job: GridJob, seg: SegmentSpec, artifact: GridArtifact) -> GridJob:
    """The plate set's child job for one segment (made once, pointed at its piece)."""
    child = s.exec(select(GridJob).where(GridJob.parent_id == job.id, GridJob.number == seg.number)).first()
    if child is None:
        child = GridJob(
            tenant_id=job.tenant_id,
            type="BASEPLATE",
            parent_id=job.id,
            number=seg.number,
            status="PROCESSING",
            origin=job.origin,
            parameters=asdict(seg),
            parameters_hash=seg.shape_key(),
            printer_profile=job.printer_profile,
            profile_settings=job.profile_settings,
            order_id=job.order_id,
            line_item_id=job.line_item_id,
            sku=job.sku,
            segment_count=1,
            unique_shapes=1,
            cells_x=sum(seg.cells_x),
            cells_y=sum(seg.cells_y),
            created_by=job.created_by,
            expires_at=job.expires_at,
        )
    child.artifact_id, child.updated_at = artifact.id, utcnow()
    s.add(child)
    return child


def _pieces(s: Session, job: GridJob) -> list[GridArtifact]:
    """The job's unique pieces, in the order of the first segment using each."""
    seen: dict[uuid.UUID, GridArtifact] = {}
    for child in _children(s, job):
        if child.artifact_id is None:
            raise Hopeless(f"segment {child.number} lost its piece: generate the plates again")
        if child.artifact_id not in seen:
            artifact = s.get(GridArtifact, child.artifact_id)
            if artifact is None:
                raise Hopeless(f"segment {child.number} lost its piece: generate the plates again")
            seen[child.artifact_id] = artifact
    if not seen:
        raise Hopeless("the plates have not been generated: generate them again")
    return list(seen.values())


def _slice(tid: uuid.UUID, jid: uuid.UUID) -> None:
    """slicing: each unique piece once (cached pieces are not sliced again)."""
    with tenant_session(tid) as s:
        job = _job(s, jid)
        profile = job_profile(job)
        ids = [a.id for a in _pieces(s, job)]
    for n, artifact_id in enumerate(ids, 1):
        with tenant_session(tid) as s:
            artifact = s.get(GridArtifact, artifact_id)
            if artifact is None:
                raise Hopeless("a piece left the cache while slicing: generate the plates again")
            artifacts.ensure_sliced(s, artifact, profile)
            _progress(s, _job(s, jid, lock=True), SLICING, n / len(ids))
            s.commit()
    with tenant_session(tid) as s:
        job = _job(s, jid, lock=True)
        grams, seconds = 0.0, 0
        for child in _children(s, job):
            artifact = s.get(GridArtifact, child.artifact_id) if child.artifact_id else None
            if artifact is None:
                continue
            child.filament_g, child.print_seconds = artifact.filament_g, artifact.print_seconds
            s.add(child)
            grams += artifact.filament_g or 0
            seconds += artifact.print_seconds or 0
        job.filament_g, job.print_seconds = round(grams, 2), seconds
        s.add(job)
        s.commit()


def gcode_filename(artifact: GridArtifact) -> str:
    label = "".join(c for c in (artifact.label or "") if c.isalnum()) or "piece"
    return f"gridfinity-{label}-{artifact.key[:10]}.gcode"


def _upload(tid: uuid.UUID, jid: uuid.UUID) -> None:
    """simplyprint-upload: each unique G-code once; nothing in manual mode."""
    with tenant_session(tid) as s:
        job = _job(s, jid)
        c = printing.client(s)
        ids = [a.id for a in _pieces(s, job)]
        if c is None:
            job = _job(s, jid, lock=True)
            job.note = MANUAL_MODE_NOTE
            s.add(job)
            s.commit()
            return
    for n, artifact_id in enumerate(ids, 1):
        with tenant_session(tid) as s:
            artifact = s.exec(select(GridArtifact).where(GridArtifact.id == artifact_id).with_for_update()).one()
            if not artifact.simplyprint_file_id:
                data = storage.for_tenant(tid).get(artifact.gcode_key).data
                uploaded = c.upload_file(gcode_filename(artifact), data)
                artifact.simplyprint_file_id = str(uploaded["id"])[:100]
                artifact.uploaded_at = utcnow()
                s.add(artifact)
            _progress(s, _job(s, jid, lock=True), UPLOAD, n / len(ids))
            s.commit()


def _map(tid: uuid.UUID, jid: uuid.UUID) -> None:
    """mapping-creation: a product mapping with one assembly part per segment
    (an identical one made meanwhile is used as it is)."""
    with tenant_session(tid) as s:
        job = _job(s, jid)
        options, profile = job_options(job), job_profile(job)
    sku = mapping_sku(options, profile)
    # two identical orders finishing together: the second waits, then finds the first's mapping
    with tasks.advisory_lock(f"grid-mapping:{tid}:{sku}"), tenant_session(tid) as s:
        job = _job(s, jid, lock=True)
        mapping = _mapping_ready(s, sku)
        if mapping is None:
            mapping = _create_mapping(s, job, options, profile, sku)
        job.product_mapping_id = mapping.id
        s.add(job)
        s.commit()


def _create_mapping(
    s: Session, job: GridJob, options: GridOptions, profile: PrinterProfile, sku: str
) -> ProductMapping:
    actor = pipeline_actor(s)
    children = _children(s, job)
    existing = printing.mapping_for_sku(s, sku)
    if existing is not None and not existing.active:
        raise Hopeless(
            f"the product mapping {sku} for these plates is switched off: switch it on (or delete it), then retry"
        )
    connector = options.connector.replace("-", " ")
    mapping = existing or printing.create_mapping(
        s,
        sku=sku,
        name=mapping_name(options),
        description=(
            f"Generated for {job.sku or 'a Gridfinity order'}: {len(children)} plate(s), {connector} connectors, "
            f"sliced for {profile.name}."
        ),
        default_print_profile={
            "layer_height": profile.layer_height_mm,
            "infill": profile.infill_percent,
            "supports": False,
            "material": profile.filament_type,
            "nozzle": profile.nozzle_mm,
            "perimeters": profile.perimeters,
            "printer_model": profile.name,
        },
        actor=actor,
    )
    for child in children:
        artifact = s.get(GridArtifact, child.artifact_id) if child.artifact_id else None
        if artifact is None or not artifact.gcode_key:
            raise Hopeless(f"segment {child.number} has no G-code: generate the plates again")
        shape = f" (shape {artifact.label})" if artifact.label else ""
        name = f"Segment {child.number} of {len(children)}{shape}" if len(children) > 1 else f"Baseplate{shape}"
        part = printing.add_part(
            s,
            mapping.id,
            part_name=name,
            part_number=str(child.number),
            quantity_per_product=1,
            estimated_minutes=math.ceil(artifact.print_seconds / 60) if artifact.print_seconds else None,
            estimated_filament_g=artifact.filament_g,
            simplyprint_file_id=artifact.simplyprint_file_id,
            actor=actor,
        )
        printing.attach_stored_file(  # the piece's stored G-code (the submission uploads it when needed)
            s,
            part,
            file_key=artifact.gcode_key,
            filename=gcode_filename(artifact),
            size=artifact.gcode_bytes,
            uploaded_at=artifact.uploaded_at,
        )
    s.flush()
    return mapping


STEPS = {STL_GENERATION: _generate, SLICING: _slice, UPLOAD: _upload, MAPPING: _map}


# -- the outcome --


def _line(s: Session, job: GridJob) -> tuple[Order, LineItem, int] | None:
    if job.order_id is None or job.line_item_id is None:
        return None
    order = orders.get_order(s, job.order_id, lock=True)
    li = s.get(LineItem, job.line_item_id)
    if li is None:
        return None
    return order, li, _position(s, li)


def _complete(tid: uuid.UUID, jid: uuid.UUID) -> None:
    with tenant_session(tid) as s:
        job = _job(s, jid, lock=True)
        now = utcnow()
        job.status, job.progress, job.step, job.finished_at, job.updated_at = "COMPLETED", 100, "", now, now
        job.needs_attention = False
        s.add(job)
        _children_status(s, job, "COMPLETED")
        _settle_retries(s, job)
        found = _line(s, job)
        if found is not None:
            order, li, position = found
            _set_line_problem(s, order, position, li, "")
            orders.log_event(
                s,
                order,
                "grid.mapping-ready",
                f"Line {position} ({li.title or li.sku}): Gridfinity plates ready ({job.segment_count} plate(s)); "
                "print jobs follow",
            )
            publish(
                s,
                MAPPING_READY,
                {"orderId": str(order.id), "lineItemId": str(li.id), "sku": li.sku},
                source=SOURCE,
            )
        changed(s, job.id, progress=100)
        s.commit()


def fail(tid: uuid.UUID, jid: uuid.UUID, step: str, message: str, *, schedule_retry: bool) -> None:
    """The job FAILED at `step` with `message`; for an order line also the
    line, the order's problem, `grid.pipeline-failed` and (unless the caller
    is a retry attempt already) a GRIDFLOCK_PIPELINE retry entry."""
    with tenant_session(tid) as s:
        job = _job(s, jid, lock=True)
        now = utcnow()
        job.status, job.failed_step, job.error, job.step = "FAILED", step, message[:1000], step
        job.finished_at = job.updated_at = now
        s.add(job)
        _children_status(s, job, "FAILED")
        found = _line(s, job)
        if found is not None:
            order, li, position = found
            problem = f"Gridfinity baseplate failed while {STEP_WORDS[step]}: {message}"
            _set_line_problem(s, order, position, li, problem)  # the order's timeline shows it
            publish(
                s,
                PIPELINE_FAILED,
                {
                    "orderId": str(order.id),
                    "lineItemId": str(li.id),
                    "sku": li.sku,
                    "errorMessage": message,
                    "failedStep": step,
                },
                source=SOURCE,
            )
            if schedule_retry and not _retry_waiting(s, job):
                retry.schedule(s, RETRY_JOB, order_id=order.id, payload={"gridJobId": str(job.id)})
        changed(s, job.id)
        s.commit()


def _retry_entries(s: Session, job: GridJob, statuses: tuple[str, ...]) -> list[RetryEntry]:
    return list(
        s.exec(
            select(RetryEntry).where(
                RetryEntry.job_type == RETRY_JOB,
                col(RetryEntry.status).in_(statuses),
                col(RetryEntry.payload)["gridJobId"].astext == str(job.id),
            )
        )
    )


def _retry_waiting(s: Session, job: GridJob) -> bool:
    return bool(_retry_entries(s, job, ("PENDING", "PROCESSING")))


def _settle_retries(s: Session, job: GridJob) -> None:
    """The job is done: its waiting or given-up retry entries have nothing left to do."""
    for entry in _retry_entries(s, job, ("PENDING", "FAILED")):
        entry.status, entry.needs_attention, entry.updated_at = "COMPLETED", False, utcnow()
        entry.last_error = "the plates were made by another run"
        s.add(entry)


# --- retries --------------------------------------------------------------------------------


def _gave_up(session: Session, entry: RetryEntry) -> None:
    """The retry queue's last attempt failed: the job is flagged for a person."""
    job = session.get(GridJob, uuid.UUID(str(entry.payload.get("gridJobId"))))
    if job is None:
        return
    job.needs_attention = True
    if job.status == "PROCESSING":  # the last attempt died with its worker
        job.status, job.error = "FAILED", ABANDONED
    job.updated_at = utcnow()
    session.add(job)
    changed(session, job.id)


@retry.operation(RETRY_JOB, on_give_up=_gave_up)
def _retry_pipeline(session: Session, entry: RetryEntry) -> None:
    """One retry-queue attempt: the pipeline from its first step not done."""
    run(session_tenant_id(session), entry.payload["gridJobId"], via_retry=True)


def retry_job(session: Session, job_id: uuid.UUID | str, *, actor: Principal) -> GridJob:
    """Staff: run a failed job again now, from its first step not done."""
    actor.require("grid.write")
    job = get_or_404(session, GridJob, job_id, "grid job", lock=True)
    if job.parent_id is not None:
        job = _job(session, job.parent_id, lock=True)
    if job.status == "COMPLETED":
        return job
    if job.status == "PROCESSING":
        raise Conflict("this job is running now")
    if job.status == "EXPIRED":
        raise Conflict("this job has expired and its files are gone: generate the plates again")
    if job.order_id is not None:
        order = session.get(Order, job.order_id)
        if order is not None and order.status == "CANCELLED":
            raise Conflict("its order was cancelled")
    job.status, job.failed_step, job.error, job.needs_attention = "QUEUED", "", "", False
    job.updated_at = utcnow()
    session.add(job)
    _children_status(session, job, "QUEUED")
    changed(session, job.id)
    enqueue_after_commit(session, job)
    return job


def pipeline_abandoned(tenant_id: uuid.UUID | str, job_id: uuid.UUID | str, *, retrying: bool) -> None:
    """The platform found a run dead with its worker: the job goes back in
    the queue (RQ runs it again) or, with no retry left, fails with the reason."""
    tid, jid = uuid.UUID(str(tenant_id)), uuid.UUID(str(job_id))
    with tenant_session(tid) as s:
        job = s.get(GridJob, jid)
        if job is None or job.status != "PROCESSING":
            return
        step = job.step or STL_GENERATION
        if retrying:
            job.status, job.note = "QUEUED", f"The worker stopped while {STEP_WORDS[step]}; trying again"
            job.updated_at = utcnow()
            s.add(job)
            changed(s, job.id)
            s.commit()
            return
    fail(tid, jid, step, ABANDONED[0].upper() + ABANDONED[1:], schedule_retry=True)


def sweep_lost(session: Session) -> int:
    """Cron's last resort: runs lost outright (a job QUEUED long after it was
    queued, or PROCESSING with no change for long) are queued again."""
    now = utcnow()
    lost = session.exec(
        select(GridJob)
        .where(
            col(GridJob.parent_id).is_(None),
            or_(
                and_(col(GridJob.status) == "QUEUED", col(GridJob.updated_at) < now - LOST_AFTER),
                and_(col(GridJob.status) == "PROCESSING", col(GridJob.updated_at) < now - STUCK_AFTER),
            ),
        )
        .with_for_update(skip_locked=True)
    ).all()
    for job in lost:
        if job.status == "PROCESSING":
            job.status, job.note = "QUEUED", "Its run stopped without a word; queued again"
        job.updated_at = now
        session.add(job)
        enqueue_after_commit(session, job)
    return len(lost)


def on_mapping_ready(session: Session, order_id: uuid.UUID) -> None:
    """grid.mapping-ready: printing makes the line's print jobs (idempotent)."""
    printing.create_jobs_for_order(session, order_id)


def start_job(
    session: Session,
    options: GridOptions,
    *,
    profile_name: str = "",
    actor: Principal | None,
    origin: str = "staff",
) -> GridJob:
    """Generate and slice plates with no order (the staff generator, a
    storefront preview): a QUEUED job run in the worker, EXPIRED after the
    shop's expiry hours unless an order uses it. Staff need grid.write; the
    shop's grid feature must be on (Conflict grid_disabled)."""
    if origin not in ("staff", "storefront"):
        raise ValidationFailed("a job without an order is started by staff or the storefront")
    if origin == "staff":
        if actor is None:
            raise ValidationFailed("a staff job needs the staff member")
        actor.require("grid.write")
    settings = grid_settings(session)
    if not settings.enabled:
        raise Conflict(
            "Gridfinity is switched off for this shop: an admin switches it on in Settings", code="grid_disabled"
        )
    parsing.check_options(options, max_dimension_mm=settings.max_dimension_mm)
    profile = printer_profile(settings, profile_name, bed=(options.bed_width_mm, options.bed_depth_mm))
    options = on_bed(options, profile)
    problems = layout.bed_fit_problems(
        plan_for(options, profile), profile.bed_width_mm, profile.bed_depth_mm, slicer_margin_mm(profile)
    )
    if problems:
        raise ValidationFailed("these plates cannot be printed on this printer: " + "; ".join(problems))
    job = new_job(
        session,
        options,
        profile,
        origin=origin,
        settings=settings,
        created_by=(actor.display_name or actor.username) if actor else "storefront",
    )
    enqueue_after_commit(session, job)
    return job
