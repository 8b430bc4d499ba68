"""Which actions apply to a ticket, decided by one function (available_actions) for the workspace, the form
door and the API alike; R28: closing a ticket with open service orders decides about them in the same step."""
from __future__ import annotations

import datetime as dt
import html
from typing import Any

import pytest
import sqlalchemy as sa

from tests import factories
from tests.test_actions import DOORS, act, make, resolved
from tests.support import session, user
from tests.test_rules import load_ticket, page, snapshot, ticket_form

FROZEN = "Atendimento cancelado não aceita alterações."
NOT_OPEN = {
    "finalize": "Só atendimentos em aberto podem ser finalizados.",
    "cancel": "Só atendimentos em aberto podem ser cancelados.",
    "reiterate": "Só atendimentos em aberto podem ser reiterados.",
}
NOT_RESOLVED = "Só atendimentos resolvidos podem ser reabertos."
NOT_LATE = "Reclamação só pode ser registrada em atendimento com prazo ultrapassado."
EXPECTED: dict[str, dict[str, Any]] = {
    "draft": {"save": None, "finalize": None, "cancel": None,
              "reiterate": "Rascunho não pode ser reiterado: salve o atendimento primeiro.",
              "complaint": "Rascunho não aceita reclamação: salve o atendimento primeiro.",
              "reopen": NOT_RESOLVED},
    "open": {"save": None, "finalize": None, "cancel": None, "reiterate": None, "complaint": NOT_LATE,
             "reopen": NOT_RESOLVED},
    "overdue": {"save": None, "finalize": None, "cancel": None, "reiterate": None, "complaint": None,
                "reopen": NOT_RESOLVED},
    "resolved": {"save": None, **NOT_OPEN, "complaint": NOT_LATE, "reopen": None},
    "resolved_long_ago": {"save": None, **NOT_OPEN, "complaint": NOT_LATE,
                          "reopen": "O prazo de 24 horas para reabrir este atendimento já passou."},
    "cancelled": {name: FROZEN for name in ("save", "finalize", "cancel", "reiterate", "complaint", "reopen")},
}
PAYLOADS = {
    "finalize": {"closing_description": "Roteador reconfigurado, cliente navegando"},
    "cancel": {"reason": "Cliente desistiu do pedido"},
    "reiterate": {"text": "Cliente ligou de novo, continua lento"},
    "complaint": {"text": "Prazo estourado sem retorno"},
    "reopen": {"reason": "Voltou a cair à noite"},
}


def build(app: Any, state: str) -> int:
    """A ticket in one of the states of EXPECTED (reopen window: 24 h)."""
    with session(app) as s:
        s.execute(sa.text("UPDATE general_parameters SET reopen_window_hours = 24"))
        s.commit()
    if state == "draft":
        return make(app, is_draft=True)
    if state == "overdue":
        return make(app, opened_at=dt.datetime.now() - dt.timedelta(days=3))
    pk = make(app)
    if state == "resolved":
        resolved(app, pk, hours_ago=2)
    elif state == "resolved_long_ago":
        resolved(app, pk, hours_ago=30)
    elif state == "cancelled":
        from app.domain import actions

        with session(app) as s:
            actions.cancel(s, load_ticket(s, pk), user(s, "atendente"), "Aberto por engano")
            s.commit()
    return pk


def available(app: Any, pk: int, username: str = "atendente") -> dict[str, Any]:
    from app.domain.actions import available_actions

    with app.test_request_context("/"), session(app) as s:
        return available_actions(s, load_ticket(s, pk), user(s, username))


@pytest.mark.parametrize("state", EXPECTED)
def test_the_domain_says_which_actions_apply(app, users, state):
    pk = build(app, state)
    assert available(app, pk) == EXPECTED[state]
    assert available(app, pk, "gestor") == EXPECTED[state]


def test_a_fresh_draft_offers_save_finalize_and_cancel(app, users):
    from app.domain import tickets

    with session(app) as s:
        draft = tickets.start_ticket(s, user(s, "atendente"), customer=factories.customer(s))
        s.commit()
        pk = draft.id
    assert available(app, pk) == EXPECTED["draft"]


def test_a_technician_may_not_act_nor_save(app, users):
    pk = build(app, "open")
    assert available(app, pk, "tecnico") == {
        "save": "Você não tem permissão para alterar atendimentos.",
        **{name: "Você não tem permissão para executar ações em atendimentos." for name in PAYLOADS},
    }


