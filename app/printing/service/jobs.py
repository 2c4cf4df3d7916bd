"""Print jobs: read, created per order line (part × quantity per product × line
quantity) or for stock, moved by what SimplyPrint reports or by hand in manual
mode, cancelled, requeued and reviewed; and an order's cancellation cascading
to its jobs."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import case, func, or_
from sqlmodel import Session, col, select

from app.integrations import simplyprint as sp
from app.orders import machine as orders_machine
from app.orders import service as orders
from app.orders.models import LineItem, Order
from app.platform import retry
from app.platform.auth import Principal
from app.platform.db import get_or_404, session_tenant_id
from app.platform.errors import Conflict, DomainError, InvalidTransition, ValidationFailed
from app.platform.events import publish
from app.platform.models import utcnow
from app.platform.text import like_pattern
from app.printing import machine
from app.printing.models import AssemblyPart, Printer, PrintJob, ProductMapping
from app.printing.service._common import SOURCE, _changed, _log
from app.printing.service.connection import client, connection
from app.printing.service.mappings import mapping_for_sku, parts
from app.printing.service.triggers import submit_after_commit

log = logging.getLogger(__name__)


# --- reading jobs ----------------------------------------------------------------------------


def get_job(session: Session, job_id: uuid.UUID | str, *, lock: bool = False) -> PrintJob:
    return get_or_404(session, PrintJob, job_id, "print job", lock=lock)


# The job list's orders (the page's sort menu, the API's `sort`): name → column.
SORTS: dict[str, str] = {
    "queued": "when it was queued",
    "updated": "last change",
    "status": "status",
    "printer": "printer",
    "progress": "progress",
}
NO_PRINTER = "none"  # the printer filter's value for jobs not on any printer


def _sort_columns(sort: str, descending: bool) -> list:
    status_rank = case({s: n for n, s in enumerate(machine.STATUSES)}, value=col(PrintJob.status), else_=99)
    column = {
        "updated": col(PrintJob.updated_at),
        "status": status_rank,
        "printer": col(PrintJob.printer_name),
        "progress": col(PrintJob.progress),
    }.get(sort, col(PrintJob.sequence))
    first = column.desc() if descending else column.asc()
    if sort == "printer":  # jobs on no printer last, whichever way
        first = first.nulls_last()
        return [case((col(PrintJob.printer_name) == "", 1), else_=0), first, col(PrintJob.sequence).desc()]
    return [first, col(PrintJob.sequence).desc()]


def list_jobs(
    session: Session,
    *,
    status: str = "",
    purpose: str = "",
    search: str = "",
    printer: str = "",
    sort: str = "queued",
    descending: bool = True,
    page: int = 0,
    page_size: int = 50,
    order_id: uuid.UUID | str | None = None,
    needs_review: bool | None = None,
) -> tuple[list[PrintJob], int]:
    """A page of print jobs. `search` finds an order number, a product's name,
    a SKU, a part, a file or a printer; `printer` is a printer's name (or
    NO_PRINTER); `sort` one of SORTS (newest first with `descending`)."""
    q = select(PrintJob)
    cq = select(func.count()).select_from(PrintJob)
    conds = []
    if status:
        conds.append(col(PrintJob.status).in_([s.strip().upper() for s in status.split(",") if s.strip()]))
    if purpose:
        conds.append(PrintJob.purpose == purpose.upper())
    if order_id:
        conds.append(PrintJob.order_id == uuid.UUID(str(order_id)))
    if needs_review is not None:
        conds.append(PrintJob.needs_review == needs_review)
    if printer == NO_PRINTER:
        conds.append(col(PrintJob.printer_name) == "")
    elif printer:
        conds.append(col(PrintJob.printer_name) == printer)
    if search.strip():
        like = like_pattern(search.strip())
        conds.append(
            or_(
                col(PrintJob.sku).ilike(like),
                col(PrintJob.part_name).ilike(like),
                col(PrintJob.filename).ilike(like),
                col(PrintJob.printer_name).ilike(like),
                col(PrintJob.order_id).in_(select(Order.id).where(col(Order.number).ilike(like))),
                col(PrintJob.product_mapping_id).in_(
                    select(ProductMapping.id).where(col(ProductMapping.name).ilike(like))
                ),
            )
        )
    if conds:
        q, cq = q.where(*conds), cq.where(*conds)
    total = session.exec(cq).one()
    ordered = q.order_by(*_sort_columns(sort, descending))
    rows = list(session.exec(ordered.offset(max(0, page) * page_size).limit(page_size)))
    return rows, total


def printer_choices(session: Session) -> list[str]:
    """The printers the job list can be filtered by: every printer SimplyPrint
    reported and every printer name a job carries, by name."""
    names = set(session.exec(select(Printer.name).where(Printer.name != "")))
    names |= set(session.exec(select(PrintJob.printer_name).where(PrintJob.printer_name != "").distinct()))
    return sorted(names, key=str.lower)


def printer_names(session: Session, jobs: list[PrintJob]) -> dict[uuid.UUID, str]:
    """Each job's printer by name: the name it carries, else the name of the
    SimplyPrint printer it is on (a job is never shown with a printer id)."""
    ids = {j.printer_id for j in jobs if j.printer_id and not j.printer_name}
    known: dict[int, str] = (
        dict(
            session.exec(
                select(Printer.simplyprint_id, Printer.name).where(col(Printer.simplyprint_id).in_(list(ids)))
            ).all()
        )
        if ids
        else {}
    )
    out: dict[uuid.UUID, str] = {}
    for j in jobs:
        name = j.printer_name or (known.get(j.printer_id, "") if j.printer_id else "")
        if name:
            out[j.id] = name
    return out


def estimated_minutes(session: Session, jobs: list[PrintJob]) -> dict[uuid.UUID, int]:
    """The print time each job's part is expected to take (from its G-code), where known."""
    part_ids = {j.assembly_part_id for j in jobs if j.assembly_part_id}
    if not part_ids:
        return {}
    minutes: dict[uuid.UUID, int] = {
        pid: int(m)
        for pid, m in session.exec(
            select(AssemblyPart.id, AssemblyPart.estimated_minutes).where(col(AssemblyPart.id).in_(part_ids))
        ).all()
        if m
    }
    return {j.id: minutes[j.assembly_part_id] for j in jobs if j.assembly_part_id and j.assembly_part_id in minutes}


