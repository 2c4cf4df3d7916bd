"""Stock of printed products (seed: Inventory Tracking, Transaction Ledger,
Stock-Aware Fulfillment): each product mapping's shelf, its configuration,
manual adjustments and scrap, orders served from the shelf before anything
is printed, and what a cancelled order gives back.

Every change of a figure is one conditional UPDATE (`current_stock + delta
>= 0`, the row locked until commit) and one ledger entry in the same
transaction, so the ledger's sum always equals the stock and two orders
racing for the last unit never both get it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, text
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import Session, col, select

from app.inventory.models import InventoryTransaction, StockBatch, StockLevel
from app.inventory.service._common import changed, record
from app.orders import service as orders
from app.orders.models import LineItem, Order
from app.platform import config
from app.platform.auth import Principal
from app.platform.db import session_tenant_id
from app.platform.errors import Conflict, NotFound, ValidationFailed
from app.platform.models import utcnow
from app.platform.notifications import notify_staff
from app.platform.text import like_pattern
from app.printing import service as printing
from app.printing.models import ProductMapping

FEATURE = "stock-management"  # feature.stock-management.enabled
MAX_UNITS = 100_000
CONSUME_TRIES = 5  # a partial take re-reads the figure this often before the order prints instead


def stock_enabled(session: Session) -> bool:
    """Seed: Stock Management Feature Flag. Off: every order prints."""
    return config.feature_enabled(session, FEATURE)


def set_stock_management(session: Session, enabled: bool, *, actor: Principal) -> None:
    """Admins switch stock management on or off for their shop (the feature flag)."""
    actor.require("settings.write")
    if stock_enabled(session) != enabled:
        config.set_value(session, f"feature.{FEATURE}.enabled", bool(enabled), actor_user_id=actor.user_id)
        changed(session)


# --- levels ------------------------------------------------------------------------------------


def level_for(session: Session, mapping_id: uuid.UUID | str, *, lock: bool = False) -> StockLevel:
    """The product's stock row (made on first use: a product nobody
    configured has 0 on the shelf and minimum 0)."""
    return _shelf(session, mapping_id, lock=lock)[0]


def _shelf(session: Session, mapping_id: uuid.UUID | str, *, lock: bool = False) -> tuple[StockLevel, ProductMapping]:
    """The product's stock row and its mapping, read once (the callers that word a change need both)."""
    mapping = printing.get_mapping(session, mapping_id)
    session.exec(
        insert(StockLevel)
        .values(
            id=uuid.uuid4(), tenant_id=session_tenant_id(session), product_mapping_id=mapping.id, updated_at=utcnow()
        )
        .on_conflict_do_nothing(index_elements=["tenant_id", "product_mapping_id"])
    )
    q = select(StockLevel).where(StockLevel.product_mapping_id == mapping.id)
    if lock:
        q = q.with_for_update()
    return session.exec(q.execution_options(populate_existing=True)).one(), mapping


def stock_status(level: StockLevel | None) -> str:
    """low (below minimum) | over (above the cap) | ok."""
    if level is None:
        return "ok"
    if level.minimum_stock > 0 and level.current_stock < level.minimum_stock:
        return "low"
    if level.maximum_stock is not None and level.current_stock > level.maximum_stock:
        return "over"
    return "ok"


@dataclass
class StockRow:
    mapping_id: uuid.UUID
    sku: str
    name: str
    active: bool
    current: int
    minimum: int
    maximum: int | None
    priority: int
    batch_size: int
    pending: int  # units in batches still printing
    status: str
    updated_at: datetime | None


STOCK_SORTS = {"sku": "SKU", "name": "name", "current": "on the shelf", "minimum": "minimum", "priority": "priority"}
STOCK_STATUSES = ("low", "ok", "over")


@dataclass
class StockFilter:
    search: str = ""
    status: str = ""  # low | ok | over | "" (all)
    sort: str = "sku"
    descending: bool = False
    page: int = 0
    page_size: int = 25


def _pending_units():
    return (
        select(StockBatch.product_mapping_id, func.count().label("n"))
        .where(StockBatch.status == "IN_PROGRESS")
        .group_by(col(StockBatch.product_mapping_id))
        .subquery()
    )


