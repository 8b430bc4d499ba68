"""FAB's security views with pt-BR labels and formats."""
from __future__ import annotations

import secrets
from typing import Any, Optional

import click
from flask import Flask, Response, current_app, has_request_context, jsonify, make_response, request, session
from flask_appbuilder.api import safe
from flask_appbuilder.exceptions import PasswordComplexityValidationError
from flask_appbuilder.fieldwidgets import BS3PasswordFieldWidget
from flask_appbuilder.security.api import SecurityApi
from flask_appbuilder.security.forms import LoginForm_db, ResetPasswordForm
from flask_appbuilder.security.sqla.manager import SecurityManager
from flask_appbuilder.security.views import (
    PermissionViewModelView,
    ResetMyPasswordView,
    ResetPasswordView,
    RoleModelView,
    UserDBModelView,
    UserGroupModelView,
    UserInfoEditView,
    UserStatsChartView,
)
from flask_appbuilder.validators import PasswordComplexityValidator
from flask_appbuilder.views import expose
from flask_babel import gettext, lazy_gettext as _l
from flask_jwt_extended import JWTManager
from flask_login import current_user, logout_user, user_logged_in
from werkzeug.exceptions import NotFound
from wtforms import PasswordField
from wtforms.validators import DataRequired, EqualTo

from app.domain import accounts
from app.domain.errors import ValidationError
from app.domain.access import valid_id
from app.extensions import db
from app.formatting import format_bool, format_date
from app.apibase import AtendeSecurityApi
from app.viewbase import FormSavingMixin, blank_none

SESSION_KEY = "_session_version"
PASSWORD_HINT = _l("Pelo menos 10 caracteres; evite senhas comuns, sequências e dados pessoais (nome, usuário, "
                   "e-mail).")

USER_LABELS = {
    "user": _l("Usuários"), "users": _l("Usuários"), "roles": _l("Perfis"), "groups": _l("Grupos"),
    "role": _l("Perfis"), "label": _l("Rótulo"), "description": _l("Descrição"), "name": _l("Nome"),
    "first_name": _l("Nome"), "last_name": _l("Sobrenome"), "email": _l("E-mail"),
    "username": _l("Nome de usuário"), "active": _l("Ativo?"),
}
USER_FORMATTERS = {
    "active": format_bool, "last_login": format_date, "created_on": format_date, "changed_on": format_date,
    "created_by": blank_none, "changed_by": blank_none, "roles": blank_none, "groups": blank_none,
    "login_count": blank_none, "fail_login_count": blank_none, "last_login_ip": blank_none,
}


def personal_words(user: Any = None) -> list[Optional[str]]:
    """What a password must not be built from: the user's names and e-mail (typed in the form, or on file)."""
    words: list[Optional[str]] = []
    if has_request_context():
        words += [request.form.get(name) for name in ("username", "first_name", "last_name", "email")]
        if user is None and request.args.get("pk"):
            user = appbuilder_sm().user_by_id(request.args["pk"])
        if user is None and request.blueprint == AtendeResetMyPasswordView.__name__:
            user = current_user
    if user is not None:
        words += [user.username, user.first_name, user.last_name, user.email]
    return words


def fab_password_validator(password: str) -> None:
    """FAB's password forms (new user, reset password, reset my password) apply the policy in pt-BR."""
    try:
        accounts.check_password(password, personal_words())
    except ValidationError as error:
        raise PasswordComplexityValidationError(error.message) from None


def appbuilder_sm() -> "AtendeSecurityManager":
    from app.extensions import appbuilder

    return appbuilder.sm


def require_password(password: str, user: Any = None, words: tuple[Optional[str], ...] = ()) -> None:
    """Apply the policy where a password is set outside a form: a pt-BR ClickException in the CLI."""
    try:
        accounts.check_password(password, [*personal_words(user), *words])
    except ValidationError as error:
        if click.get_current_context(silent=True) is not None:
            raise click.ClickException(error.message) from None
        raise


def generate_password() -> str:
    """A random password that passes the policy, for `flask init` without ADMIN_PASSWORD."""
    while True:
        password = secrets.token_urlsafe(12)
        try:
            accounts.check_password(password)
            return password
        except ValidationError:
            continue


