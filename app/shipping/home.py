"""What shipping shows on the staff home page: orders waiting on the packing
bench, parcels on their way (stuck ones first), and the newest parcel news."""

from __future__ import annotations

from sqlmodel import Session, col, select

from app.orders.models import Order
from app.platform.auth import Principal
from app.platform.home import Activity, HomeTile, sentence
from app.platform.models import EventLog
from app.shipping.service import bench_counts, tracking_board

PERMISSION = "shipping.read"


def tiles(session: Session, principal: Principal) -> list[HomeTile]:
    if not principal.can(PERMISSION):
        return []
    bench = bench_counts(session)
    waiting = sum(bench.values())
    board = tracking_board(session)
    stuck = sum(1 for r in board if r.stuck)
    return [
        HomeTile(
            key="shipping.bench",
            title="Ready to ship",
            value=str(waiting),
            hint=(f"{bench['problem']} without a label" if bench["problem"] else f"{bench['ready']} with their label")
            if waiting
            else "nothing waits on the packing bench",
            link="/shipping",
            permission=PERMISSION,
            tone="red" if bench["problem"] else "amber" if waiting else "green",
            icon="package",
        ),
        HomeTile(
            key="shipping.tracking",
            title="On their way",
            value=str(len(board)),
            hint=f"{stuck} need a look" if stuck else "no parcel is stuck",
            link="/shipping?view=tracking",
            permission=PERMISSION,
            tone="red" if stuck else "blue" if board else "gray",
            icon="truck",
        ),
    ]


def activity(session: Session, principal: Principal, limit: int) -> list[Activity]:
    if not principal.can(PERMISSION):
        return []
    rows = session.exec(
        select(EventLog, Order.number)
        .join(Order, col(Order.id) == EventLog.order_id)
        .where(col(EventLog.event_type).startswith("shipment."))
        .order_by(col(EventLog.created_at).desc())
        .limit(limit)
    ).all()
    return [
        Activity(
            at=e.created_at,
            text=f"Order {number}: {sentence(e.message)}",
            link=f"/orders/{e.order_id}",
            tone={"WARNING": "amber", "ERROR": "red"}.get(e.severity, "gray"),
            permission=PERMISSION,
        )
        for e, number in rows
    ]
