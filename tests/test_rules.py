"""Business rules a user meets in the forms and the API (R2–R9, R23).

Every refusal is a 4xx (API) or a flashed pt-BR message (form), never a 500,
and leaves the database exactly as it was.
"""
from __future__ import annotations

import html
from typing import Any

import pytest
import sqlalchemy as sa

from tests.support import session, user
from tests import factories

WATCHED = ["ticket", "ticket_event", "ticket_assignee", "service_order", "customer", "contract",
           "protocol_sequence", "ticket_message"]


def snapshot(app: Any) -> dict[str, list]:
    with session(app) as s:
        return {name: [tuple(r) for r in s.execute(sa.text(f"SELECT * FROM {name} ORDER BY 1"))] for name in WATCHED}


def page(response: Any) -> str:
    return html.unescape(response.get_data(as_text=True))


def ticket_form(t: Any, **changes: Any) -> dict[str, Any]:
    """The edit form of a ticket as the browser would post it."""
    data = {
        "type": t.type, "customer": t.customer_id, "contract": t.contract_id, "site": t.site_id,
        "subject": t.subject_id, "department": t.department_id, "priority": t.priority_id,
        "channel": t.channel_id, "direction": t.direction, "status": t.status_id,
        "opening_description": t.opening_description or "", "closing_description": t.closing_description or "",
        "closing_reason": t.closing_reason_id, "expected_version": t.version,
    }
    data.update(changes)
    return {k: ("" if v is None else str(v)) for k, v in data.items() if v is not None or k in changes}


def make_ticket(app: Any, username: str = "atendente", **kw: Any) -> dict[str, Any]:
    with session(app) as s:
        t = factories.ticket(s, user(s, username), **kw)
        return {"id": t.id, "protocol": t.protocol, "customer": t.customer_id, "subject": t.subject_id,
                "status": t.status_id, "version": t.version}


def ticket_row(app: Any, pk: int) -> Any:
    with session(app) as s:
        return s.execute(sa.text("SELECT * FROM ticket WHERE id = :id"), {"id": pk}).mappings().one_or_none()


def load_ticket(s: Any, pk: int) -> Any:
    from app.models import Ticket

    return s.get(Ticket, pk)


# ---------------------------------------------------------------- R2 drafts


def test_form_deletes_a_draft_but_refuses_a_saved_ticket(app, login, users):
    draft = make_ticket(app, is_draft=True)
    saved = make_ticket(app)
    client = login("atendente")

    before = snapshot(app)
    response = client.post(f"/ticketview/delete/{saved['id']}", follow_redirects=True)
    assert response.status_code == 200
    assert "não é rascunho e não pode ser excluído" in page(response)
    assert snapshot(app) == before

    response = client.post(f"/ticketview/delete/{draft['id']}", follow_redirects=True)
    assert response.status_code == 200
    assert ticket_row(app, draft["id"]) is None
    assert ticket_row(app, saved["id"]) is not None


def test_api_deletes_a_draft_but_refuses_a_saved_ticket(app, api, users):
    draft = make_ticket(app, is_draft=True)
    saved = make_ticket(app)
    client = api("atendente")

    before = snapshot(app)
    response = client.delete(f"/api/v1/ticket/{saved['id']}")
    assert response.status_code == 400
    assert "não é rascunho" in response.json["message"]
    assert snapshot(app) == before

    response = client.delete(f"/api/v1/ticket/{draft['id']}")
    assert response.status_code == 200
    assert ticket_row(app, draft["id"]) is None


# ---------------------------------------------------------------- R3 service orders


def test_service_order_needs_a_ticket_in_the_form(app, login, users):
    client = login("atendente")
    before = snapshot(app)
    response = client.post("/serviceorderview/add", data={"description": "Trocar ONU"}, follow_redirects=True)
    assert response.status_code == 200
    assert "Traceback" not in page(response)
    assert snapshot(app) == before


def test_service_order_needs_a_ticket_in_the_api(app, api, users):
    client = api("atendente")
    before = snapshot(app)
    response = client.post("/api/v1/serviceorder/", json={"description": "Trocar ONU", "status": "open"})
    assert 400 <= response.status_code < 500
    assert "ticket" in response.json["message"]
    assert snapshot(app) == before

    response = client.post("/api/v1/serviceorder/", json={"ticket": None, "description": "Trocar ONU"})
    assert 400 <= response.status_code < 500
    assert snapshot(app) == before


def test_service_order_with_a_ticket_is_created(app, api, users):
    t = make_ticket(app)
    response = api("atendente").post("/api/v1/serviceorder/", json={"ticket": t["id"], "description": "Trocar ONU"})
    assert response.status_code == 201, response.json
    with session(app) as s:
        assert s.scalar(sa.text("SELECT count(*) FROM service_order WHERE ticket_id = :t"), {"t": t["id"]}) == 1


