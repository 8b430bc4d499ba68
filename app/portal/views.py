"""The customer portal's pages under /central/: login, access links, the customer's tickets and their actions."""
from __future__ import annotations

import logging
import time
from functools import wraps
from typing import Any, Callable, Optional
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext, ngettext
from flask_login import login_user, logout_user
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from app.domain import access, accounts, actions, attachments, customer_history, customers, notifications
from app.domain.errors import DomainError, NotAllowed
from app.domain.portal import accounts as portal_accounts, tickets as portal_tickets
from app.extensions import appbuilder, db
from app.pages.responses import pdf_download, private
from app.portal import forms
from app.viewbase import current_user

log = logging.getLogger(__name__)

portal = Blueprint("portal", __name__, url_prefix="/central", template_folder="templates",
                   static_folder="static", static_url_path="/static")
LINK_MIN_SECONDS = 0.5  # a link request takes at least this long, whether the document exists or not


# ---------------------------------------------------------------- helpers


def is_customer(user: Any = None) -> bool:
    return access.acts_as_customer(user if user is not None else current_user())


def customer_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Pages of a logged-in customer: anyone else goes to the login (staff see where they are)."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        user = current_user()
        if user is None or not getattr(user, "is_authenticated", False):
            target = request.full_path if request.method == "GET" else None
            return redirect(url_for("portal.login", next=target.rstrip("?") if target else None))
        if not is_customer(user):
            return page("portal/staff.html", 403, title=gettext("Central do Assinante"))
        try:
            access.portal_customer(db.session, user)
        except NotAllowed as error:  # an Assinante user no customer record points to
            return page("portal/error.html", 403, code=403, title=gettext("Acesso negado"), explanation=error.message)
        return view(*args, **kwargs)

    return wrapper


def page(template: str, status: int = 200, headers: Optional[dict] = None, **context: Any) -> Response:
    """A portal page, never cached (it holds the customer's data)."""
    user = current_user()
    context.setdefault("signed_in", is_customer(user))
    context.setdefault("logout_form", forms.LogoutForm())
    response = make_response(render_template(template, **context), status)
    response.headers.update(headers or {})
    return private(response)


def safe_next(value: Optional[str]) -> str:
    """Where to go after the login: a page of the portal only (no open redirect)."""
    default = url_for("portal.tickets")
    if not value or "\\" in value or value.startswith("//"):
        return default
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or not parts.path.startswith("/central/"):
        return default
    return value


def base_url() -> str:
    """Where links sent by e-mail point: PUBLIC_BASE_URL, else this request's host."""
    return (current_app.config.get("PUBLIC_BASE_URL") or request.host_url).rstrip("/")


