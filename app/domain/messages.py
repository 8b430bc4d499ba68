"""Ticket messages: internal notes or messages to the customer, recorded in the history."""
from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from app.domain import history, notifications
from app.domain.access import acts_as_customer
from app.domain.clock import now
from app.domain.errors import Conflict, ValidationError
from app.models import TicketMessage


def add_message(session: Session, message: TicketMessage, user: Any, notify: bool = True) -> TicketMessage:
    """Add a message to a ticket that still accepts changes; staff's message to the customer is sent to them (R27)."""
    with session.no_autoflush:
        if message.ticket is None:
            raise ValidationError(_l("A mensagem precisa de um atendimento."), "ticket")
        if not (message.body or "").strip():
            raise ValidationError(_l("A mensagem não pode ficar vazia."), "body")
        if message.ticket.status is not None and message.ticket.status.category == "cancelled":
            raise Conflict(_l("Atendimento cancelado não aceita alterações."))
        message.author_id = getattr(user, "id", None)
        message.created_at = now()
        message.is_internal = bool(message.is_internal)
    session.add(message)
    history.record(
        session, message.ticket, user, "message",
        note=_l("Nota interna") if message.is_internal else _l("Mensagem ao cliente"),
        new=message.body[:500],
    )
    if notify and not message.is_internal and not acts_as_customer(user):
        notifications.message_to_customer(session, message.ticket, message, user=user)
    return message
