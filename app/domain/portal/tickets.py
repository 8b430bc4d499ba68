"""What a customer reads and does in the portal: their tickets, one ticket's public side, opening and rating.

Every query is limited by app.domain.access (a customer's own registered tickets; public messages, files and
history entries); the actions are the domain's own (tickets.open_portal_ticket, actions.reiterate/complaint/
reopen, attachments.add_attachment), so the portal follows the same rules as the back office and the API.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Optional

from flask_babel import gettext, lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from app.domain import access, actions, tickets
from app.domain.errors import NotAllowed, ValidationError
from app.domain.history import describe
from app.domain.inputs import check_length, limit_of, parse_id
from app.domain.labels import choice_label
from app.domain.service_orders import window_text
from app.domain.ticket_fields import history_values
from app.models import (
    Attachment,
    Contract,
    ServiceOrder,
    Subject,
    Ticket,
    TicketEvent,
    TicketMessage,
)

PAGE_SIZE = 20
NOT_FOUND = _l("Atendimento não encontrado.")


def _customer_only(user: Any) -> None:
    if not access.acts_as_customer(user):
        raise NotAllowed(str(_l("A central do assinante é para clientes.")))


def visible_ticket(session: Session, user: Any, ticket_id: Any) -> Ticket:
    """One of the customer's own registered tickets; any other id (or none) is "not found"."""
    _customer_only(user)
    if not access.can_see_ticket(session, user, ticket_id):
        raise NotAllowed(str(NOT_FOUND))
    return session.get(Ticket, ticket_id)


def my_tickets(session: Session, user: Any, page: int = 0) -> tuple[list[Ticket], int]:
    """A page of the customer's tickets, newest first, and how many there are."""
    _customer_only(user)
    condition = access.ticket_condition(user)
    total = session.scalar(select(func.count(Ticket.id)).where(condition)) or 0
    rows = session.scalars(
        select(Ticket).where(condition)
        .options(joinedload(Ticket.status), joinedload(Ticket.subject), joinedload(Ticket.contract))
        .order_by(Ticket.opened_at.desc(), Ticket.id.desc()).offset(max(page, 0) * PAGE_SIZE).limit(PAGE_SIZE)
    ).all()
    return list(rows), total


@dataclass
class TicketView:
    """The public side of one ticket, as the customer sees it."""

    ticket: Ticket
    messages: list[TicketMessage]
    attachments: list[Attachment]
    service_orders: list[dict[str, str]]
    history: list[dict[str, str]]
    actions: dict[str, Optional[str]] = field(default_factory=dict)

    @property
    def legal_due_at(self) -> Optional[dt.datetime]:
        return getattr(self.ticket, "legal_due_at", None)

    @property
    def can_rate(self) -> bool:
        return self.ticket.status is not None and self.ticket.status.category == "resolved"


def who(user_id: Optional[int], user: Any) -> str:
    """The customer reads "Você" for themselves and the company's team for any staff member (never a name)."""
    return gettext("Você") if user_id is not None and user_id == getattr(user, "id", None) else gettext("Equipe")


def ticket_view(session: Session, user: Any, ticket_id: Any) -> TicketView:
    """Everything public about one of the customer's tickets, and which of their actions apply now."""
    ticket = visible_ticket(session, user, ticket_id)
    messages = session.scalars(
        select(TicketMessage).where(TicketMessage.ticket_id == ticket.id, access.message_condition(user))
        .order_by(TicketMessage.created_at, TicketMessage.id)).all()
    files = session.scalars(
        select(Attachment).where(Attachment.ticket_id == ticket.id, access.attachment_condition(user))
        .order_by(Attachment.id)).all()
    orders = [
        {"number": str(order.id), "type": str(order.type or gettext("Visita técnica")),
         "status": str(choice_label("service_order_status", order.status)),
         "window": window_text(order.scheduled_start, order.scheduled_end)}
        for order in session.scalars(
            select(ServiceOrder).where(ServiceOrder.ticket_id == ticket.id,
                                       access.portal_service_order_condition(user))
            .options(joinedload(ServiceOrder.type)).order_by(ServiceOrder.id))
    ]
    events = session.scalars(
        select(TicketEvent).where(TicketEvent.ticket_id == ticket.id, access.event_condition(user))
        .order_by(TicketEvent.created_at, TicketEvent.id)).all()
    history = [
        {"when": event.created_at, "who": who(event.user_id, user), "what": describe(event),
         "old": old or "", "new": new or ""}
        for event, (old, new) in zip(events, history_values(session, events))
    ]
    available = actions.available_actions(session, ticket, user)
    return TicketView(ticket=ticket, messages=list(messages), attachments=list(files), service_orders=orders,
                      history=history, actions={name: available.get(name) for name in actions.CUSTOMER_ACTIONS})