def link_validity() -> str:
    """How long a link lasts, in words ("1 hora", "30 minutos")."""
    minutes = round(portal_accounts.link_hours() * 60)
    if minutes % 60:
        return ngettext("%(num)d minuto", "%(num)d minutos", minutes)
    return ngettext("%(num)d hora", "%(num)d horas", minutes // 60)


def _commit_or_remove(stored: list[str]) -> None:
    """Commit; a failed commit leaves no stored file behind."""
    try:
        db.session.commit()
    except Exception:
        db.session.rollback()
        for name in stored:
            attachments.remove_stored_file(current_app.config["UPLOAD_FOLDER"], name)
        raise


def _attach(ticket: Any, upload: Any, stored: list[str]) -> None:
    """Store the customer's optional file through the attachment checks (type, size, content)."""
    if upload is None or not getattr(upload, "filename", ""):
        return
    attachment = attachments.add_attachment(db.session, ticket, current_user(), upload.filename, upload.stream,
                                            current_app.config["UPLOAD_FOLDER"])
    stored.append(attachment.stored_name)


# ---------------------------------------------------------------- login, links, logout


@portal.route("/", methods=["GET", "POST"])
@portal.route("/entrar", methods=["GET", "POST"])
def login() -> Any:
    """Login with CPF/CNPJ and password; counted per account and address like the staff login."""
    if is_customer() and request.method == "GET":
        return redirect(safe_next(request.args.get("next")))
    form = forms.LoginForm()
    status, headers = 200, {}
    if form.validate_on_submit():
        sm = appbuilder.sm
        try:
            user = sm.auth_user_db(portal_accounts.login_name(db.session, form.document.data), form.password.data)
        except accounts.TooManyAttempts as error:
            db.session.rollback()
            flash(error.message, "danger")
            status, headers = 429, {"Retry-After": str(error.retry_after)}
        else:
            if user and is_customer(user):
                if getattr(current_user(), "is_authenticated", False):
                    logout_user()
                login_user(user, remember=False)
                return redirect(safe_next(request.args.get("next")))
            flash(gettext("CPF/CNPJ ou senha incorretos."), "danger")
        form.password.data = ""
    return page("portal/login.html", status, headers, form=form, title=gettext("Entrar"))


@portal.route("/acesso", methods=["GET", "POST"])
def request_access() -> Any:
    """First access or a forgotten password: the same answer, in about the same time, for any document."""
    form = forms.DocumentForm()
    if form.validate_on_submit():
        started = time.monotonic()
        try:
            portal_accounts.request_link(db.session, form.document.data, base_url())
            db.session.commit()
        except Exception:  # the answer never tells: the failure is logged for the staff
            db.session.rollback()
            log.exception("portal link request failed")
        floor = float(current_app.config.get("PORTAL_LINK_MIN_SECONDS", LINK_MIN_SECONDS))
        time.sleep(max(0.0, floor - (time.monotonic() - started)))
        return page("portal/access_sent.html", title=gettext("Verifique seu e-mail"), validity=link_validity())
    return page("portal/access.html", form=form, title=gettext("Primeiro acesso ou nova senha"))


def _set_password(secret: str, purpose: str) -> Any:
    try:
        token = portal_accounts.check_link(db.session, secret, purpose)
    except portal_accounts.InvalidLink as error:
        return page("portal/link_invalid.html", 404, message=error.message, title=gettext("Link inválido"))
    first_name = (token.customer.name or "").split(" ")[0]
    form = forms.PasswordForm()
    if form.validate_on_submit():
        try:
            portal_accounts.use_link(db.session, secret, purpose, form.password.data, form.confirm.data)
        except portal_accounts.InvalidLink as error:
            return page("portal/link_invalid.html", 404, message=error.message, title=gettext("Link inválido"))
        except DomainError as error:
            db.session.rollback()
            getattr(form, error.field if error.field in ("password", "confirm") else "password").errors.append(
                error.message)
        else:
            flash(gettext("Senha definida. Entre com seu CPF/CNPJ e a nova senha."), "success")
            return redirect(url_for("portal.login"))
    first = purpose == portal_accounts.FIRST_ACCESS
    return page("portal/set_password.html", form=form, first=first, first_name=first_name,
                title=gettext("Primeiro acesso") if first else gettext("Nova senha"))


@portal.route("/primeiro-acesso/<secret>", methods=["GET", "POST"])
def first_access(secret: str) -> Any:
    return _set_password(secret, portal_accounts.FIRST_ACCESS)


@portal.route("/nova-senha/<secret>", methods=["GET", "POST"])
def new_password(secret: str) -> Any:
    return _set_password(secret, portal_accounts.RESET)


def _sign_out() -> None:
    """End this and every other session and token of the user (like the staff logout)."""
    user = current_user()
    if getattr(user, "is_authenticated", False):
        user = user._get_current_object() if hasattr(user, "_get_current_object") else user
        logout_user()
        appbuilder.sm.on_user_logout(user)


@portal.route("/sair", methods=["POST"])
def logout() -> Any:
    """Logout ends this and every other session and token of the customer (like the staff logout)."""
    _sign_out()
    flash(gettext("Você saiu da Central do Assinante."), "info")
    return redirect(url_for("portal.login"))


# ---------------------------------------------------------------- the customer's tickets


@portal.route("/atendimentos")
@customer_required
def tickets() -> Any:
    page_number = request.args.get("pagina", "1")
    number = int(page_number) if page_number.isdigit() and 0 < int(page_number) < 100_000 else 1
    rows, total = portal_tickets.my_tickets(db.session, current_user(), number - 1)
    pages = max(1, -(-total // portal_tickets.PAGE_SIZE))
    customer = access.portal_customer(db.session, current_user())
    return page("portal/tickets.html", tickets=rows, total=total, page_number=number, pages=pages,
                customer=customer, title=gettext("Meus atendimentos"))


@portal.route("/atendimentos/novo", methods=["GET", "POST"])
@customer_required
def new_ticket() -> Any:
    user = current_user()
    form = forms.NewTicketForm()
    contracts = portal_tickets.contracts(db.session, user)
    subjects = portal_tickets.subjects(db.session, user)
    form.contract.choices = [(str(c.id), _contract_label(c)) for c in contracts]
    form.subject.choices = [("", gettext("Escolha…"))] + [(str(s.id), s.name) for s in subjects]
    error = None
    if form.validate_on_submit():
        stored: list[str] = []
        try:
            ticket = portal_tickets.open_ticket(db.session, user, form.subject.data, form.contract.data or None,
                                                form.description.data)
            _attach(ticket, form.file.data, stored)
            _commit_or_remove(stored)
        except DomainError as refused:
            db.session.rollback()
            for name in stored:
                attachments.remove_stored_file(current_app.config["UPLOAD_FOLDER"], name)
            error = refused.message
        else:
            flash(gettext("Atendimento registrado: protocolo %(protocol)s, aberto em %(date)s às %(time)s.",
                          protocol=ticket.protocol, date=ticket.opened_at.strftime("%d/%m/%Y"),
                          time=ticket.opened_at.strftime("%H:%M")), "success")
            return redirect(url_for("portal.ticket", ticket_id=ticket.id))
    return page("portal/new_ticket.html", 400 if error else 200, form=form, error=error, has_subjects=bool(subjects),
                title=gettext("Novo atendimento"))


def _contract_label(contract: Any) -> str:
    address = contract.address_line()
    return f"{contract.number} — {address}" if address else contract.number


def _ticket_page(ticket_id: int, status: int = 200, **forms_and_errors: Any) -> Response:
    user = current_user()
    try:
        view = portal_tickets.ticket_view(db.session, user, ticket_id)
    except NotAllowed:
        abort(404)
    context = {
        "reiterate_form": forms.ReiterateForm(formdata=None), "complaint_form": forms.ComplaintForm(formdata=None),
        "reopen_form": forms.ReopenForm(formdata=None),
        "rate_form": forms.RateForm(formdata=None, rating=str(view.ticket.rating or ""),
                                    comment=view.ticket.rating_comment, version=view.ticket.version),
        "errors": {},
    }
    context.update(forms_and_errors)
    context["rate_form"].version.data = view.ticket.version
    return page("portal/ticket.html", status, view=view, t=view.ticket, title=view.ticket.protocol, **context)


@portal.route("/atendimentos/<int:ticket_id>")
@customer_required
def ticket(ticket_id: int) -> Any:
    return _ticket_page(ticket_id)


def _visible(ticket_id: int) -> Any:
    try:
        return portal_tickets.visible_ticket(db.session, current_user(), ticket_id)
    except NotAllowed:
        abort(404)


ACTION_FORMS = {"reiterate": ("reiterate_form", forms.ReiterateForm), "complaint": ("complaint_form", forms.ComplaintForm),
                "reopen": ("reopen_form", forms.ReopenForm)}


def _act(ticket_id: int, name: str) -> Any:
    """Run one of the customer's actions (R16–R18) through the domain's own function."""
    ticket = _visible(ticket_id)
    key, form_class = ACTION_FORMS[name]
    form = form_class()
    if not form.validate_on_submit():
        return _ticket_page(ticket_id, 400, **{key: form})
    stored: list[str] = []
    try:
        payload = {"text": getattr(form, "text", None) and form.text.data,
                   "reason": getattr(form, "reason", None) and form.reason.data}
        actions.ACTIONS[name].run(db.session, ticket, current_user(), payload)
        if name == "reiterate":
            _attach(ticket, form.file.data, stored)
        _commit_or_remove(stored)
    except DomainError as error:
        db.session.rollback()
        for stored_name in stored:
            attachments.remove_stored_file(current_app.config["UPLOAD_FOLDER"], stored_name)
        return _ticket_page(ticket_id, error.status if error.status < 500 else 400, **{key: form},
                            errors={name: error.message})
    flash(str(actions.ACTIONS[name].done), "success")
    return redirect(url_for("portal.ticket", ticket_id=ticket_id))


@portal.route("/atendimentos/<int:ticket_id>/reiterar", methods=["POST"])
@customer_required
def reiterate(ticket_id: int) -> Any:
    return _act(ticket_id, "reiterate")


@portal.route("/atendimentos/<int:ticket_id>/reclamar", methods=["POST"])
@customer_required
def complain(ticket_id: int) -> Any:
    return _act(ticket_id, "complaint")


@portal.route("/atendimentos/<int:ticket_id>/reabrir", methods=["POST"])
@customer_required
def reopen(ticket_id: int) -> Any:
    return _act(ticket_id, "reopen")


@portal.route("/atendimentos/<int:ticket_id>/avaliar", methods=["POST"])
@customer_required
def rate(ticket_id: int) -> Any:
    ticket = _visible(ticket_id)
    form = forms.RateForm()
    if not form.validate_on_submit():
        return _ticket_page(ticket_id, 400, rate_form=form)
    try:
        portal_tickets.rate(db.session, current_user(), ticket, form.rating.data, form.comment.data,
                            form.version.data)
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        return _ticket_page(ticket_id, error.status if error.status < 500 else 400, rate_form=form,
                            errors={"rate": error.message})
    flash(gettext("Obrigado pela sua avaliação."), "success")
    return redirect(url_for("portal.ticket", ticket_id=ticket_id))


@portal.route("/arquivos/<int:attachment_id>")
@customer_required
def download(attachment_id: int) -> Any:
    from app.pages.files import attachment_response

    try:
        attachment = portal_tickets.visible_attachment(db.session, current_user(), attachment_id)
    except NotAllowed:
        abort(404)
    response = attachment_response(attachment)
    if response is None:
        abort(404)
    return response


def _history_pdf(ticket_id: Optional[int]) -> Response:
    user = current_user()
    customer = access.portal_customer(db.session, user)
    try:
        data = customer_history.history_data(db.session, user, customer.id, ticket_id)
    except NotAllowed:
        abort(404)
    return pdf_download(customer_history.build_pdf(data), customer_history.pdf_filename(data))


@portal.route("/historico.pdf")
@customer_required
def history() -> Any:
    """The full history of the customer's demands (R26)."""
    return _history_pdf(None)


@portal.route("/atendimentos/<int:ticket_id>/historico.pdf")
@customer_required
def ticket_history(ticket_id: int) -> Any:
    return _history_pdf(ticket_id)


# ---------------------------------------------------------------- the customer's data (Meus dados)


PROFILE_FORMS = ("preferences", "password")  # the hidden "form" field tells which of the page's forms was sent
PASSWORD_FIELDS = ("current", "password", "confirm")


@portal.route("/meus-dados", methods=["GET", "POST"])
@customer_required
def profile() -> Any:
    """The customer's data on file (read-only), their message preferences and a new password."""
    customer = access.portal_customer(db.session, current_user())
    sent = request.form.get("form") if request.method == "POST" else None
    if request.method == "POST" and sent not in PROFILE_FORMS:
        abort(400)
    preferences = forms.PreferencesForm(formdata=request.form if sent == "preferences" else None, obj=customer)
    password = forms.ChangePasswordForm(formdata=request.form if sent == "password" else None)
    status, headers = (200 if sent is None else 400), {}
    if sent == "preferences" and preferences.validate():
        customers.set_contact_preferences(db.session, customer, preferences.accepts_email.data,
                                          preferences.accepts_sms.data)
        try:
            db.session.commit()
        except StaleDataError:  # the company saved the customer's record at the same moment
            db.session.rollback()
            flash(gettext("Seus dados foram alterados pela empresa neste momento. Confira e salve de novo."),
                  "danger")
        else:
            flash(gettext("Preferências salvas."), "success")
        return redirect(url_for("portal.profile"))
    if sent == "password" and password.validate():
        try:
            portal_accounts.change_password(db.session, customer, password.current.data, password.password.data,
                                            password.confirm.data)
        except DomainError as error:
            db.session.rollback()
            getattr(password, error.field if error.field in PASSWORD_FIELDS else "current").errors.append(
                error.message)
            if isinstance(error, accounts.TooManyAttempts):
                status, headers = error.status, {"Retry-After": str(error.retry_after)}
        else:
            _sign_out()
            flash(gettext("Senha alterada. Entre de novo com a nova senha."), "success")
            return redirect(url_for("portal.login"))
    for field in PASSWORD_FIELDS:  # a password typed is never sent back
        getattr(password, field).data = ""
    phone = notifications.mobile_phone(db.session, customer)
    return page("portal/profile.html", status, headers, customer=customer, preferences_form=preferences,
                password_form=password, email=portal_accounts.access_email(customer),
                phone=phone.removeprefix("+55") if phone else None, title=gettext("Meus dados"))


# ---------------------------------------------------------------- errors


def error_response(code: int, headers: Any = None) -> Response:
    """An HTTP error inside the portal: the pt-BR explanation in the portal's own layout."""
    from app.pages.errors import explain

    title, explanation = explain(code)
    return page("portal/error.html", code, dict(headers or {}), code=code, title=title, explanation=explanation)


@portal.errorhandler(HTTPException)
def handle_error(error: HTTPException) -> Any:
    code = error.code or 500
    if code < 400 or error.response is not None:
        return error
    if code >= 500:
        from app.pages.errors import rollback

        rollback()
    headers = {name: value for name, value in error.get_headers() if name.lower() != "content-type"}
    return error_response(code, headers)
