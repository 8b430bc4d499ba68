"""Input limits: a length limit on every text column.

Every free-text column (``LimitedText(n)`` in app/models.py) gets a CHECK ``length(<column>) <= n`` named
``ck_<table>_<column>_length``; the SLA of a subject and the default list period get an upper bound. The columns stay
TEXT (forms keep their text areas, no table is rewritten):

- PostgreSQL: ``ADD CONSTRAINT … NOT VALID``: new and changed rows are checked at once, without scanning the table
  or refusing the migration over an older, longer text (changing such a row requires shortening it);
- SQLite cannot add a constraint to an existing table without rebuilding it, and a rebuild of ``ticket`` with the
  application's ``PRAGMA foreign_keys=ON`` would cascade the drop of the old table into its history and messages:
  the same checks are BEFORE INSERT/UPDATE triggers raising SQLite's own "CHECK constraint failed: <name>".

Revision ID: 0008
Revises: 0007
"""
from alembic import op
import sqlalchemy as sa  # noqa: F401

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

LONG_TEXT = 10_000
NOTE_TEXT = 4_000
LIMITS = [  # (table, column, characters)
    ("customer", "notes", NOTE_TEXT),
    ("ticket", "opening_description", LONG_TEXT),
    ("ticket", "closing_description", LONG_TEXT),
    ("ticket", "cancel_reason", NOTE_TEXT),
    ("ticket_event", "old_value", LONG_TEXT),
    ("ticket_event", "new_value", LONG_TEXT),
    ("ticket_event", "note", LONG_TEXT),
    ("ticket_message", "body", LONG_TEXT),
    ("service_order", "description", LONG_TEXT),
    ("service_order", "closing_notes", LONG_TEXT),
    ("knowledge_article", "operator_guidance", LONG_TEXT),
    ("knowledge_article", "solution", LONG_TEXT),
    ("export_job", "error", NOTE_TEXT),
    ("mass_job", "error", NOTE_TEXT),
    ("mass_job_item", "reason", NOTE_TEXT),
]
BOUNDS = [  # (table, name, column, condition on "{column}")
    ("subject", "ck_subject_sla_max", "sla_hours", "{column} <= 8760"),
    ("general_parameters", "ck_default_list_days_max", "default_list_days", "{column} <= 3660"),
]


def checks() -> list[tuple[str, str, str, str]]:
    """(table, constraint name, column, condition on "{column}") of every check this revision adds."""
    return [(table, f"ck_{table}_{column}_length", column, f"length({{column}}) <= {limit}")
            for table, column, limit in LIMITS] + BOUNDS


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for table, name, column, condition in checks():
        if postgresql:
            op.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} "
                       f"CHECK ({condition.format(column=column)}) NOT VALID")
            continue
        refused = (f"FOR EACH ROW WHEN NOT ({condition.format(column='NEW.' + column)}) "
                   f"BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: {name}'); END")
        op.execute(f"CREATE TRIGGER {name}_insert BEFORE INSERT ON {table} {refused}")
        op.execute(f"CREATE TRIGGER {name}_update BEFORE UPDATE OF {column} ON {table} {refused}")


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for table, name, _column, _condition in reversed(checks()):
        if postgresql:
            op.execute(f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {name}")
        else:
            op.execute(f"DROP TRIGGER IF EXISTS {name}_insert")
            op.execute(f"DROP TRIGGER IF EXISTS {name}_update")
