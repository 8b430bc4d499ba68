"""Service orders (OS): always of a ticket (R3); every change lands in the ticket's history."""
from __future__ import annotations

from typing import Any, Optional

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain import history
from app.domain.clock import now
from app.domain.errors import Conflict, ValidationError
from app.domain.labels import choice_label
from app.models import SERVICE_ORDER_STATUSES, ServiceOrder, Ticket

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


def _check_ticket_accepts(order: ServiceOrder) -> None:
    status = order.ticket.status
    if status is not None and status.category == "cancelled":
        raise Conflict(_l("Atendimento cancelado não aceita alterações."))


def create_service_order(session: Session, order: ServiceOrder, user: Any) -> ServiceOrder:
    """Open an OS on its ticket."""
    with session.no_autoflush:
        order.status = order.status or "open"
        _check(order)
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
        _check(order)
        _check_ticket_accepts(order)
        _stamp(order, before["status"])
        after = {name: _value(order, name) for name in TRACKED}
        changed = [name for name in TRACKED if after[name] != before[name]]
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
    if name == "type_id":
        return order.type.id if order.type is not None else order.type_id
    if name == "technician_id":
        return order.technician.id if order.technician is not None else order.technician_id
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
