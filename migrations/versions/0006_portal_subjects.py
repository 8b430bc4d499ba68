"""Portal scope: subjects offered in the customer portal (R30).

Every existing subject starts unavailable: an administrator ticks "Disponível na central" on the subjects a
customer may choose.

Revision ID: 0006
Revises: 0005
"""
from alembic import op
import sqlalchemy as sa

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("subject") as batch:
        batch.add_column(sa.Column("portal_available", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("subject") as batch:
        batch.drop_column("portal_available")
