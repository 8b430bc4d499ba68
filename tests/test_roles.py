"""What each role may reach (roles table of PRODUCT.md)."""
from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from tests.support import session
from tests import factories

CONFIGURATION_LISTS = ["/subjectview/list/", "/channelview/list/", "/generalparametersview/list/",
                       "/ticketstatusview/list/"]
SECURITY_PAGES = ["/users/list/", "/roles/list/"]


def _find(username: str) -> Any:
    from app.extensions import appbuilder

    return appbuilder.sm.find_user(username=username)


def _ticket(app: Any) -> dict[str, Any]:
    with session(app) as s:
        t = factories.ticket(s, _find("atendente"), opening_description="Original")
        return {"id": t.id, "type": t.type, "customer": t.customer_id, "subject": t.subject_id,
                "status": t.status_id, "direction": t.direction, "version": t.version}


def _count(app: Any, table: str) -> int:
    with session(app) as s:
        return s.scalar(sa.text(f"SELECT count(*) FROM {table}"))


@pytest.mark.parametrize("url", CONFIGURATION_LISTS + SECURITY_PAGES + ["/subjectview/add", "/users/add"])
def test_atendente_cannot_open_configuration_or_security(login, users, url):
    assert login("atendente").get(url).status_code == 403


def test_atendente_cannot_add_configuration_by_post(app, login, users):
    before = _count(app, "subject")
    response = login("atendente").post("/subjectview/add", data={"name": "Forjado", "sla_hours": "4", "active": "y"})
    assert response.status_code == 403
    assert _count(app, "subject") == before


def test_tecnico_cannot_edit_a_ticket(app, login, users):
    t = _ticket(app)
    client = login("tecnico")
    assert client.get(f"/ticketview/edit/{t['id']}").status_code == 403
    response = client.post(f"/ticketview/edit/{t['id']}", data={
        "type": t["type"], "customer": str(t["customer"]), "subject": str(t["subject"]), "status": str(t["status"]),
        "direction": t["direction"], "opening_description": "Forjado", "expected_version": str(t["version"])})
    assert response.status_code == 403
    with session(app) as s:
        assert s.scalar(sa.text("SELECT opening_description FROM ticket WHERE id = :id"), {"id": t["id"]}) == "Original"
    assert client.post(f"/ticketview/delete/{t['id']}").status_code == 403


@pytest.mark.parametrize("url", SECURITY_PAGES + ["/users/add"])
def test_gestor_cannot_manage_users(login, users, url):
    assert login("gestor").get(url).status_code == 403


def test_gestor_cannot_add_a_user_by_post(app, login, users):
    before = _count(app, "ab_user")
    response = login("gestor").post("/users/add", data={
        "first_name": "X", "last_name": "Y", "username": "intruso", "email": "intruso@example.com",
        "active": "y", "password": "Senha-forte-123", "conf_password": "Senha-forte-123"})
    assert response.status_code == 403
    assert _count(app, "ab_user") == before


@pytest.mark.parametrize("url", CONFIGURATION_LISTS)
def test_gestor_reads_configuration(login, users, url):
    assert login("gestor").get(url).status_code == 200


def test_gestor_cannot_add_or_edit_configuration(app, login, users):
    client = login("gestor")
    assert client.get("/subjectview/add").status_code == 403
    before = _count(app, "subject")
    assert client.post("/subjectview/add", data={"name": "Forjado", "sla_hours": "4"}).status_code == 403
    assert _count(app, "subject") == before
    with session(app) as s:
        subject_id = factories.subject(s, name="Lento").id
        s.commit()
    assert client.get(f"/subjectview/edit/{subject_id}").status_code == 403
    assert client.post(f"/subjectview/delete/{subject_id}").status_code == 403
    assert _count(app, "subject") == before + 1


def test_admin_reaches_configuration_and_users(login, users):
    client = login("admin")
    for url in CONFIGURATION_LISTS + SECURITY_PAGES + ["/subjectview/add"]:
        assert client.get(url).status_code == 200, url


# ---------------------------------------------------------------- API


def test_api_without_token_is_401(app):
    client = app.test_client()
    for method, url in (("get", "/api/v1/ticket/"), ("post", "/api/v1/ticket/"), ("get", "/api/v1/customer/")):
        response = getattr(client, method)(url, json={} if method == "post" else None)
        assert response.status_code == 401, (method, url, response.status_code)


