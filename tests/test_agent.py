"""The agent's screens: quick registration, the ticket workspace, drafts, messages, OS, knowledge base."""
from __future__ import annotations

import html
from typing import Any

import sqlalchemy as sa

from tests import factories
from tests.support import session, user
from tests.test_rules import load_ticket, ticket_form


def text(response: Any) -> str:
    return html.unescape(response.get_data(as_text=True))


def start(client: Any, customer: int, contract: int | None = None) -> int:
    data = {"type": "customer", "customer": customer}
    if contract:
        data["contract"] = contract
    response = client.post("/ticketview/add", data=data)
    assert response.status_code == 302, response.status_code
    return int(response.headers["Location"].rstrip("/").split("/")[-1])


def test_quick_registration_keeps_the_agent_in_the_flow(app, login, users):
    client = login("atendente")
    response = client.post("/atendimento/cliente", data={
        "person_type": "PF", "name": "Joana Conceição", "document": "529.982.247-25",
        "phone": "(11) 98765-4321", "email": "joana@example.com", "street": "Rua das Acácias",
        "street_number": "10", "district": "Centro", "zip_code": "01001-000",
    })
    assert response.status_code == 302
    assert "q=52998224725" in response.headers["Location"]
    with session(app) as s:
        row = s.execute(sa.text("SELECT id, document FROM customer WHERE name = 'Joana Conceição'")).one()
        assert row.document == "52998224725"
        phones = s.execute(sa.text("SELECT number, is_primary FROM customer_phone WHERE customer_id = :c"),
                           {"c": row.id}).all()
        assert [(p.number, bool(p.is_primary)) for p in phones] == [("11987654321", True)]


def test_quick_registration_refuses_an_invalid_cpf(app, login, users):
    client = login("atendente")
    response = client.post("/atendimento/cliente", data={"person_type": "PF", "name": "Fulano", "document": "111.111.111-12"},
                           follow_redirects=True)
    assert "CPF inválido" in text(response)
    with session(app) as s:
        assert s.execute(sa.text("SELECT COUNT(*) FROM customer")).scalar() == 0


def test_workspace_shows_protocol_alert_panel_and_diagnostics(app, login, users):
    with session(app) as s:
        agent = user(s, "atendente")
        customer = factories.customer(s, name="Marcos Araújo")
        contract = factories.contract(s, customer)
        factories.ticket(s, agent, owner=customer)
        s.commit()
        customer_id, contract_id = customer.id, contract.id
    client = login("atendente")
    pk = start(client, customer_id, contract_id)
    page = text(client.get(f"/ticketview/edit/{pk}"))
    with session(app) as s:
        ticket = load_ticket(s, pk)
        protocol = ticket.protocol
        assert ticket.is_draft
        assert ticket.diagnostics and ticket.diagnostics["sections"], "diagnostics snapshot saved at opening"
    assert f"Protocolo {protocol}" in page
    assert 'id="open-ticket-alert"' in page and "1 atendimento em aberto" in page
    assert "Marcos Araújo" in page and 'id="panel-contract"' in page
    assert "Contrato e serviço" in page, "the diagnostics tab shows the saved snapshot"


def test_leaving_the_form_keeps_a_draft_with_the_same_protocol(app, login, users):
    with session(app) as s:
        customer = factories.customer(s)
        subject = factories.subject(s)
        s.commit()
        customer_id, subject_id = customer.id, subject.id
    client = login("atendente")
    pk = start(client, customer_id)
    with session(app) as s:
        protocol = load_ticket(s, pk).protocol
    listing = text(client.get("/ticketview/list/", follow_redirects=True))
    assert protocol in listing
    with session(app) as s:
        t = load_ticket(s, pk)
        form = ticket_form(t, subject=subject_id, opening_description="Sem sinal desde ontem")
    response = client.post(f"/ticketview/edit/{pk}", data=form, follow_redirects=True)
    assert response.status_code == 200
    with session(app) as s:
        t = load_ticket(s, pk)
        assert t.protocol == protocol and not t.is_draft
        assert s.execute(sa.text("SELECT COUNT(*) FROM ticket")).scalar() == 1


def test_message_and_service_order_from_the_workspace_land_in_history(app, login, users):
    with session(app) as s:
        t = factories.ticket(s, user(s, "atendente"))
        pk = t.id
        so_type = s.execute(sa.text("SELECT id FROM service_order_type ORDER BY id")).scalar()
    client = login("atendente")
    client.post(f"/atendimento/atendimento/{pk}/mensagem", data={"body": "Cliente informou que o roteador reiniciou", "visibility": "customer"})
    client.post(f"/atendimento/atendimento/{pk}/os", data={"type": so_type, "description": "Verificar sinal na casa"})
    with session(app) as s:
        kinds = [r[0] for r in s.execute(sa.text("SELECT kind FROM ticket_event WHERE ticket_id = :t ORDER BY id"), {"t": pk})]
        assert "message" in kinds and "service_order" in kinds
        message = s.execute(sa.text("SELECT is_internal FROM ticket_message WHERE ticket_id = :t"), {"t": pk}).scalar()
        assert not message
    page = text(client.get(f"/ticketview/edit/{pk}"))
    assert "Cliente informou que o roteador reiniciou" in page and "Nenhuma ordem de serviço" not in page


def test_empty_message_is_refused_and_nothing_saved(app, login, users):
    with session(app) as s:
        pk = factories.ticket(s, user(s, "atendente")).id
    response = login("atendente").post(f"/atendimento/atendimento/{pk}/mensagem", data={"body": "  "}, follow_redirects=True)
    assert "A mensagem não pode ficar vazia" in text(response)
    with session(app) as s:
        assert s.execute(sa.text("SELECT COUNT(*) FROM ticket_message")).scalar() == 0


def test_subject_rules_tell_the_form_what_is_required(app, login, users):
    with session(app) as s:
        subject = factories.subject(s, requires_contract=True, requires_channel=True)
        s.commit()
        pk = subject.id
    rules = login("atendente").get(f"/atendimento/assunto/{pk}").json
    assert rules["requires_contract"] and rules["requires_channel"] and not rules["requires_sub_status"]


def test_knowledge_base_search_and_use_is_recorded(app, login, users):
    from app.models import KnowledgeArticle

    with session(app) as s:
        s.add(KnowledgeArticle(title="Reiniciar a ONU", keywords="sem sinal, los", solution="Desligue a ONU por 30 segundos."))
        pk = factories.ticket(s, user(s, "atendente")).id
        s.commit()
        article = s.execute(sa.text("SELECT id FROM knowledge_article")).scalar()
    client = login("atendente")
    found = client.get("/atendimento/base-de-conhecimento?q=sinal").json["results"]
    assert [a["title"] for a in found] == ["Reiniciar a ONU"]
    client.post(f"/atendimento/atendimento/{pk}/artigo/{article}")
    with session(app) as s:
        used = s.execute(sa.text("SELECT new_value FROM ticket_event WHERE ticket_id = :t AND field = 'article'"), {"t": pk}).scalar()
    assert used == "Reiniciar a ONU"


def test_technician_cannot_use_the_agent_screens(app, login, users):
    with session(app) as s:
        pk = factories.ticket(s, user(s, "atendente")).id
    client = login("tecnico")
    assert client.get("/atendimento/").status_code == 403
    assert client.post(f"/atendimento/atendimento/{pk}/mensagem", data={"body": "x"}).status_code == 403
