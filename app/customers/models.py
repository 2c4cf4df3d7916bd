"""Storefront customers: accounts distinct from staff, in the same tenant."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import ClassVar

from sqlalchemy import DateTime, UniqueConstraint
from sqlmodel import Field

from app.platform.models import TenantScoped, Timestamp, tenant_fk, tenant_key


class Customer(TenantScoped, table=True):
    __tablename__: ClassVar[str] = "customers"
    __table_args__ = (UniqueConstraint("tenant_id", "email"), tenant_key("customers"))

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    email: str = Field(max_length=254)  # stored lower-case
    name: str = Field(default="", max_length=200)
    password_hash: str = Field(max_length=300)
    is_active: bool = Field(default=True)
    created_at: datetime = Timestamp()
    last_login_at: datetime | None = Timestamp(nullable=True)


class CustomerSession(TenantScoped, table=True):
    """A signed-in customer browser; only the token's SHA-256 is stored."""

    __tablename__: ClassVar[str] = "customer_sessions"
    __table_args__ = (tenant_fk("customer_sessions", "customer_id", "customers", ondelete="CASCADE"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    customer_id: uuid.UUID = Field(index=True)
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Timestamp()
    expires_at: datetime = Field(sa_type=DateTime(timezone=True), nullable=False)
