"""Ticket rules: R1, R2, R4–R7, R9, R11, R12."""
from __future__ import annotations

import datetime as dt
from typing import Any, Iterable, Optional

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Session

from app.domain import history, legal_deadline, notifications, protocol
from app.domain.clock import now
from app.domain.errors import Conflict, ValidationError
from app.domain.params import get_parameters
from app.domain.ticket_fields import FIELD_LABELS
from app.domain.versions import check_version
from app.models import (
    OPEN_CATEGORIES,
    Channel,
    ClosingReason,
    Contract,
    Customer,
    Department,
    Priority,
    ServiceOrder,
    Site,
    SubStatus,
    Subject,
    Ticket,
    TicketStatus,
    ticket_assignee,
)

RELATIONS: dict[str, type] = {
    "customer": Customer,
    "contract": Contract,
    "site": Site,
    "subject": Subject,
    "department": Department,
    "priority": Priority,
    "channel": Channel,
    "status": TicketStatus,
    "sub_status": SubStatus,
    "closing_reason": ClosingReason,
    "related_ticket": Ticket,
}
STALE_TICKET = _l(
    "Este atendimento foi alterado por outro usuário enquanto você editava. "
    "Recarregue a página para ver a versão atual; nada foi salvo."
)
ACTIVE_ONLY = ("subject", "department", "priority", "channel", "status", "sub_status", "closing_reason")
COLUMNS = (
    "type",
    "direction",
    "opening_description",
    "closing_description",
    "service_address",
    "received_at",
    "due_at",
    "closed_at",
    "is_draft",
    "rating",
    "rating_comment",
    "cancel_reason",
)


def default_status(session: Session) -> TicketStatus:
    """Return the first active status of category `new` (or any open one)."""
    for categories in (("new",), OPEN_CATEGORIES):
        status = session.scalar(
            select(TicketStatus)
            .where(TicketStatus.active.is_(True), TicketStatus.category.in_(categories))
            .order_by(TicketStatus.order, TicketStatus.id)
            .limit(1)
        )
        if status:
            return status
    raise ValidationError(_l("Nenhum status ativo de atendimento está cadastrado."), "status")


def open_ticket_count(session: Session, customer_id: int, exclude_id: Optional[int] = None) -> int:
    """Count the customer's open, non-draft tickets (R8)."""
    query = (
        select(func.count(Ticket.id))
        .join(TicketStatus, Ticket.status_id == TicketStatus.id)
        .where(
            Ticket.customer_id == customer_id,
            Ticket.is_draft.is_(False),
            TicketStatus.category.in_(OPEN_CATEGORIES),
        )
    )
    if exclude_id:
        query = query.where(Ticket.id != exclude_id)
    return session.scalar(query) or 0


def start_ticket(
    session: Session,
    user: Any,
    customer: Optional[Customer] = None,
    contract: Optional[Contract] = None,
    ticket_type: str = "customer",
    site: Optional[Site] = None,
) -> Ticket:
    """Start a ticket: a draft with its protocol, before any other field is typed (R1, R2)."""
    ticket = Ticket(type=ticket_type, customer=customer, contract=contract, site=site, is_draft=True)
    create_ticket(session, ticket, user)
    return ticket


def create_ticket(session: Session, ticket: Ticket, user: Any) -> Ticket:
    """Give a new ticket its protocol and defaults, check its rules and record its creation."""
    with session.no_autoflush:
        ticket.opened_at = ticket.opened_at or now()
        if ticket.is_draft is None:
            ticket.is_draft = False
        if not ticket.is_draft:  # R24: created registered, it was registered when it was opened (an import: then)
            ticket.registered_at = ticket.registered_at or ticket.opened_at
        ticket.type = ticket.type or "customer"
        ticket.direction = ticket.direction or "inbound"
        _blank_to_none(ticket)
        if ticket.status is None:
            ticket.status = default_status(session)
        if user is not None and ticket.opened_by is None:
            ticket.opened_by = user
        _fill_contract(session, ticket)
        _apply_subject_defaults(ticket)
        _apply_derived(ticket, previous_category=None)
        for name in ACTIVE_ONLY:
            _check_active(ticket, name)
        check_ticket(session, ticket)
        if not ticket.is_draft:
            _link_group(session, ticket)
        ticket.protocol = protocol.next_protocol(session, ticket.opened_at)
    session.add(ticket)
    history.record(session, ticket, user, "created", note=_l("Atendimento iniciado"))
    _record_group(session, ticket, user)
    if not ticket.is_draft:
        _registered(session, ticket, user)
    return ticket


