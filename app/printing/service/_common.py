"""What every part of the printing service shares: the business-event log of
print jobs, live-update nudges, and the small readers of what SimplyPrint
reports (ids, the job a queue item belongs to, the printer cache)."""

from __future__ import annotations

import uuid

from sqlalchemy.dialects.postgresql import insert
from sqlmodel import Session, select

from app.platform import live
from app.platform.auth import Principal
from app.platform.db import session_tenant_id
from app.platform.models import EventLog, utcnow
from app.printing.models import Printer, PrintJob

SOURCE = "print-service"
LIVE_KIND = "printfarm"


def _log(
    session: Session,
    job: PrintJob | None,
    event_type: str,
    message: str,
    *,
    severity: str = "INFO",
    actor: Principal | None = None,
    meta: dict | None = None,
) -> None:
    """A business event about a print job (the order's timeline shows it too)."""
    session.add(
        EventLog(
            tenant_id=session_tenant_id(session),
            event_type=event_type,
            severity=severity,
            message=message[:2000],
            order_id=job.order_id if job else None,
            print_job_id=job.id if job else None,
            actor_user_id=actor.user_id if actor else None,
            meta=meta or {},
        )
    )
    _changed(session, job)


def _changed(session: Session, job: PrintJob | None = None) -> None:
    live.notify_after_commit(session, LIVE_KIND, printJobId=str(job.id) if job else None)
    if job is not None and job.order_id:
        live.notify_after_commit(session, "orders", orderId=str(job.order_id))


def _int(value) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _dict(value: object) -> dict:
    """`value` when SimplyPrint sent an object there, else an empty one."""
    return value if isinstance(value, dict) else {}


def _job_by_item(session: Session, item_id: int | None) -> PrintJob | None:
    if item_id is None:
        return None
    return session.exec(select(PrintJob).where(PrintJob.simplyprint_queue_item_id == item_id).with_for_update()).first()


def _upsert_printer(session: Session, simplyprint_id: int, **values) -> None:
    values = {k: v for k, v in values.items() if v is not None}
    tid = session_tenant_id(session)
    session.execute(
        insert(Printer)
        .values(
            id=uuid.uuid4(),
            tenant_id=tid,
            simplyprint_id=simplyprint_id,
            updated_at=utcnow(),
            **{
                "name": "",
                "model": "",
                "state": "offline",
                "online": False,
                "current_file": "",
                "percentage": 0,
                **values,
            },
        )
        .on_conflict_do_update(index_elements=["tenant_id", "simplyprint_id"], set_={**values, "updated_at": utcnow()})
    )
