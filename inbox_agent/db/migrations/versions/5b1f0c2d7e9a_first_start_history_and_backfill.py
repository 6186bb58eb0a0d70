"""first start history and backfill: where "now" begins in a folder, and mail brought in on purpose

Revision ID: 5b1f0c2d7e9a
Revises: d32324f5791b
Create Date: 2026-12-01 20:50:00
"""

import sqlalchemy as sa
from alembic import op

import inbox_agent.db.types

revision = "5b1f0c2d7e9a"
down_revision = "d32324f5791b"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("folder_state", schema=None) as batch_op:
        batch_op.add_column(sa.Column("history_below_uid", sa.BigInteger(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("first_seen_at", inbox_agent.db.types.UTCDateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column("history_reported_at", inbox_agent.db.types.UTCDateTime(timezone=True),
                                      nullable=True))
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.add_column(sa.Column("backfilled_at", inbox_agent.db.types.UTCDateTime(timezone=True),
                                      nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.drop_column("backfilled_at")
    with op.batch_alter_table("folder_state", schema=None) as batch_op:
        batch_op.drop_column("history_reported_at")
        batch_op.drop_column("first_seen_at")
        batch_op.drop_column("history_below_uid")
