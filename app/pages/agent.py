"""The agent's screens: find the customer, register one on the fly, work the ticket."""
from __future__ import annotations

from typing import Any

from flask import abort, flash, jsonify, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext, lazy_gettext as _l
from sqlalchemy import or_, select

from app.domain import customers, history, messages, search, service_orders
from app.domain.access import can_see_ticket
from app.domain.documents import format_document
from app.domain.errors import DomainError
from app.domain.inputs import parse_id
from app.domain.params import get_parameters
from app.extensions import db
from app.models import (
    City,
    Customer,
    CustomerAddress,
    CustomerEmail,
    CustomerPhone,
    KnowledgeArticle,
    ServiceOrder,
    ServiceOrderType,
    Site,
    Subject,
    Ticket,
    TicketMessage,
)
from app.viewbase import current_user


QUICK_FIELDS = {"number": "phone", "customer": "name", "": "name"}


def _visible_ticket(ticket_id: int) -> Ticket:
    ticket = db.session.get(Ticket, ticket_id)
    if ticket is None or not can_see_ticket(db.session, current_user(), ticket_id):
        abort(404)
    return ticket


def _back_to(ticket_id: int, tab: str) -> Any:
    return redirect(url_for("TicketView.edit", pk=ticket_id) + f"#{tab}")


def _apply(action: Any, success: str, ticket_id: int, tab: str) -> Any:
    """Run a domain action, commit it and tell the agent; a broken rule saves nothing."""
    try:
        action()
        db.session.commit()
        flash(success, "success")
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "danger")
    return _back_to(ticket_id, tab)


