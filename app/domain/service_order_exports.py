"""The service-order list as an export source: same filters, order and scope as the list page (R15)."""
from __future__ import annotations

from typing import Any, Iterator, Mapping

from flask_babel import gettext
from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from app.domain.access import service_order_condition
from app.domain.clock import now
from app.domain.errors import NotAllowed
from app.domain.exports import ExportColumn, ExportData, plain_session, register_source
from app.domain.labels import choice_label
from app.domain.service_order_filters import SERVICE_ORDER_CRITERIA, service_order_order
from app.models import City, Contract, Customer, ServiceOrder, ServiceOrderType, Site, Ticket, User
from app.security import ROLE_TECHNICIAN, role_names, sees_all_tickets

BATCH = 1000


def _columns() -> list[ExportColumn]:
    return [
        ExportColumn(gettext("OS"), "int", 8),
        ExportColumn(gettext("Protocolo"), "text", 17, sample="20260101000000"),
        ExportColumn(gettext("Cliente"), "text", 30),
        ExportColumn(gettext("Tipo de OS"), "text", 18),
        ExportColumn(gettext("Situação"), "text", 12),
        ExportColumn(gettext("Técnico"), "text", 20),
        ExportColumn(gettext("Cidade"), "text", 18),
        ExportColumn(gettext("Início agendado"), "datetime", 16),
        ExportColumn(gettext("Fim agendado"), "datetime", 16),
        ExportColumn(gettext("Abertura"), "datetime", 16),
        ExportColumn(gettext("Fechamento"), "datetime", 16),
        ExportColumn(gettext("Descrição"), "text", 40),
    ]


def build_service_order_export(session: Session, user: Any, args: Mapping[str, Any]) -> ExportData:
    """The filtered, ordered service orders the user may see, streamed as plain rows."""
    if not (sees_all_tickets(user) or ROLE_TECHNICIAN in role_names(user)):
        raise NotAllowed(gettext("Você não tem acesso às ordens de serviço."))
    when = now()
    values = SERVICE_ORDER_CRITERIA.parse(args).values
    conditions = SERVICE_ORDER_CRITERIA.conditions(values, when)
    scope = service_order_condition(user)
    if scope is not None:
        conditions.append(scope)
    contract_city, site_city = aliased(City), aliased(City)
    query = (
        select(
            ServiceOrder.id, Ticket.protocol, func.coalesce(Customer.name, Site.name),
            ServiceOrderType.name, ServiceOrder.status, User.first_name, User.last_name,
            func.coalesce(contract_city.name, site_city.name), func.coalesce(contract_city.state, site_city.state),
            ServiceOrder.scheduled_start, ServiceOrder.scheduled_end, ServiceOrder.opened_at,
            ServiceOrder.closed_at, ServiceOrder.description,
        )
        .join(Ticket, Ticket.id == ServiceOrder.ticket_id)
        .outerjoin(Customer, Customer.id == Ticket.customer_id)
        .outerjoin(Contract, Contract.id == Ticket.contract_id)
        .outerjoin(contract_city, contract_city.id == Contract.city_id)
        .outerjoin(Site, Site.id == Ticket.site_id)
        .outerjoin(site_city, site_city.id == Site.city_id)
        .outerjoin(ServiceOrderType, ServiceOrderType.id == ServiceOrder.type_id)
        .outerjoin(User, User.id == ServiceOrder.technician_id)
        .where(*conditions)
        .order_by(*service_order_order(args))
    )
    count_query = select(func.count()).select_from(ServiceOrder).where(*conditions)

    bound = plain_session(session)  # resolved here: the rows may be read from the prefetch thread

    def rows() -> Iterator[tuple]:
        for row in bound.connection().execute(query.execution_options(yield_per=BATCH)):
            (number, protocol, customer, type_name, status, first, last, city, state,
             start, end, opened, closed, description) = row
            technician = f"{first or ''} {last or ''}".strip() or None
            place = f"{city}/{state}" if city else None
            yield (number, protocol, customer, type_name, choice_label("service_order_status", status),
                   technician, place, start, end, opened, closed, description)

    return ExportData(
        title=gettext("Ordens de serviço"),
        subtitle=SERVICE_ORDER_CRITERIA.describe(session, values) or gettext("Sem filtros"),
        columns=_columns(),
        rows=rows(),
        count=lambda: session.scalar(count_query),
        filename_stem="ordens-de-servico",
    )


register_source("service_orders", build_service_order_export)
