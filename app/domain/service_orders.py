"""Service orders (OS): always of a ticket (R3); every change lands in the ticket's history."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Optional

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, inspect, or_, select
from sqlalchemy.orm import Session, joinedload

from app.domain import history
from app.domain.access import service_order_condition
from app.domain.clock import now
from app.domain.errors import Conflict, DomainError, NotAllowed, ValidationError
from app.domain.labels import choice_label
from app.domain.mass import ID_MAX, MassResult, storable, unique_ids
from app.domain.ticket_fields import person_name
from app.models import (
    SERVICE_ORDER_STATUSES, Contract, Customer, CustomerAddress, ServiceOrder, ServiceOrderType, Site, Ticket,
    TicketEvent, TicketMessage, User,
)
from app.security import ROLE_TECHNICIAN, role_names

CLOSED_STATUSES = ("done", "cancelled")
NAMED = {"technician_id": User, "type_id": ServiceOrderType}
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
            elif name in NAMED:  # people and types by name, never by id
                old, new = (_name_of(session, NAMED[name], value) for value in (old, new))
            history.record(
                session, order.ticket, user, "service_order", field=f"service_order.{name}",
                old=_text(old), new=_text(new),
                note=_l("OS %(id)s: %(field)s", id=order.id, field=LABELS[name]),
            )
    return changed


def _name_of(session: Session, model: Any, pk: Any) -> Optional[str]:
    if pk is None:
        return None
    obj = session.get(model, pk)
    if obj is None:
        return None
    return person_name(obj) if model is User else str(obj)


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


def open_service_orders(ticket: Ticket) -> list[ServiceOrder]:
    """The ticket's OS not yet done or cancelled, as the session holds them (R28)."""
    return [order for order in ticket.service_orders if order.status not in CLOSED_STATUSES]


# ---------------------------------------------------------------- mass operations

NOT_VISIBLE = _l("não encontrada ou fora da sua visão")
UNCHANGED = _l("nada a alterar")


def list_scope(user: Any, mine: bool = False) -> Optional[Any]:
    """The OS a list shows before any filter: all the user may see, or only their own ("Minhas OS")."""
    condition = service_order_condition(user)
    if not mine:
        return condition
    own = ServiceOrder.technician_id == getattr(user, "id", None)
    return own if condition is None else and_(condition, own)


def _each(session: Session, user: Any, ids: Iterable[Any], change: Callable[[ServiceOrder], None],
          scope: Optional[Any] = None, result: Optional[MassResult] = None) -> MassResult:
    """Change each selected OS, in the order given, through the single-OS rules, committing each on its own or
    refusing it whole; one the user may not see (or outside the list's narrower scope) is refused unseen."""
    result = result if result is not None else MassResult(kind="service_order")
    wanted = unique_ids(ids)
    query = select(ServiceOrder.id).where(ServiceOrder.id.in_(storable(wanted)))
    for condition in (service_order_condition(user), scope):
        if condition is not None:
            query = query.where(condition)
    inside = set(session.scalars(query)) if wanted else set()
    for order_id in wanted:
        order = session.get(ServiceOrder, order_id) if order_id in inside else None
        if order is None:
            _settle(session, result, order_id, NOT_VISIBLE)
            continue
        previous = order.status
        try:
            with session.no_autoflush:
                change(order)
                if not update_service_order(session, order, user):
                    raise _closed(previous) if previous in CLOSED_STATUSES else ValidationError(UNCHANGED)
            result.stage(session, order_id)
            session.commit()
        except DomainError as error:
            session.rollback()
            _settle(session, result, order_id, error.message)
            continue
        result.done.append(str(order_id))
    return result


def _settle(session: Session, result: MassResult, label: Any, reason: Any) -> None:
    result.stage(session, label, reason)
    session.commit()
    result.refuse(label, reason)


def technician_from(session: Session, form: Any) -> Optional[User]:
    """The technician chosen in a mass-assign form; the explicit empty choice means "no technician"."""
    if "technician" not in form:
        raise ValidationError(_l("Escolha um técnico ou a opção “Sem técnico”."), "technician")
    raw = str(form.get("technician") or "").strip()
    if not raw:
        return None
    technician = session.get(User, int(raw)) if raw.isdigit() and int(raw) <= ID_MAX else None
    if technician is None:
        raise ValidationError(_l("Técnico não encontrado."), "technician")
    return technician  # whether it may take an OS is checked on each OS (_check_technician)


