"""The staff side of the portal in Chromium: the Atendente, on the phone with a customer, clicks "Reenviar acesso" on
the customer's record (seed 003) and the link really arrives and works; then clicks "Histórico do cliente" on the
ticket and on the record and gets the R26 document with every protocol and public message and no internal note; the
Gestor does the same. (The Técnico, who may not see customers' records, is refused: tests/test_portal.py.)"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests import factories
from tests.e2e.test_browser import Visit, visit  # noqa: F401  (fixture)
from tests.mailbox import body_of, delivering, mailbox, wait_for  # noqa: F401  (fixtures)
from tests.support import session, user

EMAIL = "carlos.ramos@example.com"
PUBLIC = "Carlos, a troca do roteador foi agendada para amanhã."
INTERNAL = "NOTA-INTERNA cliente pediu desconto, não oferecer"
PASSWORD = "Pinheiro-verde-na-serra-31"


def _customer(app):
    from app.domain import messages
    from app.models import CustomerEmail, TicketMessage

    with session(app) as s:
        agent = user(s, "atendente")
        carlos = factories.customer(s, name="Carlos Ramos", document="52998224725")
        carlos.emails.append(CustomerEmail(email=EMAIL, is_primary=True))
        s.flush()
        first = factories.ticket(s, agent, owner=carlos, opening_description="Roteador reiniciando sozinho")
        second = factories.ticket(s, agent, owner=carlos, opening_description="Segunda via do boleto")
        messages.add_message(s, TicketMessage(ticket=first, is_internal=False, body=PUBLIC), agent)
        messages.add_message(s, TicketMessage(ticket=first, is_internal=True, body=INTERNAL), agent)
        s.commit()
        return carlos.id, first.id, [first.protocol, second.protocol]


def _download(visit: Visit, selector: str, name: str) -> str:
    with visit.page.expect_download() as download:
        visit.page.click(selector)
    target = Path(visit.folder) / name
    download.value.save_as(target)
    return " ".join(factories.pdf_text(target.read_bytes()).split())


@pytest.mark.parametrize("role", ["atendente", "gestor"])
def test_staff_resend_access_and_produce_the_customer_history(visit, app, live_server, mailbox, delivering, users,
                                                              role):
    delivering(MAIL_SERVER="127.0.0.1", MAIL_PORT=mailbox.port, MAIL_USE_TLS=False, MAIL_USE_SSL=False,
               PUBLIC_BASE_URL=live_server)
    customer_id, ticket_id, protocols = _customer(app)

    visit.suffix = f"-{role}"
    visit.login(role)
    text = visit.goto(f"/customerview/show/{customer_id}", "acesso-01-ficha-do-cliente")
    assert "Reenviar acesso" in text and "primeiro acesso ainda não feito" in text and EMAIL in text
    text = visit.submit("#customer-resend-access", "acesso-02-acesso-reenviado")
    assert f"Link de primeiro acesso à central enviado para {EMAIL}." in text
    assert visit.page.url.rstrip("/").endswith(f"/customerview/show/{customer_id}"), visit.page.url

    def link() -> str:
        for message in mailbox.to(EMAIL):
            found = re.search(r"https?://\S+/central/primeiro-acesso/[A-Za-z0-9_\-]+", body_of(message))
            if found:
                return found.group(0)
        return ""

    url = wait_for(link, 30, "o e-mail com o link de acesso não chegou")
    assert url.startswith(live_server), url

    text = visit.goto(f"/ticketview/edit/{ticket_id}", "acesso-03-atendimento")
    assert "Histórico do cliente" in text
    history = _download(visit, "a#customer-history, a[href*='/cliente/atendimento/']", f"acesso-historico-{role}.pdf")
    assert "Carlos Ramos" in history and all(p in history for p in protocols), history[:400]
    assert PUBLIC in history and "NOTA-INTERNA" not in history
    visit.goto(f"/customerview/show/{customer_id}", "acesso-04-ficha-de-novo")
    record = _download(visit, "#customer-history", f"acesso-historico-ficha-{role}.pdf")
    assert all(p in record for p in protocols) and "NOTA-INTERNA" not in record
    visit.page.context.clear_cookies()
    text = visit.goto(url, "acesso-05-cliente-cria-senha")
    assert "Olá, Carlos!" in text
    visit.page.fill("#password", PASSWORD)
    visit.page.fill("#confirm", PASSWORD)
    text = visit.submit("#password-submit", "acesso-06-senha-definida")
    assert "Senha definida." in text
    visit.page.fill("#document", "529.982.247-25")
    visit.page.fill("#password", PASSWORD)
    text = visit.submit("#login-submit", "acesso-07-cliente-na-central")
    assert "Meus atendimentos" in text and all(p in text for p in protocols)
    assert not visit.problems, visit.problems

