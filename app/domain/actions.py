"""Actions on one ticket: finalize (R9), cancel (R19), reiterate (R16), complaint (R17), reopen (R18), grouping (R21)."""
from __future__ import annotations

import datetime as dt
from typing import Any, Callable, NamedTuple, Optional

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain import history, tickets
from app.domain.clock import now
from app.domain.errors import Conflict, ValidationError
from app.domain.params import get_parameters
from app.models import ClosingReason, Ticket, TicketMessage, TicketStatus


def status_of(session: Session, category: str) -> TicketStatus:
    status = session.scalar(
        select(TicketStatus).where(TicketStatus.category == category, TicketStatus.active.is_(True))
        .order_by(TicketStatus.order, TicketStatus.id).limit(1)
    )
    if status is None:
        raise ValidationError(_l("Nenhum status ativo da categoria %(category)s.", category=category), "status")
    return status


def _require_text(text: Any, message: Any, field: str) -> str:
    text = _text(text)
    if not text:
        raise ValidationError(message, field)
    return text


def _text(value: Any) -> str:
    """A text typed in a form or sent as JSON; anything that is not text counts as empty."""
    return value.strip() if isinstance(value, str) else ""


def finalize(session: Session, ticket: Ticket, user: Any, closing_description: str,
             closing_reason: Optional[ClosingReason] = None, expected_version: Optional[int] = None) -> None:
    """Resolve a ticket with its closing data (R9); grouped tickets receive the same answer (R21)."""
    if ticket.status is not None and ticket.status.category == "cancelled":
        raise Conflict(_l("Atendimento cancelado não aceita alterações."))
    if not tickets.is_open(ticket):
        raise Conflict(_l("Só atendimentos em aberto podem ser finalizados."))
    ticket.status = status_of(session, "resolved")
    ticket.closing_description = _text(closing_description) or None
    ticket.closing_reason = closing_reason
    ticket.is_draft = False
    tickets.update_ticket(session, ticket, user, expected_version)


def cancel(session: Session, ticket: Ticket, user: Any, reason: str) -> None:
    """Cancel a ticket recording who and why (R19); it accepts no change afterwards (R9)."""
    reason = _require_text(reason, _l("Informe o motivo do cancelamento."), "cancel_reason")
    if ticket.status is not None and ticket.status.category == "cancelled":
        raise Conflict(_l("Atendimento cancelado não aceita alterações."))
    ticket.status = status_of(session, "cancelled")
    ticket.cancel_reason = reason
    ticket.cancelled_by_id = getattr(user, "id", None)
    if ticket.is_draft:
        ticket.is_draft = False
    tickets.update_ticket(session, ticket, user)
    history.record(session, ticket, user, "action", field="cancel", new=reason, note=_l("Atendimento cancelado"))


def reiterate(session: Session, ticket: Ticket, user: Any, text: str) -> TicketMessage:
    """The customer adds information to an open ticket (R16)."""
    text = _require_text(text, _l("Descreva a reiteração."), "body")
    if not tickets.is_open(ticket) or ticket.is_draft:
        raise Conflict(_l("Só atendimentos em aberto podem ser reiterados."))
    message = TicketMessage(ticket=ticket, body=text, is_internal=False, author_id=getattr(user, "id", None),
                            created_at=now())
    session.add(message)
    history.record(session, ticket, user, "action", field="reiterate", new=text, note=_l("Reiteração do cliente"))
    return message


def is_past_due(ticket: Ticket, moment: Optional[dt.datetime] = None) -> bool:
    if ticket.due_at is None:
        return False
    return (ticket.closed_at or moment or now()) > ticket.due_at


def complaint(session: Session, ticket: Ticket, user: Any, text: str) -> None:
    """A complaint only on a ticket past its SLA deadline (R17)."""
    text = _require_text(text, _l("Descreva a reclamação."), "body")
    if ticket.status is not None and ticket.status.category == "cancelled":
        raise Conflict(_l("Atendimento cancelado não aceita alterações."))
    if not is_past_due(ticket):
        raise Conflict(_l("Reclamação só pode ser registrada em atendimento com prazo ultrapassado."))
    history.record(session, ticket, user, "action", field="complaint", new=text, note=_l("Reclamação registrada"))


def reopen(session: Session, ticket: Ticket, user: Any, reason: str) -> None:
    """Reopen a resolved ticket within the configured window (R18)."""
    reason = _require_text(reason, _l("Informe o motivo da reabertura."), "body")
    if ticket.status is None or ticket.status.category != "resolved":
        raise Conflict(_l("Só atendimentos resolvidos podem ser reabertos."))
    window = get_parameters(session).reopen_window_hours
    if not window:
        raise Conflict(_l("A reabertura de atendimentos está desativada."))
    if ticket.closed_at is None or now() - ticket.closed_at > dt.timedelta(hours=window):
        raise Conflict(_l("O prazo de %(hours)d horas para reabrir este atendimento já passou.", hours=window))
    ticket.status = tickets.default_status(session)
    tickets.update_ticket(session, ticket, user)
    history.record(session, ticket, user, "action", field="reopen", new=reason, note=_l("Atendimento reaberto"))


class TicketAction(NamedTuple):
    """One action as the doors offer it: its title, its text field and what it runs."""

    title: Any
    field: str
    label: Any
    run: Callable[[Session, Ticket, Any, Any], None]
    done: Any


def closing_reason_from(session: Session, payload: Any) -> Optional[ClosingReason]:
    value = payload.get("closing_reason")
    if value in (None, ""):
        return None
    reason = session.get(ClosingReason, int(value)) if str(value).isdigit() else None
    if reason is None:
        raise ValidationError(_l("Motivo de fechamento não encontrado."), "closing_reason")
    return reason


ACTIONS: dict[str, TicketAction] = {
    "finalize": TicketAction(
        _l("Finalizar atendimento"), "closing_description", _l("Descrição do fechamento"),
        lambda s, t, u, p: finalize(s, t, u, p.get("closing_description", ""), closing_reason_from(s, p)),
        _l("Atendimento finalizado.")),
    "cancel": TicketAction(
        _l("Cancelar atendimento"), "reason", _l("Motivo do cancelamento"),
        lambda s, t, u, p: cancel(s, t, u, p.get("reason", "")), _l("Atendimento cancelado.")),
    "reiterate": TicketAction(
        _l("Reiterar atendimento"), "text", _l("Informações adicionais do cliente"),
        lambda s, t, u, p: reiterate(s, t, u, p.get("text", "")), _l("Reiteração registrada.")),
    "complaint": TicketAction(
        _l("Registrar reclamação"), "text", _l("Descrição da reclamação"),
        lambda s, t, u, p: complaint(s, t, u, p.get("text", "")), _l("Reclamação registrada.")),
    "reopen": TicketAction(
        _l("Reabrir atendimento"), "reason", _l("Motivo da reabertura"),
        lambda s, t, u, p: reopen(s, t, u, p.get("reason", "")), _l("Atendimento reaberto.")),
}
