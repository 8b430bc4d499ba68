"""The legal answer deadline (R24): 7 calendar days from a ticket's registration (Decreto 11.034/2022 art. 13).

The deadline starts when a ticket stops being a draft, by any door, and is never paused nor moved: it is
independent of the subject's SLA (``due_at``, R10). An open ticket is "vencendo" within the general parameter
``legal_warning_hours`` (48 h by default) of its deadline and "vencido" past it; a resolved ticket was answered
in time or late.
"""
from __future__ import annotations

import datetime as dt
from typing import Any, Optional

from flask_babel import gettext
from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from app.domain.sla import duration_text, texts as sla_texts
from app.models import OPEN_CATEGORIES, GeneralParameters, Ticket

LEGAL_ANSWER_DAYS = 7
DEFAULT_WARNING_HOURS = 48


def start(ticket: Ticket, when: dt.datetime) -> None:
    """Register the ticket at ``when`` (once) and set its legal deadline."""
    if ticket.registered_at is None:
        ticket.registered_at = when
    ticket.legal_due_at = ticket.registered_at + dt.timedelta(days=LEGAL_ANSWER_DAYS)


def warning_hours(session: Session) -> int:
    """How close to the deadline an open ticket is "vencendo" (general parameter)."""
    hours = session.scalar(select(GeneralParameters.legal_warning_hours).order_by(GeneralParameters.id).limit(1))
    return hours or DEFAULT_WARNING_HOURS


# ---------------------------------------------------------------- SQL, for filters and dashboards


def due_soon(open_condition: Any, when: dt.datetime, hours: int) -> Any:
    """Open tickets still within the deadline that ends in the next ``hours``."""
    return and_(open_condition, Ticket.legal_due_at >= when, Ticket.legal_due_at < when + dt.timedelta(hours=hours))


def overdue(open_condition: Any, when: dt.datetime) -> Any:
    """Open tickets past the deadline (drafts have none)."""
    return and_(open_condition, Ticket.legal_due_at < when)


def answered_late(resolved_condition: Any) -> Any:
    """Resolved tickets whose answer came after the deadline."""
    return and_(resolved_condition, Ticket.closed_at > Ticket.legal_due_at)


# ---------------------------------------------------------------- what a person reads


def texts() -> dict[str, str]:
    """The translated phrases, looked up once (a list or an export formats many rows)."""
    return {
        **sla_texts(),
        "due_in": gettext("vence em %(time)s"),
        "overdue_for": gettext("vencido há %(time)s"),
        "answered": gettext("respondido no prazo"),
        "answered_late": gettext("respondido fora do prazo"),
        "draft": gettext("começa a contar quando o atendimento for salvo"),
        "cancelled": gettext("cancelado"),
    }


def situation(legal_due_at: Optional[dt.datetime], category: Optional[str], closed_at: Optional[dt.datetime],
              when: dt.datetime, warning: int = DEFAULT_WARNING_HOURS,
              words: Optional[dict[str, str]] = None) -> dict[str, str]:
    """{"text", "state"} of a ticket's legal deadline; state: ok, soon, overdue, met, missed, cancelled or none."""
    words = words or texts()
    if legal_due_at is None:
        return {"text": words["draft"], "state": "none"}
    if category == "cancelled":
        return {"text": words["cancelled"], "state": "cancelled"}
    if category not in OPEN_CATEGORIES:
        if closed_at is not None and closed_at > legal_due_at:
            return {"text": words["answered_late"], "state": "missed"}
        return {"text": words["answered"], "state": "met"}
    left = legal_due_at - when
    if left.total_seconds() < 0:
        return {"text": words["overdue_for"] % {"time": duration_text(left, words)}, "state": "overdue"}
    state = "soon" if left < dt.timedelta(hours=warning) else "ok"
    return {"text": words["due_in"] % {"time": duration_text(left, words)}, "state": state}


def ticket_situation(session: Session, ticket: Ticket, when: dt.datetime) -> dict[str, Any]:
    """The legal deadline of one ticket as its workspace shows it."""
    category = ticket.status.category if ticket.status is not None else None
    return {"due_at": ticket.legal_due_at, "registered_at": ticket.registered_at,
            **situation(ticket.legal_due_at, category, ticket.closed_at, when, warning_hours(session))}