# ---------------------------------------------------------------- R6 active only


def _inactive_channel_and_subject(app: Any) -> tuple[int, int]:
    with session(app) as s:
        from app.models import Channel

        channel = Channel(name="Fax", active=False)
        s.add(channel)
        subject = factories.subject(s, name="Assunto desativado", active=False)
        s.commit()
        return channel.id, subject.id


def test_api_refuses_inactive_channel_and_subject(app, api, users):
    channel_id, subject_id = _inactive_channel_and_subject(app)
    with session(app) as s:
        customer_id = factories.customer(s).id
        active_subject = factories.subject(s).id
        s.commit()
    client = api("atendente")
    before = snapshot(app)
    response = client.post("/api/v1/ticket/", json={"customer": customer_id, "subject": active_subject,
                                                    "channel": channel_id})
    assert response.status_code == 400
    assert "Fax" in response.json["message"] and "inativo" in response.json["message"]
    response = client.post("/api/v1/ticket/", json={"customer": customer_id, "subject": subject_id})
    assert response.status_code == 400
    assert "Assunto desativado" in response.json["message"] and "inativo" in response.json["message"]
    assert snapshot(app) == before


def test_form_refuses_inactive_channel_and_subject(app, login, users):
    channel_id, subject_id = _inactive_channel_and_subject(app)
    t = make_ticket(app)
    client = login("atendente")
    with session(app) as s:
        form = ticket_form(load_ticket(s, t["id"]), channel=channel_id)
        form2 = ticket_form(load_ticket(s, t["id"]), subject=subject_id)
    before = snapshot(app)
    edit = client.get(f"/ticketview/edit/{t['id']}").get_data(as_text=True)
    assert f'value="{channel_id}"' not in edit.split('id="channel"')[1].split("</select>")[0]  # not offered (R6)
    assert f'value="{subject_id}"' not in edit.split('id="subject"')[1].split("</select>")[0]
    for forged in (form, form2):  # posted anyway: refused at the field, nothing saved, the form keeps the input
        response = client.post(f"/ticketview/edit/{t['id']}", data=forged)
        assert response.status_code == 200
        assert "Escolha inválida" in page(response) or "Não é uma escolha válida" in page(response), page(response)
        assert forged["opening_description"] in page(response)
    assert snapshot(app) == before


def test_existing_ticket_keeps_a_subject_deactivated_later(app, api, users):
    t = make_ticket(app)
    with session(app) as s:
        s.execute(sa.text("UPDATE subject SET active = :f WHERE id = :id"), {"f": False, "id": t["subject"]})
        s.commit()
    response = api("atendente").put(f"/api/v1/ticket/{t['id']}", json={"opening_description": "Atualizado",
                                                                        "version": t["version"]})
    assert response.status_code == 200, response.json
    assert ticket_row(app, t["id"])["opening_description"] == "Atualizado"


# ---------------------------------------------------------------- R5 / R7 / R4


def test_subject_requiring_contract_refuses_ticket_without_one(app, api, login, users):
    with session(app) as s:
        subject_id = factories.subject(s, name="Sem conexão", requires_contract=True).id
        customer_id = factories.customer(s).id  # no contract at all
        s.commit()
    before = snapshot(app)
    response = api("atendente").post("/api/v1/ticket/", json={"customer": customer_id, "subject": subject_id})
    assert response.status_code == 400
    assert "exige um contrato" in response.json["message"]
    assert snapshot(app) == before

    t = make_ticket(app)
    with session(app) as s:
        form = ticket_form(load_ticket(s, t["id"]), subject=subject_id, contract="")
    before = snapshot(app)
    response = login("atendente").post(f"/ticketview/edit/{t['id']}", data=form, follow_redirects=True)
    assert "O assunto Sem conexão exige um contrato." in page(response)
    assert snapshot(app) == before


