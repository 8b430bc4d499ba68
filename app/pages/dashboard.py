"""The Gestor's pages: the manager dashboard and the team's workload, drawn as server-side SVG."""
from __future__ import annotations

import datetime as dt
from typing import Any, Callable, Mapping

from flask import current_app, flash, request
from flask_appbuilder import BaseView, expose, has_access
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext, lazy_gettext as _l

from app.domain.clock import now
from app.domain.criteria import parse_date
from app.domain.dashboard import manager_dashboard, team_workload
from app.extensions import db
from app.viewbase import current_user

DEFAULT_DAYS = 30
MAX_DAYS = 366


def br_number(value: Any, digits: int = 0) -> str:
    """1234.5 → "1.234,5"; None → "–"."""
    if value is None:
        return "–"
    text = f"{value:,.{digits}f}"
    return text.replace(",", "\0").replace(".", ",").replace("\0", ".")


def period(args: Mapping[str, str], today: dt.date) -> tuple[dt.date, dt.date]:
    """The period asked in the query string, or the last 30 days with a flash when it is not valid."""
    default = (today - dt.timedelta(days=DEFAULT_DAYS - 1), today)
    raw_start, raw_end = (args.get("date_from") or "").strip(), (args.get("date_to") or "").strip()
    if not raw_start and not raw_end:
        return default
    try:
        start = parse_date(raw_start) if raw_start else default[0]
        end = parse_date(raw_end) if raw_end else today
    except ValueError:
        flash(gettext("Data inválida: use dd/mm/aaaa. Exibindo os últimos %(days)d dias.", days=DEFAULT_DAYS), "warning")
        return default
    if end < start or (end - start).days >= MAX_DAYS:
        flash(gettext("Período inválido: a data final deve ser igual ou posterior à inicial e o período deve ter "
                      "no máximo %(max)d dias. Exibindo os últimos %(days)d dias.", max=MAX_DAYS, days=DEFAULT_DAYS),
              "warning")
        return default
    return start, end


def cached(name: str, user: Any, parts: tuple, compute: Callable[[], dict]) -> dict:
    """A dashboard's figures, computed at most once per DASHBOARD_CACHE_SECONDS for a scope and period.

    Everyone who sees every ticket shares one entry; ``?atualizar=1`` recomputes at once.
    """
    from app.domain.access import ticket_condition
    from app.extensions import cache

    scope = "all" if ticket_condition(user) is None else f"user{getattr(user, 'id', '')}"
    key = ":".join(["dashboard", name, scope, *map(str, parts)])
    seconds = current_app.config.get("DASHBOARD_CACHE_SECONDS", 60)
    if seconds and not request.args.get("atualizar"):
        hit = cache.get(key)
        if hit is not None:
            return hit
    data = compute()
    data["computed_at"] = now()
    if seconds:
        cache.set(key, data, timeout=seconds)
    return data


class ManagerDashboardView(BaseView):
    """Backlog, SLA and volume of the period, every figure linking to its tickets."""

    route_base = "/painel"
    default_view = "dashboard"

    @expose("/")
    @has_access
    @permission_name("dashboard")
    def dashboard(self) -> Any:
        moment = now()
        start, end = period(request.args, moment.date())
        user = current_user()
        data = cached("manager", user, (start, end),
                      lambda: manager_dashboard(db.session, user, start, end, moment))
        return self.render_template("dashboard/manager.html", data=data, title=gettext("Painel gerencial"))


class TeamWorkloadView(BaseView):
    """Each agent's open, overdue and due-today tickets and what they resolved this week."""

    route_base = "/equipe"
    default_view = "team"

    @expose("/")
    @has_access
    @permission_name("team")
    def team(self) -> Any:
        moment = now()
        user = current_user()
        data = cached("team", user, (moment.date(),),
                      lambda: {"team": team_workload(db.session, user, moment), "now": moment})
        return self.render_template("dashboard/team.html", team=data["team"], now=data["now"],
                                    computed_at=data["computed_at"], title=gettext("Equipe"))


def register(appbuilder: Any) -> None:
    """Add the "Relatórios" menu with the two pages."""
    reports = {"category": "Reports", "category_label": _l("Relatórios"), "category_icon": "fa-chart-bar"}
    appbuilder.add_view(ManagerDashboardView, "ManagerDashboard", label=_l("Painel gerencial"),
                        icon="fa-tachometer-alt", **reports)
    appbuilder.add_view(TeamWorkloadView, "TeamWorkload", label=_l("Equipe"), icon="fa-users", **reports)
    current_app.jinja_env.filters.setdefault("br_number", br_number)
