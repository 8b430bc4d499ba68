"""Mass actions above MASS_SYNC_MAX run as background jobs (R14, issue 10 M3).

The real queue and its in-process worker run the jobs; each record is changed (with its history) or listed as
refused with its reason, the report matches the database, the progress shows while the job runs, only the
owner (and an Admin) sees a job, and a job whose worker stopped resumes where it stopped.
"""
from __future__ import annotations

import html
import io
import re
import time
from typing import Any, Iterator

import openpyxl
import pytest
import sqlalchemy as sa

from tests import factories
from tests.support import session, user

CANCELLED = "Atendimento cancelado não aceita alterações"
NOT_VISIBLE = "não encontrado ou fora da sua visão"
BULK = 2000


@pytest.fixture
def settings(app: Any) -> Iterator[dict]:
    saved = dict(app.config)
    yield app.config
    app.config.clear()
    app.config.update(saved)


def _department(app: Any, name: str) -> int:
    from app.models import Department

    with session(app) as s:
        department = Department(name=name, active=True)
        s.add(department)
        s.commit()
        return department.id


def _job_id(response: Any) -> int:
    assert response.status_code == 302, response.status_code
    match = re.search(r"/tarefas/(\d+)$", response.headers["Location"])
    assert match, response.headers["Location"]
    return int(match.group(1))


def _job(app: Any, job_id: int) -> Any:
    from app.models import MassJob

    with session(app) as s:
        job = s.get(MassJob, job_id)
        s.expunge_all()
        return job


def _wait(app: Any, job_id: int, seconds: float = 900, watch: Any = None) -> Any:
    """Wait for the job to end; `watch` is called on every look (to see the progress from outside)."""
    deadline = time.monotonic() + seconds
    while True:
        job = _job(app, job_id)
        if watch is not None:
            watch(job)
        if job.status in ("done", "failed"):
            return job
        assert time.monotonic() < deadline, f"job {job_id} still {job.status} at {job.processed}/{job.total}"
        time.sleep(0.4)


def _lines(app: Any, job_id: int) -> list[tuple]:
    with session(app) as s:
        return [tuple(r) for r in s.execute(sa.text(
            "SELECT position, label, changed, reason FROM mass_job_item WHERE job_id = :j ORDER BY position"),
            {"j": job_id})]


def _tickets(app: Any) -> dict[str, dict]:
    """Every ticket by protocol: its department, status category and number of department changes."""
    with session(app) as s:
        rows = s.execute(sa.text(
            "SELECT t.protocol, t.department_id, st.category, "
            "(SELECT COUNT(*) FROM ticket_event e WHERE e.ticket_id = t.id AND e.field = 'department') AS changes "
            "FROM ticket t JOIN ticket_status st ON st.id = t.status_id")).mappings()
        return {r["protocol"]: dict(r) for r in rows}


def _flashes(client: Any) -> list[str]:
    with client.client.session_transaction() as sess:
        return [message for _category, message in sess.get("_flashes", [])]


# ---------------------------------------------------------------- 2,000 tickets in the background


