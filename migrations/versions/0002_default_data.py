"""Default roles, statuses, channels, priorities, department and parameters.

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

ROLES = ["Admin", "Public", "Gestor", "Atendente", "Tecnico", "Assinante"]
STATUSES = [
    ("Novo", "new", "#0d6efd", 1),
    ("Aguardando análise", "pending", "#6f42c1", 2),
    ("Pendente", "pending", "#fd7e14", 3),
    ("Em progresso", "in_progress", "#17a2b8", 4),
    ("Resolvido", "resolved", "#28a745", 5),
    ("Cancelado", "cancelled", "#6c757d", 6),
]
CHANNELS = [("Telefone", False), ("WhatsApp", False), ("E-mail", False), ("Chat", False),
            ("Presencial", False), ("Central do assinante", True)]
PRIORITIES = [("Baixa", 1, "#6c757d"), ("Normal", 2, "#0d6efd"), ("Alta", 3, "#fd7e14"), ("Urgente", 4, "#dc3545")]
DEPARTMENTS = ["Suporte técnico"]
CLOSING_REASONS = ["Problema resolvido", "Orientação ao cliente", "Resolvido com ordem de serviço",
                   "Solicitação atendida", "Sem contato com o cliente"]
SERVICE_ORDER_TYPES = ["Instalação", "Reparo", "Retirada de equipamento", "Mudança de endereço", "Visita técnica"]


def _table(name, *columns):
    return sa.table(name, *(sa.column(c) for c in columns))


def _fill(name, columns, rows):
    """Insert rows into a table only when it is empty, so nothing is ever duplicated."""
    bind = op.get_bind()
    if bind.execute(sa.text(f"SELECT COUNT(*) FROM {name}")).scalar():
        return
    op.bulk_insert(_table(name, *columns), [dict(zip(columns, row)) for row in rows])


def upgrade():
    bind = op.get_bind()
    existing = {r[0] for r in bind.execute(sa.text("SELECT name FROM ab_role"))}
    op.bulk_insert(_table("ab_role", "name"), [{"name": n} for n in ROLES if n not in existing])
    _fill("ticket_status", ["name", "category", "color", "sort_order", "active"],
          [(n, c, col, o, True) for n, c, col, o in STATUSES])
    _fill("channel", ["name", "is_portal", "active"], [(n, p, True) for n, p in CHANNELS])
    _fill("priority", ["name", "level", "color", "active"], [(n, lv, c, True) for n, lv, c in PRIORITIES])
    _fill("department", ["name", "active"], [(n, True) for n in DEPARTMENTS])
    _fill("closing_reason", ["name", "active"], [(n, True) for n in CLOSING_REASONS])
    _fill("service_order_type", ["name", "active"], [(n, True) for n in SERVICE_ORDER_TYPES])
    _fill("general_parameters",
          ["subject_required", "closing_reason_required", "reopen_window_hours", "default_list_days",
           "attachment_max_mb", "attachment_extensions"],
          [(True, False, 72, 7, 10, "pdf,png,jpg,jpeg,gif,txt,csv,xlsx,docx,odt,zip")])


def downgrade():
    for name in ("general_parameters", "service_order_type", "closing_reason", "department", "priority",
                 "channel", "ticket_status"):
        op.execute(f"DELETE FROM {name}")
    op.execute("DELETE FROM ab_role WHERE name IN ('Gestor', 'Atendente', 'Tecnico', 'Assinante')")
