"""PC parts for builds (issue 15, beyond the seed): the shop's offers for
catalog parts have units on hand (`PartOffer.stock`); a builder order holds
its parts (`PartReservation`, InvenTree's semantics: available = on hand -
reserved, below zero = back-order), the build's completion consumes them and
a cancelled order releases them, all through the same ledger as the printed
products.

Ledger entries of a part (`part_offer_id`):
- ADJUSTMENT_IN / ADJUSTMENT_OUT: by hand here, or written by the catalog's
  stock-change hook when a price list, an offer edit or the demo prices
  change the figure (reference MANUAL, the reason says which);
- RESERVED / RELEASED: move the reserved quantity, not the units on hand
  (their `stock_after` is the part's availability after them);
- CONSUMED: the build took the units off the shelf (`stock_after`: on hand).
So per offer Σ IN - Σ OUT of its on-hand entries (ON_HAND_TYPES) is its
stock, and Σ RESERVED - Σ RELEASED is what its active and consumed
reservations hold (`app.inventory.consistency` checks both).

Locks are taken in one order everywhere: the order row, then its
reservations, then the offers (by id). Staff hear once when a part's
availability drops to the shop's threshold or below (`catalog.
parts_low_threshold`), again only after it rose above it: each change knows
the availability before and after it under the offer's row lock, so exactly
one change crosses the line. After every change the builder's offers cache
is told to reload (`catalog.offers_changed`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from urllib.parse import quote

from sqlalchemy import String, case, cast, func, or_, text
from sqlalchemy import select as sa_select
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import Session, col, select

from app.catalog import service as catalog
from app.catalog.models import CatalogPart, PartOffer
from app.inventory.models import InventoryTransaction, PartReservation
from app.inventory.service._common import DIRECTION, ON_HAND_TYPES, changed, record
from app.inventory.service.stock import MAX_UNITS, _reason, _units
from app.orders import service as orders
from app.orders.models import LineItem, Order
from app.platform import config
from app.platform.auth import Principal
from app.platform.db import session_tenant_id
from app.platform.errors import Conflict, NotFound, ValidationFailed
from app.platform.models import utcnow
from app.platform.notifications import notify_staff
from app.platform.text import like_pattern

PART_STATUSES = ("in_stock", "low", "backorder")
PART_STATUS_WORDS = {"in_stock": "In stock", "low": "Low", "backorder": "Back-order"}
PART_SORTS = {
    "name": "name",
    "slot": "slot",
    "on_hand": "on hand",
    "reserved": "reserved",
    "available": "available",
    "price": "price",
}
RESERVATION_WORDS = {"ACTIVE": "Reserved", "CONSUMED": "Used in the build", "RELEASED": "Released"}
config.describe(catalog.PARTS_LOW_THRESHOLD_KEY, "low-stock threshold of PC parts")
NOTIFY_ONE_BY_ONE = 3  # more parts turning low in one change: one notification for all of them
PARTS_LINK = "/inventory/parts"
CATALOG_REFERENCE = "catalog"  # reference_id of the entries a price list, an offer edit or demo prices wrote


# --- reading ---------------------------------------------------------------------------------


def low_threshold(session: Session) -> int:
    return catalog.parts_low_threshold(session)


def part_status(available: int, threshold: int) -> str:
    """backorder (nothing available) | low (at most the threshold) | in_stock."""
    if available <= 0:
        return "backorder"
    if available <= threshold:
        return "low"
    return "in_stock"


def _reserved_subquery():
    return (
        select(PartReservation.part_offer_id, func.sum(PartReservation.quantity).label("n"))
        .where(PartReservation.status == "ACTIVE")
        .group_by(col(PartReservation.part_offer_id))
        .subquery()
    )


def _status_expr(available, threshold: int):
    return case((available <= 0, "backorder"), (available <= threshold, "low"), else_="in_stock")


@dataclass
class PartRow:
    offer_id: uuid.UUID
    part_id: uuid.UUID
    name: str
    manufacturer: str
    slot: str
    on_hand: int
    reserved: int
    available: int
    status: str  # in_stock | low | backorder
    active: bool  # for sale
    price: Decimal
    currency: str
    updated_at: datetime | None


@dataclass
class PartFilter:
    search: str = ""
    slot: str = ""  # "" (all) or one of catalog.SLOTS
    status: str = ""  # "" (all) or one of PART_STATUSES
    sort: str = "name"
    descending: bool = False
    page: int = 0
    page_size: int = 25


def _rows_query(threshold: int):
    reserved = _reserved_subquery()
    n = func.coalesce(reserved.c.n, 0)
    available = col(PartOffer.stock) - n
    status = _status_expr(available, threshold)
    q = (
        sa_select(PartOffer, col(CatalogPart.name), col(CatalogPart.manufacturer), n, available, status)
        .join(CatalogPart, col(CatalogPart.id) == PartOffer.part_id)
        .outerjoin(reserved, reserved.c.part_offer_id == PartOffer.id)
    )
    return q, n, available, status


def _row(offer: PartOffer, name: str, manufacturer: str | None, reserved: int, available: int, st: str) -> PartRow:
    return PartRow(
        offer_id=offer.id,
        part_id=offer.part_id,
        name=name,
        manufacturer=manufacturer or "",
        slot=offer.slot,
        on_hand=offer.stock,
        reserved=int(reserved),
        available=int(available),
        status=st,
        active=offer.active,
        price=offer.price,
        currency=offer.currency,
        updated_at=offer.updated_at,
    )


def list_parts(session: Session, f: PartFilter) -> tuple[list[PartRow], int]:
    """The shop's offers with on hand, reserved, available and status
    (GET /inventory/parts, the parts table): searched, filtered, sorted, paged."""
    if f.slot and f.slot not in catalog.SLOTS:
        raise ValidationFailed(f"unknown slot '{f.slot}' (one of {', '.join(catalog.SLOTS)})")
    if f.status and f.status not in PART_STATUSES:
        raise ValidationFailed("the status is in_stock, low or backorder")
    q, n, available, status = _rows_query(low_threshold(session))
    for word in f.search.split()[:6]:
        pattern = like_pattern(word)
        q = q.where(or_(col(CatalogPart.name).ilike(pattern), col(CatalogPart.manufacturer).ilike(pattern)))
    if f.slot:
        q = q.where(col(PartOffer.slot) == f.slot)
    if f.status:
        q = q.where(status == f.status)
    total = session.execute(sa_select(func.count()).select_from(q.subquery())).scalar_one()
    column = {
        "slot": col(PartOffer.slot),
        "on_hand": col(PartOffer.stock),
        "reserved": n,
        "available": available,
        "price": col(PartOffer.price),
    }.get(f.sort, func.lower(CatalogPart.name))
    q = q.order_by(column.desc() if f.descending else column.asc(), func.lower(CatalogPart.name), col(PartOffer.id))
    q = q.offset(max(0, f.page) * f.page_size).limit(f.page_size)
    return [_row(*r) for r in session.execute(q).all()], total


def get_part(session: Session, offer_id: uuid.UUID | str) -> PartRow:
    """One offer as the parts table shows it."""
    offer = _offer(session, offer_id)
    q, _, _, _ = _rows_query(low_threshold(session))
    found = session.execute(q.where(col(PartOffer.id) == offer.id)).first()
    if found is None:
        raise NotFound("the shop does not sell that part")
    return _row(*found)


def part_counts(session: Session) -> dict[str, int]:
    """Offers per status, and the units reserved for builds in all (`reserved`)."""
    reserved = _reserved_subquery()
    n = func.coalesce(reserved.c.n, 0)
    status = _status_expr(col(PartOffer.stock) - n, low_threshold(session))
    counts: dict[str, int] = dict.fromkeys(PART_STATUSES, 0)
    for st, count in session.exec(
        select(status, func.count())
        .select_from(PartOffer)
        .outerjoin(reserved, reserved.c.part_offer_id == PartOffer.id)
        .group_by(status)
    ).all():
        counts[st] = int(count)
    counts["reserved"] = int(
        session.exec(
            select(func.coalesce(func.sum(PartReservation.quantity), 0)).where(PartReservation.status == "ACTIVE")
        ).one()
    )
    return counts


def most_reserved(session: Session, limit: int = 8) -> list[PartRow]:
    """The parts builds hold most of (the chart: on hand against reserved)."""
    rows, _ = list_parts(session, PartFilter(sort="reserved", descending=True, page_size=limit))
    return [r for r in rows if r.reserved > 0]


def reserved_for(session: Session, offer_id: uuid.UUID) -> int:
    return int(
        session.exec(
            select(func.coalesce(func.sum(PartReservation.quantity), 0)).where(
                PartReservation.part_offer_id == offer_id, PartReservation.status == "ACTIVE"
            )
        ).one()
    )


def availability(session: Session, offer_id: uuid.UUID | str) -> int:
    """On hand - reserved (negative: that many are on back-order)."""
    offer = _offer(session, offer_id)
    return offer.stock - reserved_for(session, offer.id)


@dataclass
class ReservationRow:
    id: uuid.UUID
    order_id: uuid.UUID
    order_number: str
    quantity: int
    status: str  # ACTIVE | CONSUMED | RELEASED
    created_at: datetime
    closed_at: datetime | None


def reservations(session: Session, offer_id: uuid.UUID | str, *, limit: int = 50) -> list[ReservationRow]:
    """A part's reservations, the active ones first, then the newest."""
    offer = _offer(session, offer_id)
    rows = session.exec(
        select(PartReservation, Order.number)
        .join(Order, col(Order.id) == PartReservation.order_id)
        .where(PartReservation.part_offer_id == offer.id)
        .order_by(case((col(PartReservation.status) == "ACTIVE", 0), else_=1), col(PartReservation.created_at).desc())
        .limit(limit)
    ).all()
    return [
        ReservationRow(r.id, r.order_id, number, r.quantity, r.status, r.created_at, r.closed_at) for r, number in rows
    ]


