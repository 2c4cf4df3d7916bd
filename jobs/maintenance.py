"""Housekeeping jobs."""

from __future__ import annotations

from app.platform import auth, tasks
from app.platform.db import tenant_ids, tenant_session


def purge_expired_sessions(tenant_id: str | None = None) -> int:
    total = 0
    for tid in tenant_ids(tenant_id):
        with tenant_session(tid) as s:
            total += auth.purge_expired_sessions(s)
    return total


def heal_shop_lines() -> int:
    """Cron: take back the jobs whose worker died (retried, or failed with
    the reason their domain gives), then let in waiting jobs whose shop's
    slots were held by jobs that died."""
    tasks.reclaim_abandoned()
    return tasks.heal_shops()
