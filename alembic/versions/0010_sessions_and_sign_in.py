"""sessions and sign in

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29

issue 13: session stamps and sign-in throttling live in Redis (they need no
table). The anonymous build cookie is bound to its browser: an owner-less
server-side build keeps the SHA-256 of a random token that only the cookie of
the browser that made it carries. Builds saved before have no token, so no
cookie opens them any more (their share links keep working).
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("saved_builds", sa.Column("anon_token_hash", sa.String(length=64), nullable=True))


def downgrade() -> None:
    op.drop_column("saved_builds", "anon_token_hash")