@pytest.mark.parametrize("door", DOORS)
@pytest.mark.parametrize("state", EXPECTED)
def test_doors_refuse_exactly_what_the_domain_refuses(app, login, api, users, state, door):
    """Every action not offered is refused with the same reason; every action offered succeeds."""
    pk = build(app, state)
    before = snapshot(app)
    for name, reason in EXPECTED[state].items():
        if name == "save" or reason is None:
            continue
        ok, message = act(door, login, api, pk, name, **PAYLOADS[name])
        assert not ok and reason in message, (name, message[:300])
        if door == "api":
            response = api("atendente").post(f"/api/v1/ticket/{pk}/{name}", json=PAYLOADS[name])
            assert response.status_code == 409 and response.json["message"] == reason
        else:
            text = page(login("atendente").post(f"/ticketaction/{pk}/{name}", data=PAYLOADS[name]))
            assert 'id="action-form"' in text and next(iter(PAYLOADS[name].values())) in text, name
    assert snapshot(app) == before
    for name, reason in EXPECTED[state].items():
        if name != "save" and reason is None:
            fresh = build(app, state)
            ok, message = act(door, login, api, fresh, name, **PAYLOADS[name])
            assert ok, (name, message[:300])


def test_the_workspace_shows_only_what_applies(app, login, users):
    draft, cancelled, overdue = build(app, "draft"), build(app, "cancelled"), build(app, "overdue")
    client = login("atendente")
    shown = {}
    for pk in (draft, cancelled, overdue):
        text = page(client.get(f"/ticketview/edit/{pk}"))
        shown[pk] = {name for name in PAYLOADS if f'id="action-{name}"' in text}
    assert shown[draft] == {"finalize", "cancel"}
    assert shown[cancelled] == set()
    assert shown[overdue] == {"finalize", "cancel", "reiterate", "complaint"}


def test_after_an_action_the_agent_lands_on_the_workspace(app, login, users):
    pk = build(app, "open")
    client = login("atendente")
    response = client.post(f"/ticketaction/{pk}/reiterate", data=PAYLOADS["reiterate"])
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/ticketview/edit/{pk}")
    text = page(client.get(response.headers["Location"]))
    assert "Reiteração registrada." in text


def test_opening_the_form_of_an_action_that_does_not_apply_goes_back_with_the_reason(app, login, users):
    pk = build(app, "open")
    client = login("atendente")
    response = client.get(f"/ticketaction/{pk}/reopen")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/ticketview/edit/{pk}")
    assert NOT_RESOLVED in page(client.get(response.headers["Location"]))


def test_a_refused_action_keeps_what_was_typed(app, login, users):
    pk = build(app, "open")
    text = page(login("atendente").post(f"/ticketaction/{pk}/complaint", data={"text": "Três dias sem internet"}))
    assert NOT_LATE in text and "Três dias sem internet</textarea>" in text


# ---------------------------------------------------------------- R28: open service orders on closing


def with_orders(app: Any, username: str = "atendente", **kw: Any) -> dict[str, Any]:
    """An open ticket with an open OS (technician and window) and a scheduled one, plus a finished one."""
    from app.domain.service_orders import create_service_order
    from app.models import ServiceOrder, ServiceOrderType

    with session(app) as s:
        agent = user(s, username)
        ticket = factories.ticket(s, agent, **kw)
        kind = s.scalar(sa.select(ServiceOrderType).order_by(ServiceOrderType.id))
        start = dt.datetime.now().replace(microsecond=0, second=0) + dt.timedelta(days=1)
        first = create_service_order(s, ServiceOrder(ticket=ticket, type=kind, technician=user(s, "tecnico"),
                                                     scheduled_start=start, scheduled_end=start + dt.timedelta(hours=2),
                                                     description="Trocar a ONU"), agent)
        second = create_service_order(s, ServiceOrder(ticket=ticket, status="scheduled", description="Vistoria"), agent)
        done = create_service_order(s, ServiceOrder(ticket=ticket, description="Antiga"), agent)
        s.commit()
        done.status, done.closing_notes = "done", "Feito antes"
        from app.domain.service_orders import update_service_order

        update_service_order(s, done, agent)
        s.commit()
        return {"id": ticket.id, "protocol": ticket.protocol, "orders": [first.id, second.id], "done": done.id,
                "type": kind.name, "start": start}


def orders_of(app: Any, pk: int) -> dict[int, tuple[str, Any]]:
    with session(app) as s:
        return {row.id: (row.status, row.closing_notes) for row in s.execute(
            sa.text("SELECT id, status, closing_notes FROM service_order WHERE ticket_id = :t"), {"t": pk})}


def order_events(app: Any, pk: int) -> list[tuple[str, str]]:
    with session(app) as s:
        return [(r[0], r[1]) for r in s.execute(sa.text(
            "SELECT field, new_value FROM ticket_event WHERE ticket_id = :t AND field LIKE 'service_order.%' "
            "ORDER BY id"), {"t": pk})]


