"""The agent's call, end to end in a browser: find by CPF, open on a contract, work and finalize."""
from __future__ import annotations

import re

from tests.e2e.test_browser import Visit, visit  # noqa: F401  (fixture)


def test_agent_opens_works_and_finalizes_a_ticket(visit: Visit, db, users, tmp_path):
    from app.models import ClosingReason
    from tests import factories

    agent = db.session.merge(users["atendente"])
    customer = factories.customer(db.session, name="Sebastião Conceição", document="52998224725")
    contract = factories.contract(db.session, customer, login="sebastiao.c")
    factories.ticket(db.session, agent, owner=customer)  # an open ticket: the alert must show it
    subject = factories.subject(db.session, name="Sem conexão à internet", requires_contract=True)
    reason = db.session.query(ClosingReason).order_by(ClosingReason.id).first()
    db.session.commit()
    subject_id, reason_id = subject.id, reason.id

    visit.login("atendente")
    visit.goto("/atendimento/", "20-agent-search")
    visit.page.fill("#q", "529.982.247-25")
    text = visit.submit("#customer-search [type=submit]", "21-agent-search-results")
    assert "Sebastião Conceição" in text and "529.982.247-25" in text

    text = visit.submit(f".atende-open-ticket:has(input[name=contract][value='{contract.id}']) button",
                        "22-ticket-started")
    protocol = re.search(r"Protocolo (\d{14})", text).group(1)
    assert "1 atendimento em aberto" in text, "open-ticket alert"

    visit.page.select_option("select#subject", str(subject_id))
    visit.page.locator("#contract").locator("xpath=ancestor::tr").locator(".atende-required").wait_for()
    visit.page.screenshot(path=str(visit.folder / "23-subject-requires-contract.png"), full_page=True)
    visit.page.fill("#opening_description", "Cliente sem conexão desde a manhã; luz LOS vermelha na ONU.")
    text = visit.submit("#model_form [type=submit]", "24-ticket-saved")
    ticket_url = f"/ticketview/edit/{_ticket_id(db, protocol)}"
    assert visit.page.url.endswith(ticket_url) and f"Atendimento salvo: protocolo {protocol}" in text

    visit.page.click("a[href='#messages']")
    visit.page.screenshot(path=str(visit.folder / "25-messages-tab.png"), full_page=True)
    visit.page.fill("#message-form textarea[name=body]", "Orientado a reiniciar a ONU; sem sucesso.")
    text = visit.submit("#message-form [type=submit]", "26-message-added")
    assert "Mensagem registrada" in text

    visit.page.click("a[href='#orders']")
    visit.page.fill("#order-form input[name=description]", "Verificar fibra e conectores no cliente")
    text = visit.submit("#order-form [type=submit]", "27-order-opened")
    assert "Ordem de serviço aberta" in text

    _finish(visit, db, protocol, ticket_url, reason_id, tmp_path)
    visit.assert_ptbr()


def _ticket_id(db, protocol: str) -> int:
    from app.models import Ticket

    db.session.expire_all()
    return db.session.query(Ticket.id).filter(Ticket.protocol == protocol).scalar()


def _finish(visit: Visit, db, protocol: str, ticket_url: str, reason_id: int, tmp_path) -> None:
    """Attachment and finalization steps (their screens come with the files and actions views)."""
    from app.models import Ticket

    photo = tmp_path / "foto-onu.png"
    photo.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    visit.goto(ticket_url, "28-files-tab")
    visit.page.click("a[href='#files']")
    visit.page.set_input_files("#attachment-file", str(photo))
    text = visit.submit("#attachment-form [type=submit]", "29-attachment-added")
    assert "Arquivo anexado" in text and "foto-onu.png" in text

    visit.page.click("#action-finalize")
    visit.page.wait_for_url("**/ticketaction/**")
    visit.page.screenshot(path=str(visit.folder / "30-finalize-form.png"), full_page=True)
    visit.page.fill("#closing_description", "Conector da fibra substituído; cliente navegando normalmente.")
    visit.page.select_option("#closing_reason", str(reason_id))
    visit.page.check("#service-orders-finalize")  # R28: the open OS ends with the ticket
    text = visit.submit("#action-form [type=submit]", "31-finalized")
    assert "Atendimento finalizado" in text and "Resolvido" in text

    db.session.expire_all()
    ticket = db.session.query(Ticket).filter(Ticket.protocol == protocol).one()
    assert not ticket.is_draft and ticket.opening_description.startswith("Cliente sem conexão")
    assert len(ticket.messages) == 1 and len(ticket.service_orders) == 1 and len(ticket.attachments) == 1
    assert ticket.status.category == "resolved" and ticket.closed_at is not None
