"""Ticket actions (R9, R16–R19, R21) through the form door and the API alike."""
from __future__ import annotations

import datetime as dt
import html
from typing import Any

import pytest
import sqlalchemy as sa

from tests import factories
from tests.support import session, user
from tests.test_rules import load_ticket, page, snapshot, ticket_form


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


# ---------------------------------------------------------------- more of R9, R19, R21 and access


def _reasons(app: Any) -> tuple[int, int]:
    """An active and an inactive closing reason."""
    from app.models import ClosingReason

    with session(app) as s:
        active = ClosingReason(name="Problema resolvido remotamente", active=True)
        inactive = ClosingReason(name="Motivo antigo", active=False)
        s.add_all([active, inactive])
        s.commit()
        return active.id, inactive.id


@pytest.mark.parametrize("door", DOORS)
def test_finalize_needs_a_closing_reason_when_the_subject_requires_it(app, login, api, users, door):
    active, inactive = _reasons(app)
    with session(app) as s:
        strict = factories.subject(s, name="Troca de equipamento", requires_closing_reason=True)
        pk = factories.ticket(s, user(s, "atendente"), subject=strict).id
    before = snapshot(app)
    ok, message = act(door, login, api, pk, "finalize", closing_description="ONU trocada")
    assert not ok and "motivo de fechamento" in message
    ok, message = act(door, login, api, pk, "finalize", closing_description="ONU trocada", closing_reason=str(inactive))
    assert not ok and "inativo" in message
    ok, message = act(door, login, api, pk, "finalize", closing_description="ONU trocada", closing_reason="99999")
    assert not ok and "Motivo de fechamento não encontrado" in message
    assert snapshot(app) == before
    ok, message = act(door, login, api, pk, "finalize", closing_description="ONU trocada", closing_reason=str(active))
    assert ok, message
    with session(app) as s:
        t = load_ticket(s, pk)
        assert t.status.category == "resolved" and t.closing_reason_id == active


def test_finalize_form_offers_only_active_closing_reasons(app, login, users):
    _reasons(app)
    pk = make(app)
    text = html.unescape(login("atendente").get(f"/ticketaction/{pk}/finalize").get_data(as_text=True))
    assert "Problema resolvido remotamente" in text and "Motivo antigo" not in text
    with session(app) as s:
        assert load_ticket(s, pk).protocol in text


@pytest.mark.parametrize("door", DOORS)
def test_cancelled_ticket_refuses_edits_through_form_and_api(app, login, api, users, door):
    pk = make(app)
    ok, message = act(door, login, api, pk, "cancel", reason="Aberto por engano")
    assert ok, message
    with session(app) as s:
        t = load_ticket(s, pk)
        assert t.status.category == "cancelled" and t.cancelled_by_id == users["atendente"].id
        form = ticket_form(t, opening_description="Mudou")
    before = snapshot(app)
    client = api("atendente")
    etag = client.get(f"/api/v1/ticket/{pk}").headers["ETag"]
    response = client.put(f"/api/v1/ticket/{pk}", json={"opening_description": "Mudou"}, headers={"If-Match": etag})
    assert response.status_code == 409 and response.json["message"] == "Atendimento cancelado não aceita alterações."
    response = login("atendente").post(f"/ticketview/edit/{pk}", data=form, follow_redirects=True)
    assert "Atendimento cancelado não aceita alterações." in page(response)
    assert snapshot(app) == before


@pytest.mark.parametrize("door", DOORS)
def test_invalid_payloads_are_refused_without_a_500(app, login, api, users, door):
    pk = make(app)
    before = snapshot(app)
    ok, message = act(door, login, api, pk, "reiterate")
    assert not ok and "Descreva a reiteração" in message
    if door == "api":
        assert via_api(api, pk, "reiterate", text=5).status_code == 400
        assert api("atendente").post(f"/api/v1/ticket/{pk}/reiterate", json=["x"]).status_code == 400
    assert snapshot(app) == before


def _outage(app: Any) -> dict[str, Any]:
    """A saved ticket and a draft with the same subject and the same service address."""
    with session(app) as s:
        agent = user(s, "atendente")
        outage = factories.subject(s, name="Sem sinal no bairro")
        first_customer, second_customer = factories.customer(s), factories.customer(s)
        first = factories.ticket(s, agent, owner=first_customer, subject=outage,
                                 contract=factories.contract(s, first_customer))
        draft = factories.ticket(s, agent, owner=second_customer, subject=outage, is_draft=True,
                                 contract=factories.contract(s, second_customer))
        assert draft.grouped_with_id is None, "drafts are not grouped"
        return {"first": first.id, "protocol": first.protocol, "draft": draft.id}


def _notes(s: Any, pk: int) -> list[str]:
    return [r[0] or "" for r in s.execute(sa.text("SELECT note FROM ticket_event WHERE ticket_id = :t ORDER BY id"),
                                          {"t": pk})]