def queue(session: Session) -> list[PrintJob]:
    """Active jobs in queue order: ORDER before STOCK, FIFO within each (ADR-063);
    printing jobs first."""
    rows = list(session.exec(select(PrintJob).where(col(PrintJob.status).in_(machine.ACTIVE))))
    rank = {"PRINTING": 0, "ASSIGNED": 1, "QUEUED": 2}
    return sorted(rows, key=lambda j: (rank[j.status], *machine.queue_key(j.purpose, j.sequence or 0)))


def job_counts(session: Session) -> dict[str, int]:
    found = dict(session.exec(select(PrintJob.status, func.count()).group_by(PrintJob.status)).all())
    return {s: found.get(s, 0) for s in machine.STATUSES}


def order_numbers(session: Session, jobs: list[PrintJob]) -> dict[uuid.UUID, str]:
    ids = {j.order_id for j in jobs if j.order_id}
    if not ids:
        return {}
    return dict(session.exec(select(Order.id, Order.number).where(col(Order.id).in_(ids))).all())


def jobs_for_order(session: Session, order_id: uuid.UUID | str) -> list[PrintJob]:
    return list(
        session.exec(
            select(PrintJob).where(PrintJob.order_id == uuid.UUID(str(order_id))).order_by(col(PrintJob.sequence))
        )
    )


def printers(session: Session) -> list[Printer]:
    return list(session.exec(select(Printer).order_by(Printer.name)))


def needs_review(session: Session) -> list[PrintJob]:
    return list(session.exec(select(PrintJob).where(PrintJob.needs_review).order_by(col(PrintJob.sequence))))


