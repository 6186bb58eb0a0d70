"""officer roles, blocked senders, what the officer did with the "to check" list

officer.role: the first account (the oldest) becomes an admin, so an existing install keeps
someone who may manage accounts on the web page; every other account is an officer.

Revision ID: 5cc2f2da6fc9
Revises: e4a7c91b2d3f
Create Date: 2026-12-01 23:40:00
"""

import sqlalchemy as sa
from alembic import op

import inbox_agent.db.types

revision = "5cc2f2da6fc9"
down_revision = "e4a7c91b2d3f"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("officer", schema=None) as batch_op:
        batch_op.add_column(sa.Column("role", sa.String(length=10), server_default="officer", nullable=False))
    op.execute("UPDATE officer SET role = 'admin' WHERE id = (SELECT MIN(id) FROM officer)")
    when = inbox_agent.db.types.UTCDateTime(timezone=True)
    op.create_table(
        "blocked_sender",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shop", sa.String(length=100), nullable=False),
        sa.Column("email_key", sa.String(length=320), nullable=False),
        sa.Column("address", sa.String(length=320), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("case_reference", sa.String(length=40), nullable=True),
        sa.Column("blocked_by", sa.String(length=100), nullable=False),
        sa.Column("blocked_at", when, nullable=False),
        sa.Column("lifted_by", sa.String(length=100), nullable=True),
        sa.Column("lifted_at", when, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_blocked_sender")),
    )
    op.create_index("ix_blocked_sender_shop_email_key", "blocked_sender", ["shop", "email_key"])
    op.create_table(
        "review_decision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("case_reference", sa.String(length=40), nullable=True),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("at", when, nullable=False),
        sa.ForeignKeyConstraint(["message_id"], ["message.id"], name=op.f("fk_review_decision_message_id_message")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_decision")),
        sa.UniqueConstraint("message_id", name=op.f("uq_review_decision_message_id")),
    )


def downgrade() -> None:
    op.drop_table("review_decision")
    op.drop_index("ix_blocked_sender_shop_email_key", table_name="blocked_sender")
    op.drop_table("blocked_sender")
    with op.batch_alter_table("officer", schema=None) as batch_op:
        batch_op.drop_column("role")