def test_the_closing_forms_list_the_open_orders_and_ask(app, login, users):
    t = with_orders(app)
    client = login("atendente")
    for name in ("finalize", "cancel"):
        text = page(client.get(f"/ticketaction/{t['id']}/{name}"))
        assert "Este atendimento tem 2 ordens de serviço em aberto." in text
        assert text.count('class="atende-open-order"') == 2
        assert "Tecnico Teste" in text and t["type"] in text and t["start"].strftime("%d/%m/%Y %H:%M") in text
        assert 'id="service-orders-finalize"' in text and 'id="service-orders-cancel"' in text
        assert 'id="service-orders-keep"' in text and f'href="/ticketview/edit/{t["id"]}"' in text
    text = page(client.get(f"/ticketaction/{build(app, 'open')}/finalize"))
    assert "open-service-orders" not in text


@pytest.mark.parametrize("door", DOORS)
@pytest.mark.parametrize("name", ["finalize", "cancel"])
def test_closing_without_a_decision_is_refused_listing_the_orders(app, login, api, users, door, name):
    t = with_orders(app)
    before = snapshot(app)
    ok, message = act(door, login, api, t["id"], name, **PAYLOADS[name])
    assert not ok
    first, second = t["orders"]
    assert f"Este atendimento tem ordens de serviço em aberto: OS {first}, OS {second}." in message
    assert "Escolha finalizá-las ou cancelá-las" in message
    if door == "form":
        assert next(iter(PAYLOADS[name].values())) + "</textarea>" in message, "typed text kept"
    else:
        response = api("atendente").post(f"/api/v1/ticket/{t['id']}/{name}", json=PAYLOADS[name])
        assert response.status_code == 409 and response.json["field"] == "service_orders"
        bad = api("atendente").post(f"/api/v1/ticket/{t['id']}/{name}", json={**PAYLOADS[name],
                                                                             "service_orders": ["x"]})
        assert bad.status_code == 400 and bad.json["field"] == "service_orders"
    assert snapshot(app) == before


@pytest.mark.parametrize("door", DOORS)
@pytest.mark.parametrize("name, decision", [("finalize", "finalize"), ("finalize", "cancel"),
                                            ("cancel", "finalize"), ("cancel", "cancel")])
def test_closing_with_a_decision_closes_the_orders_with_the_ticket_text(app, login, api, users, door, name,
                                                                        decision):
    t = with_orders(app)
    earlier = len(order_events(app, t["id"]))
    ok, message = act(door, login, api, t["id"], name, service_orders=decision, **PAYLOADS[name])
    assert ok, message[:500]
    text = next(iter(PAYLOADS[name].values()))
    status = {"finalize": "done", "cancel": "cancelled"}[decision]
    label = {"finalize": "Finalizada", "cancel": "Cancelada"}[decision]
    assert orders_of(app, t["id"]) == {t["orders"][0]: (status, text), t["orders"][1]: (status, text),
                                       t["done"]: ("done", "Feito antes")}
    events = order_events(app, t["id"])[earlier:]
    assert sorted(events) == sorted([("service_order.status", label), ("service_order.closing_notes", text)] * 2)
    with session(app) as s:
        assert load_ticket(s, t["id"]).status.category == {"finalize": "resolved", "cancel": "cancelled"}[name]


def test_finalizing_with_orders_lands_on_the_workspace_with_the_message(app, login, users):
    t = with_orders(app)
    client = login("atendente")
    response = client.post(f"/ticketaction/{t['id']}/finalize", data={**PAYLOADS["finalize"],
                                                                      "service_orders": "finalize"})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/ticketview/edit/{t['id']}")
    text = page(client.get(response.headers["Location"]))
    assert "Atendimento finalizado." in text


@pytest.mark.parametrize("door", DOORS)
def test_a_status_change_in_the_ticket_form_does_not_close_over_open_orders(app, login, api, users, door):
    t = with_orders(app)
    with session(app) as s:
        resolved_id = factories.status(s, "resolved").id
        cancelled_id = factories.status(s, "cancelled").id
        form = ticket_form(load_ticket(s, t["id"]), status=resolved_id, closing_description="Resolvido")
    before = snapshot(app)
    expected = "use Finalizar ou Cancelar para decidir o que fazer com elas."
    if door == "form":
        text = page(login("atendente").post(f"/ticketview/edit/{t['id']}", data=form, follow_redirects=True))
        assert expected in text and f"OS {t['orders'][0]}" in text
    else:
        for status in (resolved_id, cancelled_id):
            response = api("atendente").put(f"/api/v1/ticket/{t['id']}", json={
                "status": status, "closing_description": "Resolvido", "version": form["expected_version"]})
            assert response.status_code == 409 and expected in response.json["message"], response.json
    assert snapshot(app) == before


