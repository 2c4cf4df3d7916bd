"""Stock batches (seed: Stock Batch, StockReplenishment flow, Batch
Cancellation). A batch is ONE unit of a product: its assembly parts (each ×
quantity per product) as STOCK print jobs. When every job of the batch has
completed, the stock rises by one (PRODUCED), atomically with the batch's
completion.

The seed says three things about the increment: "atomically incremented by
1" (StockBatchCompleted), "incremented by the number of completed jobs"
(the Stock Batch entry) and "replenishmentBatchSize … jobs per cycle" (the
data model). A multi-part product's jobs are parts, not products, so
counting jobs would put parts on the shelf as products; one unit per batch is
the definition that holds for every product, and `replenishmentBatchSize` is
the number of batches (units) a run plans for a product.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from app.inventory.models import StockBatch, StockBatchJob
from app.inventory.service._common import changed
from app.inventory.service.stock import produced
from app.orders import service as orders
from app.platform.auth import Principal
from app.platform.db import get_or_404, session_tenant_id
from app.platform.errors import InvalidTransition, ValidationFailed
from app.platform.events import publish
from app.platform.models import utcnow
from app.platform.notifications import notify_staff
from app.printing import service as printing
from app.printing.models import PrintJob, ProductMapping

BATCH_STATUSES = ("IN_PROGRESS", "COMPLETED", "FAILED", "CANCELLED")
MAX_BATCHES = 100  # one request's "print N for stock"


def get_batch(session: Session, batch_id: uuid.UUID | str, *, lock: bool = False) -> StockBatch:
    return get_or_404(session, StockBatch, batch_id, "stock batch", lock=lock)


def create_batches(
    session: Session,
    mapping_id: uuid.UUID | str,
    count: int = 1,
    *,
    actor: Principal | None,
    origin: str = "MANUAL",
) -> list[StockBatch]:
    """`count` units of a product for the shelf, one batch each; their jobs
    queue on SimplyPrint behind every ORDER job. `actor` None: the
    replenishment scheduler."""
    if actor is not None:
        actor.require("inventory.write")
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_BATCHES:
        raise ValidationFailed(f"print between 1 and {MAX_BATCHES} units for stock")
    mapping = printing.get_mapping(session, mapping_id)
    if not mapping.active:
        raise ValidationFailed(f"{mapping.sku} is inactive; activate its mapping to print it for stock")
    tid, batches = session_tenant_id(session), []
    for _ in range(count):
        jobs = printing.make_stock_jobs(session, mapping, 1)
        batch = StockBatch(
            tenant_id=tid,
            product_mapping_id=mapping.id,
            total_jobs=len(jobs),
            origin=origin,
            created_by_id=actor.user_id if actor else None,
        )
        session.add(batch)
        session.flush()
        for job in jobs:
            session.add(StockBatchJob(tenant_id=tid, stock_batch_id=batch.id, print_job_id=job.id))
            publish(
                session,
                "inventory.stock-replenishment-scheduled",
                {
                    "printJobId": str(job.id),
                    "fileId": None,
                    "purpose": "STOCK",
                    "stockBatchId": str(batch.id),
                },
                source="order-service",
            )
        batches.append(batch)
    session.flush()
    who = actor.display_name if actor else "the replenishment scheduler"
    orders.log_event(
        session,
        None,
        "inventory.batches-created",
        f"{count} stock batch(es) of {mapping.sku} ({sum(b.total_jobs for b in batches)} print job(s)) by {who}",
        actor=actor,
        meta={"stockBatchIds": [str(b.id) for b in batches]},
    )
    changed(session)
    return batches


def _batch_of_job(session: Session, job_id: uuid.UUID | str) -> StockBatch | None:
    batch_id = session.exec(
        select(StockBatchJob.stock_batch_id).where(StockBatchJob.print_job_id == uuid.UUID(str(job_id)))
    ).first()
    if batch_id is None:
        return None
    return get_batch(session, batch_id, lock=True)


def _job_statuses(session: Session, batch: StockBatch) -> list[str]:
    return list(
        session.exec(
            select(PrintJob.status)
            .join(StockBatchJob, col(StockBatchJob.print_job_id) == PrintJob.id)
            .where(StockBatchJob.stock_batch_id == batch.id)
        )
    )


def _sku(session: Session, batch: StockBatch) -> str:
    return session.exec(select(ProductMapping.sku).where(ProductMapping.id == batch.product_mapping_id)).first() or "?"


def on_job_completed(session: Session, job_id: uuid.UUID | str) -> StockBatch | None:
    """A STOCK job completed: the batch's progress; its last job puts the unit
    on the shelf (PRODUCED) in the same transaction. Counted from the jobs'
    statuses, so a replayed event changes nothing."""
    batch = _batch_of_job(session, job_id)
    if batch is None:
        return None
    statuses = _job_statuses(session, batch)
    done = statuses.count("COMPLETED")
    if batch.completed_jobs != done:
        batch.completed_jobs, batch.updated_at = done, utcnow()
        session.add(batch)
        changed(session)
    if batch.status == "IN_PROGRESS" and done >= batch.total_jobs:
        batch.status, batch.completed_at = "COMPLETED", utcnow()
        session.add(batch)
        after = produced(session, batch.product_mapping_id, batch.id)
        sku = _sku(session, batch)
        orders.log_event(
            session, None, "inventory.batch-completed", f"Stock batch of {sku} printed: {after} on the shelf"
        )
    return batch


def on_job_failed(session: Session, job_id: uuid.UUID | str, why: str) -> StockBatch | None:
    """A STOCK job failed (or was cancelled outside a batch cancellation): the
    batch is FAILED until its job is requeued."""
    batch = _batch_of_job(session, job_id)
    if batch is None or batch.status != "IN_PROGRESS":
        return batch
    batch.status, batch.failed_at, batch.updated_at = "FAILED", utcnow(), utcnow()
    batch.error = why[:500]
    session.add(batch)
    sku = _sku(session, batch)
    orders.log_event(session, None, "inventory.batch-failed", f"Stock batch of {sku} failed: {why}", severity="WARNING")
    notify_staff(
        session,
        kind="inventory.batch-failed",
        severity="WARNING",
        permission="inventory.read",
        title=f"A stock batch of {sku} failed",
        body=f"{why[:300]}. Requeue its print on the print farm to revive the batch, or cancel the batch.",
        link="/inventory?view=batches",
    )
    changed(session)
    return batch


def on_job_revived(session: Session, job_id: uuid.UUID | str) -> StockBatch | None:
    """A failed batch's job was requeued: the batch is IN_PROGRESS again once
    none of its jobs is failed or cancelled."""
    batch = _batch_of_job(session, job_id)
    if batch is None or batch.status != "FAILED":
        return batch
    if any(s in ("FAILED", "CANCELLED") for s in _job_statuses(session, batch)):
        return batch
    batch.status, batch.failed_at, batch.error, batch.updated_at = "IN_PROGRESS", None, "", utcnow()
    session.add(batch)
    orders.log_event(session, None, "inventory.batch-revived", f"Stock batch of {_sku(session, batch)} printing again")
    changed(session)
    if batch.completed_jobs >= batch.total_jobs:
        on_job_completed(session, job_id)
    return batch


def cancel_batch(session: Session, batch_id: uuid.UUID | str, *, actor: Principal) -> StockBatch:
    """Seed: Batch Cancellation (POST /inventory/batches/:id/cancel): an
    IN_PROGRESS batch's QUEUED/ASSIGNED jobs are cancelled (and leave the
    SimplyPrint queue), a printing one is flagged for review. Cancelling a
    cancelled batch answers the same."""
    actor.require("inventory.write")
    batch = get_batch(session, batch_id, lock=True)
    if batch.status == "CANCELLED":
        return batch
    if batch.status != "IN_PROGRESS":
        raise InvalidTransition(
            f"only a batch in progress can be cancelled (this one is {batch.status.lower().replace('_', ' ')})"
        )
    batch.status, batch.cancelled_at, batch.updated_at = "CANCELLED", utcnow(), utcnow()
    session.add(batch)
    job_ids = list(session.exec(select(StockBatchJob.print_job_id).where(StockBatchJob.stock_batch_id == batch.id)))
    result = printing.cancel_jobs(session, job_ids, reason="stock batch cancelled", what="cancelled stock batch")
    orders.log_event(
        session,
        None,
        "inventory.batch-cancelled",
        f"Stock batch of {_sku(session, batch)} cancelled by {actor.display_name}: {len(result.cancelled)} job(s) "
        f"cancelled, {len(result.flagged)} printing job(s) flagged for review",
        actor=actor,
        severity="WARNING",
    )
    changed(session)
    return batch


@dataclass
class BatchRow:
    id: uuid.UUID
    mapping_id: uuid.UUID
    sku: str
    name: str
    status: str
    total_jobs: int
    completed_jobs: int
    origin: str
    error: str
    created_at: datetime
    finished_at: datetime | None


def list_batches(
    session: Session, *, status: str = "active", mapping_id: uuid.UUID | None = None, page: int = 0, page_size: int = 25
) -> tuple[list[BatchRow], int]:
    """Batches, newest first. status "active": IN_PROGRESS and FAILED (what
    still needs the farm or a decision); one of BATCH_STATUSES; "" every one."""
    q = select(StockBatch, ProductMapping.sku, ProductMapping.name).join(
        ProductMapping, col(ProductMapping.id) == StockBatch.product_mapping_id
    )
    if status == "active":
        q = q.where(col(StockBatch.status).in_(("IN_PROGRESS", "FAILED")))
    elif status in BATCH_STATUSES:
        q = q.where(StockBatch.status == status)
    if mapping_id is not None:
        q = q.where(StockBatch.product_mapping_id == mapping_id)
    total = session.exec(select(func.count()).select_from(q.subquery())).one()
    rows = session.exec(
        q.order_by(col(StockBatch.created_at).desc(), col(StockBatch.id))
        .offset(max(0, page) * page_size)
        .limit(page_size)
    ).all()
    return [
        BatchRow(
            id=b.id,
            mapping_id=b.product_mapping_id,
            sku=sku,
            name=name,
            status=b.status,
            total_jobs=b.total_jobs,
            completed_jobs=b.completed_jobs,
            origin=b.origin,
            error=b.error,
            created_at=b.created_at,
            finished_at=b.completed_at or b.cancelled_at or b.failed_at,
        )
        for b, sku, name in rows
    ], total


def pending_units(session: Session, mapping_id: uuid.UUID) -> int:
    """Units of a product in batches still printing."""
    return session.exec(
        select(func.count())
        .select_from(StockBatch)
        .where(StockBatch.product_mapping_id == mapping_id, StockBatch.status == "IN_PROGRESS")
    ).one()
