"""Actions on one ticket through the form door: finalize, cancel, reiterate, complaint, reopen."""
from __future__ import annotations

from typing import Any, Optional

from flask import abort, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_appbuilder.security.decorators import permission_name
from sqlalchemy import select

from app.domain.access import can_see_ticket
from app.domain.actions import ACTIONS, available_actions
from app.domain.errors import DomainError
from app.domain.service_orders import open_service_orders
from app.extensions import db
from app.models import ClosingReason, Ticket
from app.viewbase import current_user

CLOSING_ACTIONS = ("finalize", "cancel")


class TicketActionView(BaseView):
    route_base = "/ticketaction"
    default_view = "act"

    @expose("/<int:ticket_id>/<name>", methods=["GET", "POST"])
    @has_access
    @permission_name("act")
    def act(self, ticket_id: int, name: str) -> Any:
        ticket = db.session.get(Ticket, ticket_id)
        if name not in ACTIONS or ticket is None or not can_see_ticket(db.session, current_user(), ticket_id):
            abort(404)
        action = ACTIONS[name]
        if request.method == "GET":
            reason = available_actions(db.session, ticket, current_user())[name]
            if reason is not None:
                flash(reason, "warning")
                return redirect(self.workspace_url(ticket_id))
            return self._form(ticket, name)
        try:
            action.run(db.session, ticket, current_user(), request.form)
            db.session.commit()
        except DomainError as error:
            db.session.rollback()
            flash(error.message, "danger")
            return self._form(db.session.get(Ticket, ticket_id), name, error.field)
        flash(str(action.done), "success")
        return redirect(self.workspace_url(ticket_id))

    def workspace_url(self, ticket_id: int) -> str:
        """The ticket's workspace, or its read-only page for a user who cannot edit tickets."""
        endpoint = "TicketView.edit" if self.appbuilder.sm.has_access("can_edit", "TicketView") else "TicketView.show"
        return url_for(endpoint, pk=ticket_id)

    def _form(self, ticket: Ticket, name: str, error_field: Optional[str] = None) -> Any:
        action = ACTIONS[name]
        reasons = db.session.scalars(select(ClosingReason).where(ClosingReason.active.is_(True))
                                     .order_by(ClosingReason.name)).all() if name == "finalize" else []
        orders = open_service_orders(ticket) if name in CLOSING_ACTIONS else []
        return self.render_template("ticket_actions/form.html", ticket=ticket, name=name, action=action,
                                    reasons=reasons, open_orders=orders, error_field=error_field,
                                    back=self.workspace_url(ticket.id), title=str(action.title))


def register(appbuilder: Any) -> None:
    appbuilder.add_view_no_menu(TicketActionView)
