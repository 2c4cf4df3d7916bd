"""Repairs (seed 001: a repair asset management system): client businesses send
batches of devices (phones, tablets, laptops) to be repaired. The shop receives
them against an expected batch, triages each device (an "asset"), reviews the
ones that may be beyond economic repair, repairs them on worksheets with spare
parts from inventory, checks them, dispatches them back to the client and
invoices the work.

Master data: repair clients, device models, technicians and teams, the
repair-codes catalogue (24 canonical codes shared by every shop, plus a shop's
own), price rules. Diagnostic-tool logs ("drfone" exports) bring error codes;
codes with a mapping become repair codes on the asset, the rest wait in the
unmapped-codes queue until someone maps them.

Every table here is a tenant table with forced row-level security, except the
canonical rows of `repair_codes` (no shop), which every shop reads and none
changes.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import ClassVar

from sqlalchemy import CheckConstraint, Column, Date, ForeignKey, Index, Numeric, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from app.platform.models import TenantScoped, Timestamp, tenant_fk, tenant_key

MONEY = Numeric(12, 2)

# --- master data -------------------------------------------------------------------------


class RepairClient(TenantScoped, table=True):
    """A business that sends devices in for repair and is invoiced for the work."""

    __tablename__: ClassVar[str] = "repair_clients"
    __table_args__ = (
        UniqueConstraint("tenant_id", "name", name="uq_repair_clients_name"),
        CheckConstraint("payment_terms_days BETWEEN 0 AND 365", name="ck_repair_clients_terms"),
        CheckConstraint("ber_threshold_percent BETWEEN 1 AND 100", name="ck_repair_clients_ber_threshold"),
        tenant_key("repair_clients"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    name: str = Field(max_length=200)
    contact_name: str = Field(default="", max_length=200)
    email: str = Field(default="", max_length=254)
    phone: str = Field(default="", max_length=50)
    billing_address: str = Field(default="", max_length=1000)  # lines, as printed on the invoice
    country: str = Field(default="", max_length=2)
    vat_number: str = Field(default="", max_length=40)
    payment_terms_days: int = Field(default=30)
    currency: str = Field(default="EUR", max_length=3)
    # repair cost (parts + labour) above this share of the asset's value: beyond economic repair
    ber_threshold_percent: int = Field(default=70)
    notes: str = Field(default="", max_length=2000)
    active: bool = Field(default=True)
    created_at: datetime = Timestamp()
    updated_at: datetime = Timestamp()


class DeviceModel(TenantScoped, table=True):
    """A make and model of device the shop repairs (variants: storage, colour…)."""

    __tablename__: ClassVar[str] = "device_models"
    __table_args__ = (
        UniqueConstraint("tenant_id", "manufacturer", "model", name="uq_device_models_name"),
        tenant_key("device_models"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    manufacturer: str = Field(max_length=100)
    model: str = Field(max_length=200)
    category: str = Field(default="phone", max_length=20)  # phone | tablet | laptop | other
    variants: list[str] = Field(default_factory=list, sa_type=JSONB)
    typical_value: Decimal = Field(default=Decimal("0"), sa_type=MONEY)  # for the BER review when none is given
    active: bool = Field(default=True)
    created_at: datetime = Timestamp()


class RepairTeam(TenantScoped, table=True):
    __tablename__: ClassVar[str] = "repair_teams"
    __table_args__ = (UniqueConstraint("tenant_id", "name", name="uq_repair_teams_name"), tenant_key("repair_teams"))

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    name: str = Field(max_length=100)
    description: str = Field(default="", max_length=500)
    active: bool = Field(default=True)
    created_at: datetime = Timestamp()


class Technician(TenantScoped, table=True):
    """A person who repairs devices; may be a staff user of the shop and a member of a team."""

    __tablename__: ClassVar[str] = "technicians"
    __table_args__ = (
        UniqueConstraint("tenant_id", "name", name="uq_technicians_name"),
        tenant_key("technicians"),
        tenant_fk("technicians", "team_id", "repair_teams", ondelete="SET NULL"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    name: str = Field(max_length=200)
    email: str = Field(default="", max_length=254)
    user_id: uuid.UUID | None = Field(default=None)  # the staff account, when they sign in
    team_id: uuid.UUID | None = Field(default=None)
    hourly_rate: Decimal = Field(default=Decimal("0"), sa_type=MONEY)  # internal cost, not the price
    active: bool = Field(default=True)
    created_at: datetime = Timestamp()


class RepairCode(SQLModel, table=True):
    """The repair-codes catalogue: what can be wrong with a device or done to it.
    Canonical codes have no shop (`tenant_id` NULL; seeded by the migration and
    read by every shop); a shop adds its own."""

    __tablename__: ClassVar[str] = "repair_codes"
    __table_args__ = (
        Index("uq_repair_codes_canonical", "code", unique=True, postgresql_where=text("tenant_id IS NULL")),
        Index("uq_repair_codes_shop", "tenant_id", "code", unique=True, postgresql_where=text("tenant_id IS NOT NULL")),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    tenant_id: uuid.UUID | None = Field(
        default=None, sa_column=Column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True, nullable=True)
    )  # None: a canonical code
    code: str = Field(max_length=40)  # e.g. SCR-REPL
    name: str = Field(max_length=200)
    category: str = Field(default="", max_length=40)  # display, power, camera, audio, board, software…
    default_labour_minutes: int = Field(default=30)
    active: bool = Field(default=True)
    created_at: datetime = Timestamp()


class PriceRule(TenantScoped, table=True):
    """A price for a repair code (or a flat price for a device model), for one
    client or for every client, valid between two dates. The most specific rule
    wins: client over default, code and model over code alone."""

    __tablename__: ClassVar[str] = "price_rules"
    __table_args__ = (
        CheckConstraint("price >= 0", name="ck_price_rules_price"),
        CheckConstraint("repair_code_id IS NOT NULL OR device_model_id IS NOT NULL", name="ck_price_rules_target"),
        CheckConstraint(
            "valid_to IS NULL OR valid_from IS NULL OR valid_to >= valid_from", name="ck_price_rules_dates"
        ),
        Index("ix_price_rules_lookup", "tenant_id", "repair_code_id", "device_model_id", "client_id"),
        tenant_key("price_rules"),
        tenant_fk("price_rules", "client_id", "repair_clients", ondelete="CASCADE"),
        tenant_fk("price_rules", "device_model_id", "device_models", ondelete="CASCADE"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    client_id: uuid.UUID | None = Field(default=None)  # None: every client
    repair_code_id: uuid.UUID | None = Field(
        default=None, sa_column_args=[ForeignKey("repair_codes.id", ondelete="CASCADE")]
    )
    device_model_id: uuid.UUID | None = Field(default=None)
    price: Decimal = Field(sa_type=MONEY)
    valid_from: date | None = Field(default=None, sa_type=Date)
    valid_to: date | None = Field(default=None, sa_type=Date)
    description: str = Field(default="", max_length=200)
    created_at: datetime = Timestamp()


# --- receiving ----------------------------------------------------------------------------


class ExpectedBatch(TenantScoped, table=True):
    """Devices a client announced: their reference, how many, and (when the
    client sent a manifest) which devices. Received over one or more receiving
    sessions (`session_count`)."""

    __tablename__: ClassVar[str] = "expected_batches"
    __table_args__ = (
        UniqueConstraint("tenant_id", "number", name="uq_expected_batches_number"),
        UniqueConstraint("tenant_id", "client_id", "client_reference", name="uq_expected_batches_client_ref"),
        CheckConstraint("expected_count >= 0", name="ck_expected_batches_expected"),
        Index("ix_expected_batches_status", "tenant_id", "status"),
        tenant_key("expected_batches"),
        tenant_fk("expected_batches", "client_id", "repair_clients", ondelete="RESTRICT"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    number: str = Field(max_length=40)
    client_id: uuid.UUID
    client_reference: str = Field(max_length=100)
    expected_count: int = Field(default=0)
    received_count: int = Field(default=0)
    flagged_count: int = Field(default=0)  # received devices that were not on the manifest
    session_count: int = Field(default=0)
    status: str = Field(default="expected", max_length=20)  # expected | receiving | received | closed
    expected_on: date | None = Field(default=None, sa_type=Date)
    notes: str = Field(default="", max_length=2000)
    created_at: datetime = Timestamp()
    updated_at: datetime = Timestamp()
    closed_at: datetime | None = Timestamp(nullable=True)


class ExpectedDevice(TenantScoped, table=True):
    """One line of a batch's manifest: a device the client said is in the batch."""

    __tablename__: ClassVar[str] = "expected_devices"
    __table_args__ = (
        Index("ix_expected_devices_batch", "tenant_id", "batch_id"),
        Index("ix_expected_devices_imei", "tenant_id", "imei"),
        Index("ix_expected_devices_serial", "tenant_id", "serial"),
        tenant_key("expected_devices"),
        tenant_fk("expected_devices", "batch_id", "expected_batches", ondelete="CASCADE"),
        tenant_fk("expected_devices", "device_model_id", "device_models", ondelete="SET NULL"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    batch_id: uuid.UUID
    imei: str = Field(default="", max_length=20)
    serial: str = Field(default="", max_length=60)
    device_model_id: uuid.UUID | None = Field(default=None)
    description: str = Field(default="", max_length=200)  # as the client wrote it
    fault: str = Field(default="", max_length=500)  # the client's fault description
    declared_value: Decimal | None = Field(default=None, sa_type=MONEY)
    asset_id: uuid.UUID | None = Field(default=None)  # set when it is received


class ReceivingSession(TenantScoped, table=True):
    """One sitting of scanning a batch's devices in (on a phone)."""

    __tablename__: ClassVar[str] = "receiving_sessions"
    __table_args__ = (
        Index("ix_receiving_sessions_batch", "tenant_id", "batch_id"),
        tenant_key("receiving_sessions"),
        tenant_fk("receiving_sessions", "batch_id", "expected_batches", ondelete="CASCADE"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    batch_id: uuid.UUID
    started_by_id: uuid.UUID | None = Field(default=None)
    scanned_count: int = Field(default=0)
    flagged_count: int = Field(default=0)
    started_at: datetime = Timestamp()
    closed_at: datetime | None = Timestamp(nullable=True)


class RepairAsset(TenantScoped, table=True):
    """A device in the shop's care, from receiving to invoicing. `status`
    follows `app.repairs.machine.ASSET`; `held_from` is the status an asset on
    hold returns to."""

    __tablename__: ClassVar[str] = "repair_assets"
    __table_args__ = (
        UniqueConstraint("tenant_id", "number", name="uq_repair_assets_number"),
        Index(
            "uq_repair_assets_batch_imei",
            "tenant_id",
            "batch_id",
            "imei",
            unique=True,
            postgresql_where=text("imei <> ''"),
        ),
        Index(
            "uq_repair_assets_batch_serial",
            "tenant_id",
            "batch_id",
            "serial",
            unique=True,
            postgresql_where=text("imei = '' AND serial <> ''"),
        ),
        Index("ix_repair_assets_status", "tenant_id", "status", "status_changed_at"),
        Index("ix_repair_assets_imei", "tenant_id", "imei"),
        Index("ix_repair_assets_client", "tenant_id", "client_id"),
        CheckConstraint("imei <> '' OR serial <> ''", name="ck_repair_assets_identified"),
        tenant_key("repair_assets"),
        tenant_fk("repair_assets", "batch_id", "expected_batches", ondelete="RESTRICT"),
        tenant_fk("repair_assets", "client_id", "repair_clients", ondelete="RESTRICT"),
        tenant_fk("repair_assets", "device_model_id", "device_models", ondelete="SET NULL"),
        tenant_fk("repair_assets", "receiving_session_id", "receiving_sessions", ondelete="SET NULL"),
        tenant_fk("repair_assets", "dispatch_id", "repair_dispatches", ondelete="SET NULL"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    number: str = Field(max_length=40)
    batch_id: uuid.UUID
    client_id: uuid.UUID
    device_model_id: uuid.UUID | None = Field(default=None)
    receiving_session_id: uuid.UUID | None = Field(default=None)
    imei: str = Field(default="", max_length=20)
    serial: str = Field(default="", max_length=60)
    variant: str = Field(default="", max_length=100)
    condition: str = Field(default="", max_length=20)  # A | B | C | D (cosmetic grade) or ""
    condition_notes: str = Field(default="", max_length=1000)
    accessories: list[str] = Field(default_factory=list, sa_type=JSONB)
    fault: str = Field(default="", max_length=500)  # as reported by the client
    declared_value: Decimal | None = Field(default=None, sa_type=MONEY)
    not_on_batch: bool = Field(default=False)  # received but not on the client's manifest
    status: str = Field(default="received", max_length=30)
    held_from: str = Field(default="", max_length=30)
    hold_reason: str = Field(default="", max_length=500)
    triage_result: str = Field(default="", max_length=20)  # repairable | ber_suspected | no_fault | unrepairable
    triage_notes: str = Field(default="", max_length=2000)
    triaged_by_id: uuid.UUID | None = Field(default=None)
    # who triaged it, as they were named then (a bulk import that leaves it out gets "")
    triaged_by_name: str = Field(default="", max_length=200, sa_column_kwargs={"server_default": ""})
    triaged_at: datetime | None = Timestamp(nullable=True)
    dispatch_id: uuid.UUID | None = Field(default=None)
    received_by_id: uuid.UUID | None = Field(default=None)
    received_at: datetime = Timestamp()
    status_changed_at: datetime = Timestamp()
    updated_at: datetime = Timestamp()


class AssetStatusChange(TenantScoped, table=True):
    """The asset's history: every status it went through, by whom and why
    (turnaround and SLA ages read it)."""

    __tablename__: ClassVar[str] = "asset_status_changes"
    __table_args__ = (
        Index("ix_asset_status_changes_asset", "tenant_id", "asset_id", "changed_at"),
        Index("ix_asset_status_changes_day", "tenant_id", "to_status", "changed_at"),
        tenant_fk("asset_status_changes", "asset_id", "repair_assets", ondelete="CASCADE"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    asset_id: uuid.UUID
    from_status: str = Field(default="", max_length=30)
    to_status: str = Field(max_length=30)
    reason: str = Field(default="", max_length=500)
    actor_user_id: uuid.UUID | None = Field(default=None)
    changed_at: datetime = Timestamp()


class AssetPhoto(TenantScoped, table=True):
    """An intake photo of an asset (stored through the platform's storage, with a thumbnail)."""

    __tablename__: ClassVar[str] = "asset_photos"
    __table_args__ = (
        Index("ix_asset_photos_asset", "tenant_id", "asset_id"),
        tenant_fk("asset_photos", "asset_id", "repair_assets", ondelete="CASCADE"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    asset_id: uuid.UUID
    storage_key: str = Field(max_length=300)
    thumbnail_key: str = Field(default="", max_length=300)
    content_type: str = Field(default="image/jpeg", max_length=50)
    width: int = Field(default=0)
    height: int = Field(default=0)
    taken_at: datetime | None = Timestamp(nullable=True)
    caption: str = Field(default="", max_length=200)
    uploaded_by_id: uuid.UUID | None = Field(default=None)
    created_at: datetime = Timestamp()


class BerReview(TenantScoped, table=True):
    """Beyond-economic-repair review: estimated parts and labour against the
    asset's value and the client's threshold, and the decision taken."""

    __tablename__: ClassVar[str] = "ber_reviews"
    __table_args__ = (
        Index("ix_ber_reviews_asset", "tenant_id", "asset_id"),
        Index("uq_ber_reviews_open", "tenant_id", "asset_id", unique=True, postgresql_where=text("decision = ''")),
        Index("ix_ber_reviews_created", "tenant_id", "created_at"),
        CheckConstraint("estimated_parts >= 0 AND estimated_labour >= 0", name="ck_ber_reviews_estimates"),
        CheckConstraint("asset_value >= 0", name="ck_ber_reviews_value"),
        CheckConstraint("decision IN ('', 'repair', 'return_unrepaired', 'scrap')", name="ck_ber_reviews_decision"),
        tenant_fk("ber_reviews", "asset_id", "repair_assets", ondelete="CASCADE"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    asset_id: uuid.UUID
    estimated_parts: Decimal = Field(default=Decimal("0"), sa_type=MONEY)
    estimated_labour: Decimal = Field(default=Decimal("0"), sa_type=MONEY)
    asset_value: Decimal = Field(default=Decimal("0"), sa_type=MONEY)
    threshold_percent: int = Field(default=70)
    cost_percent: Decimal = Field(default=Decimal("0"), sa_type=Numeric(7, 2))  # (parts + labour) / value × 100
    decision: str = Field(default="", max_length=30)  # "" (open) | repair | return_unrepaired | scrap
    notes: str = Field(default="", max_length=2000)
    requested_by_id: uuid.UUID | None = Field(default=None)
    requested_by_name: str = Field(default="", max_length=200, sa_column_kwargs={"server_default": ""})
    decided_by_id: uuid.UUID | None = Field(default=None)
    decided_by_name: str = Field(default="", max_length=200, sa_column_kwargs={"server_default": ""})
    created_at: datetime = Timestamp()
    updated_at: datetime = Timestamp()  # the figures last estimated
    decided_at: datetime | None = Timestamp(nullable=True)


# --- diagnostic logs and repair codes on assets -------------------------------------------


class DiagnosticLog(TenantScoped, table=True):
    """An uploaded diagnostic-tool export (the seed's "drfone" logs), parsed by
    a background job. Idempotent by the file's hash: the same file twice is one log."""

    __tablename__: ClassVar[str] = "diagnostic_logs"
    __table_args__ = (
        UniqueConstraint("tenant_id", "file_hash", name="uq_diagnostic_logs_hash"),
        Index("ix_diagnostic_logs_status", "tenant_id", "status", "created_at"),
        tenant_key("diagnostic_logs"),
        tenant_fk("diagnostic_logs", "asset_id", "repair_assets", ondelete="SET NULL"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    file_hash: str = Field(max_length=64)  # sha256 hex
    filename: str = Field(max_length=255)
    storage_key: str = Field(max_length=300)
    size_bytes: int = Field(default=0)
    status: str = Field(default="queued", max_length=20)  # queued | parsing | parsed | failed
    error: str = Field(default="", max_length=1000)
    asset_id: uuid.UUID | None = Field(default=None)  # matched by IMEI or serial
    imei: str = Field(default="", max_length=20)
    serial: str = Field(default="", max_length=60)
    tool: str = Field(default="", max_length=60)  # tool and version from the header
    tested_at: datetime | None = Timestamp(nullable=True)
    codes_found: int = Field(default=0)
    mapped_count: int = Field(default=0)
    unmapped_count: int = Field(default=0)
    uploaded_by_id: uuid.UUID | None = Field(default=None)
    created_at: datetime = Timestamp()
    parsed_at: datetime | None = Timestamp(nullable=True)


class DrfoneCodeMapping(TenantScoped, table=True):
    """A diagnostic tool's error code mapped to a repair code (one per shop and code)."""

    __tablename__: ClassVar[str] = "drfone_code_mappings"
    __table_args__ = (
        UniqueConstraint("tenant_id", "drfone_code", name="uq_drfone_code_mappings_code"),
        tenant_key("drfone_code_mappings"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    drfone_code: str = Field(max_length=60)
    repair_code_id: uuid.UUID = Field(sa_column_args=[ForeignKey("repair_codes.id", ondelete="RESTRICT")])
    description: str = Field(default="", max_length=300)  # the tool's own words for the code
    created_by_id: uuid.UUID | None = Field(default=None)
    created_at: datetime = Timestamp()


class DeviceRepairCode(TenantScoped, table=True):
    """A repair code on an asset: found in triage, read from a diagnostic log
    (`drfone_auto` when a mapping applied it on parse, `drfone` when it was
    mapped from the unmapped queue), carried over from a legacy system
    (`migrated`), or done on a worksheet. A row from a log whose code has no
    mapping yet has no `repair_code_id`: it waits in the unmapped queue."""

    __tablename__: ClassVar[str] = "device_repair_codes"
    __table_args__ = (
        Index("ix_device_repair_codes_asset", "tenant_id", "asset_id"),
        Index(
            "ix_device_repair_codes_unmapped",
            "tenant_id",
            "drfone_code",
            postgresql_where=text("repair_code_id IS NULL"),
        ),
        Index(
            "uq_device_repair_codes_log_code",
            "tenant_id",
            "diagnostic_log_id",
            "drfone_code",
            unique=True,
            postgresql_where=text("diagnostic_log_id IS NOT NULL"),
        ),
        CheckConstraint(
            "source IN ('triage', 'drfone', 'drfone_auto', 'migrated', 'worksheet')",
            name="ck_device_repair_codes_source",
        ),
        CheckConstraint("repair_code_id IS NOT NULL OR drfone_code <> ''", name="ck_device_repair_codes_code"),
        tenant_key("device_repair_codes"),
        tenant_fk("device_repair_codes", "asset_id", "repair_assets", ondelete="CASCADE"),
        tenant_fk("device_repair_codes", "diagnostic_log_id", "diagnostic_logs", ondelete="CASCADE"),
        tenant_fk("device_repair_codes", "worksheet_id", "worksheets", ondelete="SET NULL"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    asset_id: uuid.UUID | None = Field(default=None)  # a log not matched to an asset yet has none
    repair_code_id: uuid.UUID | None = Field(
        default=None, sa_column_args=[ForeignKey("repair_codes.id", ondelete="RESTRICT")]
    )
    drfone_code: str = Field(default="", max_length=60)  # the tool's code, for rows from a log
    drfone_message: str = Field(default="", max_length=300)
    source: str = Field(max_length=20)
    diagnostic_log_id: uuid.UUID | None = Field(default=None)
    worksheet_id: uuid.UUID | None = Field(default=None)
    done: bool = Field(default=False)  # repaired on a worksheet
    created_by_id: uuid.UUID | None = Field(default=None)
    created_at: datetime = Timestamp()
    mapped_at: datetime | None = Timestamp(nullable=True)


# --- worksheets -----------------------------------------------------------------------------


class Worksheet(TenantScoped, table=True):
    """The repair of one asset by a technician or a team: labour, codes done,
    parts issued (in inventory's ledger, reference WORKSHEET), and final QC."""

    __tablename__: ClassVar[str] = "worksheets"
    __table_args__ = (
        UniqueConstraint("tenant_id", "number", name="uq_worksheets_number"),
        Index("ix_worksheets_asset", "tenant_id", "asset_id"),
        Index("ix_worksheets_status", "tenant_id", "status"),
        Index(
            "uq_worksheets_one_open_per_asset",
            "tenant_id",
            "asset_id",
            unique=True,
            postgresql_where=text("status IN ('open', 'in_qc')"),
        ),
        CheckConstraint("labour_minutes >= 0", name="ck_worksheets_labour"),
        tenant_key("worksheets"),
        tenant_fk("worksheets", "asset_id", "repair_assets", ondelete="CASCADE"),
        tenant_fk("worksheets", "technician_id", "technicians", ondelete="SET NULL"),
        tenant_fk("worksheets", "team_id", "repair_teams", ondelete="SET NULL"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    number: str = Field(max_length=40)
    asset_id: uuid.UUID
    technician_id: uuid.UUID | None = Field(default=None)
    team_id: uuid.UUID | None = Field(default=None)
    status: str = Field(default="open", max_length=20)  # open | in_qc | passed | cancelled
    labour_minutes: int = Field(default=0)
    notes: str = Field(default="", max_length=4000)
    qc_result: str = Field(default="", max_length=10)  # "" | pass | fail
    qc_notes: str = Field(default="", max_length=2000)
    qc_failures: int = Field(default=0)
    qc_by_id: uuid.UUID | None = Field(default=None)
    qc_at: datetime | None = Timestamp(nullable=True)
    submitted_by_id: uuid.UUID | None = Field(default=None)  # who sent it to final QC last
    submitted_at: datetime | None = Timestamp(nullable=True)
    # what happened to it, oldest first: [{at, by, who, kind, text, minutes?}]; labour entries add up
    history: list[dict] = Field(default_factory=list, sa_type=JSONB)
    created_by_id: uuid.UUID | None = Field(default=None)
    created_at: datetime = Timestamp()
    updated_at: datetime = Timestamp()
    completed_at: datetime | None = Timestamp(nullable=True)


# --- dispatch and invoicing -----------------------------------------------------------------


class RepairDispatch(TenantScoped, table=True):
    """Ready assets going back to a client together. An asset is in at most one
    dispatch (`repair_assets.dispatch_id`). Finalizing is idempotent: one
    dispatch, one invoice, one event however often it is asked."""

    __tablename__: ClassVar[str] = "repair_dispatches"
    __table_args__ = (
        UniqueConstraint("tenant_id", "number", name="uq_repair_dispatches_number"),
        Index("ix_repair_dispatches_status", "tenant_id", "status"),
        tenant_key("repair_dispatches"),
        tenant_fk("repair_dispatches", "client_id", "repair_clients", ondelete="RESTRICT"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    number: str = Field(max_length=40)
    client_id: uuid.UUID
    status: str = Field(default="open", max_length=20)  # open | finalized | cancelled
    carrier: str = Field(default="", max_length=60)
    tracking_number: str = Field(default="", max_length=100)
    shipment_id: uuid.UUID | None = Field(default=None)  # the shipping domain's shipment, when one is made
    notes: str = Field(default="", max_length=2000)
    invoice_id: uuid.UUID | None = Field(default=None)
    created_by_id: uuid.UUID | None = Field(default=None)
    finalized_by_id: uuid.UUID | None = Field(default=None)
    created_at: datetime = Timestamp()
    finalized_at: datetime | None = Timestamp(nullable=True)


class RepairInvoice(TenantScoped, table=True):
    """An invoice (or a credit note voiding one) to a repair client. Drafts have
    no number; sending assigns the next gapless number and renders the PDF."""

    __tablename__: ClassVar[str] = "repair_invoices"
    __table_args__ = (
        Index("uq_repair_invoices_number", "tenant_id", "number", unique=True, postgresql_where=text("number <> ''")),
        Index(
            "uq_repair_invoices_dispatch",
            "tenant_id",
            "dispatch_id",
            unique=True,
            postgresql_where=text("dispatch_id IS NOT NULL AND kind = 'invoice'"),
        ),
        Index("ix_repair_invoices_status", "tenant_id", "status", "issued_at"),
        CheckConstraint("kind IN ('invoice', 'credit_note')", name="ck_repair_invoices_kind"),
        CheckConstraint("status IN ('draft', 'sent', 'paid', 'void')", name="ck_repair_invoices_status"),
        tenant_key("repair_invoices"),
        tenant_fk("repair_invoices", "client_id", "repair_clients", ondelete="RESTRICT"),
        tenant_fk("repair_invoices", "dispatch_id", "repair_dispatches", ondelete="RESTRICT"),
        tenant_fk("repair_invoices", "credit_for_id", "repair_invoices", ondelete="RESTRICT"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    kind: str = Field(default="invoice", max_length=20)
    number: str = Field(default="", max_length=40)
    client_id: uuid.UUID
    dispatch_id: uuid.UUID | None = Field(default=None)
    credit_for_id: uuid.UUID | None = Field(default=None)  # the invoice a credit note voids
    status: str = Field(default="draft", max_length=10)
    currency: str = Field(default="EUR", max_length=3)
    subtotal: Decimal = Field(default=Decimal("0"), sa_type=MONEY)
    vat_rate: Decimal = Field(default=Decimal("0"), sa_type=Numeric(5, 2))  # percent
    vat_amount: Decimal = Field(default=Decimal("0"), sa_type=MONEY)
    total: Decimal = Field(default=Decimal("0"), sa_type=MONEY)
    issued_on: date | None = Field(default=None, sa_type=Date)
    due_on: date | None = Field(default=None, sa_type=Date)
    pdf_key: str = Field(default="", max_length=300)
    pdf_status: str = Field(default="", max_length=20)  # "" (none yet) | queued | rendering | ready | failed
    pdf_error: str = Field(default="", max_length=1000)  # why the last render failed
    void_reason: str = Field(default="", max_length=500)
    created_by_id: uuid.UUID | None = Field(default=None)
    created_at: datetime = Timestamp()
    issued_at: datetime | None = Timestamp(nullable=True)
    paid_at: datetime | None = Timestamp(nullable=True)
    voided_at: datetime | None = Timestamp(nullable=True)


class RepairInvoiceLine(TenantScoped, table=True):
    __tablename__: ClassVar[str] = "repair_invoice_lines"
    __table_args__ = (
        Index("ix_repair_invoice_lines_invoice", "tenant_id", "invoice_id", "position"),
        tenant_fk("repair_invoice_lines", "invoice_id", "repair_invoices", ondelete="CASCADE"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    invoice_id: uuid.UUID
    position: int = Field(default=0)
    asset_id: uuid.UUID | None = Field(default=None)
    kind: str = Field(default="repair", max_length=20)  # repair | part | labour | other
    description: str = Field(max_length=300)
    quantity: Decimal = Field(default=Decimal("1"), sa_type=Numeric(10, 2))
    unit_price: Decimal = Field(default=Decimal("0"), sa_type=MONEY)
    amount: Decimal = Field(default=Decimal("0"), sa_type=MONEY)
    repair_code_id: uuid.UUID | None = Field(default=None)  # the code a repair line bills
    warning: str = Field(default="", max_length=300)  # e.g. no price rule: shown on the draft until priced


# --- reports and imports --------------------------------------------------------------------


class DailyMetricsSnapshot(TenantScoped, table=True):
    """One row per shop and day, upserted by the nightly job (idempotent)."""

    __tablename__: ClassVar[str] = "daily_metrics_snapshots"
    __table_args__ = (UniqueConstraint("tenant_id", "day", name="uq_daily_metrics_snapshots_day"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    day: date = Field(sa_type=Date)
    received: int = Field(default=0)
    triaged: int = Field(default=0)
    ber: int = Field(default=0)
    repaired: int = Field(default=0)
    dispatched: int = Field(default=0)
    invoiced_total: Decimal = Field(default=Decimal("0"), sa_type=MONEY)
    wip_by_status: dict = Field(default_factory=dict, sa_type=JSONB)
    turnaround_hours: Decimal | None = Field(default=None, sa_type=Numeric(10, 2))  # received → dispatched, mean
    updated_at: datetime = Timestamp()


class RepairImport(TenantScoped, table=True):
    """A bulk upload (CSV or XLSX) of expected batches, assets or spare parts:
    previewed, then applied by a job with progress. Idempotent by file hash."""

    __tablename__: ClassVar[str] = "repair_imports"
    __table_args__ = (
        UniqueConstraint("tenant_id", "kind", "file_hash", name="uq_repair_imports_hash"),
        Index("ix_repair_imports_created", "tenant_id", "created_at"),
        tenant_key("repair_imports"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    kind: str = Field(max_length=20)  # batches | assets | parts
    file_hash: str = Field(max_length=64)
    filename: str = Field(max_length=255)
    storage_key: str = Field(max_length=300)
    status: str = Field(default="previewed", max_length=20)  # previewed | queued | running | done | failed
    total_rows: int = Field(default=0)
    processed_rows: int = Field(default=0)
    created_rows: int = Field(default=0)
    updated_rows: int = Field(default=0)
    error_rows: int = Field(default=0)
    errors: list[dict] = Field(default_factory=list, sa_type=JSONB)  # [{row, field, message}], first 500
    error: str = Field(default="", max_length=1000)
    created_by_id: uuid.UUID | None = Field(default=None)
    created_at: datetime = Timestamp()
    queued_at: datetime | None = Timestamp(nullable=True)  # when it was last handed to the queue
    # the job that claimed it: a late duplicate of its job leaves it alone ("" when run inline or not yet)
    runner_job_id: str = Field(default="", max_length=100, sa_column_kwargs={"server_default": ""})
    started_at: datetime | None = Timestamp(nullable=True)
    finished_at: datetime | None = Timestamp(nullable=True)
