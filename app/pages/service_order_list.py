"""The service-order list page (OS) and its mass actions; rules live in app.domain.service_orders."""
from __future__ import annotations

from typing import Any, Optional

from flask import flash, request
from flask_appbuilder import expose, has_access
from flask_appbuilder.models.filters import BaseFilter
from flask_appbuilder.security.sqla.models import Role
from flask_babel import gettext, lazy_gettext as _l, ngettext
from sqlalchemy import and_, select
from sqlalchemy.orm import joinedload

from app.domain import service_orders
from app.domain.errors import DomainError
from app.domain.labels import choice_label
from app.extensions import db
from app.pages.listing import CriteriaListMixin, MassAction
from app.models import OPEN_SERVICE_ORDER_STATUSES, Contract, ServiceOrder, Site, Ticket, User
from app.security import ROLE_TECHNICIAN
from app.viewbase import current_user

PREVIEW_LIMIT = 50

MASS_ASSIGN = MassAction("mass_assign", _l("Atribuir técnico"), "fa-user-cog")
MASS_RESCHEDULE = MassAction("mass_reschedule", _l("Reagendar"), "fa-calendar-alt")
MASS_CLOSE_ORDERS = MassAction("mass_close_orders", _l("Finalizar ou cancelar"), "fa-check-circle")
SERVICE_ORDER_MASS_ACTIONS = [MASS_ASSIGN, MASS_RESCHEDULE, MASS_CLOSE_ORDERS]
MASS_PERMISSIONS = [f"can_{action.name}" for action in SERVICE_ORDER_MASS_ACTIONS]


def technician_condition() -> Any:
    """Users an OS accepts as technician: active, with the Tecnico role (the rule of service_orders._check_technician)."""
    return and_(User.active.is_(True), User.roles.any(Role.name == ROLE_TECHNICIAN))


def technician_options() -> list[tuple[int, str]]:
    rows = db.session.execute(select(User.id, User.first_name, User.last_name).where(technician_condition())
                              .order_by(User.first_name, User.last_name))
    return [(row.id, f"{row.first_name} {row.last_name}".strip()) for row in rows]


class ActiveTechnicianFilter(BaseFilter):
    """Limits the technician select of the OS forms to active technicians."""

    name = "technician"
    arg_name = "technician"

    def apply(self, query: Any, value: Any) -> Any:
        return query.filter(technician_condition())


class ServiceOrderListMixin(CriteriaListMixin):
    """The OS list: scope, eager page, and mass assign / reschedule / close through the domain."""

    mine = False  # "Minhas OS": only the orders of the current user, whatever their role

    def scope(self, user: Any) -> Optional[Any]:
        return service_orders.list_scope(user, self.mine)

    def page_rows(self, query: Any) -> tuple[list, dict]:
        ticket = joinedload(ServiceOrder.ticket)
        rows = db.session.scalars(query.options(
            ticket.joinedload(Ticket.customer),
            ticket.joinedload(Ticket.contract).joinedload(Contract.city),
            ticket.joinedload(Ticket.site).joinedload(Site.city),
            joinedload(ServiceOrder.type), joinedload(ServiceOrder.technician),
        )).unique().all()
        sm = self.appbuilder.sm
        ticket_link = ("TicketView.edit" if sm.has_access("can_edit", "TicketView")
                       else "TicketView.show" if sm.has_access("can_show", "TicketView") else None)
        return rows, {
            "ticket_link": ticket_link,
            "can_edit": self.can("edit"),
            "can_show": self.can("show"),
            "open_statuses": OPEN_SERVICE_ORDER_STATUSES,
        }

    @expose("/list/")
    @has_access
    def list(self) -> Any:
        return self.list_redirect() or self.render_list()

    # ------------------------------------------------------------ mass actions
    def _preview(self, ids: list[int]) -> list[str]:
        query = (select(ServiceOrder.id, Ticket.protocol).join(Ticket, Ticket.id == ServiceOrder.ticket_id)
                 .where(ServiceOrder.id.in_(ids[:PREVIEW_LIMIT])))
        scope = self.scope(current_user())
        if scope is not None:
            query = query.where(scope)
        return [f"#{row.id} ({row.protocol})" for row in db.session.execute(query.order_by(ServiceOrder.id))]

    def _form(self, template: str, ids: list[int], **context: Any) -> Any:
        return self.render_template(template, title=context.pop("title"), labels=self._preview(ids),
                                    **self.mass_form_context(ids), **context)

    def _attempt(self, template: str, ids: list[int], context: dict, run: Any) -> Any:
        """Show the form; on confirm=1 run or queue the mass change, or show the form again with the error."""
        if request.form.get("confirm"):
            try:
                return run()
            except DomainError as error:
                db.session.rollback()
                flash(error.message, "danger")
        return self._form(template, ids, **context)

    @expose("/mass_assign/", methods=["POST"])
    @has_access
    def mass_assign(self) -> Any:
        ids = self.selected_ids()

        def run() -> Any:
            technician = service_orders.technician_from(db.session, request.form)
            name = f"{technician.first_name} {technician.last_name}".strip() if technician else ""

            def text(n: int) -> str:
                if technician is None:
                    return ngettext("%(num)d OS ficou sem técnico", "%(num)d OS ficaram sem técnico", n)
                return ngettext("%(num)d OS atribuída a %(name)s", "%(num)d OS atribuídas a %(name)s", n, name=name)

            return self.start_mass("order_assign", ids, {"technician": request.form.get("technician", "")}, text)

        return self._attempt("lists/service_order_mass_assign.html", ids, dict(
            title=gettext("Atribuir técnico às ordens de serviço"), technicians=technician_options()), run)

    @expose("/mass_reschedule/", methods=["POST"])
    @has_access
    def mass_reschedule(self) -> Any:
        ids = self.selected_ids()

        def run() -> Any:
            params = {name: request.form.get(name, "") for name in ("scheduled_start", "scheduled_end")}
            return self.start_mass("order_reschedule", ids, params, lambda n: ngettext(
                "%(num)d OS reagendada", "%(num)d OS reagendadas", n))

        return self._attempt("lists/service_order_mass_reschedule.html", ids,
                             dict(title=gettext("Reagendar ordens de serviço")), run)

    @expose("/mass_close_orders/", methods=["POST"])
    @has_access
    def mass_close_orders(self) -> Any:
        ids = self.selected_ids()
        statuses = [(code, choice_label("service_order_status", code)) for code in service_orders.CLOSED_STATUSES]

        def run() -> Any:
            status = request.form.get("status", "")

            def text(n: int) -> str:
                if status == "cancelled":
                    return ngettext("%(num)d OS cancelada", "%(num)d OS canceladas", n)
                return ngettext("%(num)d OS finalizada", "%(num)d OS finalizadas", n)

            params = {"closing_notes": request.form.get("closing_notes", ""), "status": status}
            return self.start_mass("order_close", ids, params, text)

        return self._attempt("lists/service_order_mass_close.html", ids,
                             dict(title=gettext("Finalizar ou cancelar ordens de serviço"), statuses=statuses), run)
