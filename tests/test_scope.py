"""Scope in one place (issue 10: H1, H2, H3, M1; R16–R20, R26, R30): forged requests replayed per role.

An Assinante reaches, by any door (API resources, `_info` related lists, look-ups, history, messages,
attachments, exports, the back office), only their own customer, contracts and registered tickets, and of
those only what is public; every forged id answers 404; the fields of R30 are the only ones they set. A
Técnico's look-ups return only the customers of their own service orders; an Atendente's every customer.
The assertions are about the data (names, CPF, protocols, note texts), not only the status codes.
"""
from __future__ import annotations

import datetime as dt
import io
import json
from typing import Any

import prison
import pytest
import sqlalchemy as sa

from tests import factories
from tests.support import session, user

PDF = b"%PDF-1.4\n% teste\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
NOTE = "NOTA-INTERNA-SIGILOSA cliente inadimplente, não conceder desconto"
PUBLIC = "Mensagem ao cliente: a equipe técnica vai verificar a sua conexão."
NEIGHBOUR_NOTE = "NOTA-DO-VIZINHO conversa reservada"
STAFF_NAMES = ("Atendente Teste", "Gestor Teste", "Tecnico Teste", "Tecnico2 Teste", "Admin Teste",
               "Central Portal")
STAFF_FIELDS = {
    "assignees": [1], "status": 1, "channel": 1, "department": 1, "priority": 1, "related_ticket": 1,
    "is_draft": False, "rating": 5, "type": "customer", "site": 1, "sub_status": 1, "closing_reason": 1,
    "closing_description": "Resolvido", "direction": "outbound", "received_at": "2026-01-01T10:00:00",
    "opened_by": 1, "protocol": "20260101000001",
}


def _add_user(s: Any, username: str, role: str, first: str, last: str) -> Any:
    from app.extensions import appbuilder

    return appbuilder.sm.add_user(username, first, last, f"{username}@example.com", appbuilder.sm.find_role(role),
                                  "Senha-forte-123")


