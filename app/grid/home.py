"""What the grid domain shows on the staff home page: generation jobs that
need a person (failed), and those in the works."""

from __future__ import annotations

from sqlmodel import Session

from app.grid import service
from app.platform.auth import Principal
from app.platform.home import HomeTile

PERMISSION = "grid.read"


def tiles(session: Session, principal: Principal) -> list[HomeTile]:
    if not principal.can(PERMISSION) or not service.enabled(session):
        return []
    counts = service.job_counts(session)
    busy = counts["QUEUED"] + counts["PROCESSING"]
    return [
        HomeTile(
            key="grid.failed",
            title="Gridfinity jobs failed",
            value=str(counts["FAILED"]),
            hint=f"{busy} generating" if busy else "nothing generating",
            link="/grid?status=FAILED" if counts["FAILED"] else "/grid",
            permission=PERMISSION,
            tone="red" if counts["FAILED"] else "green",
            icon="grid-3x3",
        )
    ]