def reservations_for_order(session: Session, order_id: uuid.UUID) -> list[PartReservation]:
    return list(
        session.exec(
            select(PartReservation)
            .where(PartReservation.order_id == order_id)
            .order_by(col(PartReservation.created_at), col(PartReservation.id))
        )
    )


def part_ledger(
    session: Session, offer_id: uuid.UUID | str, *, page: int = 0, page_size: int = 25
) -> tuple[list[tuple[InventoryTransaction, str | None]], int]:
    """A part's ledger entries, newest first, each with its order's number
    (GET /inventory/parts/{id}/transactions)."""
    offer = _offer(session, offer_id)
    where = InventoryTransaction.part_offer_id == offer.id
    total = session.exec(select(func.count()).select_from(InventoryTransaction).where(where)).one()
    rows = session.exec(
        select(InventoryTransaction, Order.number)
        .outerjoin(Order, col(Order.id) == InventoryTransaction.order_id)
        .where(where)
        .order_by(col(InventoryTransaction.created_at).desc(), col(InventoryTransaction.id).desc())
        .offset(max(0, page) * page_size)
        .limit(page_size)
    ).all()
    return [(t, number) for t, number in rows], total


def part_ledger_sum(session: Session, offer_id: uuid.UUID) -> int:
    """Σ IN - Σ OUT of the part's on-hand entries: always its units on hand."""
    signed = case(
        (col(InventoryTransaction.direction) == "IN", InventoryTransaction.quantity),
        else_=-InventoryTransaction.quantity,
    )
    return int(
        session.exec(
            select(func.coalesce(func.sum(signed), 0)).where(
                InventoryTransaction.part_offer_id == offer_id,
                col(InventoryTransaction.transaction_type).in_(ON_HAND_TYPES),
            )
        ).one()
    )


