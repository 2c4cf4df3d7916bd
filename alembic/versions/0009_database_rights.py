"""database rights

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29

issue 13: foreign keys that include the shop, the app role's rights on global tables.

- Every foreign key between two tenant tables also names the tenant:
  `FOREIGN KEY (tenant_id, x_id) REFERENCES t (tenant_id, id)`, so a row of one
  shop can never point at another shop's row (a foreign key check ignores
  row-level security, so the old single-column keys let a shop reference, and
  probe for, another shop's ids). `ON DELETE SET NULL` clears only the id column
  (`SET NULL (x_id)`): the tenant column is never null.
- The app role keeps only reads on the platform's global tables (roles,
  permissions, role_permissions, tenants, platform_operators, alembic_version):
  an injection in the app can no longer grant itself permissions or rewrite
  another shop. Shops are created and their format changed through two narrow
  SECURITY DEFINER functions. The shared parts catalog stays insertable and
  updatable (the catalog import runs in a worker as the app role), never
  deletable.
- `platform_operators`: the few users who may run platform-wide work (re-import
  the shared catalog). Only the owner role writes it (`python -m app.cli
  platform-operator`), so no shop admin can make themselves one.
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op
from app.platform.rls import enable_rls

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Tenant tables other rows point at: each gets UNIQUE (tenant_id, id).
PARENTS = (
    "users",
    "customers",
    "saved_builds",
    "orders",
    "order_line_items",
    "builds",
    "product_mappings",
    "assembly_parts",
)

# (table, column, referenced table, ON DELETE, old constraint name)
FOREIGN_KEYS = (
    ("api_keys", "created_by_id", "users", "SET NULL", "api_keys_created_by_id_fkey"),
    ("sessions", "user_id", "users", "CASCADE", "sessions_user_id_fkey"),
    ("user_roles", "user_id", "users", "CASCADE", "user_roles_user_id_fkey"),
    ("notifications", "user_id", "users", "CASCADE", "notifications_user_id_fkey"),
    ("customer_sessions", "customer_id", "customers", "CASCADE", "customer_sessions_customer_id_fkey"),
    ("saved_builds", "customer_id", "customers", "SET NULL", "saved_builds_customer_id_fkey"),
    ("orders", "customer_id", "customers", "SET NULL", "fk_orders_customer_id"),
    ("orders", "saved_build_id", "saved_builds", "SET NULL", "fk_orders_saved_build_id"),
    ("order_line_items", "order_id", "orders", "CASCADE", "order_line_items_order_id_fkey"),
    ("builds", "order_id", "orders", "CASCADE", "builds_order_id_fkey"),
    ("builds", "assignee_id", "users", "SET NULL", "builds_assignee_id_fkey"),
    ("build_event_log", "build_id", "builds", "CASCADE", "build_event_log_build_id_fkey"),
    ("build_test_runs", "build_id", "builds", "CASCADE", "build_test_runs_build_id_fkey"),
    ("build_timeline_steps", "build_id", "builds", "CASCADE", "build_timeline_steps_build_id_fkey"),
    ("assembly_parts", "product_mapping_id", "product_mappings", "CASCADE", "assembly_parts_product_mapping_id_fkey"),
    ("print_jobs", "order_id", "orders", "CASCADE", "print_jobs_order_id_fkey"),
    ("print_jobs", "line_item_id", "order_line_items", "CASCADE", "print_jobs_line_item_id_fkey"),
    ("print_jobs", "product_mapping_id", "product_mappings", "SET NULL", "print_jobs_product_mapping_id_fkey"),
    ("print_jobs", "assembly_part_id", "assembly_parts", "SET NULL", "print_jobs_assembly_part_id_fkey"),
)

# Global tables the app only reads.
READ_ONLY = ("tenants", "roles", "permissions", "role_permissions", "platform_operators", "alembic_version")
# The shared parts catalog: the import inserts and updates, nothing deletes.
CATALOG = ("catalog_parts", "catalog_imports")

CREATE_TENANT = """
CREATE FUNCTION create_tenant(p_slug text, p_name text, p_is_default boolean DEFAULT false)
RETURNS uuid
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
DECLARE
    tid uuid;
BEGIN
    IF p_slug IS NULL OR p_slug !~ '^[a-z0-9][a-z0-9-]{0,62}$' THEN
        RAISE EXCEPTION 'a shop code is 1 to 63 lower-case letters, digits and dashes'
            USING ERRCODE = '22023';
    END IF;
    IF p_name IS NULL OR btrim(p_name) = '' OR length(p_name) > 200 THEN
        RAISE EXCEPTION 'a shop name is 1 to 200 characters' USING ERRCODE = '22023';
    END IF;
    -- one default shop at most: the storefront and sign-in fall back to it
    INSERT INTO tenants (id, slug, name, is_default, created_at)
    VALUES (
        gen_random_uuid(), p_slug, btrim(p_name),
        coalesce(p_is_default, false) AND NOT EXISTS (SELECT 1 FROM tenants WHERE is_default),
        now()
    )
    ON CONFLICT (slug) DO NOTHING
    RETURNING id INTO tid;
    IF tid IS NULL THEN
        SELECT id INTO tid FROM tenants WHERE slug = p_slug;
    END IF;
    RETURN tid;
