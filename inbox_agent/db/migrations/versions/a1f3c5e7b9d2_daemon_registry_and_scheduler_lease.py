"""daemon registry and the scheduler's own lease: several daemons share the mailboxes fairly (fleet.py)

The scheduler's lease was a fake ``folder_state`` row ("(scheduler)", ""); it moves to
``scheduler_lease`` (one row, created here) and the fake row is dropped.

Revision ID: a1f3c5e7b9d2
Revises: 5cc2f2da6fc9
Create Date: 2026-12-02 00:05:00
"""

import sqlalchemy as sa
from alembic import op

import inbox_agent.db.types

revision = "a1f3c5e7b9d2"
down_revision = "5cc2f2da6fc9"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "daemon",
        sa.Column("instance", sa.String(length=200), nullable=False),
        sa.Column("host", sa.String(length=200), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=True),
        sa.Column("started_at", inbox_agent.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("seen_at", inbox_agent.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("instance", name=op.f("pk_daemon")),
    )
    lease = op.create_table(
        "scheduler_lease",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("holder", sa.String(length=200), nullable=True),
        sa.Column("since", inbox_agent.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("until", inbox_agent.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_scheduler_lease")),
    )
    op.bulk_insert(lease, [{"name": "scheduler"}])
    op.execute("DELETE FROM folder_state WHERE mailbox = '(scheduler)' AND folder = ''")


def downgrade() -> None:
    op.drop_table("scheduler_lease")
    op.drop_table("daemon")
