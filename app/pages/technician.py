"""The field technician's day, made for a phone: today's OS as cards; Iniciar, Finalizar, Reagendar."""
from __future__ import annotations

import datetime as dt
from typing import Any, Optional
from urllib.parse import quote

from flask import abort, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext, lazy_gettext as _l

from app.domain import service_orders
from app.domain.clock import parse_local
from app.domain.documents import digits, format_phone
from app.domain.errors import DomainError
from app.domain.inputs import check_date, check_length, limit_of
from app.extensions import db
from app.models import NOTE_TEXT, ServiceOrder
from app.security import ROLE_TECHNICIAN, role_names
from app.viewbase import current_user

ORDER = "/os/<int(max=2147483647):order_id>"  # ids past the column's range are a 404, not a database error
SECTION_TITLES = {
    "in_progress": _l("Em execução"),
    "late": _l("Atrasadas"),
    "today": _l("Hoje"),
    "unscheduled": _l("Sem data agendada"),
    "closed": _l("Encerradas hoje"),
}


def tel_uri(number: str) -> str:
    """A tel: link that dials from any phone: Brazilian numbers get +55."""
    number = digits(number)
    if len(number) in (10, 11):
        return f"tel:+55{number}"
    return f"tel:+{number}" if len(number) in (12, 13) and number.startswith("55") else f"tel:{number}"


def map_url(address: str) -> str:
    return "https://www.google.com/maps/search/?api=1&query=" + quote(address)



class TechnicianView(BaseView):
    """"Meu dia": the technician's service orders for today and what they can do with each."""

    route_base = "/tecnico"
    default_view = "today"
    extra_args = {"tel_uri": tel_uri, "map_url": map_url, "format_phone": format_phone,
                  "section_titles": SECTION_TITLES, "window_text": service_orders.window_text}

    @expose("/")
    @has_access
    @permission_name("work")
    def today(self) -> Any:
        cards = service_orders.technician_day(db.session, current_user())
        sections = [(name, [card for card in cards if card.section == name]) for name in service_orders.DAY_SECTIONS]
        return self.render_template("technician/day.html", title=gettext("Meu dia"),
                                    sections=[(name, found) for name, found in sections if found])

    @expose(ORDER)
    @has_access
    @permission_name("work")
    def detail(self, order_id: int) -> Any:
        order = self._order(order_id)
        return self.render_template("technician/detail.html", title=gettext("OS %(id)s", id=order.id),
                                    card=service_orders.order_card(db.session, order),
                                    events=service_orders.service_order_history(db.session, order))

    @expose(ORDER + "/iniciar", methods=["POST"])
    @has_access
    @permission_name("work")
    def start(self, order_id: int) -> Any:
        order = self._order(order_id)
        try:
            service_orders.start_service_order(db.session, order, current_user())
            db.session.commit()
        except DomainError as error:
            db.session.rollback()
            flash(error.message, "danger")
            return redirect(url_for(".today"))
        flash(gettext("OS %(id)s iniciada às %(time)s.", id=order.id,
                      time=order.started_at.strftime("%H:%M")), "success")
        return redirect(url_for(".today"))

    @expose(ORDER + "/finalizar", methods=["GET", "POST"])
    @has_access
    @permission_name("work")
    def finish(self, order_id: int) -> Any:
        order = self._order(order_id)
        form = {"closing_notes": request.form.get("closing_notes", "")}
        error = None
        if request.method == "POST":
            try:
                check_length(form["closing_notes"], limit_of(ServiceOrder.closing_notes), "closing_notes")
                service_orders.finish_service_order(db.session, order, current_user(), form["closing_notes"])
                db.session.commit()
                flash(gettext("OS %(id)s finalizada.", id=order_id), "success")
                return redirect(url_for(".today"))
            except DomainError as refused:
                db.session.rollback()
                error = refused
        return self._form("technician/finish.html", order_id, gettext("Finalizar OS %(id)s", id=order_id),
                          form, error)

    @expose(ORDER + "/reagendar", methods=["GET", "POST"])
    @has_access
    @permission_name("work")
    def reschedule(self, order_id: int) -> Any:
        order = self._order(order_id)
        form = {
            "scheduled_start": request.form.get("scheduled_start", _text(order.scheduled_start)),
            "scheduled_end": request.form.get("scheduled_end", _text(order.scheduled_end)),
            "reason": request.form.get("reason", ""),
        }
        error = None
        if request.method == "POST":
            try:
                check_length(form["reason"], NOTE_TEXT, "reason", _l("Motivo do reagendamento"))
                start = check_date(parse_local(form["scheduled_start"], "scheduled_start", _l("Novo início")),
                                   "scheduled_start")
                end = check_date(parse_local(form["scheduled_end"], "scheduled_end", _l("Novo fim")), "scheduled_end")
                service_orders.reschedule_service_order(db.session, order, current_user(), start, end, form["reason"])
                db.session.commit()
                flash(gettext("OS %(id)s reagendada para %(window)s.", id=order_id,
                              window=service_orders.window_text(start, end)), "success")
                return redirect(url_for(".today"))
            except DomainError as refused:
                db.session.rollback()
                error = refused
        return self._form("technician/reschedule.html", order_id, gettext("Reagendar OS %(id)s", id=order_id),
                          form, error)

    def _order(self, order_id: int) -> ServiceOrder:
        """The OS if it is the user's to work on; anyone else's is a 404."""
        order = service_orders.visible_service_order(db.session, current_user(), order_id)
        if order is None:
            abort(404)
        return order

    def _form(self, template: str, order_id: int, title: str, form: dict, error: Optional[DomainError]) -> Any:
        """Show an action form, again with what was typed and the refusal when there is one."""
        order = self._order(order_id)  # reloaded: a refusal rolled the session back
        return self.render_template(template, title=title, card=service_orders.order_card(db.session, order, 3),
                                    form=form, error=error)


def works_in_field(user: Any) -> bool:
    """Technicians update their OS on these pages, never in the generic edit form."""
    return ROLE_TECHNICIAN in role_names(user)


def field_page(order: Optional[ServiceOrder]) -> Any:
    """Send the technician to the OS's own page; an OS outside their list is a 404."""
    if order is None:
        abort(404)
    return redirect(url_for("TechnicianView.detail", order_id=order.id))


def _text(value: Optional[dt.datetime]) -> str:
    return value.strftime("%d/%m/%Y %H:%M") if value else ""


def register(appbuilder: Any) -> None:
    """Add "Meu dia" first in the "Ordens de serviço" menu."""
    from app.pages import move_to_front

    appbuilder.add_view(TechnicianView, "TechnicianDay", label=_l("Meu dia"), icon="fa-calendar-day",
                        category="ServiceOrders", category_label=_l("Ordens de serviço"), category_icon="fa-tools")
    move_to_front(appbuilder, "ServiceOrders", "TechnicianDay")
