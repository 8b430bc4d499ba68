"""The customer's open tickets and open service orders at the moment of opening."""
from __future__ import annotations

from typing import Any, Optional

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from app.models import OPEN_CATEGORIES, OPEN_SERVICE_ORDER_STATUSES, ServiceOrder, Ticket, TicketStatus

TITLE = _l("Atendimentos e OS em aberto")


def collect(session: Any, customer: Any, contract: Any, ticket_id: Optional[int]) -> Optional[list]:
    if customer is None:
        return None
    open_tickets = (
        select(Ticket.protocol).join(TicketStatus, Ticket.status_id == TicketStatus.id)
        .where(Ticket.customer_id == customer.id, Ticket.is_draft.is_(False),
               TicketStatus.category.in_(OPEN_CATEGORIES))
        .order_by(Ticket.opened_at.desc()).limit(10)
    )
    if ticket_id:
        open_tickets = open_tickets.where(Ticket.id != ticket_id)
    protocols = list(session.scalars(open_tickets))
    orders = session.scalar(
        select(func.count(ServiceOrder.id)).join(Ticket, ServiceOrder.ticket_id == Ticket.id)
        .where(Ticket.customer_id == customer.id, ServiceOrder.status.in_(OPEN_SERVICE_ORDER_STATUSES))
    )
    return [
        (_l("Atendimentos em aberto"), len(protocols)),
        (_l("Protocolos"), ", ".join(protocols) or "—"),
        (_l("OS em aberto"), orders or 0),
    ]