def _registered(session: Session, ticket: Ticket, user: Any) -> None:
    """A ticket stops being a draft, by any door (form, API, portal, mass action, import): R24, R25."""
    legal_deadline.start(ticket, now())
    # R25: the protocol with the date and time of the opening goes to the customer (outbox, same transaction)
    notifications.ticket_registered(session, ticket)


PORTAL_SUBJECT_REFUSED = _l("Este assunto não está disponível na central do assinante.")
PORTAL_CONTRACT_REFUSED = _l("Contrato não encontrado entre os seus contratos.")


def open_portal_ticket(session: Session, user: Any, customer: Customer, subject: Optional[Subject],
                       contract: Optional[Contract] = None, description: Optional[str] = None) -> Ticket:
    """Open a customer's own ticket from the portal or the API with only the fields a customer sets (R20, R30).

    Opener and assignee are the portal's configured user (the customer's own user as opener when none is
    configured), the channel is the active portal channel; the history records the customer who asked.
    """
    from app.domain.access import NotForCustomers

    if subject is None:
        raise ValidationError(_l("Escolha o assunto do atendimento."), "subject")
    if not (subject.portal_available and subject.active):
        raise NotForCustomers(PORTAL_SUBJECT_REFUSED, "subject")
    if contract is not None and contract.customer_id != customer.id:
        raise NotForCustomers(PORTAL_CONTRACT_REFUSED, "contract")
    description = description.strip() if isinstance(description, str) else ""
    if not description:
        raise ValidationError(_l("Descreva o que está acontecendo."), "opening_description")
    staff = get_parameters(session).portal_user
    channel = session.scalar(select(Channel).where(Channel.is_portal.is_(True), Channel.active.is_(True))
                             .order_by(Channel.id).limit(1))
    ticket = Ticket(type="customer", customer=customer, contract=contract, subject=subject, channel=channel,
                    direction="inbound", opening_description=description, is_draft=False,
                    opened_by=staff or customer.portal_user or user)
    if staff is not None:
        ticket.assignees = [staff]
    return create_ticket(session, ticket, user)


def update_ticket(
    session: Session, ticket: Ticket, user: Any, expected_version: Any = None, version_required: bool = False
) -> list[str]:
    """Check and record the pending changes of a loaded ticket (R9, R11, R12).

    A person's edit (version_required) names the version they read: a missing or stale one saves nothing.
    """
    with session.no_autoflush:
        before = _stored_state(session, ticket)
        if version_required or expected_version not in (None, ""):
            check_version(before["version"], expected_version, STALE_TICKET)
        _blank_to_none(ticket)
        after = _current_state(ticket)
        changed = [name for name in after if after[name] != before[name]]
        if not changed:
            return []
        previous_status = session.get(TicketStatus, before["status"])
        if previous_status is not None and previous_status.category == "cancelled":
            raise Conflict(_l("Atendimento cancelado não aceita alterações."))
        if before["is_draft"] is False and ticket.is_draft:
            raise ValidationError(_l("Um atendimento salvo não pode voltar a ser rascunho."), "is_draft")
        # R28 (begin): a ticket is closed over open service orders only by Finalizar/Cancelar, which decide about them
        closing = ticket.status is not None and ticket.status.category in ("resolved", "cancelled")
        if closing and ("status" in changed or (before["is_draft"] and not ticket.is_draft)):
            from app.domain.service_orders import open_service_orders

            orders = open_service_orders(ticket)
            if orders:
                raise Conflict(_l("Este atendimento tem ordens de serviço em aberto (%(orders)s): use Finalizar ou "
                                  "Cancelar para decidir o que fazer com elas.",
                                  orders=", ".join(str(order) for order in orders)), "status")
        # R28 (end)
        registering = bool(before["is_draft"]) and not ticket.is_draft
        if "contract" not in changed and "customer" in changed:
            _drop_foreign_contract(ticket)
        _fill_contract(session, ticket)
        if "subject" in changed or registering:
            _apply_subject_defaults(ticket, force_due=True)
        _apply_derived(ticket, previous_category=previous_status.category if previous_status else None)
        after = _current_state(ticket)
        changed = [name for name in after if after[name] != before[name]]
        for name in ACTIVE_ONLY if registering else changed:
            if name in ACTIVE_ONLY:
                _check_active(ticket, name)
        check_ticket(session, ticket)
        if registering:
            # the draft's typing was kept without history (save_draft): the registration records every value
            before = {**before, **{name: None for name in after if name not in ("is_draft", "version")}}
            changed = [name for name in after if after[name] != before[name] and after[name] not in ((), "")]
        if before["is_draft"] and not ticket.is_draft:
            _link_group(session, ticket)
        ticket.updated_at = now()
        if user is not None:
            ticket.updated_by = user
        for name in changed:
            history.record(
                session,
                ticket,
                user,
                "field",
                field=name,
                old=_display(session, name, before[name]),
                new=_display(session, name, after[name]),
            )
        if before["is_draft"] and not ticket.is_draft:
            _record_group(session, ticket, user)
            _registered(session, ticket, user)
        if "status" in changed and ticket.status.category == "resolved":
            _resolve_group(session, ticket, user)
            notifications.ticket_resolved(session, ticket)  # R24: the customer is told the demand is concluded
    return changed


