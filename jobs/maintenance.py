"""Housekeeping jobs."""

from __future__ import annotations

from app.platform import auth
from app.platform.db import all_tenant_ids, tenant_session


def purge_expired_sessions() -> int:
    total = 0
    for tid in all_tenant_ids():
        with tenant_session(tid) as s:
            total += auth.purge_expired_sessions(s)
    return total
