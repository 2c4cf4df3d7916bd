"""simplyprint inbox

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23

SimplyPrint deliveries are stored by the webhook route and applied by a
worker draining the inbox: a partial index finds the ones not applied yet,
oldest first, without reading the applied ones.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_sp_webhooks_pending",
        "processed_simplyprint_webhooks",
        ["tenant_id", "timestamp", "received_at"],
        unique=False,
        postgresql_where="processed_at IS NULL AND outcome = 'received'",
    )


def downgrade() -> None:
    op.drop_index(
        "ix_sp_webhooks_pending",
        table_name="processed_simplyprint_webhooks",
        postgresql_where="processed_at IS NULL AND outcome = 'received'",
    )
