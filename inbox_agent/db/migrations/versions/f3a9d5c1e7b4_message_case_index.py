"""Indexes for the scheduler's fleet-wide reads: message.case_id, outbox by kind, case_event by kind

The scheduler reads for all shops at once every minute. Without these, the scrub looked for raw
mail left on erased cases by reading the whole message table once per erased case (5.0 s of a
quiet tick for 1,000 shops with 8,000 stored mails), and the digest's read of the last notices and
held-back notices read every outbox row (bodies included) and every case event. ``case_id`` also
serves the case page and the export, and outbox (kind, shop) the last-notice check of every new case.

Revision ID: f3a9d5c1e7b4
Revises: c4e8a2f6b1d3
Create Date: 2026-12-02 14:10:00
"""

from alembic import op

revision = "f3a9d5c1e7b4"
down_revision = "c4e8a2f6b1d3"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_message_case", "message", ["case_id"])
    op.create_index("ix_outbox_kind", "outbox", ["kind", "shop", "created_at"])
    op.create_index("ix_case_event_kind", "case_event", ["kind", "at"])


def downgrade() -> None:
    op.drop_index("ix_case_event_kind", table_name="case_event")
    op.drop_index("ix_outbox_kind", table_name="outbox")
    op.drop_index("ix_message_case", table_name="message")