def _status_expr():
    current = func.coalesce(StockLevel.current_stock, 0)
    minimum = func.coalesce(StockLevel.minimum_stock, 0)
    return case(
        ((minimum > 0) & (current < minimum), "low"),
        ((col(StockLevel.maximum_stock).is_not(None)) & (current > StockLevel.maximum_stock), "over"),
        else_="ok",
    )


def list_stock(session: Session, f: StockFilter) -> tuple[list[StockRow], int]:
    """Every product mapping with its shelf (GET /inventory/stock, the stock table)."""
    pending = _pending_units()
    status = _status_expr()
    q = (
        select(ProductMapping, StockLevel, func.coalesce(pending.c.n, 0), status)
        .outerjoin(StockLevel, col(StockLevel.product_mapping_id) == ProductMapping.id)
        .outerjoin(pending, pending.c.product_mapping_id == ProductMapping.id)
    )
    if f.search.strip():
        pattern = like_pattern(f.search.strip())
        q = q.where(col(ProductMapping.sku).ilike(pattern) | col(ProductMapping.name).ilike(pattern))
    if f.status in STOCK_STATUSES:
        q = q.where(status == f.status)
    total = session.exec(select(func.count()).select_from(q.subquery())).one()
    column = {
        "name": func.lower(ProductMapping.name),
        "current": func.coalesce(StockLevel.current_stock, 0),
        "minimum": func.coalesce(StockLevel.minimum_stock, 0),
        "priority": func.coalesce(StockLevel.replenishment_priority, 0),
    }.get(f.sort, func.lower(ProductMapping.sku))
    q = q.order_by(column.desc() if f.descending else column.asc(), col(ProductMapping.sku))
    q = q.offset(max(0, f.page) * f.page_size).limit(f.page_size)
    return [_stock_row(mapping, level, int(n), st) for mapping, level, n, st in session.exec(q).all()], total


def _stock_row(mapping: ProductMapping, level: StockLevel | None, pending: int, status: str) -> StockRow:
    return StockRow(
        mapping_id=mapping.id,
        sku=mapping.sku,
        name=mapping.name,
        active=mapping.active,
        current=level.current_stock if level else 0,
        minimum=level.minimum_stock if level else 0,
        maximum=level.maximum_stock if level else None,
        priority=level.replenishment_priority if level else 0,
        batch_size=level.replenishment_batch_size if level else 1,
        pending=pending,
        status=status,
        updated_at=level.updated_at if level else None,
    )


def stock_row(session: Session, mapping_id: uuid.UUID | str) -> StockRow:
    """One product's shelf as the stock table shows it (its page); NotFound for no such product."""
    mapping = printing.get_mapping(session, mapping_id)
    level = session.exec(select(StockLevel).where(StockLevel.product_mapping_id == mapping.id)).first()
    pending = session.exec(
        select(func.count())
        .select_from(StockBatch)
        .where(StockBatch.product_mapping_id == mapping.id, StockBatch.status == "IN_PROGRESS")
    ).one()
    return _stock_row(mapping, level, int(pending), stock_status(level))


def stock_counts(session: Session) -> dict[str, int]:
    """How many products are low, ok, over (the status filter's counts, the home tile)."""
    status = _status_expr()
    q = (
        select(status, func.count())
        .select_from(ProductMapping)
        .outerjoin(StockLevel, col(StockLevel.product_mapping_id) == ProductMapping.id)
        .group_by(status)
    )
    counts: dict[str, int] = dict.fromkeys(STOCK_STATUSES, 0)
    for st, n in session.exec(q).all():
        counts[st] = n
    return counts


@dataclass
class StockConfig:
    minimum_stock: int = 0
    maximum_stock: int | None = None
    replenishment_priority: int = 0
    replenishment_batch_size: int = 1


def config_errors(c: StockConfig) -> dict[str, str]:
    """What is wrong with a stock configuration, by field (the dialog, PUT …/config)."""
    errors: dict[str, str] = {}
    if not 0 <= c.minimum_stock <= MAX_UNITS:
        errors["minimumStock"] = f"The minimum is a whole number from 0 to {MAX_UNITS:,}."
    if c.maximum_stock is not None:
        if not 1 <= c.maximum_stock <= MAX_UNITS:
            errors["maximumStock"] = f"The maximum is a whole number from 1 to {MAX_UNITS:,}, or empty for no cap."
        elif c.maximum_stock < c.minimum_stock:
            errors["maximumStock"] = f"The maximum ({c.maximum_stock}) cannot be below the minimum ({c.minimum_stock})."
    if not -1000 <= c.replenishment_priority <= 1000:
        errors["replenishmentPriority"] = "The priority is a whole number from -1000 to 1000 (higher goes first)."
    if not 1 <= c.replenishment_batch_size <= 100:
        errors["replenishmentBatchSize"] = "The batch size is a whole number from 1 to 100 (units planned per run)."
    return errors