@pytest.fixture
def world(app: Any, users: Any) -> dict[str, Any]:
    """Two customers (the Assinante's and a neighbour), a technician's customer, their tickets and files."""
    from app.domain import actions, attachments, messages, service_orders, tickets
    from app.domain.params import get_parameters
    from app.models import Channel, ServiceOrder, Ticket, TicketMessage

    folder = app.config["UPLOAD_FOLDER"]
    with session(app) as s:
        agent, customer_user = user(s, "atendente"), user(s, "assinante")
        central = _add_user(s, "central", "Atendente", "Central", "Portal")
        mine = factories.customer(s, name="Maria Assinante", document="52998224725")
        mine.portal_user_id = customer_user.id
        neighbour = factories.customer(s, name="Vizinho Sigiloso", document="11144477735")
        field = factories.customer(s, name="Cliente do Técnico", document="39053344705")
        my_contract = factories.contract(s, mine, login="maria.assinante")
        other_contract = factories.contract(s, neighbour, login="vizinho.sigiloso")
        field_contract = factories.contract(s, field, login="cliente.tecnico")
        portal_subject = factories.subject(s, name="Sem conexão (central)", portal_available=True)
        staff_subject = factories.subject(s, name="Cobrança interna")
        late_subject = factories.subject(s, name="Lentidão (central)", portal_available=True, sla_hours=0)
        s.commit()

        own = factories.ticket(s, agent, owner=mine, subject=portal_subject, contract=my_contract,
                               opening_description="Minha internet caiu")
        own.assignees = [agent]
        tickets.update_ticket(s, own, agent)  # an "assignees" history entry the customer must not read
        s.commit()
        messages.add_message(s, TicketMessage(ticket=own, is_internal=True, body=NOTE), agent)
        messages.add_message(s, TicketMessage(ticket=own, is_internal=False, body=PUBLIC), agent)
        internal_file = attachments.add_attachment(s, own, agent, "laudo-interno.pdf", io.BytesIO(PDF), folder)
        own_file = attachments.add_attachment(s, own, customer_user, "meu-comprovante.pdf", io.BytesIO(PDF), folder)
        s.commit()
        resolved = factories.ticket(s, agent, owner=mine, subject=portal_subject, opening_description="Resolvido já")
        actions.finalize(s, resolved, agent, "Trocamos o roteador")
        late = factories.ticket(s, agent, owner=mine, subject=late_subject, opening_description="Lento há dias")
        late.due_at = late.opened_at - dt.timedelta(hours=1)  # past its SLA whatever the clock's resolution
        draft = factories.ticket(s, agent, owner=mine, subject=portal_subject, is_draft=True,
                                 opening_description="Rascunho do atendente")
        foreign = factories.ticket(s, agent, owner=neighbour, subject=portal_subject, contract=other_contract,
                                   opening_description="Problema do vizinho")
        messages.add_message(s, TicketMessage(ticket=foreign, is_internal=False, body=NEIGHBOUR_NOTE), agent)
        foreign_file = attachments.add_attachment(s, foreign, customer_user, "do-vizinho.pdf", io.BytesIO(PDF), folder)
        on_site = factories.ticket(s, agent, owner=field, subject=staff_subject, contract=field_contract,
                                   opening_description="Visita técnica")
        service_orders.create_service_order(
            s, ServiceOrder(ticket=on_site, technician=user(s, "tecnico"), description="Trocar ONU"), agent)
        service_orders.create_service_order(
            s, ServiceOrder(ticket=foreign, technician=user(s, "tecnico2"), description="Passar cabo"), agent)
        get_parameters(s).portal_user = central
        s.commit()
        note_event = s.scalar(sa.text("SELECT id FROM ticket_event WHERE new_value = :v"), {"v": NOTE})
        note_id = s.scalar(sa.text("SELECT id FROM ticket_message WHERE body = :v"), {"v": NOTE})
        foreign_event = s.scalar(sa.text("SELECT min(id) FROM ticket_event WHERE ticket_id = :t"), {"t": foreign.id})
        portal_channel = s.scalar(sa.select(Channel.id).where(Channel.is_portal.is_(True)))
        return {
            "own": own.id, "resolved": resolved.id, "late": late.id, "draft": draft.id, "foreign": foreign.id,
            "on_site": on_site.id, "own_protocol": own.protocol, "foreign_protocol": foreign.protocol,
            "draft_protocol": draft.protocol, "on_site_protocol": on_site.protocol,
            "resolved_protocol": resolved.protocol, "late_protocol": late.protocol,
            "mine": mine.id, "neighbour": neighbour.id, "field": field.id,
            "my_contract": my_contract.id, "other_contract": other_contract.id, "field_contract": field_contract.id,
            "other_contract_number": other_contract.number, "my_contract_number": my_contract.number,
            "portal_subject": portal_subject.id, "staff_subject": staff_subject.id,
            "internal_file": internal_file.id, "own_file": own_file.id, "foreign_file": foreign_file.id,
            "note_event": note_event, "note_id": note_id, "foreign_event": foreign_event,
            "central": central.id, "customer_user": customer_user.id, "portal_channel": portal_channel,
            "ticket_count": s.scalar(sa.select(sa.func.count(Ticket.id))),
        }


# ---------------------------------------------------------------- helpers

SECRETS = ("Vizinho Sigiloso", "11144477735", "111.444.777-35", "Cliente do Técnico", "39053344705", NOTE,
           NEIGHBOUR_NOTE, "laudo-interno.pdf", "do-vizinho.pdf", "vizinho.sigiloso", "cliente.tecnico",
           "Cobrança interna", "Rascunho do atendente", "Problema do vizinho")


def _leaks(world: dict[str, Any], text: str) -> list[str]:
    """Whatever of the other customers, staff notes, staff people and drafts shows in a text."""
    secrets = SECRETS + STAFF_NAMES + ('"atendente"', '"central"', world["foreign_protocol"],
                                       world["draft_protocol"], world["on_site_protocol"],
                                       world["other_contract_number"])
    return [secret for secret in secrets if secret in text]


def _text(response: Any) -> str:
    return json.dumps(response.json, ensure_ascii=False) if response.is_json else response.get_data(as_text=True)


