"""folder last poll time: when any instance last finished polling a folder (for `inbox-agent health`)

Revision ID: 039e5f47dac4
Revises: c56bfcab674e
Create Date: 2026-11-25 12:52:02.071996
"""

import sqlalchemy as sa
from alembic import op

import inbox_agent.db.types

revision = "039e5f47dac4"
down_revision = "c56bfcab674e"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("folder_state", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_poll_at", inbox_agent.db.types.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("folder_state", schema=None) as batch_op:
        batch_op.drop_column("last_poll_at")
