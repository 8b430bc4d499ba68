"""Input limits and validation before the database (issue 10, M4 and must show 10).

Every text column has a limit, refused with a pt-BR message naming it by every door (FAB forms, the REST API, the
agent's and technician's pages, the ticket actions, mass forms, quick registration) and by the database itself;
nothing is saved. Malformed ids, dates, paging, bodies and actions are refused before any query, in pt-BR; a database
refusal that still happens is told at its field. The PDF of a ticket with every text at its limit is complete.
"""
from __future__ import annotations

import html
import io
import re
from typing import Any

import pytest
import sqlalchemy as sa

from tests import factories
from tests.support import session, user

BIG = str(2**64)
LIMIT = 10_000
NOTE = 4_000


def page(response: Any) -> str:
    return html.unescape(response.get_data(as_text=True))


def count(app: Any, sql: str, **params: Any) -> int:
    with session(app) as s:
        return s.execute(sa.text(sql), params).scalar()


def words(size: int, mark: str = "FIM") -> str:
    """Ordinary words up to exactly ``size`` characters, ending with a mark."""
    text = ("cliente relata queda da conexão à noite " * (size // 40 + 2))[: size - len(mark) - 1]
    return f"{text} {mark}"


@pytest.fixture
def ticket(app: Any, users: dict[str, Any]) -> dict[str, int]:
    """An open ticket with a service order of the technician "tecnico"."""
    from app.domain import service_orders
    from app.models import ServiceOrder

    with session(app) as s:
        agent = user(s, "atendente")
        found = factories.ticket(s, agent)
        order = service_orders.create_service_order(
            s, ServiceOrder(ticket=found, technician=user(s, "tecnico"), description="Trocar ONU"), agent)
        s.commit()
        return {"id": found.id, "order": order.id, "customer": found.customer_id}


# ---------------------------------------------------------------- the limits themselves


def test_every_text_column_has_a_length_limit():
    from app.models import LimitedText, Model

    unlimited = [f"{table.name}.{column.name}" for table in Model.metadata.tables.values()
                 if not table.name.startswith("ab_") for column in table.columns
                 if isinstance(getattr(column.type, "impl", column.type), sa.String) and not column.type.length]
    assert unlimited == []
    texts = {f"{table.name}.{column.name}": column.type.length for table in Model.metadata.tables.values()
             for column in table.columns if isinstance(column.type, LimitedText)}
    assert texts["ticket.opening_description"] == LIMIT and texts["ticket_message.body"] == LIMIT
    assert texts["customer.notes"] == NOTE and texts["ticket.cancel_reason"] == NOTE
    # a text copied into another column fits it: closing description → OS closing notes, message → history
    assert texts["service_order.closing_notes"] >= texts["ticket.closing_description"]
    assert texts["ticket_event.new_value"] >= max(texts["ticket.opening_description"], texts["ticket_message.body"])


def test_the_database_refuses_a_text_past_its_limit_and_the_refusal_names_the_field(app, ticket):
    from app.domain.inputs import database_error

    with session(app) as s:
        insert = sa.text("INSERT INTO knowledge_article (title, solution, active, updated_at) "
                         "VALUES ('Roteador', :solution, :active, CURRENT_TIMESTAMP)")
        s.execute(insert, {"solution": "x" * LIMIT, "active": True})
        s.rollback()
        with pytest.raises(sa.exc.IntegrityError) as refused:
            s.execute(insert, {"solution": "x" * (LIMIT + 1), "active": True})
        s.rollback()
        error = database_error(refused.value)
        assert (error.field, error.message) == ("solution", "Solução proposta: no máximo 10.000 caracteres.")
        with pytest.raises(sa.exc.IntegrityError) as refused:  # the same checks on a change, not only on insert
            s.execute(sa.text("UPDATE ticket SET cancel_reason = :reason WHERE id = :id"),
                      {"reason": "x" * (NOTE + 1), "id": ticket["id"]})
        s.rollback()
        error = database_error(refused.value)
        assert (error.field, error.message) == ("cancel_reason", "Motivo do cancelamento: no máximo 4.000 caracteres.")
    assert count(app, "SELECT COUNT(*) FROM knowledge_article") == 0


# ---------------------------------------------------------------- every door refuses, nothing is saved


def test_a_generated_form_refuses_a_text_past_its_limit_naming_the_limit(app, login):
    admin = login("admin")
    response = admin.post("/knowledgearticleview/add", data={"title": "Reiniciar a ONU", "solution": "x" * (LIMIT + 1),
                                                             "active": "y"})
    assert response.status_code == 200
    assert "No máximo 10.000 caracteres (o texto tem 10.001)." in page(response)
    assert count(app, "SELECT COUNT(*) FROM knowledge_article") == 0
    saved = admin.post("/knowledgearticleview/add", data={"title": "Reiniciar a ONU", "solution": "x" * LIMIT,
                                                          "active": "y"})
    assert saved.status_code == 302
    assert count(app, "SELECT LENGTH(solution) FROM knowledge_article") == LIMIT


def test_the_api_refuses_a_text_past_its_limit_naming_the_limit(app, api, ticket):
    client = api("admin")
    response = client.post("/api/v1/customer/", json={"person_type": "PF", "name": "Ana", "document": "52998224725",
                                                      "notes": "x" * (NOTE + 1)})
    assert response.status_code == 422
    assert response.json["message"] == {"notes": ["No máximo 4.000 caracteres (o texto tem 4.001)."]}
    response = client.post("/api/v1/ticket/", json={"customer": ticket["customer"],
                                                    "opening_description": "x" * (LIMIT + 1)})
    assert response.status_code == 422
    assert response.json["message"]["opening_description"] == ["No máximo 10.000 caracteres (o texto tem 10.001)."]
    assert count(app, "SELECT COUNT(*) FROM customer") == 1 and count(app, "SELECT COUNT(*) FROM ticket") == 1


def test_the_agent_message_past_its_limit_is_refused_and_one_at_the_limit_kept_whole(app, login, ticket):
    client = login("atendente")
    url = f"/atendimento/atendimento/{ticket['id']}/mensagem"
    refused = client.post(url, data={"body": "x" * (LIMIT + 1), "visibility": "internal"}, follow_redirects=True)
    assert "Mensagem: no máximo 10.000 caracteres (o texto tem 10.001)." in page(refused)
    assert count(app, "SELECT COUNT(*) FROM ticket_message") == 0
    client.post(url, data={"body": words(LIMIT), "visibility": "internal"})
    assert count(app, "SELECT LENGTH(body) FROM ticket_message") == LIMIT


def test_a_ticket_action_past_its_limit_is_refused_and_changes_nothing(app, login, api, ticket):
    response = login("atendente").post(f"/ticketaction/{ticket['id']}/cancel",
                                       data={"reason": "x" * (NOTE + 1), "service_orders": "cancel"})
    assert "No máximo 4.000 caracteres (o texto tem 4.001)." in page(response)
    response = api("atendente").post(f"/api/v1/ticket/{ticket['id']}/reiterate", json={"text": "x" * (LIMIT + 1)})
    assert response.status_code == 400 and response.json["field"] == "text"
    assert response.json["message"] == "No máximo 10.000 caracteres (o texto tem 10.001)."
    with session(app) as s:
        from app.models import Ticket

        assert s.get(Ticket, ticket["id"]).status.category != "cancelled"
    assert count(app, "SELECT COUNT(*) FROM ticket_message") == 0


def test_the_technician_form_past_its_limit_is_refused_at_the_field(app, login, ticket):
    client = login("tecnico")
    assert client.post(f"/tecnico/os/{ticket['order']}/iniciar").status_code == 302
    response = client.post(f"/tecnico/os/{ticket['order']}/finalizar", data={"closing_notes": "x" * (LIMIT + 1)})
    text = page(response)
    assert "Observações de fechamento: no máximo 10.000 caracteres (o texto tem 10.001)." in text
    assert "has-error" in text
    response = client.post(f"/tecnico/os/{ticket['order']}/reagendar", data={
        "scheduled_start": "01/12/2030 08:00", "scheduled_end": "01/12/2030 10:00", "reason": "x" * (NOTE + 1)})
    assert "Motivo do reagendamento: no máximo 4.000 caracteres (o texto tem 4.001)." in page(response)
    assert count(app, "SELECT COUNT(*) FROM service_order WHERE status = 'in_progress'") == 1


def test_a_mass_close_past_its_limit_closes_nothing(app, login, ticket):
    response = login("gestor").post("/ticketview/mass_close/", data={
        "rowid": [ticket["id"]], "confirm": "1", "closing_description": "x" * (LIMIT + 1), "service_orders": "cancel",
    }, follow_redirects=True)
    assert "no máximo 10.000 caracteres (o texto tem 10.001)" in page(response).lower()
    assert count(app, "SELECT COUNT(*) FROM ticket WHERE closed_at IS NOT NULL") == 0


def test_quick_registration_past_a_limit_is_refused_at_the_field(app, login):
    response = login("atendente").post("/atendimento/cliente", data={
        "person_type": "PF", "name": "Joana " + "x" * 200, "document": "529.982.247-25"})
    assert response.status_code == 200
    assert "Nome: no máximo 200 caracteres (o texto tem 206)." in page(response)
    assert count(app, "SELECT COUNT(*) FROM customer") == 0


# ---------------------------------------------------------------- database refusals told at their field


def test_database_refusals_are_told_as_what_they_are(app, api, login):
    client = api("admin")
    cases = [
        ("/api/v1/channel/", {"name": "Telefone"}, "name", "Já existe um canal com este nome."),
        ("/api/v1/channel/", {"name": "   "}, "name", "Nome: preenchimento obrigatório."),
        ("/api/v1/subject/", {"name": "Lentidão", "sla_hours": -5}, "sla_hours",
         "O SLA deve ser de 0 a 8.760 horas (um ano)."),
        ("/api/v1/ticketstatus/", {"name": "Em espera", "category": "waiting"}, "category",
         "Categoria inválida: use new, pending, in_progress, resolved ou cancelled."),
    ]
    channels, subjects = count(app, "SELECT COUNT(*) FROM channel"), count(app, "SELECT COUNT(*) FROM subject")
    for url, body, field, message in cases:
        response = client.post(url, json=body)
        assert response.status_code == 400, (url, response.json)
        assert (response.json["field"], response.json["message"]) == (field, message)
    response = client.post("/api/v1/ticket/", json={"status": 999999, "opening_description": "Sem sinal"})
    assert response.status_code == 422 and response.json["message"] == {"status": ["Status inexistente."]}
    admin = login("admin")
    assert "Já existe um canal com este nome." in page(admin.post("/channelview/add", data={"name": "Telefone"}))
    assert "Nome: preenchimento obrigatório." in page(admin.post("/channelview/add", data={"name": "  "}))
    assert "O SLA deve ser de 0 a 8.760 horas" in page(admin.post("/subjectview/add", data={"name": "Lento",
                                                                                              "sla_hours": "-5"}))
    assert (count(app, "SELECT COUNT(*) FROM channel"), count(app, "SELECT COUNT(*) FROM subject")) == (channels,
                                                                                                         subjects)


def test_a_ticket_naming_a_record_that_does_not_exist_is_refused_by_the_domain(app, users):
    from app.domain import tickets
    from app.domain.errors import ValidationError
    from app.models import Ticket, TicketStatus

    with session(app) as s:
        ticket = Ticket(type="customer", customer=factories.customer(s), subject=factories.subject(s),
                        status=TicketStatus(id=999999), opening_description="Sem sinal", is_draft=False)
        with pytest.raises(ValidationError, match="Status inexistente"):
            tickets.create_ticket(s, ticket, user(s, "atendente"))


# ---------------------------------------------------------------- malformed requests, refused before the database


def test_ids_past_64_bits_are_not_found_or_ignored(app, login, api, ticket):
    client = login("gestor")
    for url in (f"/ticketview/edit/{BIG}", f"/ticketview/show/{BIG}", f"/ticketaction/{BIG}/finalize",
                "/ticketview/edit/abc", f"/ticketprint/{BIG}/pdf"):
        response = client.get(url)
        assert response.status_code == 404 and "Página não encontrada" in page(response), url
    listed = client.get(f"/ticketview/list/?status={BIG}&customer={BIG}&date_from=")
    assert listed.status_code == 200
    assert "Filtro “Status”: valor inválido" in page(listed) and "Filtro “Cliente”: valor inválido" in page(listed)
    assert client.get(f"/lookup/contract?customer={BIG}").json == {"results": []}
    refused = client.post("/ticketview/mass_close/", data={"rowid": [BIG], "confirm": "1"})
    assert refused.status_code == 400 and "Seleção inválida" in page(refused)
    response = api("gestor").get(f"/api/v1/ticket/{BIG}")
    assert response.status_code == 404 and response.json["message"] == "Recurso não encontrado."


def test_nul_bytes_and_lone_surrogates_are_refused(app, login, api):
    response = login("gestor").get("/ticketview/list/?text=a%00b")
    assert response.status_code == 400 and "caracteres inválidos" in page(response)
    response = api("admin").post("/api/v1/channel/", data='{"name": "Canal \\ud800"}', content_type="application/json")
    assert response.status_code == 400 and "caracteres inválidos" in response.json["message"]
    assert count(app, "SELECT COUNT(*) FROM channel WHERE name LIKE 'Canal %'") == 0


def test_dates_outside_1900_2100_are_refused_in_ptbr(app, login, api, ticket):
    listed = login("gestor").get("/ticketview/list/?date_from=31/12/9999&date_to=1800-01-01")
    assert listed.status_code == 200
    assert "Filtro “Data inicial”: valor inválido" in page(listed)
    assert "Filtro “Data final”: valor inválido" in page(listed)
    response = api("admin").post("/api/v1/ticket/", json={"customer": ticket["customer"],
                                                          "received_at": "9999-12-31T10:00:00"})
    assert response.status_code == 422
    assert response.json["message"] == {"received_at": ["Informe uma data entre 01/01/1900 e 31/12/2100."]}


def test_bad_paging_is_refused_in_ptbr(login, api):
    client = login("admin")
    for query in ("page_ChannelView=-1", "page_ChannelView=abc", "psize_ChannelView=100000", "psize_ChannelView=²"):
        response = client.get(f"/channelview/list/?{query}")
        assert response.status_code == 400 and "Paginação inválida" in page(response), query
    client = api("admin")
    for query in ("(page:-1)", "(page_size:-1)", "(page:abc)", "(page_size:!t)", "(page:" + BIG + ")"):
        response = client.get("/api/v1/ticket/", query_string={"q": query})
        assert response.status_code == 400, query
        assert re.search(r"(Paginação|Parâmetro “q”) inválid[oa]", response.json["message"]), response.json


@pytest.mark.parametrize("body", ["[]", '"texto"', "null", "[" * 5000 + "]" * 5000, "1"])
def test_a_json_body_must_be_an_object(api, body):
    response = api("admin").post("/api/v1/channel/", data=body, content_type="application/json")
    assert response.status_code == 400
    assert response.json["message"] in ("O corpo da requisição deve ser um objeto JSON.",
                                        "O corpo da requisição tem níveis demais (no máximo 32).")


def test_an_unknown_action_is_not_found(login):
    client = login("admin")
    assert client.post("/channelview/action_post", data={"action": "nao_existe", "rowid": ["1"]}).status_code == 404
    assert client.get("/channelview/action/nao_existe/1").status_code == 404


# ---------------------------------------------------------------- must show 10: the print out at every limit


def test_the_pdf_of_a_ticket_with_every_text_at_its_limit_is_complete(app, login, users):
    from pypdf import PdfReader

    from app.domain import actions, messages, tickets
    from app.models import Ticket, TicketMessage

    with session(app) as s:
        agent = user(s, "atendente")
        ticket = factories.ticket(s, agent, opening_description=words(LIMIT, "FIM-ABERTURA-0"))
        for number in range(6):
            messages.add_message(s, TicketMessage(ticket=ticket, body=words(LIMIT, f"FIM-MENSAGEM-{number}"),
                                                  is_internal=False), agent)
            s.commit()
        for number in range(1, 6):
            ticket.opening_description = words(LIMIT, f"FIM-ABERTURA-{number}")
            ticket.closing_description = words(LIMIT, f"FIM-FECHAMENTO-{number}")
            tickets.update_ticket(s, ticket, agent)
            s.commit()
        actions.cancel(s, ticket, agent, words(NOTE, "FIM-CANCELAMENTO"))
        s.commit()
        ticket_id = ticket.id
        assert len(s.get(Ticket, ticket_id).events) > 15
    response = login("gestor").get(f"/ticketprint/{ticket_id}/pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(response.data))
    text = " ".join(page.extract_text() for page in reader.pages)
    assert len(reader.pages) > 10
    for mark in ("FIM-ABERTURA-5", "FIM-FECHAMENTO-5", "FIM-CANCELAMENTO", *(f"FIM-MENSAGEM-{n}" for n in range(6))):
        assert mark in text, mark
    assert re.search(r"Página \d+ de \d+", text)
