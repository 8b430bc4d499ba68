"""Notifications: the outbox of e-mails and SMS, their templates and the customers' opt-outs.

The opt-outs are added and dropped with plain ALTER TABLE (SQLite 3.35+ drops a column in place): a rebuild of
``customer`` under the application's ``PRAGMA foreign_keys=ON`` would cascade into its phones and e-mails. The
default templates live in app.domain.notifications.templates and are written by ``flask init``.

Revision ID: 0010
Revises: 0009
"""
from alembic import op
import sqlalchemy as sa

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

OUTBOX_TEXT = 20_000
NOTE_TEXT = 4_000


def upgrade() -> None:
    op.add_column("customer", sa.Column("accepts_email", sa.Boolean(), nullable=False, server_default=sa.true()))
    op.add_column("customer", sa.Column("accepts_sms", sa.Boolean(), nullable=False, server_default=sa.true()))
    op.create_table(
        "notification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("channel", sa.String(length=5), nullable=False),
        sa.Column("recipient", sa.String(length=200), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("attachment_ids", sa.JSON(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("resend_of_id", sa.Integer(), nullable=True),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("claimed_at", sa.DateTime(), nullable=True),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("channel IN ('email', 'sms')", name="ck_notification_channel"),
        sa.CheckConstraint("status IN ('pending', 'sending', 'sent', 'failed')", name="ck_notification_status"),
        sa.CheckConstraint(f"length(body) <= {OUTBOX_TEXT}", name="ck_notification_body_length"),
        sa.CheckConstraint(f"length(last_error) <= {NOTE_TEXT}", name="ck_notification_last_error_length"),
        sa.ForeignKeyConstraint(["ticket_id"], ["ticket.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["customer_id"], ["customer.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["resend_of_id"], ["notification.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["created_by_id"], ["ab_user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("idempotency_key"),
    )
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.create_index("ix_notification_customer_id", ["customer_id"], unique=False)
        batch_op.create_index("ix_notification_resend_of_id", ["resend_of_id"], unique=False)
        batch_op.create_index("ix_notification_status_next", ["status", "next_attempt_at"], unique=False)
        batch_op.create_index("ix_notification_ticket", ["ticket_id", "id"], unique=False)
        batch_op.create_index("ix_notification_created_at", ["created_at"], unique=False)
    op.create_table(
        "message_template",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("channel", sa.String(length=5), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint("channel IN ('email', 'sms')", name="ck_message_template_channel"),
        sa.CheckConstraint(f"length(body) <= {NOTE_TEXT}", name="ck_message_template_body_length"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("kind", "channel", name="uq_message_template_kind_channel"),
    )


def downgrade() -> None:
    op.drop_table("message_template")
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_index("ix_notification_created_at")
        batch_op.drop_index("ix_notification_ticket")
        batch_op.drop_index("ix_notification_status_next")
        batch_op.drop_index("ix_notification_resend_of_id")
        batch_op.drop_index("ix_notification_customer_id")
    op.drop_table("notification")
    op.drop_column("customer", "accepts_sms")
    op.drop_column("customer", "accepts_email")
