"""Notifications in a browser: the Admin edits a message template with its preview; the Atendente e-mails the customer
with a chosen attachment and resends the protocol, and reads back on the ticket what was delivered to the real SMTP
server on loopback."""
from __future__ import annotations

import io
import re

from tests.e2e.test_browser import Visit, visit  # noqa: F401  (fixture)
from tests.mailbox import attachment_names, body_of, delivering, mailbox, wait_for  # noqa: F401  (fixtures)

EMAIL = "navegador@example.com"


def _customer_with_email(db, name: str):
    from app.models import CustomerEmail
    from tests import factories

    owner = factories.customer(db.session, name=name)
    owner.emails.append(CustomerEmail(email=EMAIL, is_primary=True))
    db.session.flush()
    return owner


def test_admin_edits_a_template_with_its_preview(visit: Visit, db, users):
    from app.models import MessageTemplate, Notification
    from tests import factories

    visit.login("admin")
    text = visit.goto("/messagetemplateview/list/", "notificacoes-01-modelos")
    assert "Modelos de mensagem" in text and "Atendimento concluído" in text
    template = db.session.query(MessageTemplate).filter_by(kind="protocol", channel="sms").one()
    visit.goto(f"/messagetemplateview/edit/{template.id}", "notificacoes-02-editar-modelo")
    page = visit.page
    page.wait_for_selector("#template-preview-body:has-text('Protocolo')")
    assert "Protocolo" in page.inner_text("#template-preview-body") or "protocolo" in page.inner_text(
        "#template-preview-body")
    page.fill("#body", "{{ empresa }}: protocolo {{ protocolo }} em {{ data_hora }} para {{ cliente }")
    page.click("#template-preview-button")
    page.wait_for_selector("#template-preview-error", state="visible")
    assert "O modelo não pôde ser usado" in page.inner_text("#template-preview-error")
    page.screenshot(path=str(visit.folder / "notificacoes-03-modelo-com-erro.png"), full_page=True)
    page.fill("#body", "{{ empresa }}: protocolo {{ protocolo }} registrado em {{ data_hora }} para {{ cliente }}.")
    page.click("#template-preview-button")
    page.wait_for_selector("#template-preview-body:has-text('registrado em')")
    preview = page.inner_text("#template-preview-body")
    assert re.search(r"protocolo \d{14} registrado em \d{2}/\d{2}/\d{4} \d{2}:\d{2} para Maria da Silva\.", preview)
    assert not page.is_visible("#template-preview-error")
    page.screenshot(path=str(visit.folder / "notificacoes-04-modelo-pre-visualizado.png"), full_page=True)
    text = visit.submit("form#model_form [type=submit]", "notificacoes-05-modelo-salvo")
    assert "Registro salvo" in text
    db.session.expire_all()
    agent = db.session.merge(users["atendente"])
    ticket = factories.ticket(db.session, agent)
    sms = db.session.query(Notification).filter_by(ticket_id=ticket.id, channel="sms").one()
    assert sms.body == (f"Atende: protocolo {ticket.protocol} registrado em {ticket.opened_at:%d/%m/%Y %H:%M} "
                        f"para {ticket.customer.name}.")
    text = visit.goto("/notificationview/list/", "notificacoes-05b-fila-de-notificacoes")
    assert "Fila de notificações" in text and ticket.protocol in text and "Aguardando envio" in text
    assert "Servidor de e-mail não configurado" in text
    text = visit.goto(f"/notificationview/show/{sms.id}", "notificacoes-05c-notificacao")
    assert sms.body in text and "Chave de idempotência" in text
    assert not visit.problems, visit.problems


def test_agent_emails_the_customer_and_resends_the_protocol(visit: Visit, db, users, app, mailbox, delivering):
    from app.domain.attachments import add_attachment
    from tests import factories

    delivering(MAIL_SERVER="127.0.0.1", MAIL_PORT=mailbox.port)
    agent = db.session.merge(users["atendente"])
    ticket = factories.ticket(db.session, agent, owner=_customer_with_email(db, "Beatriz Navegadora"))
    for name, data in (("foto-da-onu.png", b"\x89PNG\r\n\x1a\n" + b"0" * 64), ("contrato.pdf", b"%PDF-1.4 contrato")):
        add_attachment(db.session, ticket, agent, name, io.BytesIO(data), app.config["UPLOAD_FOLDER"])
    db.session.commit()
    pk, protocol = ticket.id, ticket.protocol
    wait_for(lambda: mailbox.with_text(protocol), 30, "the protocol e-mail of the registration")

    visit.login("atendente")
    visit.goto(f"/ticketview/edit/{pk}", "notificacoes-06-workspace")
    text = visit.submit("#action-email", "notificacoes-07-enviar-email")
    assert EMAIL in text and "foto-da-onu.png" in text and "contrato.pdf" in text
    page = visit.page
    page.fill("#subject", "Foto da ONU instalada")
    page.fill("#text", "Olá, Beatriz. Segue a foto da ONU instalada hoje.")
    page.check("#email-attachments input[type=checkbox] >> nth=0")
    text = visit.submit("#email-send", "notificacoes-08-email-na-fila")
    assert "E-mail colocado na fila de envio para navegador@example.com." in text
    message = wait_for(lambda: [m for m in mailbox.to(EMAIL) if m["Subject"] == "Foto da ONU instalada"], 30)[0]
    assert "Segue a foto da ONU instalada hoje." in body_of(message) and protocol in body_of(message)
    assert attachment_names(message) == ["foto-da-onu.png"]

    text = visit.submit("#action-resend-protocol", "notificacoes-09-protocolo-reenviado")
    assert f"Protocolo {protocol} colocado na fila de envio" in text
    wait_for(lambda: len(mailbox.with_text(protocol)) >= 3, 30, "the resent protocol")
    protocol_mails = [m for m in mailbox.to(EMAIL) if protocol in str(m["Subject"])
                      and "registrado" in str(m["Subject"])]
    assert len(protocol_mails) == 2, "the registration's and the one resent"

    wait_for(lambda: _states(visit, pk) == ["sent"] * 5, 30, "every notification shown as sent on the ticket")
    page.click("a[href='#notifications']")
    page.screenshot(path=str(visit.folder / "notificacoes-10-estado-no-atendimento.png"), full_page=True)
    table = page.inner_text("#notifications-table")
    assert table.count("\tEnviada\t") == 5 and EMAIL in table and "Mensagem ao cliente" in table
    page.click("a[href='#history']")
    assert "Protocolo reenviado ao cliente" in page.inner_text("#history-table")
    assert "E-mail enviado ao cliente" in page.inner_text("#history-table")
    assert not visit.problems, visit.problems


def _states(visit: Visit, pk: int) -> list[str]:
    visit.page.goto(f"/ticketview/edit/{pk}")
    return visit.page.eval_on_selector_all("#notifications-table tr[data-status]",
                                           "rows => rows.map(r => r.dataset.status)")
