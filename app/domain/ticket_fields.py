"""pt-BR labels of the ticket fields and of what the history records, as history, prints and messages name them."""
from __future__ import annotations

from typing import Any, Iterable, Optional

from flask_babel import gettext, lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

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
    "rating_comment": _l("Comentário da avaliação"),
    "related_ticket": _l("SAC relacionado"),
    "assignees": _l("Usuários responsáveis"),
    "cancel_reason": _l("Motivo do cancelamento"),
    # the service orders of the ticket
    "service_order": _l("Abertura da OS"),
    "service_order.status": _l("Situação da OS"),
    "service_order.type_id": _l("Tipo de OS"),
    "service_order.technician_id": _l("Técnico da OS"),
    "service_order.scheduled_start": _l("Início agendado da OS"),
    "service_order.scheduled_end": _l("Fim agendado da OS"),
    "service_order.address": _l("Endereço da OS"),
    "service_order.description": _l("Descrição da OS"),
    "service_order.closing_notes": _l("Observações de fechamento da OS"),
    "service_order.started_at": _l("Início da execução da OS"),
    "service_order.closed_at": _l("Finalização da OS"),
    "service_order.rescheduled": _l("Reagendamento da OS"),
    # the actions on the ticket
    "cancel": _l("Cancelamento"),
    "reiterate": _l("Reiteração"),
    "complaint": _l("Reclamação"),
    "reopen": _l("Reabertura"),
    "grouped_with": _l("Agrupamento"),
    "article": _l("Artigo da base de conhecimento"),
    "mass_close": _l("Fechamento em massa"),
    "notification": _l("Notificação ao cliente"),
}
LOGIN_LISTS = ("assignees",)  # recorded as logins separated by commas
USER_IDS = ("service_order.technician_id",)
TYPE_IDS = ("service_order.type_id",)


def field_label(key: Optional[str]) -> str:
    """The pt-BR label of a recorded field; empty for a key without one, never the key itself."""
    label = FIELD_LABELS.get(key or "")
    return str(label) if label is not None else ""


def person_name(user: Any) -> str:
    """A person's first and last name; the login only for a user without a name."""
    if user is None:
        return ""
    name = f"{user.first_name or ''} {user.last_name or ''}".strip()
    return " ".join(name.split()) or str(user.username or "")


def history_values(session: Session, entries: Iterable[Any]) -> list[tuple[str, str]]:
    """The old and new value of each history entry as people read them: names, not logins or ids; Sim/Não."""
    from app.models import ServiceOrderType, User

    entries = list(entries)
    logins: set[str] = set()
    user_ids: set[int] = set()
    type_ids: set[int] = set()
    for entry in entries:
        for value in (entry.old_value, entry.new_value):
            if not value:
                continue
            if entry.field in LOGIN_LISTS:
                logins.update(part.strip() for part in value.split(","))
            elif entry.field in USER_IDS and value.strip().isdigit():
                user_ids.add(int(value))
            elif entry.field in TYPE_IDS and value.strip().isdigit():
                type_ids.add(int(value))
    by_login = {user.username: person_name(user)
                for user in session.scalars(select(User).where(User.username.in_(logins)))} if logins else {}
    users = {str(user.id): person_name(user)
             for user in session.scalars(select(User).where(User.id.in_(user_ids)))} if user_ids else {}
    types = {str(kind.id): str(kind) for kind in session.scalars(
        select(ServiceOrderType).where(ServiceOrderType.id.in_(type_ids)))} if type_ids else {}
    words = {"True": gettext("Sim"), "False": gettext("Não"), "None": ""}

    def readable(field: Optional[str], value: Optional[str]) -> str:
        if value is None:
            return ""
        if field in LOGIN_LISTS:
            return ", ".join(by_login.get(part.strip(), part.strip()) for part in value.split(",") if part.strip())
        key = value.strip()
        if field in USER_IDS or field in TYPE_IDS:  # a name recorded in place of the id stays as it is
            return (users if field in USER_IDS else types).get(key, "" if key.isdigit() else value)
        return words.get(key, value)

    return [(readable(entry.field, entry.old_value), readable(entry.field, entry.new_value)) for entry in entries]
