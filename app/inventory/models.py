"""Inventory (seed 003: Inventory Tracking, Stock Replenishment, Transaction
Ledger): the stock of each printed product, its replenishment batches, PC
parts reserved for builds, spare parts issued to repair worksheets, the
immutable ledger of every stock change, and the replenishment scheduler's runs.

The seed keeps the stock figures on ProductMapping; here they live in their
own table, one row per product mapping (`stock_levels`), so the printing
domain's table stays the print farm's and inventory owns what it changes.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import ClassVar

from sqlalchemy import CheckConstraint, Index, Numeric, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field

from app.platform.models import TenantScoped, Timestamp, tenant_fk, tenant_key


class StockLevel(TenantScoped, table=True):
    """A printed product's shelf: units on it and how it is replenished.
    `current_stock` never goes below zero (a constraint, not only a check);
    `version` moves with every change of the figure (optimistic locking)."""

    __tablename__: ClassVar[str] = "stock_levels"
    __table_args__ = (
        UniqueConstraint("tenant_id", "product_mapping_id"),
        CheckConstraint("current_stock >= 0", name="ck_stock_levels_current_not_negative"),
        CheckConstraint("minimum_stock >= 0", name="ck_stock_levels_minimum_not_negative"),
        CheckConstraint(
            "maximum_stock IS NULL OR maximum_stock >= minimum_stock", name="ck_stock_levels_maximum_at_least_minimum"
        ),
        CheckConstraint("replenishment_batch_size BETWEEN 1 AND 100", name="ck_stock_levels_batch_size"),
        tenant_key("stock_levels"),
        tenant_fk("stock_levels", "product_mapping_id", "product_mappings", ondelete="CASCADE"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    product_mapping_id: uuid.UUID
    current_stock: int = Field(default=0)
    minimum_stock: int = Field(default=0)  # replenishment trigger (0: never replenished)
    maximum_stock: int | None = Field(default=None)  # optional cap on what replenishment plans
    replenishment_priority: int = Field(default=0)  # higher first
    replenishment_batch_size: int = Field(default=1)  # batches (units) planned per run, at most
    version: int = Field(default=0)
    low_notified: bool = Field(default=False)  # staff were told it is below minimum (reset once it is not)
    updated_at: datetime = Timestamp()


class StockBatch(TenantScoped, table=True):
    """One unit of a product printed for the shelf: its assembly parts as
    STOCK print jobs (linked in `stock_batch_jobs`)."""

    __tablename__: ClassVar[str] = "stock_batches"
    __table_args__ = (
        Index("ix_stock_batches_tenant_status", "tenant_id", "status"),
        Index("ix_stock_batches_mapping", "tenant_id", "product_mapping_id", "status"),
        tenant_key("stock_batches"),
        tenant_fk("stock_batches", "product_mapping_id", "product_mappings", ondelete="CASCADE"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    product_mapping_id: uuid.UUID
    status: str = Field(default="IN_PROGRESS", max_length=20)  # IN_PROGRESS | COMPLETED | FAILED | CANCELLED
    total_jobs: int = Field(default=0)
    completed_jobs: int = Field(default=0)
    origin: str = Field(default="SCHEDULER", max_length=20)  # SCHEDULER | MANUAL
    created_by_id: uuid.UUID | None = Field(default=None)
    error: str = Field(default="", max_length=500)
    created_at: datetime = Timestamp()
    updated_at: datetime = Timestamp()
    completed_at: datetime | None = Timestamp(nullable=True)
    failed_at: datetime | None = Timestamp(nullable=True)
    cancelled_at: datetime | None = Timestamp(nullable=True)


class StockBatchJob(TenantScoped, table=True):
    """A print job of a stock batch (seed: StockBatch contains PrintJob)."""

    __tablename__: ClassVar[str] = "stock_batch_jobs"
    __table_args__ = (
        UniqueConstraint("tenant_id", "print_job_id"),
        Index("ix_stock_batch_jobs_batch", "tenant_id", "stock_batch_id"),
        tenant_fk("stock_batch_jobs", "stock_batch_id", "stock_batches", ondelete="CASCADE"),
        tenant_fk("stock_batch_jobs", "print_job_id", "print_jobs", ondelete="CASCADE"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    stock_batch_id: uuid.UUID
    print_job_id: uuid.UUID


class InventoryTransaction(TenantScoped, table=True):
    """An immutable ledger entry (a database trigger refuses UPDATE and
    DELETE). For exactly one of: a printed product (`product_mapping_id`), a
    PC part the shop sells (`part_offer_id`) or a spare part for repairs
    (`spare_part_id`); `quantity` always positive, `direction` IN or OUT of
    the shelf. RESERVED / RELEASED entries move a part's reserved quantity,
    not its units on hand. `stock_after` is the figure right after the entry
    (the stock-over-time chart reads it). `idempotency_key`, when given, is
    unique per shop: a retried request finds the entry it already wrote."""

    __tablename__: ClassVar[str] = "inventory_transactions"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="ck_inventory_transactions_quantity_positive"),
        CheckConstraint("direction IN ('IN', 'OUT')", name="ck_inventory_transactions_direction"),
        CheckConstraint(
            "num_nonnulls(product_mapping_id, part_offer_id, spare_part_id) = 1",
            name="ck_inventory_transactions_one_item",
        ),
        Index("ix_inventory_transactions_mapping", "tenant_id", "product_mapping_id", "created_at"),
        Index("ix_inventory_transactions_offer", "tenant_id", "part_offer_id", "created_at"),
        Index("ix_inventory_transactions_order", "tenant_id", "order_id"),
        Index("ix_inventory_transactions_spare_part", "tenant_id", "spare_part_id", "created_at"),
        Index(
            "ix_inventory_transactions_worksheet",
            "tenant_id",
            "reference_id",
            postgresql_where=text("reference_type = 'WORKSHEET'"),
        ),
        Index(
            "uq_inventory_transactions_idempotency_key",
            "tenant_id",
            "idempotency_key",
            unique=True,
            postgresql_where=text("idempotency_key IS NOT NULL"),
        ),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    # no foreign keys: the ledger outlives what it names (a deleted mapping keeps its history)
    product_mapping_id: uuid.UUID | None = Field(default=None)
    part_offer_id: uuid.UUID | None = Field(default=None)
    spare_part_id: uuid.UUID | None = Field(default=None)
    sku: str = Field(default="", max_length=100)  # the product's SKU or part's name then
    # PRODUCED | CONSUMED | ADJUSTMENT_IN | ADJUSTMENT_OUT | SCRAPPED | RESERVED | RELEASED
    # | RECEIVED | ISSUED | RETURNED (spare parts)
    transaction_type: str = Field(max_length=20)
    quantity: int
    direction: str = Field(max_length=3)  # IN | OUT
    reference_type: str = Field(max_length=20)  # STOCK_BATCH | ORDER | LINE_ITEM | MANUAL | WORKSHEET
    reference_id: str = Field(default="", max_length=64)
    order_id: uuid.UUID | None = Field(default=None)
    line_item_id: uuid.UUID | None = Field(default=None)
    reason: str = Field(default="", max_length=500)
    stock_after: int = Field(default=0)
    actor_user_id: uuid.UUID | None = Field(default=None)
    idempotency_key: str | None = Field(default=None, max_length=100)
    created_at: datetime = Timestamp()


class PartReservation(TenantScoped, table=True):
    """PC parts held for a builder order's build (InvenTree's semantics:
    available = on hand - reserved). ACTIVE until the build completes
    (CONSUMED) or the order is cancelled (RELEASED)."""

    __tablename__: ClassVar[str] = "part_reservations"
    __table_args__ = (
        UniqueConstraint("tenant_id", "line_item_id"),
        Index("ix_part_reservations_order", "tenant_id", "order_id"),
        Index("ix_part_reservations_offer", "tenant_id", "part_offer_id", "status"),
        CheckConstraint("quantity > 0", name="ck_part_reservations_quantity_positive"),
        tenant_fk("part_reservations", "order_id", "orders", ondelete="CASCADE"),
        tenant_fk("part_reservations", "line_item_id", "order_line_items", ondelete="CASCADE"),
        tenant_fk("part_reservations", "part_offer_id", "part_offers", ondelete="CASCADE"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    order_id: uuid.UUID
    line_item_id: uuid.UUID
    part_offer_id: uuid.UUID
    part_id: uuid.UUID
    quantity: int
    status: str = Field(default="ACTIVE", max_length=20)  # ACTIVE | CONSUMED | RELEASED
    created_at: datetime = Timestamp()
    closed_at: datetime | None = Timestamp(nullable=True)


class ReplenishmentRun(TenantScoped, table=True):
    """One evaluation of the replenishment scheduler: what it found, in
    words, and what it planned (the status card and its API read the newest)."""

    __tablename__: ClassVar[str] = "replenishment_runs"
    __table_args__ = (Index("ix_replenishment_runs_tenant_ran", "tenant_id", "ran_at"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    ran_at: datetime = Timestamp()
    trigger: str = Field(default="schedule", max_length=20)  # schedule | manual
    planned: bool = Field(default=False)
    batches_created: int = Field(default=0)
    summary: str = Field(default="", max_length=500)  # the one sentence: why it did or did not plan
    reasons: list = Field(default_factory=list, sa_type=JSONB)  # [{condition, ok, text}]
    products: list = Field(default_factory=list, sa_type=JSONB)  # [{sku, batches, note}]
    duration_ms: int = Field(default=0)


class SparePart(TenantScoped, table=True):
    """A spare part repairs use (a screen, a battery, a charge port…): units
    on the shelf, issued to worksheets and returned through the ledger.
    `current_stock` never goes below zero (a constraint, not only a check);
    `version` moves with every change of the row."""

    __tablename__: ClassVar[str] = "spare_parts"
    __table_args__ = (
        UniqueConstraint("tenant_id", "sku", name="uq_spare_parts_tenant_id_sku"),
        CheckConstraint("current_stock >= 0", name="ck_spare_parts_current_not_negative"),
        CheckConstraint("minimum_stock >= 0", name="ck_spare_parts_minimum_not_negative"),
        CheckConstraint("unit_cost >= 0", name="ck_spare_parts_unit_cost_not_negative"),
        Index("ix_spare_parts_tenant_name", "tenant_id", "name"),
        tenant_key("spare_parts"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    sku: str = Field(max_length=100)
    name: str = Field(max_length=200)
    manufacturer: str = Field(default="", max_length=100)
    category: str = Field(default="other", max_length=40)  # screen | battery | port | camera | housing | board | other
    compatible_models: list = Field(default_factory=list, sa_type=JSONB)  # ["iPhone 12", "iPhone 12 Pro"]
    unit_cost: Decimal = Field(default=Decimal("0.00"), sa_type=Numeric(12, 2))
    current_stock: int = Field(default=0)
    minimum_stock: int = Field(default=0)  # below it the part is low (staff hear once)
    location: str = Field(default="", max_length=100)  # shelf, drawer, bin
    active: bool = Field(default=True)
    version: int = Field(default=0)
    created_at: datetime = Timestamp()
    updated_at: datetime = Timestamp()
