"""The ticket list as an export source: the list's criteria, scope and order (R15), streamed as plain rows."""
from __future__ import annotations

from typing import Any, Iterator, Mapping

from operator import itemgetter

from flask_babel import gettext, lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from app.domain.access import ticket_list_scope
from app.domain.clock import now
from app.domain.documents import format_document
from app.domain.exports import ExportColumn, ExportData, plain_session, register_source
from app.domain.labels import choice_label
from app.domain.sla import remaining, texts as sla_texts
from app.domain.ticket_filters import TICKET_CRITERIA, describe, first_value, ticket_order
from app.models import (
    Channel,
    City,
    ClosingReason,
    Contract,
    Customer,
    Department,
    Priority,
    ServiceOrder,
    Site,
    Subject,
    Ticket,
    TicketStatus,
    User,
    ticket_assignee,
)

BATCH = 2000


# (header, kind, width, on the list's layout): the default export has the list's columns (R15) plus the
# due date and the description; "completo" adds every other field (slower to write: more cells per row).
COLUMNS = [
    (_l("Protocolo"), "text", 16, True),
    (_l("Status"), "text", 16, True),
    (_l("Usuários responsáveis"), "text", 24, True),
    (_l("Cliente"), "text", 30, True),
    (_l("CPF/CNPJ"), "text", 16, False),
    (_l("Assunto"), "text", 22, True),
    (_l("Tipo"), "text", 12, False),
    (_l("Setor"), "text", 16, False),
    (_l("Prioridade"), "text", 10, False),
    (_l("Origem"), "text", 14, False),
    (_l("Endereço"), "text", 34, True),
    (_l("Cidade"), "text", 18, False),
    (_l("Abertura"), "datetime", 16, True),
    (_l("Prazo"), "datetime", 16, True),
    (_l("Fechamento"), "datetime", 16, False),
    (_l("Tempo restante"), "text", 16, True),
    (_l("OS"), "int", 5, True),
    (_l("Rascunho"), "text", 9, True),
    (_l("Avaliação"), "int", 9, False),
    (_l("Motivo de fechamento"), "text", 20, False),
    (_l("Aberto por"), "text", 18, False),
    (_l("Descrição da abertura"), "text", 50, True),
    (_l("Descrição do fechamento"), "text", 50, False),
]
FULL = "completo"


def build_ticket_export(session: Session, user: Any, args: Mapping[str, Any]) -> ExportData:
    """Every ticket the list shows for these arguments, in its order; ``scope=mine`` is "Meus atendimentos"."""
    when = now()
    mine = first_value(args, "scope") == "mine"
    values = TICKET_CRITERIA.parse(args).values
    conditions = TICKET_CRITERIA.conditions(values, when)
    scope = ticket_list_scope(user, mine)
    if scope is not None:
        conditions.append(scope)
    assignees = (
        select(func.aggregate_strings(User.first_name, ", "))
        .join(ticket_assignee, ticket_assignee.c.user_id == User.id)
        .where(ticket_assignee.c.ticket_id == Ticket.id)
        .correlate(Ticket).scalar_subquery()
    )
    orders = (select(func.count(ServiceOrder.id)).where(ServiceOrder.ticket_id == Ticket.id)
              .correlate(Ticket).scalar_subquery())
    contract_city, site_city, opener = aliased(City), aliased(City), aliased(User)
    query = (
        select(
            Ticket.protocol, TicketStatus.name, TicketStatus.category, assignees,
            func.coalesce(Customer.name, Site.name), Customer.document, Subject.name, Ticket.type,
            Department.name, Priority.name, Channel.name, Ticket.service_address,
            func.coalesce(contract_city.name, site_city.name), func.coalesce(contract_city.state, site_city.state),
            Ticket.opened_at, Ticket.due_at, Ticket.closed_at, orders, Ticket.is_draft, Ticket.rating,
            ClosingReason.name, opener.first_name, opener.last_name,
            Ticket.opening_description, Ticket.closing_description,
        )
        .join(TicketStatus, TicketStatus.id == Ticket.status_id)
        .outerjoin(Customer, Customer.id == Ticket.customer_id)
        .outerjoin(Contract, Contract.id == Ticket.contract_id)
        .outerjoin(contract_city, contract_city.id == Contract.city_id)
        .outerjoin(Site, Site.id == Ticket.site_id)
        .outerjoin(site_city, site_city.id == Site.city_id)
        .outerjoin(Subject, Subject.id == Ticket.subject_id)
        .outerjoin(Department, Department.id == Ticket.department_id)
        .outerjoin(Priority, Priority.id == Ticket.priority_id)
        .outerjoin(Channel, Channel.id == Ticket.channel_id)
        .outerjoin(ClosingReason, ClosingReason.id == Ticket.closing_reason_id)
        .outerjoin(opener, opener.id == Ticket.opened_by_id)
        .where(*conditions)
        .order_by(*ticket_order(args))
    )
    full = first_value(args, "layout") == FULL
    chosen = [index for index, column in enumerate(COLUMNS) if full or column[3]]
    pick = itemgetter(*chosen)
    yes, no = gettext("Sim"), gettext("Não")
    kinds = {code: choice_label("type", code) for code in ("customer", "site")}
    words = sla_texts()

    bound = plain_session(session)  # resolved here: the rows may be read from the prefetch thread

    def rows() -> Iterator[tuple]:
        for row in bound.connection().execute(query.execution_options(yield_per=BATCH)):
            (protocol, status, category, people, customer, document, subject, kind, department, priority, channel,
             address, city, state, opened, due, closed, order_count, draft, rating, reason, first, last,
             opening, closing) = row
            yield pick((
                protocol, status, people, customer, format_document(document) if document else None, subject,
                kinds.get(kind, kind), department, priority, channel, address, f"{city}/{state}" if city else None,
                opened, due, closed, remaining(due, category, closed, when, words)["text"], order_count,
                yes if draft else no, rating, reason, f"{first or ''} {last or ''}".strip() or None, opening, closing,
            ))

    title = gettext("Meus atendimentos") if mine else gettext("Atendimentos")
    return ExportData(
        title=title,
        subtitle=describe(session, values) or gettext("Sem filtros"),
        columns=[ExportColumn(str(COLUMNS[i][0]), COLUMNS[i][1], COLUMNS[i][2]) for i in chosen],
        rows=rows(),
        count=lambda: session.scalar(select(func.count(Ticket.id)).where(*conditions)) or 0,
        filename_stem="meus-atendimentos" if mine else "atendimentos",
    )


register_source("tickets", build_ticket_export)
