"""The ticket list's filters and orderings (seed 000's panel, R13), shared by list, exports, mass actions and dashboards."""
from __future__ import annotations

import datetime as dt
from typing import Any, Mapping

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import Session

from app.domain import legal_deadline
from app.domain.criteria import (
    Criterion,
    CriteriaSet,
    city_options,
    customer_labels,
    day_bounds,
    period_criteria,
    total_order,
    user_options,
)
from app.domain.labels import CHOICES
from app.models import (
    OPEN_CATEGORIES,
    OPEN_SERVICE_ORDER_STATUSES,
    Channel,
    ClosingReason,
    Contract,
    Customer,
    CustomerGroup,
    Department,
    Priority,
    ServiceOrder,
    ServiceOrderType,
    Site,
    Subject,
    Ticket,
    TicketStatus,
    ticket_assignee,
)

DATE_COLUMNS = {"opened": Ticket.opened_at, "closed": Ticket.closed_at, "due": Ticket.due_at}
DATE_FIELDS = [("opened", _l("Abertura")), ("closed", _l("Fechamento")), ("due", _l("Prazo"))]
CATEGORY_OPTIONS = [("open", _l("Em aberto (qualquer)"))] + list(CHOICES["category"].items())
DUE_WINDOWS = [("overdue", _l("Vencidos")), ("today", _l("Vencem hoje")), ("week", _l("Vencem nesta semana"))]
LEGAL_WINDOWS = [("soon", _l("Vencendo")), ("overdue", _l("Vencido")),
                 ("answered_late", _l("Respondido fora do prazo"))]
ORDERINGS = {
    "opened_at": (_l("Data de abertura"), Ticket.opened_at),
    "closed_at": (_l("Data de fechamento"), Ticket.closed_at),
    "due_at": (_l("Prazo"), Ticket.due_at),
    "legal_due_at": (_l("Prazo legal"), Ticket.legal_due_at),
    "updated_at": (_l("Última alteração"), Ticket.updated_at),
    "protocol": (_l("Protocolo"), Ticket.protocol),
}
DIRECTIONS = [("desc", _l("Decrescente")), ("asc", _l("Crescente"))]


def _in(column: Any) -> Any:
    return lambda ids, values, when: column.in_(ids)


def _status_ids(categories: Any) -> list[int]:
    """The ids of the statuses of these categories, written out so the planner sees how selective they are."""
    from app.extensions import db

    return list(db.session.scalars(select(TicketStatus.id).where(TicketStatus.category.in_(categories))))


def _open() -> Any:
    return Ticket.status_id.in_(_status_ids(OPEN_CATEGORIES))


def _category(value: list[str], values: dict, when: dt.datetime) -> Any:
    categories = set()
    for code in value:
        categories.update(OPEN_CATEGORIES if code == "open" else (code,))
    return Ticket.status_id.in_(_status_ids(sorted(categories)))


def _due_window(value: str, values: dict, when: dt.datetime) -> Any:
    if value == "overdue":
        return and_(_open(), Ticket.due_at < when)
    """Still within the deadline, due before the end of today or of this week (Monday to Sunday)."""
    day_start, end = day_bounds(when.date())
    if value == "week":
        end = day_start + dt.timedelta(days=7 - when.weekday())
    return and_(_open(), Ticket.due_at >= when, Ticket.due_at < end)


def _legal_window(value: str, values: dict, when: dt.datetime) -> Any:
    """R24: open and due within the warning hours (general parameter), open and past it, or resolved late."""
    from app.extensions import db

    if value == "soon":
        return legal_deadline.due_soon(_open(), when, legal_deadline.warning_hours(db.session))
    if value == "overdue":
        return legal_deadline.overdue(_open(), when)
    return legal_deadline.answered_late(Ticket.status_id.in_(_status_ids(("resolved",))))


def _open_service_orders(value: bool, values: dict, when: dt.datetime) -> Any:
    has_open = exists().where(ServiceOrder.ticket_id == Ticket.id,
                              ServiceOrder.status.in_(OPEN_SERVICE_ORDER_STATUSES))
    return has_open if value else ~has_open


def _city(ids: list[int], values: dict, when: dt.datetime) -> Any:
    return or_(
        Ticket.contract_id.in_(select(Contract.id).where(Contract.city_id.in_(ids))),
        Ticket.site_id.in_(select(Site.id).where(Site.city_id.in_(ids))),
    )


