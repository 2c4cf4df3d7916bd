"""Platform event handlers."""

from __future__ import annotations

from sqlmodel import Session

from app.platform import audit
from app.platform.events import handles
from app.platform.models import EventLog


@handles("config.changed")
def log_config_change(session: Session, event: dict) -> None:
    """Config changes appear in the tenant's business event log."""
    session.add(
        EventLog(
            tenant_id=event["tenantId"],
            event_type=event["eventType"],
            severity="INFO",
            message=f"Setting “{audit.setting_words(str(event.get('key') or ''))}” changed",
            actor_user_id=event.get("actorUserId"),
            meta={"key": event.get("key"), "value": event.get("value")},
        )
    )
