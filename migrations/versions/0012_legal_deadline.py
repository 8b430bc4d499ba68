"""Legal answer deadline (R24): when a ticket was registered and its 7-day deadline; customer versions (R29).

- ``ticket.registered_at`` and ``ticket.legal_due_at`` (registration + 7 calendar days, Decreto 11.034/2022 art. 13),
  indexed for the list's order and, with the status, for the "vencendo"/"vencido" filters and the dashboard card.
  Every ticket already registered (not a draft) is backfilled from its opening, in one UPDATE, before the indexes
  are built.
- ``general_parameters.legal_warning_hours`` (48 by default, 1 to 168): how close to the deadline an open ticket is
  "vencendo".
- ``customer.version``: the version an API update names (If-Match or ``version``), as for tickets.

Columns are added in place (no table rebuild on SQLite: the triggers of revision 0008 stay) and dropped in place
on the way down (SQLite 3.35+).

Revision ID: 0012
Revises: 0011
"""
from alembic import op
import sqlalchemy as sa

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

LEGAL_ANSWER_DAYS = 7  # app.domain.legal_deadline.LEGAL_ANSWER_DAYS, frozen here as the law was when this ran


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    op.add_column("ticket", sa.Column("registered_at", sa.DateTime(), nullable=True))
    op.add_column("ticket", sa.Column("legal_due_at", sa.DateTime(), nullable=True))
    if postgresql:
        op.execute(f"UPDATE ticket SET registered_at = opened_at, "
                   f"legal_due_at = opened_at + interval '{LEGAL_ANSWER_DAYS} days' WHERE is_draft = false")
    else:  # SQLAlchemy stores "YYYY-MM-DD HH:MM:SS.ffffff": keep the fraction after datetime()
        op.execute(f"UPDATE ticket SET registered_at = opened_at, "
                   f"legal_due_at = datetime(opened_at, '+{LEGAL_ANSWER_DAYS} days') || substr(opened_at, 20) "
                   f"WHERE is_draft = 0")
    op.create_index("ix_ticket_legal_due_at", "ticket", ["legal_due_at"])
    op.create_index("ix_ticket_status_legal_due", "ticket", ["status_id", "legal_due_at"])

    if postgresql:
        op.add_column("general_parameters", sa.Column("legal_warning_hours", sa.Integer(), nullable=False,
                                                      server_default="48"))
        op.create_check_constraint("ck_legal_warning_hours", "general_parameters",
                                   "legal_warning_hours BETWEEN 1 AND 168")
    else:  # SQLite adds a column with its own named CHECK without rebuilding the table
        op.execute("ALTER TABLE general_parameters ADD COLUMN legal_warning_hours INTEGER NOT NULL DEFAULT 48 "
                   "CONSTRAINT ck_legal_warning_hours CHECK (legal_warning_hours BETWEEN 1 AND 168)")

    op.add_column("customer", sa.Column("version", sa.Integer(), nullable=False, server_default="1"))


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    _drop_column("customer", "version")
    if postgresql:
        op.drop_constraint("ck_legal_warning_hours", "general_parameters", type_="check")
    _drop_column("general_parameters", "legal_warning_hours")
    op.drop_index("ix_ticket_status_legal_due", table_name="ticket")
    op.drop_index("ix_ticket_legal_due_at", table_name="ticket")
    _drop_column("ticket", "legal_due_at")
    _drop_column("ticket", "registered_at")


def _drop_column(table: str, column: str) -> None:
    """ALTER TABLE … DROP COLUMN on both databases (alembic would rebuild the table on SQLite)."""
    op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
