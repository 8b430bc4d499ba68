"""The customer portal (Central do assinante) under /central/: login by CPF/CNPJ, access links, the customer's
tickets and actions, the R26 history, and the scope (issue 11, Must show 3): another customer's ticket, file or
history by URL, forged id or API is a 404, and asking for a link answers the same for any document."""
from __future__ import annotations

import datetime as dt
import io
import re
import time
from typing import Any

import pytest
import sqlalchemy as sa

from tests import factories
from tests.conftest import PASSWORD
from tests.support import session, user

PDF = b"%PDF-1.4\n% teste\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
NOTE = "NOTA-INTERNA-SIGILOSA cliente inadimplente"
PUBLIC = "Mensagem ao cliente: a equipe vai verificar a sua conexão."
NEIGHBOUR_TEXT = "Vizinho sem sinal na rua de trás"
MARIA_CPF = "52998224725"
VIZINHO_CPF = "11144477735"
STRONG = "Girassol-azul-na-janela-77"


def _token(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert match, html[:500]
    return match.group(1)


class Portal:
    """A browserless visitor of /central/: forms carry the CSRF token of the session."""

    def __init__(self, app: Any) -> None:
        self.client = app.test_client()
        self.token = _token(self.client.get("/central/entrar").get_data(as_text=True))

    def get(self, url: str, **kw: Any) -> Any:
        return self.client.get(url, **kw)

    def post(self, url: str, data: dict | None = None, **kw: Any) -> Any:
        data = dict(data or {})
        data.setdefault("csrf_token", self.token)
        return self.client.post(url, data=data, **kw)

    def login(self, document: str, password: str = PASSWORD, **kw: Any) -> Any:
        return self.post("/central/entrar", {"document": document, "password": password}, **kw)


@pytest.fixture
def portal(app: Any) -> Any:
    return lambda: Portal(app)


@pytest.fixture
def queued(monkeypatch: Any) -> list[dict[str, Any]]:
    """The portal links handed to the notifications outbox (app.domain.notifications.portal_link)."""
    from app.domain import notifications

    calls: list[dict[str, Any]] = []
    original = notifications.portal_link

    def capture(s: Any, customer: Any, email: str, url: str, purpose: str) -> Any:
        calls.append({"customer_id": customer.id, "email": email, "url": url, "purpose": purpose})
        return original(s, customer, email, url, purpose)

    monkeypatch.setattr(notifications, "portal_link", capture)
    return calls


@pytest.fixture
def world(app: Any, users: Any) -> dict[str, Any]:
    """Maria and her neighbour (another Assinante), their tickets, messages and files."""
    from app.domain import attachments, messages, service_orders
    from app.extensions import appbuilder
    from app.models import CustomerEmail, ServiceOrder, TicketMessage

    folder = app.config["UPLOAD_FOLDER"]
    with session(app) as s:
        agent = user(s, "atendente")
        maria_user = appbuilder.sm.add_user("maria", "Maria", "Assinante", "maria@example.org",
                                            appbuilder.sm.find_role("Assinante"), PASSWORD)  # passwords change here
        neighbour_user = appbuilder.sm.add_user("vizinho", "Vizinho", "Teste", "vizinho@example.com",
                                                appbuilder.sm.find_role("Assinante"), PASSWORD)
        maria = factories.customer(s, name="Maria Assinante", document=MARIA_CPF)
        maria.emails.append(CustomerEmail(email="maria@example.com", is_primary=True))
        maria.portal_user_id = maria_user.id
        neighbour = factories.customer(s, name="Vizinho Sigiloso", document=VIZINHO_CPF)
        neighbour.emails.append(CustomerEmail(email="vizinho@example.net", is_primary=True))
        neighbour.portal_user_id = neighbour_user.id
        contract = factories.contract(s, maria, login="maria.fibra")
        other_contract = factories.contract(s, neighbour, login="vizinho.fibra")
        portal_subject = factories.subject(s, name="Sem conexão (central)", portal_available=True)
        staff_subject = factories.subject(s, name="Cobrança interna")
        s.commit()
        own = factories.ticket(s, agent, owner=maria, subject=portal_subject, contract=contract,
                               opening_description="Minha internet caiu")
        messages.add_message(s, TicketMessage(ticket=own, is_internal=True, body=NOTE), agent)
        messages.add_message(s, TicketMessage(ticket=own, is_internal=False, body=PUBLIC), agent)
        staff_file = attachments.add_attachment(s, own, agent, "laudo-interno.pdf", io.BytesIO(PDF), folder)
        own_file = attachments.add_attachment(s, own, maria_user, "meu-comprovante.pdf", io.BytesIO(PDF), folder)
        service_orders.create_service_order(s, ServiceOrder(
            ticket=own, description="Trocar a ONU", scheduled_start=dt.datetime(2030, 3, 4, 8, 0),
            scheduled_end=dt.datetime(2030, 3, 4, 12, 0), technician=user(s, "tecnico")), agent)
        s.commit()
        theirs = factories.ticket(s, agent, owner=neighbour, subject=portal_subject, contract=other_contract,
                                  opening_description=NEIGHBOUR_TEXT)
        their_file = attachments.add_attachment(s, theirs, neighbour_user, "do-vizinho.pdf", io.BytesIO(PDF), folder)
        s.commit()
        from app.domain import tickets

        draft = tickets.start_ticket(s, agent, customer=maria, contract=contract)
        s.commit()
        return {
            "maria": maria.id, "neighbour": neighbour.id, "contract": contract.id, "other_contract": other_contract.id,
            "portal_subject": portal_subject.id, "staff_subject": staff_subject.id,
            "own": own.id, "own_protocol": own.protocol, "theirs": theirs.id, "their_protocol": theirs.protocol,
            "draft": draft.id, "own_file": own_file.id, "staff_file": staff_file.id, "their_file": their_file.id,
        }


def _maria(portal: Any) -> Portal:
    visitor = portal()
    response = visitor.login("529.982.247-25")
    assert response.status_code == 302, response.get_data(as_text=True)[:800]
    assert response.headers["Location"].endswith("/central/atendimentos")
    return visitor


# ---------------------------------------------------------------- login


def test_login_page_has_the_contract_labels_and_needs_csrf(app):
    client = app.test_client()
    html = client.get("/central/").get_data(as_text=True)
    assert '<html lang="pt-BR">' in html
    assert ">CPF/CNPJ</label>" in html and ">Senha</label>" in html
    refused = client.post("/central/entrar", data={"document": MARIA_CPF, "password": PASSWORD})
    assert refused.status_code == 400
    assert "Central do Assinante" in refused.get_data(as_text=True)


@pytest.mark.parametrize("typed", ["529.982.247-25", "52998224725", " 529 982 247 25 "])
def test_customer_logs_in_with_the_document_with_or_without_punctuation(portal, world, typed):
    visitor = portal()
    response = visitor.login(typed)
    assert response.status_code == 302 and response.headers["Location"].endswith("/central/atendimentos")
    html = visitor.get("/central/atendimentos").get_data(as_text=True)
    assert world["own_protocol"] in html and world["their_protocol"] not in html
    assert "Maria Assinante" in html


def test_alphanumeric_cnpj_logs_in(app, portal, users):
    from app.domain.portal.accounts import set_portal_password

    document = factories.make_cnpj("12ABC34501DE")
    with session(app) as s:
        company = factories.customer(s, name="Provedor Parceiro Ltda", person_type="PJ", document=document)
        s.commit()
        set_portal_password(s, company, STRONG)
    formatted = f"{document[:2]}.{document[2:5]}.{document[5:8]}/{document[8:12]}-{document[12:]}".lower()
    response = portal().login(formatted, STRONG)
    assert response.status_code == 302 and response.headers["Location"].endswith("/central/atendimentos")


def test_wrong_password_and_unknown_document_get_the_same_answer(portal, world):
    wrong = portal().login("529.982.247-25", "Senha-errada-000")
    unknown = portal().login("390.533.447-05", "Senha-errada-000")
    for response in (wrong, unknown):
        assert response.status_code == 200
        assert "CPF/CNPJ ou senha incorretos." in response.get_data(as_text=True)


def test_portal_login_is_throttled_like_the_staff_login(app, portal, world):
    from app.domain import accounts

    visitor = portal()
    for _ in range(accounts.ACCOUNT_STEP):
        assert visitor.login(MARIA_CPF, "Senha-errada-000").status_code == 200
    locked = visitor.login(MARIA_CPF, PASSWORD)  # even the right password waits
    assert locked.status_code == 429
    assert int(locked.headers["Retry-After"]) > 0
    html = locked.get_data(as_text=True)
    assert "Muitas tentativas de acesso" in html and "Central do Assinante" in html
    with session(app) as s:
        keys = set(s.scalars(sa.text("SELECT key FROM login_throttle")))
    assert f"user:{user_id(app, 'maria')}" in keys


def user_id(app: Any, username: str) -> int:
    with session(app) as s:
        return user(s, username).id


def test_staff_and_anonymous_do_not_reach_the_customer_pages(login, app, world):
    anonymous = app.test_client().get(f"/central/atendimentos/{world['own']}")
    assert anonymous.status_code == 302
    assert "/central/entrar?next=/central/atendimentos/" in anonymous.headers["Location"]
    agent = login("atendente")
    staff = agent.get("/central/atendimentos")
    assert staff.status_code == 403 and "usuário da equipe" in staff.get_data(as_text=True)


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/central/", "/ticketview/list/",
                                    "/central/../login/", "javascript:alert(1)"])
