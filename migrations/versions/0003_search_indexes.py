"""Indexes for the agent's customer search on PostgreSQL: name prefix and words, document, phone, e-mail.

Revision ID: 0003
Revises: 0002
"""
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

POSTGRESQL = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS ix_search_customer_name_prefix ON customer (lower(name) text_pattern_ops)",
    "CREATE INDEX IF NOT EXISTS ix_search_customer_name_trgm ON customer USING gin (lower(name) gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS ix_search_customer_document ON customer (document varchar_pattern_ops)",
    "CREATE INDEX IF NOT EXISTS ix_search_customer_phone ON customer_phone (number varchar_pattern_ops)",
    "CREATE INDEX IF NOT EXISTS ix_search_customer_email ON customer_email (lower(email))",
    "CREATE INDEX IF NOT EXISTS ix_search_ticket_protocol ON ticket (protocol varchar_pattern_ops)",
]
SQLITE = [
    "CREATE INDEX IF NOT EXISTS ix_search_customer_name_prefix ON customer (lower(name))",
]
NAMES = ["ix_search_customer_name_prefix", "ix_search_customer_name_trgm", "ix_search_customer_document",
         "ix_search_customer_phone", "ix_search_customer_email", "ix_search_ticket_protocol"]


def upgrade():
    for statement in POSTGRESQL if op.get_bind().dialect.name == "postgresql" else SQLITE:
        op.execute(statement)


def downgrade():
    for name in NAMES:
        op.execute(f"DROP INDEX IF EXISTS {name}")
