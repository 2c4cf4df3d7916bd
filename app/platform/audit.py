"""Security audit log: who did what sensitive thing, to what, from where."""

from __future__ import annotations

import uuid

from sqlmodel import Session

from app.platform.db import session_tenant_id
from app.platform.models import AuditLog


def record(
    session: Session,
    action: str,
    *,
    actor_user_id: uuid.UUID | None = None,
    target_type: str = "",
    target_id: str | uuid.UUID = "",
    meta: dict | None = None,
    ip: str = "",
) -> AuditLog:
    """Add an audit entry to the caller's transaction (commits with it)."""
    entry = AuditLog(
        tenant_id=session_tenant_id(session),
        actor_user_id=actor_user_id,
        action=action,
        target_type=target_type,
        target_id=str(target_id),
        meta=meta or {},
        ip=ip[:64],
    )
    session.add(entry)
    return entry
