"""FAB's security views with pt-BR labels and formats."""
from __future__ import annotations

from flask_appbuilder.security.sqla.manager import SecurityManager
from flask_appbuilder.security.views import (
    PermissionViewModelView,
    RoleModelView,
    UserDBModelView,
    UserGroupModelView,
    UserInfoEditView,
    UserStatsChartView,
)
from flask_babel import lazy_gettext as _l

from app.formatting import format_bool, format_date
from app.apibase import AtendeSecurityApi
from app.viewbase import FormSavingMixin, blank_none

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


class AtendeUserDBModelView(FormSavingMixin, UserDBModelView):
    label_columns = {**UserDBModelView.label_columns, **USER_LABELS}
    formatters_columns = USER_FORMATTERS


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

    redirect_url = "/users/userinfo/"


class AtendeSecurityManager(SecurityManager):
    """FAB's security manager with pt-BR security views; roles are builtin (app.security)."""

    userdbmodelview = AtendeUserDBModelView
    rolemodelview = AtendeRoleModelView
    groupmodelview = AtendeGroupModelView
    permissionviewmodelview = AtendePermissionViewModelView
    userstatschartview = AtendeUserStatsChartView
    userinfoeditview = AtendeUserInfoEditView
    security_api = AtendeSecurityApi