def _info(client: Any, resource: str) -> Any:
    """The resource's `_info` with every related list of its add and edit columns, 100 rows each."""
    first = client.get(f"/api/v1/{resource}/_info")
    assert first.status_code == 200, first.json
    wanted = {}
    for key in ("add_columns", "edit_columns"):
        wanted[key] = {col["name"]: {"page": 0, "page_size": 100}
                       for col in first.json.get(key, []) if "values" in col}
    return client.get(f"/api/v1/{resource}/_info", query_string={"q": prison.dumps(wanted)})


def _related(info: Any, key: str, name: str) -> list[str]:
    column = next(col for col in info.json[key] if col["name"] == name)
    return [value["value"] for value in column["values"]]


def _ticket_filter(ticket_id: int, **more: Any) -> dict[str, str]:
    filters = [{"col": "ticket", "opr": "rel_o_m", "value": ticket_id}]
    return {"q": prison.dumps({"filters": filters, "page_size": 100, **more})}


# ---------------------------------------------------------------- Assinante: reading through the API


@pytest.mark.parametrize("resource", ["ticket", "ticketevent", "ticketmessage", "attachment"])
def test_customer_info_related_lists_hold_only_their_own(api, world, resource):
    client = api("assinante")
    info = _info(client, resource)
    assert info.status_code == 200
    assert _leaks(world, _text(info)) == []
    if resource == "ticket":
        for key in ("add_columns", "edit_columns"):
            assert _related(info, key, "customer") == ["Maria Assinante"]
            assert sorted(_related(info, key, "subject")) == ["Lentidão (central)", "Sem conexão (central)"]
            assert [v.split(" ")[0] for v in _related(info, key, "contract")] == [world["my_contract_number"]]
            assert _related(info, key, "assignees") == ["Assinante Teste"]
            assert sorted(_related(info, key, "related_ticket")) == sorted(
                world[k] for k in ("own_protocol", "resolved_protocol", "late_protocol"))
            for staff_only in ("status", "department", "priority", "channel", "site", "sub_status",
                               "closing_reason"):
                assert _related(info, key, staff_only) == [], staff_only


def test_agent_info_lists_every_customer(api, world):
    info = _info(api("atendente"), "ticket")
    customers = _related(info, "add_columns", "customer")
    assert {"Maria Assinante", "Vizinho Sigiloso", "Cliente do Técnico"} <= set(customers)
    assert "Cobrança interna" in _related(info, "add_columns", "subject")


def test_technician_info_lists_only_their_orders_and_themselves(api, world):
    info = _info(api("tecnico"), "serviceorder")
    assert _related(info, "add_columns", "ticket") == [world["on_site_protocol"]]
    assert _related(info, "add_columns", "technician") == ["Tecnico Teste"]
    assert _related(info, "edit_columns", "technician") == ["Tecnico Teste"]


def test_customer_lists_and_reads_only_their_registered_tickets(api, world):
    client = api("assinante")
    listed = client.get("/api/v1/ticket/", query_string={"q": prison.dumps({"page_size": 100})})
    assert {row["protocol"] for row in listed.json["result"]} == {
        world["own_protocol"], world["resolved_protocol"], world["late_protocol"]}
    assert _leaks(world, _text(listed)) == []
    shown = client.get(f"/api/v1/ticket/{world['own']}")
    assert shown.status_code == 200
    result = shown.json["result"]
    assert result["protocol"] == world["own_protocol"] and result["customer"]["name"] == "Maria Assinante"
    for hidden in ("assignees", "opened_by", "department", "priority", "related_ticket", "grouped_with"):
        assert hidden not in result, hidden
    # forged ids: another customer's ticket, an agent's draft, the technician's, ids out of range
    for pk in (world["foreign"], world["draft"], world["on_site"], 99999999):
        response = client.get(f"/api/v1/ticket/{pk}")
        assert response.status_code == 404, pk
        assert _leaks(world, _text(response)) == []
    searched = client.get("/api/v1/ticket/", query_string={"q": prison.dumps(
        {"filters": [{"col": "customer", "opr": "rel_o_m", "value": world["neighbour"]}]})})
    assert searched.json["result"] == [] and searched.json["count"] == 0