def configure(session: Session, mapping_id: uuid.UUID | str, c: StockConfig, *, actor: Principal) -> StockLevel:
    """Seed: PUT /inventory/stock/:id/config."""
    actor.require("inventory.write")
    errors = config_errors(c)
    if errors:
        raise ValidationFailed("; ".join(errors.values()), details={"fields": errors})
    level, mapping = _shelf(session, mapping_id, lock=True)
    level.minimum_stock, level.maximum_stock = c.minimum_stock, c.maximum_stock
    level.replenishment_priority, level.replenishment_batch_size = c.replenishment_priority, c.replenishment_batch_size
    level.updated_at = utcnow()
    session.add(level)
    orders.log_event(
        session,
        None,
        "inventory.configured",
        f"Stock of {mapping.sku}: minimum {c.minimum_stock}, maximum "
        f"{c.maximum_stock if c.maximum_stock is not None else 'none'}, priority {c.replenishment_priority}, "
        f"batch size {c.replenishment_batch_size}",
        actor=actor,
    )
    _watch_low(session, level, mapping)
    changed(session)
    return level


# --- moving stock --------------------------------------------------------------------------


def _move(session: Session, level: StockLevel, delta: int) -> int | None:
    """Add `delta` (negative: take) to the figure unless it would go below
    zero; the new figure, or None. Waits for a concurrent change of the same
    row and re-checks against its result (READ COMMITTED)."""
    row = session.execute(
        text(
            "UPDATE stock_levels SET current_stock = current_stock + :d, version = version + 1, updated_at = now() "
            "WHERE id = :id AND current_stock + :d >= 0 RETURNING current_stock"
        ),
        {"d": delta, "id": level.id},
    ).first()
    if row is None:
        return None
    level.current_stock = row[0]
    return int(row[0])


def _reason(reason: str) -> str:
    reason = " ".join((reason or "").split())
    if not reason:
        raise ValidationFailed(
            "give a reason (a count, damage, a correction…)", details={"fields": {"reason": "Give a reason."}}
        )
    if len(reason) > 500:
        raise ValidationFailed(
            "the reason is at most 500 characters", details={"fields": {"reason": "At most 500 characters."}}
        )
    return reason


def _units(quantity: object, what: str) -> int:
    if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= MAX_UNITS:
        raise ValidationFailed(
            f"{what} is a whole number from 1 to {MAX_UNITS:,}",
            details={"fields": {"quantity": f"{what} is 1 or more."}},
        )
    return quantity


def adjust(
    session: Session, mapping_id: uuid.UUID | str, quantity: int, direction: str, reason: str, *, actor: Principal
) -> InventoryTransaction:
    """Seed: Manual Adjustment (POST …/adjust): ADJUSTMENT_IN or ADJUSTMENT_OUT, a reason required."""
    actor.require("inventory.write")
    if direction not in ("IN", "OUT"):
        raise ValidationFailed("the direction is IN or OUT", details={"fields": {"direction": "Choose in or out."}})
    quantity, reason = _units(quantity, "the quantity"), _reason(reason)
    return _manual(
        session, mapping_id, "ADJUSTMENT_IN" if direction == "IN" else "ADJUSTMENT_OUT", quantity, reason, actor
    )


def scrap(
    session: Session, mapping_id: uuid.UUID | str, quantity: int, reason: str, *, actor: Principal
) -> InventoryTransaction:
    """Seed: Scrap (POST …/scrap): damaged or defective units leave the shelf."""
    actor.require("inventory.write")
    quantity, reason = _units(quantity, "the number of scrapped units"), _reason(reason)
    return _manual(session, mapping_id, "SCRAPPED", quantity, reason, actor)


