"""The technician's day on a phone (360×740): today's OS, Iniciar, Finalizar with notes, the ticket's history
(issue 9, must show 6). Screenshots: test-artifacts/screenshots/tecnico-*.png."""
from __future__ import annotations

import datetime as dt
import re
from typing import Any, Iterator

import pytest

from tests.e2e.test_browser import Visit

PHONE = {"width": 360, "height": 740}


@pytest.fixture
def phone(browser: Any, live_server: str, screenshots: Any) -> Iterator[Visit]:
    """A phone-sized browser tab."""
    context = browser.new_context(base_url=live_server, locale="pt-BR", viewport=PHONE, is_mobile=True,
                                  has_touch=True)
    context.set_default_timeout(15_000)
    try:
        yield Visit(context.new_page(), screenshots)
    finally:
        context.close()


def _data(db: Any, users: dict[str, Any]) -> dict[str, Any]:
    from app.domain import messages, service_orders
    from app.domain.clock import now
    from app.models import ServiceOrder, ServiceOrderType, TicketMessage
    from tests import factories

    agent, tech = db.session.merge(users["atendente"]), db.session.merge(users["tecnico"])
    customer = factories.customer(db.session, name="Maria Aparecida dos Santos Oliveira")
    contract = factories.contract(db.session, customer)
    contract.street, contract.street_number, contract.district = "Avenida Presidente Juscelino Kubitschek", "1909", "Vila Nova Conceição"
    ticket = factories.ticket(db.session, agent, customer, contract=contract,
                              opening_description="Sem conexão desde a queda de energia; LED LOS vermelho na ONU.")
    messages.add_message(db.session, TicketMessage(ticket=ticket, body="Estarei em casa depois das 9h.",
                                                   is_internal=False), agent)
    today = dt.datetime.combine(now().date(), dt.time.min)
    kind = db.session.query(ServiceOrderType).order_by(ServiceOrderType.id).first()
    order = ServiceOrder(ticket=ticket, technician=tech, type=kind, status="scheduled",
                         description="Verificar a fibra e trocar o conector",
                         scheduled_start=today + dt.timedelta(hours=8), scheduled_end=today + dt.timedelta(hours=12))
    service_orders.create_service_order(db.session, order, agent)
    db.session.commit()
    return {"order": order.id, "ticket": ticket.id, "phone": customer.phones[0].number, "protocol": ticket.protocol}


def _fits(visit: Visit, name: str) -> None:
    """The page is no wider than the phone's screen."""
    width, inner = visit.page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width <= inner, f"{name}: rolagem horizontal ({width}px de conteúdo em {inner}px de tela)"


def test_technician_starts_and_finishes_an_order_on_a_phone(phone: Visit, db, users):
    data = _data(db, users)
    order_id = data["order"]
    visit = phone
    visit.login("tecnico", name="tecnico-01-login")
    _fits(visit, "tecnico-01-login")

    text = visit.goto("/tecnico/", "tecnico-02-meu-dia")
    _fits(visit, "tecnico-02-meu-dia")
    card = visit.page.locator(f"#os-{order_id}")
    card_text = card.inner_text()
    for expected in ("Maria Aparecida dos Santos Oliveira", "Avenida Presidente Juscelino Kubitschek, 1909",
                     data["protocol"], "Verificar a fibra e trocar o conector", "Estarei em casa depois das 9h.",
                     "08:00–12:00"):
        assert expected in card_text, (expected, card_text)
    assert "Meu dia" in text
    phone_link = card.locator("a[href^='tel:']").first
    assert phone_link.get_attribute("href") == f"tel:+55{data['phone']}"
    assert re.sub(r"\D", "", phone_link.inner_text()) == data["phone"]
    assert card.locator("a[href^='https://www.google.com/maps/search/?api=1&query=']").count() == 1
    assert card.locator("button.tecnico-start").bounding_box()["height"] >= 44  # a thumb hits it

    visit.page.click(".navbar-toggle")
    visit.page.locator(".navbar-collapse.in").wait_for()
    visit.page.screenshot(path=str(visit.folder / "tecnico-03-menu.png"), full_page=True)
    _fits(visit, "tecnico-03-menu")
    visit.page.click(".navbar-toggle")

    text = visit.submit(f"#os-{order_id} button.tecnico-start", "tecnico-04-iniciada")
    _fits(visit, "tecnico-04-iniciada")
    assert re.search(rf"OS {order_id} iniciada às \d{{2}}:\d{{2}}", text), text[:500]
    assert "Em execução" in visit.page.locator(f"#os-{order_id}").inner_text()

    text = visit.submit(f"#os-{order_id} a.tecnico-finish", "tecnico-05-finalizar")
    _fits(visit, "tecnico-05-finalizar")
    assert f"Finalizar OS {order_id}" in text and "Maria Aparecida dos Santos Oliveira" in text
    visit.page.fill("#closing_notes", "Conector SC/APC trocado; sinal -18 dBm; cliente navegando.")
    text = visit.submit("#finish-form [type=submit]", "tecnico-06-finalizada")
    _fits(visit, "tecnico-06-finalizada")
    assert f"OS {order_id} finalizada." in text
    assert "Finalizada" in visit.page.locator(f"#section-closed #os-{order_id}").inner_text()

    text = visit.goto(f"/tecnico/os/{order_id}", "tecnico-07-historico")
    _fits(visit, "tecnico-07-historico")
    history = visit.page.locator("#order-history").inner_text()
    assert f"OS {order_id} iniciada" in history and f"OS {order_id} finalizada" in history
    assert "Agendada → Em execução" in history and "Em execução → Finalizada" in history
    assert "Conector SC/APC trocado" in text

    visit.goto(f"/ticketview/show/{data['ticket']}", "tecnico-08-atendimento")
    _fits(visit, "tecnico-08-atendimento")
    visit.page.get_by_text("Histórico", exact=True).click()
    visit.page.get_by_text(f"OS {order_id} finalizada").first.wait_for()
    text = visit.page.inner_text("body")
    visit.page.screenshot(path=str(visit.folder / "tecnico-09-atendimento-historico.png"), full_page=True)
    assert f"OS {order_id} iniciada" in text and f"OS {order_id} finalizada" in text
    _fits(visit, "tecnico-09-atendimento-historico")

    visit.goto("/myserviceorderview/list/?date_field=opened", "tecnico-10-minhas-os")
    _fits(visit, "tecnico-10-minhas-os")
    assert visit.page.locator(f"#service-order-list a[href='/tecnico/os/{order_id}']").count() >= 1

    from app.models import ServiceOrder, TicketEvent

    db.session.expire_all()
    order = db.session.get(ServiceOrder, order_id)
    assert order.status == "done" and order.started_at is not None and order.closed_at is not None
    assert order.closing_notes == "Conector SC/APC trocado; sinal -18 dBm; cliente navegando."
    notes = [e.note for e in db.session.query(TicketEvent).filter_by(ticket_id=data["ticket"]).order_by(TicketEvent.id)]
    assert f"OS {order_id} iniciada" in notes and f"OS {order_id} finalizada" in notes
    assert notes.index(f"OS {order_id} iniciada") < notes.index(f"OS {order_id} finalizada")
    visit.assert_ptbr()
