"""Who may see what: one scope per role, asked by every door (views, API, `_info`, look-ups, actions, exports, files).

- Admin, Gestor and Atendente see every operational record (customers, contracts, tickets, history, messages,
  attachments, service orders, users).
- Técnico sees the tickets of their own service orders and what hangs on them: the customer, contract and site,
  every message, history entry and attachment; of the users, only themselves.
- Assinante (the customer, linked by ``Customer.portal_user_id``) sees their own customer, contracts and
  registered tickets (no drafts), and of those tickets only what is public (R26, R30):
  messages to the customer (``is_internal`` False); the attachments they uploaded themselves (there is no
  "public" flag: a file a staff member attaches stays internal); and the history entries of
  ``public_event_condition``. Of the users, only themselves; of the options, only the subjects offered in the
  portal.

Every rule is a SQL condition (None: no limit) so lists, counts and look-ups stay one query.
"""
from __future__ import annotations

from typing import Any, Callable, Iterable, Optional

from flask import g
from flask_appbuilder.models.filters import BaseFilter
from flask_appbuilder.security.sqla.models import User
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, exists, false, func, or_, select
from sqlalchemy.orm import Session

from app.domain.errors import NotAllowed, ValidationError
from app.domain.inputs import MAX_ID
from app.models import (
    Attachment,
    Contract,
    Customer,
    CustomerAddress,
    CustomerEmail,
    CustomerPhone,
    ServiceOrder,
    Site,
    Subject,
    Ticket,
    TicketEvent,
    TicketMessage,
    ticket_assignee,
)
from app.security import ROLE_CUSTOMER, ROLE_TECHNICIAN, role_names, sees_all_tickets

# ---------------------------------------------------------------- what a customer reads and sets (R26, R30)

PUBLIC_EVENT_FIELDS = ("status", "subject", "opening_description", "closing_description", "rating", "rating_comment",
                       "due_at", "closed_at")
"""Ticket fields whose changes a customer reads in the history; never assignees, department, notes …"""
PUBLIC_ACTIONS = ("reiterate", "complaint", "reopen")
"""Actions whose history entry a customer reads (their own requests and the reopening)."""
CUSTOMER_CREATE_FIELDS = ("customer", "contract", "subject", "opening_description")
"""What a customer sets when opening a ticket (R30): the customer only as their own."""
CUSTOMER_UPDATE_FIELDS = ("rating", "rating_comment", "version")
"""What a customer changes on a ticket: the rating (and its comment) of a resolved one (R30); ``version`` is the one
read (R29)."""
STAFF_ONLY_TICKET_DATA = ("assignees", "opened_by", "updated_by", "cancelled_by", "department", "priority",
                          "sub_status", "closing_reason", "related_ticket", "grouped_with", "cancel_reason",
                          "diagnostics", "direction", "received_at")
"""Ticket data never shown to a customer."""
PERSON_KEYS = ("user", "author", "uploaded_by")
"""Who did something (history, messages, files): shown to a customer only when it is themselves."""


class NotForCustomers(ValidationError):
    """A field or value a customer may not set (R30); the API answers 422 naming the field."""

    status = 422


# ---------------------------------------------------------------- roles


def _authenticated(user: Any) -> bool:
    return user is not None and bool(getattr(user, "is_authenticated", False))


def acts_as_customer(user: Any) -> bool:
    """Whether the user reaches tickets as a customer (Assinante without a staff role)."""
    return _authenticated(user) and ROLE_CUSTOMER in role_names(user) and not sees_all_tickets(user)


def _scope(user: Any, technician: Optional[Callable[[int], Any]] = None,
           customer: Optional[Callable[[int], Any]] = None) -> Optional[Any]:
    """Staff: None (everything); otherwise the rows each of the user's roles reaches (nothing without one)."""
    if not _authenticated(user):
        return false()
    if sees_all_tickets(user):
        return None
    roles = role_names(user)
    conditions = []
    if technician is not None and ROLE_TECHNICIAN in roles:
        conditions.append(technician(user.id))
    if customer is not None and ROLE_CUSTOMER in roles:
        conditions.append(customer(user.id))
    if not conditions:
        return false()
    return conditions[0] if len(conditions) == 1 else or_(*conditions)


