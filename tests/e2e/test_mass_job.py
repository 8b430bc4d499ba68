"""A manager's mass edit above MASS_SYNC_MAX in a browser: select every ticket of a filter, edit them, land on
the job's page, watch it finish by itself, read the report and download it (issue 10, must show 6)."""
from __future__ import annotations

import re

import openpyxl

from tests.e2e.test_browser import Visit, visit  # noqa: F401  (fixture)

TICKETS = 62
CANCELLED = 2


def _data(db, users) -> dict:
    from app.domain import tickets
    from app.models import Department
    from tests import factories

    agent = db.session.merge(users["atendente"])
    outage = factories.subject(db.session, name="Queda de fibra no bairro")
    made = [factories.ticket(db.session, agent, subject=outage, opening_description=f"Sem sinal, casa {i}")
            for i in range(TICKETS)]
    for ticket in made[:CANCELLED]:
        ticket.status = factories.status(db.session, "cancelled")
        ticket.cancel_reason = "Aberto em duplicidade"
        tickets.update_ticket(db.session, ticket, agent)
    field = Department(name="Equipe de campo", active=True)
    db.session.add(field)
    db.session.commit()
    return {"subject": outage.id, "department": field.id, "cancelled": {t.protocol for t in made[:CANCELLED]},
            "protocols": {t.protocol for t in made}}


def test_manager_mass_edits_a_whole_filter_in_the_background(visit: Visit, db, users, tmp_path, app):
    data = _data(db, users)
    threshold = app.config["MASS_SYNC_MAX"]
    assert TICKETS > threshold
    visit.login("gestor")

    text = visit.goto(f"/ticketview/list/?date_from=&subject={data['subject']}", "massa-01-filtro")
    assert f"{TICKETS} registros" in text
    visit.page.check("#check-all")
    visit.page.click("#select-all-matching")
    assert visit.page.is_visible("#select-all-done")
    visit.page.screenshot(path=str(visit.folder / "massa-02-todos-selecionados.png"), full_page=True)

    text = visit.submit("#mass_edit", "massa-03-formulario")
    assert f"{TICKETS} atendimentos selecionados" in text
    visit.page.check("#change_department")
    visit.page.select_option("select#department", str(data["department"]))
    text = visit.submit("#mass-save", "massa-04-tarefa-na-fila")
    assert re.search(r"/tarefas/\d+$", visit.page.url), visit.page.url
    assert f"A tarefa com {TICKETS} registros foi colocada na fila" in text
    assert "Edição de atendimentos em massa" in text

    # the page refreshes itself until the job is done
    visit.page.wait_for_selector("#mass-job[data-status='done']", timeout=180_000)
    text = visit.goto(visit.page.url, "massa-05-concluida")
    done = TICKETS - CANCELLED
    assert f"{done} atendimentos alterados; {CANCELLED} recusados" in text
    assert f"{TICKETS} de {TICKETS} registros processados" in text
    rows = visit.page.eval_on_selector_all("#job-report tbody tr", "rows => rows.map(r => r.dataset.label)")
    assert set(rows) == data["protocols"]
    for protocol in data["cancelled"]:
        assert "Atendimento cancelado não aceita alterações" in visit.page.inner_text(
            f"#job-report tr[data-label='{protocol}']")

    text = visit.submit("#job-refused-only", "massa-06-so-recusados")
    refused = visit.page.eval_on_selector_all("#job-report tbody tr", "rows => rows.map(r => r.dataset.label)")
    assert set(refused) == data["cancelled"]

    with visit.page.expect_download() as download:
        visit.page.click("#job-download")
    path = tmp_path / "relatorio.xlsx"
    download.value.save_as(path)
    sheet = openpyxl.load_workbook(path).active
    lines = list(sheet.iter_rows(values_only=True))
    assert lines[0] == ("Protocolo", "Resultado", "Motivo") and len(lines) == TICKETS + 1
    assert {line[0] for line in lines[1:] if line[1] == "Recusado"} == data["cancelled"]

    text = visit.goto("/tarefas/", "massa-07-minhas-tarefas")
    assert "Edição de atendimentos em massa" in text and "Concluída" in text
    visit.goto(f"/ticketview/list/?date_from=&subject={data['subject']}&department={data['department']}",
               "massa-08-lista-depois")
    assert f"{done} registros" in visit.page.inner_text("body")
    visit.assert_ptbr()
