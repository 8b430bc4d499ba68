"""Protocol numbers (R1): YYYYMMDD + 6 digits, unique and increasing, safe under parallel requests."""
from __future__ import annotations

import re
import threading
from typing import Any

import pytest
import sqlalchemy as sa

from tests.support import session
from tests import factories
from tests.conftest import PASSWORD


def _ticket_body(app: Any) -> dict[str, Any]:
    with session(app) as s:
        body = {"customer": factories.customer(s).id, "subject": factories.subject(s).id,
                "opening_description": "Sem sinal"}
        s.commit()
    return body


def test_api_ticket_gets_a_protocol_of_today(app, api, users):
    from app.domain.clock import now

    body = _ticket_body(app)
    response = api("atendente").post("/api/v1/ticket/", json=body)
    assert response.status_code == 201, response.json
    pk = response.json["id"]
    shown = api("atendente").get(f"/api/v1/ticket/{pk}").json["result"]
    protocol = shown["protocol"]
    assert re.fullmatch(r"\d{14}", protocol), protocol
    assert protocol[:8] == now().strftime("%Y%m%d")
    assert int(protocol[8:]) >= 1


def test_started_draft_gets_its_protocol_at_once(app, login, users):
    response = login("atendente").post("/ticketview/add", data={"type": "customer"})
    assert response.status_code == 302
    pk = int(response.headers["Location"].rstrip("/").split("/")[-1])
    with session(app) as s:
        row = s.execute(sa.text("SELECT protocol, is_draft FROM ticket WHERE id = :id"), {"id": pk}).one()
    assert re.fullmatch(r"\d{14}", row.protocol)
    assert row.is_draft in (True, 1)


def test_protocols_increase_in_creation_order(app, api, users):
    body = _ticket_body(app)
    client = api("atendente")
    created = []
    for _ in range(5):
        response = client.post("/api/v1/ticket/", json=body)
        assert response.status_code == 201, response.json
        created.append(response.json["id"])
    with session(app) as s:
        rows = s.execute(sa.text("SELECT id, protocol FROM ticket ORDER BY id")).all()
    assert [r.id for r in rows] == created
    protocols = [r.protocol for r in rows]
    assert protocols == sorted(protocols)
    assert len(set(protocols)) == len(protocols)
    sequences = [int(p[8:]) for p in protocols]
    assert sequences == list(range(sequences[0], sequences[0] + 5))


def test_deleted_draft_protocol_is_never_reused(app, api, users):
    body = _ticket_body(app)
    client = api("atendente")
    draft = client.post("/api/v1/ticket/", json={**body, "is_draft": True})
    assert draft.status_code == 201, draft.json
    with session(app) as s:
        old = s.scalar(sa.text("SELECT protocol FROM ticket WHERE id = :id"), {"id": draft.json["id"]})
    assert client.delete(f"/api/v1/ticket/{draft.json['id']}").status_code == 200
    again = client.post("/api/v1/ticket/", json=body)
    assert again.status_code == 201
    with session(app) as s:
        new = s.scalar(sa.text("SELECT protocol FROM ticket WHERE id = :id"), {"id": again.json["id"]})
    assert new > old


def test_parallel_clients_get_distinct_protocols(app, users):
    with session(app) as s:
        if s.get_bind().dialect.name != "postgresql":
            pytest.skip("parallel connections need PostgreSQL (SQLite serialises writers)")
    body = _ticket_body(app)
    threads_count, per_thread = 8, 100
    clients = []
    for _ in range(threads_count):
        client = app.test_client()
        response = client.post("/api/v1/security/login", json={
            "username": "atendente", "password": PASSWORD, "provider": "db", "refresh": False})
        assert response.status_code == 200
        clients.append((client, {"Authorization": f"Bearer {response.json['access_token']}"}))

    barrier = threading.Barrier(threads_count)
    results: list[list[Any]] = [[] for _ in range(threads_count)]

    def work(index: int) -> None:
        client, headers = clients[index]
        barrier.wait()
        for _ in range(per_thread):
            try:
                response = client.post("/api/v1/ticket/", json=body, headers=headers)
                results[index].append((response.status_code, response.get_json()))
            except Exception as error:  # recorded, asserted below
                results[index].append((None, repr(error)))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    answers = [answer for chunk in results for answer in chunk]
    failures = [a for a in answers if a[0] != 201]
    assert not failures, failures[:5]
    assert len(answers) == threads_count * per_thread

    with session(app) as s:
        rows = s.execute(sa.text("SELECT id, protocol FROM ticket ORDER BY id")).all()
    protocols = [r.protocol for r in rows]
    assert len(rows) == threads_count * per_thread
    assert len(set(protocols)) == len(protocols)
    assert all(re.fullmatch(r"\d{14}", p) for p in protocols)
    created_ids = {a[1]["id"] for a in answers}
    assert created_ids == {r.id for r in rows}
    # the day's sequence has no holes: every reserved number became a ticket
    sequences = sorted(int(p[8:]) for p in protocols)
    assert sequences == list(range(sequences[0], sequences[0] + len(sequences)))
