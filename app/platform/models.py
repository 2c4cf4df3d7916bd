"""Platform tables: tenants, identity and access, audit, config, events.

Global tables (no tenant_id, no RLS): tenants, permissions, roles,
role_permissions. Every other table here carries `tenant_id` and is protected by
a FORCE'd row-level-security policy created in the migrations.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import DateTime, ForeignKeyConstraint, Index, UniqueConstraint
from sqlalchemy import event as sa_event
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from app.platform import logs


def utcnow() -> datetime:
    return datetime.now(UTC)


def Timestamp(*, nullable: bool = False, index: bool = False) -> Any:
    """A timezone-aware timestamp column; required ones default to now."""
    if nullable:
        return Field(default=None, sa_type=DateTime(timezone=True), nullable=True, index=index)
    return Field(default_factory=utcnow, sa_type=DateTime(timezone=True), nullable=False, index=index)


class TenantScoped(SQLModel):
    """Base for every tenant table: the column RLS policies test."""

    tenant_id: uuid.UUID = Field(foreign_key="tenants.id", index=True, nullable=False)


def tenant_key(table: str) -> UniqueConstraint:
    """UNIQUE (tenant_id, id) on a tenant table other rows point at: the
    target of `tenant_fk`."""
    return UniqueConstraint("tenant_id", "id", name=f"uq_{table}_tenant_id_id")


def tenant_fk(table: str, column: str, target: str, *, ondelete: str | None = None) -> ForeignKeyConstraint:
    """A foreign key between two tenant tables that names the tenant too:
    `(tenant_id, column) -> target (tenant_id, id)`, so a row of one shop can
    never point at another shop's row (foreign key checks ignore row-level
    security). `SET NULL` clears only `column`: tenant_id is never null."""
    return ForeignKeyConstraint(
        ["tenant_id", column],
        [f"{target}.tenant_id", f"{target}.id"],
        name=f"fk_{table}_{column}",
        ondelete=f"SET NULL ({column})" if ondelete == "SET NULL" else ondelete,
    )


# --- global ---------------------------------------------------------------


class Tenant(SQLModel, table=True):
    __tablename__: ClassVar[str] = "tenants"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    slug: str = Field(max_length=63, unique=True, index=True)
    name: str = Field(max_length=200)
    is_default: bool = Field(default=False)
    # How the shop writes money and time (app/platform/formatting.py).
    locale: str = Field(default="en_IE", max_length=20)
    currency: str = Field(default="EUR", max_length=3)
    timezone: str = Field(default="Europe/Amsterdam", max_length=64)
    created_at: datetime = Timestamp()


class Permission(SQLModel, table=True):
    __tablename__: ClassVar[str] = "permissions"

    code: str = Field(primary_key=True, max_length=100)  # resource.action
    description: str = Field(default="", max_length=300)


class Role(SQLModel, table=True):
    __tablename__: ClassVar[str] = "roles"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    name: str = Field(max_length=50, unique=True)
    description: str = Field(default="", max_length=300)


class RolePermission(SQLModel, table=True):
    __tablename__: ClassVar[str] = "role_permissions"

    role_id: uuid.UUID = Field(foreign_key="roles.id", primary_key=True, ondelete="CASCADE")
    permission_code: str = Field(foreign_key="permissions.code", primary_key=True, ondelete="CASCADE")


# --- identity and access (tenant) -------------------------------------------


class PlatformOperator(TenantScoped, table=True):
    """A user trusted with platform-wide work that no shop role grants (the
    shared parts catalog's re-import). Row security shows a shop only its own
    operators, and the app role cannot write this table: only the owner role
    names operators (`python -m app.cli platform-operator`)."""

    __tablename__: ClassVar[str] = "platform_operators"
    __table_args__ = (tenant_fk("platform_operators", "user_id", "users", ondelete="CASCADE"),)

    user_id: uuid.UUID = Field(primary_key=True)
    granted_at: datetime = Timestamp()
    note: str = Field(default="", max_length=200)


class User(TenantScoped, table=True):
    __tablename__: ClassVar[str] = "users"
    __table_args__ = (UniqueConstraint("tenant_id", "username"), tenant_key("users"))

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    username: str = Field(max_length=100)
    email: str = Field(default="", max_length=254)
    display_name: str = Field(default="", max_length=200)
    password_hash: str = Field(max_length=300)
    is_active: bool = Field(default=True)
    created_at: datetime = Timestamp()
    last_login_at: datetime | None = Timestamp(nullable=True)


class UserRole(TenantScoped, table=True):
    __tablename__: ClassVar[str] = "user_roles"
    __table_args__ = (tenant_fk("user_roles", "user_id", "users", ondelete="CASCADE"),)

    user_id: uuid.UUID = Field(primary_key=True)
    role_id: uuid.UUID = Field(foreign_key="roles.id", primary_key=True)


class UserSession(TenantScoped, table=True):
    """A signed-in browser. The cookie carries the tenant id and a random
    token; only the token's SHA-256 is stored."""

    __tablename__: ClassVar[str] = "sessions"
    __table_args__ = (tenant_fk("sessions", "user_id", "users", ondelete="CASCADE"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID = Field(index=True)
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Timestamp()
    expires_at: datetime = Field(sa_type=DateTime(timezone=True), nullable=False)
    last_seen_at: datetime = Timestamp()
    ip: str = Field(default="", max_length=64)
    user_agent: str = Field(default="", max_length=400)


class ApiKey(TenantScoped, table=True):
    """Machine access to /api/v1. The secret is shown once; only its hash stays."""

    __tablename__: ClassVar[str] = "api_keys"
    __table_args__ = (tenant_fk("api_keys", "created_by_id", "users", ondelete="SET NULL"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    name: str = Field(max_length=100)
    key_prefix: str = Field(max_length=32)  # shown in lists to recognise a key
    key_hash: str = Field(max_length=64, unique=True)
    role_id: uuid.UUID = Field(foreign_key="roles.id")
    created_by_id: uuid.UUID | None = Field(default=None)
    created_at: datetime = Timestamp()
    last_used_at: datetime | None = Timestamp(nullable=True)
    revoked_at: datetime | None = Timestamp(nullable=True)


class AuditLog(TenantScoped, table=True):
    """Security record of sensitive actions (sign-ins, role changes, keys)."""

    __tablename__: ClassVar[str] = "audit_log"
    __table_args__ = (Index("ix_audit_log_tenant_action_created", "tenant_id", "action", "created_at"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    actor_user_id: uuid.UUID | None = Field(default=None, index=True)
    action: str = Field(max_length=100)  # e.g. auth.login.success
    target_type: str = Field(default="", max_length=50)
    target_id: str = Field(default="", max_length=100)
    meta: dict = Field(default_factory=dict, sa_type=JSONB, sa_column_kwargs={"name": "metadata"})
    ip: str = Field(default="", max_length=64)
    created_at: datetime = Timestamp(index=True)


class SystemConfig(TenantScoped, table=True):
    """Per-tenant key → JSON: feature flags, integration and pricing settings."""

    __tablename__: ClassVar[str] = "system_config"

    tenant_id: uuid.UUID = Field(foreign_key="tenants.id", primary_key=True)
    key: str = Field(primary_key=True, max_length=150)
    value: Any = Field(default=None, sa_type=JSONB, nullable=True)
    updated_at: datetime = Timestamp()
    updated_by_id: uuid.UUID | None = Field(default=None)


# --- events -------------------------------------------------------------------


class Outbox(TenantScoped, table=True):
    """An event written in the publisher's transaction, relayed to RQ after commit."""

    __tablename__: ClassVar[str] = "outbox"
    __table_args__ = (Index("ix_outbox_unsent", "tenant_id", "created_at", postgresql_where="sent_at IS NULL"),)

    id: uuid.UUID = Field(primary_key=True)  # the eventId
    event_type: str = Field(max_length=100, index=True)
    payload: dict = Field(default_factory=dict, sa_type=JSONB)  # the whole envelope
    created_at: datetime = Timestamp()
    sent_at: datetime | None = Timestamp(nullable=True)
    attempts: int = Field(default=0)
    last_error: str = Field(default="", max_length=2000)


class ProcessedEvent(TenantScoped, table=True):
    """(event, handler) pairs already applied: redelivery becomes a no-op."""

    __tablename__: ClassVar[str] = "processed_events"

    event_id: uuid.UUID = Field(primary_key=True)
    handler: str = Field(primary_key=True, max_length=200)
    processed_at: datetime = Timestamp()


class EventLog(TenantScoped, table=True):
    """Business event record for operational visibility (not security audit)."""

    __tablename__: ClassVar[str] = "event_log"
    __table_args__ = (Index("ix_event_log_tenant_created", "tenant_id", "created_at"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    event_type: str = Field(max_length=100)
    severity: str = Field(default="INFO", max_length=10)  # INFO | WARNING | ERROR
    message: str = Field(default="", max_length=2000)
    order_id: uuid.UUID | None = Field(default=None, index=True)
    print_job_id: uuid.UUID | None = Field(default=None, index=True)
    actor_user_id: uuid.UUID | None = Field(default=None)
    meta: dict = Field(default_factory=dict, sa_type=JSONB, sa_column_kwargs={"name": "metadata"})
    created_at: datetime = Timestamp()


# --- retries and notifications (used by every domain) ---------------------------------


class RetryEntry(TenantScoped, table=True):
    """Table-backed retries of outbound operations (seed: Retry Queue)."""

    __tablename__: ClassVar[str] = "retry_queue"
    __table_args__ = (Index("ix_retry_queue_due", "status", "next_run_at"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    job_type: str = Field(max_length=30)  # FULFILLMENT | PRINT_JOB_CREATION | CANCELLATION | …
    status: str = Field(default="PENDING", max_length=20)  # PENDING | PROCESSING | COMPLETED | FAILED
    order_id: uuid.UUID | None = Field(default=None, index=True)
    payload: dict = Field(default_factory=dict, sa_type=JSONB)
    attempts: int = Field(default=0)
    max_attempts: int = Field(default=5)
    next_run_at: datetime = Timestamp()
    last_error: str = Field(default="", max_length=2000)
    needs_attention: bool = Field(default=False)
    created_at: datetime = Timestamp()
    updated_at: datetime = Timestamp()


class Notification(TenantScoped, table=True):
    """An in-app notification for one staff user (the bell)."""

    __tablename__: ClassVar[str] = "notifications"
    __table_args__ = (
        Index("ix_notifications_user_unread", "tenant_id", "user_id", "read_at"),
        tenant_fk("notifications", "user_id", "users", ondelete="CASCADE"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID
    kind: str = Field(max_length=50)  # order.created | order.cancelled | failure
    severity: str = Field(default="INFO", max_length=10)
    title: str = Field(max_length=200)
    body: str = Field(default="", max_length=1000)
    link: str = Field(default="", max_length=300)
    order_id: uuid.UUID | None = Field(default=None)
    created_at: datetime = Timestamp()
    read_at: datetime | None = Timestamp(nullable=True)


class Attachment(TenantScoped, table=True):
    """A stored file (photo, PDF) of a tenant; bytes live in object storage."""

    __tablename__: ClassVar[str] = "attachments"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    kind: str = Field(max_length=40)  # build_photo | booklet | screenshot
    key: str = Field(max_length=500)  # tenant-relative storage key
    thumbnail_key: str = Field(default="", max_length=500)
    filename: str = Field(default="", max_length=255)
    content_type: str = Field(max_length=100)
    size: int = Field(default=0)
    width: int | None = Field(default=None)
    height: int | None = Field(default=None)
    created_by_id: uuid.UUID | None = Field(default=None)
    created_at: datetime = Timestamp()


@sa_event.listens_for(EventLog, "before_insert")
def _correlate(mapper, connection, entry: EventLog) -> None:
    """Every business event-log entry (an order's timeline) names the
    correlation id of the request, webhook or job that wrote it."""
    cid = logs.correlation_id()
    if cid and "correlationId" not in (entry.meta or {}):
        entry.meta = {**(entry.meta or {}), "correlationId": cid}
