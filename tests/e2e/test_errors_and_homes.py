"""In Chromium, for every role: the home shows that role's work; a missing page and a refused page answer
in pt-BR inside the application layout. Screenshots: home-<role>.png, erro-404-<role>.png, erro-403-<role>.png."""
from __future__ import annotations

import re
from typing import Any

import pytest

from tests.e2e.test_browser import ENGLISH, Visit, visit  # noqa: F401  (fixture)

ERROR_ENGLISH = ["Not Found", "Forbidden", "Internal Server Error", "Method Not Allowed", "Bad Request",
                 "Unauthorized", "Redirecting", "Traceback", "Access is Denied"]
ROLES = {  # user: (what the home shows, a page the role may not open or None, what the refusal says)
    "admin": ("Cadastros", None, None),
    "gestor": ("Em aberto e vencidos", "/subjectview/add", "Acesso negado"),
    "atendente": ("Meus atendimentos em aberto", "/subjectview/add", "Acesso negado"),
    "tecnico": (None, "/ticketview/list/", "Acesso negado"),
    "assinante": ("Central do Assinante", "/ticketview/list/", "Central do Assinante"),
}


def error_page(visit: Visit, url: str, status: int, name: str) -> str:
    """Open a page that must fail: right status, inside the layout, pt-BR only; returns its text."""
    page = visit.page
    response = page.goto(url)
    assert response is not None and response.status == status, (url, response and response.status)
    page.screenshot(path=str(visit.folder / f"{name}.png"), full_page=True)
    assert page.locator(".navbar").count() > 0, f"{name}: fora do layout da aplicação"
    assert page.get_attribute("html", "lang") == "pt-BR"
    text = page.inner_text("body")
    english = [word for word in ENGLISH + ERROR_ENGLISH if re.search(rf"\b{re.escape(word)}\b", text)]
    if english:
        visit.problems.append(f"{name}: inglês na página: {english}")
    return text


@pytest.fixture
def work(db: Any, users: dict[str, Any]) -> dict[str, str]:
    """An open ticket (overdue) assigned to the agent and a draft of theirs."""
    import datetime as dt

    from tests import factories

    agent = db.session.merge(users["atendente"])
    customer = factories.customer(db.session, name="Joana Prado")
    mine = factories.ticket(db.session, agent, customer, assignees=[agent], due_at=dt.datetime(2020, 1, 1, 8, 0))
    draft = factories.ticket(db.session, agent, customer, is_draft=True)
    return {"mine": mine.protocol, "draft": draft.protocol}


@pytest.mark.parametrize("username", list(ROLES))
def test_home_and_error_pages_for_each_role(visit: Visit, work: dict[str, str], username: str) -> None:
    shows, forbidden, refusal = ROLES[username]
    visit.login(username, name=f"home-{username}-login")
    text = visit.goto("/", f"home-{username}")
    if username == "tecnico":
        assert re.search(r"/(tecnico|myserviceorderview/list)/", visit.page.url), visit.page.url
    else:
        assert shows in text, (username, text[:800])
    if username == "atendente":
        assert work["mine"] in text and work["draft"] in text
    if username in ("atendente", "admin"):
        visit.page.fill("#home-q", "Maria")
        with visit.page.expect_navigation():
            visit.page.press("#home-q", "Enter")
        assert visit.page.url.endswith("/atendimento/?q=Maria"), visit.page.url
    if username == "atendente":
        visit.goto("/", f"home-{username}")
        with visit.page.expect_navigation():
            visit.page.click(f"#home-my-open a:has-text('{work['mine']}')")
        assert re.search(r"/ticketview/edit/\d+", visit.page.url), visit.page.url
    if username == "assinante":
        assert "Em aberto" not in text and "Buscar cliente" not in text
        assert visit.page.get_attribute("#customer-portal", "href") == "/central/"

    text = error_page(visit, "/pagina-que-nao-existe", 404, f"erro-404-{username}")
    assert "Página não encontrada" in text and "Voltar ao início" in text
    if forbidden:
        text = error_page(visit, forbidden, 403, f"erro-403-{username}")
        assert refusal in text, text[:800]
        if username == "assinante":
            assert "Acesso negado" not in text
    visit.assert_ptbr()


def test_api_errors_are_ptbr_json_in_the_browser(page: Any) -> None:
    response = page.goto("/api/v1/ticket/999999")
    assert response is not None and response.status == 401
    assert response.json()["message"] == "Token inválido ou expirado."
    response = page.goto("/api/v1/nao-existe/")
    assert response is not None and response.status == 404
    assert response.json() == {"message": "Recurso não encontrado."}