class AtendeResetPasswordForm(ResetPasswordForm):
    password = PasswordField(_l("Password"), description=PASSWORD_HINT,
                             validators=[DataRequired(), PasswordComplexityValidator()], widget=BS3PasswordFieldWidget())


class AtendeResetMyPasswordView(ResetMyPasswordView):
    """"Alterar minha senha" with the policy stated; other sessions of the user end (see reset_password)."""

    class_permission_name = "ResetMyPasswordView"
    form = AtendeResetPasswordForm


class AtendeResetPasswordView(ResetPasswordView):
    """An administrator resets a user's password: the policy applies; the user's sessions end and the lock is lifted."""

    class_permission_name = "ResetPasswordView"
    form = AtendeResetPasswordForm


class AtendeUserDBModelView(FormSavingMixin, UserDBModelView):
    class_permission_name = "UserDBModelView"  # the builtin roles' "Meus dados" and "Alterar minha senha"
    label_columns = {**UserDBModelView.label_columns, **USER_LABELS}
    formatters_columns = USER_FORMATTERS
    add_form_extra_fields = {
        **UserDBModelView.add_form_extra_fields,
        "password": PasswordField(_l("Password"), description=PASSWORD_HINT,
                                  validators=[DataRequired(), PasswordComplexityValidator()],
                                  widget=BS3PasswordFieldWidget()),
        "conf_password": PasswordField(
            _l("Confirm Password"), description=_l("Please rewrite the user's password to confirm"),
            validators=[DataRequired(), EqualTo("password", message=_l("Passwords must match"))],
            widget=BS3PasswordFieldWidget()),
    }

    def post_update(self, item: Any) -> None:
        """A deactivated user's sessions and tokens end at once (and stay ended if reactivated)."""
        super().post_update(item)
        if not item.active:
            accounts.end_sessions(db.session, item.id)


class AtendeRoleModelView(FormSavingMixin, RoleModelView):
    label_columns = {**RoleModelView.label_columns, **USER_LABELS}
    formatters_columns = USER_FORMATTERS


class AtendeGroupModelView(FormSavingMixin, UserGroupModelView):
    label_columns = USER_LABELS
    formatters_columns = USER_FORMATTERS


class AtendePermissionViewModelView(PermissionViewModelView):
    label_columns = {**PermissionViewModelView.label_columns, **USER_LABELS}


class AtendeUserStatsChartView(UserStatsChartView):
    label_columns = {**UserStatsChartView.label_columns, **USER_LABELS}
    definitions = [
        {"label": _l("Número de acessos"), "group": "username", "series": ["login_count"]},
        {"label": _l("Tentativas de acesso com falha"), "group": "username", "series": ["fail_login_count"]},
    ]


class AtendeUserInfoEditView(UserInfoEditView):
    """After "Meus dados" is saved the user sees them again, not the home page."""

    class_permission_name = "UserInfoEditView"
    redirect_url = "/users/userinfo/"


class ThrottledSecurityApi(AtendeSecurityApi):
    """FAB's JWT login, refused with 429 while the account or the address is locked (app.domain.accounts)."""

    @expose("/login", methods=["POST"])
    @safe
    def login(self) -> Response:
        try:
            return SecurityApi.login.__wrapped__(self)
        except accounts.TooManyAttempts as error:
            db.session.rollback()
            response = self.response(429, message=error.message)
            response.headers["Retry-After"] = str(error.retry_after)
            return response

    login.__doc__ = SecurityApi.login.__doc__  # its OpenAPI text


def locked_login(error: accounts.TooManyAttempts) -> Any:
    """The login form refused while locked: the same page with the pt-BR message, status 429."""
    from flask import flash

    sm = appbuilder_sm()
    db.session.rollback()
    if request.path.startswith("/api/"):
        response = jsonify(message=error.message)
        response.status_code = 429
    else:
        flash(error.message, "danger")
        view = sm.auth_view
        response = make_response(view.render_template(view.login_template, title=view.title, form=LoginForm_db(),
                                                      appbuilder=view.appbuilder), 429)
    response.headers["Retry-After"] = str(error.retry_after)
    return response


@user_logged_in.connect
def remember_session_version(sender: Flask, user: Any, **extra: Any) -> None:
    """A new session carries the user's current session version."""
    session[SESSION_KEY] = accounts.session_version(db.session, user.id)


