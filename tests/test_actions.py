"""Ticket actions (R9, R16–R19, R21) through the form door and the API alike."""
from __future__ import annotations

import datetime as dt
import html
from typing import Any

import pytest
import sqlalchemy as sa

from tests import factories
from tests.test_rules import load_ticket, session, snapshot, user


def make(app: Any, **kw: Any) -> int:
    with session(app) as s:
        return factories.ticket(s, user(s, "atendente"), **kw).id


def resolved(app: Any, pk: int, hours_ago: float) -> None:
    """Resolve a ticket as if it had been closed some hours ago."""
    from app.domain import actions

    with session(app) as s:
        t = load_ticket(s, pk)
        actions.finalize(s, t, user(s, "atendente"), "Resolvido por telefone")
        s.commit()
        s.execute(sa.text("UPDATE ticket SET closed_at = :c WHERE id = :id"),
                  {"c": dt.datetime.now() - dt.timedelta(hours=hours_ago), "id": pk})
        s.commit()


def category(app: Any, pk: int) -> str:
    with session(app) as s:
        return load_ticket(s, pk).status.category


def via_form(login: Any, pk: int, name: str, **data: str) -> str:
    response = login("atendente").post(f"/ticketaction/{pk}/{name}", data=data, follow_redirects=True)
    assert response.status_code == 200
    return html.unescape(response.get_data(as_text=True))


def via_api(api: Any, pk: int, name: str, **data: Any) -> Any:
    return api("atendente").post(f"/api/v1/ticket/{pk}/{name}", json=data)


DOORS = ["form", "api"]


def act(door: str, login: Any, api: Any, pk: int, name: str, **data: Any) -> tuple[bool, str]:
    """Run an action through one door; return (accepted, message)."""
    if door == "form":
        page = via_form(login, pk, name, **data)
        return "alert-danger" not in page, page
    response = via_api(api, pk, name, **data)
    assert response.status_code < 500, response.get_data(as_text=True)
    return response.status_code == 200, response.json.get("message", "")


@pytest.mark.parametrize("door", DOORS)
def test_finalize_needs_a_closing_description_then_resolves(app, login, api, users, door):
    pk = make(app)
    before = snapshot(app)
    ok, message = act(door, login, api, pk, "finalize", closing_description="  ")
    assert not ok and "descrição do fechamento" in message
    assert snapshot(app) == before
    ok, message = act(door, login, api, pk, "finalize", closing_description="ONU trocada, cliente navegando")
    assert ok, message
    with session(app) as s:
        t = load_ticket(s, pk)
        assert t.status.category == "resolved" and t.closed_at is not None


@pytest.mark.parametrize("door", DOORS)
def test_reiterate_only_open_tickets(app, login, api, users, door):
    pk = make(app)
    ok, message = act(door, login, api, pk, "reiterate", text="Cliente ligou de novo: continua sem sinal")
    assert ok, message
    resolved(app, pk, hours_ago=1)
    before = snapshot(app)
    ok, message = act(door, login, api, pk, "reiterate", text="De novo")
    assert not ok and "Só atendimentos em aberto podem ser reiterados" in message
    assert snapshot(app) == before


@pytest.mark.parametrize("door", DOORS)
def test_complaint_only_past_due(app, login, api, users, door):
    on_time = make(app)
    before = snapshot(app)
    ok, message = act(door, login, api, on_time, "complaint", text="Demora no atendimento")
    assert not ok and "prazo ultrapassado" in message
    assert snapshot(app) == before
    late = make(app, opened_at=dt.datetime.now() - dt.timedelta(days=3))
    ok, message = act(door, login, api, late, "complaint", text="Três dias sem internet")
    assert ok, message
    with session(app) as s:
        assert s.execute(sa.text("SELECT COUNT(*) FROM ticket_event WHERE ticket_id = :t AND field = 'complaint'"),
                         {"t": late}).scalar() == 1