def _own_customers(user_id: int) -> Any:
    return select(Customer.id).where(Customer.portal_user_id == user_id)


def _own_tickets(user_id: int) -> Any:
    """A customer's registered tickets (a draft is the agent's work in progress)."""
    return select(Ticket.id).where(Ticket.customer_id.in_(_own_customers(user_id)), Ticket.is_draft.is_(False))


def _order_tickets(user_id: int) -> Any:
    """The tickets of a technician's service orders."""
    return select(ServiceOrder.ticket_id).where(ServiceOrder.technician_id == user_id)


# ---------------------------------------------------------------- one condition per kind of record


def ticket_condition(user: Any) -> Optional[Any]:
    """Return the SQL condition limiting tickets to the user's, or None for all."""
    return _scope(
        user,
        technician=lambda uid: exists().where(ServiceOrder.ticket_id == Ticket.id, ServiceOrder.technician_id == uid),
        customer=lambda uid: and_(Ticket.customer_id.in_(_own_customers(uid)), Ticket.is_draft.is_(False)),
    )


def service_order_condition(user: Any) -> Optional[Any]:
    """A technician's own service orders; a customer reaches none."""
    return _scope(user, technician=lambda uid: ServiceOrder.technician_id == uid)


def portal_service_order_condition(user: Any) -> Any:
    """The service orders a customer follows in the portal: those of their own tickets (type, status and visit
    window only; never the technician nor the notes). Nothing for anyone else: staff use service_order_condition."""
    if not acts_as_customer(user):
        return false()
    return ServiceOrder.ticket_id.in_(_own_tickets(user.id))


def customer_condition(user: Any) -> Optional[Any]:
    """A technician: the customers of their service orders; a customer: themselves."""
    return _scope(
        user,
        technician=lambda uid: Customer.id.in_(
            select(Ticket.customer_id).where(Ticket.id.in_(_order_tickets(uid)), Ticket.customer_id.isnot(None))),
        customer=lambda uid: Customer.portal_user_id == uid,
    )


def contract_condition(user: Any) -> Optional[Any]:
    """A technician: the contracts of their service orders' tickets; a customer: their own."""
    return _scope(
        user,
        technician=lambda uid: Contract.id.in_(
            select(Ticket.contract_id).where(Ticket.id.in_(_order_tickets(uid)), Ticket.contract_id.isnot(None))),
        customer=lambda uid: Contract.customer_id.in_(_own_customers(uid)),
    )


def site_condition(user: Any) -> Optional[Any]:
    """A technician: the sites of their service orders' tickets; a customer: none."""
    return _scope(
        user,
        technician=lambda uid: Site.id.in_(
            select(Ticket.site_id).where(Ticket.id.in_(_order_tickets(uid)), Ticket.site_id.isnot(None))),
    )


def public_message_condition() -> Any:
    return TicketMessage.is_internal.is_(False)


def public_attachment_condition(user_id: int) -> Any:
    """A customer's public files: those they uploaded themselves (attachments have no public flag)."""
    return Attachment.uploaded_by_id == user_id


def public_event_condition(user_id: int) -> Any:
    """The history entries a customer reads: nothing internal (R26).

    The opening; changes of PUBLIC_EVENT_FIELDS; PUBLIC_ACTIONS; the entry of a message only when the
    ticket has a public message of that author with that text; the entry of a file only when it is one of
    the customer's public files. Never internal notes, assignees, service orders nor grouping.
    """
    public_message = exists().where(
        TicketMessage.ticket_id == TicketEvent.ticket_id,
        public_message_condition(),
        TicketMessage.author_id.is_not_distinct_from(TicketEvent.user_id),
        func.substr(TicketMessage.body, 1, 500) == TicketEvent.new_value,
    )
    public_file = exists().where(
        Attachment.ticket_id == TicketEvent.ticket_id,
        Attachment.filename == TicketEvent.new_value,
        public_attachment_condition(user_id),
    )
    return or_(
        TicketEvent.kind == "created",
        and_(TicketEvent.kind == "field", TicketEvent.field.in_(PUBLIC_EVENT_FIELDS)),
        and_(TicketEvent.kind == "action", TicketEvent.field.in_(PUBLIC_ACTIONS)),
        and_(TicketEvent.kind == "message", public_message),
        and_(TicketEvent.kind == "attachment", public_file),
    )