def mass_assign_technician(session: Session, user: Any, ids: Iterable[Any], technician: Optional[User],
                           scope: Optional[Any] = None, result: Optional[MassResult] = None) -> MassResult:
    """Give the selected OS to one technician (None leaves them unassigned)."""

    def change(order: ServiceOrder) -> None:
        order.technician = technician

    return _each(session, user, ids, change, scope, result)


def mass_reschedule(session: Session, user: Any, ids: Iterable[Any], start: Optional[dt.datetime],
                    end: Optional[dt.datetime], scope: Optional[Any] = None,
                    result: Optional[MassResult] = None) -> MassResult:
    """Move the selected OS to a new window; an open OS becomes scheduled."""
    if start is None:
        raise ValidationError(_l("Informe o início agendado."), "scheduled_start")

    def change(order: ServiceOrder) -> None:
        order.scheduled_start, order.scheduled_end = start, end
        if order.status == "open":
            order.status = "scheduled"

    return _each(session, user, ids, change, scope, result)


def mass_close(session: Session, user: Any, ids: Iterable[Any], closing_notes: Optional[str],
               status: str = "done", scope: Optional[Any] = None, result: Optional[MassResult] = None) -> MassResult:
    """Finish or cancel the selected OS with the same closing notes."""
    if status not in CLOSED_STATUSES:
        raise ValidationError(_l("Situação de OS inválida."), "status")
    notes = closing_notes.strip() if isinstance(closing_notes, str) else ""

    def change(order: ServiceOrder) -> None:
        order.status = status
        if notes:
            order.closing_notes = notes

    return _each(session, user, ids, change, scope, result)


# ---------------------------------------------------------------- the technician's day

STARTABLE = ("open", "scheduled")
CARD_MESSAGES = 3
DAY_SECTIONS = ("in_progress", "late", "today", "unscheduled", "closed")


@dataclass
class OrderCard:
    """One OS as the technician sees it: the order, where to go, whom to call, what was said."""

    order: ServiceOrder
    section: str
    address: str
    phones: list[str]
    messages: list[TicketMessage] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)
    late: bool = False


def visible_service_order(session: Session, user: Any, order_id: int) -> Optional[ServiceOrder]:
    """The OS with this id when the user may act on it; None otherwise, so a forged id touches nothing."""
    query = select(ServiceOrder).where(ServiceOrder.id == order_id).options(*_card_options())
    condition = service_order_condition(user)
    if condition is not None:
        query = query.where(condition)
    return session.scalars(query).unique().one_or_none()


def technician_actions(order: ServiceOrder) -> list[str]:
    """The field actions that apply to an OS now: start, finish, reschedule."""
    status = order.ticket.status if order.ticket is not None else None
    if order.status in CLOSED_STATUSES or (status is not None and status.category == "cancelled"):
        return []
    return ["start" if order.status in STARTABLE else "finish", "reschedule"]


def start_service_order(session: Session, order: ServiceOrder, user: Any) -> None:
    """Record that the work started (Iniciar): the OS goes in progress with its start time."""
    _check_own(session, order, user)
    if order.status == "in_progress":
        raise Conflict(_l("A OS %(id)s já está em execução.", id=order.id))
    if order.status in CLOSED_STATUSES:
        raise _closed(order.status)
    order.status = "in_progress"
    order.started_at = now()
    update_service_order(session, order, user)
    history.record(session, order.ticket, user, "service_order", field="service_order.started_at",
                   new=_text(order.started_at), note=_l("OS %(id)s iniciada", id=order.id))