def test_history_shows_no_internal_note_by_any_filter(api, world):
    """H1: the customer's own ticket history, filtered or not, never carries an internal note's text."""
    client = api("assinante")
    for query in (_ticket_filter(world["own"]), {"q": prison.dumps({"page_size": 100})},
                  {"q": prison.dumps({"filters": [{"col": "kind", "opr": "eq", "value": "message"}]})}):
        response = client.get("/api/v1/ticketevent/", query_string=query)
        assert response.status_code == 200
        assert _leaks(world, _text(response)) == [], query
    rows = client.get("/api/v1/ticketevent/", query_string=_ticket_filter(world["own"])).json["result"]
    kinds = {(row["kind"], row["field"]) for row in rows}
    assert ("created", None) in kinds
    assert any(row["kind"] == "message" and row["new_value"] == PUBLIC for row in rows)
    assert any(row["kind"] == "attachment" and row["new_value"] == "meu-comprovante.pdf" for row in rows)
    assert not any(row["field"] == "assignees" for row in rows)
    assert all(row["user"] is None or row["user"]["id"] == world["customer_user"] for row in rows)
    for pk in (world["note_event"], world["foreign_event"]):
        response = client.get(f"/api/v1/ticketevent/{pk}")
        assert response.status_code == 404 and NOTE not in _text(response)
    foreign = client.get("/api/v1/ticketevent/", query_string=_ticket_filter(world["foreign"]))
    assert foreign.json["result"] == []


def test_staff_still_read_the_whole_history(api, world):
    rows = api("atendente").get("/api/v1/ticketevent/", query_string=_ticket_filter(world["own"])).json["result"]
    assert any(row["new_value"] == NOTE for row in rows)


def test_customer_reads_only_public_messages(api, world):
    client = api("assinante")
    response = client.get("/api/v1/ticketmessage/", query_string={"q": prison.dumps({"page_size": 100})})
    assert response.status_code == 200
    assert [row["body"] for row in response.json["result"]] == [PUBLIC]
    assert response.json["result"][0]["author"] is None  # an agent: not shown to the customer
    assert _leaks(world, _text(response)) == []
    assert client.get(f"/api/v1/ticketmessage/{world['note_id']}").status_code == 404
    assert client.get("/api/v1/ticketmessage/", query_string=_ticket_filter(world["foreign"])).json["count"] == 0
    staff = api("atendente").get("/api/v1/ticketmessage/", query_string=_ticket_filter(world["own"]))
    assert {row["body"] for row in staff.json["result"]} == {NOTE, PUBLIC}


def test_customer_reaches_only_their_public_files(api, world):
    client = api("assinante")
    listed = client.get("/api/v1/attachment/", query_string={"q": prison.dumps({"page_size": 100})})
    assert [row["filename"] for row in listed.json["result"]] == ["meu-comprovante.pdf"]
    download = client.get(f"/api/v1/attachment/{world['own_file']}/download")
    assert download.status_code == 200 and download.data == PDF
    assert download.headers["Content-Disposition"].startswith("attachment")
    for pk in (world["internal_file"], world["foreign_file"], 0):
        assert client.get(f"/api/v1/attachment/{pk}").status_code == 404, pk
    for pk in (world["internal_file"], world["foreign_file"], 2 ** 64, 0):
        response = client.get(f"/api/v1/attachment/{pk}/download")
        assert response.status_code == 404 and response.data != PDF, pk
    assert api("atendente").get(f"/api/v1/attachment/{world['internal_file']}/download").data == PDF
    assert api("tecnico").get(f"/api/v1/attachment/{world['internal_file']}/download").status_code == 404


@pytest.mark.parametrize("resource", ["customer", "contract", "serviceorder", "subject", "channel",
                                      "ticketstatus", "department"])
def test_customer_has_no_other_resource(api, world, resource):
    client = api("assinante")
    for url in (f"/api/v1/{resource}/", f"/api/v1/{resource}/_info", f"/api/v1/{resource}/{world['neighbour']}"):
        response = client.get(url)
        assert response.status_code in (403, 404), url
        assert _leaks(world, _text(response)) == []


# ---------------------------------------------------------------- Assinante: writing through the API (M1, R20, R30)


