"""Service orders (OS): always of a ticket (R3); every change lands in the ticket's history."""
from __future__ import annotations

import datetime as dt
from typing import Any, Callable, Iterable, Optional

from flask_babel import lazy_gettext as _l
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from app.domain import history
from app.domain.access import service_order_condition
from app.domain.clock import now
from app.domain.errors import Conflict, DomainError, ValidationError
from app.domain.labels import choice_label
from app.domain.mass import MassResult
from app.models import SERVICE_ORDER_STATUSES, ServiceOrder, Ticket, User
from app.security import ROLE_TECHNICIAN, role_names

CLOSED_STATUSES = ("done", "cancelled")
TRACKED = ("status", "type_id", "technician_id", "scheduled_start", "scheduled_end", "address", "description", "closing_notes")
LABELS = {
    "status": _l("Situação"),
    "type_id": _l("Tipo de OS"),
    "technician_id": _l("Técnico"),
    "scheduled_start": _l("Início agendado"),
    "scheduled_end": _l("Fim agendado"),
    "address": _l("Endereço"),
    "description": _l("Descrição"),
    "closing_notes": _l("Observações de fechamento"),
}


def _check(order: ServiceOrder) -> None:
    if order.ticket is None:
        raise ValidationError(
            _l("A ordem de serviço precisa de um atendimento: abra-a a partir de um atendimento."), "ticket"
        )
    if order.status not in SERVICE_ORDER_STATUSES:
        raise ValidationError(_l("Situação de OS inválida."), "status")
    if order.type is not None and not order.type.active and order.id is None:
        raise ValidationError(_l("O tipo de OS \"%(name)s\" está inativo.", name=order.type.name), "type")
    if order.scheduled_start and order.scheduled_end and order.scheduled_end < order.scheduled_start:
        raise ValidationError(_l("O fim agendado deve ser depois do início."), "scheduled_end")
    if order.status == "done" and not (order.closing_notes or "").strip():
        raise ValidationError(_l("Para finalizar a OS informe as observações de fechamento."), "closing_notes")


def _check_technician(order: ServiceOrder) -> None:
    technician = order.technician
    if technician is not None and not (technician.active and ROLE_TECHNICIAN in role_names(technician)):
        name = f"{technician.first_name} {technician.last_name}".strip()
        raise ValidationError(_l("%(name)s não é um técnico ativo.", name=name), "technician")


def _closed(status: str) -> Conflict:
    label = choice_label("service_order_status", status).lower()
    return Conflict(_l("OS já %(status)s não aceita alterações.", status=label))


def _check_ticket_accepts(order: ServiceOrder) -> None:
    status = order.ticket.status
    if status is not None and status.category == "cancelled":
        raise Conflict(_l("Atendimento cancelado não aceita alterações."))


def create_service_order(session: Session, order: ServiceOrder, user: Any) -> ServiceOrder:
    """Open an OS on its ticket."""
    with session.no_autoflush:
        order.status = order.status or "open"
        _check(order)
        _check_technician(order)
        _check_ticket_accepts(order)
        order.opened_at = order.opened_at or now()
        if order.created_by_id is None and user is not None:
            order.created_by_id = user.id
        if not order.address:
            order.address = order.ticket.service_address
        _stamp(order, None)
    session.add(order)
    session.flush()
    history.record(
        session, order.ticket, user, "service_order", field="service_order",
        new=str(order), note=_l("OS %(id)s aberta", id=order.id),
    )
    return order


def update_service_order(session: Session, order: ServiceOrder, user: Any) -> list[str]:
    """Check an OS change and write it to its ticket's history."""
    with session.no_autoflush:
        table = ServiceOrder.__table__
        before = session.execute(select(table).where(table.c.id == order.id)).mappings().one()
        if order.ticket is None or order.ticket.id != before["ticket_id"]:
            raise ValidationError(_l("A OS não pode mudar de atendimento."), "ticket")
        after = {name: _value(order, name) for name in TRACKED}
        changed = [name for name in TRACKED if after[name] != before[name]]
        if changed and before["status"] in CLOSED_STATUSES:
            raise _closed(before["status"])
        _check(order)
        if "technician_id" in changed:
            _check_technician(order)
        _check_ticket_accepts(order)
        _stamp(order, before["status"])
        for name in changed:
            old, new = before[name], after[name]
            if name == "status":
                old, new = choice_label("service_order_status", old), choice_label("service_order_status", new)
            history.record(
                session, order.ticket, user, "service_order", field=f"service_order.{name}",
                old=_text(old), new=_text(new),
                note=_l("OS %(id)s: %(field)s", id=order.id, field=LABELS[name]),
            )
    return changed


