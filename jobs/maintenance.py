"""Housekeeping jobs."""

from __future__ import annotations

from sqlmodel import select

from app.platform import auth
from app.platform.db import platform_session, tenant_session
from app.platform.models import Tenant


def purge_expired_sessions() -> int:
    with platform_session() as ps:
        tenant_ids = list(ps.exec(select(Tenant.id)))
    total = 0
    for tid in tenant_ids:
        with tenant_session(tid) as s:
            total += auth.purge_expired_sessions(s)
    return total