def test_contract_of_another_customer_is_refused(app, api, login, users):
    with session(app) as s:
        ana = factories.customer(s, name="Ana")
        bruno = factories.customer(s, name="Bruno")
        factories.contract(s, ana)
        factories.contract(s, ana)  # two contracts: nothing is filled in automatically
        foreign = factories.contract(s, bruno)
        subject_id = factories.subject(s).id
        ids = ana.id, foreign.id, foreign.number
        s.commit()
    ana_id, foreign_id, foreign_number = ids
    before = snapshot(app)
    response = api("atendente").post("/api/v1/ticket/", json={"customer": ana_id, "contract": foreign_id,
                                                               "subject": subject_id})
    assert response.status_code == 400
    assert f"O contrato {foreign_number} não pertence ao cliente Ana." == response.json["message"]
    assert snapshot(app) == before

    client = login("atendente")
    response = client.post("/ticketview/add", data={"type": "customer", "customer": ana_id,
                                                    "contract": foreign_id}, follow_redirects=True)
    assert "não pertence ao cliente" in page(response)
    assert snapshot(app) == before

    with session(app) as s:
        t = factories.ticket(s, user(s, "atendente"), owner=s.get(__import__("app.models", fromlist=["Customer"]).Customer, ana_id))
        form = ticket_form(t, contract=foreign_id)
        pk = t.id
    before = snapshot(app)
    response = client.post(f"/ticketview/edit/{pk}", data=form, follow_redirects=True)
    assert f"O contrato {foreign_number} não pertence ao cliente Ana." in page(response)
    assert snapshot(app) == before


def test_customer_ticket_without_customer_is_refused(app, api, login, users):
    with session(app) as s:
        subject_id = factories.subject(s).id
        s.commit()
    before = snapshot(app)
    response = api("atendente").post("/api/v1/ticket/", json={"type": "customer", "subject": subject_id,
                                                               "opening_description": "Sem cliente"})
    assert response.status_code == 400
    assert response.json["message"] == "Atendimento do tipo Cliente exige um cliente."
    assert snapshot(app) == before

    # the start form keeps a draft with its protocol; saving it without a customer is refused
    client = login("atendente")
    response = client.post("/ticketview/add", data={"type": "customer"})
    assert response.status_code == 302
    pk = int(response.headers["Location"].rstrip("/").split("/")[-1])
    with session(app) as s:
        draft = load_ticket(s, pk)
        assert draft.is_draft and len(draft.protocol) == 14
        form = ticket_form(draft, subject=subject_id, opening_description="Sem cliente")
    before = snapshot(app)
    response = client.post(f"/ticketview/edit/{pk}", data=form, follow_redirects=True)
    assert "Atendimento do tipo Cliente exige um cliente." in page(response)
    assert snapshot(app) == before
    assert ticket_row(app, pk)["is_draft"] in (True, 1)


# ---------------------------------------------------------------- R9 closing


def _resolved_status(app: Any) -> int:
    with session(app) as s:
        return factories.status(s, "resolved").id


def test_api_resolving_needs_a_closing_description(app, api, users):
    t = make_ticket(app)
    resolved = _resolved_status(app)
    client = api("atendente")
    before = snapshot(app)
    response = client.put(f"/api/v1/ticket/{t['id']}", json={"status": resolved, "version": t["version"]})
    assert response.status_code == 400
    assert response.json["message"] == "Para resolver o atendimento informe a descrição do fechamento."
    assert snapshot(app) == before
    assert ticket_row(app, t["id"])["closed_at"] is None

    response = client.put(f"/api/v1/ticket/{t['id']}", json={"status": resolved, "version": t["version"],
                                                             "closing_description": "Reiniciada a ONU"})
    assert response.status_code == 200, response.json
    row = ticket_row(app, t["id"])
    assert row["status_id"] == resolved and row["closed_at"] is not None


def test_form_resolving_needs_a_closing_description(app, login, users):
    t = make_ticket(app)
    resolved = _resolved_status(app)
    client = login("atendente")
    with session(app) as s:
        form = ticket_form(load_ticket(s, t["id"]), status=resolved, closing_description="")
    before = snapshot(app)
    response = client.post(f"/ticketview/edit/{t['id']}", data=form, follow_redirects=True)
    assert "Para resolver o atendimento informe a descrição do fechamento." in page(response)
    assert snapshot(app) == before

    form["closing_description"] = "Cabo trocado"
    response = client.post(f"/ticketview/edit/{t['id']}", data=form, follow_redirects=True)
    assert response.status_code == 200
    row = ticket_row(app, t["id"])
    assert row["status_id"] == resolved
    assert row["closing_description"] == "Cabo trocado"
    assert row["closed_at"] is not None


def _cancelled_ticket(app: Any) -> dict[str, Any]:
    t = make_ticket(app)
    with session(app) as s:
        from app.domain import tickets

        ticket = load_ticket(s, t["id"])
        ticket.status = factories.status(s, "cancelled")
        ticket.cancel_reason = "Cliente desistiu"
        tickets.update_ticket(s, ticket, user(s, "gestor"))
        s.commit()
        t["version"] = ticket.version
    return t


