"""repair import runs

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-30

A bulk upload remembers when it was queued and which job is applying it: a
sweep queues again an upload whose job was lost (the queue was away when it
was started), and of two jobs for one upload only the one that claimed it
applies it (the other, a late duplicate, leaves it alone).
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("repair_imports", sa.Column("queued_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column(
        "repair_imports", sa.Column("runner_job_id", sa.String(length=100), nullable=False, server_default="")
    )
    op.execute("UPDATE repair_imports SET queued_at = created_at WHERE status = 'queued'")


def downgrade() -> None:
    op.drop_column("repair_imports", "runner_job_id")
    op.drop_column("repair_imports", "queued_at")
