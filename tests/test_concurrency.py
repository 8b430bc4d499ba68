"""Concurrent edits (R12): the second save of a stale ticket is refused and nothing is lost."""
from __future__ import annotations

import html
import re
from typing import Any

import sqlalchemy as sa

from tests.support import session
from tests import factories

STALE = "foi alterado por outro usuário"


def _ticket(app: Any) -> dict[str, Any]:
    from app.extensions import appbuilder

    with session(app) as s:
        t = factories.ticket(s, appbuilder.sm.find_user(username="atendente"), opening_description="Original")
        return {"id": t.id, "type": t.type, "customer": t.customer_id, "subject": t.subject_id,
                "status": t.status_id, "direction": t.direction}


def _row(app: Any, pk: int) -> Any:
    with session(app) as s:
        return s.execute(sa.text("SELECT * FROM ticket WHERE id = :id"), {"id": pk}).mappings().one()


def _events(app: Any, pk: int) -> list[tuple]:
    with session(app) as s:
        return [tuple(r) for r in s.execute(
            sa.text("SELECT field, old_value, new_value, user_id FROM ticket_event WHERE ticket_id = :id ORDER BY id"),
            {"id": pk})]


def _expected_version(client: Any, pk: int) -> str:
    page = client.get(f"/ticketview/edit/{pk}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    tag = re.search(r'<input[^>]*name="expected_version"[^>]*>', text)
    assert tag, "the edit form carries no expected_version"
    value = re.search(r'value="(\d+)"', tag.group(0))
    assert value, tag.group(0)
    return value.group(1)


def _form(t: dict[str, Any], version: str, description: str) -> dict[str, str]:
    return {"type": t["type"], "customer": str(t["customer"]), "subject": str(t["subject"]),
            "status": str(t["status"]), "direction": t["direction"], "opening_description": description,
            "closing_description": "", "expected_version": version}


def test_second_form_save_of_a_stale_ticket_is_refused(app, login, users):
    t = _ticket(app)
    first, second = login("atendente"), login("atendente2")
    v1 = _expected_version(first, t["id"])
    v2 = _expected_version(second, t["id"])
    assert v1 == v2

    response = first.post(f"/ticketview/edit/{t['id']}", data=_form(t, v1, "Versão do primeiro"),
                          follow_redirects=True)
    assert response.status_code == 200
    assert _row(app, t["id"])["opening_description"] == "Versão do primeiro"
    events = _events(app, t["id"])

    response = second.post(f"/ticketview/edit/{t['id']}", data=_form(t, v2, "Versão do segundo"),
                           follow_redirects=True)
    assert response.status_code == 200
    assert STALE in html.unescape(response.get_data(as_text=True))
    row = _row(app, t["id"])
    assert row["opening_description"] == "Versão do primeiro"
    assert _events(app, t["id"]) == events

    # reloading gives the current version, and then the save goes through
    v3 = _expected_version(second, t["id"])
    assert int(v3) > int(v2)
    second.post(f"/ticketview/edit/{t['id']}", data=_form(t, v3, "Versão do segundo"), follow_redirects=True)
    assert _row(app, t["id"])["opening_description"] == "Versão do segundo"


def test_second_api_put_with_stale_version_gets_409(app, api, users):
    t = _ticket(app)
    first, second = api("atendente"), api("atendente2")
    version = first.get(f"/api/v1/ticket/{t['id']}").json["result"]["version"]
    assert second.get(f"/api/v1/ticket/{t['id']}").json["result"]["version"] == version

    response = first.put(f"/api/v1/ticket/{t['id']}", json={"opening_description": "Primeiro", "version": version})
    assert response.status_code == 200, response.json
    events = _events(app, t["id"])

    response = second.put(f"/api/v1/ticket/{t['id']}", json={"opening_description": "Segundo", "version": version})
    assert response.status_code == 409
    assert STALE in response.json["message"]
    assert _row(app, t["id"])["opening_description"] == "Primeiro"
    assert _events(app, t["id"]) == events

    current = second.get(f"/api/v1/ticket/{t['id']}").json["result"]["version"]
    assert current > version
    response = second.put(f"/api/v1/ticket/{t['id']}", json={"opening_description": "Segundo", "version": current})
    assert response.status_code == 200
    assert _row(app, t["id"])["opening_description"] == "Segundo"


def test_stale_version_in_if_match_header_gets_409(app, api, users):
    t = _ticket(app)
    client = api("atendente")
    version = client.get(f"/api/v1/ticket/{t['id']}").json["result"]["version"]
    assert client.put(f"/api/v1/ticket/{t['id']}", json={"opening_description": "A"},
                      headers={"If-Match": str(version)}).status_code == 200
    response = client.put(f"/api/v1/ticket/{t['id']}", json={"opening_description": "B"},
                          headers={"If-Match": str(version)})
    assert response.status_code == 409
    assert _row(app, t["id"])["opening_description"] == "A"
