"""Concurrent edits (R12): the second save of a stale ticket is refused and nothing is lost."""
from __future__ import annotations

import html
import re
import threading
from typing import Any

import pytest
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


# ---------------------------------------------------------------- R29: every update names the version it read


def test_api_put_without_a_version_gets_428_and_saves_nothing(app, api, users):
    t = _ticket(app)
    client = api("atendente")
    before, events = _row(app, t["id"]), _events(app, t["id"])
    for headers in ({}, {"If-Match": "*"}, {"If-Match": ""}):
        response = client.put(f"/api/v1/ticket/{t['id']}", json={"opening_description": "Sem versão"}, headers=headers)
        assert response.status_code == 428, (headers, response.json)
        assert "If-Match" in response.json["message"] and "Nada foi salvo" in response.json["message"]
    assert _row(app, t["id"]) == before and _events(app, t["id"]) == events
    bad = client.put(f"/api/v1/ticket/{t['id']}", json={"opening_description": "X", "version": "dois"})
    assert bad.status_code == 400 and "Versão inválida" in bad.json["message"]
    assert _row(app, t["id"]) == before
    assert client.put("/api/v1/ticket/999999", json={"opening_description": "X"}).status_code == 404


def test_get_returns_the_etag_that_a_put_names_in_if_match(app, api, users):
    t = _ticket(app)
    first, second = api("atendente"), api("atendente2")
    read = first.get(f"/api/v1/ticket/{t['id']}")
    tag = read.headers["ETag"]
    assert tag == f'W/"{read.json["result"]["version"]}"'
    assert second.get(f"/api/v1/ticket/{t['id']}").headers["ETag"] == tag

    saved = first.put(f"/api/v1/ticket/{t['id']}", json={"opening_description": "Primeiro"}, headers={"If-Match": tag})
    assert saved.status_code == 200, saved.json
    assert saved.headers["ETag"] != tag
    events = _events(app, t["id"])
    stale = second.put(f"/api/v1/ticket/{t['id']}", json={"opening_description": "Segundo"}, headers={"If-Match": tag})
    assert stale.status_code == 409 and STALE in stale.json["message"]
    assert _row(app, t["id"])["opening_description"] == "Primeiro" and _events(app, t["id"]) == events

    strong = saved.headers["ETag"].removeprefix("W/")  # "<version>" is accepted too
    again = second.put(f"/api/v1/ticket/{t['id']}", json={"opening_description": "Segundo"},
                       headers={"If-Match": strong})
    assert again.status_code == 200, again.json
    assert _row(app, t["id"])["opening_description"] == "Segundo"


def test_form_without_its_version_is_refused_and_saves_nothing(app, login, users):
    t = _ticket(app)
    client = login("atendente")
    version = _expected_version(client, t["id"])
    before, events = _row(app, t["id"]), _events(app, t["id"])
    for form in ({k: v for k, v in _form(t, version, "Sem versão").items() if k != "expected_version"},
                 _form(t, "", "Versão vazia")):
        response = client.post(f"/ticketview/edit/{t['id']}", data=form, follow_redirects=True)
        assert response.status_code == 200
        text = html.unescape(response.get_data(as_text=True))
        assert STALE in text and "Recarregue a página" in text
        assert "Sem versão" in text or "Versão vazia" in text  # what was typed stays on the form
    assert _row(app, t["id"]) == before and _events(app, t["id"]) == events


def test_draft_autosave_without_its_version_is_refused(app, login, users):
    from app.extensions import appbuilder
    from app.domain import tickets

    with session(app) as s:
        draft = tickets.start_ticket(s, appbuilder.sm.find_user(username="atendente"))
        s.commit()
        pk, version = draft.id, draft.version
    client = login("atendente")
    refused = client.post(f"/ticketview/autosave/{pk}", data={"opening_description": "Sem versão"})
    assert refused.status_code == 409 and STALE in refused.json["message"]
    assert _row(app, pk)["opening_description"] is None
    saved = client.post(f"/ticketview/autosave/{pk}", data={"opening_description": "Com versão",
                                                            "expected_version": str(version)})
    assert saved.status_code == 200 and _row(app, pk)["opening_description"] == "Com versão"


# ---------------------------------------------------------------- two editors at the same time (PostgreSQL)


def _postgres(app: Any) -> bool:
    return str(app.config["SQLALCHEMY_DATABASE_URI"]).startswith("postgresql")