def event_condition(user: Any) -> Optional[Any]:
    """History: a technician's whole tickets; a customer's public entries of their own tickets."""
    return _scope(
        user,
        technician=lambda uid: TicketEvent.ticket_id.in_(_order_tickets(uid)),
        customer=lambda uid: and_(TicketEvent.ticket_id.in_(_own_tickets(uid)), public_event_condition(uid)),
    )


def message_condition(user: Any) -> Optional[Any]:
    """Messages: a technician's whole tickets (notes included); a customer's public messages."""
    return _scope(
        user,
        technician=lambda uid: TicketMessage.ticket_id.in_(_order_tickets(uid)),
        customer=lambda uid: and_(TicketMessage.ticket_id.in_(_own_tickets(uid)), public_message_condition()),
    )


def attachment_condition(user: Any) -> Optional[Any]:
    """Files: a technician's whole tickets; a customer's public files of their own tickets."""
    return _scope(
        user,
        technician=lambda uid: Attachment.ticket_id.in_(_order_tickets(uid)),
        customer=lambda uid: and_(Attachment.ticket_id.in_(_own_tickets(uid)), public_attachment_condition(uid)),
    )


def user_condition(user: Any) -> Optional[Any]:
    """Users: staff see everyone; a technician or a customer only themselves."""
    return _scope(user, technician=lambda uid: User.id == uid, customer=lambda uid: User.id == uid)


def option_condition(model: type, user: Any) -> Optional[Any]:
    """Configuration options (subjects, statuses, channels …): staff and technicians all; a customer only the
    active subjects offered in the portal (R30)."""
    if not _authenticated(user):
        return false()
    roles = role_names(user)
    if sees_all_tickets(user) or ROLE_TECHNICIAN in roles:
        return None
    if model is Subject and ROLE_CUSTOMER in roles:
        return and_(Subject.portal_available.is_(True), Subject.active.is_(True))
    return false()


def _customer_part(model: Any) -> Callable[[Any], Optional[Any]]:
    """Phones, e-mails and addresses follow their customer."""

    def condition(user: Any) -> Optional[Any]:
        scope = customer_condition(user)
        return None if scope is None else model.customer_id.in_(select(Customer.id).where(scope))

    return condition


RULES: dict[type, Callable[[Any], Optional[Any]]] = {
    Ticket: ticket_condition,
    ServiceOrder: service_order_condition,
    Customer: customer_condition,
    CustomerPhone: _customer_part(CustomerPhone),
    CustomerEmail: _customer_part(CustomerEmail),
    CustomerAddress: _customer_part(CustomerAddress),
    Contract: contract_condition,
    Site: site_condition,
    TicketEvent: event_condition,
    TicketMessage: message_condition,
    Attachment: attachment_condition,
    User: user_condition,
}


def condition_for(model: type, user: Any) -> Optional[Any]:
    """The rows of ``model`` the user may see: a SQL condition, or None for all."""
    rule = RULES.get(model)
    return rule(user) if rule is not None else option_condition(model, user)


def valid_id(pk: Any) -> bool:
    """Whether a value can be a record's id (an integer the id column holds): else it is "not found"."""
    return isinstance(pk, int) and not isinstance(pk, bool) and 0 < pk <= MAX_ID


def can_see(session: Session, user: Any, model: type, pk: Any) -> bool:
    """Whether the record exists and the user may see it (else every door answers 404)."""
    if not valid_id(pk):
        return False
    primary = model.__mapper__.primary_key[0]
    query = select(primary).where(primary == pk)
    condition = condition_for(model, user)
    if condition is not None:
        query = query.where(condition)
    return session.scalar(query) is not None


def can_see_ticket(session: Session, user: Any, ticket_id: int) -> bool:
    return can_see(session, user, Ticket, ticket_id)


