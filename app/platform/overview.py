"""System counters of a shop (GET /api/v1/tenant). The staff home page shows the
shop's work instead: each domain's tiles, through its door (app/platform/home.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func
from sqlmodel import Session, col, select

from app.platform.models import AuditLog, EventLog, Outbox, User, UserSession, utcnow


@dataclass
class Overview:
    users: int
    active_sessions: int
    events_today: int
    events_waiting: int
    sign_ins_today: int
    failed_sign_ins_today: int
    recent_events: list[EventLog]


def overview(session: Session) -> Overview:
    now = utcnow()
    day = now - timedelta(hours=24)

    def count(q) -> int:
        return session.exec(q).one()

    return Overview(
        users=count(select(func.count()).select_from(User).where(User.is_active)),
        active_sessions=count(select(func.count()).select_from(UserSession).where(UserSession.expires_at > now)),
        events_today=count(select(func.count()).select_from(Outbox).where(Outbox.created_at > day)),
        events_waiting=count(select(func.count()).select_from(Outbox).where(col(Outbox.sent_at).is_(None))),
        sign_ins_today=count(
            select(func.count())
            .select_from(AuditLog)
            .where(AuditLog.action == "auth.login.success", AuditLog.created_at > day)
        ),
        failed_sign_ins_today=count(
            select(func.count())
            .select_from(AuditLog)
            .where(AuditLog.action == "auth.login.failed", AuditLog.created_at > day)
        ),
        recent_events=list(session.exec(select(EventLog).order_by(col(EventLog.created_at).desc()).limit(8))),
    )
