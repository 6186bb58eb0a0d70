"""account_event: an audit row for each change an admin makes to an officer account

Adding, disabling, enabling, removing an account and resetting its password left no trace of
who did it; the row names the actor, the action, the account and the time (never a password).

Revision ID: c4e8a2f6b1d3
Revises: b7d2e4f6a8c1
Create Date: 2026-12-02 00:50:00
"""

import sqlalchemy as sa
from alembic import op

import inbox_agent.db.types

revision = "c4e8a2f6b1d3"
down_revision = "b7d2e4f6a8c1"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "account_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("target", sa.String(length=100), nullable=False),
        sa.Column("at", inbox_agent.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_event")),
    )


def downgrade() -> None:
    op.drop_table("account_event")