def finish_service_order(session: Session, order: ServiceOrder, user: Any, closing_notes: Optional[str]) -> None:
    """Record the end of the work (Finalizar); the closing notes say what was done."""
    _check_own(session, order, user)
    if order.status in CLOSED_STATUSES:
        raise _closed(order.status)
    if order.status != "in_progress":
        raise ValidationError(_l("Inicie a OS antes de finalizá-la."), "status")
    notes = closing_notes.strip() if isinstance(closing_notes, str) else ""
    if not notes:
        raise ValidationError(_l("Para finalizar a OS informe as observações de fechamento."), "closing_notes")
    order.status = "done"
    order.closing_notes = notes
    update_service_order(session, order, user)
    history.record(session, order.ticket, user, "service_order", field="service_order.closed_at",
                   new=_text(order.closed_at), note=_l("OS %(id)s finalizada", id=order.id))


def reschedule_service_order(session: Session, order: ServiceOrder, user: Any, start: Optional[dt.datetime],
                             end: Optional[dt.datetime], reason: Optional[str]) -> None:
    """Move the visit to a new window (Reagendar), saying why; the OS waits for it as scheduled."""
    _check_own(session, order, user)
    if order.status in CLOSED_STATUSES:
        raise _closed(order.status)
    if start is None:
        raise ValidationError(_l("Informe o novo início agendado."), "scheduled_start")
    if end is None:
        raise ValidationError(_l("Informe o novo fim agendado."), "scheduled_end")
    if end <= start:
        raise ValidationError(_l("O fim agendado deve ser depois do início."), "scheduled_end")
    if start < now().replace(second=0):
        raise ValidationError(_l("O novo início agendado já passou."), "scheduled_start")
    if (start, end) == (order.scheduled_start, order.scheduled_end):
        raise ValidationError(_l("A OS já está agendada para esse horário."), "scheduled_start")
    reason = reason.strip() if isinstance(reason, str) else ""
    if not reason:
        raise ValidationError(_l("Informe o motivo do reagendamento."), "reason")
    old = window_text(order.scheduled_start, order.scheduled_end)
    order.scheduled_start, order.scheduled_end = start, end
    order.status = "scheduled"
    update_service_order(session, order, user)
    history.record(session, order.ticket, user, "service_order", field="service_order.rescheduled",
                   old=old or None, new=window_text(start, end),
                   note=_l("OS %(id)s reagendada: %(reason)s", id=order.id, reason=reason))


def window_text(start: Optional[dt.datetime], end: Optional[dt.datetime]) -> str:
    """The visit window in pt-BR figures: one date when start and end fall on the same day."""
    if start is None:
        return ""
    if end is None:
        return _text(start) or ""
    if end.date() == start.date():
        return f"{_text(start)}–{end.strftime('%H:%M')}"
    return f"{_text(start)} – {_text(end)}"


def technician_day(session: Session, user: Any, day: Optional[dt.date] = None) -> list[OrderCard]:
    """The user's OS for the day: in progress, overdue, today's, unscheduled, and those closed today."""
    if getattr(user, "id", None) is None:
        return []
    moment = now()
    day = day or moment.date()
    start = dt.datetime.combine(day, dt.time.min)
    end = start + dt.timedelta(days=1)
    query = select(ServiceOrder).options(*_card_options()).where(
        ServiceOrder.technician_id == user.id,
        or_(
            ServiceOrder.status == "in_progress",
            and_(ServiceOrder.status.in_(STARTABLE),
                 or_(ServiceOrder.scheduled_start < end, ServiceOrder.scheduled_start.is_(None))),
            and_(ServiceOrder.status.in_(CLOSED_STATUSES), ServiceOrder.closed_at >= start,
                 ServiceOrder.closed_at < end),
        ),
    )
    orders = session.scalars(query).unique().all()
    messages = public_messages(session, {order.ticket_id for order in orders}, CARD_MESSAGES)
    cards = [_card(order, _section(order, start), messages.get(order.ticket_id, []), moment) for order in orders]
    return sorted(cards, key=_card_order)


def order_card(session: Session, order: ServiceOrder, limit: int = 20) -> OrderCard:
    """One OS with its ticket's last public messages, for its own page."""
    moment = now()
    found = public_messages(session, {order.ticket_id}, limit)
    today = dt.datetime.combine(moment.date(), dt.time.min)
    return _card(order, _section(order, today), found.get(order.ticket_id, []), moment)