# --- creating jobs ---------------------------------------------------------------------------


@dataclass
class CreatedJobs:
    jobs: list[PrintJob] = field(default_factory=list)
    unmapped: list[str] = field(default_factory=list)
    skipped: str = ""
    from_stock: dict[uuid.UUID, int] = field(default_factory=dict)  # line id → units served from the shelf


# Stock-aware fulfillment (seed: Stock Consumption): before an order's lines
# are printed, each registered source (the inventory domain) is asked how many
# units of a line it serves from the shelf; only the rest is printed. A source
# answers the line's whole served count, also when asked again (a replayed
# event consumes nothing twice).
StockSource = Callable[[Session, Order, LineItem, ProductMapping], int]
STOCK_SOURCES: list[StockSource] = []


def stock_source(source: StockSource) -> StockSource:
    STOCK_SOURCES.append(source)
    return source


def _served_from_stock(session: Session, order: Order, li: LineItem, mapping: ProductMapping) -> int:
    return min(li.quantity, sum(source(session, order, li, mapping) for source in STOCK_SOURCES))


# Lines another domain produces (the grid domain's custom baseplates). A
# mapping source gives the mapping made for one line (not per SKU: two drawers
# ordered under one SKU need different plates); a claimer says a line is
# produced elsewhere and has no mapping yet, so it is neither printed nor
# flagged "no print mapping" now (its domain calls create_jobs_for_order again
# once the mapping exists).
MappingSource = Callable[[Session, Order, LineItem], ProductMapping | None]
LineClaim = Callable[[Session, Order, LineItem], bool]
MAPPING_SOURCES: list[MappingSource] = []
LINE_CLAIMS: list[LineClaim] = []


def mapping_source(source: MappingSource) -> MappingSource:
    MAPPING_SOURCES.append(source)
    return source


def line_claim(claim: LineClaim) -> LineClaim:
    LINE_CLAIMS.append(claim)
    return claim


def _line_mapping(session: Session, order: Order, li: LineItem) -> tuple[ProductMapping | None, bool]:
    """The line's mapping, and whether another domain claims the line while it has none."""
    for source in MAPPING_SOURCES:
        mapping = source(session, order, li)
        if mapping is not None:
            return mapping, False
    if any(claim(session, order, li) for claim in LINE_CLAIMS):
        return None, True
    return mapping_for_sku(session, li.sku), False