@pytest.mark.parametrize("token", ["nonsense", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.assinatura-falsa"])
def test_api_with_bad_token_is_401(app, token):
    response = app.test_client().get("/api/v1/ticket/", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.json["message"]


def test_atendente_cannot_post_a_subject(app, api, users):
    before = _count(app, "subject")
    response = api("atendente").post("/api/v1/subject/", json={"name": "Forjado", "sla_hours": 4})
    assert response.status_code == 403
    assert _count(app, "subject") == before
    assert api("atendente").get("/api/v1/subject/").status_code == 200


def test_tecnico_cannot_put_a_ticket(app, api, users):
    t = _ticket(app)
    client = api("tecnico")
    response = client.put(f"/api/v1/ticket/{t['id']}", json={"opening_description": "Forjado"})
    assert response.status_code == 403
    assert client.delete(f"/api/v1/ticket/{t['id']}").status_code == 403
    with session(app) as s:
        assert s.scalar(sa.text("SELECT opening_description FROM ticket WHERE id = :id"), {"id": t["id"]}) == "Original"


# ---------------------------------------------------------------- technicians see their own service orders


@pytest.fixture
def orders(app: Any) -> dict[str, int]:
    from app.domain import service_orders
    from app.models import ServiceOrder

    with session(app) as s:
        atendente = _find("atendente")
        mine_ticket = factories.ticket(s, atendente)
        other_ticket = factories.ticket(s, atendente)
        mine = ServiceOrder(ticket=mine_ticket, technician=_find("tecnico"), description="Trocar ONU")
        other = ServiceOrder(ticket=other_ticket, technician=_find("tecnico2"), description="Passar cabo")
        service_orders.create_service_order(s, mine, atendente)
        service_orders.create_service_order(s, other, atendente)
        s.commit()
        return {"mine": mine.id, "other": other.id, "mine_ticket": mine_ticket.id, "other_ticket": other_ticket.id}


def test_tecnico_lists_only_own_service_orders_in_the_api(api, users, orders):
    client = api("tecnico")
    response = client.get("/api/v1/serviceorder/")
    assert response.status_code == 200
    assert {row["id"] for row in response.json["result"]} == {orders["mine"]}
    assert client.get(f"/api/v1/serviceorder/{orders['mine']}").status_code == 200
    assert client.get(f"/api/v1/serviceorder/{orders['other']}").status_code == 404
    response = client.put(f"/api/v1/serviceorder/{orders['other']}", json={"status": "in_progress"})
    assert response.status_code == 404
    # tickets too: only those of their own service orders
    assert client.get(f"/api/v1/ticket/{orders['mine_ticket']}").status_code == 200
    assert client.get(f"/api/v1/ticket/{orders['other_ticket']}").status_code == 404

    other = api("tecnico2").get("/api/v1/serviceorder/")
    assert {row["id"] for row in other.json["result"]} == {orders["other"]}
    everyone = api("gestor").get("/api/v1/serviceorder/")
    assert {row["id"] for row in everyone.json["result"]} == {orders["mine"], orders["other"]}


def test_tecnico_lists_only_own_service_orders_in_the_ui(app, login, users, orders):
    client = login("tecnico")
    listing = client.get("/myserviceorderview/list/")
    assert listing.status_code == 200
    text = listing.get_data(as_text=True)
    assert f"/myserviceorderview/show/{orders['mine']}" in text
    assert f"/myserviceorderview/show/{orders['other']}" not in text
    assert client.get(f"/myserviceorderview/show/{orders['other']}").status_code == 404
    assert client.get(f"/myserviceorderview/edit/{orders['other']}").status_code == 404
    assert client.get("/serviceorderview/list/").status_code == 403
    assert client.get(f"/serviceorderview/show/{orders['other']}").status_code == 403
    with session(app) as s:
        assert s.scalar(sa.text("SELECT status FROM service_order WHERE id = :id"), {"id": orders["other"]}) == "open"


# ---------------------------------------------------------------- customers (Assinante) only their own


def test_assinante_sees_and_opens_only_own_tickets(app, api, users):
    with session(app) as s:
        mine = factories.customer(s, name="Meu cadastro")
        mine.portal_user_id = _find("assinante").id
        other = factories.customer(s, name="Vizinho")
        subject_id = factories.subject(s, portal_available=True).id
        s.commit()
        ids = {"mine": mine.id, "other": other.id}
        atendente = _find("atendente")
        own = factories.ticket(s, atendente, owner=s.get(type(mine), ids["mine"])).id
        foreign = factories.ticket(s, atendente, owner=s.get(type(mine), ids["other"])).id
    client = api("assinante")
    listed = client.get("/api/v1/ticket/")
    assert listed.status_code == 200
    assert {row["id"] for row in listed.json["result"]} == {own}
    assert client.get(f"/api/v1/ticket/{foreign}").status_code == 404

    before = _count(app, "ticket")
    response = client.post("/api/v1/ticket/", json={"customer": ids["other"], "subject": subject_id,
                                                    "opening_description": "Em nome do vizinho"})
    assert response.status_code == 422
    assert "próprio cadastro" in response.json["message"] and response.json["field"] == "customer"
    assert _count(app, "ticket") == before
    response = client.post("/api/v1/ticket/", json={"customer": ids["mine"], "subject": subject_id,
                                                    "opening_description": "Sem internet"})
    assert response.status_code == 201, response.json
    assert _count(app, "ticket") == before + 1
