"""The agent's side panel: customer, contract, open items and the customer's timeline."""
from __future__ import annotations

from typing import Any, Optional

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from app.domain.documents import format_document, format_phone
from app.domain.labels import choice_label
from app.domain.ticket_fields import history_values
from app.models import (
    OPEN_CATEGORIES,
    OPEN_SERVICE_ORDER_STATUSES,
    Contract,
    Customer,
    CustomerAddress,
    CustomerEmail,
    CustomerPhone,
    ServiceOrder,
    Ticket,
    TicketStatus,
)

TIMELINE_SIZE = 20


def _primary(session: Session, model: Any, customer_id: int) -> Any:
    return session.scalar(
        select(model).where(model.customer_id == customer_id).order_by(model.is_primary.desc(), model.id).limit(1)
    )


def ticket_panel(session: Session, ticket: Ticket) -> dict[str, Any]:
    """Gather the side panel of a ticket with a fixed number of queries."""
    panel: dict[str, Any] = {"customer": None, "contract": None, "open_tickets": [], "open_orders": [], "timeline": []}
    customer: Optional[Customer] = ticket.customer
    contract: Optional[Contract] = ticket.contract
    if contract is not None:
        panel["contract"] = {
            "number": contract.number, "plan": str(contract.plan or ""), "login": contract.login or "",
            "status": contract.status, "status_label": choice_label("contract_status", contract.status),
            "address": contract.address_line(), "site": str(contract.site or ""),
        }
    if customer is None:
        return panel
    phone = _primary(session, CustomerPhone, customer.id)
    email = _primary(session, CustomerEmail, customer.id)
    address = session.scalar(
        select(CustomerAddress).options(joinedload(CustomerAddress.city))
        .where(CustomerAddress.customer_id == customer.id)
        .order_by(CustomerAddress.is_primary.desc(), CustomerAddress.id).limit(1)
    )
    panel["customer"] = {
        "id": customer.id, "name": customer.name, "document": format_document(customer.document),
        "person_type": choice_label("person_type", customer.person_type),
        "phone": format_phone(phone.number) if phone else "", "email": email.email if email else "",
        "address": address.address_line() if address else "", "group": str(customer.group or ""),
    }
    open_query = (
        select(Ticket).join(TicketStatus, Ticket.status_id == TicketStatus.id)
        .options(joinedload(Ticket.subject), joinedload(Ticket.status))
        .where(Ticket.customer_id == customer.id, Ticket.is_draft.is_(False),
               TicketStatus.category.in_(OPEN_CATEGORIES), Ticket.id != ticket.id)
        .order_by(Ticket.opened_at.desc()).limit(10)
    )
    panel["open_tickets"] = list(session.scalars(open_query))
    panel["open_orders"] = list(session.scalars(
        select(ServiceOrder).join(Ticket, ServiceOrder.ticket_id == Ticket.id)
        .options(joinedload(ServiceOrder.type), joinedload(ServiceOrder.ticket))
        .where(Ticket.customer_id == customer.id, ServiceOrder.status.in_(OPEN_SERVICE_ORDER_STATUSES))
        .order_by(ServiceOrder.opened_at.desc()).limit(10)
    ))
    panel["timeline"] = timeline(session, customer.id)
    return panel


def timeline(session: Session, customer_id: int) -> list[dict[str, Any]]:
    """The customer's tickets, service orders and contract changes, newest first."""
    events: list[dict[str, Any]] = []
    for t in session.scalars(
        select(Ticket).options(joinedload(Ticket.subject), joinedload(Ticket.status))
        .where(Ticket.customer_id == customer_id, Ticket.is_draft.is_(False))
        .order_by(Ticket.opened_at.desc()).limit(TIMELINE_SIZE)
    ):
        events.append({"when": t.opened_at, "kind": _l("Atendimento"), "link": t.id,
                       "text": f"{t.protocol} — {t.subject or ''} ({t.status})"})
    for so in session.scalars(
        select(ServiceOrder).join(Ticket, ServiceOrder.ticket_id == Ticket.id)
        .options(joinedload(ServiceOrder.type))
        .where(Ticket.customer_id == customer_id)
        .order_by(ServiceOrder.opened_at.desc()).limit(TIMELINE_SIZE)
    ):
        events.append({"when": so.opened_at, "kind": _l("Ordem de serviço"), "link": None,
                       "text": f"OS {so.id} — {so.type or ''} ({choice_label('service_order_status', so.status)})"})
    for c in session.scalars(select(Contract).where(Contract.customer_id == customer_id).limit(TIMELINE_SIZE)):
        if c.activated_at:
            events.append({"when": c.activated_at, "kind": _l("Contrato"), "link": None,
                           "text": str(_l("Contrato %(number)s ativado", number=c.number))})
        if c.cancelled_at:
            events.append({"when": c.cancelled_at, "kind": _l("Contrato"), "link": None,
                           "text": str(_l("Contrato %(number)s cancelado", number=c.number))})
    events.sort(key=lambda e: (e["when"].isoformat() if e["when"] else ""), reverse=True)
    return events[:TIMELINE_SIZE]


def workspace(session: Session, ticket_id: int, user: Any = None) -> dict[str, Any]:
    """Everything the ticket's work tabs show, with a fixed number of queries; user defaults to the request's."""
    from app.domain import legal_deadline
    from app.domain import notifications
    from app.domain.actions import available_actions
    from app.domain.notifications.staff import available as notify_actions
    from app.domain.clock import now
    from app.domain.tickets import open_ticket_count
    from app.models import Attachment, ServiceOrderType, TicketEvent, TicketMessage

    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        return {}
    events = list(session.scalars(select(TicketEvent).options(joinedload(TicketEvent.user))
                                  .where(TicketEvent.ticket_id == ticket_id).order_by(TicketEvent.id)))
    return {
        "ticket": ticket,
        "panel": ticket_panel(session, ticket),
        "open_count": open_ticket_count(session, ticket.customer_id, exclude_id=ticket.id) if ticket.customer_id else 0,
        "events": events,
        "history": [{"event": event, "old": old, "new": new}
                    for event, (old, new) in zip(events, history_values(session, events))],
        "messages": list(session.scalars(select(TicketMessage).options(joinedload(TicketMessage.author))
                                         .where(TicketMessage.ticket_id == ticket_id).order_by(TicketMessage.id))),
        "attachments": list(session.scalars(select(Attachment).where(Attachment.ticket_id == ticket_id)
                                            .order_by(Attachment.id))),
        "orders": list(session.scalars(select(ServiceOrder).options(joinedload(ServiceOrder.type),
                                                                    joinedload(ServiceOrder.technician))
                                       .where(ServiceOrder.ticket_id == ticket_id).order_by(ServiceOrder.id))),
        "order_types": list(session.scalars(select(ServiceOrderType).where(ServiceOrderType.active.is_(True))
                                            .order_by(ServiceOrderType.name))),
        "actions": available_actions(session, ticket, user if user is not None else _request_user()),
        "notifications": notifications.of_ticket(session, ticket_id),  # R27: their state shows on the ticket
        "notify_actions": notify_actions(session, ticket, user if user is not None else _request_user()),
        "legal": legal_deadline.ticket_situation(session, ticket, now()),
    }


def _request_user() -> Any:
    from flask import g, has_request_context

    return getattr(g, "user", None) if has_request_context() else None
