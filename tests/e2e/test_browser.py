"""End to end in a real browser: log in, the main lists and starting a ticket, all in pt-BR.

Hard failures (HTTP status, server errors, a broken flow) stop a test at once; English left on
a page is collected along the way and reported together at the end, so one leftover label does
not hide the rest of the flow. Screenshots go to test-artifacts/screenshots/.
"""
from __future__ import annotations

import re
from urllib.parse import urlparse
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import PASSWORD

# whole words that must not show up on a pt-BR page (text, placeholders, titles)
ENGLISH = ["Sign In", "Sign in", "Username", "Password", "Logout", "Add a new record", "No records found",
           "List Tickets", "Edit Ticket", "Record Count", "Actions", "Select Value", "Detail", "Search", "Save",
           "Delete", "Home", "active", "open", "scheduled", "None", "True", "False"]
# FAB's own pt_BR catalogue renders "Sign In" as "Registrar" (= sign up)
BAD_LOGIN_LABELS = ("Sign In", "Registrar", "Register")


class Visit:
    """Open pages, check and screenshot them; English found is kept in self.problems."""

    def __init__(self, page: Any, folder: Path) -> None:
        self.page = page
        self.folder = folder
        self.problems: list[str] = []
        self.suffix = ""  # tells apart the screenshots of one test run for several roles

    def check(self, response: Any, name: str) -> str:
        page = self.page
        assert response is not None, name
        assert response.status == 200, (name, response.status, page.url)
        html = page.content()
        for marker in ("Traceback", "Internal Server Error"):
            assert marker not in html, (name, marker)
        page.screenshot(path=str(self.folder / f"{name}{self.suffix}.png"), full_page=True)
        lang = page.get_attribute("html", "lang") or ""
        if not lang.lower().startswith("pt"):
            self.problems.append(f"{name}: <html lang={lang!r}> (esperado pt-BR)")
        text = page.inner_text("body")
        attributes = page.eval_on_selector_all(
            "[placeholder], [data-placeholder], [title]",
            "els => els.map(e => [e.getAttribute('placeholder'), e.getAttribute('data-placeholder'),"
            " e.getAttribute('title')].filter(Boolean).join(' '))",
        )
        visible = text + "\n" + "\n".join(attributes)
        english = [word for word in ENGLISH if re.search(rf"\b{re.escape(word)}\b", visible)]
        if english:
            self.problems.append(f"{name}: inglês na página: {english}")
        return text

    def goto(self, url: str, name: str) -> str:
        return self.check(self.page.goto(url), name)

    def submit(self, selector: str, name: str) -> str:
        with self.page.expect_navigation() as navigation:
            self.page.click(selector)
        return self.check(navigation.value, name)

    def login(self, username: str = "admin", name: str = "01-login") -> None:
        text = self.goto("/login/", name)
        assert "Usuário" in text and "Senha" in text, text[:500]
        button = self.page.locator("form [type=submit]").first
        label = (button.get_attribute("value") or button.inner_text()).strip()
        if label in BAD_LOGIN_LABELS:
            self.problems.append(f"{name}: botão de login diz {label!r} (esperado 'Entrar')")
        self.page.fill("input[name=username]", username)
        self.page.fill("input[name=password]", PASSWORD)
        with self.page.expect_navigation():
            self.page.click("form [type=submit]")
        assert "/login" not in self.page.url, self.page.inner_text("body")[:500]

    def pick(self, select_id: str, typed: str, expected: str) -> str:
        """Choose an option of a select2 AJAX look-up by typing; returns the suggestion's text."""
        self.page.click(f"select#{select_id} + .select2-container .select2-selection")
        self.page.fill(".select2-container--open .select2-search__field", typed)
        option = self.page.locator(".select2-results__option", has_text=expected).first
        option.wait_for()
        text = option.inner_text()
        option.click()
        return text

    def assert_ptbr(self) -> None:
        if self.problems:
            pytest.fail("textos fora do pt-BR:\n  " + "\n  ".join(self.problems), pytrace=False)