def portal_customer(session: Session, user: Any) -> Customer:
    """The customer record of a portal user (Assinante)."""
    customer = session.scalar(select(Customer).where(Customer.portal_user_id == getattr(user, "id", None)))
    if customer is None:
        raise NotAllowed(_l("Seu usuário não está vinculado a um cadastro de cliente."), "customer")
    return customer


def check_can_open_for(session: Session, user: Any, ticket: Ticket) -> None:
    """A user limited to their own tickets (Assinante) opens tickets only for their own customer record."""
    if sees_all_tickets(user):
        return
    customer_id = ticket.customer.id if ticket.customer is not None else ticket.customer_id
    owned = customer_id is not None and session.scalar(
        select(Customer.id).where(Customer.id == customer_id, Customer.portal_user_id == getattr(user, "id", None))
    )
    if not owned:
        raise NotAllowed(_l("Você só pode abrir atendimentos para o seu próprio cadastro."), "customer")


# ---------------------------------------------------------------- what a customer sets and reads


def check_customer_fields(data: Any, allowed: Iterable[str]) -> None:
    """Refuse (422) the first field of a customer's body that only the staff may set (R30)."""
    from app.domain.ticket_fields import FIELD_LABELS
    from app.labels import COLUMN_LABELS

    if not isinstance(data, dict):
        raise ValidationError(_l("O corpo da requisição deve ser um objeto JSON."))
    allowed = set(allowed)
    for name in data:
        if name not in allowed:
            label = FIELD_LABELS.get(name) or COLUMN_LABELS.get(name) or name
            raise NotForCustomers(
                _l("O campo “%(label)s” (%(field)s) não pode ser informado pelo assinante.",
                   label=label, field=name), str(name))


def check_customer_update(ticket: Ticket, data: Any) -> None:
    """A customer changes only the rating, and only of a resolved ticket (R30)."""
    check_customer_fields(data, CUSTOMER_UPDATE_FIELDS)
    rated = [name for name in ("rating", "rating_comment") if name in data]
    if rated and (ticket.status is None or ticket.status.category != "resolved"):
        raise NotForCustomers(_l("Só é possível avaliar um atendimento resolvido."), rated[0])


def public_data(rows: Any, user: Any, hidden: Iterable[str] = ()) -> Any:
    """A customer's copy of API data (one dict or a list): no staff-only keys, no other person."""
    if isinstance(rows, list):
        return [public_data(row, user, hidden) for row in rows]
    if not isinstance(rows, dict):
        return rows
    own_id = getattr(user, "id", None)
    data = {key: value for key, value in rows.items() if key not in hidden}
    for key in PERSON_KEYS:
        person = data.get(key)
        if isinstance(person, dict) and person.get("id") != own_id:
            data[key] = None
    return data


# ---------------------------------------------------------------- FAB filters


class _ScopeFilter(BaseFilter):
    name = "scope"
    arg_name = "scope"

    def condition(self, user: Any) -> Optional[Any]:
        raise NotImplementedError

    def apply(self, query: Any, value: Any) -> Any:
        condition = self.condition(getattr(g, "user", None))
        return query if condition is None else query.filter(condition)


class ScopeFilter(_ScopeFilter):
    """Limit a view's, an API's or a related look-up's query to the rows of its model the user may see."""

    def condition(self, user: Any) -> Optional[Any]:
        return condition_for(self.datamodel.obj, user)


SCOPE = [["id", ScopeFilter, None]]
"""``base_filters`` (and query-rel filters) of any model: what the current user may see."""


class AssignedToMeFilter(_ScopeFilter):
    """Tickets where the current user is one of the assignees."""

    def condition(self, user: Any) -> Optional[Any]:
        return assigned_to(user)


def assigned_to(user: Any) -> Any:
    if not _authenticated(user):
        return false()
    return Ticket.id.in_(select(ticket_assignee.c.ticket_id).where(ticket_assignee.c.user_id == user.id))


def ticket_list_scope(user: Any, mine: bool = False) -> Optional[Any]:
    """The tickets a list shows before any filter: all the user may see, or only those assigned to them."""
    condition = ticket_condition(user)
    if not mine:
        return condition
    assigned = assigned_to(user)
    return assigned if condition is None else and_(condition, assigned)