def public_messages(session: Session, ticket_ids: set[int], limit: int) -> dict[int, list[TicketMessage]]:
    """The last messages to and from the customer of each ticket (never internal notes), oldest first."""
    if not ticket_ids:
        return {}
    rank = func.row_number().over(
        partition_by=TicketMessage.ticket_id, order_by=(TicketMessage.created_at.desc(), TicketMessage.id.desc()),
    ).label("rank")
    latest = (select(TicketMessage.id, rank)
              .where(TicketMessage.ticket_id.in_(sorted(ticket_ids)), TicketMessage.is_internal.is_(False))
              .subquery())
    rows = session.scalars(
        select(TicketMessage).join(latest, latest.c.id == TicketMessage.id).where(latest.c.rank <= limit)
        .options(joinedload(TicketMessage.author))
        .order_by(TicketMessage.ticket_id, TicketMessage.created_at, TicketMessage.id)
    ).all()
    found: dict[int, list[TicketMessage]] = {}
    for message in rows:
        found.setdefault(message.ticket_id, []).append(message)
    return found


def service_order_history(session: Session, order: ServiceOrder, limit: int = 30) -> list[TicketEvent]:
    """The OS entries of the ticket's history, newest first."""
    return list(session.scalars(
        select(TicketEvent).options(joinedload(TicketEvent.user))
        .where(TicketEvent.ticket_id == order.ticket_id, TicketEvent.kind == "service_order")
        .order_by(TicketEvent.id.desc()).limit(limit)
    ))


def _check_own(session: Session, order: ServiceOrder, user: Any) -> None:
    condition = service_order_condition(user)
    query = select(ServiceOrder.id).where(ServiceOrder.id == order.id)
    if order.id is None or session.scalar(query if condition is None else query.where(condition)) is None:
        raise NotAllowed(_l("Esta ordem de serviço não está atribuída a você."))


def _card_options() -> list[Any]:
    ticket = joinedload(ServiceOrder.ticket)
    return [
        joinedload(ServiceOrder.type),
        ticket.joinedload(Ticket.status),
        ticket.joinedload(Ticket.subject),
        ticket.joinedload(Ticket.contract).joinedload(Contract.city),
        ticket.joinedload(Ticket.site).joinedload(Site.city),
        ticket.joinedload(Ticket.customer).selectinload(Customer.phones),
        ticket.joinedload(Ticket.customer).selectinload(Customer.addresses).joinedload(CustomerAddress.city),
    ]


def _section(order: ServiceOrder, today: dt.datetime) -> str:
    if order.status in CLOSED_STATUSES:
        return "closed"
    if order.status == "in_progress":
        return "in_progress"
    if order.scheduled_start is None:
        return "unscheduled"
    return "late" if order.scheduled_start < today else "today"


def _card(order: ServiceOrder, section: str, messages: list[TicketMessage], moment: dt.datetime) -> OrderCard:
    late = order.status in STARTABLE and order.scheduled_end is not None and order.scheduled_end < moment
    return OrderCard(order=order, section=section, address=_address(order), phones=_phones(order),
                     messages=messages, actions=technician_actions(order), late=late or section == "late")


def _card_order(card: OrderCard) -> tuple:
    order = card.order
    when = order.closed_at if card.section == "closed" else order.scheduled_start
    return DAY_SECTIONS.index(card.section), when or dt.datetime.max, order.id


def _address(order: ServiceOrder) -> str:
    """Where to go: the OS address, else the ticket's service address, contract, site or customer address."""
    ticket = order.ticket
    if order.address:
        return order.address
    if ticket.service_address:
        return ticket.service_address
    for place in (ticket.contract, ticket.site):
        if place is not None and place.address_line():
            return place.address_line()
    addresses = ticket.customer.addresses if ticket.customer is not None else []
    primary = sorted(addresses, key=lambda address: not address.is_primary)
    return primary[0].address_line() if primary else ""


def _phones(order: ServiceOrder) -> list[str]:
    """The customer's phone numbers, the primary one first."""
    customer = order.ticket.customer
    if customer is None:
        return []
    return [phone.number for phone in sorted(customer.phones, key=lambda phone: not phone.is_primary)]
