"""EXPIRED cleanup (seed 003: GridFlock Job Status, "cleanup after
configurable hours"): cron, every hour per shop.

- Staff and storefront jobs no order used become EXPIRED once the shop's
  `grid.expiry_hours` have passed (their own rendered picture is deleted).
- Pieces in the cache unused that long are deleted with their files,
  unless a job that is not expired still points at them or a product
  mapping prints from their G-code.
- Jobs whose run was lost are queued again (the pipeline's last resort).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import and_, or_
from sqlmodel import Session, col, select

from app.grid.models import GridJob
from app.grid.service import artifacts
from app.grid.service._common import changed
from app.grid.service.pipeline import sweep_lost
from app.grid.service.settings import grid_settings
from app.platform import storage
from app.platform.db import session_tenant_id
from app.platform.models import utcnow
from app.printing.models import AssemblyPart


@dataclass
class CleanupResult:
    expired_jobs: int = 0
    deleted_pieces: int = 0
    requeued_jobs: int = 0


def expire_unused(session: Session) -> CleanupResult:
    """One shop's hourly cleanup (see the module's docstring)."""
    settings = grid_settings(session)
    now = utcnow()
    cutoff = now - timedelta(hours=settings.expiry_hours)
    result = CleanupResult(requeued_jobs=sweep_lost(session))
    store = storage.for_tenant(session_tenant_id(session))
    stale = session.exec(
        select(GridJob)
        .where(
            col(GridJob.parent_id).is_(None),
            col(GridJob.order_id).is_(None),
            col(GridJob.status).in_(("COMPLETED", "FAILED")),
            or_(
                col(GridJob.expires_at) < now,
                and_(col(GridJob.expires_at).is_(None), col(GridJob.created_at) < cutoff),
            ),
        )
        .with_for_update(skip_locked=True)
    ).all()
    for job in stale:
        job.status, job.updated_at = "EXPIRED", now
        job.note = f"Expired: not used within {settings.expiry_hours} hour(s); its files were cleaned up"
        session.add(job)
        for child in session.exec(select(GridJob).where(GridJob.parent_id == job.id)):
            child.status, child.updated_at = "EXPIRED", now
            session.add(child)
        store.delete(f"grid/jobs/{job.id}/plates.png")
        changed(session, job.id)
    result.expired_jobs = len(stale)
    session.flush()
    in_use = {
        a
        for a in session.exec(
            select(GridJob.artifact_id).where(col(GridJob.artifact_id).is_not(None), GridJob.status != "EXPIRED")
        )
        if a is not None
    }
    printed_from = set(session.exec(select(AssemblyPart.file_key).where(AssemblyPart.file_key != "")))
    for piece in artifacts.expired(session, cutoff):
        if piece.id in in_use or (piece.gcode_key and piece.gcode_key in printed_from):
            continue
        artifacts.delete_files(session, piece)
        result.deleted_pieces += 1
    return result