def test_no_open_redirect_after_login(portal, world, target):
    visitor = portal()
    response = visitor.post(f"/central/entrar?next={target}", {"document": MARIA_CPF, "password": PASSWORD})
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.endswith("/central/atendimentos") or location.startswith("/central/"), location
    assert "evil" not in location and "/ticketview" not in location


def _same_session_elsewhere(app, visitor):
    """Another browser holding a copy of the visitor's session cookie."""
    copy = app.test_client()
    with visitor.client.session_transaction() as stored:
        saved = dict(stored)
    with copy.session_transaction() as other:
        other.update(saved)
    return copy


def test_logout_ends_the_session_everywhere(app, portal, world):
    visitor = _maria(portal)
    copy = _same_session_elsewhere(app, visitor)
    assert copy.get("/central/atendimentos").status_code == 200
    response = visitor.post("/central/sair")
    assert response.status_code == 302 and response.headers["Location"].endswith("/central/entrar")
    assert visitor.get("/central/atendimentos").status_code == 302
    assert copy.get("/central/atendimentos").status_code == 302  # the copied cookie is no longer valid


def test_portal_pages_carry_the_security_headers(portal, world):
    visitor = _maria(portal)
    response = visitor.get(f"/central/atendimentos/{world['own']}")
    assert response.status_code == 200
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "no-store" in response.headers["Cache-Control"]


