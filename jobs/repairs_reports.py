"""Repairs report jobs: the daily metrics snapshots (cron, per shop)."""

from __future__ import annotations

from app.platform.db import tenant_session
from app.repairs.service import reports


def snapshot(tenant_id: str) -> dict:
    """Cron, per shop, every hour: upsert today's row so far and yesterday's
    (after midnight it becomes the final one; a missed run is caught up by the
    next). Idempotent: the same day again writes the same row."""
    with tenant_session(tenant_id) as s:
        written = reports.snapshot_recent(s, days=2)
        s.commit()
        return {"days": written}