@pytest.mark.parametrize("door", DOORS)
def test_reopen_only_inside_the_window(app, login, api, users, door):
    with session(app) as s:
        s.execute(sa.text("UPDATE general_parameters SET reopen_window_hours = 24"))
        s.commit()
    recent, old = make(app), make(app)
    resolved(app, recent, hours_ago=2)
    resolved(app, old, hours_ago=30)
    before = snapshot(app)
    ok, message = act(door, login, api, old, "reopen", reason="Voltou a cair")
    assert not ok and "24 horas" in message
    assert snapshot(app) == before
    ok, message = act(door, login, api, recent, "reopen", reason="Voltou a cair")
    assert ok, message
    assert category(app, recent) in ("new", "pending", "in_progress")
    with session(app) as s:
        s.execute(sa.text("UPDATE general_parameters SET reopen_window_hours = 0"))
        s.commit()
    resolved(app, recent, hours_ago=1)
    ok, message = act(door, login, api, recent, "reopen", reason="De novo")
    assert not ok and "desativada" in message


@pytest.mark.parametrize("door", DOORS)
def test_cancel_records_who_and_why_and_freezes_the_ticket(app, login, api, users, door):
    pk = make(app)
    ok, message = act(door, login, api, pk, "cancel", reason="")
    assert not ok and "motivo do cancelamento" in message.lower()
    ok, message = act(door, login, api, pk, "cancel", reason="Cliente desistiu")
    assert ok, message
    with session(app) as s:
        t = load_ticket(s, pk)
        assert t.cancel_reason == "Cliente desistiu" and t.cancelled_by_id == users["atendente"].id
    before = snapshot(app)
    for name, data in (("finalize", {"closing_description": "x"}), ("reiterate", {"text": "x"}),
                       ("complaint", {"text": "x"}), ("reopen", {"reason": "x"}), ("cancel", {"reason": "x"})):
        ok, message = act(door, login, api, pk, name, **data)
        assert not ok, name
    assert snapshot(app) == before


@pytest.mark.parametrize("door", DOORS)
def test_grouped_tickets_are_resolved_with_the_first(app, login, api, users, door):
    with session(app) as s:
        agent = user(s, "atendente")
        outage = factories.subject(s, name="Queda de sinal na região")
        first_customer, second_customer = factories.customer(s), factories.customer(s)
        first_contract = factories.contract(s, first_customer)
        second_contract = factories.contract(s, second_customer)
        first = factories.ticket(s, agent, owner=first_customer, subject=outage, contract=first_contract)
        second = factories.ticket(s, agent, owner=second_customer, subject=outage, contract=second_contract)
        first_id, second_id = first.id, second.id
        assert second.grouped_with_id == first_id, "same subject and service address are grouped"
    ok, message = act(door, login, api, first_id, "finalize", closing_description="Fibra rompida reparada na rua")
    assert ok, message
    with session(app) as s:
        other = load_ticket(s, second_id)
        assert other.status.category == "resolved"
        assert other.closing_description == "Fibra rompida reparada na rua"
        notes = [r[0] for r in s.execute(sa.text("SELECT note FROM ticket_event WHERE ticket_id = :t"), {"t": second_id})]
        assert any("Resolvido junto com o atendimento" in (n or "") for n in notes)


def test_technician_cannot_run_actions(app, login, api, users):
    pk = make(app)
    assert login("tecnico").post(f"/ticketaction/{pk}/finalize", data={"closing_description": "x"}).status_code == 403
    assert api("tecnico").post(f"/api/v1/ticket/{pk}/finalize", json={"closing_description": "x"}).status_code == 403
    assert category(app, pk) == "new"


def test_unknown_action_or_invisible_ticket_is_404(app, login, api, users):
    pk = make(app)
    assert login("atendente").get(f"/ticketaction/{pk}/explode").status_code == 404
    assert api("atendente").post(f"/api/v1/ticket/{pk}/explode", json={}).status_code == 404
    assert api("assinante").post(f"/api/v1/ticket/{pk}/reiterate", json={"text": "x"}).status_code in (403, 404)