# ---------------------------------------------------------------- scope: Must show 3


def test_customer_reads_only_the_public_side_of_their_ticket(portal, world):
    html = _maria(portal).get(f"/central/atendimentos/{world['own']}").get_data(as_text=True)
    assert world["own_protocol"] in html and PUBLIC in html and "meu-comprovante.pdf" in html
    assert "Trocar" not in html  # the OS description is staff's; its window is shown
    assert "04/03/2030 08:00–12:00" in html
    for secret in (NOTE, "laudo-interno.pdf", "Atendente Teste", "Tecnico Teste", NEIGHBOUR_TEXT):
        assert secret not in html, secret


def test_forged_ids_answer_404_in_the_portal(portal, world):
    visitor = _maria(portal)
    for url in (
        f"/central/atendimentos/{world['theirs']}",
        f"/central/atendimentos/{world['draft']}",
        f"/central/atendimentos/{world['theirs']}/historico.pdf",
        f"/central/arquivos/{world['their_file']}",
        f"/central/arquivos/{world['staff_file']}",
        "/central/atendimentos/99999999",
        "/central/arquivos/99999999999999999999999",
        "/central/atendimentos/99999999999999999999999/historico.pdf",
    ):
        response = visitor.get(url)
        assert response.status_code == 404, url
        text = response.get_data(as_text=True)
        assert "Página não encontrada" in text and NEIGHBOUR_TEXT not in text, url
    for action in ("reiterar", "reclamar", "reabrir", "avaliar"):
        response = visitor.post(f"/central/atendimentos/{world['theirs']}/{action}",
                                {"text": "x", "reason": "x", "rating": "5", "version": "1"})
        assert response.status_code == 404, action
    assert visitor.get(f"/central/arquivos/{world['own_file']}").status_code == 200


def test_forged_ids_answer_404_in_the_api(api, world):
    customer = api("maria")
    assert customer.get(f"/api/v1/ticket/{world['theirs']}").status_code == 404
    assert customer.get(f"/api/v1/ticket/{world['own']}").status_code == 200
    assert customer.get(f"/api/v1/attachment/{world['their_file']}").status_code == 404
    assert customer.get(f"/api/v1/attachment/{world['staff_file']}").status_code == 404
    assert customer.post(f"/api/v1/ticket/{world['theirs']}/reiterate", json={"text": "x"}).status_code == 404
    history = customer.get(f"/api/v1/ticketevent/?q=(filters:!((col:ticket,opr:rel_o_m,value:{world['theirs']})))")
    assert history.status_code == 200 and history.json["count"] == 0


def test_the_staff_history_door_is_closed_to_customers(login, world):
    customer = login("maria")
    for url in (f"/cliente/{world['neighbour']}/historico.pdf", f"/cliente/{world['maria']}/historico.pdf",
                f"/cliente/atendimento/{world['theirs']}/historico.pdf"):
        response = customer.get(url)
        assert response.status_code == 403 and b"%PDF" not in response.data, url


# ---------------------------------------------------------------- what the customer does


def test_open_a_ticket_and_see_its_protocol_with_date_and_time(app, portal, world):
    from app.models import Ticket

    visitor = _maria(portal)
    form = visitor.get("/central/atendimentos/novo").get_data(as_text=True)
    assert "Sem conexão (central)" in form and "Cobrança interna" not in form
    response = visitor.post("/central/atendimentos/novo", {
        "contract": str(world["contract"]), "subject": str(world["portal_subject"]),
        "description": "Sem sinal desde ontem à noite", "file": (io.BytesIO(PDF), "foto-do-modem.pdf")},
        content_type="multipart/form-data", follow_redirects=True)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    found = re.search(r"protocolo (\d{14}), aberto em (\d{2}/\d{2}/\d{4}) às (\d{2}:\d{2})", html)
    assert found, html[:2000]
    with session(app) as s:
        ticket = s.scalar(sa.select(Ticket).where(Ticket.protocol == found.group(1)))
        assert ticket.opened_at.strftime("%d/%m/%Y %H:%M") == f"{found.group(2)} {found.group(3)}"
        assert ticket.customer_id == world["maria"] and ticket.contract_id == world["contract"]
        assert ticket.channel is not None and ticket.channel.is_portal and not ticket.is_draft
        assert [a.filename for a in ticket.attachments] == ["foto-do-modem.pdf"]


@pytest.mark.parametrize("field, value, message", [
    ("subject", "staff_subject", "Este assunto não está disponível na central do assinante."),
    ("contract", "other_contract", "Contrato não encontrado entre os seus contratos."),
    ("subject", "999999", "Este assunto não está disponível na central do assinante."),
])
def test_open_refuses_what_is_not_the_customers(app, portal, world, field, value, message):
    from app.models import Ticket

    visitor = _maria(portal)
    data = {"contract": str(world["contract"]), "subject": str(world["portal_subject"]), "description": "Teste"}
    data[field] = str(world.get(value, value))
    response = visitor.post("/central/atendimentos/novo", data)
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    with session(app) as s:
        assert s.scalar(sa.select(sa.func.count(Ticket.id)).where(Ticket.customer_id == world["maria"])) == 2


