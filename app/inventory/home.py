"""What inventory shows on the staff home page: products below their
minimum, batches printing for the shelf, and the newest stock movements."""

from __future__ import annotations

from sqlmodel import Session, col, select

from app.inventory import service
from app.platform.auth import Principal
from app.platform.home import Activity, HomeTile, sentence
from app.platform.models import EventLog

PERMISSION = "inventory.read"


def tiles(session: Session, principal: Principal) -> list[HomeTile]:
    if not principal.can(PERMISSION) or not service.stock_enabled(session):
        return []
    counts = service.stock_counts(session)
    _, printing = service.list_batches(session, status="IN_PROGRESS", page_size=1)
    return [
        HomeTile(
            key="inventory.low",
            title="Below minimum stock",
            value=str(counts["low"]),
            hint=f"{printing} batch(es) printing for the shelf" if printing else "no batch is printing",
            link="/inventory?status=low",
            permission=PERMISSION,
            tone="amber" if counts["low"] else "green",
            icon="warehouse",
        )
    ]


def activity(session: Session, principal: Principal, limit: int) -> list[Activity]:
    if not principal.can(PERMISSION):
        return []
    rows = session.exec(
        select(EventLog)
        .where(col(EventLog.event_type).startswith("inventory."), col(EventLog.order_id).is_(None))
        .order_by(col(EventLog.created_at).desc())
        .limit(limit)
    ).all()
    return [
        Activity(
            at=e.created_at,
            text=sentence(e.message),
            link="/inventory",
            tone={"WARNING": "amber", "ERROR": "red"}.get(e.severity, "gray"),
            permission=PERMISSION,
        )
        for e in rows
    ]
