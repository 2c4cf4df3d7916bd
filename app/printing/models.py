"""Printing: product mappings (SKU → printable parts), print jobs, the
SimplyPrint connection, the printer cache and processed SimplyPrint webhooks."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import ClassVar

from sqlalchemy import BigInteger, Column, Identity, Index, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field

from app.platform.crypto import EncryptedString
from app.platform.models import TenantScoped, Timestamp, tenant_fk, tenant_key


class ProductMapping(TenantScoped, table=True):
    """A Shopify SKU (and variant) that we print, with its default profile."""

    __tablename__: ClassVar[str] = "product_mappings"
    __table_args__ = (UniqueConstraint("tenant_id", "sku"), tenant_key("product_mappings"))

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    sku: str = Field(max_length=100)
    variant_title: str = Field(default="", max_length=200)
    name: str = Field(max_length=200)
    description: str = Field(default="", max_length=2000)
    # layer_height, infill, supports, material, nozzle, … (free-form JSON)
    default_print_profile: dict = Field(default_factory=dict, sa_type=JSONB)
    # One packed unit, for its parcel (shipping): empty = the printed parts'
    # filament, or the shop's default
    weight_grams: int | None = Field(default=None)
    length_cm: int | None = Field(default=None)
    width_cm: int | None = Field(default=None)
    height_cm: int | None = Field(default=None)
    active: bool = Field(default=True)
    created_at: datetime = Timestamp()
    updated_at: datetime = Timestamp()


class AssemblyPart(TenantScoped, table=True):
    """One printable component of a mapped product."""

    __tablename__: ClassVar[str] = "assembly_parts"
    __table_args__ = (
        Index("ix_assembly_parts_mapping_position", "product_mapping_id", "position"),
        tenant_key("assembly_parts"),
        tenant_fk("assembly_parts", "product_mapping_id", "product_mappings", ondelete="CASCADE"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    product_mapping_id: uuid.UUID
    part_name: str = Field(max_length=200)
    part_number: str = Field(default="", max_length=100)
    simplyprint_file_id: str = Field(default="", max_length=100)  # the API file id (64 hex)
    filename: str = Field(default="", max_length=255)
    file_key: str = Field(default="", max_length=500)  # our stored copy (tenant storage key)
    file_size: int = Field(default=0)
    file_uploaded_at: datetime | None = Timestamp(nullable=True)  # to SimplyPrint
    print_profile: dict = Field(default_factory=dict, sa_type=JSONB)  # overrides of the mapping's profile
    estimated_minutes: int | None = Field(default=None)
    estimated_filament_g: float | None = Field(default=None)
    quantity_per_product: int = Field(default=1)
    position: int = Field(default=0)
    created_at: datetime = Timestamp()
    updated_at: datetime = Timestamp()


class PrintJob(TenantScoped, table=True):
    """One print of one part copy. ORDER jobs belong to an order line item;
    STOCK jobs print for the shelf. `sequence` gives FIFO within a purpose."""

    __tablename__: ClassVar[str] = "print_jobs"
    __table_args__ = (
        # one job per (line item, part, copy): replays cannot create more
        UniqueConstraint("tenant_id", "line_item_id", "assembly_part_id", "copy_number"),
        UniqueConstraint("tenant_id", "simplyprint_queue_item_id"),
        Index("ix_print_jobs_tenant_status", "tenant_id", "status"),
        Index("ix_print_jobs_order", "order_id"),
        Index("ix_print_jobs_uid", "tenant_id", "simplyprint_job_uid"),
        tenant_key("print_jobs"),  # stock batches point at their jobs
        tenant_fk("print_jobs", "order_id", "orders", ondelete="CASCADE"),
        tenant_fk("print_jobs", "line_item_id", "order_line_items", ondelete="CASCADE"),
        tenant_fk("print_jobs", "product_mapping_id", "product_mappings", ondelete="SET NULL"),
        tenant_fk("print_jobs", "assembly_part_id", "assembly_parts", ondelete="SET NULL"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    sequence: int | None = Field(default=None, sa_column=Column(BigInteger, Identity(), nullable=False))
    order_id: uuid.UUID | None = Field(default=None)
    line_item_id: uuid.UUID | None = Field(default=None)
    product_mapping_id: uuid.UUID | None = Field(default=None)
    assembly_part_id: uuid.UUID | None = Field(default=None)
    sku: str = Field(default="", max_length=100)
    part_name: str = Field(default="", max_length=200)
    filename: str = Field(default="", max_length=255)
    copy_number: int = Field(default=1)
    purpose: str = Field(default="ORDER", max_length=10)  # ORDER | STOCK
    status: str = Field(default="QUEUED", max_length=20)
    simplyprint_queue_item_id: int | None = Field(default=None, sa_type=BigInteger)  # created_id, stable
    simplyprint_job_id: int | None = Field(default=None, sa_type=BigInteger)  # the print attempt
    simplyprint_job_uid: str | None = Field(default=None, max_length=64)
    submitting_at: datetime | None = Timestamp(nullable=True)  # an AddItem call started (crash recovery)
    printer_id: int | None = Field(default=None, sa_type=BigInteger)  # SimplyPrint printer id
    printer_name: str = Field(default="", max_length=200)
    progress: int = Field(default=0)  # 0-100
    error: str = Field(default="", max_length=1000)
    needs_review: bool = Field(default=False)  # was PRINTING when its order was cancelled
    scrap: bool = Field(default=False)  # completed for an order that was cancelled
    last_event_at: int = Field(default=0, sa_type=BigInteger)  # newest SimplyPrint timestamp applied (unix s)
    queued_at: datetime = Timestamp()
    assigned_at: datetime | None = Timestamp(nullable=True)
    started_at: datetime | None = Timestamp(nullable=True)
    completed_at: datetime | None = Timestamp(nullable=True)
    failed_at: datetime | None = Timestamp(nullable=True)
    cancelled_at: datetime | None = Timestamp(nullable=True)
    created_at: datetime = Timestamp()
    updated_at: datetime = Timestamp()


class Printer(TenantScoped, table=True):
    """A SimplyPrint printer as last seen (poll or webhook)."""

    __tablename__: ClassVar[str] = "printers"
    __table_args__ = (UniqueConstraint("tenant_id", "simplyprint_id"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    simplyprint_id: int = Field(sa_type=BigInteger)
    name: str = Field(default="", max_length=200)
    model: str = Field(default="", max_length=100)
    state: str = Field(default="offline", max_length=30)
    online: bool = Field(default=False)
    current_job_uid: str | None = Field(default=None, max_length=64)
    current_file: str = Field(default="", max_length=255)
    percentage: int = Field(default=0)
    updated_at: datetime = Timestamp()


class SimplyPrintConnection(TenantScoped, table=True):
    """A tenant's SimplyPrint account; the key and webhook secret encrypted."""

    __tablename__: ClassVar[str] = "simplyprint_connections"
    __table_args__ = (UniqueConstraint("tenant_id"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    company_id: str = Field(max_length=20)
    api_key: str = Field(sa_type=EncryptedString)
    webhook_secret: str = Field(sa_type=EncryptedString)
    api_base_url: str = Field(default="", max_length=500)  # https://api.simplyprint.io unless overridden
    files_base_url: str = Field(default="", max_length=500)  # https://files.simplyprint.io unless overridden
    queue_group: int | None = Field(default=None)
    poll_minutes: int = Field(default=5)
    reconcile_enabled: bool = Field(default=True)
    connected_at: datetime | None = Timestamp(nullable=True)
    disconnected_at: datetime | None = Timestamp(nullable=True)
    last_poll_at: datetime | None = Timestamp(nullable=True)
    last_error: str = Field(default="", max_length=1000)
    updated_at: datetime = Timestamp()


class ProcessedSimplyPrintWebhook(TenantScoped, table=True):
    """A SimplyPrint delivery taken in (at-least-once, unordered): the inbox a
    worker drains (processed_at is set once it is applied)."""

    __tablename__: ClassVar[str] = "processed_simplyprint_webhooks"
    __table_args__ = (
        UniqueConstraint("tenant_id", "webhook_id", "event", "job_uid", "timestamp"),
        Index(
            "ix_sp_webhooks_pending",
            "tenant_id",
            "timestamp",
            "received_at",
            postgresql_where="processed_at IS NULL AND outcome = 'received'",
        ),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    webhook_id: str = Field(max_length=40)
    event: str = Field(max_length=60)
    job_uid: str = Field(default="", max_length=64)
    timestamp: int = Field(default=0, sa_type=BigInteger)
    payload: dict = Field(default_factory=dict, sa_type=JSONB)
    outcome: str = Field(default="received", max_length=40)  # received | applied | unchanged | unmatched | ignored
    print_job_id: uuid.UUID | None = Field(default=None)
    received_at: datetime = Timestamp()
    processed_at: datetime | None = Timestamp(nullable=True)
