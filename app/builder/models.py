"""Saved PC builds (seed 002: SavedAnon kept server-side, SavedAccount, Shared)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import ClassVar

from sqlalchemy import Index, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field

from app.platform.models import TenantScoped, Timestamp, tenant_fk, tenant_key


class SavedBuild(TenantScoped, table=True):
    """A build kept on the server: owned by a customer (SavedAccount), or
    anonymous (a large cookie's server-side copy, or an anonymous build that
    was shared). `slots` is the canonical slot map {slot: [opendb ids]}.
    Deleting keeps the row (deleted_at) so its share link can answer 410."""

    __tablename__: ClassVar[str] = "saved_builds"
    __table_args__ = (
        UniqueConstraint("tenant_id", "share_slug"),
        Index("ix_saved_builds_tenant_customer", "tenant_id", "customer_id"),
        tenant_key("saved_builds"),
        tenant_fk("saved_builds", "customer_id", "customers", ondelete="SET NULL"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    customer_id: uuid.UUID | None = Field(default=None)
    name: str = Field(default="My build", max_length=120)
    slots: dict = Field(default_factory=dict, sa_type=JSONB)
    share_slug: str | None = Field(default=None, max_length=40)
    # An owner-less build belongs to the one browser holding this token (SHA-256 here, the token in its cookie).
    anon_token_hash: str | None = Field(default=None, max_length=64)
    shared_at: datetime | None = Timestamp(nullable=True)
    claimed_at: datetime | None = Timestamp(nullable=True)
    deleted_at: datetime | None = Timestamp(nullable=True)
    created_at: datetime = Timestamp()
    updated_at: datetime = Timestamp()
