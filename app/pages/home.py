"""The home page: each role lands on its own work."""
from __future__ import annotations

from typing import Any, Callable, Optional, Union

from flask import Response, current_app, make_response, redirect, render_template, url_for
from flask_appbuilder import IndexView, expose

from app.domain.clock import now
from app.domain.dashboard import manager_dashboard
from app.domain.reports import my_tickets
from app.extensions import appbuilder, db
from app.pages.dashboard import cached
from app.security import ROLE_ADMIN, ROLE_AGENT, ROLE_CUSTOMER, ROLE_MANAGER, ROLE_TECHNICIAN, role_names
from app.viewbase import current_user

HOME_ROLES = (ROLE_ADMIN, ROLE_MANAGER, ROLE_AGENT, ROLE_TECHNICIAN, ROLE_CUSTOMER)  # the first one held decides
PORTAL_URL = "/central/"
SHORTCUTS = {"Configuration": None, "Security": ("List Users", "List Roles")}  # menu category: items (None: all)


def home_role(user: Any) -> Optional[str]:
    """The role whose home a user sees: Admin > Gestor > Atendente > Tecnico > Assinante."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    names = role_names(user)
    return next((role for role in HOME_ROLES if role in names), None)


def is_customer() -> bool:
    """The logged-in user is a customer (Assinante) and nothing more: the back office is not for them."""
    return home_role(current_user()) == ROLE_CUSTOMER


def customer_pointer(status: int = 200) -> Response:
    """The page that tells a customer this is the staff area and points to the customer portal."""
    body = render_template("home/customer.html", appbuilder=appbuilder, base_template=appbuilder.base_template,
                           portal_url=PORTAL_URL)
    return make_response(body, status)


def shortcuts() -> list[dict[str, Any]]:
    """The configuration and user menus the user may open, grouped and ordered as in the menu."""
    categories = {category.name: category for category in appbuilder.menu.get_list()}
    groups = []
    for name, wanted in SHORTCUTS.items():
        category = categories.get(name)
        items = [item for item in (category.childs if category else [])
                 if item.name and (wanted is None or item.name in wanted)
                 and appbuilder.sm.has_access("menu_access", item.name)]
        if items:
            groups.append({"label": category.label, "items": items})
    return groups


def manager_today(user: Any) -> dict[str, Any]:
    """Today's figures of the manager's dashboard (the same computation and cache as /painel/)."""
    moment = now()
    today = moment.date()
    return cached("manager", user, (today, today), lambda: manager_dashboard(db.session, user, today, today, moment))


def technician_home() -> str:
    """The technician's day when it exists, else their service orders."""
    endpoint = "TechnicianView.today"
    return url_for(endpoint if endpoint in current_app.view_functions else "MyServiceOrderView.list")


def agent_home(user: Any) -> dict[str, Any]:
    """The agent's search box and their open tickets and drafts."""
    return {"search": True, "tickets": my_tickets(db.session, user), "now": now()}


HOMES: dict[str, Callable[[Any], Union[dict[str, Any], Response]]] = {
    ROLE_ADMIN: lambda user: {"search": True, "shortcuts": shortcuts()},
    ROLE_MANAGER: lambda user: {"dashboard": manager_today(user), "search": True},
    ROLE_AGENT: agent_home,
    ROLE_TECHNICIAN: lambda user: redirect(technician_home()),
    ROLE_CUSTOMER: lambda user: customer_pointer(),
}


class HomeView(IndexView):
    """The first page after login, made of the work of the user's main role."""

    index_template = "home.html"

    @expose("/")
    def index(self) -> Any:
        user = current_user()
        role = home_role(user)
        page = HOMES[role](user) if role else {}
        if not isinstance(page, dict):
            return page
        return self.render_template(self.index_template, appbuilder=self.appbuilder, role=role, **page)
