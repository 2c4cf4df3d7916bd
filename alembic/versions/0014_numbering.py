"""numbering

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30

Numbering (issue 17): how each kind of document number looks
(`sequence_definitions`, global, seeded here) and each shop's counters
(`numbering_sequences`, a tenant table with the standard forced policy; one
row per shop, kind and period: the year, or 0 for a sequence that never
starts again).

The app role only reads the definitions, and may not delete a counter (a
deleted counter would start again at 1 and give numbers a second time).
Order numbers move here: the counters orders kept in `system_config`
(`orders.sequence.M` and `.B`, holding the last number given) become the
`order_manual` and `order_builder` counters, so numbering continues where it
stood. The downgrade puts them back.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from sqlmodel.sql.sqltypes import AutoString

from alembic import op
from app.platform.rls import disable_rls, enable_rls

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# key → (title, default prefix, padding, reset, gapless)
DEFINITIONS: dict[str, tuple[str, str, int, str, bool]] = {
    "order_manual": ("Manual orders", "M-", 5, "never", False),
    "order_builder": ("Builder orders", "B-", 5, "never", False),
    "asset": ("Assets", "AS-", 5, "never", False),
    "batch": ("Batches", "BA-", 5, "never", False),
    "worksheet": ("Worksheets", "WS-", 5, "never", False),
    "dispatch": ("Dispatches", "DS-", 5, "never", False),
    "invoice": ("Invoices", "INV-{year}-", 5, "yearly", True),
    "credit_note": ("Credit notes", "CN-{year}-", 5, "yearly", True),
}

# The system_config key of each order counter before this revision.
ORDER_COUNTERS = {"orders.sequence.M": "order_manual", "orders.sequence.B": "order_builder"}

CARRY_OVER = """
INSERT INTO numbering_sequences AS n (tenant_id, key, period, prefix, next_value, last_value, updated_at)
SELECT c.tenant_id, :new_key, 0, NULL, (c.value #>> '{}')::int + 1, (c.value #>> '{}')::int, now()
FROM system_config c
WHERE c.key = :old_key AND jsonb_typeof(c.value) IN ('number', 'string') AND (c.value #>> '{}') ~ '^[0-9]{1,9}$'
ON CONFLICT (tenant_id, key, period) DO UPDATE
    SET next_value = greatest(n.next_value, excluded.next_value),
        last_value = greatest(n.last_value, excluded.last_value),
        updated_at = now()
"""

CARRY_BACK = """
INSERT INTO system_config (tenant_id, key, value, updated_at)
SELECT n.tenant_id, :old_key, to_jsonb(n.next_value - 1), now()
FROM numbering_sequences n
WHERE n.key = :new_key AND n.period = 0 AND n.next_value > 1
ON CONFLICT (tenant_id, key) DO UPDATE SET value = excluded.value, updated_at = now()
"""

# Take the given rights on a table from every role but its owner (whatever
# the app role is called: it got them through default privileges).
REVOKE = """
DO $$
DECLARE r record;
BEGIN
    FOR r IN
        SELECT DISTINCT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END AS who
        FROM pg_class c CROSS JOIN LATERAL aclexplode(c.relacl) a
        WHERE c.relnamespace = 'public'::regnamespace AND c.relname = ':table' AND a.grantee <> c.relowner
    LOOP
        EXECUTE format('REVOKE :privileges ON :table FROM %s', r.who);
    END LOOP;
END
$$
"""


def carry_over_order_counters(connection: sa.Connection) -> None:
    """The order counters kept in system_config become numbering counters
    (the next number is the one after the last given; a counter already here
    only moves forward), and the old keys go. Needs a role that sees every
    shop's rows (the migrations' owner role)."""
    for old_key, new_key in ORDER_COUNTERS.items():
        connection.execute(sa.text(CARRY_OVER), {"old_key": old_key, "new_key": new_key})
        connection.execute(sa.text("DELETE FROM system_config WHERE key = :k"), {"k": old_key})


def carry_back_order_counters(connection: sa.Connection) -> None:
    for old_key, new_key in ORDER_COUNTERS.items():
        connection.execute(sa.text(CARRY_BACK), {"old_key": old_key, "new_key": new_key})


def _revoke(table: str, privileges: str) -> None:
    op.execute(REVOKE.replace(":table", table).replace(":privileges", privileges))


def upgrade() -> None:
    definitions = op.create_table(
        "sequence_definitions",
        sa.Column("key", AutoString(length=40), nullable=False),
        sa.Column("title", AutoString(length=100), nullable=False),
        sa.Column("default_prefix", AutoString(length=40), nullable=False),
        sa.Column("padding", sa.Integer(), nullable=False),
        sa.Column("reset", AutoString(length=10), nullable=False),
        sa.Column("gapless", sa.Boolean(), nullable=False),
        sa.CheckConstraint("reset IN ('yearly', 'never')", name="ck_sequence_definitions_reset"),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "numbering_sequences",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("key", AutoString(length=40), nullable=False),
        sa.Column("period", sa.Integer(), nullable=False),
        sa.Column("prefix", AutoString(length=40), nullable=True),
        sa.Column("next_value", sa.Integer(), nullable=False),
        sa.Column("last_value", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["key"], ["sequence_definitions.key"]),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),
        sa.PrimaryKeyConstraint("tenant_id", "key", "period"),
    )
    enable_rls(op, "numbering_sequences")
    assert definitions is not None
    op.bulk_insert(
        definitions,
        [
            {"key": k, "title": t, "default_prefix": p, "padding": n, "reset": r, "gapless": g}
            for k, (t, p, n, r, g) in DEFINITIONS.items()
        ],
    )
    _revoke("sequence_definitions", "INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER")
    _revoke("numbering_sequences", "DELETE, TRUNCATE")
    carry_over_order_counters(op.get_bind())


def downgrade() -> None:
    carry_back_order_counters(op.get_bind())
    disable_rls(op, "numbering_sequences")
    op.drop_table("numbering_sequences")
    op.drop_table("sequence_definitions")
