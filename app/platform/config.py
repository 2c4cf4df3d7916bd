"""Per-tenant system config (key → JSON) and feature flags.

Feature flags are config keys named `feature.<name>.enabled`, as in the seeds
(`feature.grid.enabled`, `feature.stock-management.enabled`).
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.dialects.postgresql import insert
from sqlmodel import Session, select

from app.platform import audit
from app.platform.db import session_tenant_id
from app.platform.errors import ValidationFailed
from app.platform.events import publish
from app.platform.models import SystemConfig, utcnow

# Known keys with their defaults; unknown keys may still be stored.
DEFAULTS: dict[str, Any] = {
    "feature.grid.enabled": False,
    "feature.stock-management.enabled": False,
    "stock.replenishment.enabled": False,
}


def describe(key: str, words: str) -> None:
    """What a setting is called where people read about it (the audit log)."""
    audit.CONFIG_WORDS[key] = words


describe("feature.grid.enabled", "Gridfinity grids")
describe("feature.stock-management.enabled", "stock management")
describe("stock.replenishment.enabled", "stock replenishment")


def get(session: Session, key: str, default: Any = None) -> Any:
    row = session.get(SystemConfig, (session_tenant_id(session), key))
    if row is not None:
        return row.value
    return DEFAULTS.get(key, default)


def all_values(session: Session) -> dict[str, Any]:
    values = dict(DEFAULTS)
    for row in session.exec(select(SystemConfig)):
        values[row.key] = row.value
    return values


def set_value(session: Session, key: str, value: Any, *, actor_user_id: uuid.UUID | None = None) -> None:
    key = key.strip()
    if not key or len(key) > 150:
        raise ValidationFailed("a config key needs 1 to 150 characters")
    if key.startswith("feature.") and key.endswith(".enabled") and not isinstance(value, bool):
        raise ValidationFailed(f"{key} is a feature flag and takes true or false")
    session.exec(
        insert(SystemConfig)
        .values(
            tenant_id=session_tenant_id(session), key=key, value=value, updated_at=utcnow(), updated_by_id=actor_user_id
        )
        .on_conflict_do_update(
            index_elements=["tenant_id", "key"],
            set_={"value": value, "updated_at": utcnow(), "updated_by_id": actor_user_id},
        )
    )
    audit.record(
        session,
        "config.changed",
        actor_user_id=actor_user_id,
        target_type="system_config",
        target_id=key,
        meta={"value": value},
    )
    publish(
        session,
        "config.changed",
        {"key": key, "value": value, "actorUserId": str(actor_user_id) if actor_user_id else None},
    )


def feature_enabled(session: Session, name: str) -> bool:
    return bool(get(session, f"feature.{name}.enabled", False))
