"""shop format

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29

How a shop writes money and time: its locale, currency and time zone
(app/platform/formatting.py reads them).
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("tenants", sa.Column("locale", sa.String(length=20), nullable=False, server_default="en_IE"))
    op.add_column("tenants", sa.Column("currency", sa.String(length=3), nullable=False, server_default="EUR"))
    op.add_column(
        "tenants", sa.Column("timezone", sa.String(length=64), nullable=False, server_default="Europe/Amsterdam")
    )


def downgrade() -> None:
    op.drop_column("tenants", "timezone")
    op.drop_column("tenants", "currency")
    op.drop_column("tenants", "locale")
