"""The customer's side in Chromium at 360×740 and 1366×768 (issue 11, Must show 2): first access by a link that
really arrives by e-mail (SMTP on loopback), a password, login with a punctuated CPF, a ticket opened with its
protocol, date and time, the agent's public message (never the internal note), a reiteration with a file, the
rating after the resolution and the history PDF with every protocol and every public message."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests import factories
from tests.e2e.test_browser import Visit, visit  # noqa: F401  (fixture)
from tests.mailbox import body_of, delivering, mailbox, wait_for  # noqa: F401  (fixtures)
from tests.support import session, user

CPF = "390.533.447-05"
EMAIL = "joana.pereira@example.com"
PASSWORD = "Girassol-azul-na-janela-77"
PDF = b"%PDF-1.4\n% foto do modem\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
EARLIER_PUBLIC = "Sua visita técnica foi confirmada."
PUBLIC = "Olá, Joana: identificamos uma falha na sua rua e a equipe já está no local."
INTERNAL = "NOTA-INTERNA cliente ligou irritado, oferecer desconto"
REITERATION = "Continuo sem internet depois da visita."


def _no_horizontal_scroll(visit: Visit, width: int, name: str) -> None:
    scroll = visit.page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"{name}: rolagem horizontal ({scroll}px numa tela de {width}px)"


def _link_in_mail(mailbox: Any) -> str:
    for message in mailbox.to(EMAIL):
        found = re.search(r"https?://\S+/central/primeiro-acesso/[A-Za-z0-9_\-]+", body_of(message))
        if found:
            return found.group(0)
    return ""


@pytest.mark.parametrize("width, height", [(360, 740), (1366, 768)])
def test_customer_walks_the_portal(visit, app, live_server, mailbox, delivering, users, width, height):
    from app.domain import actions, messages
    from app.models import CustomerEmail, Ticket, TicketMessage

    delivering(MAIL_SERVER="127.0.0.1", MAIL_PORT=mailbox.port, MAIL_USE_TLS=False, MAIL_USE_SSL=False,
               PUBLIC_BASE_URL=live_server)
    with session(app) as s:
        agent = user(s, "atendente")
        joana = factories.customer(s, name="Joana Pereira", document=CPF.replace(".", "").replace("-", ""))
        joana.emails.append(CustomerEmail(email=EMAIL, is_primary=True))
        contract = factories.contract(s, joana, login="joana.fibra")
        subject = factories.subject(s, name="Internet lenta ou sem conexão", portal_available=True)
        s.commit()
        earlier = factories.ticket(s, agent, owner=joana, subject=subject, contract=contract,
                                   opening_description="Ligação pelo telefone: sem sinal")
        messages.add_message(s, TicketMessage(ticket=earlier, is_internal=False, body=EARLIER_PUBLIC), agent)
        s.commit()
        earlier_protocol, contract_id = earlier.protocol, contract.id
    suffix = f"-{width}"
    visit.suffix = suffix
    visit.page.set_viewport_size({"width": width, "height": height})

    def check_width(name: str) -> None:
        if width <= 360:
            _no_horizontal_scroll(visit, width, name)

    # first access: the link arrives by e-mail
    text = visit.goto("/central/", "portal-01-entrar")
    assert "CPF/CNPJ" in text and "Senha" in text
    check_width("entrar")
    visit.submit("#request-access", "portal-02-primeiro-acesso")
    visit.page.fill("#document", CPF)
    text = visit.submit("#access-submit", "portal-03-link-enviado")
    assert "Verifique seu e-mail" in text
    check_width("link-enviado")
    link = wait_for(lambda: _link_in_mail(mailbox), 30, "o e-mail com o link de primeiro acesso não chegou")
    assert link.startswith(live_server), link
    text = visit.goto(link, "portal-04-criar-senha")
    assert "Olá, Joana!" in text
    check_width("criar-senha")
    visit.page.fill("#password", PASSWORD)
    visit.page.fill("#confirm", PASSWORD)
    text = visit.submit("#password-submit", "portal-05-senha-definida")
    assert "Senha definida." in text

    # login with a punctuated CPF
    visit.page.fill("#document", CPF)
    visit.page.fill("#password", PASSWORD)
    text = visit.submit("#login-submit", "portal-06-meus-atendimentos")
    assert "Meus atendimentos" in text and earlier_protocol in text
    check_width("meus-atendimentos")

    # open a ticket: its protocol with the date and time at once
    visit.submit("#new-ticket", "portal-07-abrir")
    check_width("abrir")
    visit.page.select_option("#subject", label="Internet lenta ou sem conexão")
    visit.page.fill("#description", "A internet cai toda noite às 21h.")
    text = visit.submit("#new-ticket-submit", "portal-08-protocolo")
    found = re.search(r"protocolo (\d{14}), aberto em (\d{2}/\d{2}/\d{4}) às (\d{2}:\d{2})", text)
    assert found, text[:1500]
    protocol = found.group(1)
    assert visit.page.inner_text("#ticket-protocol") == f"Protocolo {protocol}"
    assert visit.page.inner_text("#ticket-opened") == f"{found.group(2)} {found.group(3)}"
    check_width("protocolo")
    with session(app) as s:
        ticket = s.query(Ticket).filter_by(protocol=protocol).one()
        ticket_id = ticket.id
        assert ticket.opened_at.strftime("%d/%m/%Y %H:%M") == f"{found.group(2)} {found.group(3)}"
        assert ticket.contract_id == contract_id and ticket.channel.is_portal

    # the agent answers: the public message shows, the internal note never does
    with session(app) as s:
        agent, ticket = user(s, "atendente"), s.get(Ticket, ticket_id)
        messages.add_message(s, TicketMessage(ticket=ticket, is_internal=False, body=PUBLIC), agent)
        messages.add_message(s, TicketMessage(ticket=ticket, is_internal=True, body=INTERNAL), agent)
        s.commit()
    text = visit.goto(f"/central/atendimentos/{ticket_id}", "portal-09-resposta-da-equipe")
    assert PUBLIC in text and INTERNAL not in text and "Atendente Teste" not in text

    # reiterate with a file
    visit.page.fill("#reiterate-form textarea", REITERATION)
    visit.page.set_input_files("#reiterate-form input[type=file]",
                               files=[{"name": "foto-do-modem.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    text = visit.submit("#reiterate-submit", "portal-10-reiterado")
    assert "Reiteração registrada." in text and REITERATION in text and "foto-do-modem.pdf" in text
    check_width("reiterado")

    # the staff resolve it through the domain; the customer rates it
    with session(app) as s:
        actions.finalize(s, s.get(Ticket, ticket_id), user(s, "atendente"), "Cabo trocado na rua; conexão normal.")
        s.commit()
    text = visit.goto(f"/central/atendimentos/{ticket_id}", "portal-11-resolvido")
    assert "Cabo trocado na rua; conexão normal." in text
    visit.page.check("#rate-form input[name=rating][value='5']")
    visit.page.fill("#rate-form textarea", "Resolveram rápido.")
    text = visit.submit("#rate-submit", "portal-12-avaliado")
    assert "Obrigado pela sua avaliação." in text and "5/5 — Resolveram rápido." in text
    check_width("avaliado")
    with session(app) as s:
        rated = s.get(Ticket, ticket_id)
        assert (rated.rating, rated.rating_comment) == (5, "Resolveram rápido.")

    # the history PDF: every protocol and every public message, no internal note
    visit.goto("/central/atendimentos", "portal-13-lista-final")
    with visit.page.expect_download() as download:
        visit.page.click("#history-pdf")
    target = Path(visit.folder) / f"portal-historico{suffix}.pdf"
    download.value.save_as(str(target))
    text = " ".join(factories.pdf_text(target.read_bytes()).split())
    for expected in (earlier_protocol, protocol, EARLIER_PUBLIC, PUBLIC, REITERATION,
                     "Cabo trocado na rua; conexão normal."):
        assert expected in text, expected
    assert INTERNAL not in text and "Atendente Teste" not in text

    visit.submit("#logout", "portal-14-saiu")
    assert "/central/entrar" in visit.page.url
    visit.assert_ptbr()