def save_draft(session: Session, ticket: Ticket, user: Any, expected_version: Any) -> None:
    """Keep what was typed in a draft, without the rules of a registered ticket nor history (R2).

    The registration (update_ticket of a draft) later checks every rule and records every value. Like any
    edit it names the version the page read (R12): a missing or stale one saves nothing.
    """
    with session.no_autoflush:
        before = _stored_state(session, ticket)
        if not before["is_draft"]:
            raise Conflict(_l("Só rascunhos são salvos automaticamente: use Salvar."))
        check_version(before["version"], expected_version, STALE_TICKET)
        ticket.is_draft = True
        _blank_to_none(ticket)
        after = _current_state(ticket)
        changed = [name for name in after if after[name] != before[name]]
        if "contract" not in changed and "customer" in changed:
            _drop_foreign_contract(ticket)
        for name in changed:
            if name in ACTIVE_ONLY:
                _check_active(ticket, name)
        check_ticket(session, ticket)
        if changed:
            ticket.updated_at = now()
            if user is not None:
                ticket.updated_by = user


def find_group_leader(session: Session, ticket: Ticket) -> Optional[Ticket]:
    """An open ticket with the same subject and service address to group with (R21)."""
    if ticket.subject is None or not ticket.service_address:
        return None
    query = (
        select(Ticket).join(TicketStatus, Ticket.status_id == TicketStatus.id)
        .where(Ticket.subject_id == ticket.subject.id, Ticket.service_address == ticket.service_address,
               Ticket.is_draft.is_(False), Ticket.grouped_with_id.is_(None),
               TicketStatus.category.in_(OPEN_CATEGORIES))
        .order_by(Ticket.opened_at, Ticket.id).limit(1)
    )
    if ticket.id is not None:
        query = query.where(Ticket.id != ticket.id)
    return session.scalar(query)


def _link_group(session: Session, ticket: Ticket) -> None:
    if ticket.grouped_with is None and is_open(ticket):
        ticket.grouped_with = find_group_leader(session, ticket)
        # tells the door that saved it to inform the agent (not stored)
        ticket.just_grouped = ticket.grouped_with is not None


def _record_group(session: Session, ticket: Ticket, user: Any) -> None:
    if ticket.grouped_with is not None:
        history.record(session, ticket, user, "action", field="grouped_with", new=ticket.grouped_with.protocol,
                       note=_l("Agrupado com o atendimento %(protocol)s (mesmo assunto e endereço)",
                               protocol=ticket.grouped_with.protocol))


