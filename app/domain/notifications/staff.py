"""What staff send from a ticket: "Enviar e-mail ao cliente" (with chosen attachments) and "Reenviar protocolo"."""
from __future__ import annotations

from typing import Any, Iterable, Optional

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain import history, messages, notifications
from app.domain.errors import Conflict, DomainError, NotAllowed, ValidationError
from app.domain.inputs import check_length, limit_of, parse_id
from app.models import Attachment, Notification, Ticket, TicketMessage

NAMES = ("email", "protocol")
SEND_PERMISSION = ("can_act", "TicketActionView")


def _may_send(user: Any) -> bool:
    from app.domain.access import acts_as_customer
    from app.extensions import appbuilder

    if user is None or not getattr(user, "is_authenticated", False) or acts_as_customer(user):
        return False
    return bool(appbuilder.sm._has_view_access(user, *SEND_PERMISSION))


def refusal(session: Session, ticket: Ticket, user: Any, name: str) -> Optional[str]:
    """Why staff cannot send this now (pt-BR), or None when they can."""
    if not _may_send(user):
        return str(_l("Você não tem permissão para enviar mensagens ao cliente."))
    customer = ticket.customer if ticket.type == "customer" else None
    if customer is None:
        return str(_l("Este atendimento não tem cliente."))
    if ticket.is_draft:
        return str(_l("Rascunho: salve o atendimento antes de enviar algo ao cliente."))
    if name == "email":
        if ticket.status is not None and ticket.status.category == "cancelled":
            return str(_l("Atendimento cancelado não aceita alterações."))
        if notifications.primary_email(session, customer) is None:
            return str(_l("O cliente não tem e-mail cadastrado."))
        if customer.accepts_email is False:
            return str(_l("O cliente optou por não receber e-mails."))
        return None
    if name == "protocol":
        if not notifications.recipients(session, customer, "protocol"):
            return str(_l("O cliente não tem e-mail nem celular cadastrado para receber o protocolo."))
        return None
    raise KeyError(name)


def available(session: Session, ticket: Ticket, user: Any) -> dict[str, Optional[str]]:
    """Each of "email" and "protocol": None when it applies, else the reason (for the workspace's buttons)."""
    return {name: refusal(session, ticket, user, name) for name in NAMES}


def email_customer(session: Session, ticket: Ticket, user: Any, subject: Any, text: Any,
                   attachment_ids: Iterable[Any] = (), request_key: Optional[str] = None) -> list[Notification]:
    """Record a public message and queue it by e-mail with the chosen attachments of the ticket.

    The form's request key makes the e-mail's idempotency key: the same form posted twice queues (and records) once.
    """
    reason = refusal(session, ticket, user, "email")
    if reason is not None:
        raise (NotAllowed(reason) if not _may_send(user) else Conflict(reason))
    key = f"email:{ticket.protocol}:{notifications._clean_key(request_key)}" if request_key else None
    if key and session.scalar(select(Notification.id).where(Notification.idempotency_key == key + ":email")):
        return []
    subject = subject.strip() if isinstance(subject, str) else ""
    check_length(subject, limit_of(Notification.subject), "subject", _l("Assunto"))
    text = text.strip() if isinstance(text, str) else ""
    if not text:
        raise ValidationError(_l("Escreva o texto do e-mail."), "text")
    check_length(text, limit_of(TicketMessage.body), "text", _l("Texto"))
    chosen = _attachments(session, ticket, attachment_ids)
    message = TicketMessage(ticket=ticket, body=text, is_internal=False)
    messages.add_message(session, message, user, notify=False)
    queued = notifications.message_to_customer(session, ticket, message, chosen, title=subject, channels=("email",),
                                               user=user, key=key)
    if not queued:
        raise DomainError(_l("O e-mail não pôde ser colocado na fila."))
    names = ", ".join(a.filename for a in chosen)
    history.record(session, ticket, user, "action", field="notification",
                   new=f"{queued[0].recipient}: {queued[0].subject}" + (f" ({names})" if names else ""),
                   note=_l("E-mail enviado ao cliente"))
    return queued


def _attachments(session: Session, ticket: Ticket, ids: Iterable[Any]) -> list[Attachment]:
    wanted = []
    for raw in ids:
        value = parse_id(raw)
        if value is None:
            raise ValidationError(_l("Anexo inválido."), "attachment")
        wanted.append(value)
    if not wanted:
        return []
    found = list(session.scalars(select(Attachment).where(Attachment.id.in_(wanted),
                                                          Attachment.ticket_id == ticket.id)
                                 .order_by(Attachment.id)))
    if len(found) != len(set(wanted)):
        raise ValidationError(_l("Escolha somente anexos deste atendimento."), "attachment")
    return found