# --- helpers ------------------------------------------------------------------------------------


def _offer(session: Session, offer_id: uuid.UUID | str, *, lock: bool = False) -> PartOffer:
    try:
        ident = offer_id if isinstance(offer_id, uuid.UUID) else uuid.UUID(str(offer_id))
    except ValueError as exc:
        raise NotFound("the shop does not sell that part") from exc
    q = select(PartOffer).where(PartOffer.id == ident)
    if lock:
        q = q.with_for_update()
    offer = session.exec(q.execution_options(populate_existing=True)).first()
    if offer is None:
        raise NotFound("the shop does not sell that part")
    return offer


IN_CHUNK = 5000  # ids per IN (...) list: a price list may change 50,000 offers


def _names(session: Session, part_ids: list[uuid.UUID]) -> dict[uuid.UUID, str]:
    names: dict[uuid.UUID, str] = {}
    for start in range(0, len(part_ids), IN_CHUNK):
        chunk = part_ids[start : start + IN_CHUNK]
        names.update(session.exec(select(CatalogPart.id, CatalogPart.name).where(col(CatalogPart.id).in_(chunk))).all())
    return names


def _reserved_by_offer(session: Session, offer_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    held: dict[uuid.UUID, int] = {}
    for start in range(0, len(offer_ids), IN_CHUNK):
        chunk = offer_ids[start : start + IN_CHUNK]
        rows = session.exec(
            select(PartReservation.part_offer_id, func.sum(PartReservation.quantity))
            .where(col(PartReservation.part_offer_id).in_(chunk), PartReservation.status == "ACTIVE")
            .group_by(col(PartReservation.part_offer_id))
        ).all()
        held.update({offer_id: int(n) for offer_id, n in rows})
    return held


@dataclass
class _Low:
    name: str
    available: int
    on_hand: int
    reserved: int


def _crossed(before: int, after: int, threshold: int) -> bool:
    """The availability went from above the threshold to at or below it."""
    return before > threshold >= after


def _tell_low(session: Session, low: list[_Low], threshold: int) -> None:
    """Staff who may see inventory hear of parts that turned low (once per crossing)."""
    if not low:
        return
    if len(low) > NOTIFY_ONE_BY_ONE:
        names = ", ".join(p.name for p in low[:5]) + (f" and {len(low) - 5} more" if len(low) > 5 else "")
        notify_staff(
            session,
            kind="inventory.parts-low",
            severity="WARNING",
            permission="inventory.read",
            title=f"{len(low)} PC parts are running low",
            body=f"{names}: {threshold} or fewer available for new builds.",
            link=f"{PARTS_LINK}?status=low",
        )
        return
    for p in low:
        gone = p.available <= 0
        notify_staff(
            session,
            kind="inventory.parts-low",
            severity="WARNING",
            permission="inventory.read",
            title=f"{p.name} is {'on back-order' if gone else 'running low'}",
            body=f"{p.available} available ({p.on_hand} on hand, {p.reserved} reserved for builds); "
            f"low at {threshold} or fewer.",
            link=f"{PARTS_LINK}?search={quote(p.name[:60])}",
        )


def _changed(session: Session) -> None:
    """Open inventory pages reload and the builder re-reads availability, after commit."""
    changed(session)
    catalog.offers_changed(session)


# --- reservations, consumption, release ---------------------------------------------------------


def _opendb_id(li: LineItem) -> uuid.UUID | None:
    raw = (li.properties or {}).get("_opendbId")
    if not raw:
        return None
    try:
        return uuid.UUID(str(raw))
    except ValueError:
        return None


def reserve_for_order(session: Session, order_id: uuid.UUID | str) -> list[PartReservation]:
    """A builder order holds its parts: each line naming a part (its
    `_opendbId` property) reserves the line's quantity of the shop's offer
    (ACTIVE, one per line: asked again, nothing more is reserved) and writes
    RESERVED with the availability after it. A cancelled order reserves
    nothing (its cancel may have run first). Returns the new reservations."""
    order = orders.get_order(session, order_id, lock=True)
    if order.source != "builder" or order.status == "CANCELLED":
        return []
    held = {r.line_item_id for r in reservations_for_order(session, order.id)}
    wanted = [(li, pid) for li in orders.line_items(session, order.id) if (pid := _opendb_id(li)) and li.id not in held]
    if not wanted:
        return []
    offers = {
        o.part_id: o
        for o in session.exec(
            select(PartOffer)
            .where(col(PartOffer.part_id).in_([pid for _, pid in wanted]))
            .order_by(col(PartOffer.id))
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    }
    names = _names(session, [pid for _, pid in wanted])
    reserved = _reserved_by_offer(session, [o.id for o in offers.values()])
    threshold = low_threshold(session)
    tid = session_tenant_id(session)
    made: list[PartReservation] = []
    words: list[str] = []
    low: list[_Low] = []
    for li, pid in wanted:
        offer = offers.get(pid)
        name = names.get(pid, li.title)
        if offer is None:
            orders.log_event(
                session,
                order,
                "inventory.part-not-reserved",
                f"{li.quantity} × {name} not reserved: the shop has no offer for it any more",
                severity="WARNING",
            )
            continue
        reservation_id = session.execute(
            insert(PartReservation)
            .values(
                id=uuid.uuid4(),
                tenant_id=tid,
                order_id=order.id,
                line_item_id=li.id,
                part_offer_id=offer.id,
                part_id=pid,
                quantity=li.quantity,
                status="ACTIVE",
                created_at=utcnow(),
            )
            .on_conflict_do_nothing(index_elements=["tenant_id", "line_item_id"])
            .returning(col(PartReservation.id))
        ).scalar()
        if reservation_id is None:
            continue
        before = offer.stock - reserved.get(offer.id, 0)
        reserved[offer.id] = reserved.get(offer.id, 0) + li.quantity
        after = offer.stock - reserved[offer.id]
        record(
            session,
            "RESERVED",
            li.quantity,
            stock_after=after,
            reference_type="LINE_ITEM",
            reference_id=li.id,
            part_offer_id=offer.id,
            sku=name,
            order_id=order.id,
            line_item_id=li.id,
            reason=f"build of order {order.number}",
        )
        reservation = session.get(PartReservation, reservation_id)
        if reservation is not None:
            made.append(reservation)
        words.append(f"{li.quantity} × {name}" + (" (back-order)" if after < 0 else ""))
        if _crossed(before, after, threshold):
            low.append(_Low(name, after, offer.stock, reserved[offer.id]))
    if words:
        orders.log_event(
            session, order, "inventory.parts-reserved", "Parts reserved for the build: " + "; ".join(words)
        )
        _tell_low(session, low, threshold)
        _changed(session)
    return made


def consume_for_build(session: Session, order_id: uuid.UUID | str) -> int:
    """The order's build completed: its active reservations are CONSUMED and
    the units leave the shelf (CONSUMED, on hand OUT; one conditional UPDATE
    each that never goes below zero: when fewer are on the books than were
    reserved, it takes what is there and the entry's reason says so).
    Returns the units taken off the shelf."""
    order = orders.get_order(session, order_id, lock=True)
    if order.source == "builder":
        reserve_for_order(session, order.id)  # its order.created handler has not run yet: hold them first
    active = list(
        session.exec(
            select(PartReservation)
            .where(PartReservation.order_id == order.id, PartReservation.status == "ACTIVE")
            .order_by(col(PartReservation.part_offer_id), col(PartReservation.id))
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    )
    if not active:
        return 0
    offers = {
        o.id: o
        for o in session.exec(
            select(PartOffer)
            .where(col(PartOffer.id).in_({r.part_offer_id for r in active}))
            .order_by(col(PartOffer.id))
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    }
    names = _names(session, [r.part_id for r in active])
    now = utcnow()
    taken_total = 0
    words: list[str] = []
    short: list[str] = []
    for r in active:
        offer = offers[r.part_offer_id]
        name = names.get(r.part_id, "a part")
        before = offer.stock
        after = int(
            session.execute(
                text(
                    "UPDATE part_offers SET stock = GREATEST(stock - :q, 0), updated_at = now() "
                    "WHERE id = :id RETURNING stock"
                ),
                {"q": r.quantity, "id": offer.id},
            ).scalar_one()
        )
        offer.stock = after
        taken = before - after
        r.status, r.closed_at = "CONSUMED", now
        session.add(r)
        reason = f"build of order {order.number} completed"
        if taken < r.quantity:
            missing = f"only {taken} of {r.quantity} were on the books"
            reason += f"; {missing}"
            short.append(f"{name}: {missing}")
        if taken > 0:
            record(
                session,
                "CONSUMED",
                taken,
                stock_after=after,
                reference_type="LINE_ITEM",
                reference_id=r.line_item_id,
                part_offer_id=offer.id,
                sku=name,
                order_id=order.id,
                line_item_id=r.line_item_id,
                reason=reason,
            )
        taken_total += taken
        words.append(f"{r.quantity} × {name}")
    orders.log_event(session, order, "inventory.parts-consumed", "Parts used by the build: " + "; ".join(words))
    if short:
        orders.log_event(
            session,
            order,
            "inventory.parts-short",
            "Fewer parts were on the books than the build used (count them): " + "; ".join(short),
            severity="WARNING",
        )
    _changed(session)
    return taken_total


@orders.on_cancel
def release_for_order(session: Session, order: Order, actor: Principal | None) -> None:
    """A cancelled order's parts are free again: ACTIVE → RELEASED, with a
    RELEASED entry (the availability after it). Parts its completed build
    already used stay used (a cancelled PC is taken apart and counted in by hand)."""
    active = list(
        session.exec(
            select(PartReservation)
            .where(PartReservation.order_id == order.id, PartReservation.status == "ACTIVE")
            .order_by(col(PartReservation.part_offer_id), col(PartReservation.id))
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    )
    if not active:
        return
    offer_ids = sorted({r.part_offer_id for r in active})
    offers = {
        o.id: o
        for o in session.exec(
            select(PartOffer)
            .where(col(PartOffer.id).in_(offer_ids))
            .order_by(col(PartOffer.id))
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    }
    reserved = _reserved_by_offer(session, offer_ids)
    names = _names(session, [r.part_id for r in active])
    now = utcnow()
    words: list[str] = []
    for r in active:
        name = names.get(r.part_id, "a part")
        r.status, r.closed_at = "RELEASED", now
        session.add(r)
        reserved[r.part_offer_id] = reserved.get(r.part_offer_id, 0) - r.quantity
        offer = offers.get(r.part_offer_id)
        after = (offer.stock if offer else 0) - reserved[r.part_offer_id]
        record(
            session,
            "RELEASED",
            r.quantity,
            stock_after=after,
            reference_type="ORDER",
            reference_id=order.id,
            part_offer_id=r.part_offer_id,
            sku=name,
            order_id=order.id,
            line_item_id=r.line_item_id,
            reason=f"order {order.number} cancelled",
            actor=actor,
        )
        words.append(f"{r.quantity} × {name}")
    orders.log_event(
        session, order, "inventory.parts-released", "Parts free again (order cancelled): " + "; ".join(words)
    )
    _changed(session)


# --- by hand ------------------------------------------------------------------------------------


def adjust_part(
    session: Session,
    offer_id: uuid.UUID | str,
    quantity: int,
    direction: str,
    reason: str,
    *,
    actor: Principal,
) -> InventoryTransaction:
    """Receive (IN) or remove (OUT) units of a part by hand, with a reason
    (ADJUSTMENT_IN / ADJUSTMENT_OUT). Removing more than are on hand is
    refused (Conflict); reserved units may be removed (the part goes to back-order)."""
    actor.require("inventory.write")
    if direction not in ("IN", "OUT"):
        raise ValidationFailed("the direction is IN or OUT", details={"fields": {"direction": "Choose in or out."}})
    quantity, reason = _units(quantity, "the quantity"), _reason(reason)
    offer = _offer(session, offer_id, lock=True)
    name = _names(session, [offer.part_id]).get(offer.part_id, "the part")
    delta = quantity if direction == "IN" else -quantity
    row = session.execute(
        text(
            "UPDATE part_offers SET stock = stock + :d, updated_at = now() "
            "WHERE id = :id AND stock + :d >= 0 AND stock + :d <= :max RETURNING stock"
        ),
        {"d": delta, "id": offer.id, "max": MAX_UNITS * 10},
    ).first()
    if row is None:
        if direction == "OUT":
            raise Conflict(
                f"only {offer.stock} of {name} are on hand; {quantity} cannot be removed",
                code="not_enough_stock",
                details={"onHand": offer.stock},
            )
        raise ValidationFailed(
            f"at most {MAX_UNITS * 10:,} units of a part are kept on hand",
            details={"fields": {"quantity": "Too many units."}},
        )
    before, after = offer.stock, int(row[0])
    offer.stock = after
    kind = "ADJUSTMENT_IN" if direction == "IN" else "ADJUSTMENT_OUT"
    entry = record(
        session,
        kind,
        quantity,
        stock_after=after,
        reference_type="MANUAL",
        part_offer_id=offer.id,
        sku=name,
        reason=reason,
        actor=actor,
    )
    orders.log_event(
        session,
        None,
        f"inventory.part-{'received' if direction == 'IN' else 'removed'}",
        f"{quantity} × {name} {'received' if direction == 'IN' else 'removed'} by hand ({reason}); {after} on hand",
        actor=actor,
    )
    reserved = reserved_for(session, offer.id)
    threshold = low_threshold(session)
    if _crossed(before - reserved, after - reserved, threshold):
        _tell_low(session, [_Low(name, after - reserved, after, reserved)], threshold)
    _changed(session)
    return entry


def set_low_threshold(session: Session, value: int, *, actor: Principal) -> int:
    """The shop's low-stock threshold for parts ("2 left" in the builder, low here)."""
    actor.require("inventory.write")
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= catalog.MAX_PARTS_LOW_THRESHOLD:
        raise ValidationFailed(
            f"the threshold is a whole number from 0 to {catalog.MAX_PARTS_LOW_THRESHOLD}",
            details={"fields": {"threshold": "A whole number, 0 or more."}},
        )
    if value != low_threshold(session):
        config.set_value(session, catalog.PARTS_LOW_THRESHOLD_KEY, value, actor_user_id=actor.user_id)
        orders.log_event(
            session, None, "inventory.parts-threshold", f"PC parts are low at {value} or fewer available", actor=actor
        )
        _changed(session)
    return value


# --- hooks into the catalog -------------------------------------------------------------------


@catalog.on_stock_change
def record_offer_stock(
    session: Session, changes: list[catalog.StockChange], reason: str, actor: Principal | None
) -> None:
    """A price list, an offer edit or the demo prices changed offers' stock:
    one ADJUSTMENT_IN / ADJUSTMENT_OUT each, in the same transaction (rows
    written at once: a price list may change thousands)."""
    names = _names(session, [c.part_id for c in changes])
    reserved = _reserved_by_offer(session, [c.offer_id for c in changes])
    threshold = low_threshold(session)
    tid, now = session_tenant_id(session), utcnow()
    entries = []
    low: list[_Low] = []
    for c in changes:
        kind = "ADJUSTMENT_IN" if c.after > c.before else "ADJUSTMENT_OUT"
        name = names.get(c.part_id, "")
        entries.append(
            {
                "id": uuid.uuid4(),
                "tenant_id": tid,
                "product_mapping_id": None,
                "part_offer_id": c.offer_id,
                "sku": name[:100],
                "transaction_type": kind,
                "quantity": abs(c.after - c.before),
                "direction": DIRECTION[kind],
                "reference_type": "MANUAL",
                "reference_id": CATALOG_REFERENCE,
                "order_id": None,
                "line_item_id": None,
                "reason": (reason or "offer edited")[:500],
                "stock_after": c.after,
                "actor_user_id": actor.user_id if actor else None,
                "created_at": now,
            }
        )
        held = reserved.get(c.offer_id, 0)
        if _crossed(c.before - held, c.after - held, threshold):
            low.append(_Low(name, c.after - held, c.after, held))
    for start in range(0, len(entries), 1000):
        session.execute(insert(InventoryTransaction), entries[start : start + 1000])
    _tell_low(session, low, threshold)
    changed(session)


@catalog.reserved_source
def reserved_in_slot(session: Session, slot: str) -> dict[str, int]:
    """What builds hold of a slot's parts (the builder shows on hand - this)."""
    rows = session.exec(
        select(cast(PartReservation.part_id, String), func.sum(PartReservation.quantity))
        .join(PartOffer, col(PartOffer.id) == PartReservation.part_offer_id)
        .where(PartReservation.status == "ACTIVE", PartOffer.slot == slot)
        .group_by(col(PartReservation.part_id))
    ).all()
    return {pid: int(n) for pid, n in rows}
