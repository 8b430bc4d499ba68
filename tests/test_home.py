"""Each role's home shows its work: agent's search and tickets, manager's figures, technician's day,
administrator's shortcuts, and a pointer to the portal for a customer."""
from __future__ import annotations

import datetime as dt
import re
from html import unescape
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import select

from tests import factories


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


@pytest.fixture
def work(app: Any) -> dict[str, Any]:
    """Tickets of the first agent (open, overdue, draft, resolved) and one of the second agent."""
    from app.extensions import appbuilder, db
    from app.models import TicketStatus

    with app.test_request_context():
        s = db.session
        me, other = (appbuilder.sm.find_user(username=name) for name in ("atendente", "atendente2"))
        statuses = {status.category: status for status in s.scalars(select(TicketStatus).order_by(TicketStatus.order.desc()))}
        customer = factories.customer(s, name="Joana Prado")
        made = {
            "mine": factories.ticket(s, me, customer, assignees=[me]),
            "overdue": factories.ticket(s, me, customer, assignees=[me], due_at=dt.datetime(2020, 1, 1, 8, 0)),
            "draft": factories.ticket(s, me, customer, is_draft=True),
            "resolved": factories.ticket(s, me, customer, assignees=[me], status=statuses["resolved"],
                                         closing_description="Resolvido"),
            "theirs": factories.ticket(s, other, customer, assignees=[other]),
            "their_draft": factories.ticket(s, other, customer, is_draft=True),
        }
        result = {key: (ticket.id, ticket.protocol) for key, ticket in made.items()}
        db.session.remove()
        return result


def test_agent_home_has_search_new_ticket_and_my_tickets(login, work):
    html = login("atendente").get("/").get_data(as_text=True)
    form = re.search(r'<form[^>]*id="home-search"[^>]*>', html).group(0)
    assert 'action="/atendimento/"' in form and 'method="get"' in form
    assert re.search(r'<input[^>]*name="q"', html)
    assert re.search(r'href="/atendimento/"[^>]*>.*?Novo atendimento', html, re.S)
    mine = html[html.index('id="home-my-open"'):html.index('id="home-my-drafts"')]
    drafts = html[html.index('id="home-my-drafts"'):]
    for key in ("mine", "overdue"):
        pk, protocol = work[key]
        assert f'href="/ticketview/edit/{pk}"' in mine and protocol in mine, key
    assert mine.index(work["overdue"][1]) < mine.index(work["mine"][1]), "the most urgent first"
    assert "atende-sla-overdue" in mine
    assert f'href="/ticketview/edit/{work["draft"][0]}"' in drafts
    for key in ("resolved", "theirs", "their_draft"):
        assert work[key][1] not in html, key
    text = text_of(html)
    assert "Meus atendimentos em aberto 2" in text and "Meus rascunhos 1" in text


def test_agent_home_without_work_says_so(login):
    text = text_of(login("atendente").get("/").get_data(as_text=True))
    assert "Nenhum atendimento em aberto atribuído a você." in text and "Nenhum rascunho." in text


def test_manager_home_shows_todays_dashboard_figures(login, work):
    html = login("gestor").get("/").get_data(as_text=True)
    text = text_of(html)
    # open, non-draft: mine, overdue, theirs; overdue: one; opened today: those three and the resolved one
    assert re.search(r"Em aberto 3 Em aberto e vencidos 1 Abertos hoje 4 Resolvidos hoje 1", text), text
    assert 'href="/painel/"' in html and 'href="/equipe/"' in html
    overdue = re.search(r'id="home-overdue".*?<a href="([^"]+)"', html, re.S).group(1)
    assert overdue.startswith("/ticketview/list/?") and "due_window=overdue" in overdue
    assert 'id="home-search"' in html and 'id="home-shortcuts"' not in html  # managers also take calls


def test_technician_home_is_their_day(app, login, monkeypatch):
    client = login("tecnico")
    if "TechnicianView.today" in app.view_functions:
        response = client.get("/")
        assert response.status_code == 302 and response.headers["Location"].endswith("/tecnico/")
    monkeypatch.delitem(app.view_functions, "TechnicianView.today", raising=False)
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"].endswith("/myserviceorderview/list/")


def test_admin_home_has_configuration_shortcuts_and_search(login):
    html = login("admin").get("/").get_data(as_text=True)
    shortcuts = html[html.index('id="home-shortcuts"'):]
    for label, url in (("Assuntos", "/subjectview/list/"), ("Status de atendimento", "/ticketstatusview/list/"),
                       ("Canais de atendimento", "/channelview/list/"), ("Departamentos", "/departmentview/list/"),
                       ("Motivos de fechamento", "/closingreasonview/list/"),
                       ("Parâmetros gerais", "/generalparametersview/list/"), ("Usuários", "/users/list/"),
                       ("Perfis", "/roles/list/")):
        assert re.search(rf'href="{re.escape(url)}"[^>]*>\s*(<i[^>]*></i>)?\s*{label}\s*<', shortcuts), label
    assert 'id="home-search"' in html
    assert "Permissões" not in text_of(shortcuts)


def test_admin_shortcuts_are_only_those_the_user_may_open(app, login, monkeypatch):
    from app.extensions import appbuilder

    allowed = appbuilder.sm.has_access
    monkeypatch.setattr(appbuilder.sm, "has_access",
                        lambda permission, view: view != "Subjects" and allowed(permission, view))
    html = login("admin").get("/").get_data(as_text=True)
    shortcuts = html[html.index('id="home-shortcuts"'):]
    assert "/subjectview/list/" not in shortcuts and "/channelview/list/" in shortcuts


def test_customer_gets_the_portal_pointer_not_the_staff_home(login, work):
    response = login("assinante").get("/")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="customer-pointer"' in html and 'href="/central/"' in html
    text = text_of(html)
    assert "Esta é a área da equipe de atendimento" in text and "Central do Assinante" in text
    for staff in ("Em aberto", "Meus atendimentos", "Buscar cliente", "Novo atendimento", work["mine"][1]):
        assert staff not in text, staff


def test_anonymous_home_links_to_login(app):
    response = app.test_client().get("/")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert re.search(r'href="/login/"[^>]*>.*?Entrar', html, re.S)
    assert "Em aberto" not in html


@pytest.mark.parametrize("roles, home", [
    (["Admin", "Assinante"], "Admin"),
    (["Atendente", "Gestor"], "Gestor"),
    (["Tecnico", "Atendente"], "Atendente"),
    (["Assinante", "Tecnico"], "Tecnico"),
    (["Assinante"], "Assinante"),
    (["Public"], None),
])
def test_the_strongest_role_decides_the_home(roles, home):
    from app.pages.home import home_role

    user = SimpleNamespace(is_authenticated=True, roles=[SimpleNamespace(name=name) for name in roles])
    assert home_role(user) == home


def test_a_manager_who_is_also_an_agent_sees_the_managers_home(app, login, db):
    from app.extensions import appbuilder
    from tests.conftest import PASSWORD

    sm = appbuilder.sm
    sm.add_user("gestora.atendente", "Gestora", "Atendente", "ga@example.com",
                [sm.find_role("Atendente"), sm.find_role("Gestor")], PASSWORD)
    db.session.commit()
    html = login("gestora.atendente").get("/").get_data(as_text=True)
    assert 'id="home-dashboard"' in html and 'id="home-my-open"' not in html
