"""Actions on one ticket: finalize (R9), cancel (R19), reiterate (R16), complaint (R17), reopen (R18), grouping (R21).

Which actions (and the save of the ticket form) apply is decided once, by `refusal`: the workspace shows what
`available_actions` offers, and every action asks the same function before it runs.
"""
from __future__ import annotations

import datetime as dt
from typing import Any, Callable, NamedTuple, Optional

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain import history, tickets
from app.domain.clock import now
from app.domain.errors import Conflict, DomainError, NotAllowed, ValidationError
from app.domain.inputs import check_length, limit_of, parse_id
from app.domain.params import get_parameters
from app.domain.service_orders import open_service_orders, update_service_order
from app.models import ClosingReason, Ticket, TicketMessage, TicketStatus

ACT_PERMISSION = ("can_act", "TicketActionView")
SAVE_PERMISSION = ("can_edit", "TicketView")
CUSTOMER_ACT_PERMISSION = ("can_act", "TicketApi")
CUSTOMER_ACTIONS = ("reiterate", "complaint", "reopen")
SAVE = "save"
SERVICE_ORDER_DECISIONS = {"finalize": "done", "cancel": "cancelled"}
FROZEN = _l("Atendimento cancelado não aceita alterações.")
TEXT_COLUMNS = {"closing_description": Ticket.closing_description, "reason": Ticket.cancel_reason,
                "text": TicketMessage.body}  # where each action's text is kept: its length limit


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
    return check_length(text, limit_of(TEXT_COLUMNS[field]), field)


def _text(value: Any) -> str:
    """A text typed in a form or sent as JSON; anything that is not text counts as empty."""
    return value.strip() if isinstance(value, str) else ""


# ---------------------------------------------------------------- which actions apply


def _may(user: Any, permission: tuple[str, str]) -> bool:
    """Whether the user's roles (builtin or stored) grant a FAB permission."""
    from app.extensions import appbuilder

    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return bool(appbuilder.sm._has_view_access(user, *permission))


def _state_refusal(session: Session, ticket: Ticket, name: str) -> Optional[Any]:
    """Why the ticket, as it stands, does not accept the action; None when it does."""
    category = ticket.status.category if ticket.status is not None else None
    if category == "cancelled":
        return FROZEN
    if name == SAVE:
        return None
    if name in ("finalize", "cancel"):
        if tickets.is_open(ticket):
            return None
        if name == "finalize":
            return _l("Só atendimentos em aberto podem ser finalizados.")
        return _l("Só atendimentos em aberto podem ser cancelados.")
    if name == "reiterate":
        if ticket.is_draft:
            return _l("Rascunho não pode ser reiterado: salve o atendimento primeiro.")
        return None if tickets.is_open(ticket) else _l("Só atendimentos em aberto podem ser reiterados.")
    if name == "complaint":
        if ticket.is_draft:
            return _l("Rascunho não aceita reclamação: salve o atendimento primeiro.")
        if not is_past_due(ticket):
            return _l("Reclamação só pode ser registrada em atendimento com prazo ultrapassado.")
        return None
    if name == "reopen":
        if category != "resolved":
            return _l("Só atendimentos resolvidos podem ser reabertos.")
        window = get_parameters(session).reopen_window_hours
        if not window:
            return _l("A reabertura de atendimentos está desativada.")
        if ticket.closed_at is None or now() - ticket.closed_at > dt.timedelta(hours=window):
            return _l("O prazo de %(hours)d horas para reabrir este atendimento já passou.", hours=window)
        return None
    raise KeyError(name)


def _customer_may(session: Session, ticket: Ticket, user: Any, name: str) -> bool:
    """A customer reiterates, complains about and reopens their own tickets (R16–R18, R30); nothing else."""
    from app.domain.access import acts_as_customer, can_see_ticket

    return (name in CUSTOMER_ACTIONS and _may(user, CUSTOMER_ACT_PERMISSION) and acts_as_customer(user)
            and can_see_ticket(session, user, ticket.id))


def refusal(session: Session, ticket: Ticket, user: Any, name: str) -> Optional[DomainError]:
    """The error that refuses an action (or "save") on a ticket for a user, or None when it applies."""
    if not _may(user, SAVE_PERMISSION if name == SAVE else ACT_PERMISSION) and not _customer_may(
            session, ticket, user, name):
        if name == SAVE:
            return NotAllowed(_l("Você não tem permissão para alterar atendimentos."))
        return NotAllowed(_l("Você não tem permissão para executar ações em atendimentos."))
    reason = _state_refusal(session, ticket, name)
    return None if reason is None else Conflict(reason)


def available_actions(session: Session, ticket: Ticket, user: Any) -> dict[str, Optional[str]]:
    """Every action of ACTIONS and "save": None when it applies, else the pt-BR reason why not."""
    found = {name: refusal(session, ticket, user, name) for name in (*ACTIONS, SAVE)}
    return {name: None if error is None else error.message for name, error in found.items()}


def _require_available(session: Session, ticket: Ticket, user: Any, name: str) -> None:
    error = refusal(session, ticket, user, name)
    if error is not None:
        raise error


