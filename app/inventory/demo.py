"""Demo inventory for `make dev`: the demo shop keeps the printed products
the print farm demo mapped on the shelf, all through the real services.

- stock management and replenishment are on (quiet hours 22:00–06:00, every day);
- a stock take put units on the shelf and one Benchy was scrapped; two
  products are below their minimum, one is above its maximum, the rest ok;
- stock batches moved by hand (manual mode): one completed (its unit went on
  the shelf), one printing with part of its prints done, one failed on a
  print, one cancelled by an operator;
- the scheduler ran last night inside its window and planned batches for the
  products below their minimum, then once outside it ("nothing planned:
  outside allowed hours"), which the status card shows.

Idempotent: a shop with any stock figure has its demo (or its own stock) and
is left alone.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time, timedelta

from sqlmodel import Session, col, select

from app.inventory import service, spare_parts_demo
from app.inventory.models import StockBatchJob, StockLevel
from app.platform.auth import Principal
from app.platform.db import session_tenant_id
from app.platform.formatting import of_tenant
from app.platform.models import User, utcnow
from app.platform.permissions import PERMISSIONS
from app.printing import service as printing
from app.printing.models import PrintJob, ProductMapping

# sku → (counted on the shelf, minimum, maximum, priority, batch size)
STOCK: dict[str, tuple[int, int, int | None, int, int]] = {
    "BENCHY-PLA-RED": (14, 8, 20, 10, 2),  # ok: one scrapped, one printed for the shelf
    "CABLE-CLIP-10": (5, 12, 30, 20, 4),  # low: the night's run planned four batches (first: higher priority)
    "HOOK-PEGBOARD-6": (2, 6, None, 5, 2),  # low: and two of these
    "PLANTER-S-WHITE": (4, 3, 8, 0, 1),  # ok, a batch printing
    "LITHO-FRAME-A5": (3, 2, 5, 0, 1),  # ok, its batch failed on a print
    "GRID-2x3-MAG-NONE": (9, 2, 6, 0, 1),  # over its maximum: a big print run left spares
}
SETTINGS = service.ReplenishmentSettings(
    enabled=True,
    start_hour=22,
    end_hour=6,
    days=list(range(7)),
    order_queue_threshold=300,  # the demo farm is busy: two hundred-odd order prints are queued
    max_concurrent_stock_jobs=10,
    interval_minutes=15,
)


def _actor(session: Session, username: str) -> Principal:
    """A demo staff member (named in the ledger), or an anonymous demo actor
    in a shop without them."""
    user = session.exec(select(User).where(User.username == username)).first()
    return Principal(
        tenant_id=session_tenant_id(session),
        tenant_name="",
        tenant_slug="",
        user_id=user.id if user else None,
        username=user.username if user else "demo",
        display_name=(user.display_name or user.username) if user else "Demo",
        roles=("admin",),
        permissions=frozenset(PERMISSIONS),
    )


def _run_times(session: Session) -> tuple[datetime, datetime]:
    """Two past moments, (inside, outside) the quiet hours, inside first: the
    last moment outside the window (now, in the daytime) and 23:30 the night before."""
    local = of_tenant(session_tenant_id(session)).local(utcnow())
    if SETTINGS.end_hour <= local.hour < SETTINGS.start_hour:
        outside = local
    else:  # now is in the window: the evening before it opened
        day = local.date() if local.hour >= SETTINGS.start_hour else local.date() - timedelta(days=1)
        outside = datetime.combine(day, time(SETTINGS.start_hour - 1, 45), tzinfo=local.tzinfo)
    inside = datetime.combine(outside.date() - timedelta(days=1), time(23, 30), tzinfo=local.tzinfo)
    return inside.astimezone(UTC), outside.astimezone(UTC)


def _batch(session: Session, mapping_id: uuid.UUID, moves: list[tuple[str, str]], actor: Principal) -> uuid.UUID:
    """One stock batch of the product whose prints are moved by hand, in
    order: (status, reason). The inventory handlers answer now, as the worker
    would (they are idempotent: its later run changes nothing)."""
    (batch,) = service.create_batches(session, mapping_id, 1, actor=actor)
    jobs = session.exec(
        select(PrintJob.id)
        .join(StockBatchJob, col(StockBatchJob.print_job_id) == PrintJob.id)
        .where(StockBatchJob.stock_batch_id == batch.id)
        .order_by(col(PrintJob.sequence))
    ).all()
    for job_id, (status, reason) in zip(jobs, moves, strict=False):
        if status == "FAILED":
            printing.move_job(session, job_id, "PRINTING", actor=actor)
            printing.move_job(session, job_id, "FAILED", actor=actor, reason=reason)
            service.on_job_failed(session, job_id, reason)
        else:
            printing.move_job(session, job_id, status, actor=actor)
            if status == "COMPLETED":
                service.on_job_completed(session, job_id)
    return batch.id


def load(session: Session) -> None:
    spare_parts_demo.load(session)  # the repair bench's spare parts (idempotent on its own)
    session.commit()
    if session.exec(select(StockLevel)).first() is not None:
        return
    mappings = {
        m.sku: m.id for m in session.exec(select(ProductMapping).where(col(ProductMapping.sku).in_(list(STOCK))))
    }
    if not mappings:
        return  # no printed products to keep on a shelf
    admin, operator = _actor(session, "admin"), _actor(session, "operator")
    service.set_stock_management(session, True, actor=admin)
    service.save_settings(session, SETTINGS, actor=admin)
    # Counted onto the shelf first, configured after: only the products that
    # really are short raise a low-stock notification.
    for sku, (units, minimum, maximum, priority, batch_size) in STOCK.items():
        if sku not in mappings:
            continue
        service.adjust(session, mappings[sku], units, "IN", "stock take: counted on the shelf", actor=operator)
        config = service.StockConfig(
            minimum_stock=minimum,
            maximum_stock=maximum,
            replenishment_priority=priority,
            replenishment_batch_size=batch_size,
        )
        service.configure(session, mappings[sku], config, actor=operator)
    if "BENCHY-PLA-RED" in mappings:
        benchy = mappings["BENCHY-PLA-RED"]
        service.scrap(session, benchy, 1, "hull cracked when it fell off the shelf", actor=operator)
        _batch(session, benchy, [("COMPLETED", "")], operator)
    if "PLANTER-S-WHITE" in mappings:  # the pot is printed, the reservoir is on a printer
        _batch(session, mappings["PLANTER-S-WHITE"], [("COMPLETED", ""), ("PRINTING", "")], operator)
    if "LITHO-FRAME-A5" in mappings:
        _batch(
            session,
            mappings["LITHO-FRAME-A5"],
            [("COMPLETED", ""), ("FAILED", "warped: the lithophane lifted off the bed")],
            operator,
        )
    if "GRID-2x3-MAG-NONE" in mappings:  # there are spares enough: an operator stopped it
        batch_id = _batch(session, mappings["GRID-2x3-MAG-NONE"], [], operator)
        service.cancel_batch(session, batch_id, actor=operator)
    inside, outside = _run_times(session)
    service.evaluate(session, now=inside)
    service.evaluate(session, now=outside)
    session.commit()
