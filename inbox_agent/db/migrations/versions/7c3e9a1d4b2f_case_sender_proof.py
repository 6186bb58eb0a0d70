"""trust: a case's sender proof, server-side officer sessions, login failures per account and client;
webshop work queued outside transactions

case.proof is what a case's identity rests on (a trusted pass, an unproven known address, a code).
Existing cases were verified under the old rule (the known address was enough), so they are
marked "unproven": a data-changing right added to them later asks the known address first.

Revision ID: 7c3e9a1d4b2f
Revises: 5b1f0c2d7e9a
Create Date: 2026-12-01 21:10:00
"""

import sqlalchemy as sa
from alembic import op

import inbox_agent.db.types

revision = "7c3e9a1d4b2f"
down_revision = "5b1f0c2d7e9a"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.add_column(sa.Column("proof", sa.String(length=20), nullable=True))
    op.execute("UPDATE \"case\" SET proof = 'unproven'")
    when = inbox_agent.db.types.UTCDateTime(timezone=True)
    op.create_table(
        "officer_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("officer", sa.String(length=100), nullable=False),
        sa.Column("client", sa.String(length=100), nullable=False),
        sa.Column("created_at", when, nullable=False),
        sa.Column("last_seen_at", when, nullable=False),
        sa.Column("ended_at", when, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_officer_session")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_officer_session_token_hash")),
    )
    op.create_index(op.f("ix_officer_session_officer"), "officer_session", ["officer"])
    op.create_table(
        "login_failure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("client", sa.String(length=100), nullable=False),
        sa.Column("at", when, nullable=False),
        sa.Column("throttled", sa.Boolean(), nullable=False),
        sa.Column("cleared", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_failure")),
    )
    op.create_index("ix_login_failure_name_at", "login_failure", ["name", "at"])
    op.create_table(
        "webshop_job",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("shop", sa.String(length=100), nullable=False),
        sa.Column("purpose", sa.String(length=20), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", when, nullable=False),
        sa.Column("claimed_until", when, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", when, nullable=False),
        sa.Column("done_at", when, nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"], name=op.f("fk_webshop_job_case_id_case")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webshop_job")),
    )
    op.create_index(op.f("ix_webshop_job_case_id"), "webshop_job", ["case_id"])
    op.create_index("ix_webshop_job_due", "webshop_job", ["status", "next_attempt_at"])
    with op.batch_alter_table("officer", schema=None) as batch_op:  # the hard lock a stranger could set off
        batch_op.drop_column("failed_logins")
        batch_op.drop_column("locked_until")


def downgrade() -> None:
    when = inbox_agent.db.types.UTCDateTime(timezone=True)
    with op.batch_alter_table("officer", schema=None) as batch_op:
        batch_op.add_column(sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("locked_until", when, nullable=True))
    op.drop_index("ix_webshop_job_due", table_name="webshop_job")
    op.drop_index(op.f("ix_webshop_job_case_id"), table_name="webshop_job")
    op.drop_table("webshop_job")
    op.drop_index("ix_login_failure_name_at", table_name="login_failure")
    op.drop_table("login_failure")
    op.drop_index(op.f("ix_officer_session_officer"), table_name="officer_session")
    op.drop_table("officer_session")
    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.drop_column("proof")
