"""Notifications (R24, R25, R27): the outbox written with its event, delivered by the real job worker to a real SMTP
server and SMS provider on loopback, at most once, with retries; templates, opt-outs, the outbox list, /health."""
from __future__ import annotations

import datetime as dt
import html
import io
import re
import time
from typing import Any

import pytest
import sqlalchemy as sa

from tests import factories
from tests.mailbox import (  # noqa: F401 - fixtures
    Mailbox,
    attachment_names,
    body_of,
    delivering,
    free_port,
    mailbox,
    sms_provider,
    wait_for,
    worker_running,
)
from tests.support import session, user
from tests.test_rules import load_ticket, ticket_form

EMAIL = "cliente.notificado@example.com"
WHEN = re.compile(r"\d{2}/\d{2}/\d{4} \d{2}:\d{2}")


def text(response: Any) -> str:
    return html.unescape(response.get_data(as_text=True))


def customer_with_contacts(s: Any, email: str = EMAIL, **flags: Any) -> Any:
    from app.models import CustomerEmail

    owner = factories.customer(s, name=flags.pop("name", "Ana Notificada"), **flags)
    owner.emails.append(CustomerEmail(email=email, is_primary=True))
    s.flush()
    return owner


def rows(app: Any, **where: Any) -> list[dict]:
    """The outbox rows (typed values, on SQLite and PostgreSQL alike)."""
    from app.models import Notification

    query = sa.select(Notification).filter_by(**where).order_by(Notification.id)
    with session(app) as s:
        return [{c.key: getattr(n, c.key) for c in sa.inspect(Notification).columns} for n in s.scalars(query)]


def opening(app: Any, ticket_id: int) -> tuple[str, str]:
    with session(app) as s:
        ticket = load_ticket(s, ticket_id)
        return ticket.protocol, ticket.opened_at.strftime("%d/%m/%Y %H:%M")


# ---------------------------------------------------------------- the doors (Must-show 1)


def _register_by_every_door(app: Any, login: Any, api: Any) -> dict[str, int]:
    """One ticket per door for the same customer: the agent's form, the API (direct and draft + PUT), the portal."""
    from app.domain import tickets

    with session(app) as s:
        owner = customer_with_contacts(s)
        subject = factories.subject(s, name="Sem conexão", portal_available=True)
        s.commit()
        customer_id, subject_id = owner.id, subject.id
    found: dict[str, int] = {}
    agent = login("atendente")
    response = agent.post("/ticketview/add", data={"type": "customer", "customer": customer_id})
    assert response.status_code == 302
    pk = int(response.headers["Location"].rstrip("/").split("/")[-1])
    with session(app) as s:
        form = ticket_form(load_ticket(s, pk), subject=subject_id, opening_description="Sem sinal desde ontem")
    response = agent.post(f"/ticketview/edit/{pk}", data=form)
    assert response.status_code == 302, text(response)[:2000]
    found["form"] = pk
    client = api("atendente")
    response = client.post("/api/v1/ticket/", json={"customer": customer_id, "subject": subject_id,
                                                    "opening_description": "Lentidão à noite"})
    assert response.status_code == 201, response.json
    found["api"] = response.json["id"]
    response = client.post("/api/v1/ticket/", json={"customer": customer_id, "subject": subject_id, "is_draft": True,
                                                    "opening_description": "Rascunho pela API"})
    assert response.status_code == 201, response.json
    draft = response.json["id"]
    assert rows(app, ticket_id=draft) == [], "a draft sends nothing"
    version = client.get(f"/api/v1/ticket/{draft}").json["result"]["version"]
    response = client.put(f"/api/v1/ticket/{draft}", json={"is_draft": False, "version": version})
    assert response.status_code == 200, response.json
    found["api_draft"] = draft
    with session(app) as s:
        ticket = tickets.open_portal_ticket(s, user(s, "atendente"), s.get(type(owner), customer_id),
                                            s.get(type(subject), subject_id), description="Pedido pela central")
        s.commit()
        found["portal"] = ticket.id
    return found


