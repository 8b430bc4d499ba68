"""pt-BR labels of the fixed choices stored as codes."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

CHOICES = {
    "person_type": {"PF": _l("Pessoa física"), "PJ": _l("Pessoa jurídica")},
    "type": {"customer": _l("Cliente"), "site": _l("Estrutura própria")},
    "direction": {"inbound": _l("Receptivo"), "outbound": _l("Ativo")},
    "is_draft": {True: _l("Sim"), False: _l("Não")},
    "contract_status": {
        "active": _l("Ativo"),
        "suspended": _l("Suspenso"),
        "cancelled": _l("Cancelado"),
    },
    "category": {
        "new": _l("Novo"),
        "pending": _l("Pendente"),
        "in_progress": _l("Em progresso"),
        "resolved": _l("Resolvido"),
        "cancelled": _l("Cancelado"),
    },
    "service_order_status": {
        "open": _l("Aberta"),
        "scheduled": _l("Agendada"),
        "in_progress": _l("Em execução"),
        "done": _l("Finalizada"),
        "cancelled": _l("Cancelada"),
    },
    "phone_kind": {"mobile": _l("Celular"), "landline": _l("Fixo"), "whatsapp": _l("WhatsApp")},
    "site_kind": {
        "pop": _l("POP"),
        "tower": _l("Torre"),
        "olt": _l("OLT"),
        "cabinet": _l("Armário"),
        "other": _l("Outro"),
    },
    "reopen_window": {0: _l("Nunca"), 24: _l("24 horas"), 48: _l("48 horas"), 72: _l("72 horas")},
    "notification_kind": {
        "protocol": _l("Protocolo"),
        "message": _l("Mensagem ao cliente"),
        "resolved": _l("Atendimento concluído"),
        "first_access": _l("Primeiro acesso à central"),
        "reset": _l("Nova senha da central"),
    },
    "notification_channel": {"email": _l("E-mail"), "sms": _l("SMS")},
    "notification_status": {
        "pending": _l("Aguardando envio"),
        "sending": _l("Enviando"),
        "sent": _l("Enviada"),
        "failed": _l("Falhou"),
    },
}


def choice_label(kind: str, value: object) -> str:
    return str(CHOICES.get(kind, {}).get(value, value if value is not None else ""))


def choices(kind: str) -> list[tuple[object, object]]:
    """Return (value, label) pairs for a select field."""
    return list(CHOICES[kind].items())