@pytest.mark.parametrize("field", sorted(STAFF_FIELDS))
def test_customer_create_refuses_each_staff_only_field(app, api, world, field):
    body = {"subject": world["portal_subject"], "opening_description": "Sem internet", field: STAFF_FIELDS[field]}
    response = api("assinante").post("/api/v1/ticket/", json=body)
    assert response.status_code == 422, response.json
    assert response.json["field"] == field and field in response.json["message"]
    assert "assinante" in response.json["message"]
    with session(app) as s:
        assert s.scalar(sa.text("SELECT count(*) FROM ticket")) == world["ticket_count"]


@pytest.mark.parametrize("body, field", [
    ({"customer": "neighbour"}, "customer"),
    ({"contract": "other_contract"}, "contract"),
    ({"contract": 2 ** 70}, "contract"),
    ({"subject": "staff_subject"}, "subject"),
])
def test_customer_create_refuses_what_is_not_theirs(app, api, world, body, field):
    payload = {"subject": world["portal_subject"], "opening_description": "Sem internet"}
    payload.update({key: world[value] if isinstance(value, str) else value for key, value in body.items()})
    response = api("assinante").post("/api/v1/ticket/", json=payload)
    assert response.status_code == 422 and response.json["field"] == field, response.json
    assert _leaks(world, _text(response)) == []
    with session(app) as s:
        assert s.scalar(sa.text("SELECT count(*) FROM ticket")) == world["ticket_count"]


def test_customer_ticket_gets_the_portal_user_and_channel(app, api, world):
    response = api("assinante").post("/api/v1/ticket/", json={
        "customer": world["mine"], "contract": world["my_contract"], "subject": world["portal_subject"],
        "opening_description": "  Sem internet desde ontem  "})
    assert response.status_code == 201, response.json
    result = response.json["result"]
    assert result["protocol"] and result["customer"]["name"] == "Maria Assinante"
    assert result["channel"]["name"] == "Central do assinante" and "assignees" not in result
    from app.models import Ticket

    with session(app) as s:
        ticket = s.get(Ticket, response.json["id"])
        assert ticket.opened_by_id == world["central"]
        assert [u.id for u in ticket.assignees] == [world["central"]]
        assert ticket.channel_id == world["portal_channel"] and ticket.customer_id == world["mine"]
        assert ticket.contract_id == world["my_contract"] and not ticket.is_draft
        assert ticket.opening_description == "Sem internet desde ontem"
        assert ticket.status.category == "new"


def test_without_a_portal_user_the_customer_opens_in_their_own_name(app, api, world):
    from app.domain.params import get_parameters
    from app.models import Ticket

    with session(app) as s:
        get_parameters(s).portal_user = None
        s.commit()
    response = api("assinante").post("/api/v1/ticket/", json={
        "subject": world["portal_subject"], "opening_description": "Sem internet"})
    assert response.status_code == 201, response.json
    with session(app) as s:
        ticket = s.get(Ticket, response.json["id"])
        assert ticket.opened_by_id == world["customer_user"] and ticket.assignees == []
        assert ticket.channel_id == world["portal_channel"]


def _version(app: Any, pk: int) -> int:
    with session(app) as s:
        return s.scalar(sa.text("SELECT version FROM ticket WHERE id = :id"), {"id": pk})


def test_customer_update_sets_only_the_rating_of_a_resolved_ticket(app, api, world):
    client = api("assinante")
    pk = world["resolved"]
    for field in ("status", "assignees", "opening_description", "customer", "closing_description"):
        value = STAFF_FIELDS.get(field, "Forjado")
        response = client.put(f"/api/v1/ticket/{pk}", json={field: value, "version": _version(app, pk)})
        assert response.status_code == 422 and response.json["field"] == field, (field, response.json)
    response = client.put(f"/api/v1/ticket/{world['own']}", json={"rating": 5, "version": _version(app, world["own"])})
    assert response.status_code == 422 and response.json["field"] == "rating"
    response = client.put(f"/api/v1/ticket/{pk}", json={"rating": 4, "version": _version(app, pk)})
    assert response.status_code == 200, response.json
    assert "assignees" not in response.json["result"]
    with session(app) as s:
        assert s.scalar(sa.text("SELECT rating FROM ticket WHERE id = :id"), {"id": pk}) == 4
    forged = client.put(f"/api/v1/ticket/{world['foreign']}", json={"rating": 1, "version": 1})
    assert forged.status_code == 404
    assert client.delete(f"/api/v1/ticket/{world['own']}").status_code in (403, 405)


