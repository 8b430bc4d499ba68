"""pt-BR labels of the ticket fields, as history, prints and messages name them."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

FIELD_LABELS = {
    "type": _l("Tipo"),
    "customer": _l("Cliente"),
    "contract": _l("Contrato"),
    "site": _l("Estrutura própria"),
    "subject": _l("Assunto"),
    "department": _l("Departamento"),
    "priority": _l("Prioridade"),
    "channel": _l("Canal de atendimento"),
    "direction": _l("Ativo/Receptivo"),
    "status": _l("Status"),
    "sub_status": _l("Status complementar"),
    "closing_reason": _l("Motivo de fechamento"),
    "opening_description": _l("Descrição da abertura"),
    "closing_description": _l("Descrição do fechamento"),
    "service_address": _l("Endereço do serviço"),
    "received_at": _l("Data de recebimento"),
    "due_at": _l("Prazo"),
    "closed_at": _l("Data de fechamento"),
    "is_draft": _l("Rascunho"),
    "rating": _l("Avaliação"),
    "related_ticket": _l("SAC relacionado"),
    "assignees": _l("Usuários responsáveis"),
    "cancel_reason": _l("Motivo do cancelamento"),
}
