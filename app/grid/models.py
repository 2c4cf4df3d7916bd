"""Grid (seed 003: GridFlock): generation jobs, presets and the cache of
generated and sliced pieces.

- `GridJob`: one generation for an order line, the staff generator or the
  storefront (seed: GridFlock Job; BASEPLATE or PLATE_SET, parent/child: a
  plate set's children are its segments).
- `GridPreset`: saved parameters; system presets have no shop and are seen
  by every shop, a shop's public preset is seen by every shop too, a
  private one only by its shop.
- `GridArtifact`: one unique piece for one printer profile: its mesh, its
  G-code with grams and print time, and its SimplyPrint upload. Keyed by
  the content hash of (piece geometry, printer profile), so an identical
  piece is generated and sliced once per shop.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import ClassVar

from sqlalchemy import Column, ForeignKey, Index, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from app.platform.models import TenantScoped, Timestamp, tenant_fk, tenant_key


class GridJob(TenantScoped, table=True):
    __tablename__: ClassVar[str] = "grid_jobs"
    __table_args__ = (
        Index("ix_grid_jobs_tenant_status", "tenant_id", "status"),
        Index("ix_grid_jobs_tenant_line", "tenant_id", "line_item_id"),
        # one generation per order line: a redelivered order.created finds it
        Index(
            "uq_grid_jobs_line",
            "tenant_id",
            "line_item_id",
            unique=True,
            postgresql_where=text("parent_id IS NULL AND line_item_id IS NOT NULL"),
        ),
        Index("ix_grid_jobs_parent", "tenant_id", "parent_id", "number"),
        tenant_key("grid_jobs"),
        tenant_fk("grid_jobs", "parent_id", "grid_jobs", ondelete="CASCADE"),
        tenant_fk("grid_jobs", "order_id", "orders", ondelete="CASCADE"),
        tenant_fk("grid_jobs", "line_item_id", "order_line_items", ondelete="CASCADE"),
        tenant_fk("grid_jobs", "product_mapping_id", "product_mappings", ondelete="SET NULL"),
        tenant_fk("grid_jobs", "artifact_id", "grid_artifacts", ondelete="SET NULL"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    type: str = Field(default="PLATE_SET", max_length=12)  # BASEPLATE | PLATE_SET
    parent_id: uuid.UUID | None = Field(default=None)  # a segment's plate set
    number: int | None = Field(default=None)  # a segment's number in its set
    status: str = Field(default="QUEUED", max_length=12)  # QUEUED PROCESSING COMPLETED FAILED EXPIRED
    origin: str = Field(default="order", max_length=12)  # order | staff | storefront
    parameters: dict = Field(default_factory=dict, sa_type=JSONB)  # GridOptions as JSON
    parameters_hash: str = Field(default="", max_length=64)
    printer_profile: str = Field(default="", max_length=60)  # the printer preset it was sliced for
    # the printer profile's settings (PrinterProfile fields): a retry slices with what the job began with
    profile_settings: dict = Field(default_factory=dict, sa_type=JSONB)
    order_id: uuid.UUID | None = Field(default=None)
    line_item_id: uuid.UUID | None = Field(default=None)
    sku: str = Field(default="", max_length=100)
    step: str = Field(default="", max_length=20)  # the step running or last done
    steps_done: list = Field(default_factory=list, sa_type=JSONB)  # stl-generation, slicing, …
    failed_step: str = Field(default="", max_length=20)
    error: str = Field(default="", max_length=1000)
    note: str = Field(default="", max_length=500)  # e.g. manual mode: the upload waits for the submission
    attempts: int = Field(default=0)
    needs_attention: bool = Field(default=False)  # the retry queue gave up: a person must look
    progress: int = Field(default=0)  # 0-100
    segment_count: int = Field(default=0)
    unique_shapes: int = Field(default=0)
    cells_x: float = Field(default=0)
    cells_y: float = Field(default=0)
    filament_g: float | None = Field(default=None)
    print_seconds: int | None = Field(default=None)
    price: str = Field(default="", max_length=20)  # decimal as text, in `currency`
    currency: str = Field(default="", max_length=3)
    artifact_id: uuid.UUID | None = Field(default=None)  # a segment's piece
    product_mapping_id: uuid.UUID | None = Field(default=None)
    created_by: str = Field(default="", max_length=200)
    created_at: datetime = Timestamp()
    started_at: datetime | None = Field(default=None)
    finished_at: datetime | None = Field(default=None)
    expires_at: datetime | None = Field(default=None)
    updated_at: datetime = Timestamp()


class GridArtifact(TenantScoped, table=True):
    __tablename__: ClassVar[str] = "grid_artifacts"
    __table_args__ = (
        UniqueConstraint("tenant_id", "key"),
        Index("ix_grid_artifacts_shape", "tenant_id", "shape_key"),
        tenant_key("grid_artifacts"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    key: str = Field(max_length=64)  # sha256 of (shape key, profile key)
    shape_key: str = Field(max_length=64)
    profile_key: str = Field(max_length=64)
    label: str = Field(default="", max_length=10)
    stl_key: str = Field(default="", max_length=500)  # tenant storage
    stl_bytes: int = Field(default=0)
    triangles: int = Field(default=0)
    width_mm: float = Field(default=0)  # footprint with protrusions
    depth_mm: float = Field(default=0)
    height_mm: float = Field(default=0)
    volume_mm3: float = Field(default=0)
    gcode_key: str = Field(default="", max_length=500)
    gcode_bytes: int = Field(default=0)
    filament_g: float | None = Field(default=None)
    print_seconds: int | None = Field(default=None)
    simplyprint_file_id: str = Field(default="", max_length=100)
    uploaded_at: datetime | None = Field(default=None)
    created_at: datetime = Timestamp()
    last_used_at: datetime = Timestamp()


class GridPreset(SQLModel, table=True):
    __tablename__: ClassVar[str] = "grid_presets"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    tenant_id: uuid.UUID | None = Field(
        default=None, sa_column=Column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True, nullable=True)
    )  # None: a system preset
    name: str = Field(max_length=100)
    description: str = Field(default="", max_length=500)
    parameters: dict = Field(default_factory=dict, sa_type=JSONB)  # GridOptions fields it sets
    is_public: bool = Field(default=False)
    is_system: bool = Field(default=False)
    created_by: str = Field(default="", max_length=200)
    created_at: datetime = Timestamp()
    updated_at: datetime = Timestamp()