def test_every_door_emails_the_protocol_with_date_and_time_exactly_once(app, login, api, users, mailbox, delivering):
    delivering(MAIL_SERVER="127.0.0.1", MAIL_PORT=mailbox.port)
    found = _register_by_every_door(app, login, api)
    assert worker_running(app), "the job queue's worker thread delivers"
    for door, ticket_id in found.items():
        protocol, when = opening(app, ticket_id)
        arrived = wait_for(lambda: mailbox.with_text(protocol), 30, f"no protocol e-mail for {door}")
        assert len(arrived) == 1
        message = arrived[0]
        assert message["To"] == EMAIL and protocol in str(message["Subject"])
        assert protocol in body_of(message) and when in body_of(message), (door, body_of(message))
        assert message["Message-ID"].startswith(f"<protocol.{protocol}.email@")
    time.sleep(3)  # more sweeps: nothing goes out twice
    assert len(mailbox.to(EMAIL)) == len(found) == 4
    assert {r["status"] for r in rows(app, channel="email")} == {"sent"}
    assert all(r["attempts"] == 1 and r["sent_at"] for r in rows(app, channel="email"))


def test_with_smtp_down_tickets_register_and_each_email_goes_once_when_it_returns(app, login, api, users,
                                                                                  delivering):
    port = free_port()
    delivering(MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
    found = _register_by_every_door(app, login, api)
    wait_for(lambda: all(r["attempts"] >= 1 and r["last_error"] for r in rows(app, channel="email")), 30,
             "the worker tries while SMTP is down")
    pending = rows(app, channel="email")
    assert len(pending) == 4 and {r["status"] for r in pending} <= {"pending", "sending"}, "waiting (or retrying)"
    assert "Connection refused" in pending[0]["last_error"] or "Errno" in pending[0]["last_error"]
    assert all(r["next_attempt_at"] > r["created_at"] for r in pending), "backoff before the next attempt"
    box = Mailbox(port).start()  # SMTP is back
    try:
        wait_for(lambda: {r["status"] for r in rows(app, channel="email")} == {"sent"}, 60,
                 "every e-mail goes out once SMTP returns")
        time.sleep(3)
        assert len(box.to(EMAIL)) == 4
        for ticket_id in found.values():
            protocol, when = opening(app, ticket_id)
            [message] = box.with_text(protocol)
            assert when in body_of(message)
        assert all(r["last_error"] is None for r in rows(app, channel="email"))
    finally:
        box.stop()


def test_a_registration_that_rolls_back_queues_nothing(app, users):
    from app.domain import tickets
    from app.models import Ticket

    with session(app) as s:
        owner = customer_with_contacts(s)
        s.commit()
        ticket = Ticket(type="customer", customer=owner, subject=factories.subject(s), is_draft=False,
                        opening_description="Desfeito")
        tickets.create_ticket(s, ticket, user(s, "atendente"))
        assert s.scalar(sa.text("SELECT COUNT(*) FROM notification")) == 2, "e-mail and SMS, in the transaction"
        s.rollback()
    assert rows(app) == []


def test_the_protocol_is_queued_once_per_ticket_and_resent_only_on_request(app, users):
    from app.domain import notifications

    with session(app) as s:
        owner = customer_with_contacts(s)
        ticket = factories.ticket(s, user(s, "atendente"), owner=owner)
        assert notifications.ticket_registered(s, ticket) == [], "a second call for the same event queues nothing"
        s.commit()
        again = notifications.resend_protocol(s, ticket, user(s, "atendente"), "pedido1")
        twice = notifications.resend_protocol(s, ticket, user(s, "atendente"), "pedido1")
        s.commit()
        assert len(again) == 2 and twice == [], "the same request (double click) queues once"
        assert len(notifications.resend_protocol(s, ticket, user(s, "atendente"), "pedido2")) == 2
        s.commit()
        notes = s.scalars(sa.text("SELECT note FROM ticket_event WHERE field = 'notification'")).all()
    assert notes == ["Protocolo reenviado ao cliente"] * 2
    kinds = [(r["kind"], r["channel"]) for r in rows(app)]
    assert kinds.count(("protocol", "email")) == 3 and kinds.count(("protocol", "sms")) == 3


# ---------------------------------------------------------------- SMS (Must-show 5)


def test_sms_reaches_the_http_provider_with_protocol_date_and_time(app, users, sms_provider, delivering):
    delivering(SMS_PROVIDER="http", SMS_HTTP_URL=sms_provider.url, SMS_HTTP_TOKEN="segredo-do-provedor")
    with session(app) as s:
        ticket = factories.ticket(s, user(s, "atendente"))  # the factory's customer has a mobile phone
        protocol, when = ticket.protocol, ticket.opened_at.strftime("%d/%m/%Y %H:%M")
        number = ticket.customer.phones[0].number
    wait_for(lambda: sms_provider.received, 30, "the provider received nothing")
    [call] = sms_provider.received
    assert call["path"] == "/sms/send"
    assert call["headers"]["Authorization"] == "Bearer segredo-do-provedor"
    assert call["json"]["to"] == "+55" + number
    assert protocol in call["json"]["text"] and when in call["json"]["text"]
    wait_for(lambda: rows(app, channel="sms")[0]["status"] == "sent", 10)


def test_a_provider_error_leaves_the_sms_pending_with_the_error(app, users, sms_provider, delivering):
    sms_provider.status = 500
    delivering(SMS_PROVIDER="http", SMS_HTTP_URL=sms_provider.url, SMS_HTTP_TOKEN="x", NOTIFY_RETRY_SECONDS=60,
               NOTIFY_RETRY_MAX_SECONDS=600)
    with session(app) as s:
        factories.ticket(s, user(s, "atendente"))
    wait_for(lambda: rows(app, channel="sms")[0]["attempts"] == 1 and rows(app, channel="sms")[0]["last_error"], 30)
    [row] = rows(app, channel="sms")
    assert row["status"] == "pending" and "500" in row["last_error"] and "falha no provedor" in row["last_error"]
    assert row["next_attempt_at"] >= row["created_at"] + dt.timedelta(seconds=59)
    time.sleep(2.5)
    assert len(sms_provider.received) == 1, "not retried before its time"


# ---------------------------------------------------------------- retries and at most once


def test_backoff_doubles_then_gives_up_and_a_sending_row_is_never_sent_again(app, users, monkeypatch):
    from app.domain.notifications import delivery
    from app.models import Notification

    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", free_port())
    monkeypatch.setitem(app.config, "NOTIFY_MAX_ATTEMPTS", 3)
    with session(app) as s:
        factories.ticket(s, user(s, "atendente"), owner=customer_with_contacts(s))
        [row] = s.scalars(sa.select(Notification).where(Notification.channel == "email")).all()
        delays = []
        for attempt in range(1, 4):
            s.execute(sa.update(Notification).where(Notification.id == row.id)
                      .values(next_attempt_at=dt.datetime(2000, 1, 1)))
            s.commit()
            assert delivery.deliver(s, row.id) == ("failed" if attempt == 3 else "pending")
            s.refresh(row)
            delays.append(row.next_attempt_at - row.claimed_at)
        assert row.attempts == 3 and row.status == "failed" and row.last_error
        assert delays[0] == dt.timedelta(minutes=1) and delays[1] == dt.timedelta(minutes=2)
        [sms] = s.scalars(sa.select(Notification).where(Notification.channel == "sms")).all()
        s.execute(sa.update(Notification).where(Notification.id == sms.id).values(status="sending"))
        s.commit()
        assert delivery.deliver(s, sms.id) == "sending"
        assert delivery.deliver_due(s) == 0
        s.refresh(sms)
        assert sms.status == "sending" and sms.attempts == 0


def test_without_a_mail_server_emails_wait_and_nothing_fails(app, login, users):
    from app.domain.notifications import delivery

    with session(app) as s:
        owner = customer_with_contacts(s)
        s.commit()
        customer_id = owner.id
    agent = login("atendente")
    response = agent.post("/ticketview/add", data={"type": "customer", "customer": customer_id})
    pk = int(response.headers["Location"].rstrip("/").split("/")[-1])
    with session(app) as s:
        form = ticket_form(load_ticket(s, pk), subject=factories.subject(s).id, opening_description="Sem internet")
        s.commit()
    assert agent.post(f"/ticketview/edit/{pk}", data=form).status_code == 302
    with session(app) as s:
        assert delivery.deliver_due(s) == 1, "the SMS (log provider) goes; the e-mail waits"
    [email] = rows(app, channel="email")
    assert email["status"] == "pending" and email["attempts"] == 0
    page = text(login("admin").get("/notificationview/list/"))
    assert 'id="mail-not-configured"' in page and EMAIL in page and "Aguardando envio" in page


# ---------------------------------------------------------------- the answer (Must-show 4, last part)


@pytest.mark.parametrize("door", ["finalize", "api"])
def test_resolving_a_ticket_emails_the_answer(app, login, api, users, mailbox, delivering, door):
    delivering(MAIL_SERVER="127.0.0.1", MAIL_PORT=mailbox.port)
    with session(app) as s:
        ticket = factories.ticket(s, user(s, "atendente"), owner=customer_with_contacts(s))
        pk, protocol = ticket.id, ticket.protocol
        resolved = factories.status(s, "resolved").id
        version = ticket.version
    answer = "Trocamos o conector óptico; a conexão voltou ao normal."
    if door == "finalize":
        response = login("atendente").post(f"/ticketaction/{pk}/finalize", data={"closing_description": answer})
        assert response.status_code == 302
    else:
        response = api("atendente").put(f"/api/v1/ticket/{pk}", json={
            "status": resolved, "closing_description": answer, "version": version})
        assert response.status_code == 200, response.json
    [message] = wait_for(lambda: [m for m in mailbox.to(EMAIL) if "concluído" in str(m["Subject"])], 30)
    assert protocol in str(message["Subject"]) and answer in body_of(message)
    assert WHEN.search(body_of(message))
    assert [r["kind"] for r in rows(app, channel="email")] == ["protocol", "resolved"]


def test_grouped_tickets_receive_the_answer_too(app, users):
    from app.domain import actions

    with session(app) as s:
        agent = user(s, "atendente")
        subject = factories.subject(s)
        first_owner, second_owner = customer_with_contacts(s, "a@example.com"), customer_with_contacts(s, "b@example.com")
        first = factories.ticket(s, agent, owner=first_owner, subject=subject, service_address="Rua A, 1")
        second = factories.ticket(s, agent, owner=second_owner, subject=subject, service_address="Rua A, 1")
        assert second.grouped_with_id == first.id
        actions.finalize(s, first, agent, "Rompimento de fibra reparado")
        s.commit()
    resolved = rows(app, kind="resolved", channel="email")
    assert sorted(r["recipient"] for r in resolved) == ["a@example.com", "b@example.com"]
    assert all("Rompimento de fibra reparado" in r["body"] for r in resolved)


# ---------------------------------------------------------------- opt-outs and messages


def test_opt_outs_are_respected_except_for_the_protocol(app, users):
    from app.domain import actions
    from app.models import TicketMessage
    from app.domain import messages

    with session(app) as s:
        agent = user(s, "atendente")
        owner = customer_with_contacts(s, accepts_email=False, accepts_sms=False)
        ticket = factories.ticket(s, agent, owner=owner)
        messages.add_message(s, TicketMessage(ticket=ticket, body="Técnico a caminho", is_internal=False), agent)
        actions.finalize(s, ticket, agent, "Resolvido")
        s.commit()
    assert sorted((r["kind"], r["channel"]) for r in rows(app)) == [("protocol", "email"), ("protocol", "sms")]


def test_a_public_message_goes_to_the_customer_and_an_internal_note_does_not(app, login, users):
    with session(app) as s:
        ticket = factories.ticket(s, user(s, "atendente"), owner=customer_with_contacts(s))
        pk = ticket.id
    agent = login("atendente")
    agent.post(f"/atendimento/atendimento/{pk}/mensagem", data={"body": "Só para a equipe", "visibility": "internal"})
    agent.post(f"/atendimento/atendimento/{pk}/mensagem", data={"body": "Sua visita é amanhã", "visibility": "customer"})
    sent = rows(app, kind="message")
    assert sorted(r["channel"] for r in sent) == ["email", "sms"]
    assert all("Sua visita é amanhã" in r["body"] for r in sent)
    assert not [r for r in rows(app) if "Só para a equipe" in r["body"]]


def test_portal_links_are_queued_to_the_given_email_whatever_the_opt_out(app, users):
    from app.domain import notifications

    with session(app) as s:
        owner = customer_with_contacts(s, accepts_email=False)
        url = "http://127.0.0.1:8080/central/acesso/abc123"
        assert len(notifications.portal_link(s, owner, "outro@example.com", url, "first_access")) == 1
        assert notifications.portal_link(s, owner, "outro@example.com", url, "first_access") == []
        s.commit()
    [row] = rows(app, kind="first_access")
    assert row["recipient"] == "outro@example.com" and url in row["body"] and row["channel"] == "email"


# ---------------------------------------------------------------- from the ticket: e-mail and protocol


def test_agent_emails_the_customer_with_a_chosen_attachment(app, login, users, mailbox, delivering):
    delivering(MAIL_SERVER="127.0.0.1", MAIL_PORT=mailbox.port)
    with session(app) as s:
        ticket = factories.ticket(s, user(s, "atendente"), owner=customer_with_contacts(s))
        pk, protocol = ticket.id, ticket.protocol
    agent = login("atendente")
    for name, data in (("laudo.pdf", b"%PDF-1.4 laudo"), ("interno.txt", b"so para a equipe")):
        response = agent.post(f"/ticketfile/{pk}/upload", data={"file": (io.BytesIO(data), name)},
                              content_type="multipart/form-data")
        assert response.status_code in (200, 302), response.status_code
    with session(app) as s:
        ids = dict(s.execute(sa.text("SELECT filename, id FROM attachment WHERE ticket_id = :t"), {"t": pk}).all())
    page = text(agent.get(f"/ticketview/edit/{pk}"))
    assert 'id="action-email"' in page and 'id="action-resend-protocol"' in page
    form = text(agent.get(f"/ticketnotify/{pk}/email"))
    key = re.search(r'name="request_key" value="([0-9a-f]+)"', form).group(1)
    data = {"subject": "Laudo da visita", "text": "Segue o laudo da visita técnica.", "attachment": [ids["laudo.pdf"]],
            "request_key": key}
    assert agent.post(f"/ticketnotify/{pk}/email", data=data).status_code == 302
    assert agent.post(f"/ticketnotify/{pk}/email", data=data).status_code == 302, "a double submit"
    message = wait_for(lambda: [m for m in mailbox.to(EMAIL) if m["Subject"] == "Laudo da visita"], 30)[0]
    assert "Segue o laudo da visita técnica." in body_of(message) and protocol in body_of(message)
    assert attachment_names(message) == ["laudo.pdf"]
    time.sleep(2)
    assert len([m for m in mailbox.to(EMAIL) if m["Subject"] == "Laudo da visita"]) == 1
    with session(app) as s:
        public = s.execute(sa.text("SELECT body FROM ticket_message WHERE ticket_id = :t AND is_internal = :f"),
                           {"t": pk, "f": False}).scalars().all()
    assert public == ["Segue o laudo da visita técnica."], "recorded once as a message to the customer"
    page = text(agent.get(f"/ticketview/edit/{pk}"))
    assert 'id="notifications-table"' in page and "Enviada" in page and "E-mail enviado ao cliente" in page


def test_agent_resends_the_protocol_from_the_ticket(app, login, users):
    with session(app) as s:
        ticket = factories.ticket(s, user(s, "atendente"), owner=customer_with_contacts(s))
        pk = ticket.id
    agent = login("atendente")
    page = text(agent.get(f"/ticketview/edit/{pk}"))
    key = re.search(r'id="resend-protocol-form".*?name="request_key" value="([0-9a-f]+)"', page, re.S).group(1)
    response = agent.post(f"/ticketnotify/{pk}/protocol", data={"request_key": key}, follow_redirects=True)
    assert "colocado na fila de envio" in text(response)
    agent.post(f"/ticketnotify/{pk}/protocol", data={"request_key": key})
    assert len(rows(app, kind="protocol", channel="email")) == 2, "the first protocol and one resend"


def test_customers_and_technicians_cannot_send_from_the_ticket(app, login, users):
    with session(app) as s:
        ticket = factories.ticket(s, user(s, "atendente"), owner=customer_with_contacts(s))
        pk = ticket.id
    for name in ("tecnico", "assinante"):
        client = login(name)
        assert client.post(f"/ticketnotify/{pk}/protocol", data={}).status_code in (302, 403, 404)
        assert client.get(f"/ticketnotify/{pk}/email").status_code in (302, 403, 404)
    assert len(rows(app, kind="protocol")) == 2


def test_an_email_is_refused_for_a_customer_without_email(app, login, users):
    with session(app) as s:
        ticket = factories.ticket(s, user(s, "atendente"))
        pk = ticket.id
    agent = login("atendente")
    assert 'id="action-email"' not in text(agent.get(f"/ticketview/edit/{pk}"))
    response = agent.post(f"/ticketnotify/{pk}/email", data={"text": "Oi"}, follow_redirects=True)
    assert "não tem e-mail cadastrado" in text(response)


# ---------------------------------------------------------------- templates


def test_the_administrator_edits_a_template_and_the_next_message_uses_it(app, login, users):
    from app.models import MessageTemplate

    admin = login("admin")
    listing = text(admin.get("/messagetemplateview/list/"))
    assert "Mensagem ao cliente" in listing and "SMS" in listing, "the shipped templates are listed"
    with session(app) as s:
        template = s.scalar(sa.select(MessageTemplate).where(MessageTemplate.kind == "protocol",
                                                             MessageTemplate.channel == "sms"))
        pk = template.id
    page = text(admin.get(f"/messagetemplateview/edit/{pk}"))
    assert "Pré-visualizar" in page and "{{ protocolo }}" in page
    preview = admin.post(f"/messagetemplateview/preview/{pk}", data={"body": "Protocolo {{ protocolo }} às {{ data_hora }}"})
    assert preview.json["ok"] and WHEN.search(preview.json["body"])
    response = admin.post(f"/messagetemplateview/edit/{pk}", data={"body": "ISP Exemplo: protocolo {{ protocolo }} "
                                                                           "aberto em {{ data_hora }}."})
    assert response.status_code == 302
    with session(app) as s:
        ticket = factories.ticket(s, user(s, "atendente"))
        expected = f"ISP Exemplo: protocolo {ticket.protocol} aberto em {ticket.opened_at:%d/%m/%Y %H:%M}."
    assert rows(app, channel="sms")[0]["body"] == expected


def test_a_template_goes_back_to_the_shipped_text(app, login, users):
    from app.domain.notifications.templates import DEFAULTS

    admin = login("admin")
    admin.get("/messagetemplateview/list/")
    with session(app) as s:
        pk = s.scalar(sa.text("SELECT id FROM message_template WHERE kind = 'resolved' AND channel = 'email'"))
    assert admin.post(f"/messagetemplateview/edit/{pk}", data={"subject": "Pronto: {{ protocolo }}",
                                                               "body": "Feito: {{ resposta }}"}).status_code == 302
    response = admin.post("/messagetemplateview/action_post", data={"action": "restore_default", "rowid": [str(pk)]},
                          follow_redirects=True)
    assert "Texto padrão restaurado." in text(response)
    with session(app) as s:
        row = s.execute(sa.text(f"SELECT subject, body FROM message_template WHERE id = {pk}")).one()
    assert tuple(row) == tuple(DEFAULTS[("resolved", "email")])


@pytest.mark.parametrize("body, message", [
    ("Olá {{ cliente }", "O modelo não pôde ser usado"),
    ("{{ inexistente }}", "a variável “inexistente” não existe"),
    ("{{ cliente.__class__.__mro__ }}", "O modelo não pôde ser usado"),
    ("{{ ''.__class__.__subclasses__() }}", "O modelo não pôde ser usado"),
])
def test_a_broken_template_is_explained_in_portuguese_never_a_500(app, login, users, body, message):
    admin = login("admin")
    admin.get("/messagetemplateview/list/")
    with session(app) as s:
        pk = s.scalar(sa.text("SELECT id FROM message_template WHERE kind = 'protocol' AND channel = 'sms'"))
    preview = admin.post(f"/messagetemplateview/preview/{pk}", data={"body": body})
    assert preview.status_code == 200 and not preview.json["ok"] and message in preview.json["message"]
    response = admin.post(f"/messagetemplateview/edit/{pk}", data={"body": body})
    assert response.status_code == 200 and message in text(response)
    with session(app) as s:
        assert "{{ empresa }}" in s.scalar(sa.text(f"SELECT body FROM message_template WHERE id = {pk}"))


def test_other_roles_do_not_reach_templates_or_the_outbox(app, login, users):
    for name in ("gestor", "atendente"):
        client = login(name)
        for url in ("/messagetemplateview/list/", "/notificationview/list/"):
            assert client.get(url).status_code in (302, 403)


# ---------------------------------------------------------------- the outbox list


def test_reenviar_queues_a_copy_once_per_request(app, login, users, monkeypatch):
    from app.domain.notifications import delivery

    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", free_port())
    monkeypatch.setitem(app.config, "NOTIFY_MAX_ATTEMPTS", 1)
    with session(app) as s:
        factories.ticket(s, user(s, "atendente"), owner=customer_with_contacts(s))
        [email] = rows(app, channel="email")
        assert delivery.deliver(s, email["id"]) == "failed"
    admin = login("admin")
    page = text(admin.get("/notificationview/list/"))
    assert "Falhou" in page and ("Connection refused" in page or "Errno" in page)
    data = {"action": "resend", "rowid": [str(email["id"])]}
    assert admin.post("/notificationview/action_post", data=data).status_code == 302
    refused = text(admin.post("/notificationview/action_post", data=data, follow_redirects=True))
    assert "Já há um reenvio desta notificação aguardando na fila" in refused
    copies = rows(app, resend_of_id=email["id"])
    assert len(copies) == 1 and copies[0]["status"] == "pending" and copies[0]["body"] == email["body"]
    assert copies[0]["idempotency_key"] == email["idempotency_key"] + ":again1"


# ---------------------------------------------------------------- /health


def test_health_answers_without_login(app, users):
    with session(app) as s:
        factories.ticket(s, user(s, "atendente"), owner=customer_with_contacts(s))
    response = app.test_client().get("/health")
    assert response.status_code == 200 and response.is_json
    body = response.json
    assert body["database"] == "ok" and body["jobs"] == "ok" and body["status"] == "ok"
    assert body["outbox"]["pending"] == 2 and body["outbox"]["failed"] == 0
    assert "Content-Security-Policy" in response.headers


def test_health_is_503_when_the_database_does_not_answer(app, monkeypatch):
    from app.pages import health

    monkeypatch.setattr(health, "text", lambda _sql: sa.text("SELECT * FROM tabela_que_nao_existe"))
    response = app.test_client().get("/health")
    assert response.status_code == 503 and response.json["database"] == "error"
