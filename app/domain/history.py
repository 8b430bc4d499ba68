"""The append-only ticket history (R11)."""
from __future__ import annotations

from typing import Any, Optional

from flask_babel import lazy_gettext as _l
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.domain.clock import now
from app.domain.ticket_fields import field_label
from app.models import Ticket, TicketEvent

EVENT_KINDS = {
    "created": _l("Abertura"),
    "field": _l("Alteração"),
    "message": _l("Mensagem"),
    "attachment": _l("Anexo"),
    "service_order": _l("Ordem de serviço"),
    "action": _l("Ação"),
}


def record(
    session: Session,
    ticket: Ticket,
    user: Any,
    kind: str,
    field: Optional[str] = None,
    old: Optional[str] = None,
    new: Optional[str] = None,
    note: Optional[str] = None,
) -> TicketEvent:
    """Append one entry to the ticket's history."""
    entry = TicketEvent(
        ticket=ticket,
        user_id=getattr(user, "id", None),
        kind=kind,
        field=field,
        old_value=old,
        new_value=new,
        note=str(note) if note is not None else None,
        created_at=now(),
    )
    session.add(entry)
    return entry


class HistoryIsAppendOnly(Exception):
    """Raised when code tries to change or remove a history entry."""


@event.listens_for(Session, "before_flush")
def _refuse_history_changes(session: Session, flush_context: Any, instances: Any) -> None:
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, TicketEvent) and (obj in session.deleted or session.is_modified(obj)):
            if obj in session.deleted and _ticket_being_deleted(session, obj):
                continue
            raise HistoryIsAppendOnly("ticket history is append-only")


def _ticket_being_deleted(session: Session, entry: TicketEvent) -> bool:
    return any(isinstance(o, Ticket) and o.id == entry.ticket_id for o in session.deleted)


def describe(entry: TicketEvent) -> str:
    """One pt-BR line for a history entry: kind, field and note, never a raw key."""
    parts = [str(EVENT_KINDS.get(entry.kind, "")), field_label(entry.field), entry.note or ""]
    return " — ".join(part for part in parts if part)
