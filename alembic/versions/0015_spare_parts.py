"""spare_parts

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-30

Spare parts for repairs (issue 17): a shop's spare parts (screens,
batteries, charge ports…) with their stock (never below zero, a
constraint), issued to worksheets and returned through the inventory
ledger. The ledger learns a third kind of item (`spare_part_id`; an entry
names exactly one of the three) and an idempotency key, unique per shop, so
a retried request never issues a part twice. RLS on spare_parts.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlmodel.sql.sqltypes import AutoString

from alembic import op
from app.platform.rls import disable_rls, enable_rls

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "spare_parts",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("sku", AutoString(length=100), nullable=False),
        sa.Column("name", AutoString(length=200), nullable=False),
        sa.Column("manufacturer", AutoString(length=100), nullable=False),
        sa.Column("category", AutoString(length=40), nullable=False),
        sa.Column("compatible_models", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("unit_cost", sa.Numeric(12, 2), nullable=False),
        sa.Column("current_stock", sa.Integer(), nullable=False),
        sa.Column("minimum_stock", sa.Integer(), nullable=False),
        sa.Column("location", AutoString(length=100), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("current_stock >= 0", name="ck_spare_parts_current_not_negative"),
        sa.CheckConstraint("minimum_stock >= 0", name="ck_spare_parts_minimum_not_negative"),
        sa.CheckConstraint("unit_cost >= 0", name="ck_spare_parts_unit_cost_not_negative"),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("tenant_id", "id", name="uq_spare_parts_tenant_id_id"),
        sa.UniqueConstraint("tenant_id", "sku", name="uq_spare_parts_tenant_id_sku"),
    )
    op.create_index(op.f("ix_spare_parts_tenant_id"), "spare_parts", ["tenant_id"], unique=False)
    op.create_index("ix_spare_parts_tenant_name", "spare_parts", ["tenant_id", "name"], unique=False)
    enable_rls(op, "spare_parts")

    op.add_column("inventory_transactions", sa.Column("spare_part_id", sa.Uuid(), nullable=True))
    op.add_column(
        "inventory_transactions",
        sa.Column("idempotency_key", AutoString(length=100), nullable=True),
    )
    op.drop_constraint("ck_inventory_transactions_one_item", "inventory_transactions", type_="check")
    op.create_check_constraint(
        "ck_inventory_transactions_one_item",
        "inventory_transactions",
        "num_nonnulls(product_mapping_id, part_offer_id, spare_part_id) = 1",
    )
    op.create_index(
        "ix_inventory_transactions_spare_part",
        "inventory_transactions",
        ["tenant_id", "spare_part_id", "created_at"],
        unique=False,
    )
    op.create_index(
        "ix_inventory_transactions_worksheet",
        "inventory_transactions",
        ["tenant_id", "reference_id"],
        unique=False,
        postgresql_where=sa.text("reference_type = 'WORKSHEET'"),
    )
    op.create_index(
        "uq_inventory_transactions_idempotency_key",
        "inventory_transactions",
        ["tenant_id", "idempotency_key"],
        unique=True,
        postgresql_where=sa.text("idempotency_key IS NOT NULL"),
    )


def downgrade() -> None:
    # the ledger is immutable (a trigger refuses DELETE): lift it while the spare parts' entries go
    op.execute("ALTER TABLE inventory_transactions DISABLE TRIGGER inventory_transactions_immutable")
    op.execute("DELETE FROM inventory_transactions WHERE spare_part_id IS NOT NULL")
    op.execute("ALTER TABLE inventory_transactions ENABLE TRIGGER inventory_transactions_immutable")
    op.drop_index("uq_inventory_transactions_idempotency_key", table_name="inventory_transactions")
    op.drop_index("ix_inventory_transactions_worksheet", table_name="inventory_transactions")
    op.drop_index("ix_inventory_transactions_spare_part", table_name="inventory_transactions")
    op.drop_constraint("ck_inventory_transactions_one_item", "inventory_transactions", type_="check")
    op.create_check_constraint(
        "ck_inventory_transactions_one_item",
        "inventory_transactions",
        "(product_mapping_id IS NULL) <> (part_offer_id IS NULL)",
    )
    op.drop_column("inventory_transactions", "idempotency_key")
    op.drop_column("inventory_transactions", "spare_part_id")
    disable_rls(op, "spare_parts")
    op.drop_index("ix_spare_parts_tenant_name", table_name="spare_parts")
    op.drop_index(op.f("ix_spare_parts_tenant_id"), table_name="spare_parts")
    op.drop_table("spare_parts")
