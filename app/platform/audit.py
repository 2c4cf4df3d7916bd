"""Security audit log: who did what sensitive thing, to what, from where."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import false, func
from sqlmodel import Session, col, select

from app.platform.db import session_tenant_id
from app.platform.formatting import ShopFormat
from app.platform.models import AuditLog, User


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


# --- reading: the audit log page and its CSV export share one query ----------------------------


@dataclass(frozen=True)
class AuditFilter:
    """Which entries to show. Days are the shop's days (its time zone)."""

    action: str = ""  # "" for every action
    user: str = ""  # the actor's username; "" for everyone
    date_from: date | None = None
    date_to: date | None = None  # inclusive
    newest_first: bool = True


def _day_start(day: date, fmt: ShopFormat) -> datetime:
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(fmt.timezone)).astimezone(UTC)


def _where(session: Session, f: AuditFilter, fmt: ShopFormat) -> list:
    conds: list = []
    if f.action:
        conds.append(AuditLog.action == f.action)
    if f.user:
        user_id = session.exec(select(User.id).where(User.username == f.user.strip().lower())).first()
        conds.append(AuditLog.actor_user_id == user_id if user_id else false())
    if f.date_from:
        conds.append(AuditLog.created_at >= _day_start(f.date_from, fmt))
    if f.date_to:
        conds.append(AuditLog.created_at < _day_start(f.date_to + timedelta(days=1), fmt))
    return conds


def search(
    session: Session, f: AuditFilter, fmt: ShopFormat, *, offset: int = 0, limit: int | None = 50
) -> tuple[list[AuditLog], int]:
    """The entries matching `f` (a page of them) and how many match in all."""
    conds = _where(session, f, fmt)
    total = session.exec(select(func.count()).select_from(AuditLog).where(*conds)).one()
    order = col(AuditLog.created_at).desc() if f.newest_first else col(AuditLog.created_at).asc()
    q = select(AuditLog).where(*conds).order_by(order, col(AuditLog.id)).offset(offset)
    if limit is not None:
        q = q.limit(limit)
    return list(session.exec(q)), total


def actions(session: Session) -> list[str]:
    return sorted(session.exec(select(AuditLog.action).distinct()))


def actor_names(session: Session) -> dict[uuid.UUID, str]:
    """Every staff account's username by id (who did it)."""
    return {u.id: u.username for u in session.exec(select(User))}


_CODE = re.compile(r"^[a-z]+(?:_[a-z0-9]+)+$")  # a code such as bad_credentials
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def _key(k: str) -> str:
    """A field name as words: "correlationId" → "correlation id", "shop_domain" → "shop domain"."""
    return _CAMEL.sub(" ", k).replace("_", " ").lower()


def _value(v: Any) -> str:
    if isinstance(v, dict):
        return ", ".join(f"{_key(k)} {_value(x)}" for k, x in v.items())
    if isinstance(v, list):
        return ", ".join(map(_value, v))
    if isinstance(v, str) and _CODE.match(v):
        return v.replace("_", " ")
    return str(v)


def describe(meta: dict | None) -> str:
    """An entry's details for people: a change reads `before → after`, the rest `key: value`."""
    meta = dict(meta or {})
    parts = []
    if "before" in meta and "after" in meta:
        parts.append(f"{_value(meta.pop('before')) or '—'} → {_value(meta.pop('after')) or '—'}")
    # database ids say nothing to a person (the entry's target names the record); the raw details keep them
    parts += [f"{_key(k)}: {_value(v)}" for k, v in sorted(meta.items()) if not _is_id(k)]
    return "; ".join(parts)


def _is_id(key: str) -> bool:
    return key == "id" or key.endswith(("Id", "_id", "Ids", "_ids"))


# What each action reads as on the audit page and in its export. An action not
# listed reads as its own words ("orders.backfill.started" → "Orders backfill started").
ACTIONS: dict[str, str] = {
    "auth.login.success": "Signed in",
    "auth.login.failed": "Sign-in failed",
    "auth.login.throttled": "Sign-in blocked after repeated failures",
    "auth.logout": "Signed out",
    "customer.login.success": "Customer signed in",
    "customer.login.failed": "Customer sign-in failed",
    "customer.login.throttled": "Customer sign-in blocked after repeated failures",
    "customer.logout": "Customer signed out",
    "customer.signed-up": "Customer account created",
    "user.created": "Staff account created",
    "user.roles.changed": "Role changed",
    "api_key.created": "API key created",
    "api_key.revoked": "API key revoked",
    "config.changed": "Setting changed",
    "tenant.format-changed": "Money and time format changed",
    "integration.shopify.connected": "Shopify connected",
    "integration.shopify.disconnected": "Shopify disconnected",
    "integration.simplyprint.connected": "SimplyPrint connected",
    "integration.simplyprint.disconnected": "SimplyPrint disconnected",
    "integration.simplyprint.settings": "SimplyPrint settings changed",
    "orders.backfill.started": "Shopify order import started",
    "catalog.import.started": "Parts catalog import started",
    "catalog.price-list.imported": "Price list imported",
}
TARGETS: dict[str, str] = {"api_key": "API key", "catalog_import": "catalog import", "tenant": "shop"}
# Settings (system config keys) as people name them; a domain adds its own
# (`config.describe`). A key not named here reads as its words.
CONFIG_WORDS: dict[str, str] = {}


def words(code: str) -> str:
    """A code as words: "print_job.needs-review" → "Print job needs review"."""
    text = " ".join(code.replace("_", " ").replace("-", " ").replace(".", " ").split())
    return text[:1].upper() + text[1:]


def setting_words(key: str) -> str:
    """A setting as people name it ("grid.basePrice" → "Gridfinity: base price")."""
    return CONFIG_WORDS.get(key) or words(key).lower()


def action_label(action: str) -> str:
    return ACTIONS.get(action) or words(action)


def target_label(entry: AuditLog) -> str:
    """What an entry acted on, by name where it has one: "user anna", "API key
    Label printer" ("" for nothing)."""
    if entry.target_type == "system_config":  # a setting: its words, not its key
        return f"setting “{setting_words(entry.target_id)}”"
    kind = TARGETS.get(entry.target_type, entry.target_type.replace("_", " "))
    name = (entry.meta or {}).get("name") if entry.target_type == "api_key" else None
    return f"{kind} {name or entry.target_id}".strip()