class AgentView(BaseView):
    """Customer search, quick registration and the ticket's work tabs."""

    route_base = "/atendimento"
    default_view = "search"

    @expose("/")
    @has_access
    @permission_name("search")
    def search(self, quick: Any = None, quick_error: Any = None) -> Any:
        text = request.args.get("q", "").strip()
        show_cancelled = request.args.get("cancelados") == "1"
        chosen = request.args.get("cliente", "")
        customer = db.session.get(Customer, parse_id(chosen)) if parse_id(chosen) else None
        if customer is not None:  # from the customer's record: straight to their contracts
            text = format_document(customer.document)
            results = search.customer_results(db.session, [customer])
        else:
            results = search.customer_results(db.session, search.find_customers(db.session, text)) if text else []
        cities = db.session.scalars(select(City).order_by(City.name).limit(500)).all()
        sites = db.session.scalars(select(Site).where(Site.active.is_(True)).order_by(Site.name).limit(500)).all()
        return self.render_template(
            "agent/search.html", text=text, results=results, show_cancelled=show_cancelled, cities=cities,
            sites=sites, title=gettext("Novo atendimento"), quick=quick or {}, quick_error=quick_error or {},
        )

    @expose("/cliente", methods=["POST"])
    @has_access
    @permission_name("work")
    def register_customer(self) -> Any:
        """Register a customer without leaving the flow, then continue with the search."""
        form = request.form
        customer = Customer(person_type=form.get("person_type", "PF"), name=form.get("name", ""),
                            document=form.get("document", ""), active=True)
        if form.get("phone"):
            customer.phones.append(CustomerPhone(number=form["phone"], kind=form.get("phone_kind", "mobile"),
                                                 is_primary=True))
        if form.get("email"):
            customer.emails.append(CustomerEmail(email=form["email"], is_primary=True))
        if form.get("street"):
            city = db.session.get(City, parse_id(form["city"])) if parse_id(form.get("city")) else None
            customer.addresses.append(CustomerAddress(
                street=form["street"], street_number=form.get("street_number"), district=form.get("district"),
                zip_code="".join(c for c in form.get("zip_code", "") if c.isdigit()) or None, city=city,
                is_primary=True))
        try:
            customers.save_customer(db.session, customer)
            db.session.commit()
        except DomainError as error:
            db.session.rollback()
            field = QUICK_FIELDS.get(error.field or "", error.field or "name")
            flash(gettext("Cliente não cadastrado: corrija o campo indicado."), "danger")
            return self.search(quick=form.to_dict(), quick_error={field: error.message})
        flash(gettext("Cliente %(name)s cadastrado.", name=customer.name), "success")
        return redirect(url_for(".search", q=customer.document))

    @expose("/assunto/<int:subject_id>")
    @has_access
    @permission_name("search")
    def subject_rules(self, subject_id: int) -> Any:
        """What a subject requires and fills in, for the ticket form."""
        subject = db.session.get(Subject, subject_id)
        if subject is None:
            abort(404)
        params = get_parameters(db.session)
        return jsonify(
            requires_contract=subject.requires_contract or subject.requires_login,
            requires_login=subject.requires_login,
            requires_channel=subject.requires_channel,
            requires_sub_status=subject.requires_sub_status,
            requires_closing_reason=subject.requires_closing_reason or params.closing_reason_required,
            department=subject.default_department_id,
            priority=subject.default_priority_id,
            sla_hours=subject.sla_hours,
        )

    @expose("/atendimento/<int:ticket_id>/mensagem", methods=["POST"])
    @has_access
    @permission_name("work")
    def add_message(self, ticket_id: int) -> Any:
        ticket = _visible_ticket(ticket_id)
        message = TicketMessage(ticket=ticket, body=request.form.get("body", ""),
                                is_internal=request.form.get("visibility") != "customer")
        return _apply(lambda: messages.add_message(db.session, message, current_user()),
                      gettext("Mensagem registrada."), ticket_id, "messages")

    @expose("/atendimento/<int:ticket_id>/os", methods=["POST"])
    @has_access
    @permission_name("work")
    def add_service_order(self, ticket_id: int) -> Any:
        ticket = _visible_ticket(ticket_id)
        form = request.form
        order_type = db.session.get(ServiceOrderType, parse_id(form["type"])) if parse_id(form.get("type")) else None
        order = ServiceOrder(ticket=ticket, type=order_type, description=form.get("description"),
                             address=form.get("address") or None)
        return _apply(lambda: service_orders.create_service_order(db.session, order, current_user()),
                      gettext("Ordem de serviço aberta."), ticket_id, "orders")

    @expose("/base-de-conhecimento")
    @has_access
    @permission_name("search")
    def knowledge(self) -> Any:
        """Search articles by keyword (title, keywords or solution)."""
        text = request.args.get("q", "").strip()
        query = select(KnowledgeArticle).where(KnowledgeArticle.active.is_(True))
        if text:
            like = f"%{text.lower()}%"
            from sqlalchemy import func

            query = query.where(or_(func.lower(KnowledgeArticle.title).like(like),
                                    func.lower(KnowledgeArticle.keywords).like(like),
                                    func.lower(KnowledgeArticle.solution).like(like)))
        subject = request.args.get("subject", "")
        if not text and parse_id(subject):
            query = query.where(KnowledgeArticle.subject_id == parse_id(subject))
        articles = db.session.scalars(query.order_by(KnowledgeArticle.title).limit(10)).all()
        return jsonify(results=[{"id": a.id, "title": a.title, "guidance": a.operator_guidance or "",
                                 "solution": a.solution} for a in articles])

    @expose("/atendimento/<int:ticket_id>/artigo/<int:article_id>", methods=["POST"])
    @has_access
    @permission_name("work")
    def use_article(self, ticket_id: int, article_id: int) -> Any:
        """Register which article was used on the ticket."""
        ticket = _visible_ticket(ticket_id)
        article = db.session.get(KnowledgeArticle, article_id)
        if article is None:
            abort(404)
        return _apply(
            lambda: history.record(db.session, ticket, current_user(), "action", field="article",
                                   new=article.title, note=_l("Artigo da base de conhecimento utilizado")),
            gettext("Artigo registrado no atendimento."), ticket_id, "history")


def register(appbuilder: Any) -> None:
    appbuilder.add_view(AgentView, "AgentSearch", label=_l("Novo atendimento"), icon="fa-search",
                        category="Service", category_label=_l("Atendimento"))
