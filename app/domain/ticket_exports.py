"""The ticket list as an export source: the list's criteria, scope and order (R15), streamed as plain rows."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterator, Mapping

from flask_babel import gettext, lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from app.domain import legal_deadline
from app.domain.access import ticket_list_scope
from app.domain.clock import now
from app.domain.documents import format_document
from app.domain.exports import ExportColumn, ExportData, plain_session, register_source
from app.domain.labels import choice_label
from app.domain.sla import remaining, texts as sla_texts
from app.domain.criteria import first_arg
from app.domain.ticket_filters import TICKET_CRITERIA, ticket_order
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


CONTRACT_CITY, SITE_CITY, OPENER = aliased(City), aliased(City), aliased(User)
FULL = "completo"


@dataclass(frozen=True)
class Field:
    """One exported column: header, kind, width, whether the list's layout has it, its SQL values and how a row's
    values become the cell (the default layout is the list's columns plus due date and description, R15)."""

    header: Any
    kind: str
    width: int
    on_list: bool
    values: Callable[[], tuple]
    cell: Callable[..., Any] = lambda value: value
    sample: str = ""


def _assignees() -> Any:
    return (select(func.aggregate_strings(User.first_name, ", "))
            .join(ticket_assignee, ticket_assignee.c.user_id == User.id)
            .where(ticket_assignee.c.ticket_id == Ticket.id).correlate(Ticket).scalar_subquery())


def _order_count() -> Any:
    return (select(func.count(ServiceOrder.id)).where(ServiceOrder.ticket_id == Ticket.id)
            .correlate(Ticket).scalar_subquery())


def _fields(when: Any, legal_warning: int = legal_deadline.DEFAULT_WARNING_HOURS) -> list[Field]:
    words = sla_texts()
    legal_words = legal_deadline.texts()

    def legal(due: Any, category: Any, closed: Any) -> Any:
        if due is None:
            return None
        return legal_deadline.situation(due, category, closed, when, legal_warning, legal_words)["text"]

    kinds = {code: choice_label("type", code) for code in ("customer", "site")}
    yes, no = gettext("Sim"), gettext("Não")
    return [
        Field(_l("Protocolo"), "text", 16, True, lambda: (Ticket.protocol,), sample="20260101000000"),
        Field(_l("Status"), "text", 16, True, lambda: (TicketStatus.name,)),
        Field(_l("Usuários responsáveis"), "text", 24, True, lambda: (_assignees(),)),
        Field(_l("Cliente"), "text", 30, True, lambda: (func.coalesce(Customer.name, Site.name),)),
        Field(_l("CPF/CNPJ"), "text", 16, False, lambda: (Customer.document,),
              lambda document: format_document(document) if document else None),
        Field(_l("Assunto"), "text", 22, True, lambda: (Subject.name,)),
        Field(_l("Tipo"), "text", 12, False, lambda: (Ticket.type,), lambda kind: kinds.get(kind, kind)),
        Field(_l("Setor"), "text", 16, False, lambda: (Department.name,)),
        Field(_l("Prioridade"), "text", 10, False, lambda: (Priority.name,)),
        Field(_l("Origem"), "text", 14, False, lambda: (Channel.name,)),
        Field(_l("Endereço"), "text", 34, True, lambda: (Ticket.service_address,)),
        Field(_l("Cidade"), "text", 18, False,
              lambda: (func.coalesce(CONTRACT_CITY.name, SITE_CITY.name), func.coalesce(CONTRACT_CITY.state,
                                                                                         SITE_CITY.state)),
              lambda city, state: f"{city}/{state}" if city else None),
        Field(_l("Abertura"), "datetime", 16, True, lambda: (Ticket.opened_at,)),
        Field(_l("Prazo"), "datetime", 16, True, lambda: (Ticket.due_at,)),
        Field(_l("Fechamento"), "datetime", 16, False, lambda: (Ticket.closed_at,)),
        Field(_l("Tempo restante"), "text", 16, True,
              lambda: (Ticket.due_at, TicketStatus.category, Ticket.closed_at),
              lambda due, category, closed: remaining(due, category, closed, when, words)["text"],
              sample=words["overdue"] % {"time": words["days"] % {"days": 10, "hours": 0}}),
        Field(_l("Prazo legal"), "datetime", 16, True, lambda: (Ticket.legal_due_at,)),
        Field(_l("Situação do prazo legal"), "text", 22, True,
              lambda: (Ticket.legal_due_at, TicketStatus.category, Ticket.closed_at), legal),
        Field(_l("OS"), "int", 5, True, lambda: (_order_count(),)),
        Field(_l("Rascunho"), "text", 9, True, lambda: (Ticket.is_draft,), lambda draft: yes if draft else no,
              sample=no),
        Field(_l("Avaliação"), "int", 9, False, lambda: (Ticket.rating,)),
        Field(_l("Motivo de fechamento"), "text", 20, False, lambda: (ClosingReason.name,)),
        Field(_l("Aberto por"), "text", 18, False, lambda: (OPENER.first_name, OPENER.last_name),
              lambda first, last: f"{first or ''} {last or ''}".strip() or None),
        Field(_l("Descrição da abertura"), "text", 50, True, lambda: (Ticket.opening_description,)),
        Field(_l("Descrição do fechamento"), "text", 50, False, lambda: (Ticket.closing_description,)),
    ]


def build_ticket_export(session: Session, user: Any, args: Mapping[str, Any]) -> ExportData:
    """Every ticket the list shows for these arguments, in its order; ``scope=mine`` is "Meus atendimentos"."""
    when = now()
    mine = first_arg(args, "scope") == "mine"
    values = TICKET_CRITERIA.parse(args).values
    conditions = TICKET_CRITERIA.conditions(values, when)
    scope = ticket_list_scope(user, mine)
    if scope is not None:
        conditions.append(scope)
    full = first_arg(args, "layout") == FULL
    fields = [field for field in _fields(when, legal_deadline.warning_hours(session)) if full or field.on_list]
    expressions, slices = [], []
    for field in fields:
        parts = field.values()
        slices.append((len(expressions), len(expressions) + len(parts), field.cell))
        expressions.extend(parts)
    # unused outer joins on unique keys are removed by PostgreSQL's planner
    query = (
        select(*expressions)
        .join(TicketStatus, TicketStatus.id == Ticket.status_id)
        .outerjoin(Customer, Customer.id == Ticket.customer_id)
        .outerjoin(Contract, Contract.id == Ticket.contract_id)
        .outerjoin(CONTRACT_CITY, CONTRACT_CITY.id == Contract.city_id)
        .outerjoin(Site, Site.id == Ticket.site_id)
        .outerjoin(SITE_CITY, SITE_CITY.id == Site.city_id)
        .outerjoin(Subject, Subject.id == Ticket.subject_id)
        .outerjoin(Department, Department.id == Ticket.department_id)
        .outerjoin(Priority, Priority.id == Ticket.priority_id)
        .outerjoin(Channel, Channel.id == Ticket.channel_id)
        .outerjoin(ClosingReason, ClosingReason.id == Ticket.closing_reason_id)
        .outerjoin(OPENER, OPENER.id == Ticket.opened_by_id)
        .where(*conditions)
        .order_by(*ticket_order(args))
    )
    bound = plain_session(session)  # resolved here: the rows may be read from the prefetch thread

    def rows() -> Iterator[tuple]:
        for row in bound.connection().execute(query.execution_options(yield_per=BATCH)):
            yield tuple(cell(row[low]) if high - low == 1 else cell(*row[low:high]) for low, high, cell in slices)

    title = gettext("Meus atendimentos") if mine else gettext("Atendimentos")
    return ExportData(
        title=title,
        subtitle=TICKET_CRITERIA.describe(session, values) or gettext("Sem filtros"),
        columns=[ExportColumn(str(field.header), field.kind, field.width, field.sample) for field in fields],
        rows=rows(),
        count=lambda: session.scalar(select(func.count(Ticket.id)).where(*conditions)) or 0,
        filename_stem="meus-atendimentos" if mine else "atendimentos",
    )


register_source("tickets", build_ticket_export)
