"""Ticket history (R11): every change is recorded, and nobody can edit or delete an entry."""
from __future__ import annotations

import datetime as dt
import html
from typing import Any

import pytest
import sqlalchemy as sa

from tests.support import session
from tests import factories


def _user_id(s: Any, username: str) -> int:
    from app.extensions import appbuilder

    return appbuilder.sm.find_user(username=username).id


def _ticket(app: Any) -> dict[str, Any]:
    from app.extensions import appbuilder

    with session(app) as s:
        t = factories.ticket(s, appbuilder.sm.find_user(username="atendente"), opening_description="Sem internet")
        return {"id": t.id, "type": t.type, "customer": t.customer_id, "subject": t.subject_id,
                "status": t.status_id, "status_name": t.status.name, "direction": t.direction,
                "version": t.version}


def _events(app: Any, pk: int) -> list[dict[str, Any]]:
    from app.models import TicketEvent

    with session(app) as s:
        rows = s.scalars(sa.select(TicketEvent).where(TicketEvent.ticket_id == pk).order_by(TicketEvent.id))
        return [{c.key: getattr(r, c.key) for c in TicketEvent.__table__.columns} for r in rows]


def test_api_changes_are_recorded_field_by_field(app, api, users):
    from app.domain.clock import now

    t = _ticket(app)
    with session(app) as s:
        pending = factories.status(s, "pending")
        whatsapp = factories.channel(s, "WhatsApp")
        pending_id, pending_name, whatsapp_id = pending.id, pending.name, whatsapp.id
        gestor_id = _user_id(s, "gestor")
    started = now() - dt.timedelta(seconds=1)
    created = _events(app, t["id"])
    assert [e["kind"] for e in created] == ["created"]

    response = api("gestor").put(f"/api/v1/ticket/{t['id']}", json={
        "opening_description": "Sem internet desde ontem", "status": pending_id, "channel": whatsapp_id,
        "version": t["version"]})
    assert response.status_code == 200, response.json

    new = {e["field"]: e for e in _events(app, t["id"])[len(created):]}
    assert set(new) == {"opening_description", "status", "channel"}
    assert (new["opening_description"]["old_value"], new["opening_description"]["new_value"]) == (
        "Sem internet", "Sem internet desde ontem")
    assert (new["status"]["old_value"], new["status"]["new_value"]) == (t["status_name"], pending_name)
    assert (new["channel"]["old_value"], new["channel"]["new_value"]) == (None, "WhatsApp")
    for entry in new.values():
        assert entry["user_id"] == gestor_id
        assert entry["kind"] == "field"
        assert started <= entry["created_at"] <= now() + dt.timedelta(seconds=1)

    # the same entries through the read-only history API, filtered to this ticket
    _ticket(app)
    client = api("gestor")
    listed = client.get(f"/api/v1/ticketevent/?q=(filters:!((col:ticket,opr:rel_o_m,value:{t['id']})),page_size:100)")
    assert listed.status_code == 200, listed.json
    fields = {(r["field"], r["old_value"], r["new_value"], (r.get("user") or {}).get("username"))
              for r in listed.json["result"]}
    assert ("opening_description", "Sem internet", "Sem internet desde ontem", "gestor") in fields
    assert ("channel", None, "WhatsApp", "gestor") in fields
    assert {r["ticket"]["id"] for r in listed.json["result"]} == {t["id"]}


def test_unchanged_save_records_nothing(app, api, users):
    t = _ticket(app)
    before = _events(app, t["id"])
    response = api("atendente").put(f"/api/v1/ticket/{t['id']}", json={"opening_description": "Sem internet",
                                                                        "version": t["version"]})
    assert response.status_code == 200
    assert _events(app, t["id"]) == before


