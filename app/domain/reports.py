"""Figures for the home page."""
from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import OPEN_CATEGORIES, Customer, Site, Subject, Ticket, TicketStatus, ticket_assignee

HOME_ROWS = 15


def _rows(session: Session, condition: Any, order: tuple, limit: int) -> dict[str, Any]:
    """The first tickets matching a condition, with what a row of the home shows, and how many there are."""
    query = (
        select(Ticket.id, Ticket.protocol, Ticket.opened_at, Ticket.due_at, Ticket.closed_at,
               func.coalesce(Customer.name, Site.name).label("owner"), Subject.name.label("subject"),
               TicketStatus.name.label("status"), TicketStatus.category.label("category"))
        .join(TicketStatus, Ticket.status_id == TicketStatus.id)
        .outerjoin(Customer, Ticket.customer_id == Customer.id)
        .outerjoin(Site, Ticket.site_id == Site.id)
        .outerjoin(Subject, Ticket.subject_id == Subject.id)
        .where(condition)
    )
    count = select(func.count()).select_from(Ticket).join(TicketStatus, Ticket.status_id == TicketStatus.id)
    return {
        "rows": session.execute(query.order_by(*order).limit(limit)).all(),
        "count": session.scalar(count.where(condition)) or 0,
    }


def my_tickets(session: Session, user: Any, limit: int = HOME_ROWS) -> dict[str, dict[str, Any]]:
    """The agent's work: open tickets assigned to them (most urgent first) and the drafts they started."""
    assigned = Ticket.id.in_(select(ticket_assignee.c.ticket_id).where(ticket_assignee.c.user_id == user.id))
    open_mine = assigned & Ticket.is_draft.is_(False) & TicketStatus.category.in_(OPEN_CATEGORIES)
    drafts = Ticket.is_draft.is_(True) & (Ticket.opened_by_id == user.id)
    return {
        "open": _rows(session, open_mine, (Ticket.due_at.is_(None), Ticket.due_at, Ticket.id), limit),
        "drafts": _rows(session, drafts, (Ticket.opened_at.desc(), Ticket.id.desc()), limit),
    }