@pytest.fixture
def visit(page: Any, screenshots: Path) -> Visit:
    return Visit(page, screenshots)


def test_admin_navigates_in_ptbr(visit, db, users):
    from app.domain.service_orders import create_service_order
    from app.models import ServiceOrder
    from tests import factories

    user = db.session.merge(users["atendente"])
    ticket = factories.ticket(db.session, user, owner=factories.customer(db.session, name="João da Silva"))
    factories.contract(db.session, ticket.customer)
    create_service_order(db.session, ServiceOrder(ticket=ticket, description="Trocar o roteador"), user)
    db.session.commit()

    visit.login()
    text = visit.goto("/", "02-home")
    assert "Atendimentos" in text
    for index, (name, url, title, row) in enumerate([
        ("tickets", "/ticketview/list/", "Atendimentos", ticket.protocol),
        ("customers", "/customerview/list/", "Clientes", "João da Silva"),
        ("service-orders", "/serviceorderview/list/", "Ordens de serviço", ticket.protocol),
        ("subjects", "/subjectview/list/", "Assuntos", ticket.subject.name),
    ], start=3):
        text = visit.goto(url, f"{index:02d}-{name}")
        assert title.lower() in text.lower(), (url, title, text[:500])
        assert row in text, (url, row, text[:800])
    visit.assert_ptbr()


def test_start_site_ticket_from_the_search(visit, db):
    from app.models import Site

    db.session.add(Site(name="POP Vila Mariana", kind="pop", active=True))
    db.session.commit()
    visit.login()
    visit.goto("/atendimento/", "07-ticket-start")
    visit.page.click("a[href='#site-ticket-body']")
    visit.page.select_option("#start-site-ticket select#site", label="POP Vila Mariana")
    text = visit.submit("#start-site-ticket [type=submit]", "08-ticket-edit-site")
    assert re.search(r"/ticketview/edit/\d+", visit.page.url), visit.page.url
    assert re.search(r"protocolo \d{14}", text), text[:800]
    assert visit.page.input_value("select#type") == "site"
    assert visit.page.locator("select#site option[selected]").inner_text().strip() == "POP Vila Mariana"
    visit.assert_ptbr()


def test_every_new_ticket_entry_point_leads_to_the_one_flow(visit, db):
    """Home, menu, the customer's record, the "+" of the ticket list and F2: all open the search (seed 000)."""
    from tests import factories

    customer = factories.customer(db.session, name="Maria Aparecida da Silva")
    contract = factories.contract(db.session, customer, login="maria.silva")
    db.session.commit()
    visit.login("atendente")
    entries = [
        ("/", "a.btn[href='/atendimento/']", "09-inicio"),
        ("/ticketview/list/", "#list-new-record", "10-lista-mais"),
        ("/ticketview/list/", ".navbar a[href='/atendimento/']", "11-menu"),
    ]
    for url, selector, shot in entries:
        visit.goto(url, shot)
        if selector.startswith(".navbar"):
            visit.page.click(".navbar a.dropdown-toggle:has-text('Atendimento')")
        visit.submit(selector, f"{shot}-busca")
        assert urlparse(visit.page.url).path == "/atendimento/", (shot, visit.page.url)
    visit.goto("/ticketview/add", "12-endereco-antigo")
    assert urlparse(visit.page.url).path == "/atendimento/"
    visit.goto(f"/customerview/show/{customer.id}", "13-ficha-do-cliente")
    text = visit.submit("#customer-new-ticket", "14-ficha-novo-atendimento")
    assert "Maria Aparecida da Silva" in text and contract.number in text
    text = visit.submit(f".atende-open-ticket:has(input[name=contract][value='{contract.id}']) button",
                        "15-atendimento-da-ficha")
    assert re.search(r"protocolo \d{14}", text), text[:800]
    assert visit.page.locator("#contract option[selected]").inner_text().startswith(contract.number)
    visit.assert_ptbr()
