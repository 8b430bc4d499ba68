"""Indexes for the manager's lists and dashboards on a million tickets.

PostgreSQL gets covering indexes (INCLUDE) so the dashboards' grouped counts read only the index
(index-only scans), and "Meus atendimentos" reads an assignee's tickets from one index; SQLite gets the
plain composite equivalents. Hand-written (INCLUDE is dialect-specific): ``migrations/env.py`` keeps
autogenerate away from indexes named ``ix_report_*``.

Revision ID: 0005
Revises: 0004
"""
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

POSTGRESQL = [
    # open backlog by status, department, subject, age and due date
    "CREATE INDEX IF NOT EXISTS ix_report_ticket_status ON ticket (status_id) "
    "INCLUDE (id, department_id, subject_id, opened_at, due_at, is_draft)",
    # opened per day and top customers of a period
    "CREATE INDEX IF NOT EXISTS ix_report_ticket_opened ON ticket (opened_at) INCLUDE (is_draft, status_id, customer_id)",
    # resolved per day, SLA and time to close of a period
    "CREATE INDEX IF NOT EXISTS ix_report_ticket_closed ON ticket (closed_at) "
    "INCLUDE (is_draft, status_id, subject_id, department_id, due_at, opened_at)",
    # an assignee's tickets ("Meus atendimentos", team view)
    "CREATE INDEX IF NOT EXISTS ix_report_assignee_user ON ticket_assignee (user_id, ticket_id)",
]
SQLITE = [
    "CREATE INDEX IF NOT EXISTS ix_report_ticket_status ON ticket (status_id, department_id, subject_id)",
    "CREATE INDEX IF NOT EXISTS ix_report_assignee_user ON ticket_assignee (user_id, ticket_id)",
]
NAMES = ["ix_report_ticket_status", "ix_report_ticket_opened", "ix_report_ticket_closed", "ix_report_assignee_user"]


def upgrade():
    for statement in POSTGRESQL if op.get_bind().dialect.name == "postgresql" else SQLITE:
        op.execute(statement)


def downgrade():
    for name in NAMES:
        op.execute(f"DROP INDEX IF EXISTS {name}")