class AtendeSecurityManager(SecurityManager):
    """FAB's security manager with pt-BR security views, the password policy, login throttling and logout that
    ends the session on the server (app.domain.accounts); roles are builtin (app.security)."""

    userdbmodelview = AtendeUserDBModelView
    rolemodelview = AtendeRoleModelView
    groupmodelview = AtendeGroupModelView
    permissionviewmodelview = AtendePermissionViewModelView
    userstatschartview = AtendeUserStatsChartView
    userinfoeditview = AtendeUserInfoEditView
    resetmypasswordview = AtendeResetMyPasswordView
    resetpasswordview = AtendeResetPasswordView
    security_api = ThrottledSecurityApi

    def register_views(self) -> None:
        current_app.config.setdefault("FAB_PASSWORD_COMPLEXITY_VALIDATOR", fab_password_validator)
        super().register_views()
        current_app.register_error_handler(accounts.TooManyAttempts, locked_login)
        if self.is_auth_limited:  # FAB limits the form login only: the JWT login gets the same request rate
            for view in self.appbuilder.baseviews:
                if isinstance(view, ThrottledSecurityApi):
                    self.limiter.limit(self.auth_rate_limit, methods=["POST"])(view.blueprint)

    def before_request(self) -> None:
        """Load the user (FAB), then end a session whose version is older than the user's (after a logout)."""
        super().before_request()
        if current_user.is_authenticated and "_user_id" in session and \
                session.get(SESSION_KEY) != accounts.session_version(db.session, current_user.id):
            logout_user()
            session.pop(SESSION_KEY, None)

    def auth_user_db(self, username: str, password: str) -> Any:
        """FAB's password check, counted per account and per address; a locked one raises TooManyAttempts."""
        if not username or not has_request_context():
            return super().auth_user_db(username, password)
        known = self.find_user(username=username) or self.find_user(email=username)
        attempt = accounts.begin_login(db.session, accounts.account_key(known.id if known else None, username),
                                       request.remote_addr or "")
        user = super().auth_user_db(username, password)
        accounts.end_login(db.session, attempt, user is not None)
        return user

    def on_user_logout(self, user: Any) -> None:
        """Logout ends this session and every other session and token of the user."""
        accounts.end_sessions(db.session, user.id)
        session.pop(SESSION_KEY, None)

    def add_user(self, username: str, first_name: str, last_name: str, email: str, role: Any = None,
                 password: str = "", hashed_password: str = "", groups: Any = None, commit: bool = True) -> Any:
        """FAB's add_user; a plain password must pass the policy (fab create-admin, seed-demo…)."""
        if password and not hashed_password:
            require_password(password, words=(username, first_name, last_name, email))
        return super().add_user(username, first_name, last_name, email, role, password, hashed_password, groups,
                                commit)

    def reset_password(self, userid: Any, password: str) -> None:
        """A new password (the user's own, an administrator's reset, fab reset-password) must pass the policy; the
        user's other sessions and tokens end and a lock on the account is lifted."""
        user = self.user_by_id(userid)
        if user is None:
            raise NotFound()
        require_password(password, user)
        super().reset_password(user.id, password)
        accounts.unlock(db.session, user.id)
        version = accounts.end_sessions(db.session, user.id)
        if has_request_context() and current_user.is_authenticated and current_user.id == user.id:
            session[SESSION_KEY] = version  # the session that changed it goes on

    def user_by_id(self, pk: Any) -> Any:
        """The user of an id typed in a URL (?pk=), or None for anything that is not one."""
        text = str(pk)
        return self.get_user_by_id(int(text)) if text.isdigit() and valid_id(int(text)) else None

    def create_jwt_manager(self, app: Flask) -> JWTManager:
        """Tokens carry the user's session version; a token older than a logout or a new password is refused."""
        jwt = super().create_jwt_manager(app)

        def refused(*args: Any) -> Any:
            return jsonify(message=gettext("Token inválido ou expirado.")), 401

        jwt.additional_claims_loader(lambda identity: {"sv": accounts.session_version(db.session, int(identity))})
        jwt.token_in_blocklist_loader(lambda header, payload: payload.get("sv") != accounts.session_version(
            db.session, int(payload["sub"])))
        jwt.revoked_token_loader(refused)
        jwt.user_lookup_error_loader(refused)
        return jwt
