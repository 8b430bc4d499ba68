"""The staff side of the customer portal: "Reenviar acesso" (seed 003) and "Histórico do cliente" (R26)."""
from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext

from app.domain import access, customer_history
from app.domain.errors import NotAllowed
from app.domain.inputs import parse_id
from app.domain.portal import accounts as portal_accounts
from app.extensions import db
from app.models import Customer, Ticket
from app.pages.responses import pdf_download
from app.viewbase import current_user


def _base_url() -> str:
    return (current_app.config.get("PUBLIC_BASE_URL") or request.host_url).rstrip("/")


def portal_access(customer_id: Any) -> dict[str, Any]:
    """What the customer's record shows about their portal access."""
    pk = parse_id(customer_id)
    customer = db.session.get(Customer, pk) if pk else None
    if customer is None:
        return {}
    user = customer.portal_user
    return {
        "active": user is not None and bool(user.active),
        "created": user is not None,
        "email": portal_accounts.access_email(customer),
        "shared": portal_accounts.shared_emails(db.session, customer),
        "last_login": getattr(user, "last_login", None),
    }


class CustomerAccessView(BaseView):
    """Actions on a customer's record: resend the portal link, produce the history document."""

    route_base = "/cliente"
    class_permission_name = "CustomerView"  # who may see the record produces its history; who may edit it, resends

    def _customer(self, customer_id: int) -> Customer:
        if not access.can_see(db.session, current_user(), Customer, customer_id):
            abort(404)
        return db.session.get(Customer, customer_id)

    @expose("/<int:customer_id>/reenviar-acesso", methods=["POST"])
    @has_access
    @permission_name("edit")
    def resend_access(self, customer_id: int) -> Any:
        """Send the customer a first-access or new-password link to their e-mail on file (seed 003)."""
        customer = self._customer(customer_id)
        back = redirect(url_for("CustomerView.show", pk=customer_id))
        if customer.portal_user is not None and not customer.portal_user.active:
            flash(gettext("O acesso deste cliente à central está desativado: reative o usuário %(user)s antes de "
                          "reenviar.", user=customer.portal_user.username), "warning")
            return back
        link = portal_accounts.issue_link(db.session, customer, _base_url(), requested_by=current_user())
        if link is None:
            flash(gettext("O cliente não tem e-mail cadastrado para receber o acesso (e-mails compartilhados com "
                          "outro cliente não recebem links): cadastre um e-mail e tente de novo."), "warning")
            return back
        db.session.commit()
        if link.purpose == portal_accounts.FIRST_ACCESS:
            flash(gettext("Link de primeiro acesso à central enviado para %(email)s.", email=link.email), "success")
        else:
            flash(gettext("Link para criar uma nova senha enviado para %(email)s.", email=link.email), "success")
        return back

    @expose("/<int:customer_id>/historico.pdf")
    @has_access
    @permission_name("show")
    def history(self, customer_id: int) -> Any:
        """The history of the customer's demands, the same document the customer downloads in the portal (R26)."""
        self._customer(customer_id)
        try:
            data = customer_history.history_data(db.session, current_user(), customer_id)
        except NotAllowed:
            abort(404)
        return pdf_download(customer_history.build_pdf(data), customer_history.pdf_filename(data))

    @expose("/atendimento/<int:ticket_id>/historico.pdf")
    @has_access
    @permission_name("show")
    def ticket_customer_history(self, ticket_id: int) -> Any:
        """From a ticket's workspace: the history of its customer."""
        if not access.can_see_ticket(db.session, current_user(), ticket_id):
            abort(404)
        customer_id = db.session.get(Ticket, ticket_id).customer_id
        if customer_id is None:
            abort(404)
        return self.history(customer_id)


def register(appbuilder: Any) -> None:
    appbuilder.add_view_no_menu(CustomerAccessView)
    current_app.jinja_env.globals.setdefault("portal_access", portal_access)
