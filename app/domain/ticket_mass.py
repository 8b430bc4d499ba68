"""Mass actions on selected tickets (R14): edit chosen fields, close with closing data, delete drafts.

Each ticket is checked by the same rules as a single save and committed on its own: it is either
fully changed (with its own history entries) or refused with its reason. Only tickets inside the
caller's scope are touched; any other id is refused without revealing what it is.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Optional

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload
from sqlalchemy.orm.exc import StaleDataError

from app.domain import actions, history, tickets
from app.domain.errors import DomainError, ValidationError
from app.domain.inputs import check_length, limit_of
from app.domain.mass import MassResult, storable, unique_ids
from app.models import (
    OPEN_SERVICE_ORDER_STATUSES,
    ClosingReason,
    Department,
    Priority,
    ServiceOrder,
    Subject,
    Ticket,
    TicketStatus,
    User,
)

EDITABLE = ("status", "department", "priority", "subject", "due_at", "assignees_add", "assignees_remove")
NOT_VISIBLE = _l("não encontrado ou fora da sua visão")
STALE = _l("alterado por outro usuário ao mesmo tempo; tente de novo")
# what the single-ticket rules read, loaded with the ticket: two queries instead of one per relation
EAGER = [joinedload(getattr(Ticket, name)) for name in (
    "customer", "contract", "site", "subject", "department", "priority", "channel", "status", "sub_status",
    "closing_reason", "related_ticket")] + [selectinload(Ticket.assignees), selectinload(Ticket.service_orders)]


@dataclass
class MassEdit:
    """The fields chosen in the mass-edit form; only the keys present are changed."""

    values: dict[str, Any] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.values)


def visible(session: Session, ids: Iterable[Any], scope: Optional[Any], result: MassResult) -> list[Ticket]:
    """The selected tickets inside the scope, in the order given; the others are refused."""
    wanted = unique_ids(ids)
    found = {ticket.id: ticket for ticket in session.scalars(_in_scope(select(Ticket), wanted, scope))}
    for ticket_id in wanted:
        if ticket_id not in found:
            result.refuse(f"#{ticket_id}", NOT_VISIBLE)
    return [found[i] for i in wanted if i in found]


def _in_scope(query: Any, ids: list[Any], scope: Optional[Any]) -> Any:
    query = query.where(Ticket.id.in_(storable(ids)))
    return query if scope is None else query.where(scope)


def _each(session: Session, ids: Iterable[Any], scope: Optional[Any], change: Callable[[Ticket], None],
          result: Optional[MassResult] = None) -> MassResult:
    """Change each selected ticket, in the order given, through the single-ticket rules: each is committed
    on its own with its history, or refused whole with the reason; one outside the scope is refused unseen."""
    result = result if result is not None else MassResult()
    wanted = unique_ids(ids)
    inside = set(session.scalars(_in_scope(select(Ticket.id), wanted, scope))) if wanted else set()
    for ticket_id in wanted:
        ticket = session.get(Ticket, ticket_id, options=EAGER, populate_existing=True) if ticket_id in inside else None
        if ticket is None:
            _settle(session, result, f"#{ticket_id}", NOT_VISIBLE)
            continue
        protocol = ticket.protocol
        try:
            with session.no_autoflush:
                change(ticket)
            result.stage(session, protocol)
            session.commit()
        except DomainError as error:
            session.rollback()
            _settle(session, result, protocol, error.message)
            continue
        except StaleDataError:
            session.rollback()
            _settle(session, result, protocol, STALE)
            continue
        result.done.append(protocol)
    return result


def _settle(session: Session, result: MassResult, label: str, reason: Any) -> None:
    result.stage(session, label, reason)
    session.commit()
    result.refuse(label, reason)


def mass_edit(session: Session, user: Any, ids: Iterable[Any], edit: MassEdit, scope: Optional[Any],
              result: Optional[MassResult] = None) -> MassResult:
    """Apply the chosen fields to each ticket through the single-ticket rules (R9–R12)."""
    if not edit:
        raise ValidationError(_l("Escolha ao menos um campo para alterar."))
    values = edit.values

    def change(ticket: Ticket) -> None:
        for name in ("status", "department", "priority", "subject"):
            if name in values:
                setattr(ticket, name, values[name])
        if values.get("assignees_add") or values.get("assignees_remove"):
            removed = {u.id for u in values.get("assignees_remove", [])}
            kept = [u for u in ticket.assignees if u.id not in removed]
            kept_ids = {u.id for u in kept}
            ticket.assignees = kept + [u for u in values.get("assignees_add", []) if u.id not in kept_ids]
        tickets.update_ticket(session, ticket, user)
        if "due_at" in values and ticket.due_at != values["due_at"]:
            ticket.due_at = values["due_at"]
            tickets.update_ticket(session, ticket, user)

    return _each(session, ids, scope, change, result)


def mass_close(session: Session, user: Any, ids: Iterable[Any], closing_description: str,
               closing_reason: Optional[ClosingReason], scope: Optional[Any],
               service_orders: Optional[str] = None, result: Optional[MassResult] = None) -> MassResult:
    """Finalize each open ticket with the same closing data (R9, R21) and its open OS as decided (R28)."""
    description = (closing_description or "").strip()
    if not description:
        raise ValidationError(_l("Informe a descrição do fechamento."), "closing_description")
    check_length(description, limit_of(Ticket.closing_description), "closing_description")
    if closing_reason is not None and not closing_reason.active:
        raise ValidationError(_l("Motivo de fechamento inativo."), "closing_reason")
    decision = actions.service_order_decision(service_orders)

    def change(ticket: Ticket) -> None:
        actions.finalize(session, ticket, user, description, closing_reason, service_orders=decision)
        history.record(session, ticket, user, "action", field="mass_close", new=description,
                       note=_l("Fechado em massa"))

    return _each(session, ids, scope, change, result)


def with_open_service_orders(session: Session, ids: Iterable[int], scope: Optional[Any]) -> list[str]:
    """Protocols of the selected tickets, inside the scope, that have open service orders (R28)."""
    query = (select(Ticket.protocol).where(Ticket.id.in_(storable(unique_ids(ids))), Ticket.id.in_(
        select(ServiceOrder.ticket_id).where(ServiceOrder.status.in_(OPEN_SERVICE_ORDER_STATUSES))))
        .order_by(Ticket.protocol))
    if scope is not None:
        query = query.where(scope)
    return list(session.scalars(query))


def delete_preview(session: Session, ids: Iterable[int], scope: Optional[Any]) -> tuple[list[Ticket], MassResult]:
    """What a mass delete would do: the drafts that will go, and the refusals (non-drafts by protocol)."""
    result = MassResult()
    drafts = []
    for ticket in visible(session, ids, scope, result):
        if ticket.is_draft:
            drafts.append(ticket)
        else:
            result.refuse(ticket.protocol, _l("não é rascunho"))
    return drafts, result


def mass_delete_drafts(session: Session, user: Any, ids: Iterable[Any], scope: Optional[Any],
                       result: Optional[MassResult] = None) -> MassResult:
    """Delete the drafts among the selected tickets (R2); the others are refused by protocol."""

    def change(ticket: Ticket) -> None:
        if not ticket.is_draft:
            raise ValidationError(_l("não é rascunho"))
        tickets.delete_ticket(session, ticket)
        session.delete(ticket)

    return _each(session, ids, scope, change, result)


def edit_from_form(session: Session, form: Any) -> MassEdit:
    """Read the mass-edit form: a field counts only when its "alterar" box is ticked."""
    models = {"status": TicketStatus, "department": Department, "priority": Priority, "subject": Subject}
    values: dict[str, Any] = {}
    for name, model in models.items():
        if form.get(f"change_{name}"):
            raw = form.get(name) or ""
            item = session.get(model, int(raw)) if raw.isdigit() else None
            if item is None and (name == "status" or raw):
                raise ValidationError(_l("Escolha um valor válido para “%(field)s”.",
                                         field=tickets.FIELD_LABELS.get(name, name)), name)
            values[name] = item
    if form.get("change_due_at"):
        values["due_at"] = _parse_datetime(form.get("due_at") or "")
    for name in ("assignees_add", "assignees_remove"):
        raw_ids = [int(v) for v in form.getlist(name) if str(v).isdigit()]
        if raw_ids:
            users = list(session.scalars(select(User).where(User.id.in_(raw_ids), User.active.is_(True))))
            if len(users) != len(set(raw_ids)):
                raise ValidationError(_l("Usuário responsável inválido ou inativo."), name)
            values[name] = users
    return MassEdit(values)


def _parse_datetime(raw: str) -> dt.datetime:
    for pattern in ("%d/%m/%Y %H:%M", "%d/%m/%Y", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d"):
        try:
            return dt.datetime.strptime(raw.strip(), pattern)
        except ValueError:
            continue
    raise ValidationError(_l("Prazo inválido: use dd/mm/aaaa hh:mm."), "due_at")