def _resolve_group(session: Session, leader: Ticket, user: Any) -> None:
    """Grouped tickets receive the first one's answer when it is resolved (R21)."""
    members = session.scalars(select(Ticket).where(Ticket.grouped_with_id == leader.id)).all()
    for member in members:
        if not is_open(member):
            continue
        # R28 (begin): a grouped ticket with open service orders stays open for its own decision
        from app.domain.service_orders import open_service_orders

        if open_service_orders(member):
            history.record(session, member, user, "action", field="grouped_with", new=leader.protocol,
                           note=_l("Não resolvido junto com o atendimento %(protocol)s: tem ordens de serviço "
                                   "em aberto", protocol=leader.protocol))
            continue
        # R28 (end)
        member.status = leader.status
        member.closing_description = leader.closing_description
        member.closing_reason = leader.closing_reason
        update_ticket(session, member, user)
        history.record(session, member, user, "action", field="grouped_with", new=leader.protocol,
                       note=_l("Resolvido junto com o atendimento %(protocol)s", protocol=leader.protocol))


def delete_ticket(session: Session, ticket: Ticket) -> None:
    """Only drafts can be deleted (R2)."""
    stored = session.execute(
        select(Ticket.is_draft).where(Ticket.id == ticket.id)
    ).scalar_one_or_none()
    if stored is False or not ticket.is_draft:
        raise ValidationError(
            _l("O atendimento %(protocol)s não é rascunho e não pode ser excluído.", protocol=ticket.protocol)
        )
    if session.scalar(select(func.count(ServiceOrder.id)).where(ServiceOrder.ticket_id == ticket.id)):
        raise ValidationError(
            _l("O rascunho %(protocol)s tem ordens de serviço e não pode ser excluído.", protocol=ticket.protocol)
        )


def check_ticket(session: Session, ticket: Ticket) -> None:
    """Check the rules a saved (non-draft) ticket must meet (R4, R5, R7, R9)."""
    if ticket.type not in ("customer", "site"):
        raise ValidationError(_l("Tipo de atendimento inválido."), "type")
    if ticket.direction not in ("inbound", "outbound"):
        raise ValidationError(_l("Informe se o atendimento é ativo ou receptivo."), "direction")
    if ticket.rating is not None and not 1 <= int(ticket.rating) <= 5:
        raise ValidationError(_l("A avaliação deve ser de 1 a 5."), "rating")
    if ticket.contract is not None:
        if ticket.customer is None:
            ticket.customer = ticket.contract.customer
        if ticket.contract.customer_id != ticket.customer.id:
            raise ValidationError(
                _l("O contrato %(contract)s não pertence ao cliente %(customer)s.",
                   contract=ticket.contract.number, customer=ticket.customer.name),
                "contract",
            )
    if ticket.related_ticket is not None and ticket.related_ticket is ticket:
        raise ValidationError(_l("Um atendimento não pode ser relacionado a ele mesmo."), "related_ticket")
    if ticket.is_draft:
        return
    if ticket.type == "customer" and ticket.customer is None:
        raise ValidationError(_l("Atendimento do tipo Cliente exige um cliente."), "customer")
    if ticket.type == "site" and ticket.site is None:
        raise ValidationError(_l("Atendimento do tipo Estrutura própria exige uma estrutura."), "site")
    params = get_parameters(session)
    subject = ticket.subject
    if subject is None and params.subject_required:
        raise ValidationError(_l("O assunto é obrigatório."), "subject")
    if subject is not None:
        if (subject.requires_contract or subject.requires_login) and ticket.contract is None:
            raise ValidationError(
                _l("O assunto %(subject)s exige um contrato.", subject=subject.name), "contract"
            )
        if subject.requires_login and not ticket.contract.login:
            raise ValidationError(
                _l("O assunto %(subject)s exige um login: o contrato escolhido não tem login.",
                   subject=subject.name),
                "contract",
            )
        if subject.requires_channel and ticket.channel is None:
            raise ValidationError(
                _l("O assunto %(subject)s exige o canal de atendimento.", subject=subject.name), "channel"
            )
        if subject.requires_sub_status and ticket.sub_status is None:
            raise ValidationError(
                _l("O assunto %(subject)s exige o status complementar.", subject=subject.name), "sub_status"
            )
    if ticket.status is None:
        raise ValidationError(_l("O status é obrigatório."), "status")
    if ticket.status.category == "resolved":
        if not (ticket.closing_description or "").strip():
            raise ValidationError(
                _l("Para resolver o atendimento informe a descrição do fechamento."), "closing_description"
            )
        reason_required = params.closing_reason_required or (subject and subject.requires_closing_reason)
        if reason_required and ticket.closing_reason is None:
            raise ValidationError(
                _l("Para resolver o atendimento informe o motivo de fechamento."), "closing_reason"
            )