def test_reiterate_with_a_file_and_refuse_a_disguised_one(app, portal, world):
    from app.models import Attachment, TicketMessage

    visitor = _maria(portal)
    url = f"/central/atendimentos/{world['own']}/reiterar"
    bad = visitor.post(url, {"text": "Ainda sem sinal", "file": (io.BytesIO(b"MZ\x90\x00binario"), "print.pdf")},
                       content_type="multipart/form-data")
    assert bad.status_code == 400
    assert "O conteúdo do arquivo não corresponde à extensão .pdf." in bad.get_data(as_text=True)
    good = visitor.post(url, {"text": "Ainda sem sinal", "file": (io.BytesIO(PDF), "print-do-erro.pdf")},
                        content_type="multipart/form-data", follow_redirects=True)
    assert good.status_code == 200 and "Reiteração registrada." in good.get_data(as_text=True)
    with session(app) as s:
        bodies = list(s.scalars(sa.select(TicketMessage.body).where(TicketMessage.ticket_id == world["own"])))
        files = list(s.scalars(sa.select(Attachment.filename).where(Attachment.ticket_id == world["own"])))
    assert bodies.count("Ainda sem sinal") == 1 and "print-do-erro.pdf" in files and "print.pdf" not in files
    html = good.get_data(as_text=True)
    assert "Ainda sem sinal" in html and "print-do-erro.pdf" in html


def test_complaint_only_past_due_and_reopen_within_the_window(app, portal, world):
    from app.domain import actions
    from app.models import Ticket, TicketEvent

    visitor = _maria(portal)
    page = visitor.get(f"/central/atendimentos/{world['own']}").get_data(as_text=True)
    assert 'id="complaint-form"' not in page and 'id="reopen-form"' not in page
    early = visitor.post(f"/central/atendimentos/{world['own']}/reclamar", {"text": "Demora"})
    assert early.status_code == 409 and "prazo ultrapassado" in early.get_data(as_text=True)
    with session(app) as s:
        ticket = s.get(Ticket, world["own"])
        ticket.due_at = ticket.opened_at - dt.timedelta(hours=1)
        s.commit()
    assert 'id="complaint-form"' in visitor.get(f"/central/atendimentos/{world['own']}").get_data(as_text=True)
    done = visitor.post(f"/central/atendimentos/{world['own']}/reclamar", {"text": "Passou do prazo"},
                        follow_redirects=True)
    assert "Reclamação registrada." in done.get_data(as_text=True)
    with session(app) as s:
        ticket = s.get(Ticket, world["own"])
        for order in ticket.service_orders:
            order.status = "done"
        actions.finalize(s, ticket, user(s, "atendente"), "Trocamos a ONU")
        s.commit()
    page = visitor.get(f"/central/atendimentos/{world['own']}").get_data(as_text=True)
    assert 'id="reopen-form"' in page and 'id="reiterate-form"' not in page and "Trocamos a ONU" in page
    reopened = visitor.post(f"/central/atendimentos/{world['own']}/reabrir", {"reason": "Caiu de novo"},
                            follow_redirects=True)
    assert "Atendimento reaberto." in reopened.get_data(as_text=True)
    with session(app) as s:
        fields = set(s.scalars(sa.select(TicketEvent.field).where(TicketEvent.ticket_id == world["own"])))
        assert {"complaint", "reopen"} <= fields
        assert s.get(Ticket, world["own"]).status.category == "new"


def test_rate_a_resolved_ticket_with_a_comment(app, portal, world):
    from app.domain import actions
    from app.models import Ticket, TicketEvent

    visitor = _maria(portal)
    with session(app) as s:
        version = s.get(Ticket, world["own"]).version
    early = visitor.post(f"/central/atendimentos/{world['own']}/avaliar", {"rating": "5", "version": str(version)})
    assert early.status_code == 422 and "Só é possível avaliar um atendimento resolvido." in early.get_data(as_text=True)
    with session(app) as s:
        ticket = s.get(Ticket, world["own"])
        for order in ticket.service_orders:
            order.status = "done"
        actions.finalize(s, ticket, user(s, "atendente"), "Trocamos a ONU")
        s.commit()
        version = ticket.version
    stale = visitor.post(f"/central/atendimentos/{world['own']}/avaliar",
                         {"rating": "4", "comment": "x", "version": str(version - 1)})
    assert stale.status_code == 409
    rated = visitor.post(f"/central/atendimentos/{world['own']}/avaliar",
                         {"rating": "4", "comment": "Técnico pontual", "version": str(version)}, follow_redirects=True)
    assert "Obrigado pela sua avaliação." in rated.get_data(as_text=True)
    assert "4/5 — Técnico pontual" in rated.get_data(as_text=True)
    with session(app) as s:
        ticket = s.get(Ticket, world["own"])
        assert (ticket.rating, ticket.rating_comment) == (4, "Técnico pontual")
        fields = set(s.scalars(sa.select(TicketEvent.field).where(TicketEvent.ticket_id == world["own"])))
        assert {"rating", "rating_comment"} <= fields
    wrong = visitor.post(f"/central/atendimentos/{world['own']}/avaliar", {"rating": "9", "version": str(version)})
    assert wrong.status_code == 400 and "Escolha uma nota de 1 a 5." in wrong.get_data(as_text=True)


# ---------------------------------------------------------------- the history document (R26)


