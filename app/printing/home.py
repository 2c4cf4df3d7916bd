"""What the print farm shows on the staff home page: failed prints waiting
for a decision, what is printing now, and the newest print happenings."""

from __future__ import annotations

from urllib.parse import urlencode

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from app.orders.models import Order
from app.platform.auth import Principal
from app.platform.home import Activity, HomeTile, sentence
from app.platform.models import EventLog
from app.printing.models import PrintJob

PERMISSION = "printJobs.read"
# Print-farm entries that belong to no job: the printed products' set-up.
SETUP_EVENTS = ("product-mapping.", "assembly-part.", "print-jobs.")


def tiles(session: Session, principal: Principal) -> list[HomeTile]:
    if not principal.can(PERMISSION):
        return []
    counts = dict(
        session.exec(
            select(PrintJob.status, func.count())
            .where(col(PrintJob.status).in_(("FAILED", "PRINTING", "QUEUED", "ASSIGNED")))
            .group_by(PrintJob.status)
        ).all()
    )
    failed, printing = counts.get("FAILED", 0), counts.get("PRINTING", 0)
    waiting = counts.get("QUEUED", 0) + counts.get("ASSIGNED", 0)
    return [
        HomeTile(
            key="printing.failed",
            title="Failed prints",
            value=str(failed),
            hint="requeue them or cancel their parts" if failed else "no print has failed",
            link="/printfarm?status=FAILED",
            permission=PERMISSION,
            tone="red" if failed else "green",
            icon="printer",
        ),
        HomeTile(
            key="printing.now",
            title="Printing now",
            value=str(printing),
            hint=f"{waiting} more in the queue" if waiting else "the queue is empty",
            link="/printfarm?status=PRINTING",
            permission=PERMISSION,
            tone="blue" if printing else "gray",
            icon="loader",
        ),
    ]


def job_link(job: PrintJob, order_number: str | None) -> str:
    """The print farm's job list showing this job: its status, found by its
    order's number (or its file when it prints for stock)."""
    return "/printfarm?" + urlencode({"status": job.status, "search": order_number or job.filename or job.part_name})


def activity(session: Session, principal: Principal, limit: int) -> list[Activity]:
    """Print-job happenings naming the part and its order, each linking to the job."""
    if not principal.can(PERMISSION):
        return []
    rows = session.exec(
        select(EventLog, PrintJob, Order.number)
        .outerjoin(PrintJob, col(PrintJob.id) == EventLog.print_job_id)
        .outerjoin(Order, col(Order.id) == PrintJob.order_id)
        .where(
            or_(
                col(EventLog.print_job_id).is_not(None),
                *[col(EventLog.event_type).startswith(p) for p in SETUP_EVENTS],
            )
        )
        .order_by(col(EventLog.created_at).desc())
        .limit(limit)
    ).all()
    found = []
    for e, job, number in rows:
        if job is None:  # a printed product's set-up
            text, link = sentence(e.message), "/printing/products"
        else:
            part = f"{job.part_name or job.filename or 'a part'} (copy {job.copy_number})"
            whose = f"for order {number}" if number else "for stock"
            if job.part_name and job.part_name in e.message:  # the message names the part already
                text = f"{sentence(e.message)[:-1]} ({whose})."
            else:
                text = f"Print of {part} {whose}: {sentence(e.message)}"
            link = job_link(job, number)
        found.append(
            Activity(
                at=e.created_at,
                text=text,
                link=link,
                tone={"WARNING": "amber", "ERROR": "red"}.get(e.severity, "gray"),
                permission=PERMISSION,
            )
        )
    return found
