"""Row-level security for tenant tables, used by migrations.

Each tenant table gets ENABLE + FORCE (so even the owner obeys) and one policy
comparing `tenant_id` with the transaction's `app.tenant_id`. NULLIF turns a
cleared setting ('' on a pooled connection) into NULL, which matches nothing.
"""

POLICY = "tenant_isolation"
CONDITION = "tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid"


def enable_rls(op, table: str) -> None:
    op.execute(f'ALTER TABLE "{table}" ENABLE ROW LEVEL SECURITY')
    op.execute(f'ALTER TABLE "{table}" FORCE ROW LEVEL SECURITY')
    op.execute(f'DROP POLICY IF EXISTS {POLICY} ON "{table}"')
    op.execute(f'CREATE POLICY {POLICY} ON "{table}" USING ({CONDITION}) WITH CHECK ({CONDITION})')


def disable_rls(op, table: str) -> None:
    op.execute(f'DROP POLICY IF EXISTS {POLICY} ON "{table}"')
    op.execute(f'ALTER TABLE "{table}" NO FORCE ROW LEVEL SECURITY')
    op.execute(f'ALTER TABLE "{table}" DISABLE ROW LEVEL SECURITY')