def _manual(
    session: Session, mapping_id: uuid.UUID | str, kind: str, quantity: int, reason: str, actor: Principal
) -> InventoryTransaction:
    level, mapping = _shelf(session, mapping_id)
    delta = quantity if kind == "ADJUSTMENT_IN" else -quantity
    after = _move(session, level, delta)
    if after is None:
        on_shelf = session.exec(select(StockLevel.current_stock).where(StockLevel.id == level.id)).one()
        raise Conflict(
            f"only {on_shelf} unit(s) of {mapping.sku} are on the shelf; {quantity} cannot be taken off",
            code="not_enough_stock",
            details={"currentStock": on_shelf},
        )
    entry = record(
        session,
        kind,
        quantity,
        stock_after=after,
        reference_type="MANUAL",
        product_mapping_id=mapping.id,
        sku=mapping.sku,
        reason=reason,
        actor=actor,
    )
    words = {"ADJUSTMENT_IN": "added to", "ADJUSTMENT_OUT": "taken off", "SCRAPPED": "scrapped from"}[kind]
    orders.log_event(
        session,
        None,
        f"inventory.{kind.lower()}",
        f"{quantity} × {mapping.sku} {words} the shelf ({reason}); {after} left",
        actor=actor,
    )
    _watch_low(session, level, mapping)
    return entry


def produced(session: Session, mapping_id: uuid.UUID, batch_id: uuid.UUID) -> int:
    """A stock batch completed: one unit onto the shelf (PRODUCED)."""
    level, mapping = _shelf(session, mapping_id)
    after = _move(session, level, 1)
    assert after is not None  # adding never goes below zero
    record(
        session,
        "PRODUCED",
        1,
        stock_after=after,
        reference_type="STOCK_BATCH",
        reference_id=batch_id,
        product_mapping_id=mapping.id,
        sku=mapping.sku,
        reason="stock batch printed",
    )
    _watch_low(session, level, mapping)
    return after


# --- orders ---------------------------------------------------------------------------------


def consumed_for_line(session: Session, line_item_id: uuid.UUID) -> int:
    return int(
        session.exec(
            select(func.coalesce(func.sum(InventoryTransaction.quantity), 0)).where(
                InventoryTransaction.line_item_id == line_item_id, InventoryTransaction.transaction_type == "CONSUMED"
            )
        ).one()
    )


@printing.stock_source
def serve_line(session: Session, order: Order, li: LineItem, mapping: ProductMapping) -> int:
    """Seed: Stock Consumption. Before a line is printed it takes what the
    shelf has: all of it, part or nothing (CONSUMED, referencing the line and
    its order). Asked again for the same line it answers what it took and
    takes no more. A take that loses a race re-reads the figure; after a few
    tries the rest is printed (the seed's fallback)."""
    already = consumed_for_line(session, li.id)
    if already or not stock_enabled(session):
        return already
    level = session.exec(select(StockLevel).where(StockLevel.product_mapping_id == mapping.id)).first()
    if level is None:
        return 0
    for _ in range(CONSUME_TRIES):
        on_shelf = session.exec(
            select(StockLevel.current_stock).where(StockLevel.id == level.id).execution_options(populate_existing=True)
        ).one()
        take = min(li.quantity, on_shelf)
        if take <= 0:
            return 0
        after = _move(session, level, -take)
        if after is None:
            continue  # another order took units meanwhile
        record(
            session,
            "CONSUMED",
            take,
            stock_after=after,
            reference_type="LINE_ITEM",
            reference_id=li.id,
            product_mapping_id=mapping.id,
            sku=mapping.sku,
            order_id=order.id,
            line_item_id=li.id,
            reason=f"order {order.number}",
        )
        orders.log_event(
            session,
            order,
            "inventory.consumed",
            f"{take} of {li.quantity} × {mapping.sku} taken from stock"
            + ("" if take == li.quantity else f"; {li.quantity - take} printed"),
        )
        _watch_low(session, level, mapping)
        return take
    return 0