def visible_attachment(session: Session, user: Any, attachment_id: Any) -> Attachment:
    """One of the customer's public files of their own tickets; anything else is "not found"."""
    _customer_only(user)
    if not access.can_see(session, user, Attachment, attachment_id):
        raise NotAllowed(str(_l("Arquivo não encontrado.")))
    return session.get(Attachment, attachment_id)


# ---------------------------------------------------------------- opening


def subjects(session: Session, user: Any) -> list[Subject]:
    """The subjects offered in the portal (R30)."""
    return list(session.scalars(select(Subject).where(access.option_condition(Subject, user)).order_by(Subject.name)))


def contracts(session: Session, user: Any) -> list[Contract]:
    """The customer's contracts a ticket can be about (cancelled ones are gone)."""
    return list(session.scalars(select(Contract).where(access.contract_condition(user), Contract.status != "cancelled")
                                .order_by(Contract.number)))


def _pick(session: Session, user: Any, model: type, raw: Any, refused: Any, field: str) -> Any:
    """The record the customer chose by id, only among those they may choose."""
    if raw in (None, ""):
        return None
    pk = parse_id(raw)
    condition = access.condition_for(model, user) if model is not Subject else access.option_condition(Subject, user)
    found = session.scalar(select(model).where(model.id == pk, condition)) if pk else None
    if found is None:
        raise access.NotForCustomers(str(refused), field)
    return found


def open_ticket(session: Session, user: Any, subject_id: Any, contract_id: Any, description: Any) -> Ticket:
    """Open a ticket for the customer (R20, R30): one of their contracts, a subject offered in the portal."""
    _customer_only(user)
    customer = access.portal_customer(session, user)
    subject = _pick(session, user, Subject, subject_id, tickets.PORTAL_SUBJECT_REFUSED, "subject")
    contract = _pick(session, user, Contract, contract_id, tickets.PORTAL_CONTRACT_REFUSED, "contract")
    if contract is None and contracts(session, user):
        raise ValidationError(str(_l("Escolha o contrato do atendimento.")), "contract")
    text = description if isinstance(description, str) else ""
    check_length(text, limit_of(Ticket.opening_description), "opening_description")
    return tickets.open_portal_ticket(session, user, customer, subject, contract, text)


# ---------------------------------------------------------------- rating


def rate(session: Session, user: Any, ticket: Ticket, rating: Any, comment: Any, version: Any) -> None:
    """The customer rates a resolved ticket 1–5 with an optional comment (R30), naming the version read (R12)."""
    _customer_only(user)
    if not access.can_see_ticket(session, user, ticket.id):
        raise NotAllowed(str(NOT_FOUND))
    value = parse_id(rating)
    if value is None or not 1 <= value <= 5:
        raise ValidationError(str(_l("Escolha uma nota de 1 a 5.")), "rating")
    text = (comment.strip() if isinstance(comment, str) else "") or None
    check_length(text, limit_of(Ticket.rating_comment), "rating_comment")
    access.check_customer_update(ticket, {"rating": value, "rating_comment": text})
    ticket.rating = value
    ticket.rating_comment = text
    tickets.update_ticket(session, ticket, user, version, version_required=True)
