"""Order operations: the one place order rules live. Pages, the REST API,
webhooks and jobs all call these functions with a tenant session."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Date, cast, func, or_
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import Session, col, select

from app.orders import machine
from app.orders.inputs import LineInput, OrderInput
from app.orders.models import LineItem, Order
from app.platform import live, numbering, retry
from app.platform.auth import Principal
from app.platform.db import get_or_404, session_tenant_id
from app.platform.errors import Conflict, DomainError, InvalidTransition, ValidationFailed
from app.platform.events import publish
from app.platform.formatting import ShopFormat, of_tenant
from app.platform.models import EventLog, utcnow
from app.platform.text import like_pattern

SOURCE = "order-service"

# What must hold before fulfillment may move to a gated step (ready, packaging,
# shipped), whichever door asks (page, API, job). Each gate returns what is
# missing (empty = pass). The orders domain keeps the printed-parts gate; a
# domain that produces an order's goods adds its own (builds: the PC's build).
FulfillmentGate = Callable[[Session, Order, str], list[str]]
FULFILLMENT_GATES: list[FulfillmentGate] = []
GATED_STEPS = ("ready", "packaging", "shipped")

# Work a producing domain stops, in the same transaction, when an order is
# cancelled (builds: the PC's build leaves the workbench).
CancelHook = Callable[[Session, Order, Principal | None], None]
CANCEL_HOOKS: list[CancelHook] = []


def shown_properties(properties: dict | None) -> list[tuple[str, str]]:
    """A line's properties as people read them: what the customer gave
    ("Engraving: Anna"). Keys starting with "_" are the shop's own references
    (Shopify's convention for hidden line properties) and stay out of sight."""
    return [(str(k), str(v)) for k, v in (properties or {}).items() if not str(k).startswith("_")]


def fulfillment_gate(gate: FulfillmentGate) -> FulfillmentGate:
    FULFILLMENT_GATES.append(gate)
    return gate


def on_cancel(hook: CancelHook) -> CancelHook:
    CANCEL_HOOKS.append(hook)
    return hook


def fulfillment_problems(session: Session, order: Order, target: str) -> list[str]:
    """What stops `order` from moving to fulfillment step `target` (empty: nothing)."""
    if target not in GATED_STEPS:
        return []
    return [problem for gate in FULFILLMENT_GATES for problem in gate(session, order, target)]


@fulfillment_gate
def _parts_printed(session: Session, order: Order, target: str) -> list[str]:
    """A print order is produced when every part is printed."""
    outstanding = order.total_parts - order.completed_parts if order.total_parts else 0
    return [f"{outstanding} of {order.total_parts} printed part(s) not printed yet"] if outstanding > 0 else []


# --- event log --------------------------------------------------------------------------


def log_event(
    session: Session,
    order: Order | None,
    event_type: str,
    message: str,
    *,
    severity: str = "INFO",
    actor: Principal | None = None,
    meta: dict | None = None,
) -> EventLog:
    """Every order change writes one of these, and tells open pages after commit."""
    live.notify_after_commit(session, "orders", orderId=str(order.id) if order else None, eventType=event_type)
    entry = EventLog(
        tenant_id=session_tenant_id(session),
        event_type=event_type,
        severity=severity,
        message=message[:2000],
        order_id=order.id if order else None,
        actor_user_id=actor.user_id if actor else None,
        meta=meta or {},
    )
    session.add(entry)
    return entry


def _status(value: str) -> str:
    return machine.ORDER_STATUS.label(value)


def _fulfillment(value: str) -> str:
    return machine.FULFILLMENT_STATUS.label(value)


def _actor_name(actor: Principal | None) -> str:
    return actor.display_name if actor else "system"


# --- reading -----------------------------------------------------------------------------


def get_order(session: Session, order_id: uuid.UUID | str, *, lock: bool = False) -> Order:
    return get_or_404(session, Order, order_id, "order", lock=lock)


def line_items(session: Session, order_id: uuid.UUID) -> list[LineItem]:
    return list(session.exec(select(LineItem).where(LineItem.order_id == order_id).order_by(col(LineItem.position))))


def timeline(session: Session, order_id: uuid.UUID) -> list[EventLog]:
    return list(session.exec(select(EventLog).where(EventLog.order_id == order_id).order_by(col(EventLog.created_at))))


@dataclass
class OrderFilter:
    search: str = ""
    status: str = ""
    fulfillment_status: str = ""
    source: str = ""
    date_from: date | None = None
    date_to: date | None = None
    sort: str = "placed_at"  # placed_at | number | customer | total | status
    descending: bool = True
    page: int = 0
    page_size: int = 25
    ids: list[str] = field(default_factory=list)  # only these orders (the ticked rows of a bulk export)
    timezone: str = "UTC"  # the shop's: a day filter means the shop's day


SORTS = {
    "placed_at": Order.placed_at,
    "number": Order.number,
    "customer": Order.customer_name,
    "total": Order.total,
    "status": Order.status,
    "fulfillment": Order.fulfillment_status,
}


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _as_ids(values: list[str]) -> list[uuid.UUID]:
    out = []
    for v in values:
        try:
            out.append(uuid.UUID(str(v)))
        except ValueError:
            continue  # a mangled id matches nothing
    return out


def _filtered(q, f: OrderFilter):
    if f.ids:
        q = q.where(col(Order.id).in_(_as_ids(f.ids)))
    if f.search.strip():
        like = like_pattern(f.search.strip())
        q = q.where(
            or_(
                col(Order.number).ilike(like),
                col(Order.customer_name).ilike(like),
                col(Order.customer_email).ilike(like),
                col(Order.ship_city).ilike(like),
                col(Order.id).in_(select(LineItem.order_id).where(col(LineItem.sku).ilike(like))),
            )
        )
    if f.status:
        q = q.where(Order.status == f.status)
    if f.fulfillment_status:
        q = q.where(Order.fulfillment_status == f.fulfillment_status)
    if f.source:
        q = q.where(Order.source == f.source)
    zone = _zone(f.timezone)
    if f.date_from:
        q = q.where(Order.placed_at >= datetime.combine(f.date_from, datetime.min.time(), zone))
    if f.date_to:
        q = q.where(Order.placed_at < datetime.combine(f.date_to + timedelta(days=1), datetime.min.time(), zone))
    return q


def list_orders(session: Session, f: OrderFilter) -> tuple[list[Order], int]:
    total = session.exec(_filtered(select(func.count()).select_from(Order), f)).one()
    sort_col = SORTS.get(f.sort, col(Order.placed_at))
    q = _filtered(select(Order), f).order_by(
        sort_col.desc() if f.descending else sort_col.asc(), col(Order.number).desc()
    )
    rows = list(session.exec(q.offset(max(0, f.page) * f.page_size).limit(f.page_size)))
    return rows, total


def status_counts(session: Session, f: OrderFilter | None = None) -> dict[str, int]:
    q = select(Order.status, func.count()).group_by(Order.status)
    if f is not None:
        q = _filtered(
            q,
            OrderFilter(
                search=f.search,
                source=f.source,
                date_from=f.date_from,
                date_to=f.date_to,
                fulfillment_status=f.fulfillment_status,
                timezone=f.timezone,
            ),
        )
    found = dict(session.exec(q).all())
    return {s: found.get(s, 0) for s in machine.ORDER_STATUSES}


def orders_per_day(session: Session, days: int = 30, timezone: str = "UTC") -> list[tuple[date, int]]:
    """Orders placed per day over the last `days` days, days as the shop counts them."""
    zone = _zone(timezone)
    start = (utcnow().astimezone(zone) - timedelta(days=days - 1)).date()
    day = cast(func.timezone(str(zone.key), Order.placed_at), Date)
    rows = dict(session.exec(select(day, func.count()).where(day >= start).group_by(day)).all())
    return [(start + timedelta(days=i), rows.get(start + timedelta(days=i), 0)) for i in range(days)]


# --- creating ------------------------------------------------------------------------------


def _next_number(session: Session, prefix: str) -> str:
    """M-00001, B-00001, …: the shop's manual or builder order numbering
    (platform numbering: race-free, never given twice, prefix set by the shop)."""
    return numbering.reserve(session, "order_manual" if prefix == "M" else "order_builder")


def _validate(data: OrderInput) -> None:
    if data.source not in machine.SOURCES:
        raise ValidationFailed(f"unknown order source '{data.source}'")
    if data.source != "shopify":
        if not data.lines:
            raise ValidationFailed("an order needs at least one line item")
        if not data.customer_name.strip():
            raise ValidationFailed("an order needs the customer's name")
        for i, line in enumerate(data.lines, 1):
            if line.quantity < 1:
                raise ValidationFailed(f"line {i}: quantity must be at least 1")
            if not line.title.strip() and not line.sku.strip():
                raise ValidationFailed(f"line {i}: give a SKU or a title")
            if line.unit_price < 0:
                raise ValidationFailed(f"line {i}: the price cannot be negative")
    if data.ship_country_code and len(data.ship_country_code) != 2:
        raise ValidationFailed("the country code has two letters (e.g. NL)")


def _line_problems(lines: list[LineInput]) -> list[str]:
    return [
        f"Line {i} ({line.title or 'untitled'}) has no SKU, so nothing can be produced for it."
        for i, line in enumerate(lines, 1)
        if not line.sku
    ]


def _order_fields(data: OrderInput) -> dict:
    fields = {
        k: getattr(data, k)
        for k in (
            "customer_name",
            "customer_email",
            "customer_phone",
            "ship_name",
            "ship_company",
            "ship_street",
            "ship_house_number",
            "ship_address2",
            "ship_city",
            "ship_postal_code",
            "ship_country_code",
            "delivery_type",
            "service_point",
            "currency",
            "subtotal",
            "shipping_total",
            "total",
            "note",
            "financial_status",
            "source_updated_at",
        )
    }
    fields["ship_country_code"] = (fields["ship_country_code"] or "").upper()
    return fields


def create_order(
    session: Session, data: OrderInput, *, actor: Principal | None = None, correlation_id: str | None = None
) -> tuple[Order, bool]:
    """Create an order with its lines; returns (order, created). A Shopify
    order that already exists (same Shopify id) is returned unchanged, so
    replays and races create exactly one."""
    _validate(data)
    tid = session_tenant_id(session)
    if data.source == "shopify":
        if not data.shopify_order_id:
            raise ValidationFailed("a Shopify order needs its id")
        number = data.name or f"#{data.shopify_order_id}"
    else:
        number = _next_number(session, "M" if data.source == "manual" else "B")
    order_id = uuid.uuid4()
    problems = list(data.problems) + _line_problems(data.lines)
    if not data.lines and not any("line items" in p for p in problems):
        problems.append("This order has no line items.")
    order = session.scalars(
        insert(Order)
        .values(
            id=order_id,
            tenant_id=tid,
            number=number,
            source=data.source,
            shopify_order_id=data.shopify_order_id,
            shopify_gid=data.shopify_gid,
            name=data.name,
            placed_at=data.placed_at or utcnow(),
            problems=problems,
            created_at=utcnow(),
            updated_at=utcnow(),
            **_order_fields(data),
        )
        .on_conflict_do_nothing(index_elements=["tenant_id", "shopify_order_id"])
        .returning(Order)
    ).first()
    if order is None:  # this Shopify order is already here (a replay or a race): one order
        existing = session.exec(select(Order).where(Order.shopify_order_id == data.shopify_order_id)).one()
        return existing, False
    items = [
        LineItem(
            tenant_id=tid,
            order_id=order.id,
            position=pos,
            sku=line.sku,
            title=line.title[:300],
            variant_title=line.variant_title[:200],
            quantity=line.quantity,
            unit_price=line.unit_price,
            properties=line.properties,
            shopify_line_item_id=line.shopify_line_item_id,
            problem="no SKU" if not line.sku else "",
        )
        for pos, line in enumerate(data.lines)
    ]
    session.add_all(items)
    log_event(
        session,
        order,
        "order.created",
        f"Order {order.number} received from {machine.SOURCE.label(data.source)} ({len(data.lines)} line(s), "
        f"{of_tenant(tid).money(order.total, order.currency)})",
        actor=actor,
    )
    for p in problems:
        log_event(session, order, "order.problem", p, severity="WARNING")
    publish(
        session,
        "order.created",
        {
            "orderId": str(order.id),
            "orderNumber": order.number,
            "source": order.source,
            "lineItems": [{"lineItemId": str(li.id), "productSku": li.sku, "quantity": li.quantity} for li in items],
        },
        source=SOURCE,
        correlation_id=correlation_id,
    )
    if data.cancelled_at is not None:
        cancel(session, order.id, actor=None, reason=data.cancel_reason or "other", via="shopify")
    return order, True


def update_from_shopify(session: Session, data: OrderInput) -> tuple[Order, str]:
    """orders/updated: refresh customer, address and money fields unless the
    payload is older than what we have; create the order if we missed it."""
    order = session.exec(select(Order).where(Order.shopify_order_id == data.shopify_order_id).with_for_update()).first()
    if order is None:
        order, _ = create_order(session, data)
        return order, "created"
    if order.source_updated_at and data.source_updated_at and data.source_updated_at <= order.source_updated_at:
        return order, "stale"
    changed = []
    for k, v in _order_fields(data).items():
        if k == "source_updated_at" or (v in (None, "") and k != "note"):
            continue
        if getattr(order, k) != v:
            changed.append(k)
            setattr(order, k, v)
    order.source_updated_at = data.source_updated_at or order.source_updated_at
    order.updated_at = utcnow()
    session.add(order)
    if changed:
        log_event(session, order, "order.updated", f"Shopify updated {', '.join(sorted(changed))}")
    if data.cancelled_at is not None and order.status != "CANCELLED":
        cancel(session, order.id, actor=None, reason=data.cancel_reason or "other", via="shopify")
        return order, "cancelled"
    return order, "updated" if changed else "unchanged"


# --- status ------------------------------------------------------------------------------------


def change_status(
    session: Session, order: Order, target: str, *, actor: Principal | None = None, reason: str = ""
) -> Order:
    """Order status moves, one rule table (machine.ORDER_TRANSITIONS)."""
    if target not in machine.ORDER_STATUSES:
        raise ValidationFailed(f"unknown order status '{target}'")
    if order.status == target:
        return order
    machine.check_status(order.number, order.status, target)
    previous = order.status
    order.status = target
    order.updated_at = utcnow()
    if target == "COMPLETED":
        order.completed_at = order.completed_at or utcnow()
    session.add(order)
    severity = (
        "ERROR" if target == "FAILED" else "WARNING" if target in ("PARTIALLY_COMPLETED", "CANCELLED") else "INFO"
    )
    log_event(
        session,
        order,
        "order.status-changed",
        f"Status {_status(previous)} → {_status(target)}" + (f" ({reason})" if reason else ""),
        severity=severity,
        actor=actor,
        meta={"previousStatus": previous, "newStatus": target},
    )
    return order


def revive(
    session: Session, order: Order, *, actor: Principal | None = None, reason: str = "", meta: dict | None = None
) -> bool:
    """Order revival (seed): a FAILED / PARTIALLY_COMPLETED / CANCELLED order
    goes back to PROCESSING because production resumed. True when it moved."""
    if order.status not in machine.REVIVABLE or order.fulfillment_status in machine.FULFILLED:
        return False
    previous = order.status
    order.status = "PROCESSING"
    order.updated_at = utcnow()
    if previous == "CANCELLED":
        order.cancelled_at, order.cancel_reason = None, ""
        if order.fulfillment_status == "cancelled":  # production resumed: back to the start of fulfillment
            order.fulfillment_status = "unfulfilled"
    session.add(order)
    log_event(
        session,
        order,
        "order.revived",
        f"Status {_status(previous)} → {_status('PROCESSING')}" + (f" ({reason})" if reason else ""),
        actor=actor,
        meta={"previousStatus": previous, "newStatus": "PROCESSING", **(meta or {})},
    )
    publish(
        session,
        "order.revived",
        {"orderId": str(order.id), "previousStatus": previous, "newStatus": "PROCESSING", **(meta or {})},
        source=SOURCE,
    )
    return True


def add_problem(session: Session, order: Order, problem: str) -> bool:
    """Show a problem on the order (once) and in its timeline."""
    if problem in (order.problems or []):
        return False
    order.problems = [*(order.problems or []), problem]
    order.updated_at = utcnow()
    session.add(order)
    log_event(session, order, "order.problem", problem, severity="WARNING")
    return True


def set_fulfillment_by_production(
    session: Session, order: Order, target: str, *, actor: Principal | None = None, reason: str = ""
) -> Order:
    """Builds and print orchestration move fulfillment up to `ready`."""
    if order.fulfillment_status == target:
        return order
    if target not in machine.PRODUCTION_FULFILLMENT.get(order.fulfillment_status, set()):
        raise InvalidTransition(f"fulfillment cannot go from {order.fulfillment_status} to {target} by production")
    return _set_fulfillment(session, order, target, actor=actor, reason=reason)


def _set_fulfillment(
    session: Session, order: Order, target: str, *, actor: Principal | None, reason: str = ""
) -> Order:
    previous = order.fulfillment_status
    order.fulfillment_status = target
    order.updated_at = utcnow()
    session.add(order)
    log_event(
        session,
        order,
        "order.fulfillment-changed",
        f"Fulfillment {_fulfillment(previous)} → {_fulfillment(target)}"
        + (f" by {_actor_name(actor)}" if actor else "")
        + (f" ({reason})" if reason else ""),
        actor=actor,
        meta={"previousStatus": previous, "newStatus": target},
    )
    return order


@dataclass
class Tracking:
    number: str = ""
    url: str = ""
    carrier: str = ""


def advance_fulfillment(
    session: Session,
    order_id: uuid.UUID | str,
    target: str,
    *,
    actor: Principal | None,
    tracking: Tracking | None = None,
) -> Order:
    """Staff steps: (unfulfilled → ready when nothing is left to produce),
    ready → packaging (gated) → shipped → completed."""
    order = get_order(session, order_id, lock=True)
    if target not in machine.FULFILLMENT_STATUSES:
        raise ValidationFailed(f"unknown fulfillment status '{target}'")
    if order.status == "CANCELLED":
        raise InvalidTransition(f"order {order.number} is cancelled")
    current = order.fulfillment_status
    if current == target:
        return order
    if target == "ready" and current == "unfulfilled":
        _check_gates(session, order, "ready")
        return _set_fulfillment(session, order, "ready", actor=actor, reason="nothing left to produce")
    step = machine.next_staff_step(current)
    if step != target:
        allowed = f"the next step is {step}" if step else "no staff step is possible now"
        raise InvalidTransition(f"fulfillment cannot go from {current} to {target}; {allowed}")
    _check_gates(session, order, target)
    if target == "shipped":
        _shipped(session, order, tracking)
    _set_fulfillment(session, order, target, actor=actor)
    if target == "completed":
        _delivered(session, order, actor)
    publish(session, "order.fulfillment-changed", {"orderId": str(order.id), "newStatus": target}, source=SOURCE)
    return order


def _push_tracking(session: Session, order: Order) -> None:
    """Shopify hears of the order's tracking: a fulfillment with it, or (once
    one exists) its tracking updated (the FULFILLMENT retry operation)."""
    if order.source == "shopify" and order.shopify_order_id:
        retry.schedule(
            session,
            "FULFILLMENT",
            order_id=order.id,
            payload={
                "trackingNumber": order.tracking_number,
                "trackingUrl": order.tracking_url,
                "carrier": order.tracking_carrier,
            },
        )


def _copy_tracking(order: Order, tracking: Tracking | None) -> bool:
    """Take what `tracking` gives (blank fields keep what the order has); True when something changed."""
    if tracking is None:
        return False
    before = (order.tracking_number, order.tracking_url, order.tracking_carrier)
    order.tracking_number = tracking.number.strip()[:100] or order.tracking_number
    order.tracking_url = tracking.url.strip()[:500] or order.tracking_url
    order.tracking_carrier = tracking.carrier.strip()[:100] or order.tracking_carrier
    return (order.tracking_number, order.tracking_url, order.tracking_carrier) != before


def _shipped(session: Session, order: Order, tracking: Tracking | None) -> None:
    _copy_tracking(order, tracking)
    order.shipped_at = utcnow()
    _push_tracking(session, order)


def _delivered(session: Session, order: Order, actor: Principal | None) -> None:
    """Delivered: what was still open on a line (nothing to print) is done, and the order is complete."""
    for li in line_items(session, order.id):
        if li.status == "PENDING":
            li.status = "COMPLETED"
            session.add(li)
    if order.status != "COMPLETED" and (
        order.status == "PENDING" or machine.can_change_status(order.status, "COMPLETED")
    ):
        change_status(session, order, "COMPLETED", actor=actor, reason="delivered")


def set_tracking(session: Session, order: Order, tracking: Tracking, *, reason: str = "") -> bool:
    """UpdateTracking (seed 003): the order's tracking number, link and carrier
    follow its shipment. Once shipped, Shopify's fulfillment follows too.
    True when something changed."""
    if not _copy_tracking(order, tracking):
        return False
    order.updated_at = utcnow()
    session.add(order)
    log_event(
        session,
        order,
        "order.tracking-changed",
        f"Tracking {order.tracking_carrier} {order.tracking_number}".strip() + (f" ({reason})" if reason else ""),
        meta={"trackingNumber": order.tracking_number, "trackingUrl": order.tracking_url},
    )
    if order.fulfillment_status in machine.FULFILLED:
        _push_tracking(session, order)
    return True


def ship_by_carrier(session: Session, order: Order, tracking: Tracking, *, reason: str) -> bool:
    """The carrier has the parcel: fulfillment ready/packaging → shipped, and
    Shopify gets its fulfillment with tracking. A fact, not a staff step, so
    packaging may be skipped; it is refused only for an order that is
    cancelled or not produced (then the order shows the problem instead).
    True when it moved."""
    if order.status == "CANCELLED" or order.fulfillment_status in machine.FULFILLED:
        return False
    if order.fulfillment_status not in ("ready", "packaging"):
        add_problem(
            session,
            order,
            "The carrier has this order's parcel, but the order is still "
            + _fulfillment(order.fulfillment_status).lower(),
        )
        return False
    _shipped(session, order, tracking)
    _set_fulfillment(session, order, "shipped", actor=None, reason=reason)
    publish(session, "order.fulfillment-changed", {"orderId": str(order.id), "newStatus": "shipped"}, source=SOURCE)
    return True


def deliver_by_carrier(session: Session, order: Order, *, reason: str) -> bool:
    """The carrier delivered the parcel: fulfillment shipped → completed. True when it moved."""
    if order.fulfillment_status != "shipped":
        return False
    _set_fulfillment(session, order, "completed", actor=None, reason=reason)
    _delivered(session, order, None)
    publish(session, "order.fulfillment-changed", {"orderId": str(order.id), "newStatus": "completed"}, source=SOURCE)
    return True


STEP_WORDS = {"ready": "mark it ready", "packaging": "start packaging", "shipped": "ship it"}
# What the order page says above what stops the next step.
STEP_BANNERS = {"ready": "Not ready yet", "packaging": "Before packaging", "shipped": "Before shipping"}


def _check_gates(session: Session, order: Order, target: str) -> None:
    missing = fulfillment_problems(session, order, target)
    if missing:
        raise InvalidTransition(
            f"cannot {STEP_WORDS.get(target, target)} yet: " + "; ".join(missing), details={"missing": missing}
        )


def next_step_problems(session: Session, order: Order) -> tuple[str, list[str]]:
    """The fulfillment step staff take next and what still stops it ("" when
    there is none: cancelled, produced by the workbench, or done)."""
    if order.status == "CANCELLED":
        return "", []
    if order.fulfillment_status in ("unfulfilled", "building", "testing"):
        target = "ready"  # by hand, or by its production (the build, the last print)
    else:
        target = machine.next_staff_step(order.fulfillment_status) or ""
    return target, fulfillment_problems(session, order, target) if target else []


def allowed_actions(session: Session, order: Order, principal: Principal) -> list[str]:
    """What the order page offers this user now: a gated step only when its
    gates pass (a PC order is made ready by its build, never by hand)."""
    if not principal.can("orders.write"):
        return []
    actions = []
    if order.status != "CANCELLED":
        if order.fulfillment_status == "unfulfilled" and not fulfillment_problems(session, order, "ready"):
            actions.append("ready")
        step = machine.next_staff_step(order.fulfillment_status)
        if step:
            actions.append(step)
    if machine.can_cancel(order.status, order.fulfillment_status) and order.status != "CANCELLED":
        actions.append("cancel")
    return actions


# --- cancellation ----------------------------------------------------------------------------------


def cancel(
    session: Session, order_id: uuid.UUID | str, *, actor: Principal | None, reason: str = "other", via: str = "staff"
) -> Order:
    """Cancel an order that has not shipped. Idempotent: cancelling a
    cancelled order changes nothing and answers the same."""
    order = get_order(session, order_id, lock=True)
    if order.status == "CANCELLED":
        return order
    if not machine.can_cancel(order.status, order.fulfillment_status):
        raise Conflict(f"order {order.number} is already {order.fulfillment_status}; it can no longer be cancelled")
    change_status(session, order, "CANCELLED", actor=actor, reason=f"{reason}, via {via}")
    order.cancelled_at = utcnow()
    order.cancel_reason = (reason or "other")[:50]
    _set_fulfillment(session, order, "cancelled", actor=actor)
    for li in line_items(session, order.id):
        if li.status != "COMPLETED" and li.status != "CANCELLED":
            li.status = "CANCELLED"
            session.add(li)
    for hook in CANCEL_HOOKS:
        hook(session, order, actor)
    session.add(order)
    publish(
        session,
        "order.cancelled",
        {"orderId": str(order.id), "orderNumber": order.number, "reason": reason, "via": via},
        source=SOURCE,
    )
    return order


# --- manual orders ---------------------------------------------------------------------------------


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def manual_order_errors(data: OrderInput) -> dict[str, str]:
    """What is missing or wrong in an order staff type in, by field: the
    customer (name, email, address), each line (`lines.<i>.title`,
    `.quantity`, `.unit_price`, counted from 0) and the shipping cost. Empty:
    the order can be taken. The order page and POST /orders both come here."""
    errors: dict[str, str] = {}
    if not data.customer_name.strip():
        errors["customer_name"] = "Enter the customer's name."
    email = data.customer_email.strip()
    if not email:
        errors["customer_email"] = "Enter the customer's email address."
    elif not _EMAIL.match(email):
        errors["customer_email"] = f"“{email[:60]}” is not an email address."
    for key, what in (
        ("ship_street", "the street"),
        ("ship_postal_code", "the postal code"),
        ("ship_city", "the city"),
    ):
        if not str(getattr(data, key)).strip():
            errors[key] = f"Enter {what}."
    country = data.ship_country_code.strip()
    if not country:
        errors["ship_country_code"] = "Enter the country (two letters, e.g. NL)."
    elif len(country) != 2 or not country.isalpha():
        errors["ship_country_code"] = "The country code has two letters (e.g. NL)."
    if not data.lines:
        errors["lines"] = "Add at least one line."
    for i, line in enumerate(data.lines):
        if not line.title.strip():
            errors[f"lines.{i}.title"] = "Give the line a title."
        if line.quantity < 1:
            errors[f"lines.{i}.quantity"] = "The quantity is at least 1."
        if line.unit_price < 0:
            errors[f"lines.{i}.unit_price"] = "The price cannot be negative."
    if data.shipping_total < 0:
        errors["shipping_total"] = "The shipping cost cannot be negative."
    return errors


def take_manual_order(session: Session, data: OrderInput, *, actor: Principal) -> Order:
    """An order staff type in (the "New order" dialog, POST /orders): the
    customer, the address and every line complete, or a ValidationFailed
    whose details name each field at fault ({"fields": {field: message}})."""
    actor.require("orders.write")
    errors = manual_order_errors(data)
    if errors:
        first = next(iter(errors.values()))
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise ValidationFailed(first.rstrip(".") + more, details={"fields": errors})
    return create_manual_order(session, data, actor=actor)


def create_manual_order(session: Session, data: OrderInput, *, actor: Principal) -> Order:
    actor.require("orders.write")
    data.source = "manual"
    if not data.subtotal:
        data.subtotal = sum((li.unit_price * li.quantity for li in data.lines), Decimal("0"))
    if not data.total:
        data.total = data.subtotal + data.shipping_total
    order, _ = create_order(session, data, actor=actor)
    return order


def retry_entries(session: Session, order_id: uuid.UUID):
    from app.platform.models import RetryEntry

    q = select(RetryEntry).where(RetryEntry.order_id == order_id).order_by(col(RetryEntry.created_at).desc())
    return list(session.exec(q))


# --- many orders at once ----------------------------------------------------------------------------


@dataclass
class BulkResult:
    """What a bulk action did: the orders it changed and those it refused, with why."""

    done: list[str] = field(default_factory=list)  # order numbers
    refused: list[tuple[str, str]] = field(default_factory=list)  # (order number, why)


def _each(session: Session, order_ids: list[str], act: Callable[[Order], bool | str]) -> BulkResult:
    """Run `act` on every order, each in its own transaction: an order is
    changed completely or not at all, and one refusal does not undo the
    others. `act` returns True when it changed the order, or why it did not."""
    result = BulkResult()
    for order_id in _as_ids(order_ids):
        number = str(order_id)[:8]
        try:
            order = get_order(session, order_id, lock=True)
            number = order.number
            outcome = act(order)
        except DomainError as exc:
            session.rollback()
            result.refused.append((number, exc.message))
            continue
        if outcome is True:
            session.commit()
            result.done.append(number)
        else:
            session.rollback()
            result.refused.append((number, str(outcome)))
    return result


def cancel_many(session: Session, order_ids: list[str], *, actor: Principal, reason: str = "other") -> BulkResult:
    """Cancel each order through `cancel` (the same checks and hooks as one
    order); commits per order."""
    actor.require("orders.write")

    def act(order: Order) -> bool | str:
        if order.status == "CANCELLED":
            return "it is already cancelled"
        cancel(session, order.id, actor=actor, reason=reason)
        return True

    return _each(session, order_ids, act)


def advance_many(session: Session, order_ids: list[str], target: str, *, actor: Principal) -> BulkResult:
    """Move each order to fulfillment step `target` through
    `advance_fulfillment` (the same gates as one order); commits per order."""
    actor.require("orders.write")
    if target not in (*GATED_STEPS, "completed"):
        raise ValidationFailed(f"unknown fulfillment step '{target}'")

    def act(order: Order) -> bool | str:
        if order.fulfillment_status == target:
            return f"it is already {_fulfillment(target).lower()}"
        advance_fulfillment(session, order.id, target, actor=actor)
        return True

    return _each(session, order_ids, act)


# --- export -----------------------------------------------------------------------------------------

EXPORT_HEADER = (
    "Number",
    "Placed",
    "Customer",
    "Email",
    "Status",
    "Fulfillment",
    "Source",
    "Items",
    "Total",
    "Currency",
    "Tracking",
)


def export_rows(session: Session, f: OrderFilter, fmt: ShopFormat, batch: int = 500) -> Iterator[list[object]]:
    """Every order matching `f` (all pages, in its sort order) as a spreadsheet
    row: times in the shop's zone, statuses in words, the total as a plain
    number beside its currency (so a spreadsheet can add them up)."""
    sort_col = SORTS.get(f.sort, col(Order.placed_at))
    q = _filtered(select(Order), f).order_by(
        sort_col.desc() if f.descending else sort_col.asc(), col(Order.number).desc(), col(Order.id)
    )
    offset = 0
    while True:
        orders = list(session.exec(q.offset(offset).limit(batch)))
        if not orders:
            return
        items: dict[uuid.UUID, list[LineItem]] = {}
        for li in session.exec(
            select(LineItem).where(col(LineItem.order_id).in_([o.id for o in orders])).order_by(col(LineItem.position))
        ):
            items.setdefault(li.order_id, []).append(li)
        for o in orders:
            yield [
                o.number,
                fmt.when(o.placed_at),
                o.customer_name,
                o.customer_email,
                machine.ORDER_STATUS.label(o.status),
                machine.FULFILLMENT_STATUS.label(o.fulfillment_status),
                machine.SOURCE.label(o.source),
                "; ".join(f"{li.quantity} × {li.title or li.sku}" for li in items.get(o.id, [])),
                f"{o.total:.2f}",
                o.currency,
                " ".join(p for p in (o.tracking_carrier, o.tracking_number) if p),
            ]
        offset += batch
