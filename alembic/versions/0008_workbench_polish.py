"""workbench polish

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29

workbench: test-run screenshots, builds board (issue 12). The board says how
long a build has been in its status ("in testing for 5 hours"), so a build
remembers when its status last changed.
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("builds", sa.Column("status_changed_at", sa.DateTime(timezone=True), nullable=True))
    # Existing builds: the last status change their log recorded, else their
    # creation. Row-level security is forced on the owner too, so the backfill
    # lifts it for the length of this transaction only.
    op.execute("ALTER TABLE builds NO FORCE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE build_event_log NO FORCE ROW LEVEL SECURITY")
    op.execute(
        """
        UPDATE builds b SET status_changed_at = COALESCE(
            (SELECT max(e.created_at) FROM build_event_log e
              WHERE e.build_id = b.id
                AND (e.message LIKE 'Status %' OR e.message LIKE '%the build is stopped%')),
            b.created_at)
        """
    )
    op.execute("ALTER TABLE build_event_log FORCE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE builds FORCE ROW LEVEL SECURITY")


def downgrade() -> None:
    op.drop_column("builds", "status_changed_at")