# ---------------------------------------------------------------- open service orders on closing (R28)


def service_order_decision(value: Any) -> Optional[str]:
    """Read what to do with the open OS of a ticket being closed: "finalize", "cancel" or no decision (None)."""
    if value in (None, ""):
        return None
    if not isinstance(value, str) or value not in SERVICE_ORDER_DECISIONS:
        raise ValidationError(
            _l("Escolha o que fazer com as ordens de serviço em aberto: finalizar (finalize) ou cancelar (cancel)."),
            "service_orders",
        )
    return value


def _settle_service_orders(session: Session, ticket: Ticket, user: Any, decision: Optional[str], notes: str) -> None:
    """Finalize or cancel the ticket's open OS with the ticket's closing text; without a decision, refuse (R28)."""
    orders = open_service_orders(ticket)
    if not orders:
        return
    if decision is None:
        raise Conflict(
            _l("Este atendimento tem ordens de serviço em aberto: %(orders)s. Escolha finalizá-las ou cancelá-las "
               "junto com o atendimento, ou mantenha o atendimento aberto.",
               orders=", ".join(str(order) for order in orders)),
            "service_orders",
        )
    for order in orders:
        order.status = SERVICE_ORDER_DECISIONS[decision]
        order.closing_notes = notes
        update_service_order(session, order, user)


# ---------------------------------------------------------------- the actions


def finalize(session: Session, ticket: Ticket, user: Any, closing_description: str,
             closing_reason: Optional[ClosingReason] = None, expected_version: Optional[int] = None,
             service_orders: Optional[str] = None) -> None:
    """Resolve a ticket with its closing data (R9) and its open OS as decided (R28); grouped tickets follow (R21)."""
    _require_available(session, ticket, user, "finalize")
    decision = service_order_decision(service_orders)
    description = _require_text(
        closing_description, _l("Para resolver o atendimento informe a descrição do fechamento."), "closing_description")
    _settle_service_orders(session, ticket, user, decision, description)
    ticket.status = status_of(session, "resolved")
    ticket.closing_description = description
    ticket.closing_reason = closing_reason
    ticket.is_draft = False
    tickets.update_ticket(session, ticket, user, expected_version)


def cancel(session: Session, ticket: Ticket, user: Any, reason: str, service_orders: Optional[str] = None) -> None:
    """Cancel a ticket recording who and why (R19) and its open OS as decided (R28); it is frozen afterwards (R9)."""
    _require_available(session, ticket, user, "cancel")
    decision = service_order_decision(service_orders)
    reason = _require_text(reason, _l("Informe o motivo do cancelamento."), "reason")
    _settle_service_orders(session, ticket, user, decision, reason)
    ticket.status = status_of(session, "cancelled")
    ticket.cancel_reason = reason
    ticket.cancelled_by_id = getattr(user, "id", None)
    if ticket.is_draft:
        ticket.is_draft = False
    tickets.update_ticket(session, ticket, user)
    history.record(session, ticket, user, "action", field="cancel", new=reason, note=_l("Atendimento cancelado"))


def reiterate(session: Session, ticket: Ticket, user: Any, text: str) -> TicketMessage:
    """The customer adds information to an open ticket (R16)."""
    _require_available(session, ticket, user, "reiterate")
    text = _require_text(text, _l("Descreva a reiteração."), "text")
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
    _require_available(session, ticket, user, "complaint")
    text = _require_text(text, _l("Descreva a reclamação."), "text")
    history.record(session, ticket, user, "action", field="complaint", new=text, note=_l("Reclamação registrada"))


def reopen(session: Session, ticket: Ticket, user: Any, reason: str) -> None:
    """Reopen a resolved ticket within the configured window (R18)."""
    _require_available(session, ticket, user, "reopen")
    reason = _require_text(reason, _l("Informe o motivo da reabertura."), "reason")
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
    reason = session.get(ClosingReason, parse_id(value)) if parse_id(value) else None
    if reason is None:
        raise ValidationError(_l("Motivo de fechamento não encontrado."), "closing_reason")
    return reason


def _finalize_from(session: Session, ticket: Ticket, user: Any, payload: Any) -> None:
    """Finalize from a form or JSON payload; an action that does not apply is refused before its data is read."""
    _require_available(session, ticket, user, "finalize")
    finalize(session, ticket, user, payload.get("closing_description", ""), closing_reason_from(session, payload),
             service_orders=payload.get("service_orders"))


ACTIONS: dict[str, TicketAction] = {
    "finalize": TicketAction(
        _l("Finalizar atendimento"), "closing_description", _l("Descrição do fechamento"),
        lambda s, t, u, p: _finalize_from(s, t, u, p),
        _l("Atendimento finalizado.")),
    "cancel": TicketAction(
        _l("Cancelar atendimento"), "reason", _l("Motivo do cancelamento"),
        lambda s, t, u, p: cancel(s, t, u, p.get("reason", ""), service_orders=p.get("service_orders")),
        _l("Atendimento cancelado.")),
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