END
$$
"""

SET_SHOP_FORMAT = """
CREATE FUNCTION set_shop_format(p_locale text, p_currency text, p_timezone text)
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
DECLARE
    tid uuid := NULLIF(current_setting('app.tenant_id', true), '')::uuid;
BEGIN
    -- only the shop this transaction runs for, the same one row security allows
    IF tid IS NULL THEN
        RAISE EXCEPTION 'no shop in this session' USING ERRCODE = '42501';
    END IF;
    UPDATE tenants
    SET locale = coalesce(p_locale, locale),
        currency = coalesce(p_currency, currency),
        timezone = coalesce(p_timezone, timezone)
    WHERE id = tid;
END
$$
"""

# Take write rights on the given tables from every role but their owner
# (whatever the app role is called: it got them through default privileges).
REVOKE = """
DO $$
DECLARE r record;
BEGIN
    FOR r IN
        SELECT DISTINCT c.relname AS tbl,
               CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END AS who
        FROM pg_class c CROSS JOIN LATERAL aclexplode(c.relacl) a
        WHERE c.relnamespace = 'public'::regnamespace
          AND c.relname = ANY(:tables)
          AND a.grantee <> c.relowner
    LOOP
        EXECUTE format('REVOKE %s ON %I FROM %s', :privileges, r.tbl, r.who);
    END LOOP;
END
$$
"""

# Give write rights back to every role that reads the tables (downgrade).
REGRANT = """
DO $$
DECLARE r record;
BEGIN
    FOR r IN
        SELECT DISTINCT c.relname AS tbl, quote_ident(pg_get_userbyid(a.grantee)) AS who
        FROM pg_class c CROSS JOIN LATERAL aclexplode(c.relacl) a
        WHERE c.relnamespace = 'public'::regnamespace
          AND c.relname = ANY(:tables)
          AND a.grantee <> c.relowner AND a.grantee <> 0 AND a.privilege_type = 'SELECT'
    LOOP
        EXECUTE format('GRANT INSERT, UPDATE, DELETE ON %I TO %s', r.tbl, r.who);
    END LOOP;
END
$$
"""


def _array(names: Sequence[str]) -> str:
    return "ARRAY[" + ", ".join(f"'{n}'" for n in names) + "]::name[]"


def _revoke(tables: Sequence[str], privileges: str) -> None:
    op.execute(REVOKE.replace(":tables", _array(tables)).replace(":privileges", f"'{privileges}'"))


def upgrade() -> None:
    op.create_table(
        "platform_operators",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),
        sa.PrimaryKeyConstraint("user_id"),
    )
    op.create_index(op.f("ix_platform_operators_tenant_id"), "platform_operators", ["tenant_id"], unique=False)
    # the app reads a shop's own operators only; only the owner role writes
    enable_rls(op, "platform_operators")
    op.add_column("catalog_imports", sa.Column("started_by_tenant_id", sa.Uuid(), nullable=True))

    for table in PARENTS:
        op.create_unique_constraint(f"uq_{table}_tenant_id_id", table, ["tenant_id", "id"])
    for table, column, parent, ondelete, old in FOREIGN_KEYS:
        op.drop_constraint(old, table, type_="foreignkey")
        op.create_foreign_key(
            f"fk_{table}_{column}",
            table,
            parent,
            ["tenant_id", column],
            ["tenant_id", "id"],
            ondelete=f"SET NULL ({column})" if ondelete == "SET NULL" else ondelete,
        )
    # a platform operator is a user of some shop; gone with the user
    op.create_foreign_key(
        "fk_platform_operators_user_id",
        "platform_operators",
        "users",
        ["tenant_id", "user_id"],
        ["tenant_id", "id"],
        ondelete="CASCADE",
    )

    op.execute(CREATE_TENANT)
    op.execute(SET_SHOP_FORMAT)
    # functions are executable by PUBLIC by default; the app role keeps
    # EXECUTE through the schema's default privileges
    op.execute("REVOKE ALL ON FUNCTION create_tenant(text, text, boolean) FROM PUBLIC")
    op.execute("REVOKE ALL ON FUNCTION set_shop_format(text, text, text) FROM PUBLIC")

    _revoke(READ_ONLY, "INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER")
    _revoke(CATALOG, "DELETE, TRUNCATE, REFERENCES, TRIGGER")


def downgrade() -> None:
    op.execute(REGRANT.replace(":tables", _array(READ_ONLY + CATALOG)))
    op.execute("DROP FUNCTION set_shop_format(text, text, text)")
    op.execute("DROP FUNCTION create_tenant(text, text, boolean)")
    op.drop_constraint("fk_platform_operators_user_id", "platform_operators", type_="foreignkey")
    for table, column, parent, ondelete, old in reversed(FOREIGN_KEYS):
        op.drop_constraint(f"fk_{table}_{column}", table, type_="foreignkey")
        op.create_foreign_key(old, table, parent, [column], ["id"], ondelete=ondelete)
    for table in reversed(PARENTS):
        op.drop_constraint(f"uq_{table}_tenant_id_id", table, type_="unique")
    op.drop_column("catalog_imports", "started_by_tenant_id")
    op.drop_index(op.f("ix_platform_operators_tenant_id"), table_name="platform_operators")
    op.drop_table("platform_operators")