def test_cancelled_ticket_refuses_any_change_api(app, api, users):
    t = _cancelled_ticket(app)
    with session(app) as s:
        telefone = factories.channel(s).id
    client = api("gestor")
    before = snapshot(app)
    for body in ({"opening_description": "Mudou"}, {"channel": telefone}, {"status": t["status"]}):
        response = client.put(f"/api/v1/ticket/{t['id']}", json={**body, "version": t["version"]})
        assert response.status_code == 409, body
        assert response.json["message"] == "Atendimento cancelado não aceita alterações."
    assert snapshot(app) == before


def test_cancelled_ticket_refuses_any_change_form(app, login, users):
    t = _cancelled_ticket(app)
    with session(app) as s:
        form = ticket_form(load_ticket(s, t["id"]), opening_description="Mudou")
    before = snapshot(app)
    response = login("gestor").post(f"/ticketview/edit/{t['id']}", data=form, follow_redirects=True)
    assert "Atendimento cancelado não aceita alterações." in page(response)
    assert snapshot(app) == before


def test_cancelled_ticket_refuses_new_service_order(app, api, users):
    t = _cancelled_ticket(app)
    before = snapshot(app)
    response = api("gestor").post("/api/v1/serviceorder/", json={"ticket": t["id"], "description": "Visita"})
    assert response.status_code == 409
    assert snapshot(app) == before


# ---------------------------------------------------------------- R23 documents


@pytest.mark.parametrize("person_type,document,message", [
    ("PF", "123.456.789-00", "CPF inválido: confira os dígitos."),
    ("PF", "111.111.111-11", "CPF inválido: confira os dígitos."),
    ("PJ", "11.222.333/0001-00", "CNPJ inválido: confira os dígitos verificadores."),
])
def test_invalid_document_is_refused(app, api, login, users, person_type, document, message):
    before = snapshot(app)
    response = api("atendente").post("/api/v1/customer/", json={"person_type": person_type, "name": "Fulano",
                                                                 "document": document})
    assert response.status_code == 400
    assert response.json["message"] == message
    response = login("atendente").post("/customerview/add", data={"person_type": person_type, "name": "Fulano",
                                                                  "document": document, "active": "y"},
                                       follow_redirects=True)
    assert response.status_code == 200
    assert message in page(response)
    assert snapshot(app) == before


@pytest.mark.parametrize("person_type,document,stored", [
    ("PF", "529.982.247-25", "52998224725"),
    ("PJ", "11.222.333/0001-81", "11222333000181"),
])
def test_valid_document_with_punctuation_is_stored_digits_only(app, api, login, users, person_type, document, stored):
    response = login("atendente").post("/customerview/add", data={"person_type": person_type, "name": "Pela tela",
                                                                  "document": document, "active": "y"},
                                       follow_redirects=True)
    assert response.status_code == 200
    with session(app) as s:
        assert s.scalar(sa.text("SELECT document FROM customer WHERE name = 'Pela tela'")) == stored
        s.execute(sa.text("DELETE FROM customer"))
        s.commit()
    response = api("atendente").post("/api/v1/customer/", json={"person_type": person_type, "name": "Pela API",
                                                                 "document": document})
    assert response.status_code == 201, response.json
    with session(app) as s:
        assert s.scalar(sa.text("SELECT document FROM customer WHERE name = 'Pela API'")) == stored


def test_customer_edit_form_stores_the_new_document_digits_only(app, login, users):
    with session(app) as s:
        c = factories.customer(s, name="Carla")
        s.commit()
        pk = c.id
    response = login("atendente").post(f"/customerview/edit/{pk}", data={
        "person_type": "PF", "name": "Carla Souza", "document": "529.982.247-25", "active": "y", "expected_version": "1"},
        follow_redirects=True)
    assert response.status_code == 200
    with session(app) as s:
        row = s.execute(sa.text("SELECT name, document FROM customer WHERE id = :id"), {"id": pk}).one()
    assert tuple(row) == ("Carla Souza", "52998224725")


def test_draft_with_a_service_order_is_not_deleted(app, login, api, users):
    from app.domain import service_orders
    from app.models import ServiceOrder, Ticket

    t = make_ticket(app, is_draft=True)
    with session(app) as s:
        order = ServiceOrder(ticket=s.get(Ticket, t["id"]), description="Visita")
        service_orders.create_service_order(s, order, user(s, "atendente"))
        s.commit()
    before = snapshot(app)
    response = login("atendente").post(f"/ticketview/delete/{t['id']}", follow_redirects=True)
    assert "tem ordens de serviço e não pode ser excluído" in page(response)
    response = api("atendente").delete(f"/api/v1/ticket/{t['id']}")
    assert response.status_code == 400
    assert "tem ordens de serviço" in response.json["message"]
    assert snapshot(app) == before