def is_open(ticket: Ticket) -> bool:
    return ticket.status is not None and ticket.status.category in OPEN_CATEGORIES


# ---------------------------------------------------------------- helpers


def _blank_to_none(ticket: Ticket) -> None:
    """An empty form field is no value: never record "" over None as a change."""
    for name in COLUMNS:
        value = getattr(ticket, name)
        if isinstance(value, str) and not value.strip():
            setattr(ticket, name, None)


def _check_active(ticket: Ticket, name: str) -> None:
    value = getattr(ticket, name)
    if value is not None and value.id is not None and sa_inspect(value).identity is None:  # an id of no record
        raise ValidationError(_l("%(field)s inexistente.", field=FIELD_LABELS[name]), name)
    if value is not None and not value.active:
        raise ValidationError(
            _l("%(field)s \"%(value)s\" está inativo e não pode ser escolhido.",
               field=FIELD_LABELS[name], value=value.name),
            name,
        )


def _fill_contract(session: Session, ticket: Ticket) -> None:
    """A customer with exactly one active contract gets it filled in (R7)."""
    if ticket.customer is None or ticket.contract is not None or ticket.type != "customer":
        return
    if ticket.customer.id is None:
        return
    contracts = session.scalars(
        select(Contract).where(Contract.customer_id == ticket.customer.id, Contract.status == "active").limit(2)
    ).all()
    if len(contracts) == 1:
        ticket.contract = contracts[0]


def _drop_foreign_contract(ticket: Ticket) -> None:
    """Changing the customer clears a contract that is no longer theirs (R7)."""
    if ticket.contract is not None and ticket.customer is not None:
        if ticket.contract.customer_id != ticket.customer.id:
            ticket.contract = None


def _apply_subject_defaults(ticket: Ticket, force_due: bool = False) -> None:
    subject = ticket.subject
    if subject is None:
        return
    if ticket.department is None:
        ticket.department = subject.default_department
    if ticket.priority is None:
        ticket.priority = subject.default_priority
    if ticket.due_at is None or force_due:
        ticket.due_at = (ticket.opened_at or now()) + dt.timedelta(hours=subject.sla_hours)


def _apply_derived(ticket: Ticket, previous_category: Optional[str]) -> None:
    if ticket.contract is not None and not ticket.service_address:
        ticket.service_address = ticket.contract.address_line() or None
    category = ticket.status.category if ticket.status else None
    if category in ("resolved", "cancelled") and previous_category not in ("resolved", "cancelled"):
        ticket.closed_at = ticket.closed_at or now()
    if category in OPEN_CATEGORIES:
        ticket.closed_at = None


def _stored_state(session: Session, ticket: Ticket) -> dict[str, Any]:
    table = Ticket.__table__
    row = session.execute(select(table).where(table.c.id == ticket.id)).mappings().one()
    state = {name: row[name] for name in COLUMNS}
    for name in RELATIONS:
        state[name] = row[f"{name}_id"]
    state["assignees"] = tuple(
        sorted(session.scalars(select(ticket_assignee.c.user_id).where(ticket_assignee.c.ticket_id == ticket.id)))
    )
    state["version"] = row["version"]
    return state


def _current_state(ticket: Ticket) -> dict[str, Any]:
    state = {name: getattr(ticket, name) for name in COLUMNS}
    for name in RELATIONS:
        value = getattr(ticket, name)
        state[name] = value.id if value is not None else None
    state["assignees"] = tuple(sorted(u.id for u in ticket.assignees))
    return state


def _display(session: Session, name: str, value: Any) -> Optional[str]:
    if value is None:
        return None
    if name in RELATIONS:
        obj = session.get(RELATIONS[name], value)
        return str(obj) if obj is not None else str(value)
    if name == "assignees":
        from flask_appbuilder.security.sqla.models import User

        from app.domain.ticket_fields import person_name

        return ", ".join(person_name(session.get(User, uid)) for uid in value) or None
    if name in ("type", "direction", "is_draft"):
        from app.domain.labels import choice_label

        return str(choice_label(name, value))
    if isinstance(value, dt.datetime):
        return value.strftime("%d/%m/%Y %H:%M")
    return str(value)


def assignee_ids(users: Iterable[Any]) -> list[int]:
    return sorted(u.id for u in users)