def _text(value: str, values: dict, when: dt.datetime) -> Any:
    """Protocol prefix, the customer's name or document, or words of the descriptions."""
    from app.domain.documents import digits, document_prefix

    pattern = f"%{value.lower()}%"
    conditions = [
        func.lower(Ticket.opening_description).like(pattern),
        func.lower(Ticket.closing_description).like(pattern),
        Ticket.customer_id.in_(select(Customer.id).where(func.lower(Customer.name).like(f"{value.lower()}%"))),
    ]
    number = digits(value)
    if number and len(number) >= 4:
        conditions.append(Ticket.protocol.like(f"{number}%"))
        conditions.append(Ticket.customer_id.in_(select(Customer.id).where(Customer.document.like(f"{number}%"))))
    document = document_prefix(value)
    if document and len(document) >= 4 and not document.isdigit() and not document.isalpha():  # alphanumeric CNPJ
        conditions.append(Ticket.customer_id.in_(select(Customer.id).where(Customer.document.like(f"{document}%"))))
    return or_(*conditions)


TICKET_CRITERIA = CriteriaSet([
    *period_criteria(DATE_COLUMNS, DATE_FIELDS),
    Criterion("protocol", _l("Protocolo"), "text",
              condition=lambda value, values, when: Ticket.protocol.like(f"{''.join(c for c in value if c.isdigit())}%")),
    Criterion("text", _l("Texto livre"), "text", condition=_text),
    Criterion("customer", _l("Cliente"), "lookup", lookup="customer", options=customer_labels,
              condition=_in(Ticket.customer_id)),
    Criterion("status", _l("Status"), "ids", options=TicketStatus, condition=_in(Ticket.status_id)),
    Criterion("status_category", _l("Situação"), "choices", options=CATEGORY_OPTIONS, condition=_category),
    Criterion("subject", _l("Assunto"), "ids", options=Subject, condition=_in(Ticket.subject_id)),
    Criterion("department", _l("Setor responsável"), "ids", options=Department, condition=_in(Ticket.department_id)),
    Criterion("assignee", _l("Usuários responsáveis"), "ids", options=user_options,
              condition=lambda ids, values, when: Ticket.id.in_(
                  select(ticket_assignee.c.ticket_id).where(ticket_assignee.c.user_id.in_(ids)))),
    Criterion("due_window", _l("Prazo de execução"), "choice", options=DUE_WINDOWS, condition=_due_window),
    Criterion("legal_due", _l("Prazo legal"), "choice", options=LEGAL_WINDOWS, condition=_legal_window),
    Criterion("type", _l("Tipo de atendimento"), "choice", options=list(CHOICES["type"].items()),
              condition=lambda value, values, when: Ticket.type == value, group="more"),
    Criterion("channel", _l("Origem do contato"), "ids", options=Channel, condition=_in(Ticket.channel_id), group="more"),
    Criterion("priority", _l("Prioridade"), "ids", options=Priority, condition=_in(Ticket.priority_id), group="more"),
    Criterion("opened_by", _l("Usuário que abriu"), "ids", options=user_options, condition=_in(Ticket.opened_by_id), group="more"),
    Criterion("closing_reason", _l("Motivo de fechamento"), "ids", options=ClosingReason,
              condition=_in(Ticket.closing_reason_id), group="more"),
    Criterion("service_order_type", _l("Tipo de OS"), "ids", options=ServiceOrderType,
              condition=lambda ids, values, when: exists().where(ServiceOrder.ticket_id == Ticket.id,
                                                                   ServiceOrder.type_id.in_(ids)), group="more"),
    Criterion("open_service_orders", _l("OS em aberto"), "bool", condition=_open_service_orders, group="more"),
    Criterion("city", _l("Cidade"), "ids", options=city_options, condition=_city, group="more"),
    Criterion("customer_group", _l("Grupo de clientes"), "ids", options=CustomerGroup,
              condition=lambda ids, values, when: Ticket.customer_id.in_(
                  select(Customer.id).where(Customer.group_id.in_(ids))), group="more"),
    Criterion("draft", _l("Rascunho"), "bool", condition=lambda value, values, when: Ticket.is_draft.is_(value), group="more"),
    Criterion("rating", _l("Avaliação"), "choices", options=[(str(i), str(i)) for i in range(1, 6)],
              condition=lambda value, values, when: Ticket.rating.in_([int(v) for v in value]), group="more"),
])


def ticket_order(args: Mapping[str, Any]) -> list[Any]:
    return total_order(ORDERINGS, args, Ticket.id, "opened_at")


def ticket_list_url(view: str = "TicketView", **values: Any) -> str:
    """The list filtered by the given criteria, e.g. ``ticket_list_url(status=3, status_category="open")``."""
    return TICKET_CRITERIA.list_url(view, **values)


def default_period_start(session: Session, when: dt.datetime) -> dt.date:
    from app.domain.params import get_parameters

    return (when - dt.timedelta(days=get_parameters(session).default_list_days)).date()
