"""case sender proof: what a case's identity rests on (a trusted pass, an unproven known address, a code)

Existing cases were verified under the old rule (the known address was enough), so they are
marked "unproven": a data-changing right added to them later asks the known address first.

Revision ID: 7c3e9a1d4b2f
Revises: 5b1f0c2d7e9a
Create Date: 2026-12-01 21:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = "7c3e9a1d4b2f"
down_revision = "5b1f0c2d7e9a"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.add_column(sa.Column("proof", sa.String(length=20), nullable=True))
    op.execute("UPDATE \"case\" SET proof = 'unproven'")


def downgrade() -> None:
    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.drop_column("proof")
