"""The parts catalog (global: BuildCores OpenDB, no tenant) and each shop's
offers on it (tenant: price, stock, active) with the price-list imports."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import ClassVar

from sqlalchemy import Index, Numeric, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from app.platform.models import TenantScoped, Timestamp, tenant_key


class CatalogPart(SQLModel, table=True):
    """One upstream product. Global: no tenant_id, no RLS. `specs` holds the
    normalised fields the compatibility rules and filters read
    (`app.catalog.normalize`); `raw` is the upstream record unchanged."""

    __tablename__: ClassVar[str] = "catalog_parts"
    __table_args__ = (Index("ix_catalog_parts_slot_name", "slot", "name"),)

    id: uuid.UUID = Field(primary_key=True)  # upstream opendb_id
    slot: str = Field(max_length=20)  # cpu | motherboard | ram | gpu | storage | psu | case | cooler
    name: str = Field(max_length=400)
    manufacturer: str = Field(default="", max_length=100)
    specs: dict = Field(default_factory=dict, sa_type=JSONB)
    raw: dict = Field(default_factory=dict, sa_type=JSONB)
    source_hash: str = Field(
        max_length=64
    )  # sha256 of the record and its normalised fields: unchanged rows are skipped
    imported_at: datetime = Timestamp()
    updated_at: datetime = Timestamp()


class CatalogImport(SQLModel, table=True):
    """A run of the catalog import (global), with its progress."""

    __tablename__: ClassVar[str] = "catalog_imports"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    status: str = Field(default="QUEUED", max_length=20)  # QUEUED | RUNNING | COMPLETED | FAILED
    total: int = Field(default=0)
    processed: int = Field(default=0)
    created: int = Field(default=0)
    updated: int = Field(default=0)
    unchanged: int = Field(default=0)
    skipped: int = Field(default=0)  # records without an id or a name
    error: str = Field(default="", max_length=2000)
    started_by: str = Field(default="", max_length=200)
    # The shop whose user started the run; None for the platform (the command
    # line). Other shops see "another shop", never the name.
    started_by_tenant_id: uuid.UUID | None = Field(default=None)
    created_at: datetime = Timestamp()
    finished_at: datetime | None = Timestamp(nullable=True)


class PartOffer(TenantScoped, table=True):
    """A shop sells a catalog part: its price, stock and whether it is listed."""

    __tablename__: ClassVar[str] = "part_offers"
    __table_args__ = (
        UniqueConstraint("tenant_id", "part_id"),
        Index("ix_part_offers_tenant_slot", "tenant_id", "slot"),
        tenant_key("part_offers"),  # reservations of PC parts point at their offer
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    part_id: uuid.UUID = Field(foreign_key="catalog_parts.id", ondelete="CASCADE")
    slot: str = Field(max_length=20)  # copied from the part: offers load per slot
    price: Decimal = Field(sa_type=Numeric(10, 2))
    currency: str = Field(default="EUR", max_length=3)
    stock: int = Field(default=0)
    active: bool = Field(default=True)
    is_demo: bool = Field(default=False)  # demo prices, labelled as such
    created_at: datetime = Timestamp()
    updated_at: datetime = Timestamp()


class PriceListImport(TenantScoped, table=True):
    """One uploaded price list (CSV: opendb_id, price, stock) and its outcome."""

    __tablename__: ClassVar[str] = "price_list_imports"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    filename: str = Field(default="", max_length=255)
    status: str = Field(default="COMPLETED", max_length=20)  # COMPLETED | FAILED
    rows_total: int = Field(default=0)
    created: int = Field(default=0)
    updated: int = Field(default=0)
    unchanged: int = Field(default=0)
    failed: int = Field(default=0)
    errors: list = Field(default_factory=list, sa_type=JSONB)  # [{row, opendbId, message}]
    created_by_id: uuid.UUID | None = Field(default=None)
    created_at: datetime = Timestamp()
