"""The ticket list page (seed 000) and its mass actions (R14); rules live in app.domain.ticket_mass."""
from __future__ import annotations

from typing import Any, Optional

from flask import flash, request, url_for
from flask_appbuilder import expose, has_access
from flask_babel import gettext, ngettext
from sqlalchemy import case, func, select
from sqlalchemy.orm import joinedload, selectinload

from app.domain import legal_deadline, mass_jobs, ticket_mass
from app.domain.access import ticket_list_scope
from app.domain.errors import DomainError
from app.extensions import db
from app.pages.listing import CriteriaListMixin
from app.models import (
    OPEN_SERVICE_ORDER_STATUSES,
    ClosingReason,
    Department,
    Priority,
    ServiceOrder,
    Subject,
    Ticket,
    TicketStatus,
    User,
)
from app.viewbase import current_user

PREVIEW_LIMIT = 50


def active_options(model: Any) -> list[tuple[int, str]]:
    return [(row.id, row.name) for row in db.session.execute(
        select(model.id, model.name).where(model.active.is_(True)).order_by(model.name))]


def user_options() -> list[tuple[int, str]]:
    return [(row.id, f"{row.first_name} {row.last_name}".strip()) for row in db.session.execute(
        select(User.id, User.first_name, User.last_name).where(User.active.is_(True)).order_by(User.first_name))]


class TicketListMixin(CriteriaListMixin):
    mine = False

    def scope(self, user: Any) -> Optional[Any]:
        return ticket_list_scope(user, self.mine)

    def new_record_link(self) -> Optional[tuple[str, Any]]:
        if not self.appbuilder.sm.has_access("can_search", "AgentView"):
            return None
        return url_for("AgentView.search"), gettext("Novo atendimento")

    def page_rows(self, query: Any) -> tuple[list, dict]:
        rows = db.session.scalars(query.options(
            joinedload(Ticket.status), joinedload(Ticket.customer), joinedload(Ticket.subject),
            joinedload(Ticket.site), selectinload(Ticket.assignees),
        )).unique().all()
        ids = [ticket.id for ticket in rows]
        orders = {}
        if ids:
            open_count = func.sum(case((ServiceOrder.status.in_(OPEN_SERVICE_ORDER_STATUSES), 1), else_=0))
            orders = {row.ticket_id: (int(row.open or 0), row.total) for row in db.session.execute(
                select(ServiceOrder.ticket_id, open_count.label("open"), func.count(ServiceOrder.id).label("total"))
                .where(ServiceOrder.ticket_id.in_(ids)).group_by(ServiceOrder.ticket_id))}
        return rows, {"service_orders": orders, "legal_warning": legal_deadline.warning_hours(db.session),
                      "legal_words": legal_deadline.texts()}

    @expose("/list/")
    @has_access
    def list(self) -> Any:
        return self.list_redirect() or self.render_list()

    # ------------------------------------------------------------ mass actions (R14)
    def _preview(self, ids: list[int]) -> list[str]:
        query = select(Ticket.protocol).where(Ticket.id.in_(ids[:PREVIEW_LIMIT]))
        scope = self.scope(current_user())
        if scope is not None:
            query = query.where(scope)
        return list(db.session.scalars(query.order_by(Ticket.protocol)))

    def _form(self, template: str, ids: list[int], **context: Any) -> Any:
        return self.render_template(template, title=context.pop("title"), protocols=self._preview(ids),
                                    **self.mass_form_context(ids), **context)

    @expose("/mass_edit/", methods=["POST"])
    @has_access
    def mass_edit(self) -> Any:
        ids = self.selected_ids()
        context = dict(
            title=gettext("Editar atendimentos em massa"),
            statuses=active_options(TicketStatus), departments=active_options(Department),
            priorities=active_options(Priority), subjects=active_options(Subject), users=user_options(),
        )
        if request.form.get("confirm"):
            done = self._attempt("ticket_edit", ids, mass_jobs.edit_params(request.form), lambda n: ngettext(
                "%(num)d atendimento alterado", "%(num)d atendimentos alterados", n))
            if done is not None:
                return done
        return self._form("lists/ticket_mass_edit.html", ids, **context)

    @expose("/mass_close/", methods=["POST"])
    @has_access
    def mass_close(self) -> Any:
        ids = self.selected_ids()
        context = dict(title=gettext("Fechar atendimentos em massa"), reasons=active_options(ClosingReason),
                       with_orders=ticket_mass.with_open_service_orders(db.session, ids, self.scope(current_user())))
        if request.form.get("confirm"):
            params = {name: request.form.get(name) for name in ("closing_description", "closing_reason",
                                                                "service_orders")}
            done = self._attempt("ticket_close", ids, params, lambda n: ngettext(
                "%(num)d atendimento fechado", "%(num)d atendimentos fechados", n))
            if done is not None:
                return done
        return self._form("lists/ticket_mass_close.html", ids, **context)

    @expose("/mass_delete_drafts/", methods=["POST"])
    @has_access
    def mass_delete_drafts(self) -> Any:
        ids = self.selected_ids()
        if request.form.get("confirm"):
            done = self._attempt("ticket_delete_drafts", ids, {}, lambda n: ngettext(
                "%(num)d rascunho apagado", "%(num)d rascunhos apagados", n))
            if done is not None:
                return done
        drafts, preview = ticket_mass.delete_preview(db.session, ids, self.scope(current_user()))
        return self.render_template("lists/ticket_mass_delete.html", title=gettext("Apagar rascunhos"),
                                    drafts=drafts, refused=preview.refused, **self.mass_form_context(ids))

    def _attempt(self, kind: str, ids: list[int], params: dict, done_text: Any) -> Optional[Any]:
        """Run or queue the mass action; on a broken choice flash it and return None (the form is shown again)."""
        try:
            return self.start_mass(kind, ids, params, done_text)
        except DomainError as error:
            db.session.rollback()
            flash(error.message, "danger")
            return None