def test_customer_reiterates_complains_and_reopens_their_own(app, api, world):
    client = api("assinante")
    response = client.post(f"/api/v1/ticket/{world['own']}/reiterate", json={"text": "Continua sem sinal"})
    assert response.status_code == 200, response.json
    bodies = [row["body"] for row in client.get("/api/v1/ticketmessage/",
                                                query_string=_ticket_filter(world["own"])).json["result"]]
    assert bodies == [PUBLIC, "Continua sem sinal"]
    assert client.post(f"/api/v1/ticket/{world['late']}/complaint", json={"text": "Passou do prazo"}).status_code == 200
    assert client.post(f"/api/v1/ticket/{world['own']}/complaint", json={"text": "x"}).status_code == 409
    assert client.post(f"/api/v1/ticket/{world['resolved']}/reopen", json={"reason": "Voltou"}).status_code == 200
    history = client.get("/api/v1/ticketevent/", query_string=_ticket_filter(world["late"])).json["result"]
    assert any(row["field"] == "complaint" and row["new_value"] == "Passou do prazo" for row in history)
    # never finalize nor cancel, never someone else's
    for name, data in (("finalize", {"closing_description": "x"}), ("cancel", {"reason": "x"})):
        response = client.post(f"/api/v1/ticket/{world['own']}/{name}", json=data)
        assert response.status_code == 403, name
    for pk in (world["foreign"], world["draft"]):
        assert client.post(f"/api/v1/ticket/{pk}/reiterate", json={"text": "x"}).status_code == 404
    with session(app) as s:
        assert s.scalar(sa.text("SELECT count(*) FROM ticket_message WHERE body = 'x'")) == 0
        category = s.scalar(sa.text("SELECT s.category FROM ticket t JOIN ticket_status s ON s.id = t.status_id "
                                    "WHERE t.id = :id"), {"id": world["own"]})
        assert category == "new"


def test_available_actions_follow_the_customer_rule(app, world):
    from app.domain.actions import available_actions
    from app.models import Ticket

    with session(app) as s:
        customer = user(s, "assinante")
        offered = available_actions(s, s.get(Ticket, world["own"]), customer)
        assert offered["reiterate"] is None
        assert offered["finalize"] and offered["cancel"] and offered["save"]
        assert available_actions(s, s.get(Ticket, world["foreign"]), customer)["reiterate"]


# ---------------------------------------------------------------- look-ups (H2) and the web


def _lookup(client: Any, kind: str, **args: str) -> list[str]:
    response = client.get(f"/lookup/{kind}", query_string=args)
    assert response.status_code == 200
    return [row["text"] for row in response.json["results"]]


def test_customer_lookups_return_only_their_own(login, world):
    client = login("assinante")
    for text in ("a", "Vizinho", "111.444.777-35", "11144477735", "Cliente", "vizinho.sigiloso"):
        found = _lookup(client, "customer", q=text)
        assert all(row.startswith("Maria Assinante") for row in found), (text, found)
    assert _lookup(client, "customer", q="Maria") == ["Maria Assinante — 529.982.247-25"]
    assert _lookup(client, "contract", customer=str(world["neighbour"])) == []
    assert [row.split(" ")[0] for row in _lookup(client, "contract", q="C")] == [world["my_contract_number"]]
    assert _lookup(client, "ticket", q=world["foreign_protocol"]) == []
    assert _lookup(client, "ticket", q=world["draft_protocol"]) == []
    assert _lookup(client, "ticket", q=world["own_protocol"]) == [world["own_protocol"]]
    assert _lookup(client, "contract", customer=str(2 ** 70)) == []


