"""The ticket's workspace: started from the agent's search, saved as the agent types, landed on after Salvar."""
from __future__ import annotations

from typing import Any

from flask import abort, flash, jsonify, redirect, request, url_for
from flask_appbuilder import expose, has_access
from flask_appbuilder.widgets import FormWidget
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext
from sqlalchemy.orm.exc import StaleDataError

from app.domain import diagnostics, tickets
from app.domain.clock import now
from app.domain.errors import DomainError
from app.extensions import db
from app.models import Site, Ticket
from app.viewbase import STALE_MESSAGE, current_user

NOT_AUTOSAVED = ("csrf_token", "expected_version", "protocol")


def is_agent_channel(channel: Any) -> bool:
    """The agent chooses among active channels; the portal's own channel is the portal's (R6, R20)."""
    return bool(channel.active) and not channel.is_portal


class TicketFormWidget(FormWidget):
    template = "ticket/_form.html"


class TicketWorkspaceMixin:
    """Mixed into the ticket ModelViews: start, autosave of drafts, landing on the workspace."""

    choice_rules = {"channel": is_agent_channel}
    edit_widget = TicketFormWidget
    stale_message = tickets.STALE_TICKET

    def pre_update(self, item: Ticket) -> None:
        def register(ticket: Ticket) -> None:
            if ticket.is_draft:
                diagnostics.take(db.session, ticket)
            ticket.is_draft = False
            tickets.update_ticket(db.session, ticket, current_user(), getattr(ticket, "expected_version", None),
                                  version_required=True)

        self._run(register, item)

    def post_update(self, item: Ticket) -> None:
        if getattr(item, "just_grouped", False) and item.grouped_with is not None:
            flash(gettext("Atendimento agrupado com o protocolo %(protocol)s (mesmo assunto e endereço).",
                          protocol=item.grouped_with.protocol), "info")

    def saved_message(self, item: Ticket) -> str:
        return gettext("Atendimento salvo: protocolo %(protocol)s.", protocol=item.protocol)

    def saved_url(self, item: Ticket) -> str:
        return url_for(".edit", pk=item.id)

    @expose("/add", methods=["GET", "POST"])
    @has_access
    def add(self) -> Any:
        """Start a ticket at once: the protocol exists before anything is typed (R1).

        Every "Novo atendimento" leads to the agent's search (customer, then contract); the search posts here.
        """
        if request.method == "GET":
            return redirect(url_for("AgentView.search", **request.args))
        from app.domain.search import customer_and_contract

        form = request.form
        ticket_type = "site" if form.get("type") == "site" else "customer"
        try:
            customer, contract = customer_and_contract(db.session, form.get("customer"), form.get("contract"))
            site = db.session.get(Site, int(form["site"])) if form.get("site", "").isdigit() else None
            ticket = tickets.start_ticket(db.session, current_user(), customer=customer, contract=contract,
                                          ticket_type=ticket_type, site=site)
            diagnostics.take(db.session, ticket)
            db.session.commit()
        except DomainError as error:
            db.session.rollback()
            flash(error.message, "danger")
            return redirect(url_for("AgentView.search", q=form.get("q", "")))
        flash(gettext("Atendimento iniciado: protocolo %(protocol)s.", protocol=ticket.protocol), "info")
        return redirect(url_for(".edit", pk=ticket.id))

    @expose("/autosave/<int:pk>", methods=["POST"])
    @has_access
    @permission_name("edit")
    def autosave(self, pk: int) -> Any:
        """Keep what the agent typed in a draft (R2): every field that is valid so far, no registration rules."""
        ticket = self.datamodel.get(pk, self._base_filters)
        if ticket is None:
            abort(404)
        form = self.edit_form.refresh(request.form)
        self.limit_choices(form, ticket)
        form.validate()
        with db.session.no_autoflush:
            for field in form:
                if field.name in self.edit_columns and field.name not in NOT_AUTOSAVED and not field.errors:
                    field.populate_obj(ticket, field.name)
        try:
            tickets.save_draft(db.session, ticket, current_user(), request.form.get("expected_version"))
            db.session.commit()
        except DomainError as error:
            db.session.rollback()
            return jsonify(message=error.message, field=error.field), error.status
        except StaleDataError:
            db.session.rollback()
            return jsonify(message=str(STALE_MESSAGE)), 409
        return jsonify(version=ticket.version, saved_at=now().strftime("%H:%M"),
                       message=gettext("Rascunho salvo às %(time)s.", time=now().strftime("%H:%M")))
