"""What the orders domain shows on the staff home page: orders waiting to go
out, the week's revenue by day, and the newest order happenings."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import Date, cast, func
from sqlmodel import Session, col, select

from app.orders.models import Order
from app.platform.auth import Principal
from app.platform.home import Activity, ChartPoint, HomeTile, local_days, sentence
from app.platform.models import EventLog

PERMISSION = "orders.read"
TO_SHIP = ("ready", "packaging")  # produced, not gone yet
WEEK = 7


def tiles(session: Session, principal: Principal) -> list[HomeTile]:
    if not principal.can(PERMISSION):
        return []
    return [_to_ship(session), _revenue(session, principal)]


def _to_ship(session: Session) -> HomeTile:
    counts = dict(
        session.exec(
            select(Order.fulfillment_status, func.count())
            .where(col(Order.fulfillment_status).in_(TO_SHIP), Order.status != "CANCELLED")
            .group_by(Order.fulfillment_status)
        ).all()
    )
    ready, packing = counts.get("ready", 0), counts.get("packaging", 0)
    total = ready + packing
    hint = f"{ready} ready to pack, {packing} being packed" if total else "nothing is waiting to go out"
    return HomeTile(
        key="orders.to-ship",
        title="Orders to ship today",
        value=str(total),
        hint=hint,
        link="/orders?fulfillment=ready" if ready or not packing else "/orders?fulfillment=packaging",
        permission=PERMISSION,
        tone="amber" if total else "green",
        icon="package-check",
    )


def _revenue(session: Session, principal: Principal) -> HomeTile:
    """The last seven days' takings in the shop's currency, day by day (in the
    shop's time zone); cancelled orders do not count."""
    fmt = principal.fmt
    days, start = local_days(fmt, WEEK)
    day = cast(func.timezone(fmt.timezone, Order.placed_at), Date)
    rows = session.exec(
        select(day, func.coalesce(func.sum(Order.total), 0), func.count())
        .where(Order.placed_at >= start, Order.status != "CANCELLED", Order.currency == fmt.currency)
        .group_by(day)
    ).all()
    per_day: dict = {d: (Decimal(total), n) for d, total, n in rows}
    week = sum((per_day.get(d, (Decimal(0), 0))[0] for d in days), Decimal(0))
    orders = sum(per_day.get(d, (Decimal(0), 0))[1] for d in days)
    return HomeTile(
        key="orders.revenue",
        title="Revenue this week",
        value=fmt.money(week),
        hint=f"{orders} order{'' if orders == 1 else 's'} in the last {WEEK} days",
        link="/orders",
        permission=PERMISSION,
        tone="blue",
        icon="banknote",
        chart=tuple(
            ChartPoint(
                label=fmt.short_day(d),
                value=float(per_day.get(d, (Decimal(0), 0))[0]),
                text=fmt.money(per_day.get(d, (Decimal(0), 0))[0]),
            )
            for d in days
        ),
    )


def new_order_title(order: Order) -> str:
    """How a new order is announced (the bell, the home page): "New order #1042 from Anna Schmidt"."""
    return f"New order {order.number} from {order.customer_name or 'a customer'}"


def activity(session: Session, principal: Principal, limit: int) -> list[Activity]:
    """Order happenings as sentences naming the order ("New order #1042 from
    Anna Schmidt (€12.00)."), each linking to the order's page. Print-job
    entries are the print farm's to tell; a build's start is the workbench's."""
    if not principal.can(PERMISSION):
        return []
    fmt = principal.fmt
    rows = session.exec(
        select(EventLog, Order)
        .join(Order, col(Order.id) == EventLog.order_id)
        .where(col(EventLog.print_job_id).is_(None), EventLog.event_type != "build.created")
        .order_by(col(EventLog.created_at).desc())
        .limit(limit)
    ).all()
    found = []
    for e, order in rows:
        if e.event_type == "order.created":
            text = f"{new_order_title(order)} ({fmt.money(order.total, order.currency)})."
        elif order.number in e.message:
            text = sentence(e.message)
        else:
            text = f"Order {order.number}: {sentence(e.message)}"
        found.append(
            Activity(
                at=e.created_at,
                text=text,
                link=f"/orders/{order.id}",
                tone={"WARNING": "amber", "ERROR": "red"}.get(e.severity, "gray"),
                permission=PERMISSION,
            )
        )
    return found
