"""repairs

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-30

Repairs (issue 17, seed 001): master data (repair clients, device models,
technicians and teams, the repair-codes catalogue, price rules), expected
batches with their manifests and receiving sessions, assets with their status
history, intake photos and BER reviews, diagnostic logs with their code
mappings and the codes found on assets, worksheets, dispatches, invoices and
credit notes with their lines, the daily metrics snapshots and bulk uploads.

Every table is a tenant table with the standard forced policy, except
`repair_codes`: its canonical rows (no shop) are read by every shop; a shop
writes only its own rows (the policy's WITH CHECK refuses another shop's, and
a trigger refuses changing or deleting a row that is not the shop's own, as
for the grid presets, and a shop code taking a canonical code's name). The 24
canonical codes are seeded here.
"""

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
import sqlmodel
from sqlalchemy.dialects import postgresql

from alembic import op
from app.platform.rls import CONDITION, POLICY, disable_rls, enable_rls

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TENANT_TABLES = (
    "repair_clients",
    "device_models",
    "repair_teams",
    "technicians",
    "price_rules",
    "expected_batches",
    "expected_devices",
    "receiving_sessions",
    "repair_assets",
    "asset_status_changes",
    "asset_photos",
    "ber_reviews",
    "diagnostic_logs",
    "drfone_code_mappings",
    "device_repair_codes",
    "worksheets",
    "repair_dispatches",
    "repair_invoices",
    "repair_invoice_lines",
    "daily_metrics_snapshots",
    "repair_imports",
)

OWN_CODES_ONLY = """
CREATE OR REPLACE FUNCTION repair_codes_own_rows_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP <> 'INSERT'
       AND current_user <> (SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = TG_RELID)
       AND OLD.tenant_id IS DISTINCT FROM NULLIF(current_setting('app.tenant_id', true), '')::uuid THEN
        RAISE EXCEPTION 'a shop changes only its own repair codes'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF TG_OP <> 'DELETE' AND NEW.tenant_id IS NOT NULL
       AND EXISTS (SELECT 1 FROM repair_codes WHERE tenant_id IS NULL AND code = NEW.code) THEN
        RAISE EXCEPTION 'a shop''s repair code may not take the name of a canonical code (%)', NEW.code
            USING ERRCODE = 'unique_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql
"""

# The canonical repair codes: code → (name, category, default labour minutes)
CANONICAL_CODES: dict[str, tuple[str, str, int]] = {
    "SCR-REPL": ("Screen replacement", "display", 45),
    "SCR-GLASS": ("Front glass refurbishment", "display", 60),
    "BAT-REPL": ("Battery replacement", "power", 30),
    "CHG-PORT": ("Charging port replacement", "power", 40),
    "PWR-IC": ("Power management IC repair", "board", 90),
    "BACK-GLASS": ("Back glass replacement", "housing", 50),
    "HOUSING": ("Housing / frame replacement", "housing", 75),
    "CAM-REAR": ("Rear camera replacement", "camera", 35),
    "CAM-FRONT": ("Front camera replacement", "camera", 35),
    "SPK-EAR": ("Earpiece speaker replacement", "audio", 30),
    "SPK-LOUD": ("Loudspeaker replacement", "audio", 30),
    "MIC": ("Microphone repair", "audio", 35),
    "BTN-PWR": ("Power button repair", "buttons", 35),
    "BTN-VOL": ("Volume buttons repair", "buttons", 35),
    "BIO-FACE": ("Face ID / face unlock repair", "biometrics", 90),
    "BIO-TOUCH": ("Fingerprint sensor repair", "biometrics", 45),
    "WIFI-BT": ("Wi-Fi / Bluetooth fault repair", "board", 60),
    "BASEBAND": ("Cellular / baseband fault repair", "board", 120),
    "LOGIC-BOARD": ("Logic board micro-soldering", "board", 150),
    "LIQUID": ("Liquid damage treatment", "board", 90),
    "KEYBOARD": ("Keyboard replacement", "input", 60),
    "TRACKPAD": ("Trackpad replacement", "input", 45),
    "SOFTWARE": ("Software restore and update", "software", 20),
    "DATA-WIPE": ("Certified data wipe", "software", 15),
}