def test_saving_a_draft_in_the_form_groups_it_and_tells_the_agent(app, login, users):
    t = _outage(app)
    with session(app) as s:
        form = ticket_form(load_ticket(s, t["draft"]))
    response = login("atendente").post(f"/ticketview/edit/{t['draft']}", data=form, follow_redirects=True)
    assert (f"Atendimento agrupado com o protocolo {t['protocol']} (mesmo assunto e endereço)."
            in page(response))
    with session(app) as s:
        grouped = load_ticket(s, t["draft"])
        assert grouped.grouped_with_id == t["first"] and not grouped.is_draft
        assert any(f"Agrupado com o atendimento {t['protocol']}" in n for n in _notes(s, t["draft"]))


def test_saving_a_draft_through_the_api_groups_it(app, api, users):
    t = _outage(app)
    client = api("atendente")
    version = client.get(f"/api/v1/ticket/{t['draft']}").json["result"]["version"]
    response = client.put(f"/api/v1/ticket/{t['draft']}", json={"is_draft": False, "version": version})
    assert response.status_code == 200, response.json
    shown = client.get(f"/api/v1/ticket/{t['draft']}").json["result"]
    assert shown["grouped_with"]["id"] == t["first"]


def test_a_ticket_created_through_the_api_is_grouped(app, api, users):
    t = _outage(app)
    with session(app) as s:
        first = load_ticket(s, t["first"])
        body = {"customer": first.customer_id, "contract": first.contract_id, "subject": first.subject_id,
                "opening_description": "Também sem sinal"}
    client = api("atendente")
    response = client.post("/api/v1/ticket/", json=body)
    assert response.status_code == 201, response.json
    shown = client.get(f"/api/v1/ticket/{response.json['id']}").json["result"]
    assert shown["grouped_with"]["id"] == t["first"]


@pytest.mark.parametrize("door", DOORS)
def test_resolving_the_first_by_a_status_change_resolves_the_grouped(app, login, api, users, door):
    t = _outage(app)
    with session(app) as s:
        from app.domain import tickets

        agent, draft = user(s, "atendente"), load_ticket(s, t["draft"])  # load before changing: no autoflush
        draft.is_draft = False
        tickets.update_ticket(s, draft, agent)
        s.commit()
        assert draft.grouped_with_id == t["first"]
        resolved_id = factories.status(s, "resolved").id
        first = load_ticket(s, t["first"])
        form = ticket_form(first, status=resolved_id, closing_description="Caixa de emenda refeita")
        version = first.version
    if door == "form":
        response = login("atendente").post(f"/ticketview/edit/{t['first']}", data=form, follow_redirects=True)
        assert "alert-danger" not in page(response)
    else:
        response = api("atendente").put(f"/api/v1/ticket/{t['first']}", json={
            "status": resolved_id, "closing_description": "Caixa de emenda refeita", "version": version})
        assert response.status_code == 200, response.json
    with session(app) as s:
        first, other = load_ticket(s, t["first"]), load_ticket(s, t["draft"])
        assert first.status.category == other.status.category == "resolved"
        assert other.closing_description == "Caixa de emenda refeita" and other.closed_at is not None
        assert any(f"Resolvido junto com o atendimento {t['protocol']}" in n for n in _notes(s, t["draft"]))
        fields = [r[0] for r in s.execute(sa.text("SELECT field FROM ticket_event WHERE ticket_id = :t"),
                                          {"t": t["first"]})]
        assert "status" in fields and "closing_description" in fields


def test_grouped_history_on_both_tickets_after_finalize(app, login, users):
    t = _outage(app)
    with session(app) as s:
        from app.domain import tickets

        agent, draft = user(s, "atendente"), load_ticket(s, t["draft"])
        draft.is_draft = False
        tickets.update_ticket(s, draft, agent)
        s.commit()

    def resolutions(pk: int) -> list[str]:
        with session(app) as s:
            return [r[0] for r in s.execute(sa.text(
                "SELECT new_value FROM ticket_event WHERE ticket_id = :t AND field = 'status' ORDER BY id"), {"t": pk})]

    before = {pk: resolutions(pk) for pk in (t["first"], t["draft"])}
    act("form", login, None, t["first"], "finalize", closing_description="Poste religado")
    for pk in (t["first"], t["draft"]):
        assert resolutions(pk) == before[pk] + ["Resolvido"], pk


@pytest.mark.parametrize("door", DOORS)
def test_a_ticket_the_user_cannot_see_is_404(app, login, api, users, monkeypatch, door):
    pk = make(app)
    from app.domain import access

    monkeypatch.setattr(access, "sees_all_tickets", lambda user: False)  # the agent now sees no ticket
    before = snapshot(app)
    if door == "form":
        client = login("atendente")
        assert client.get(f"/ticketaction/{pk}/finalize").status_code == 404
        assert client.post(f"/ticketaction/{pk}/finalize", data={"closing_description": "x"}).status_code == 404
    else:
        assert via_api(api, pk, "finalize", closing_description="x").status_code == 404
    assert snapshot(app) == before


def test_technician_cannot_open_the_action_forms(app, login, users):
    pk = make(app)
    client = login("tecnico")
    for name in ("finalize", "cancel", "reiterate", "complaint", "reopen"):
        assert client.get(f"/ticketaction/{pk}/{name}").status_code == 403, name
