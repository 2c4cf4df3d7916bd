"""In-app notifications for staff (the bell)."""

from __future__ import annotations

import uuid

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from app.platform import live
from app.platform.db import session_tenant_id
from app.platform.models import Notification, RolePermission, User, UserRole, utcnow


def notify_staff(
    session: Session,
    *,
    kind: str,
    title: str,
    body: str = "",
    link: str = "",
    order_id: uuid.UUID | None = None,
    severity: str = "INFO",
    permission: str = "orders.read",
) -> int:
    """One notification per active staff user who may see it."""
    tid = session_tenant_id(session)
    users = session.exec(
        select(User.id)
        .join(UserRole, col(UserRole.user_id) == User.id)
        .join(RolePermission, col(RolePermission.role_id) == UserRole.role_id)
        .where(User.is_active, RolePermission.permission_code == permission)
        .distinct()
    ).all()
    if users:
        live.notify_after_commit(session, "notifications")
    for user_id in users:
        session.add(
            Notification(
                tenant_id=tid,
                user_id=user_id,
                kind=kind,
                title=title[:200],
                body=body[:1000],
                link=link,
                order_id=order_id,
                severity=severity,
            )
        )
    return len(users)


def unread_count(session: Session, user_id: uuid.UUID) -> int:
    return session.exec(
        select(func.count())
        .select_from(Notification)
        .where(Notification.user_id == user_id, col(Notification.read_at).is_(None))
    ).one()


def recent(session: Session, user_id: uuid.UUID, limit: int = 15) -> list[Notification]:
    return list(
        session.exec(
            select(Notification)
            .where(Notification.user_id == user_id)
            .order_by(col(Notification.created_at).desc())
            .limit(limit)
        )
    )


def mark_all_read(session: Session, user_id: uuid.UUID) -> None:
    session.exec(
        update(Notification)
        .where(col(Notification.user_id) == user_id, col(Notification.read_at).is_(None))
        .values(read_at=utcnow())
    )
    session.commit()


def mark_read(session: Session, user_id: uuid.UUID, notification_id: uuid.UUID) -> str:
    """Mark one of the user's notifications read; returns where it leads ("" for nowhere)."""
    n = session.get(Notification, notification_id)
    if n is None or n.user_id != user_id:
        return ""
    if n.read_at is None:
        n.read_at = utcnow()
        session.add(n)
        session.commit()
    return n.link
