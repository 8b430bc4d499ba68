"""The service-order list's filters and orderings, shared by list, exports, mass actions and dashboards."""
from __future__ import annotations

import datetime as dt
from typing import Any, Mapping

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, false, or_, select
from sqlalchemy.orm import Session

from app.domain.criteria import (
    Criterion,
    CriteriaSet,
    city_options,
    customer_labels,
    period_criteria,
    total_order,
    user_options,
)
from app.domain.documents import digits
from app.domain.labels import choices
from app.models import (
    OPEN_SERVICE_ORDER_STATUSES,
    Contract,
    Department,
    ServiceOrder,
    ServiceOrderType,
    Site,
    Subject,
    Ticket,
    User,
)
from app.security import ROLE_TECHNICIAN

DATE_COLUMNS = {
    "opened": ServiceOrder.opened_at,
    "scheduled": ServiceOrder.scheduled_start,
    "closed": ServiceOrder.closed_at,
}
DATE_FIELDS = [("opened", _l("Abertura")), ("scheduled", _l("Agendamento")), ("closed", _l("Fechamento"))]
ORDERINGS = {
    "opened_at": (_l("Data de abertura"), ServiceOrder.opened_at),
    "scheduled_start": (_l("Início agendado"), ServiceOrder.scheduled_start),
    "closed_at": (_l("Data de fechamento"), ServiceOrder.closed_at),
    "id": (_l("Número da OS"), ServiceOrder.id),
}
DIRECTIONS = [("desc", _l("Decrescente")), ("asc", _l("Crescente"))]


def _in(column: Any) -> Any:
    return lambda ids, values, when: column.in_(ids)


def _ticket_where(*conditions: Any) -> Any:
    return ServiceOrder.ticket_id.in_(select(Ticket.id).where(*conditions))


def _ticket_in(column: Any) -> Any:
    return lambda ids, values, when: _ticket_where(column.in_(ids))


def _protocol(value: str, values: dict, when: dt.datetime) -> Any:
    number = digits(value)
    return _ticket_where(Ticket.protocol.like(f"{number}%")) if number else false()


def _city(ids: list[int], values: dict, when: dt.datetime) -> Any:
    return _ticket_where(or_(
        Ticket.contract_id.in_(select(Contract.id).where(Contract.city_id.in_(ids))),
        Ticket.site_id.in_(select(Site.id).where(Site.city_id.in_(ids))),
    ))


def _overdue(value: bool, values: dict, when: dt.datetime) -> Any:
    if value:
        return and_(ServiceOrder.status.in_(OPEN_SERVICE_ORDER_STATUSES), ServiceOrder.scheduled_end < when)
    return or_(ServiceOrder.status.not_in(OPEN_SERVICE_ORDER_STATUSES), ServiceOrder.scheduled_end.is_(None),
               ServiceOrder.scheduled_end >= when)


def _technician_options(session: Session) -> list[tuple[int, str]]:
    return user_options(session, User.roles.any(name=ROLE_TECHNICIAN))


SERVICE_ORDER_CRITERIA = CriteriaSet([
    *period_criteria(DATE_COLUMNS, DATE_FIELDS),
    Criterion("protocol", _l("Protocolo"), "text", condition=_protocol),
    Criterion("customer", _l("Cliente"), "lookup", lookup="customer", options=customer_labels,
              condition=_ticket_in(Ticket.customer_id)),
    Criterion("status", _l("Situação"), "choices", options=lambda: choices("service_order_status"),
              condition=_in(ServiceOrder.status)),
    Criterion("type", _l("Tipo de OS"), "ids", options=ServiceOrderType, condition=_in(ServiceOrder.type_id)),
    Criterion("technician", _l("Técnico"), "ids", options=_technician_options,
              condition=_in(ServiceOrder.technician_id)),
    Criterion("unassigned", _l("Sem técnico"), "bool",
              condition=lambda value, values, when: (ServiceOrder.technician_id.is_(None) if value
                                                     else ServiceOrder.technician_id.is_not(None))),
    Criterion("overdue", _l("Atrasadas"), "bool", condition=_overdue),
    Criterion("city", _l("Cidade"), "ids", options=city_options, condition=_city),
    Criterion("department", _l("Setor responsável"), "ids", options=Department,
              condition=_ticket_in(Ticket.department_id)),
    Criterion("subject", _l("Assunto"), "ids", options=Subject, condition=_ticket_in(Ticket.subject_id)),
])


def service_order_order(args: Mapping[str, Any]) -> list[Any]:
    return total_order(ORDERINGS, args, ServiceOrder.id, "opened_at")


def service_order_list_url(view: str = "ServiceOrderView", **values: Any) -> str:
    """The list filtered by the given criteria, e.g. ``service_order_list_url(status=["open"], overdue=True)``."""
    return SERVICE_ORDER_CRITERIA.list_url(view, **values)
