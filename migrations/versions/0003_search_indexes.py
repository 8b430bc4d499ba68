"""Indexes for the agent's customer search: name prefix and words, document, phone, e-mail, protocol, contract.

PostgreSQL gets expression, pattern-ops and trigram (pg_trgm) indexes; SQLite a plain lower(name) index.
Hand-written (dialect-specific DDL): ``migrations/env.py`` keeps autogenerate/``db check`` away from
indexes named ``ix_search_*``.

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
    # name: prefix of the whole name (LIKE 'x%') and prefix of any word (LIKE '% x%', trigram)
    "CREATE INDEX IF NOT EXISTS ix_search_customer_name_prefix ON customer (lower(name) text_pattern_ops)",
    "CREATE INDEX IF NOT EXISTS ix_search_customer_name_trgm ON customer USING gin (lower(name) gin_trgm_ops)",
    # CPF/CNPJ: digits only, full or prefix
    "CREATE INDEX IF NOT EXISTS ix_search_customer_document ON customer (document varchar_pattern_ops)",
    # phone: with DDD (equal or prefix) and without DDD (LIKE '%x', trigram)
    "CREATE INDEX IF NOT EXISTS ix_search_customer_phone ON customer_phone (number varchar_pattern_ops)",
    "CREATE INDEX IF NOT EXISTS ix_search_customer_phone_trgm ON customer_phone USING gin (number gin_trgm_ops)",
    # e-mail: case-insensitive, full or prefix
    "CREATE INDEX IF NOT EXISTS ix_search_customer_email ON customer_email (lower(email) text_pattern_ops)",
    # protocol prefix (the ticket look-up); equality uses the unique constraint
    "CREATE INDEX IF NOT EXISTS ix_search_ticket_protocol ON ticket (protocol varchar_pattern_ops)",
    # contract login and number, full or prefix
    "CREATE INDEX IF NOT EXISTS ix_search_contract_login ON contract (login varchar_pattern_ops)",
    "CREATE INDEX IF NOT EXISTS ix_search_contract_number ON contract (number varchar_pattern_ops)",
]
SQLITE = [
    "CREATE INDEX IF NOT EXISTS ix_search_customer_name_prefix ON customer (lower(name))",
]
NAMES = ["ix_search_customer_name_prefix", "ix_search_customer_name_trgm", "ix_search_customer_document",
         "ix_search_customer_phone", "ix_search_customer_phone_trgm", "ix_search_customer_email",
         "ix_search_ticket_protocol", "ix_search_contract_login", "ix_search_contract_number"]


def upgrade():
    for statement in POSTGRESQL if op.get_bind().dialect.name == "postgresql" else SQLITE:
        op.execute(statement)


def downgrade():
    for name in NAMES:
        op.execute(f"DROP INDEX IF EXISTS {name}")