def test_history_pdf_holds_every_protocol_and_public_message_and_no_internal_note(portal, world):
    visitor = _maria(portal)
    response = visitor.get("/central/historico.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert "no-store" in response.headers["Cache-Control"]
    text = " ".join(factories.pdf_text(response.data).split())
    assert world["own_protocol"] in text and PUBLIC in text and "Minha internet caiu" in text
    for secret in (NOTE, world["their_protocol"], NEIGHBOUR_TEXT, "Atendente Teste", "laudo-interno.pdf"):
        assert secret not in text, secret
    single = visitor.get(f"/central/atendimentos/{world['own']}/historico.pdf")
    assert single.status_code == 200 and world["own_protocol"] in factories.pdf_text(single.data)


def test_the_agent_produces_the_same_history_document(app, login, world):
    from app.domain import customer_history

    with session(app) as s:
        as_customer = customer_history.history_data(s, user(s, "maria"), world["maria"])
        as_agent = customer_history.history_data(s, user(s, "atendente"), world["maria"])
    as_customer.pop("issued_at"), as_agent.pop("issued_at")
    assert as_customer == as_agent
    agent = login("atendente")
    workspace = agent.get(f"/ticketview/edit/{world['own']}").get_data(as_text=True)
    assert f'href="/cliente/atendimento/{world["own"]}/historico.pdf"' in workspace and "Histórico do cliente" in workspace
    response = agent.get(f"/cliente/atendimento/{world['own']}/historico.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = " ".join(factories.pdf_text(response.data).split())
    assert world["own_protocol"] in text and PUBLIC in text and NOTE not in text
    assert login("tecnico").get(f"/cliente/{world['maria']}/historico.pdf").status_code == 403


# ---------------------------------------------------------------- access links


def test_link_request_answers_the_same_for_known_and_unknown_documents(app, portal, world, queued, monkeypatch):
    monkeypatch.setitem(app.config, "PORTAL_LINK_MIN_SECONDS", 0.3)
    answers = []
    for document in ("529.982.247-25", "390.533.447-05", "11.222.333/0001-81"):
        visitor = portal()
        started = time.monotonic()
        response = visitor.post("/central/acesso", {"document": document})
        answers.append((response.status_code, response.get_data(as_text=True), time.monotonic() - started))
    assert {status for status, _body, _took in answers} == {200}
    assert len({body for _status, body, _took in answers}) == 1, "the pages differ"
    took = [seconds for _status, _body, seconds in answers]
    assert min(took) >= 0.3 and max(took) - min(took) < 0.25, took
    assert [call["email"] for call in queued] == ["maria@example.com"]
    assert queued[0]["purpose"] == "reset"  # Maria already has a user


def test_first_access_creates_the_customer_user_once(app, portal, queued):
    from app.models import Customer, CustomerEmail, PortalToken

    with session(app) as s:
        ana = factories.customer(s, name="Ana Beatriz Souza", document="39053344705")
        ana.emails.append(CustomerEmail(email="ana.souza@example.com", is_primary=True))
        s.commit()
        ana_id = ana.id
    portal().post("/central/acesso", {"document": "390.533.447-05"})
    assert len(queued) == 1 and queued[0]["purpose"] == "first_access"
    url = queued[0]["url"]
    path = url[url.index("/central/"):]
    assert path.startswith("/central/primeiro-acesso/")
    with session(app) as s:
        stored = s.scalar(sa.select(PortalToken).where(PortalToken.customer_id == ana_id))
        assert stored.token_hash not in url and len(stored.token_hash) == 64
        assert stored.expires_at - stored.created_at == dt.timedelta(hours=1)
    visitor = portal()
    page = visitor.get(path)
    assert page.status_code == 200 and "Olá, Ana!" in page.get_data(as_text=True)
    weak = visitor.post(path, {"password": "ana12345678", "confirm": "ana12345678"})
    assert weak.status_code == 200 and "Senha fácil de adivinhar" in weak.get_data(as_text=True)
    differ = visitor.post(path, {"password": STRONG, "confirm": STRONG + "x"})
    assert "As senhas não conferem" in differ.get_data(as_text=True)
    done = visitor.post(path, {"password": STRONG, "confirm": STRONG})
    assert done.status_code == 302 and done.headers["Location"].endswith("/central/entrar")
    with session(app) as s:
        ana = s.get(Customer, ana_id)
        assert ana.portal_user.username == "cliente.39053344705"
        assert [role.name for role in ana.portal_user.roles] == ["Assinante"]
    reused = portal().post(path, {"password": STRONG + "!", "confirm": STRONG + "!"})
    assert reused.status_code == 404 and "já foi usado" in reused.get_data(as_text=True)
    assert portal().login("390.533.447-05", STRONG).status_code == 302


def test_links_expire_serve_one_purpose_and_end_older_ones(app, portal, world, queued):
    from app.domain.portal import accounts as portal_accounts
    from app.models import Customer, PortalToken

    with session(app) as s:
        maria = s.get(Customer, world["maria"])
        first = portal_accounts.issue_link(s, maria, "http://central.test")
        second = portal_accounts.issue_link(s, maria, "http://central.test")
        s.commit()
    secret_first, secret_second = first.url.rsplit("/", 1)[1], second.url.rsplit("/", 1)[1]
    assert first.purpose == second.purpose == "reset"
    visitor = portal()
    assert visitor.get(f"/central/nova-senha/{secret_first}").status_code == 404  # replaced by the newer one
    assert visitor.get(f"/central/primeiro-acesso/{secret_second}").status_code == 404  # wrong purpose
    assert visitor.get(f"/central/nova-senha/{secret_second}").status_code == 200
    with session(app) as s:
        s.execute(sa.update(PortalToken).where(PortalToken.used_at.is_(None))
                  .values(expires_at=dt.datetime(2000, 1, 1)))
        s.commit()
    expired = visitor.post(f"/central/nova-senha/{secret_second}", {"password": STRONG, "confirm": STRONG})
    assert expired.status_code == 404 and "expirou" in expired.get_data(as_text=True)
    assert visitor.get("/central/nova-senha/abc").status_code == 404
    with pytest.raises(portal_accounts.InvalidLink):
        with session(app) as s:
            portal_accounts.check_link(s, secret_second, "reset")


def test_reset_sets_a_new_password_and_ends_the_old_sessions(app, portal, world, queued):
    from app.domain.portal import accounts as portal_accounts
    from app.models import Customer

    logged = _maria(portal)
    with session(app) as s:
        link = portal_accounts.issue_link(s, s.get(Customer, world["maria"]), "http://central.test")
        s.commit()
    path = link.url[link.url.index("/central/"):]
    assert portal().post(path, {"password": STRONG, "confirm": STRONG}).status_code == 302
    assert logged.get("/central/atendimentos").status_code == 302
    assert portal().login(MARIA_CPF, PASSWORD).get_data(as_text=True).count("incorretos") == 1
    assert portal().login(MARIA_CPF, STRONG).status_code == 302


def test_links_are_not_sent_too_often_nor_to_shared_emails(app, portal, world, queued):
    from app.domain.portal import accounts as portal_accounts
    from app.models import Customer, CustomerEmail

    with session(app) as s:
        for _ in range(3):
            portal_accounts.request_link(s, MARIA_CPF, "http://central.test")
        s.commit()
    assert len(queued) == 1  # a minute apart at least
    with session(app) as s:
        lone = factories.customer(s, name="Carlos Compartilhado", document="86288366757")
        lone.emails.append(CustomerEmail(email="familia@example.com", is_primary=True, legacy_duplicate=True))
        s.commit()
        assert portal_accounts.access_email(s.get(Customer, lone.id)) is None
        assert portal_accounts.request_link(s, "862.883.667-57", "http://central.test") is None


# ---------------------------------------------------------------- the staff side


def test_agent_resends_the_access_from_the_customer_record(app, login, world, queued):
    from app.models import PortalToken

    agent = login("atendente")
    page = agent.get(f"/customerview/show/{world['maria']}").get_data(as_text=True)
    assert "Reenviar acesso" in page and "links vão para maria@example.com" in page
    response = agent.post(f"/cliente/{world['maria']}/reenviar-acesso", follow_redirects=True)
    assert "Link para criar uma nova senha enviado para maria@example.com." in response.get_data(as_text=True)
    with session(app) as s:
        token = s.scalar(sa.select(PortalToken).where(PortalToken.customer_id == world["maria"]))
        assert token.requested_by_id == user(s, "atendente").id and token.purpose == "reset"
    assert len(queued) == 1
    assert login("tecnico").post(f"/cliente/{world['maria']}/reenviar-acesso").status_code == 403
    assert agent.post("/cliente/99999999/reenviar-acesso").status_code == 404
    with session(app) as s:
        mute = factories.customer(s, name="Sem Email", document="86288366757")
        s.commit()
        mute_id = mute.id
    response = agent.post(f"/cliente/{mute_id}/reenviar-acesso", follow_redirects=True)
    assert "não tem e-mail cadastrado" in response.get_data(as_text=True)


def test_a_contact_email_belongs_to_one_customer(app, world):
    from app.domain import customers
    from app.domain.errors import ValidationError
    from app.models import Customer, CustomerEmail

    with session(app) as s:
        other = s.get(Customer, world["neighbour"])
        other.emails.append(CustomerEmail(email="MARIA@Example.com"))
        with pytest.raises(ValidationError, match="já pertence a outro cliente"):
            customers.save_customer(s, other)
        s.rollback()
        maria = s.get(Customer, world["maria"])
        maria.emails.append(CustomerEmail(email="Maria@example.com"))
        with pytest.raises(ValidationError, match="informado mais de uma vez"):
            customers.save_customer(s, maria)
        s.rollback()
        email = CustomerEmail(customer=s.get(Customer, world["neighbour"]), email="maria@EXAMPLE.com")
        with pytest.raises(ValidationError, match="já pertence a outro cliente"):
            customers.save_email(s, email)
        s.rollback()
        shared = CustomerEmail(customer_id=world["neighbour"], email="maria@example.com", legacy_duplicate=True)
        s.add(shared)
        s.commit()  # a row kept by migration 0011: the unique index skips it …
        neighbour = s.get(Customer, world["neighbour"])
        neighbour.name = "Vizinho Renomeado"
        customers.save_customer(s, neighbour)  # … and editing the customer keeps it as it is
        s.commit()
        row = s.get(CustomerEmail, shared.id)
        row.email = "vizinho.novo@example.net"
        customers.save_email(s, row)
        s.commit()
        assert s.get(CustomerEmail, shared.id).legacy_duplicate is False
        s.add(CustomerEmail(customer_id=world["neighbour"], email="MARIA@example.com"))
        with pytest.raises(sa.exc.IntegrityError):
            s.commit()  # the database refuses it too


def test_portal_login_and_link_requests_get_the_request_rate_limit(tmp_path):
    """The session app runs without Flask-Limiter: a fresh one, with it, in another process."""
    import os
    import subprocess
    import sys
    import textwrap
    from pathlib import Path

    script = textwrap.dedent(f"""
        from app import create_app
        app = create_app(TESTING=True, RATELIMIT_ENABLED=True, AUTH_RATE_LIMIT="2 per 1 minute",
                         FAB_CREATE_DB=True, SQLALCHEMY_DATABASE_URI="sqlite:///{tmp_path}/limit.db",
                         CACHE_TYPE="NullCache", WTF_CSRF_ENABLED=False, PORTAL_LINK_MIN_SECONDS=0)
        client = app.test_client()
        for url, data in (("/central/entrar", {{"document": "{MARIA_CPF}", "password": "errada-123"}}),
                          ("/central/acesso", {{"document": "{MARIA_CPF}"}})):
            codes = [client.post(url, data=data).status_code for attempt in range(3)]
            print(codes, client.get(url).status_code)
        page = client.post("/central/entrar", data={{"document": "{MARIA_CPF}", "password": "x"}})
        print(page.get_data(as_text=True))
    """)
    env = {**os.environ, "ATENDE_TESTING": "1", "RATELIMIT_ENABLED": "1"}
    env.pop("DATABASE_URL", None)
    done = subprocess.run([sys.executable, "-c", script], cwd=Path(__file__).resolve().parents[1], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    login_codes, access_codes, html = done.stdout.split("\n", 2)
    assert login_codes == "[200, 200, 429] 200" and access_codes == "[200, 200, 429] 200", done.stdout[:300]
    assert "Muitas tentativas" in html and "Central do Assinante" in html


def test_an_assinante_without_a_customer_record_is_told_so(app, login, users):
    from app.extensions import appbuilder

    with session(app):
        appbuilder.sm.add_user("orfao", "Sem", "Cadastro", "orfao@example.com", appbuilder.sm.find_role("Assinante"),
                               PASSWORD)
    response = login("orfao").get("/central/atendimentos")  # logged in by the staff form
    assert response.status_code == 403
    assert "não está vinculado a um cadastro de cliente" in response.get_data(as_text=True)


# ---------------------------------------------------------------- Meus dados


def _checked(html: str, field_id: str) -> bool:
    tag = re.search(rf'<input[^>]*\bid="{field_id}"[^>]*>', html)
    assert tag, field_id
    return " checked" in tag.group(0)


def _preferences(app: Any, customer_id: int) -> tuple[bool, bool]:
    from app.models import Customer

    with session(app) as s:
        customer = s.get(Customer, customer_id)
        return customer.accepts_email, customer.accepts_sms


def test_profile_shows_the_data_on_file_read_only(app, portal, world):
    from app.domain.documents import format_phone
    from app.models import CustomerPhone

    visitor = _maria(portal)
    tickets_page = visitor.get("/central/atendimentos").get_data(as_text=True)
    assert 'id="profile-link" href="/central/meus-dados"' in tickets_page
    response = visitor.get("/central/meus-dados")
    assert response.status_code == 200 and "no-store" in response.headers["Cache-Control"]
    html = response.get_data(as_text=True)
    with session(app) as s:
        number = s.scalar(sa.select(CustomerPhone.number).where(CustomerPhone.customer_id == world["maria"]))
    for expected in ("Maria Assinante", "529.982.247-25", "maria@example.com", format_phone(number),
                     "ligue para a nossa central de atendimento",
                     "O número de protocolo de cada atendimento é enviado sempre, como exige a lei."):
        assert expected in html, expected
    assert 'name="document"' not in html and 'name="email"' not in html  # nothing of the record is editable
    assert _checked(html, "accepts_email") and _checked(html, "accepts_sms")


def test_preferences_are_stored_both_ways(app, portal, world):
    visitor = _maria(portal)
    saved = visitor.post("/central/meus-dados", {"form": "preferences", "accepts_sms": "y"})
    assert saved.status_code == 302 and saved.headers["Location"].endswith("/central/meus-dados")
    assert _preferences(app, world["maria"]) == (False, True)  # the unticked box is a False
    html = visitor.get("/central/meus-dados").get_data(as_text=True)
    assert "Preferências salvas." in html
    assert not _checked(html, "accepts_email") and _checked(html, "accepts_sms")
    visitor.post("/central/meus-dados", {"form": "preferences", "accepts_email": "y"})
    assert _preferences(app, world["maria"]) == (True, False)
    visitor.post("/central/meus-dados", {"form": "preferences"})
    assert _preferences(app, world["maria"]) == (False, False)
    visitor.post("/central/meus-dados", {"form": "preferences", "accepts_email": "y", "accepts_sms": "y"})
    assert _preferences(app, world["maria"]) == (True, True)


def test_preferences_saved_while_the_company_saves_the_record_are_refused_not_lost(app, portal, world, monkeypatch):
    from app.domain import customers

    original = customers.set_contact_preferences

    def company_saves_meanwhile(session, customer, accepts_email, accepts_sms):
        original(session, customer, accepts_email, accepts_sms)
        with session.get_bind().connect() as other:  # another request's transaction, committed first
            other.execute(sa.text("UPDATE customer SET notes = 'Alterado pela empresa', version = version + 1 "
                                  "WHERE id = :id"), {"id": customer.id})
            other.commit()

    monkeypatch.setattr(customers, "set_contact_preferences", company_saves_meanwhile)
    visitor = _maria(portal)
    saved = visitor.post("/central/meus-dados", {"form": "preferences", "accepts_sms": "y"})
    assert saved.status_code == 302 and saved.headers["Location"].endswith("/central/meus-dados")
    html = visitor.get("/central/meus-dados").get_data(as_text=True)
    assert "Seus dados foram alterados pela empresa neste momento" in html
    assert _preferences(app, world["maria"]) == (True, True)
    with session(app) as s:
        assert s.scalar(sa.text("SELECT notes FROM customer WHERE id = :id"), {"id": world["maria"]}) == (
            "Alterado pela empresa")


def test_notifications_follow_the_preferences_but_the_protocol_always_goes(app, portal, world):
    from app.domain import messages
    from app.models import Customer, Notification, TicketMessage

    _maria(portal).post("/central/meus-dados", {"form": "preferences", "accepts_sms": "y"})  # no e-mail
    with session(app) as s:
        agent = user(s, "atendente")
        ticket = factories.ticket(s, agent, owner=s.get(Customer, world["maria"]))
        messages.add_message(s, TicketMessage(ticket=ticket, is_internal=False, body="Técnico a caminho"), agent)
        s.commit()
        sent = sorted(s.execute(sa.select(Notification.kind, Notification.channel)
                                .where(Notification.ticket_id == ticket.id)).all())
    assert sent == [("message", "sms"), ("protocol", "email"), ("protocol", "sms")]


def test_profile_is_for_customers_only_and_needs_csrf(app, login, portal, world):
    anonymous = app.test_client().get("/central/meus-dados")
    assert anonymous.status_code == 302 and "/central/entrar?next=/central/meus-dados" in anonymous.headers["Location"]
    assert portal().post("/central/meus-dados", {"form": "preferences"}).status_code == 302
    for role in ("atendente", "admin"):
        staff = login(role).get("/central/meus-dados")
        assert staff.status_code == 403 and "usuário da equipe" in staff.get_data(as_text=True), role
    assert login("atendente").post("/central/meus-dados", {"form": "preferences"}).status_code == 403
    visitor = _maria(portal)
    forged = visitor.client.post("/central/meus-dados", data={"form": "preferences"})  # no CSRF token
    assert forged.status_code == 400 and "Central do Assinante" in forged.get_data(as_text=True)
    assert _preferences(app, world["maria"]) == (True, True)
    assert visitor.post("/central/meus-dados", {"form": "outro"}).status_code == 400


def _change(visitor: Portal, current: str, new: str, confirm: str | None = None) -> Any:
    return visitor.post("/central/meus-dados", {"form": "password", "current": current, "password": new,
                                                "confirm": new if confirm is None else confirm})


@pytest.mark.parametrize("current, new, confirm, message", [
    ("Senha-errada-000", STRONG, STRONG, "Senha atual incorreta."),
    (PASSWORD, "maria1234567", "maria1234567", "Senha fácil de adivinhar"),
    (PASSWORD, "curta", "curta", "A senha deve ter pelo menos 10 caracteres."),
    (PASSWORD, STRONG, STRONG + "x", "As senhas não conferem"),
    ("", STRONG, STRONG, "Preencha este campo."),
])
def test_a_refused_password_change_changes_nothing(app, portal, world, current, new, confirm, message):
    visitor = _maria(portal)
    response = _change(visitor, current, new, confirm)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert message in html
    for typed in {current, new, confirm} - {""}:
        assert f'value="{typed}"' not in html, typed  # nothing typed comes back
    assert visitor.get("/central/meus-dados").status_code == 200  # still logged in
    assert portal().login(MARIA_CPF, PASSWORD).status_code == 302
    assert portal().login(MARIA_CPF, STRONG).status_code == 200


def test_a_password_change_ends_the_sessions_and_the_new_password_logs_in(app, portal, world):
    visitor = _maria(portal)
    copy = _same_session_elsewhere(app, visitor)
    done = _change(visitor, PASSWORD, STRONG)
    assert done.status_code == 302 and done.headers["Location"].endswith("/central/entrar")
    page = visitor.get("/central/entrar").get_data(as_text=True)
    assert "Senha alterada. Entre de novo com a nova senha." in page
    assert visitor.get("/central/meus-dados").status_code == 302  # this session ended …
    assert copy.get("/central/atendimentos").status_code == 302  # … and every other one
    assert "incorretos" in portal().login(MARIA_CPF, PASSWORD).get_data(as_text=True)
    assert portal().login(MARIA_CPF, STRONG).status_code == 302


def test_wrong_current_passwords_are_counted_like_logins(app, portal, world):
    from werkzeug.security import check_password_hash

    from app.domain import accounts

    visitor = _maria(portal)
    for _ in range(accounts.ACCOUNT_STEP):
        assert _change(visitor, "Senha-errada-000", STRONG).status_code == 400
    locked = _change(visitor, PASSWORD, STRONG)  # even the right one waits
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 0
    assert "Muitas tentativas de acesso" in locked.get_data(as_text=True)
    assert portal().login(MARIA_CPF, PASSWORD).status_code == 429  # the account is locked, not only this form
    with session(app) as s:
        assert check_password_hash(user(s, "maria").password, PASSWORD)  # unchanged


@pytest.mark.parametrize("value", ["a\x00b", "x" * 3000, str(2**64), "²"])
def test_profile_answers_hostile_values_without_a_500(app, portal, world, value):
    visitor = _maria(portal)
    for data in ({"form": "preferences", "accepts_email": value, "accepts_sms": value},
                 {"form": "password", "current": value, "password": value, "confirm": value},
                 {"form": value}):
        response = visitor.post("/central/meus-dados", data)
        assert response.status_code in (302, 400), (data["form"][:20], response.status_code)
        assert '<html lang="pt-BR">' in visitor.get("/central/meus-dados").get_data(as_text=True)
    assert portal().login(MARIA_CPF, PASSWORD).status_code == 302
