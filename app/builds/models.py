"""Builds: one per order, with photos, QA, test runs, timeline and events (seed 000)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import ClassVar

from sqlalchemy import Index, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field

from app.platform.models import TenantScoped, Timestamp, tenant_fk, tenant_key

PHOTO_SLOTS = (
    "coverPhoto",
    "mboIoPhoto",
    "gpuIoPhoto",
    "caseIoPhoto",
    "psuPhoto",
    "powerBtnPhoto",
    "panelAPhoto",
    "panelBPhoto",
    "foamPhoto",
    "thermalPhoto",
)
# What people call each slot (pages, toasts, the packaging gate's list).
PHOTO_SLOT_LABELS = {
    "coverPhoto": "Cover",
    "mboIoPhoto": "Motherboard I/O",
    "gpuIoPhoto": "GPU I/O",
    "caseIoPhoto": "Case I/O",
    "psuPhoto": "PSU",
    "powerBtnPhoto": "Power button",
    "panelAPhoto": "Panel A",
    "panelBPhoto": "Panel B",
    "foamPhoto": "Foam",
    "thermalPhoto": "Thermal paste",
}
OPTIONAL_SLOTS = ("thermalPhoto",)
REQUIRED_SLOTS = tuple(s for s in PHOTO_SLOTS if s not in OPTIONAL_SLOTS)


def slot_column(slot: str) -> str:
    """coverPhoto → cover_photo_id."""
    snake = "".join(f"_{c.lower()}" if c.isupper() else c for c in slot)
    return f"{snake}_id"


class Build(TenantScoped, table=True):
    __tablename__: ClassVar[str] = "builds"
    __table_args__ = (
        UniqueConstraint("order_id"),
        Index("ix_builds_tenant_status", "tenant_id", "status"),
        tenant_key("builds"),
        tenant_fk("builds", "order_id", "orders", ondelete="CASCADE"),
        tenant_fk("builds", "assignee_id", "users", ondelete="SET NULL"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    order_id: uuid.UUID
    status: str = Field(default="pending", max_length=20)
    assignee_id: uuid.UUID | None = Field(default=None)
    started_at: datetime | None = Timestamp(nullable=True)
    finished_at: datetime | None = Timestamp(nullable=True)
    # When the status last changed: the board's "in testing for 5 hours".
    status_changed_at: datetime | None = Timestamp(nullable=True)

    cover_photo_id: uuid.UUID | None = Field(default=None)
    mbo_io_photo_id: uuid.UUID | None = Field(default=None)
    gpu_io_photo_id: uuid.UUID | None = Field(default=None)
    case_io_photo_id: uuid.UUID | None = Field(default=None)
    psu_photo_id: uuid.UUID | None = Field(default=None)
    power_btn_photo_id: uuid.UUID | None = Field(default=None)
    panel_a_photo_id: uuid.UUID | None = Field(default=None)
    panel_b_photo_id: uuid.UUID | None = Field(default=None)
    foam_photo_id: uuid.UUID | None = Field(default=None)
    thermal_photo_id: uuid.UUID | None = Field(default=None)

    qa_result: bool | None = Field(default=None)
    qa_notes: str = Field(default="", max_length=5000)
    qa_checklist: list = Field(default_factory=list, sa_type=JSONB)  # [{item, done, notes}]
    qa_passed_at: datetime | None = Timestamp(nullable=True)
    qa_signed_off_by_id: uuid.UUID | None = Field(default=None)
    system_config: dict = Field(default_factory=dict, sa_type=JSONB)
    benchmarks: list = Field(default_factory=list, sa_type=JSONB)  # [{name, score, unit, photoAttachmentId}]
    stress_tests: list = Field(default_factory=list, sa_type=JSONB)
    cpu_idle_temp: float | None = Field(default=None)
    cpu_load_temp: float | None = Field(default=None)
    gpu_idle_temp: float | None = Field(default=None)
    gpu_load_temp: float | None = Field(default=None)
    ambient_temp: float | None = Field(default=None)

    quick_start_booklet_id: uuid.UUID | None = Field(default=None)
    technical_dossier_booklet_id: uuid.UUID | None = Field(default=None)
    booklet_status: str = Field(default="none", max_length=20)  # none | queued | rendering | ready | failed
    booklet_error: str = Field(default="", max_length=2000)

    created_at: datetime = Timestamp()
    updated_at: datetime = Timestamp()


class TestRun(TenantScoped, table=True):
    __tablename__: ClassVar[str] = "build_test_runs"
    __table_args__ = (tenant_fk("build_test_runs", "build_id", "builds", ondelete="CASCADE"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    build_id: uuid.UUID = Field(index=True)
    type: str = Field(max_length=30)
    status: str = Field(default="pending", max_length=20)
    score: float | None = Field(default=None)
    notes: str = Field(default="", max_length=5000)
    photo_attachment_id: uuid.UUID | None = Field(default=None)
    created_by_id: uuid.UUID | None = Field(default=None)
    created_at: datetime = Timestamp()
    updated_at: datetime = Timestamp()


class BuildTimelineStep(TenantScoped, table=True):
    __tablename__: ClassVar[str] = "build_timeline_steps"
    __table_args__ = (tenant_fk("build_timeline_steps", "build_id", "builds", ondelete="CASCADE"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    build_id: uuid.UUID = Field(index=True)
    step: str = Field(max_length=30)
    note: str = Field(default="", max_length=2000)
    actor_id: uuid.UUID | None = Field(default=None)
    created_at: datetime = Timestamp()


class BuildEventLog(TenantScoped, table=True):
    __tablename__: ClassVar[str] = "build_event_log"
    __table_args__ = (tenant_fk("build_event_log", "build_id", "builds", ondelete="CASCADE"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    build_id: uuid.UUID = Field(index=True)
    event_type: str = Field(max_length=30)
    severity: str = Field(default="info", max_length=10)
    message: str = Field(max_length=5000)
    actor_id: uuid.UUID | None = Field(default=None)
    created_at: datetime = Timestamp()
