"""Figures for the home page."""
from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.domain.access import ticket_condition
from app.models import OPEN_CATEGORIES, Ticket, TicketStatus, ticket_assignee


def home_summary(session: Session, user: Any) -> dict[str, int]:
    """Count open tickets, my open tickets and drafts, with SQL aggregation."""
    base = (
        select(func.count(Ticket.id))
        .join(TicketStatus, Ticket.status_id == TicketStatus.id)
        .where(TicketStatus.category.in_(OPEN_CATEGORIES), Ticket.is_draft.is_(False))
    )
    condition = ticket_condition(user)
    if condition is not None:
        base = base.where(condition)
    mine = base.where(Ticket.id.in_(select(ticket_assignee.c.ticket_id).where(ticket_assignee.c.user_id == user.id)))
    drafts = select(func.count(Ticket.id)).where(Ticket.is_draft.is_(True), Ticket.opened_by_id == user.id)
    return {
        "open": session.scalar(base) or 0,
        "mine": session.scalar(mine) or 0,
        "drafts": session.scalar(drafts) or 0,
    }