def test_mass_edit_of_2000_tickets_runs_in_the_background(app, login, api, users):
    from app.demo.bench import seed_bench

    with session(app) as s:
        seed_bench(s, BULK, 60, echo=lambda _text: None)
    target = _department(app, "Mutirão de rede")
    before = _tickets(app)
    assert len(before) == BULK
    gestor = login("gestor")

    started = time.monotonic()
    response = gestor.post("/ticketview/mass_edit/", data={
        "select_all": "date_from=&order=protocol&direction=asc", "confirm": "1",
        "change_department": "1", "department": str(target)})
    assert time.monotonic() - started < 10  # the request only queues the job
    job_id = _job_id(response)
    assert ("A tarefa com 2000 registros foi colocada na fila; acompanhe o andamento nesta página."
            in _flashes(gestor))

    # the job is the owner's (and an Admin's) only
    assert login("atendente").get(f"/tarefas/{job_id}").status_code == 404
    assert f"/tarefas/{job_id}" not in login("atendente").get("/tarefas/").get_data(as_text=True)
    assert api("atendente").get(f"/api/v1/ticket/mass_jobs/{job_id}").status_code == 404
    assert login("admin").get(f"/tarefas/{job_id}").status_code == 200

    seen: list[tuple[str, int]] = []
    pages: list[str] = []
    status_api = api("gestor")

    def watch(job: Any) -> None:
        seen.append((job.status, job.processed))
        if job.status == "running" and 0 < job.processed < BULK and len(pages) < 2:
            pages.append(html.unescape(gestor.get(f"/tarefas/{job_id}").get_data(as_text=True)))
            body = status_api.get(f"/api/v1/ticket/mass_jobs/{job_id}").json
            assert body["status"] in ("running", "done") and body["total"] == BULK

    job = _wait(app, job_id, watch=watch)
    assert job.status == "done", job.error
    # the progress was visible while it ran: the page refreshed itself and counted the tickets done so far
    running = [processed for status, processed in seen if status == "running" and 0 < processed < BULK]
    assert len(set(running)) >= 2, seen[:20]
    assert pages and '<meta http-equiv="refresh"' in pages[0]
    assert re.search(r"\d+ de 2000 registros processados", pages[0]), pages[0][:2000]

    # every ticket is in the report once, changed or refused with its reason, as the database says
    after = _tickets(app)
    lines = _lines(app, job_id)
    assert [line[0] for line in lines] == list(range(BULK))
    assert sorted(line[1] for line in lines) == sorted(before)
    changed = {label for _p, label, ok, _r in lines if ok}
    refused = {label: reason for _p, label, ok, reason in lines if not ok}
    assert job.changed == len(changed) and job.refused == len(refused) and job.processed == BULK
    for protocol in changed:
        assert after[protocol]["department_id"] == target
        assert after[protocol]["changes"] == before[protocol]["changes"] + 1  # its own history entry
    for protocol, reason in refused.items():
        assert reason == CANCELLED
        assert after[protocol] == before[protocol]
    assert set(refused) == {p for p, row in before.items() if row["category"] == "cancelled"}
    assert changed and refused

    # the page shows the summary and the report; the API gives the same; the XLSX too
    text = html.unescape(gestor.get(f"/tarefas/{job_id}").get_data(as_text=True))
    assert f"{len(changed)} atendimentos alterados; {len(refused)} recusados" in text
    assert 'http-equiv="refresh"' not in text and text.count('data-changed="') == BULK
    refused_only = gestor.get(f"/tarefas/{job_id}?recusados=1").get_data(as_text=True)
    assert refused_only.count('data-changed="0"') == len(refused) and 'data-changed="1"' not in refused_only
    body = status_api.get(f"/api/v1/ticket/mass_jobs/{job_id}").json
    assert body["status"] == "done" and body["changed"] == len(changed) and len(body["report"]) == BULK
    assert {line["label"] for line in body["report"] if not line["changed"]} == set(refused)
    download = gestor.get(f"/tarefas/{job_id}/relatorio.xlsx")
    assert download.status_code == 200 and download.headers["Content-Disposition"].startswith("attachment")
    sheet = openpyxl.load_workbook(io.BytesIO(download.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("Protocolo", "Resultado", "Motivo") and len(rows) == BULK + 1
    assert {row[0] for row in rows[1:] if row[1] == "Recusado"} == set(refused)
    assert all(cell.data_type == "s" for row in sheet.iter_rows(min_row=2) for cell in row if cell.value)
    assert login("atendente").get(f"/tarefas/{job_id}/relatorio.xlsx").status_code == 404


# ---------------------------------------------------------------- small selections, the API, service orders


def _few(app: Any, count: int, cancelled: int = 0) -> list[dict]:
    with session(app) as s:
        agent = user(s, "atendente")
        made = [factories.ticket(s, agent) for _ in range(count)]
        for ticket in made[:cancelled]:
            from app.domain import tickets

            ticket.status = factories.status(s, "cancelled")
            ticket.cancel_reason = "Cliente desistiu"
            tickets.update_ticket(s, ticket, agent)
        s.commit()
        return [{"id": t.id, "protocol": t.protocol} for t in made]


def test_a_small_selection_still_answers_at_once(app, login, api):
    from app.models import MassJob

    made = _few(app, 3, cancelled=1)
    target = _department(app, "Suporte N2")
    client = login("gestor")
    response = client.post("/ticketview/mass_edit/", data={
        "rowid": [t["id"] for t in made], "confirm": "1", "change_department": "1", "department": str(target)})
    assert response.status_code == 302 and "/tarefas/" not in response.headers["Location"]
    assert any(f"2 atendimentos alterados; 1 recusado: {made[0]['protocol']} ({CANCELLED})" in text
               for text in _flashes(client))
    answer = api("gestor").post("/api/v1/ticket/mass_edit", json={
        "ids": [t["id"] for t in made[1:]], "changes": {"priority": None}})
    assert answer.status_code == 200 and sorted(answer.json["done"]) == sorted(t["protocol"] for t in made[1:])
    with session(app) as s:
        assert s.scalar(sa.select(sa.func.count(MassJob.id))) == 0


def test_the_api_answers_202_and_a_status_url_for_a_large_selection(app, api, settings):
    settings["MASS_SYNC_MAX"] = 5
    made = _few(app, 9, cancelled=2)
    client = api("gestor")
    ids = [t["id"] for t in made] + [987654321, made[3]["id"]]  # a forged id, and one twice
    answer = client.post("/api/v1/ticket/mass_close", json={"ids": ids, "closing_description": "Normalizado"})
    assert answer.status_code == 202, answer.json
    assert answer.json["total"] == 10 and answer.json["status"] == "queued"
    assert answer.headers["Location"].endswith(answer.json["status_url"])
    assert answer.json["status_url"] == f"/api/v1/ticket/mass_jobs/{answer.json['id']}"
    job = _wait(app, answer.json["id"], 120)
    assert job.status == "done", job.error
    body = client.get(answer.json["status_url"]).json
    assert (body["processed"], body["changed"], body["refused"]) == (10, 7, 3)
    assert body["message"] == "7 atendimentos fechados; 3 recusados"
    report = {line["label"]: line for line in body["report"]}
    assert report["#987654321"]["reason"] == NOT_VISIBLE
    assert {report[t["protocol"]]["reason"] for t in made[:2]} == {CANCELLED}
    assert all(report[t["protocol"]]["changed"] for t in made[2:])
    categories = {p: row["category"] for p, row in _tickets(app).items()}
    assert all(categories[t["protocol"]] == "resolved" for t in made[2:])
    # a broken choice is refused at once and nothing is queued
    bad = client.post("/api/v1/ticket/mass_close", json={"ids": ids, "closing_description": " "})
    assert bad.status_code == 400 and bad.json["message"] == "Informe a descrição do fechamento."
    too_many = client.post("/api/v1/ticket/mass_delete_drafts", json={"ids": list(range(1, 2003))})
    assert too_many.status_code == 400 and "mais de 2000 registros" in too_many.json["message"]
    assert client.get("/api/v1/ticket/mass_jobs/999999").status_code == 404


def test_service_order_mass_actions_become_jobs_too(app, login, settings):
    from app.domain.service_orders import create_service_order
    from app.models import ServiceOrder

    settings["MASS_SYNC_MAX"] = 2
    with session(app) as s:
        agent = user(s, "atendente")
        orders = []
        for _ in range(4):
            order = ServiceOrder(ticket=factories.ticket(s, agent), description="Visita")
            create_service_order(s, order, agent)
            orders.append(order)
        s.commit()
        ids, technician = [o.id for o in orders], user(s, "tecnico").id
    client = login("gestor")
    job_id = _job_id(client.post("/serviceorderview/mass_assign/", data={
        "rowid": ids, "confirm": "1", "technician": str(technician)}))
    job = _wait(app, job_id, 120)
    assert (job.status, job.changed, job.refused) == ("done", 4, 0)
    text = html.unescape(client.get(f"/tarefas/{job_id}").get_data(as_text=True))
    assert "Atribuição de técnico em massa" in text and "4 OS atribuídas" in text
    with session(app) as s:
        assert set(s.scalars(sa.select(ServiceOrder.technician_id).where(ServiceOrder.id.in_(ids)))) == {technician}


def test_a_broken_choice_shows_the_form_again_and_queues_nothing(app, login, settings):
    from app.models import MassJob

    settings["MASS_SYNC_MAX"] = 1
    made = _few(app, 3)
    text = html.unescape(login("gestor").post("/ticketview/mass_edit/", data={
        "rowid": [t["id"] for t in made], "confirm": "1"}).get_data(as_text=True))
    assert "Escolha ao menos um campo para alterar." in text and 'id="mass-edit-form"' in text
    with session(app) as s:
        assert s.scalar(sa.select(sa.func.count(MassJob.id))) == 0


# ---------------------------------------------------------------- a worker that stops


def _queued_by_hand(app: Any, monkeypatch: Any, made: list[dict], target: int) -> int:
    """A job queued as a request would, but not handed to the queue (a worker about to die takes it)."""
    from app.domain import mass_jobs
    from app.extensions import db

    monkeypatch.setattr(mass_jobs, "enqueue", lambda *args: None)
    with app.test_request_context():
        job = mass_jobs.start(db.session, user(db.session, "gestor"), "ticket_edit", [t["id"] for t in made], {
            "form": [["change_department", "1"], ["department", str(target)]]})
        job_id = job.id
        db.session.remove()
    monkeypatch.undo()
    return job_id


def test_a_job_whose_worker_died_resumes_where_it_stopped(app, login, settings, monkeypatch):
    from app.domain import mass_jobs
    from app.domain.mass_jobs import JobReport
    from app.models import MassJob

    settings["MASS_SYNC_MAX"] = 2
    made = _few(app, 7)
    target = _department(app, "Campo")
    job_id = _queued_by_hand(app, monkeypatch, made, target)
    # a worker claims it, changes 3 tickets and dies (its heartbeat stops)
    with app.app_context():
        from app.extensions import db

        db.session.execute(sa.update(MassJob).where(MassJob.id == job_id).values(status="running", attempts=1))
        db.session.commit()
        job = db.session.get(MassJob, job_id)
        kind = mass_jobs.KINDS[job.kind]
        manager = user(db.session, "gestor")
        kind.run(db.session, manager, job.ids[:3], job.params, None, JobReport(job_id, 1, 0, "ticket"))
        db.session.remove()
    assert _job(app, job_id).processed == 3
    client = login("gestor")
    settings["MASS_JOB_STALL_SECONDS"] = 3600
    page = html.unescape(client.get(f"/tarefas/{job_id}").get_data(as_text=True))
    assert "3 de 7 registros processados" in page and '<meta http-equiv="refresh"' in page
    assert _job(app, job_id).status == "running"  # alive for an hour: not resumed yet
    settings["MASS_JOB_STALL_SECONDS"] = 0
    time.sleep(1.1)
    client.get(f"/tarefas/{job_id}")  # looking at it finds it stalled and queues it again
    job = _wait(app, job_id, 120)
    assert (job.status, job.processed, job.changed, job.attempts) == ("done", 7, 7, 2)
    assert [line[0] for line in _lines(app, job_id)] == list(range(7))
    rows = _tickets(app)
    assert all(rows[t["protocol"]]["changes"] == 1 for t in made)  # none changed twice, none skipped
    # the old worker, if it was only slow, is told it lost the job and writes nothing more
    with app.app_context():
        from app.domain.mass_jobs import Superseded
        from app.extensions import db

        with pytest.raises(Superseded):
            JobReport(job_id, 1, 7, "ticket").stage(db.session, "x")
        db.session.rollback()
        db.session.remove()


def test_a_job_interrupted_too_often_is_marked_failed_with_what_was_done(app, login, settings, monkeypatch):
    from app.domain import mass_jobs
    from app.models import MassJob

    settings["MASS_SYNC_MAX"] = 2
    made = _few(app, 4)
    job_id = _queued_by_hand(app, monkeypatch, made, _department(app, "Campo"))
    with app.app_context():
        from app.extensions import db

        db.session.execute(sa.update(MassJob).where(MassJob.id == job_id).values(
            attempts=mass_jobs.MAX_ATTEMPTS, processed=0))
        db.session.commit()
        mass_jobs.run_job(db.session, job_id)
        db.session.remove()
    job = _job(app, job_id)
    assert job.status == "failed" and job.finished_at is not None
    assert job.error.startswith(f"A tarefa foi interrompida {mass_jobs.MAX_ATTEMPTS} vezes e não será retomada")
    text = html.unescape(login("gestor").get(f"/tarefas/{job_id}").get_data(as_text=True))
    assert "Interrompida" in text and job.error in text and 'http-equiv="refresh"' not in text


def test_an_unexpected_error_stops_the_job_and_keeps_its_report(app, login, settings, monkeypatch):
    from app.domain import tickets

    settings["MASS_SYNC_MAX"] = 2
    made = _few(app, 5)
    target = _department(app, "Campo")
    real = tickets.update_ticket
    calls = {"n": 0}

    def flaky(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("disco cheio")
        return real(*args, **kwargs)

    monkeypatch.setattr(tickets, "update_ticket", flaky)
    client = login("gestor")
    job_id = _job_id(client.post("/ticketview/mass_edit/", data={
        "rowid": [t["id"] for t in made], "confirm": "1", "change_department": "1", "department": str(target)}))
    job = _wait(app, job_id, 120)
    assert job.status == "failed" and job.processed == 2
    assert job.error == ("Erro inesperado. A tarefa parou depois de 2 de 5 registros; o relatório mostra o que foi "
                         "feito e os demais não foram alterados.")
    assert [line[1] for line in _lines(app, job_id)] == [t["protocol"] for t in made[:2]]
    rows = _tickets(app)
    assert [rows[t["protocol"]]["department_id"] == target for t in made] == [True, True, False, False, False]
    text = html.unescape(client.get(f"/tarefas/{job_id}").get_data(as_text=True))
    assert job.error in text and text.count('data-changed="1"') == 2
