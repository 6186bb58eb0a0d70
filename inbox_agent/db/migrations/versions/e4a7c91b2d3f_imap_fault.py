"""imap fault: an IMAP operation the server refuses, with its own backoff (for health, metrics, digest)

Revision ID: e4a7c91b2d3f
Revises: 7c3e9a1d4b2f
Create Date: 2026-12-01 21:20:00
"""

import sqlalchemy as sa
from alembic import op

import inbox_agent.db.types

revision = "e4a7c91b2d3f"
down_revision = "7c3e9a1d4b2f"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "imap_fault",
        sa.Column("mailbox", sa.String(length=100), nullable=False),
        sa.Column("operation", sa.String(length=20), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("since", inbox_agent.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_attempt_at", inbox_agent.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("retry_at", inbox_agent.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("mailbox", "operation", name=op.f("pk_imap_fault")),
    )


def downgrade() -> None:
    op.drop_table("imap_fault")