def upgrade() -> None:
    op.create_table(
        "daily_metrics_snapshots",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("received", sa.Integer(), nullable=False),
        sa.Column("triaged", sa.Integer(), nullable=False),
        sa.Column("ber", sa.Integer(), nullable=False),
        sa.Column("repaired", sa.Integer(), nullable=False),
        sa.Column("dispatched", sa.Integer(), nullable=False),
        sa.Column("invoiced_total", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("wip_by_status", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("turnaround_hours", sa.Numeric(precision=10, scale=2), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("tenant_id", "day", name="uq_daily_metrics_snapshots_day"),
    )
    op.create_index(
        op.f("ix_daily_metrics_snapshots_tenant_id"), "daily_metrics_snapshots", ["tenant_id"], unique=False
    )
    op.create_table(
        "device_models",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("manufacturer", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("model", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("category", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("variants", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("typical_value", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("tenant_id", "id", name="uq_device_models_tenant_id_id"),
        sa.UniqueConstraint("tenant_id", "manufacturer", "model", name="uq_device_models_name"),
    )
    op.create_index(op.f("ix_device_models_tenant_id"), "device_models", ["tenant_id"], unique=False)
    op.create_table(
        "repair_clients",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("contact_name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("email", sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
        sa.Column("phone", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
        sa.Column("billing_address", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.Column("country", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.Column("vat_number", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("payment_terms_days", sa.Integer(), nullable=False),
        sa.Column("currency", sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
        sa.Column("ber_threshold_percent", sa.Integer(), nullable=False),
        sa.Column("notes", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("ber_threshold_percent BETWEEN 1 AND 100", name="ck_repair_clients_ber_threshold"),
        sa.CheckConstraint("payment_terms_days BETWEEN 0 AND 365", name="ck_repair_clients_terms"),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("tenant_id", "id", name="uq_repair_clients_tenant_id_id"),
        sa.UniqueConstraint("tenant_id", "name", name="uq_repair_clients_name"),
    )
    op.create_index(op.f("ix_repair_clients_tenant_id"), "repair_clients", ["tenant_id"], unique=False)
    op.create_table(
        "repair_codes",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=True),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("category", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("default_labour_minutes", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_repair_codes_tenant_id"), "repair_codes", ["tenant_id"], unique=False)
    op.create_index(
        "uq_repair_codes_canonical",
        "repair_codes",
        ["code"],
        unique=True,
        postgresql_where=sa.text("tenant_id IS NULL"),
    )
    op.create_index(
        "uq_repair_codes_shop",
        "repair_codes",
        ["tenant_id", "code"],
        unique=True,
        postgresql_where=sa.text("tenant_id IS NOT NULL"),
    )
    op.create_table(
        "repair_imports",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("file_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("filename", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("storage_key", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("total_rows", sa.Integer(), nullable=False),
        sa.Column("processed_rows", sa.Integer(), nullable=False),
        sa.Column("created_rows", sa.Integer(), nullable=False),
        sa.Column("updated_rows", sa.Integer(), nullable=False),
        sa.Column("error_rows", sa.Integer(), nullable=False),
        sa.Column("errors", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("error", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.Column("created_by_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("tenant_id", "id", name="uq_repair_imports_tenant_id_id"),
        sa.UniqueConstraint("tenant_id", "kind", "file_hash", name="uq_repair_imports_hash"),
    )
    op.create_index("ix_repair_imports_created", "repair_imports", ["tenant_id", "created_at"], unique=False)
    op.create_index(op.f("ix_repair_imports_tenant_id"), "repair_imports", ["tenant_id"], unique=False)
    op.create_table(
        "repair_teams",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("description", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("tenant_id", "id", name="uq_repair_teams_tenant_id_id"),
        sa.UniqueConstraint("tenant_id", "name", name="uq_repair_teams_name"),
    )
    op.create_index(op.f("ix_repair_teams_tenant_id"), "repair_teams", ["tenant_id"], unique=False)
    op.create_table(
        "drfone_code_mappings",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("drfone_code", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("repair_code_id", sa.Uuid(), nullable=False),
        sa.Column("description", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("created_by_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["repair_code_id"], ["repair_codes.id"], ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("tenant_id", "drfone_code", name="uq_drfone_code_mappings_code"),
        sa.UniqueConstraint("tenant_id", "id", name="uq_drfone_code_mappings_tenant_id_id"),
    )
    op.create_index(op.f("ix_drfone_code_mappings_tenant_id"), "drfone_code_mappings", ["tenant_id"], unique=False)
    op.create_table(
        "expected_batches",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("number", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("client_reference", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("expected_count", sa.Integer(), nullable=False),
        sa.Column("received_count", sa.Integer(), nullable=False),
        sa.Column("flagged_count", sa.Integer(), nullable=False),
        sa.Column("session_count", sa.Integer(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("expected_on", sa.Date(), nullable=True),
        sa.Column("notes", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("expected_count >= 0", name="ck_expected_batches_expected"),
        sa.ForeignKeyConstraint(
            ["tenant_id", "client_id"],
            ["repair_clients.tenant_id", "repair_clients.id"],
            name="fk_expected_batches_client_id",
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("tenant_id", "client_id", "client_reference", name="uq_expected_batches_client_ref"),
        sa.UniqueConstraint("tenant_id", "id", name="uq_expected_batches_tenant_id_id"),
        sa.UniqueConstraint("tenant_id", "number", name="uq_expected_batches_number"),
    )
    op.create_index("ix_expected_batches_status", "expected_batches", ["tenant_id", "status"], unique=False)
    op.create_index(op.f("ix_expected_batches_tenant_id"), "expected_batches", ["tenant_id"], unique=False)
    op.create_table(
        "price_rules",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("client_id", sa.Uuid(), nullable=True),
        sa.Column("repair_code_id", sa.Uuid(), nullable=True),
        sa.Column("device_model_id", sa.Uuid(), nullable=True),
        sa.Column("price", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("description", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("price >= 0", name="ck_price_rules_price"),
        sa.CheckConstraint("repair_code_id IS NOT NULL OR device_model_id IS NOT NULL", name="ck_price_rules_target"),
        sa.CheckConstraint(
            "valid_to IS NULL OR valid_from IS NULL OR valid_to >= valid_from", name="ck_price_rules_dates"
        ),
        sa.ForeignKeyConstraint(["repair_code_id"], ["repair_codes.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["tenant_id", "client_id"],
            ["repair_clients.tenant_id", "repair_clients.id"],
            name="fk_price_rules_client_id",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "device_model_id"],
            ["device_models.tenant_id", "device_models.id"],
            name="fk_price_rules_device_model_id",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("tenant_id", "id", name="uq_price_rules_tenant_id_id"),
    )
    op.create_index(
        "ix_price_rules_lookup",
        "price_rules",
        ["tenant_id", "repair_code_id", "device_model_id", "client_id"],
        unique=False,
    )
    op.create_index(op.f("ix_price_rules_tenant_id"), "price_rules", ["tenant_id"], unique=False)
    op.create_table(
        "repair_dispatches",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("number", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("carrier", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("tracking_number", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("shipment_id", sa.Uuid(), nullable=True),
        sa.Column("notes", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column("invoice_id", sa.Uuid(), nullable=True),
        sa.Column("created_by_id", sa.Uuid(), nullable=True),
        sa.Column("finalized_by_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finalized_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id", "client_id"],
            ["repair_clients.tenant_id", "repair_clients.id"],
            name="fk_repair_dispatches_client_id",
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("tenant_id", "id", name="uq_repair_dispatches_tenant_id_id"),
        sa.UniqueConstraint("tenant_id", "number", name="uq_repair_dispatches_number"),
    )
    op.create_index("ix_repair_dispatches_status", "repair_dispatches", ["tenant_id", "status"], unique=False)
    op.create_index(op.f("ix_repair_dispatches_tenant_id"), "repair_dispatches", ["tenant_id"], unique=False)
    op.create_table(
        "technicians",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("email", sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("team_id", sa.Uuid(), nullable=True),
        sa.Column("hourly_rate", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "team_id"],
            ["repair_teams.tenant_id", "repair_teams.id"],
            name="fk_technicians_team_id",
            ondelete="SET NULL (team_id)",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("tenant_id", "id", name="uq_technicians_tenant_id_id"),
        sa.UniqueConstraint("tenant_id", "name", name="uq_technicians_name"),
    )
    op.create_index(op.f("ix_technicians_tenant_id"), "technicians", ["tenant_id"], unique=False)
    op.create_table(
        "expected_devices",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("batch_id", sa.Uuid(), nullable=False),
        sa.Column("imei", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("serial", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("device_model_id", sa.Uuid(), nullable=True),
        sa.Column("description", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("fault", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("declared_value", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("asset_id", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id", "batch_id"],
            ["expected_batches.tenant_id", "expected_batches.id"],
            name="fk_expected_devices_batch_id",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "device_model_id"],
            ["device_models.tenant_id", "device_models.id"],
            name="fk_expected_devices_device_model_id",
            ondelete="SET NULL (device_model_id)",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("tenant_id", "id", name="uq_expected_devices_tenant_id_id"),
    )
    op.create_index("ix_expected_devices_batch", "expected_devices", ["tenant_id", "batch_id"], unique=False)
    op.create_index("ix_expected_devices_imei", "expected_devices", ["tenant_id", "imei"], unique=False)
    op.create_index("ix_expected_devices_serial", "expected_devices", ["tenant_id", "serial"], unique=False)
    op.create_index(op.f("ix_expected_devices_tenant_id"), "expected_devices", ["tenant_id"], unique=False)
    op.create_table(
        "receiving_sessions",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("batch_id", sa.Uuid(), nullable=False),
        sa.Column("started_by_id", sa.Uuid(), nullable=True),
        sa.Column("scanned_count", sa.Integer(), nullable=False),
        sa.Column("flagged_count", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id", "batch_id"],
            ["expected_batches.tenant_id", "expected_batches.id"],
            name="fk_receiving_sessions_batch_id",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("tenant_id", "id", name="uq_receiving_sessions_tenant_id_id"),
    )
    op.create_index("ix_receiving_sessions_batch", "receiving_sessions", ["tenant_id", "batch_id"], unique=False)
    op.create_index(op.f("ix_receiving_sessions_tenant_id"), "receiving_sessions", ["tenant_id"], unique=False)
    op.create_table(
        "repair_invoices",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("number", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("dispatch_id", sa.Uuid(), nullable=True),
        sa.Column("credit_for_id", sa.Uuid(), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("currency", sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
        sa.Column("subtotal", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("vat_rate", sa.Numeric(precision=5, scale=2), nullable=False),
        sa.Column("vat_amount", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("total", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("pdf_key", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("pdf_status", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("pdf_error", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.Column("void_reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("created_by_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("voided_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("kind IN ('invoice', 'credit_note')", name="ck_repair_invoices_kind"),
        sa.CheckConstraint("status IN ('draft', 'sent', 'paid', 'void')", name="ck_repair_invoices_status"),
        sa.ForeignKeyConstraint(
            ["tenant_id", "client_id"],
            ["repair_clients.tenant_id", "repair_clients.id"],
            name="fk_repair_invoices_client_id",
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "credit_for_id"],
            ["repair_invoices.tenant_id", "repair_invoices.id"],
            name="fk_repair_invoices_credit_for_id",
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "dispatch_id"],
            ["repair_dispatches.tenant_id", "repair_dispatches.id"],
            name="fk_repair_invoices_dispatch_id",
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("tenant_id", "id", name="uq_repair_invoices_tenant_id_id"),
    )
    op.create_index("ix_repair_invoices_status", "repair_invoices", ["tenant_id", "status", "issued_at"], unique=False)
    op.create_index(op.f("ix_repair_invoices_tenant_id"), "repair_invoices", ["tenant_id"], unique=False)
    op.create_index(
        "uq_repair_invoices_dispatch",
        "repair_invoices",
        ["tenant_id", "dispatch_id"],
        unique=True,
        postgresql_where=sa.text("dispatch_id IS NOT NULL AND kind = 'invoice'"),
    )
    op.create_index(
        "uq_repair_invoices_number",
        "repair_invoices",
        ["tenant_id", "number"],
        unique=True,
        postgresql_where=sa.text("number <> ''"),
    )
    op.create_table(
        "repair_assets",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("number", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("batch_id", sa.Uuid(), nullable=False),
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("device_model_id", sa.Uuid(), nullable=True),
        sa.Column("receiving_session_id", sa.Uuid(), nullable=True),
        sa.Column("imei", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("serial", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("variant", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("condition", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("condition_notes", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.Column("accessories", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("fault", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("declared_value", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("not_on_batch", sa.Boolean(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.Column("held_from", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.Column("hold_reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("triage_result", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("triage_notes", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column("triaged_by_id", sa.Uuid(), nullable=True),
        sa.Column("triaged_by_name", sqlmodel.sql.sqltypes.AutoString(length=200), server_default="", nullable=False),
        sa.Column("triaged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("dispatch_id", sa.Uuid(), nullable=True),
        sa.Column("received_by_id", sa.Uuid(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status_changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("imei <> '' OR serial <> ''", name="ck_repair_assets_identified"),
        sa.ForeignKeyConstraint(
            ["tenant_id", "batch_id"],
            ["expected_batches.tenant_id", "expected_batches.id"],
            name="fk_repair_assets_batch_id",
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "client_id"],
            ["repair_clients.tenant_id", "repair_clients.id"],
            name="fk_repair_assets_client_id",
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "device_model_id"],
            ["device_models.tenant_id", "device_models.id"],
            name="fk_repair_assets_device_model_id",
            ondelete="SET NULL (device_model_id)",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "dispatch_id"],
            ["repair_dispatches.tenant_id", "repair_dispatches.id"],
            name="fk_repair_assets_dispatch_id",
            ondelete="SET NULL (dispatch_id)",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "receiving_session_id"],
            ["receiving_sessions.tenant_id", "receiving_sessions.id"],
            name="fk_repair_assets_receiving_session_id",
            ondelete="SET NULL (receiving_session_id)",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("tenant_id", "id", name="uq_repair_assets_tenant_id_id"),
        sa.UniqueConstraint("tenant_id", "number", name="uq_repair_assets_number"),
    )
    op.create_index("ix_repair_assets_client", "repair_assets", ["tenant_id", "client_id"], unique=False)
    op.create_index("ix_repair_assets_imei", "repair_assets", ["tenant_id", "imei"], unique=False)
    op.create_index(
        "ix_repair_assets_status", "repair_assets", ["tenant_id", "status", "status_changed_at"], unique=False
    )
    op.create_index(op.f("ix_repair_assets_tenant_id"), "repair_assets", ["tenant_id"], unique=False)
    op.create_index(
        "uq_repair_assets_batch_imei",
        "repair_assets",
        ["tenant_id", "batch_id", "imei"],
        unique=True,
        postgresql_where=sa.text("imei <> ''"),
    )
    op.create_index(
        "uq_repair_assets_batch_serial",
        "repair_assets",
        ["tenant_id", "batch_id", "serial"],
        unique=True,
        postgresql_where=sa.text("imei = '' AND serial <> ''"),
    )
    op.create_table(
        "repair_invoice_lines",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("invoice_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("asset_id", sa.Uuid(), nullable=True),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("description", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("quantity", sa.Numeric(precision=10, scale=2), nullable=False),
        sa.Column("unit_price", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("amount", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("repair_code_id", sa.Uuid(), nullable=True),
        sa.Column("warning", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "invoice_id"],
            ["repair_invoices.tenant_id", "repair_invoices.id"],
            name="fk_repair_invoice_lines_invoice_id",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_repair_invoice_lines_invoice", "repair_invoice_lines", ["tenant_id", "invoice_id", "position"], unique=False
    )
    op.create_index(op.f("ix_repair_invoice_lines_tenant_id"), "repair_invoice_lines", ["tenant_id"], unique=False)
    op.create_table(
        "asset_photos",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("asset_id", sa.Uuid(), nullable=False),
        sa.Column("storage_key", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("thumbnail_key", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("content_type", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("caption", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("uploaded_by_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "asset_id"],
            ["repair_assets.tenant_id", "repair_assets.id"],
            name="fk_asset_photos_asset_id",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_asset_photos_asset", "asset_photos", ["tenant_id", "asset_id"], unique=False)
    op.create_index(op.f("ix_asset_photos_tenant_id"), "asset_photos", ["tenant_id"], unique=False)
    op.create_table(
        "asset_status_changes",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("asset_id", sa.Uuid(), nullable=False),
        sa.Column("from_status", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.Column("to_status", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("actor_user_id", sa.Uuid(), nullable=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "asset_id"],
            ["repair_assets.tenant_id", "repair_assets.id"],
            name="fk_asset_status_changes_asset_id",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_asset_status_changes_asset", "asset_status_changes", ["tenant_id", "asset_id", "changed_at"], unique=False
    )
    op.create_index(
        "ix_asset_status_changes_day", "asset_status_changes", ["tenant_id", "to_status", "changed_at"], unique=False
    )
    op.create_index(op.f("ix_asset_status_changes_tenant_id"), "asset_status_changes", ["tenant_id"], unique=False)
    op.create_table(
        "ber_reviews",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("asset_id", sa.Uuid(), nullable=False),
        sa.Column("estimated_parts", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("estimated_labour", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("asset_value", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("threshold_percent", sa.Integer(), nullable=False),
        sa.Column("cost_percent", sa.Numeric(precision=7, scale=2), nullable=False),
        sa.Column("decision", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.Column("notes", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column("requested_by_id", sa.Uuid(), nullable=True),
        sa.Column("requested_by_name", sqlmodel.sql.sqltypes.AutoString(length=200), server_default="", nullable=False),
        sa.Column("decided_by_id", sa.Uuid(), nullable=True),
        sa.Column("decided_by_name", sqlmodel.sql.sqltypes.AutoString(length=200), server_default="", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("estimated_parts >= 0 AND estimated_labour >= 0", name="ck_ber_reviews_estimates"),
        sa.CheckConstraint("asset_value >= 0", name="ck_ber_reviews_value"),
        sa.CheckConstraint("decision IN ('', 'repair', 'return_unrepaired', 'scrap')", name="ck_ber_reviews_decision"),
        sa.ForeignKeyConstraint(
            ["tenant_id", "asset_id"],
            ["repair_assets.tenant_id", "repair_assets.id"],
            name="fk_ber_reviews_asset_id",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_ber_reviews_asset", "ber_reviews", ["tenant_id", "asset_id"], unique=False)
    op.create_index("ix_ber_reviews_created", "ber_reviews", ["tenant_id", "created_at"], unique=False)
    op.create_index(
        "uq_ber_reviews_open",
        "ber_reviews",
        ["tenant_id", "asset_id"],
        unique=True,
        postgresql_where=sa.text("decision = ''"),
    )
    op.create_index(op.f("ix_ber_reviews_tenant_id"), "ber_reviews", ["tenant_id"], unique=False)
    op.create_table(
        "diagnostic_logs",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("file_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("filename", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("storage_key", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("error", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.Column("asset_id", sa.Uuid(), nullable=True),
        sa.Column("imei", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("serial", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("tool", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("tested_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("codes_found", sa.Integer(), nullable=False),
        sa.Column("mapped_count", sa.Integer(), nullable=False),
        sa.Column("unmapped_count", sa.Integer(), nullable=False),
        sa.Column("uploaded_by_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("parsed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id", "asset_id"],
            ["repair_assets.tenant_id", "repair_assets.id"],
            name="fk_diagnostic_logs_asset_id",
            ondelete="SET NULL (asset_id)",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("tenant_id", "file_hash", name="uq_diagnostic_logs_hash"),
        sa.UniqueConstraint("tenant_id", "id", name="uq_diagnostic_logs_tenant_id_id"),
    )
    op.create_index("ix_diagnostic_logs_status", "diagnostic_logs", ["tenant_id", "status", "created_at"], unique=False)
    op.create_index(op.f("ix_diagnostic_logs_tenant_id"), "diagnostic_logs", ["tenant_id"], unique=False)
    op.create_table(
        "worksheets",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("number", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("asset_id", sa.Uuid(), nullable=False),
        sa.Column("technician_id", sa.Uuid(), nullable=True),
        sa.Column("team_id", sa.Uuid(), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("labour_minutes", sa.Integer(), nullable=False),
        sa.Column("notes", sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=False),
        sa.Column("qc_result", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("qc_notes", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column("qc_failures", sa.Integer(), nullable=False),
        sa.Column("qc_by_id", sa.Uuid(), nullable=True),
        sa.Column("qc_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("submitted_by_id", sa.Uuid(), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("history", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_by_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("labour_minutes >= 0", name="ck_worksheets_labour"),
        sa.ForeignKeyConstraint(
            ["tenant_id", "asset_id"],
            ["repair_assets.tenant_id", "repair_assets.id"],
            name="fk_worksheets_asset_id",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "team_id"],
            ["repair_teams.tenant_id", "repair_teams.id"],
            name="fk_worksheets_team_id",
            ondelete="SET NULL (team_id)",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "technician_id"],
            ["technicians.tenant_id", "technicians.id"],
            name="fk_worksheets_technician_id",
            ondelete="SET NULL (technician_id)",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("tenant_id", "id", name="uq_worksheets_tenant_id_id"),
        sa.UniqueConstraint("tenant_id", "number", name="uq_worksheets_number"),
    )
    op.create_index("ix_worksheets_asset", "worksheets", ["tenant_id", "asset_id"], unique=False)
    op.create_index("ix_worksheets_status", "worksheets", ["tenant_id", "status"], unique=False)
    op.create_index(op.f("ix_worksheets_tenant_id"), "worksheets", ["tenant_id"], unique=False)
    op.create_index(
        "uq_worksheets_one_open_per_asset",
        "worksheets",
        ["tenant_id", "asset_id"],
        unique=True,
        postgresql_where=sa.text("status IN ('open', 'in_qc')"),
    )
    op.create_table(
        "device_repair_codes",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("asset_id", sa.Uuid(), nullable=True),
        sa.Column("repair_code_id", sa.Uuid(), nullable=True),
        sa.Column("drfone_code", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("drfone_message", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("diagnostic_log_id", sa.Uuid(), nullable=True),
        sa.Column("worksheet_id", sa.Uuid(), nullable=True),
        sa.Column("done", sa.Boolean(), nullable=False),
        sa.Column("created_by_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("mapped_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("repair_code_id IS NOT NULL OR drfone_code <> ''", name="ck_device_repair_codes_code"),
        sa.CheckConstraint(
            "source IN ('triage', 'drfone', 'drfone_auto', 'migrated', 'worksheet')",
            name="ck_device_repair_codes_source",
        ),
        sa.ForeignKeyConstraint(["repair_code_id"], ["repair_codes.id"], ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(
            ["tenant_id", "asset_id"],
            ["repair_assets.tenant_id", "repair_assets.id"],
            name="fk_device_repair_codes_asset_id",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "diagnostic_log_id"],
            ["diagnostic_logs.tenant_id", "diagnostic_logs.id"],
            name="fk_device_repair_codes_diagnostic_log_id",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "worksheet_id"],
            ["worksheets.tenant_id", "worksheets.id"],
            name="fk_device_repair_codes_worksheet_id",
            ondelete="SET NULL (worksheet_id)",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("tenant_id", "id", name="uq_device_repair_codes_tenant_id_id"),
    )
    op.create_index("ix_device_repair_codes_asset", "device_repair_codes", ["tenant_id", "asset_id"], unique=False)
    op.create_index(op.f("ix_device_repair_codes_tenant_id"), "device_repair_codes", ["tenant_id"], unique=False)
    op.create_index(
        "ix_device_repair_codes_unmapped",
        "device_repair_codes",
        ["tenant_id", "drfone_code"],
        unique=False,
        postgresql_where=sa.text("repair_code_id IS NULL"),
    )
    op.create_index(
        "uq_device_repair_codes_log_code",
        "device_repair_codes",
        ["tenant_id", "diagnostic_log_id", "drfone_code"],
        unique=True,
        postgresql_where=sa.text("diagnostic_log_id IS NOT NULL"),
    )

    for table in TENANT_TABLES:
        enable_rls(op, table)
    op.execute('ALTER TABLE "repair_codes" ENABLE ROW LEVEL SECURITY')
    op.execute('ALTER TABLE "repair_codes" FORCE ROW LEVEL SECURITY')
    op.execute(
        f'CREATE POLICY {POLICY} ON "repair_codes" USING (tenant_id IS NULL OR {CONDITION}) WITH CHECK ({CONDITION})'
    )
    op.execute(OWN_CODES_ONLY)
    op.execute(
        "CREATE TRIGGER repair_codes_own_rows_only BEFORE INSERT OR UPDATE OR DELETE ON repair_codes "
        "FOR EACH ROW EXECUTE FUNCTION repair_codes_own_rows_only()"
    )
    codes = sa.table(
        "repair_codes",
        sa.column("id", sa.Uuid()),
        sa.column("tenant_id", sa.Uuid()),
        sa.column("code", sa.String()),
        sa.column("name", sa.String()),
        sa.column("category", sa.String()),
        sa.column("default_labour_minutes", sa.Integer()),
        sa.column("active", sa.Boolean()),
        sa.column("created_at", sa.DateTime(timezone=True)),
    )
    now = datetime.now(UTC)
    op.bulk_insert(
        codes,
        [
            {
                "id": uuid.uuid5(uuid.NAMESPACE_URL, f"shopfloor:repair-code:{code}"),
                "tenant_id": None,
                "code": code,
                "name": name,
                "category": category,
                "default_labour_minutes": minutes,
                "active": True,
                "created_at": now,
            }
            for code, (name, category, minutes) in CANONICAL_CODES.items()
        ],
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS repair_codes_own_rows_only ON repair_codes")
    op.execute("DROP FUNCTION IF EXISTS repair_codes_own_rows_only()")
    for table in (*TENANT_TABLES, "repair_codes"):
        disable_rls(op, table)
    op.drop_index(
        "uq_device_repair_codes_log_code",
        table_name="device_repair_codes",
        postgresql_where=sa.text("diagnostic_log_id IS NOT NULL"),
    )
    op.drop_index(
        "ix_device_repair_codes_unmapped",
        table_name="device_repair_codes",
        postgresql_where=sa.text("repair_code_id IS NULL"),
    )
    op.drop_index(op.f("ix_device_repair_codes_tenant_id"), table_name="device_repair_codes")
    op.drop_index("ix_device_repair_codes_asset", table_name="device_repair_codes")
    op.drop_table("device_repair_codes")
    op.drop_index(
        "uq_worksheets_one_open_per_asset",
        table_name="worksheets",
        postgresql_where=sa.text("status IN ('open', 'in_qc')"),
    )
    op.drop_index(op.f("ix_worksheets_tenant_id"), table_name="worksheets")
    op.drop_index("ix_worksheets_status", table_name="worksheets")
    op.drop_index("ix_worksheets_asset", table_name="worksheets")
    op.drop_table("worksheets")
    op.drop_index(op.f("ix_diagnostic_logs_tenant_id"), table_name="diagnostic_logs")
    op.drop_index("ix_diagnostic_logs_status", table_name="diagnostic_logs")
    op.drop_table("diagnostic_logs")
    op.drop_index(op.f("ix_ber_reviews_tenant_id"), table_name="ber_reviews")
    op.drop_index("ix_ber_reviews_asset", table_name="ber_reviews")
    op.drop_table("ber_reviews")
    op.drop_index(op.f("ix_asset_status_changes_tenant_id"), table_name="asset_status_changes")
    op.drop_index("ix_asset_status_changes_day", table_name="asset_status_changes")
    op.drop_index("ix_asset_status_changes_asset", table_name="asset_status_changes")
    op.drop_table("asset_status_changes")
    op.drop_index(op.f("ix_asset_photos_tenant_id"), table_name="asset_photos")
    op.drop_index("ix_asset_photos_asset", table_name="asset_photos")
    op.drop_table("asset_photos")
    op.drop_index(op.f("ix_repair_invoice_lines_tenant_id"), table_name="repair_invoice_lines")
    op.drop_index("ix_repair_invoice_lines_invoice", table_name="repair_invoice_lines")
    op.drop_table("repair_invoice_lines")
    op.drop_index(
        "uq_repair_assets_batch_serial",
        table_name="repair_assets",
        postgresql_where=sa.text("imei = '' AND serial <> ''"),
    )
    op.drop_index("uq_repair_assets_batch_imei", table_name="repair_assets", postgresql_where=sa.text("imei <> ''"))
    op.drop_index(op.f("ix_repair_assets_tenant_id"), table_name="repair_assets")
    op.drop_index("ix_repair_assets_status", table_name="repair_assets")
    op.drop_index("ix_repair_assets_imei", table_name="repair_assets")
    op.drop_index("ix_repair_assets_client", table_name="repair_assets")
    op.drop_table("repair_assets")
    op.drop_index("uq_repair_invoices_number", table_name="repair_invoices", postgresql_where=sa.text("number <> ''"))
    op.drop_index(
        "uq_repair_invoices_dispatch",
        table_name="repair_invoices",
        postgresql_where=sa.text("dispatch_id IS NOT NULL AND kind = 'invoice'"),
    )
    op.drop_index(op.f("ix_repair_invoices_tenant_id"), table_name="repair_invoices")
    op.drop_index("ix_repair_invoices_status", table_name="repair_invoices")
    op.drop_table("repair_invoices")
    op.drop_index(op.f("ix_receiving_sessions_tenant_id"), table_name="receiving_sessions")
    op.drop_index("ix_receiving_sessions_batch", table_name="receiving_sessions")
    op.drop_table("receiving_sessions")
    op.drop_index(op.f("ix_expected_devices_tenant_id"), table_name="expected_devices")
    op.drop_index("ix_expected_devices_serial", table_name="expected_devices")
    op.drop_index("ix_expected_devices_imei", table_name="expected_devices")
    op.drop_index("ix_expected_devices_batch", table_name="expected_devices")
    op.drop_table("expected_devices")
    op.drop_index(op.f("ix_technicians_tenant_id"), table_name="technicians")
    op.drop_table("technicians")
    op.drop_index(op.f("ix_repair_dispatches_tenant_id"), table_name="repair_dispatches")
    op.drop_index("ix_repair_dispatches_status", table_name="repair_dispatches")
    op.drop_table("repair_dispatches")
    op.drop_index(op.f("ix_price_rules_tenant_id"), table_name="price_rules")
    op.drop_index("ix_price_rules_lookup", table_name="price_rules")
    op.drop_table("price_rules")
    op.drop_index(op.f("ix_expected_batches_tenant_id"), table_name="expected_batches")
    op.drop_index("ix_expected_batches_status", table_name="expected_batches")
    op.drop_table("expected_batches")
    op.drop_index(op.f("ix_drfone_code_mappings_tenant_id"), table_name="drfone_code_mappings")
    op.drop_table("drfone_code_mappings")
    op.drop_index(op.f("ix_repair_teams_tenant_id"), table_name="repair_teams")
    op.drop_table("repair_teams")
    op.drop_index(op.f("ix_repair_imports_tenant_id"), table_name="repair_imports")
    op.drop_index("ix_repair_imports_created", table_name="repair_imports")
    op.drop_table("repair_imports")
    op.drop_index("uq_repair_codes_shop", table_name="repair_codes", postgresql_where=sa.text("tenant_id IS NOT NULL"))
    op.drop_index("uq_repair_codes_canonical", table_name="repair_codes", postgresql_where=sa.text("tenant_id IS NULL"))
    op.drop_index(op.f("ix_repair_codes_tenant_id"), table_name="repair_codes")
    op.drop_table("repair_codes")
    op.drop_index(op.f("ix_repair_clients_tenant_id"), table_name="repair_clients")
    op.drop_table("repair_clients")
    op.drop_index(op.f("ix_device_models_tenant_id"), table_name="device_models")
    op.drop_table("device_models")
    op.drop_index(op.f("ix_daily_metrics_snapshots_tenant_id"), table_name="daily_metrics_snapshots")
    op.drop_table("daily_metrics_snapshots")