def test_technician_lookups_return_only_customers_of_their_orders(login, world):
    client = login("tecnico")
    for text in ("Maria", "Vizinho", "52998224725", "11144477735"):
        assert _lookup(client, "customer", q=text) == [], text
    assert _lookup(client, "customer", q="Cliente") == ["Cliente do Técnico — 390.533.447-05"]
    assert _lookup(client, "customer", q="39053344705") == ["Cliente do Técnico — 390.533.447-05"]
    assert _lookup(client, "contract", customer=str(world["neighbour"])) == []
    assert [row.split(" ")[0] for row in _lookup(client, "contract", customer=str(world["field"]))] == [
        row.split(" ")[0] for row in _lookup(login("atendente"), "contract", customer=str(world["field"]))]
    assert _lookup(client, "ticket", q=world["foreign_protocol"]) == []
    assert _lookup(client, "ticket", q=world["on_site_protocol"]) == [world["on_site_protocol"]]


def test_agent_lookups_follow_the_role(login, world):
    client = login("atendente")
    assert _lookup(client, "customer", q="Vizinho") == ["Vizinho Sigiloso — 111.444.777-35"]
    assert _lookup(client, "customer", q="Maria") == ["Maria Assinante — 529.982.247-25"]
    assert _lookup(client, "customer", q="Cliente") == ["Cliente do Técnico — 390.533.447-05"]
    assert len(_lookup(client, "contract", customer=str(world["neighbour"]))) == 1
    assert _lookup(client, "ticket", q=world["foreign_protocol"]) == [world["foreign_protocol"]]


def test_customer_gets_nothing_from_the_back_office(login, world):
    client = login("assinante")
    urls = [f"/customerview/show/{world['neighbour']}", f"/customerview/show/{world['mine']}",
            f"/contractview/show/{world['other_contract']}", f"/ticketview/show/{world['own']}",
            f"/ticketview/show/{world['foreign']}", f"/ticketmessageview/show/{world['note_id']}",
            f"/ticketeventview/show/{world['note_event']}", f"/ticketfile/download/{world['internal_file']}",
            f"/ticketfile/download/{world['own_file']}", f"/ticketprint/{world['own']}", "/customerview/list/"]
    for url in urls:
        response = client.get(url)
        assert response.status_code in (403, 404), url
        assert _leaks(world, response.get_data(as_text=True)) == [], url
    for url in ("/exportar/tickets/xlsx", "/exportar/service_orders/pdf"):  # exports start by POST
        response = client.post(url)
        assert response.status_code in (403, 404), url
        assert _leaks(world, response.get_data(as_text=True)) == [], url


def test_technician_forged_ids_in_the_back_office_are_404(login, world):
    client = login("tecnico")
    assert client.get(f"/ticketview/show/{world['on_site']}").status_code == 200
    for url in (f"/ticketview/show/{world['own']}", f"/ticketmessageview/show/{world['note_id']}",
                f"/ticketeventview/show/{world['note_event']}", f"/attachmentview/show/{world['internal_file']}",
                f"/ticketfile/download/{world['internal_file']}"):
        response = client.get(url)
        assert response.status_code == 404, url
        assert NOTE not in response.get_data(as_text=True)


def test_exports_keep_the_customer_scope(app, world):
    """The export builder asks the same scope: a customer's export holds their registered tickets only."""
    from app.domain.ticket_exports import build_ticket_export

    with session(app) as s:
        data = build_ticket_export(s, user(s, "assinante"), {"date_from": ["01/01/2000"]})
        text = " ".join(str(cell) for row in data.rows for cell in row)
    assert world["own_protocol"] in text
    assert _leaks(world, text) == []


# ---------------------------------------------------------------- subjects offered in the portal


def test_subject_portal_flag_in_the_form_and_the_api(app, login, api, world):
    page = login("admin").get("/subjectview/add").get_data(as_text=True)
    assert "Disponível na central" in page
    response = api("admin").post("/api/v1/subject/", json={"name": "Troca de plano", "sla_hours": 8,
                                                          "portal_available": True})
    assert response.status_code == 201, response.json
    shown = api("admin").get(f"/api/v1/subject/{response.json['id']}").json["result"]
    assert shown["portal_available"] is True
    info = _info(api("assinante"), "ticket")
    assert "Troca de plano" in _related(info, "add_columns", "subject")
