"""Customer portal: access tokens for first access and password reset; one customer per contact e-mail.

- ``portal_token``: the links of the Central do assinante (first access, new password). Only a SHA-256 hash of
  each link's secret is stored, with its purpose, expiry and the moment it was used (or replaced by a newer one).
- ``customer_email``: a contact e-mail belongs to one customer, whatever its case: a unique index on
  ``lower(email)``. Nothing is deleted or rewritten to get there. Where the same address (case aside) is already on
  several rows, the oldest row (lowest id) keeps it as the owner and every later row is marked
  ``legacy_duplicate``: the row stays on its customer's record, but the unique index and the portal's access links
  skip it (a link to an address another customer also uses could hand one customer's account to the other).
  An agent fixes the record (a new address clears the mark); app.domain.customers refuses any new duplicate.
- ``ticket.rating_comment``: the comment a customer writes with the rating of a resolved ticket; its length
  check is added like those of 0008 (PostgreSQL: NOT VALID constraint; SQLite: triggers, no table rebuild).

Revision ID: 0011
Revises: 0010
"""
from alembic import op
import sqlalchemy as sa

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

NOTE_TEXT = 4_000
RATING_CHECK = "ck_ticket_rating_comment_length"


def upgrade() -> None:
    op.create_table(
        "portal_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=20), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("email", sa.String(length=200), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint("purpose IN ('first_access', 'reset')", name="ck_portal_token_purpose"),
        sa.ForeignKeyConstraint(["customer_id"], ["customer.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["requested_by_id"], ["ab_user.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index("ix_portal_token_customer_created", "portal_token", ["customer_id", "created_at"], unique=False)

    with op.batch_alter_table("customer_email") as batch:
        batch.add_column(sa.Column("legacy_duplicate", sa.Boolean(), nullable=False, server_default=sa.false()))
    email = sa.table("customer_email", sa.column("id", sa.Integer), sa.column("email", sa.String),
                     sa.column("legacy_duplicate", sa.Boolean))
    owner = sa.select(sa.func.min(email.c.id)).group_by(sa.func.lower(email.c.email)).scalar_subquery()
    op.execute(email.update().where(email.c.id.not_in(owner)).values(legacy_duplicate=True))
    op.create_index("uq_customer_email_address", "customer_email", [sa.text("lower(email)")], unique=True,
                    sqlite_where=sa.text("legacy_duplicate IS 0"),
                    postgresql_where=sa.text("legacy_duplicate IS false"))

    postgresql = op.get_bind().dialect.name == "postgresql"
    if postgresql:
        op.add_column("ticket", sa.Column("rating_comment", sa.Text(), nullable=True))
        op.execute(f"ALTER TABLE ticket ADD CONSTRAINT {RATING_CHECK} "
                   f"CHECK (length(rating_comment) <= {NOTE_TEXT}) NOT VALID")
    else:
        op.execute("ALTER TABLE ticket ADD COLUMN rating_comment TEXT")
        refused = (f"FOR EACH ROW WHEN NOT (length(NEW.rating_comment) <= {NOTE_TEXT}) "
                   f"BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: {RATING_CHECK}'); END")
        op.execute(f"CREATE TRIGGER {RATING_CHECK}_insert BEFORE INSERT ON ticket {refused}")
        op.execute(f"CREATE TRIGGER {RATING_CHECK}_update BEFORE UPDATE OF rating_comment ON ticket {refused}")


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    if postgresql:
        op.execute(f"ALTER TABLE ticket DROP CONSTRAINT IF EXISTS {RATING_CHECK}")
        op.drop_column("ticket", "rating_comment")
    else:
        op.execute(f"DROP TRIGGER IF EXISTS {RATING_CHECK}_insert")
        op.execute(f"DROP TRIGGER IF EXISTS {RATING_CHECK}_update")
        op.execute("ALTER TABLE ticket DROP COLUMN rating_comment")  # no rebuild: it would cascade into the history

    op.drop_index("uq_customer_email_address", table_name="customer_email")
    with op.batch_alter_table("customer_email") as batch:
        batch.drop_column("legacy_duplicate")
    op.drop_index("ix_portal_token_customer_created", table_name="portal_token")
    op.drop_table("portal_token")
