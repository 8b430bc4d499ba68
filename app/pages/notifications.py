"""Notifications in the back office: the administrator's outbox and templates, the agent's e-mail and protocol."""
from __future__ import annotations

import uuid
from typing import Any

from flask import abort, current_app, flash, jsonify, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_appbuilder.actions import action
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext, lazy_gettext as _l
from sqlalchemy import select

from app.domain import notifications
from app.domain.access import can_see_ticket
from app.domain.errors import DomainError
from app.domain.labels import choice_label
from app.domain.notifications import staff, templates
from app.domain.notifications.channels import configured
from app.extensions import db
from app.forms import ReadOnlyField
from app.labels import COLUMN_LABELS
from app.models import Attachment, MessageTemplate, Notification, Ticket
from app.viewbase import AtendeInterface as Interface, AtendeModelView, current_user

OUTBOX_LABELS = {**COLUMN_LABELS, "channel": _l("Canal"), "subject": _l("Assunto do e-mail"), "body": _l("Texto"),
                 "created_at": _l("Criada em"), "created_by": _l("Criada por"), "kind": _l("Tipo de mensagem")}


class ChoiceReadOnlyField(ReadOnlyField):
    """A stored code shown with its pt-BR label, never written back."""

    def __init__(self, *args: Any, choice: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.choice = choice

    def _value(self) -> str:
        return choice_label(self.choice, self.data) if self.data is not None else ""


class NotificationView(AtendeModelView):
    """The outbox: what was queued, sent, or is still waiting, with the last error; "Reenviar" queues a copy."""

    datamodel = Interface(Notification)
    base_permissions = ["can_list", "can_show", "can_resend"]
    label_columns = OUTBOX_LABELS
    list_template = "notifications/outbox_list.html"
    list_columns = ["created_at", "kind", "channel", "recipient", "ticket", "status", "attempts", "last_error",
                    "sent_at"]
    show_columns = ["created_at", "created_by", "kind", "channel", "recipient", "ticket", "customer", "subject",
                    "body", "status", "attempts", "next_attempt_at", "last_error", "claimed_at", "sent_at",
                    "resend_of", "idempotency_key"]
    search_columns = ["status", "channel", "kind", "recipient", "created_at"]
    order_columns = ["created_at", "status", "attempts", "sent_at"]
    base_order = ("id", "desc")
    choice_kinds = {"kind": "notification_kind", "channel": "notification_channel", "status": "notification_status"}

    @action("resend", _l("Reenviar"), _l("Colocar as notificações selecionadas na fila de novo?"), "fa-redo")
    def resend(self, items: Any) -> Any:
        items = items if isinstance(items, list) else [items]
        done, refused = 0, []
        for item in items:
            original = db.session.get(Notification, item.id)
            try:
                notifications.resend(db.session, original, current_user())
                db.session.commit()
                done += 1
            except DomainError as error:
                db.session.rollback()
                refused.append(f"#{item.id}: {error.message}")
        if done:
            flash(gettext("%(count)d notificação(ões) colocada(s) na fila de novo.", count=done), "success")
        for reason in refused:
            flash(reason, "warning")
        return redirect(url_for(".list"))

    def render_template(self, template: str, **kwargs: Any) -> Any:
        if template == self.list_template:
            kwargs["outbox"] = {"counts": notifications.counts(db.session), "email": configured("email")}
        return super().render_template(template, **kwargs)


class MessageTemplateView(AtendeModelView):
    """The texts of the notifications (sandboxed Jinja), edited with a preview on sample data."""

    datamodel = Interface(MessageTemplate)
    base_permissions = ["can_list", "can_show", "can_edit", "can_preview", "can_restore_default"]
    label_columns = {**OUTBOX_LABELS, "body": _l("Texto do modelo")}
    list_columns = ["kind", "channel", "subject", "updated_at"]
    show_columns = ["kind", "channel", "subject", "body", "updated_at"]
    edit_columns = ["kind", "channel", "subject", "body"]
    base_order = ("id", "asc")
    edit_template = "notifications/template_edit.html"
    description_columns = {"subject": _l("Somente para e-mail; o SMS não tem assunto.")}
    choice_kinds = {"kind": "notification_kind", "channel": "notification_channel"}
    edit_form_extra_fields = {
        "kind": ChoiceReadOnlyField(_l("Tipo de mensagem"), choice="notification_kind"),
        "channel": ChoiceReadOnlyField(_l("Canal"), choice="notification_channel"),
    }
    rules_update = staticmethod(lambda item: templates.check(item))

    @action("restore_default", _l("Restaurar o texto padrão"), _l("Voltar os modelos selecionados ao texto padrão?"),
            "fa-undo")
    def restore_default(self, items: Any) -> Any:
        for item in items if isinstance(items, list) else [items]:
            templates.restore_default(db.session, db.session.get(MessageTemplate, item.id))
        db.session.commit()
        flash(gettext("Texto padrão restaurado."), "success")
        return redirect(url_for(".list"))

    @expose("/list/")
    @has_access
    def list(self) -> Any:
        """Every kind and channel is listed: the shipped defaults are written the first time."""
        if templates.ensure_defaults(db.session):
            db.session.commit()
        return super().list()

    @expose("/preview/<int:pk>", methods=["POST"])
    @has_access
    @permission_name("preview")
    def preview(self, pk: int) -> Any:
        """The edited texts rendered on sample data, or the pt-BR reason they do not render."""
        item = self.datamodel.get(pk)
        if item is None:
            abort(404)
        try:
            text = templates.preview(item.kind, item.channel, request.form.get("subject"),
                                     request.form.get("body", ""))
        except DomainError as error:
            return jsonify(ok=False, message=error.message, field=error.field)
        return jsonify(ok=True, subject=text.subject, body=text.body)

    def render_template(self, template: str, **kwargs: Any) -> Any:
        if template == self.edit_template:
            kwargs["variables"] = [(name, str(label)) for name, label in templates.VARIABLES.items()]
        return super().render_template(template, **kwargs)


class TicketNotifyView(BaseView):
    """From the ticket, for staff: "Enviar e-mail ao cliente" and "Reenviar protocolo" (the action permission)."""

    route_base = "/ticketnotify"
    class_permission_name = "TicketActionView"
    method_permission_name = {"email": "act", "protocol": "act"}
    default_view = "email"

    def _ticket(self, ticket_id: int) -> Ticket:
        ticket = db.session.get(Ticket, ticket_id)
        if ticket is None or not can_see_ticket(db.session, current_user(), ticket_id):
            abort(404)
        return ticket

    def _back(self, ticket_id: int, tab: str = "notifications") -> Any:
        return redirect(url_for("TicketView.edit", pk=ticket_id) + f"#{tab}")

    @expose("/<int:ticket_id>/email", methods=["GET", "POST"])
    @has_access
    def email(self, ticket_id: int) -> Any:
        ticket = self._ticket(ticket_id)
        reason = staff.refusal(db.session, ticket, current_user(), "email")
        if reason is not None:
            flash(reason, "warning")
            return self._back(ticket_id)
        attachments = list(db.session.scalars(select(Attachment).where(Attachment.ticket_id == ticket_id)
                                              .order_by(Attachment.id)))
        error_field = None
        if request.method == "POST":
            try:
                staff.email_customer(db.session, ticket, current_user(), request.form.get("subject", ""),
                                      request.form.get("text", ""), request.form.getlist("attachment"),
                                      request.form.get("request_key"))
                db.session.commit()
            except DomainError as error:
                db.session.rollback()
                flash(error.message, "danger")
                error_field = error.field
                ticket = self._ticket(ticket_id)
            else:
                flash(gettext("E-mail colocado na fila de envio para %(email)s.",
                              email=notifications.primary_email(db.session, ticket.customer)), "success")
                return self._back(ticket_id)
        return self.render_template(
            "notifications/email_form.html", ticket=ticket, attachments=attachments, error_field=error_field,
            recipient=notifications.primary_email(db.session, ticket.customer) if ticket.customer else "",
            request_key=request.form.get("request_key") or uuid.uuid4().hex, back=url_for("TicketView.edit",
                                                                                          pk=ticket_id),
            title=gettext("Enviar e-mail ao cliente"))

    @expose("/<int:ticket_id>/protocol", methods=["POST"])
    @has_access
    def protocol(self, ticket_id: int) -> Any:
        ticket = self._ticket(ticket_id)
        try:
            reason = staff.refusal(db.session, ticket, current_user(), "protocol")
            if reason is not None:
                raise DomainError(reason)
            queued = notifications.resend_protocol(db.session, ticket, current_user(), request.form.get("request_key"))
            db.session.commit()
        except DomainError as error:
            db.session.rollback()
            flash(error.message, "danger")
            return self._back(ticket_id)
        if queued:
            flash(gettext("Protocolo %(protocol)s colocado na fila de envio para %(to)s.", protocol=ticket.protocol,
                          to=", ".join(n.recipient for n in queued)), "success")
        return self._back(ticket_id)


def register(appbuilder: Any) -> None:
    config = {"category": "Configuration", "category_label": _l("Cadastros"), "category_icon": "fa-cogs"}
    appbuilder.add_view(MessageTemplateView, "MessageTemplates", label=_l("Modelos de mensagem"),
                        icon="fa-envelope-open-text", **config)
    appbuilder.add_view(NotificationView, "Outbox", label=_l("Fila de notificações"), icon="fa-paper-plane",
                        **config)
    appbuilder.add_view_no_menu(TicketNotifyView)
    current_app.jinja_env.globals["new_request_key"] = lambda: uuid.uuid4().hex