def _value(order: ServiceOrder, name: str) -> Any:
    if name in ("type_id", "technician_id"):
        relation = name[:-3]
        related = getattr(order, relation)
        if related is not None:
            return related.id
        return None if inspect(order).attrs[relation].history.has_changes() else getattr(order, name)
    return getattr(order, name)


def _stamp(order: ServiceOrder, previous: Optional[str]) -> None:
    if order.status == "in_progress" and previous != "in_progress":
        order.started_at = order.started_at or now()
    if order.status in ("done", "cancelled") and previous not in ("done", "cancelled"):
        order.closed_at = now()
    if order.status not in ("done", "cancelled"):
        order.closed_at = None


def _text(value: Any) -> Optional[str]:
    if value is None:
        return None
    if hasattr(value, "strftime"):
        return value.strftime("%d/%m/%Y %H:%M")
    return str(value)


def delete_service_order(order: ServiceOrder) -> None:
    raise ValidationError(_l("Ordens de serviço não são excluídas: cancele a OS."))


def ticket_of(session: Session, ticket_id: Optional[int]) -> Optional[Ticket]:
    return session.get(Ticket, ticket_id) if ticket_id else None


# ---------------------------------------------------------------- mass operations

NOT_VISIBLE = _l("não encontrada ou fora da sua visão")
UNCHANGED = _l("nada a alterar")


def _visible_ids(session: Session, user: Any, ids: Iterable[Any], result: MassResult) -> list[int]:
    """The selected ids the user may see, in the order given; any other id is refused without touching it."""
    wanted: list[int] = []
    for raw in ids:
        try:
            wanted.append(int(raw))
        except (TypeError, ValueError):
            result.refuse(raw, NOT_VISIBLE)
    wanted = list(dict.fromkeys(wanted))
    query = select(ServiceOrder.id).where(ServiceOrder.id.in_(wanted))
    condition = service_order_condition(user)
    if condition is not None:
        query = query.where(condition)
    found = set(session.scalars(query))
    for order_id in wanted:
        if order_id not in found:
            result.refuse(order_id, NOT_VISIBLE)
    return [order_id for order_id in wanted if order_id in found]


def _each(session: Session, user: Any, ids: Iterable[Any], change: Callable[[ServiceOrder], None]) -> MassResult:
    """Change each visible OS through the single-OS rules, committing each on its own or refusing it whole."""
    result = MassResult(kind="service_order")
    for order_id in _visible_ids(session, user, ids, result):
        order = session.get(ServiceOrder, order_id)
        previous = order.status
        try:
            with session.no_autoflush:
                change(order)
                if not update_service_order(session, order, user):
                    raise _closed(previous) if previous in CLOSED_STATUSES else ValidationError(UNCHANGED)
            session.commit()
        except DomainError as error:
            session.rollback()
            result.refuse(order_id, error.message)
            continue
        result.done.append(str(order_id))
    return result


def mass_assign_technician(session: Session, user: Any, ids: Iterable[Any], technician: Optional[User]) -> MassResult:
    """Give the selected OS to one technician (None leaves them unassigned)."""

    def change(order: ServiceOrder) -> None:
        order.technician = technician

    return _each(session, user, ids, change)


def mass_reschedule(session: Session, user: Any, ids: Iterable[Any], start: Optional[dt.datetime],
                    end: Optional[dt.datetime]) -> MassResult:
    """Move the selected OS to a new window; an open OS becomes scheduled."""
    if start is None:
        raise ValidationError(_l("Informe o início agendado."), "scheduled_start")

    def change(order: ServiceOrder) -> None:
        order.scheduled_start, order.scheduled_end = start, end
        if order.status == "open":
            order.status = "scheduled"

    return _each(session, user, ids, change)


def mass_close(session: Session, user: Any, ids: Iterable[Any], closing_notes: Optional[str],
               status: str = "done") -> MassResult:
    """Finish or cancel the selected OS with the same closing notes."""
    if status not in CLOSED_STATUSES:
        raise ValidationError(_l("Situação de OS inválida."), "status")
    notes = closing_notes.strip() if isinstance(closing_notes, str) else ""

    def change(order: ServiceOrder) -> None:
        order.status = status
        if notes:
            order.closing_notes = notes

    return _each(session, user, ids, change)
