"""What the builds domain shows on the staff home page: builds waiting for a
builder, the signed-in user's own builds, and the newest workbench happenings."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import Session, col, select

from app.builds import machine
from app.builds.models import Build, BuildEventLog
from app.orders.models import Order
from app.platform.auth import Principal
from app.platform.home import Activity, HomeItem, HomeTile, sentence

PERMISSION = "builds.read"
OPEN = ("pending", "in_progress", "paused", "testing", "failed")  # work not over yet
MY_ITEMS = 6


def tiles(session: Session, principal: Principal) -> list[HomeTile]:
    if not principal.can(PERMISSION):
        return []
    found = [_waiting(session)]
    if principal.user_id is not None:
        found.append(_mine(session, principal))
    return found


def _waiting(session: Session) -> HomeTile:
    waiting, unassigned = session.exec(
        select(func.count(), func.count().filter(col(Build.assignee_id).is_(None))).where(Build.status == "pending")
    ).one()
    if waiting:
        hint = f"{unassigned} of them without a builder" if unassigned else "every one has a builder"
    else:
        hint = "no build is waiting to start"
    return HomeTile(
        key="builds.waiting",
        title="Builds waiting",
        value=str(waiting),
        hint=hint,
        link="/builds",
        permission=PERMISSION,
        tone="amber" if unassigned else "gray",
        icon="wrench",
    )


def _mine(session: Session, principal: Principal) -> HomeTile:
    rows = session.exec(
        select(Build, Order)
        .join(Order, col(Order.id) == Build.order_id)
        .where(Build.assignee_id == principal.user_id, col(Build.status).in_(OPEN))
        .order_by(col(Build.status_changed_at).asc().nulls_last(), col(Build.created_at).asc())
    ).all()
    fmt = principal.fmt
    items = tuple(
        HomeItem(
            text=f"Build for order {order.number}"
            + (f" ({order.customer_name})" if order.customer_name else "")
            + (f", since {fmt.ago(b.status_changed_at)}" if b.status_changed_at else ""),
            link=f"/builds/{b.id}",
            status=machine.STATUS.label(b.status),
            tone=machine.STATUS.color(b.status),
        )
        for b, order in rows[:MY_ITEMS]
    )
    n = len(rows)
    return HomeTile(
        key="builds.mine",
        title="Builds assigned to me",
        value=str(n),
        hint=(f"and {n - MY_ITEMS} more on the board" if n > MY_ITEMS else "")
        if n
        else "no open build is assigned to you",
        link="/builds?mine=1",
        permission=PERMISSION,
        tone="blue" if n else "gray",
        icon="user-cog",
        mine=True,
        items=items,
    )


def activity(session: Session, principal: Principal, limit: int) -> list[Activity]:
    """Workbench happenings naming the build's order, each linking to the workbench."""
    if not principal.can(PERMISSION):
        return []
    rows = session.exec(
        select(BuildEventLog, Build, Order)
        .join(Build, col(Build.id) == BuildEventLog.build_id)
        .join(Order, col(Order.id) == Build.order_id)
        .order_by(col(BuildEventLog.created_at).desc())
        .limit(limit)
    ).all()
    return [
        Activity(
            at=e.created_at,
            text=sentence(e.message)
            if order.number in e.message
            else f"Build for order {order.number}: {sentence(e.message)}",
            link=f"/builds/{b.id}",
            tone=machine.EVENT_SEVERITY.color(e.severity) if e.severity in machine.EVENT_SEVERITY else "gray",
            permission=PERMISSION,
        )
        for e, b, order in rows
    ]


def _text(e: BuildEventLog, order: Order) -> str:
    if order.number in e.message:  # the message names the order already
        return sentence(e.message)
    return f"Build for order {order.number}: {sentence(e.message)}"