def _race(calls: list) -> list:
    """Run the calls at the same moment, each in its own thread (own client, own connection)."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(index: int) -> None:
        barrier.wait()
        results[index] = calls[index]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def _description_events(app: Any, pk: int) -> list[str]:
    return [new for field, _old, new, _user in _events(app, pk) if field == "opening_description"]


ROUNDS = 6


def test_two_api_editors_at_once_lose_no_update(app, api, users):
    if not _postgres(app):
        pytest.skip("concorrência real só no PostgreSQL (DATABASE_URL=postgresql+psycopg://…)")
    t = _ticket(app)
    clients = {"atendente": api("atendente"), "atendente2": api("atendente2")}
    for round_ in range(ROUNDS):
        tags = {name: c.get(f"/api/v1/ticket/{t['id']}").headers["ETag"] for name, c in clients.items()}
        assert len(set(tags.values())) == 1
        answers = _race([lambda n=name, c=client: (n, c.put(
            f"/api/v1/ticket/{t['id']}", json={"opening_description": f"{n} {round_}"}, headers={"If-Match": tags[n]}))
            for name, client in clients.items()])
        codes = sorted(response.status_code for _n, response in answers)
        assert codes == [200, 409], [(n, r.status_code, r.json) for n, r in answers]
        winner = next(n for n, r in answers if r.status_code == 200)
        loser = next(r for _n, r in answers if r.status_code == 409)
        assert STALE in loser.json["message"]
        assert _row(app, t["id"])["opening_description"] == f"{winner} {round_}"
        assert _description_events(app, t["id"])[-1] == f"{winner} {round_}"
    assert len(_description_events(app, t["id"])) == ROUNDS  # one change per round, none lost, none doubled


def test_two_form_editors_at_once_lose_no_update(app, login, users):
    if not _postgres(app):
        pytest.skip("concorrência real só no PostgreSQL (DATABASE_URL=postgresql+psycopg://…)")
    t = _ticket(app)
    clients = {"atendente": login("atendente"), "atendente2": login("atendente2")}
    for round_ in range(ROUNDS):
        versions = {name: _expected_version(c, t["id"]) for name, c in clients.items()}
        assert len(set(versions.values())) == 1
        answers = _race([lambda n=name, c=client: (n, c.post(
            f"/ticketview/edit/{t['id']}", data=_form(t, versions[n], f"{n} {round_}")))
            for name, client in clients.items()])
        saved = [n for n, r in answers if r.status_code == 302]
        told = [r for _n, r in answers if r.status_code == 200]
        assert len(saved) == 1 and len(told) == 1, [(n, r.status_code) for n, r in answers]
        assert STALE in html.unescape(told[0].get_data(as_text=True))
        assert _row(app, t["id"])["opening_description"] == f"{saved[0]} {round_}"
        assert _description_events(app, t["id"])[-1] == f"{saved[0]} {round_}"
    assert len(_description_events(app, t["id"])) == ROUNDS


def test_customer_form_names_its_version_like_every_versioned_form(app, login, users):
    with session(app) as s:
        pk = factories.customer(s, name="Rita Alves").id
        s.commit()
    client = login("atendente")
    page = client.get(f"/customerview/edit/{pk}").get_data(as_text=True)
    assert re.search(r'<input[^>]*name="expected_version"[^>]*value="1"', page), "the edit form carries its version"
    data = {"person_type": "PF", "name": "Rita Alves Moura", "document": "529.982.247-25", "active": "y"}
    for version in (None, "", "0", "abc"):
        response = client.post(f"/customerview/edit/{pk}", follow_redirects=True,
                               data=data if version is None else {**data, "expected_version": version})
        assert STALE in html.unescape(response.get_data(as_text=True)), version
        assert "Rita Alves Moura" in response.get_data(as_text=True), "what was typed is kept"
    with session(app) as s:
        assert s.scalar(sa.text("SELECT name FROM customer WHERE id = :id"), {"id": pk}) == "Rita Alves"
    response = client.post(f"/customerview/edit/{pk}", data={**data, "expected_version": "1"}, follow_redirects=True)
    assert "Registro salvo" in response.get_data(as_text=True)
    with session(app) as s:
        assert s.scalar(sa.text("SELECT name FROM customer WHERE id = :id"), {"id": pk}) == "Rita Alves Moura"
