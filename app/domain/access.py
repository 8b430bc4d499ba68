"""Which tickets and service orders a user may see: one rule for views, actions, API and downloads."""
from __future__ import annotations

from typing import Any, Optional

from flask import g
from flask_appbuilder.models.filters import BaseFilter
from sqlalchemy import and_, exists, false, select
from sqlalchemy.orm import Session

from app.models import Customer, ServiceOrder, Ticket, ticket_assignee
from app.security import ROLE_CUSTOMER, ROLE_TECHNICIAN, role_names, sees_all_tickets


def ticket_condition(user: Any) -> Optional[Any]:
    """Return the SQL condition limiting tickets to the user's, or None for all."""
    if user is None or not getattr(user, "is_authenticated", False):
        return false()
    if sees_all_tickets(user):
        return None
    roles = role_names(user)
    conditions = []
    if ROLE_TECHNICIAN in roles:
        conditions.append(
            exists().where(ServiceOrder.ticket_id == Ticket.id, ServiceOrder.technician_id == user.id)
        )
    if ROLE_CUSTOMER in roles:
        conditions.append(
            Ticket.customer_id.in_(select(Customer.id).where(Customer.portal_user_id == user.id))
        )
    if not conditions:
        return false()
    from sqlalchemy import or_

    return or_(*conditions)


def service_order_condition(user: Any) -> Optional[Any]:
    if user is None or not getattr(user, "is_authenticated", False):
        return false()
    if sees_all_tickets(user):
        return None
    if ROLE_TECHNICIAN in role_names(user):
        return ServiceOrder.technician_id == user.id
    return false()


def can_see_ticket(session: Session, user: Any, ticket_id: int) -> bool:
    condition = ticket_condition(user)
    query = select(Ticket.id).where(Ticket.id == ticket_id)
    if condition is not None:
        query = query.where(condition)
    return session.scalar(query) is not None


def check_can_open_for(session: Session, user: Any, ticket: Ticket) -> None:
    """A user limited to their own tickets (Assinante) opens tickets only for their own customer record."""
    if sees_all_tickets(user):
        return
    from flask_babel import lazy_gettext as _l

    from app.domain.errors import NotAllowed

    customer_id = ticket.customer.id if ticket.customer is not None else ticket.customer_id
    owned = customer_id is not None and session.scalar(
        select(Customer.id).where(Customer.id == customer_id, Customer.portal_user_id == getattr(user, "id", None))
    )
    if not owned:
        raise NotAllowed(_l("Você só pode abrir atendimentos para o seu próprio cadastro."), "customer")


class _ScopeFilter(BaseFilter):
    name = "scope"
    arg_name = "scope"

    def condition(self, user: Any) -> Optional[Any]:
        raise NotImplementedError

    def apply(self, query: Any, value: Any) -> Any:
        condition = self.condition(getattr(g, "user", None))
        return query if condition is None else query.filter(condition)


class TicketScopeFilter(_ScopeFilter):
    """Limit any query that involves tickets to the current user's visible tickets."""

    def condition(self, user: Any) -> Optional[Any]:
        condition = ticket_condition(user)
        if condition is None or self.datamodel.obj is Ticket:
            return condition
        return self.datamodel.obj.ticket_id.in_(select(Ticket.id).where(condition))


class ServiceOrderScopeFilter(_ScopeFilter):
    def condition(self, user: Any) -> Optional[Any]:
        return service_order_condition(user)


class AssignedToMeFilter(_ScopeFilter):
    """Tickets where the current user is one of the assignees."""

    def condition(self, user: Any) -> Optional[Any]:
        return assigned_to(user)


def assigned_to(user: Any) -> Any:
    if user is None or not getattr(user, "is_authenticated", False):
        return false()
    return Ticket.id.in_(select(ticket_assignee.c.ticket_id).where(ticket_assignee.c.user_id == user.id))


def ticket_list_scope(user: Any, mine: bool = False) -> Optional[Any]:
    """The tickets a list shows before any filter: all the user may see, or only those assigned to them."""
    condition = ticket_condition(user)
    if not mine:
        return condition
    assigned = assigned_to(user)
    return assigned if condition is None else and_(condition, assigned)
