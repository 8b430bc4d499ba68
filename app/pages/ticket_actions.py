"""Actions on one ticket through the form door: finalize, cancel, reiterate, complaint, reopen."""
from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_appbuilder.security.decorators import permission_name
from sqlalchemy import select

from app.domain.actions import ACTIONS
from app.domain.access import can_see_ticket
from app.domain.errors import DomainError
from app.extensions import db
from app.models import ClosingReason, Ticket
from app.viewbase import current_user


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
        if request.method == "POST":
            try:
                action.run(db.session, ticket, current_user(), request.form)
                db.session.commit()
            except DomainError as error:
                db.session.rollback()
                flash(error.message, "danger")
                return redirect(url_for(".act", ticket_id=ticket_id, name=name))
            flash(str(action.done), "success")
            return redirect(url_for("TicketView.show", pk=ticket_id))
        reasons = db.session.scalars(select(ClosingReason).where(ClosingReason.active.is_(True))
                                     .order_by(ClosingReason.name)).all()
        return self.render_template("ticket_actions/form.html", ticket=ticket, name=name, action=action,
                                    reasons=reasons, title=str(action.title))


def register(appbuilder: Any) -> None:
    appbuilder.add_view_no_menu(TicketActionView)