def test_a_grouped_ticket_with_open_orders_stays_open_when_the_first_is_resolved(app, login, users):
    from app.domain.service_orders import create_service_order
    from app.models import ServiceOrder

    with session(app) as s:
        agent = user(s, "atendente")
        outage = factories.subject(s, name="Sem sinal na rua")
        one, two = factories.customer(s), factories.customer(s)
        first = factories.ticket(s, agent, owner=one, subject=outage, contract=factories.contract(s, one))
        second = factories.ticket(s, agent, owner=two, subject=outage, contract=factories.contract(s, two))
        assert second.grouped_with_id == first.id
        create_service_order(s, ServiceOrder(ticket=second, description="Verificar caixa"), agent)
        s.commit()
        first_id, second_id, protocol = first.id, second.id, first.protocol
    ok, message = act("form", login, None, first_id, "finalize", closing_description="Fibra emendada")
    assert ok, message[:300]
    with session(app) as s:
        assert load_ticket(s, first_id).status.category == "resolved"
        assert load_ticket(s, second_id).status.category == "new"
        notes = [r[0] for r in s.execute(sa.text("SELECT note FROM ticket_event WHERE ticket_id = :t"), {"t": second_id})]
        assert f"Não resolvido junto com o atendimento {protocol}: tem ordens de serviço em aberto" in notes


# ---------------------------------------------------------------- R28 in the mass close


@pytest.fixture
def mass(app: Any, users: Any) -> dict[str, Any]:
    t = with_orders(app, "gestor")
    with session(app) as s:
        plain = factories.ticket(s, user(s, "gestor"))
        return {**t, "plain": plain.id, "plain_protocol": plain.protocol}


def test_mass_close_form_asks_about_the_open_orders(app, login, mass):
    client = login("gestor")
    ids = [mass["id"], mass["plain"]]
    text = page(client.post("/ticketview/mass_close/", data={"rowid": ids}))
    assert "1 atendimento selecionado tem ordens de serviço em aberto:" in text and mass["protocol"] in text
    for choice in ("finalize", "cancel", "keep"):
        assert f'id="service-orders-{choice}"' in text
    only_plain = page(client.post("/ticketview/mass_close/", data={"rowid": [mass["plain"]]}))
    assert "open-service-orders" not in only_plain


@pytest.mark.parametrize("door", DOORS)
def test_mass_close_without_a_decision_refuses_tickets_with_open_orders(app, login, api, mass, door):
    ids = [mass["id"], mass["plain"]]
    data = {"closing_description": "Normalizado"}
    if door == "form":
        text = page(login("gestor").post("/ticketview/mass_close/", data={
            "rowid": ids, "confirm": "1", "service_orders": "", **data}, follow_redirects=True))
        assert "1 atendimento fechado; 1 recusado" in text
        assert f"{mass['protocol']} (Este atendimento tem ordens de serviço em aberto: OS {mass['orders'][0]}" in text
    else:
        body = api("gestor").post("/api/v1/ticket/mass_close", json={"ids": ids, **data}).json
        assert body["done"] == [mass["plain_protocol"]]
        assert body["refused"][0]["label"] == mass["protocol"]
        assert "ordens de serviço em aberto" in body["refused"][0]["reason"]
        bad = api("gestor").post("/api/v1/ticket/mass_close", json={"ids": ids, "service_orders": "x", **data})
        assert bad.status_code == 400 and bad.json["field"] == "service_orders"
    assert {status for status, _notes in orders_of(app, mass["id"]).values()} == {"open", "scheduled", "done"}
    with session(app) as s:
        assert load_ticket(s, mass["id"]).status.category == "new"


@pytest.mark.parametrize("door", DOORS)
@pytest.mark.parametrize("decision", ["finalize", "cancel"])
def test_mass_close_with_a_decision_closes_the_orders(app, login, api, mass, door, decision):
    ids = [mass["id"], mass["plain"]]
    data = {"closing_description": "Normalizado após manutenção", "service_orders": decision}
    if door == "form":
        text = page(login("gestor").post("/ticketview/mass_close/", data={"rowid": ids, "confirm": "1", **data},
                                         follow_redirects=True))
        assert "2 atendimentos fechados" in text
    else:
        body = api("gestor").post("/api/v1/ticket/mass_close", json={"ids": ids, **data}).json
        assert sorted(body["done"]) == sorted([mass["protocol"], mass["plain_protocol"]]), body
    status = {"finalize": "done", "cancel": "cancelled"}[decision]
    orders = orders_of(app, mass["id"])
    assert [orders[i] for i in mass["orders"]] == [(status, "Normalizado após manutenção")] * 2
    with session(app) as s:
        assert load_ticket(s, mass["id"]).status.category == "resolved"
    assert len(order_events(app, mass["id"])) >= 4


def test_html_of_the_action_form_is_escaped(app, login, users):
    pk = build(app, "open")
    text = login("atendente").post(f"/ticketaction/{pk}/complaint", data={"text": "<b>x</b>"}).get_data(as_text=True)
    assert "<b>x</b>" not in text and html.escape("<b>x</b>") in text
