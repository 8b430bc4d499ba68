"""Ticket files (upload and download of attachments) and the printable ticket (HTML page and PDF)."""
from __future__ import annotations

import os
from typing import Any, Optional

from flask import Response, abort, current_app, flash, redirect, request, send_from_directory, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext

from app.domain import attachments, printing
from app.domain.access import can_see, can_see_ticket
from app.domain.errors import DomainError, NotAllowed
from app.domain.params import get_parameters
from app.extensions import db
from app.models import Attachment, Ticket
from app.pages.responses import pdf_download, private
from app.viewbase import current_user

MB = 1024 * 1024


def _visible_ticket(ticket_id: int) -> Ticket:
    """The ticket, or 404 for a user who may not see it (never tell that it exists)."""
    ticket = db.session.get(Ticket, ticket_id)
    if ticket is None or not can_see_ticket(db.session, current_user(), ticket_id):
        abort(404)
    return ticket


def attachment_response(attachment: Attachment) -> Optional[Response]:
    """The stored file of an attachment, sent as a download that no browser runs; None when it is missing."""
    folder = current_app.config["UPLOAD_FOLDER"]
    if not os.path.isfile(os.path.join(folder, attachment.stored_name)):
        return None
    response = send_from_directory(
        folder, attachment.stored_name, as_attachment=True, download_name=attachment.filename,
        mimetype=attachment.content_type, max_age=0,
    )
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return private(response)


def upload_limits() -> dict[str, Any]:
    """What the upload form shows: the effective size limit in MB and the allowed extensions."""
    params = get_parameters(db.session)
    server_mb = (current_app.config.get("MAX_CONTENT_LENGTH") or 0) // MB
    max_mb = params.attachment_max_mb
    if server_mb and server_mb < max_mb:
        max_mb = server_mb
    return {"max_mb": max_mb, "extensions": attachments.allowed_extensions(params)}


class TicketFileView(BaseView):
    """Attach files to a ticket and download them; files live outside the static web root."""

    route_base = "/ticketfile"
    default_view = "upload"

    @expose("/<int:ticket_id>/upload", methods=["GET", "POST"])
    @has_access
    @permission_name("upload")
    def upload(self, ticket_id: int) -> Any:
        ticket = _visible_ticket(ticket_id)
        if request.method == "GET":
            return self.render_template(
                "ticket_files/upload.html", ticket=ticket, limits=upload_limits(),
                files=list(ticket.attachments), title=gettext("Anexar arquivo"),
            )
        form_url = url_for("TicketFileView.upload", ticket_id=ticket_id)
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            flash(gettext("Selecione um arquivo para anexar."), "danger")
            return redirect(form_url)
        folder = current_app.config["UPLOAD_FOLDER"]
        try:
            attachment = attachments.add_attachment(
                db.session, ticket, current_user(), upload.filename, upload.stream, folder
            )
        except DomainError as error:
            db.session.rollback()
            flash(error.message, "danger")
            return redirect(form_url)
        try:
            db.session.commit()
        except Exception:
            db.session.rollback()
            attachments.remove_stored_file(folder, attachment.stored_name)
            raise
        flash(gettext("Arquivo anexado."), "success")
        return redirect(ticket_url(ticket_id, "files"))

    @expose("/download/<int:attachment_id>")
    @has_access
    @permission_name("download")
    def download(self, attachment_id: int) -> Any:
        # the file's own scope (a customer: only their public files), not just its ticket's
        if not can_see(db.session, current_user(), Attachment, attachment_id):
            abort(404)
        try:
            attachment, _path = attachments.download_path(db.session, current_user(), attachment_id,
                                                           current_app.config["UPLOAD_FOLDER"])
        except NotAllowed:
            abort(404)
        response = attachment_response(attachment)
        if response is None:
            abort(404)
        return response


class TicketPrintView(BaseView):
    """A clean printable page of a ticket and the same content as a PDF."""

    route_base = "/ticketprint"
    default_view = "page"

    def _data(self, ticket_id: int) -> dict[str, Any]:
        try:
            return printing.ticket_print_data(db.session, current_user(), ticket_id)
        except NotAllowed:
            abort(404)

    @expose("/<int:ticket_id>")
    @has_access
    @permission_name("print")
    def page(self, ticket_id: int) -> Any:
        data = self._data(ticket_id)
        return private(Response(self.render_template("ticket_files/print.html", data=data)))

    @expose("/<int:ticket_id>/pdf")
    @has_access
    @permission_name("print")
    def pdf(self, ticket_id: int) -> Any:
        data = self._data(ticket_id)
        return pdf_download(printing.build_pdf(data), printing.pdf_filename(data))


def register(appbuilder: Any) -> None:
    """Add the file and print views (no menu: they are reached from the ticket)."""
    appbuilder.add_view_no_menu(TicketFileView)
    appbuilder.add_view_no_menu(TicketPrintView)
    current_app.jinja_env.globals.setdefault("attachment_limits", upload_limits)


def ticket_url(ticket_id: int, tab: str) -> str:
    """The ticket's workspace tab for who may edit it, its page otherwise."""
    from app.extensions import appbuilder

    if appbuilder.sm.has_access("can_edit", "TicketView"):
        return url_for("TicketView.edit", pk=ticket_id) + f"#{tab}"
    return url_for("TicketView.show", pk=ticket_id)