def create_jobs_for_order(session: Session, order_id: uuid.UUID | str) -> CreatedJobs:
    """`order.created`: one ORDER job per assembly part × quantity per product ×
    line quantity, copy numbers 1…n per (line, part); part counts on the order
    and its lines. Lines whose SKU has no mapping get a visible problem; a
    line another domain produces takes the mapping it made for the line
    (`mapping_source`), or waits for it (`line_claim`).
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
    waiting = False  # a line another domain still produces: the order is not all from the shelf
    for pos, li in enumerate(lines, 1):
        if not li.sku or li.id in with_jobs:
            continue
        mapping, claimed = _line_mapping(session, order, li)
        if claimed:
            waiting = True
            continue
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
        served = _served_from_stock(session, order, li, mapping)
        if served:
            result.from_stock[li.id] = served
        if served >= li.quantity:  # the whole line from the shelf: nothing to print for it
            li.total_parts = li.completed_parts = 0
            li.status, li.problem = "COMPLETED", ""
            session.add(li)
            continue
        line_total = 0
        for part in mapping_parts:
            for copy in range(1, part.quantity_per_product * (li.quantity - served) + 1):
                job = PrintJob(
                    tenant_id=tid,
                    order_id=order.id,
                    line_item_id=li.id,
                    product_mapping_id=mapping.id,
                    assembly_part_id=part.id,
                    sku=li.sku,
                    part_name=part.part_name,
                    filename=part.filename,
                    copy_number=copy,
                    purpose="ORDER",
                    status="QUEUED",
                    queued_at=now,
                    created_at=now,
                    updated_at=now,
                )
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
        orders.add_problem(
            session, order, f"Line {pos} ({li.title or li.sku}): {problem}, so nothing is printed for it."
        )
    session.flush()
    if result.jobs:
        order.total_parts = session.exec(
            select(func.count()).select_from(PrintJob).where(PrintJob.order_id == order.id)
        ).one()
        order.updated_at = utcnow()
        session.add(order)
        if order.status == "PENDING":
            orders.change_status(session, order, "PROCESSING", reason="print jobs created")
        orders.log_event(
            session,
            order,
            "print-jobs.created",
            f"{len(result.jobs)} print job(s) created for {len(plan)} line(s)",
            meta={"printJobIds": [str(j.id) for j in result.jobs]},
        )
        publish(
            session,
            "print-jobs.created",
            {"orderId": str(order.id), "printJobIds": [str(j.id) for j in result.jobs]},
            source=SOURCE,
        )
        _changed(session)
        submit_after_commit(session)
    elif result.from_stock and not with_jobs and not unmapped and not waiting:
        _ready_from_stock(session, order, sum(result.from_stock.values()))
    return result


def _ready_from_stock(session: Session, order: Order, units: int) -> None:
    """Every line came off the shelf (seed: Full stock): the order skips
    printing and goes straight to fulfillment, as its last print would send it."""
    if order.status == "PENDING":
        orders.change_status(session, order, "PROCESSING", reason="served from stock")
    if order.fulfillment_status != "unfulfilled":
        return
    orders.log_event(
        session, order, "order.served-from-stock", f"All {units} unit(s) served from stock; nothing to print"
    )
    orders.set_fulfillment_by_production(session, order, "ready", reason=f"all {units} unit(s) taken from stock")
    publish(
        session, "order.ready-for-fulfillment", {"orderId": str(order.id), "orderNumber": order.number}, source=SOURCE
    )


def make_stock_jobs(session: Session, mapping: ProductMapping, units: int = 1) -> list[PrintJob]:
    """STOCK jobs for `units` products (each assembly part × quantity per
    product), queued behind every ORDER job. The caller (inventory's stock
    batches) decides and answers for them."""
    mapping_parts = parts(session, mapping.id)
    if not mapping_parts:
        raise ValidationFailed(f"{mapping.sku} has no parts to print")
    tid, now, jobs = session_tenant_id(session), utcnow(), []
    for part in mapping_parts:
        for copy in range(1, part.quantity_per_product * units + 1):
            job = PrintJob(
                tenant_id=tid,
                product_mapping_id=mapping.id,
                assembly_part_id=part.id,
                sku=mapping.sku,
                part_name=part.part_name,
                filename=part.filename,
                copy_number=copy,
                purpose="STOCK",
                queued_at=now,
                created_at=now,
                updated_at=now,
            )
            session.add(job)
            jobs.append(job)
    session.flush()
    publish(session, "print-jobs.created", {"orderId": "", "printJobIds": [str(j.id) for j in jobs]}, source=SOURCE)
    _changed(session)
    submit_after_commit(session)
    return jobs


# --- status changes --------------------------------------------------------------------------


def _job_ref(job: PrintJob) -> dict:
    return {
        "printJobId": str(job.id),
        "orderId": str(job.order_id) if job.order_id else "",
        "lineItemId": str(job.line_item_id) if job.line_item_id else None,
        "purpose": job.purpose,
    }


def _set_status(
    session: Session,
    job: PrintJob,
    target: str,
    *,
    via: str,
    actor: Principal | None = None,
    reason: str = "",
    error: str = "",
) -> bool:
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
    who = (
        actor.display_name
        if actor
        else {"simplyprint": "SimplyPrint", "reconcile": "reconciliation", "cascade": "order cancellation"}.get(
            via, "system"
        )
    )
    severity = "ERROR" if target == "FAILED" else "WARNING" if target == "CANCELLED" else "INFO"
    _log(
        session,
        job,
        "print-job.status-changed",
        f"{job.part_name or 'Job'} #{job.copy_number}: {machine.STATUS.label(previous)} → "
        f"{machine.STATUS.label(target)} by {who}" + (f" ({reason})" if reason else ""),
        severity=severity,
        actor=actor,
        meta={"previousStatus": previous, "newStatus": target, "via": via},
    )
    ref = _job_ref(job)
    publish(
        session,
        "print-job.status-changed",
        {**ref, "previousStatus": previous, "newStatus": target, "via": via},
        source=SOURCE,
    )
    if target == "COMPLETED":
        publish(session, "print-job.completed", ref, source=SOURCE)
    elif target == "FAILED":
        publish(session, "print-job.failed", {**ref, "errorMessage": job.error}, source=SOURCE)
    elif target == "CANCELLED":
        publish(session, "print-job.cancelled", {**ref, "reason": reason or via}, source=SOURCE)
    return True


def apply_remote(
    session: Session,
    job: PrintJob,
    target: str | None,
    *,
    via: str = "simplyprint",
    timestamp: int = 0,
    job_uid: str | None = None,
    job_id: int | None = None,
    printer_id: int | None = None,
    printer_name: str = "",
    progress: int | None = None,
    error: str = "",
) -> str:
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
        _log(
            session,
            job,
            "print-job.needs-review",
            f"{job.part_name} #{job.copy_number} is printing on "
            f"{printer_name or 'a printer'} although it was cancelled: stop it or keep the part",
            severity="WARNING",
        )
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
        assert target is not None  # moved only towards a given target
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
    machine.check_manual(job.status, status)
    if status == "QUEUED" and job.order_id:
        order = session.get(Order, job.order_id)
        if order is not None and order.fulfillment_status in ("shipped", "completed"):
            raise Conflict("its order has already shipped")
    _set_status(
        session, job, status, via="operator", actor=actor, reason=reason, error=reason if status == "FAILED" else ""
    )
    return job


def cancel_job(session: Session, job_id: uuid.UUID | str, *, actor: Principal, reason: str = "") -> PrintJob:
    """Operator cancel: a queued item leaves the SimplyPrint queue; a printing
    job is stopped on its printer. Idempotent for a cancelled job."""
    actor.require("printJobs.write")
    job = get_job(session, job_id, lock=True)
    if job.status == "CANCELLED":
        return job
    if job.status not in machine.CANCELLABLE:
        raise InvalidTransition(f"a {machine.status_words(job.status)} job cannot be cancelled")
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
        raise InvalidTransition(
            f"only failed or cancelled jobs can be queued again (this one is {machine.status_words(job.status)})"
        )
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


# --- several jobs at once ----------------------------------------------------------------------

BULK_ACTIONS = ("move", "cancel", "requeue")
BULK_LIMIT = 200


@dataclass
class Refusal:
    job_id: str
    job: str  # the job in words: "Body #2 (order #1001)"
    reason: str


@dataclass
class BulkResult:
    done: list[str] = field(default_factory=list)  # ids of the jobs the action changed or found done
    refused: list[Refusal] = field(default_factory=list)


def describe_job(job: PrintJob, order_number: str = "") -> str:
    """A job in words, for a message that names it."""
    where = f"order {order_number}" if order_number else "stock" if job.purpose == "STOCK" else "no order"
    return f"{job.part_name or job.sku or 'Print job'} #{job.copy_number} ({where})"


def bulk_jobs(
    session: Session,
    job_ids: list[str] | list[uuid.UUID],
    action: str,
    *,
    actor: Principal,
    status: str = "",
) -> BulkResult:
    """One operator action on several jobs: each job goes through the same
    function as a single action (move_job, cancel_job, requeue_job), so every
    rule holds for each; a job the rules refuse is left as it was and named in
    the result with the reason, the others go ahead."""
    actor.require("printJobs.write")
    if action not in BULK_ACTIONS:
        raise ValidationFailed(f"unknown action '{action}'")
    ids = list(dict.fromkeys(str(i) for i in job_ids))
    if not ids:
        raise ValidationFailed("choose at least one print job")
    if len(ids) > BULK_LIMIT:
        raise ValidationFailed(f"choose at most {BULK_LIMIT} print jobs at a time")
    if action == "move" and (status or "").strip().upper() not in machine.STATUSES:
        raise ValidationFailed("choose the status to move the jobs to")
    result = BulkResult()
    for job_id in ids:
        try:
            with session.begin_nested():
                if action == "move":
                    move_job(session, job_id, status, actor=actor)
                elif action == "cancel":
                    cancel_job(session, job_id, actor=actor)
                else:
                    requeue_job(session, job_id, actor=actor)
        except DomainError as exc:
            job = session.get(PrintJob, uuid.UUID(job_id)) if _is_uuid(job_id) else None
            name = (
                describe_job(job, order_numbers(session, [job]).get(job.order_id, "") if job.order_id else "")
                if job
                else "A print job"
            )
            result.refused.append(Refusal(job_id, name, exc.message))
        else:
            result.done.append(job_id)
    return result


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


# --- order cancellation cascade --------------------------------------------------------------


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
    jobs = list(
        session.exec(
            select(PrintJob)
            .where(PrintJob.order_id == uuid.UUID(str(order_id)))
            .order_by(col(PrintJob.sequence))
            .with_for_update()
        )
    )
    return _cascade(session, jobs, order_id=uuid.UUID(str(order_id)), reason="order cancelled", what="cancelled order")


def cancel_jobs(session: Session, job_ids: list[uuid.UUID], *, reason: str, what: str) -> CascadeResult:
    """The same cascade for chosen jobs (a cancelled stock batch): queued ones
    cancelled, printing ones flagged for review, printed ones scrap. `what`
    names what was cancelled ("cancelled stock batch")."""
    if not job_ids:
        return CascadeResult()
    jobs = list(
        session.exec(
            select(PrintJob).where(col(PrintJob.id).in_(job_ids)).order_by(col(PrintJob.sequence)).with_for_update()
        )
    )
    return _cascade(session, jobs, order_id=None, reason=reason, what=what)


def _cascade(
    session: Session, jobs: list[PrintJob], *, order_id: uuid.UUID | None, reason: str, what: str
) -> CascadeResult:
    result = CascadeResult()
    c = (
        client(session)
        if any(j.status in ("QUEUED", "ASSIGNED") and j.simplyprint_queue_item_id for j in jobs)
        else None
    )
    for job in jobs:
        if job.status in ("QUEUED", "ASSIGNED"):
            if c is not None and job.simplyprint_queue_item_id:
                try:
                    _cancel_remote(c, job)
                except sp.SimplyPrintError as exc:
                    log.warning("cancel queue item %s: %s (retry queue)", job.simplyprint_queue_item_id, exc)
                    result.remote_failed.append(job.simplyprint_queue_item_id)
            _set_status(session, job, "CANCELLED", via="cascade", reason=reason)
            result.cancelled.append(job.id)
        elif job.status == "PRINTING" and not job.needs_review:
            job.needs_review, job.updated_at = True, utcnow()
            session.add(job)
            _log(
                session,
                job,
                "print-job.needs-review",
                f"{job.part_name} #{job.copy_number} is printing on {job.printer_name or 'a printer'} for a "
                f"{what}: stop it or keep the part",
                severity="WARNING",
            )
            result.flagged.append(job.id)
        elif job.status == "COMPLETED" and not job.scrap and order_id is not None:
            job.scrap, job.updated_at = True, utcnow()
            session.add(job)
            _log(
                session,
                job,
                "print-job.scrapped",
                f"{job.part_name} #{job.copy_number} recorded as scrap (its order was cancelled)",
                severity="WARNING",
            )
            result.scrapped.append(job.id)
    if result.remote_failed:
        retry.schedule(session, "CANCELLATION", order_id=order_id, payload={"queueItemIds": result.remote_failed})
    return result


@retry.operation("CANCELLATION")
def _retry_cancellation(session: Session, entry) -> None:
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