@orders.on_cancel
def return_for_order(session: Session, order: Order, actor: Principal | None) -> None:
    """A cancelled order (it has not shipped: cancelling refuses that) gives
    the units it took from the shelf back (ADJUSTMENT_IN, referencing the order)."""
    rows = session.exec(
        select(
            InventoryTransaction.product_mapping_id,
            InventoryTransaction.transaction_type,
            func.sum(InventoryTransaction.quantity),
        )
        .where(
            InventoryTransaction.order_id == order.id,
            col(InventoryTransaction.product_mapping_id).is_not(None),
            col(InventoryTransaction.transaction_type).in_(("CONSUMED", "ADJUSTMENT_IN")),
        )
        .group_by(col(InventoryTransaction.product_mapping_id), col(InventoryTransaction.transaction_type))
    ).all()
    taken: dict[uuid.UUID, int] = {}
    for mapping_id, kind, n in rows:
        if mapping_id is None:
            continue
        taken[mapping_id] = taken.get(mapping_id, 0) + (int(n) if kind == "CONSUMED" else -int(n))
    for mapping_id, units in sorted(taken.items(), key=lambda kv: str(kv[0])):
        if units <= 0:
            continue
        try:
            level, mapping = _shelf(session, mapping_id)
        except NotFound:
            continue  # the product is gone; its history stays in the ledger
        after = _move(session, level, units)
        assert after is not None
        record(
            session,
            "ADJUSTMENT_IN",
            units,
            stock_after=after,
            reference_type="ORDER",
            reference_id=order.id,
            product_mapping_id=mapping.id,
            sku=mapping.sku,
            order_id=order.id,
            reason=f"order {order.number} cancelled: its units go back on the shelf",
            actor=actor,
        )
        orders.log_event(
            session, order, "inventory.returned", f"{units} × {mapping.sku} back on the shelf (order cancelled)"
        )


# --- low stock ------------------------------------------------------------------------------


def _watch_low(session: Session, level: StockLevel, mapping: ProductMapping) -> None:
    """Staff hear once when a product drops below its minimum (again after it recovered)."""
    low = level.minimum_stock > 0 and level.current_stock < level.minimum_stock
    if low and not level.low_notified:
        notify_staff(
            session,
            kind="inventory.low-stock",
            severity="WARNING",
            permission="inventory.read",
            title=f"{mapping.sku} is below its minimum stock",
            body=f"{level.current_stock} on the shelf, minimum {level.minimum_stock}. "
            "Replenishment plans more in its allowed hours.",
            link=f"/inventory/products/{mapping.id}",
        )
    if low != level.low_notified:
        session.execute(
            text("UPDATE stock_levels SET low_notified = :low WHERE id = :id"), {"low": low, "id": level.id}
        )
        level.low_notified = low


# --- the ledger -----------------------------------------------------------------------------


def ledger(
    session: Session, mapping_id: uuid.UUID | str, *, page: int = 0, page_size: int = 25
) -> tuple[list[InventoryTransaction], int]:
    """A product's transactions, newest first (GET …/transactions)."""
    mapping = printing.get_mapping(session, mapping_id)
    where = InventoryTransaction.product_mapping_id == mapping.id
    total = session.exec(select(func.count()).select_from(InventoryTransaction).where(where)).one()
    rows = session.exec(
        select(InventoryTransaction)
        .where(where)
        .order_by(col(InventoryTransaction.created_at).desc(), col(InventoryTransaction.id).desc())
        .offset(max(0, page) * page_size)
        .limit(page_size)
    ).all()
    return list(rows), total


def stock_history(session: Session, mapping_id: uuid.UUID | str, *, limit: int = 200) -> list[tuple[datetime, int]]:
    """The figure after each of the newest `limit` entries, oldest first (the chart)."""
    mapping = printing.get_mapping(session, mapping_id)
    rows = session.exec(
        select(InventoryTransaction.created_at, InventoryTransaction.stock_after)
        .where(InventoryTransaction.product_mapping_id == mapping.id)
        .order_by(col(InventoryTransaction.created_at).desc(), col(InventoryTransaction.id).desc())
        .limit(limit)
    ).all()
    return [(at, n) for at, n in reversed(rows)]


def ledger_sum(session: Session, mapping_id: uuid.UUID) -> int:
    """Σ IN - Σ OUT of a product's entries: always its current stock."""
    signed = case(
        (col(InventoryTransaction.direction) == "IN", InventoryTransaction.quantity),
        else_=-InventoryTransaction.quantity,
    )
    return int(
        session.exec(
            select(func.coalesce(func.sum(signed), 0)).where(InventoryTransaction.product_mapping_id == mapping_id)
        ).one()
    )