def test_form_change_is_recorded_and_listed_on_the_show_page(app, login, users):
    t = _ticket(app)
    client = login("atendente2")
    form = {"type": t["type"], "customer": str(t["customer"]), "subject": str(t["subject"]),
            "status": str(t["status"]), "direction": "outbound", "opening_description": "Cliente ligou de novo",
            "closing_description": "", "expected_version": str(t["version"])}
    response = client.post(f"/ticketview/edit/{t['id']}", data=form, follow_redirects=True)
    assert response.status_code == 200
    with session(app) as s:
        who = _user_id(s, "atendente2")
    new = {e["field"]: e for e in _events(app, t["id"]) if e["kind"] == "field"}
    assert set(new) == {"opening_description", "direction"}
    assert new["opening_description"]["new_value"] == "Cliente ligou de novo"
    assert (new["direction"]["old_value"], new["direction"]["new_value"]) == ("Receptivo", "Ativo")
    assert all(e["user_id"] == who for e in new.values())

    show = html.unescape(client.get(f"/ticketview/show/{t['id']}").get_data(as_text=True))
    assert "Histórico" in show
    assert "Descrição da abertura" in show  # the field, by its pt-BR label
    assert "Sem internet" in show and "Cliente ligou de novo" in show
    assert "Atendente2" in show or "atendente2" in show


def test_service_order_and_message_land_in_the_history(app, api, users):
    t = _ticket(app)
    client = api("atendente")
    response = client.post("/api/v1/serviceorder/", json={"ticket": t["id"], "description": "Visita técnica"})
    assert response.status_code == 201, response.json
    kinds = [e["kind"] for e in _events(app, t["id"])]
    assert "service_order" in kinds


@pytest.fixture
def entry(app: Any) -> dict[str, Any]:
    t = _ticket(app)
    event = _events(app, t["id"])[0]
    return {"ticket": t["id"], "id": event["id"], "row": event}


@pytest.mark.parametrize("username", ["admin", "gestor", "atendente", "tecnico"])
def test_nobody_edits_or_deletes_history_in_the_ui(app, login, users, entry, username):
    client = login(username)
    pk = entry["id"]
    attempts = [
        client.get(f"/ticketeventview/edit/{pk}"),
        client.post(f"/ticketeventview/edit/{pk}", data={"note": "Forjado", "kind": "field"}),
        client.get(f"/ticketeventview/delete/{pk}"),
        client.post(f"/ticketeventview/delete/{pk}"),
        client.post("/ticketeventview/add", data={"ticket": str(entry["ticket"]), "kind": "field", "note": "Forjado"}),
    ]
    for response in attempts:
        assert response.status_code in (403, 404, 405), (response.request.method, response.request.path,
                                                         response.status_code)
    assert _events(app, entry["ticket"]) == [entry["row"]]


@pytest.mark.parametrize("username", ["admin", "gestor", "atendente", "tecnico", "assinante"])
def test_nobody_edits_or_deletes_history_in_the_api(app, api, users, entry, username):
    client = api(username)
    pk = entry["id"]
    attempts = [
        client.put(f"/api/v1/ticketevent/{pk}", json={"note": "Forjado"}),
        client.delete(f"/api/v1/ticketevent/{pk}"),
        client.post("/api/v1/ticketevent/", json={"ticket": entry["ticket"], "kind": "field", "note": "Forjado"}),
    ]
    for response in attempts:
        assert response.status_code in (403, 404, 405), (response.request.method, response.status_code)
    assert _events(app, entry["ticket"]) == [entry["row"]]


def test_history_refuses_changes_even_from_code(app, entry):
    from app.domain.history import HistoryIsAppendOnly
    from app.models import TicketEvent

    with session(app) as s:
        event = s.get(TicketEvent, entry["id"])
        event.note = "Forjado"
        with pytest.raises(HistoryIsAppendOnly):
            s.flush()
        s.rollback()
        s.delete(s.get(TicketEvent, entry["id"]))
        with pytest.raises(HistoryIsAppendOnly):
            s.flush()
        s.rollback()
    assert _events(app, entry["ticket"]) == [entry["row"]]
