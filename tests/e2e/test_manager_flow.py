"""The manager's Monday morning in a browser: default list, four filters, mass close across a filter,
mass delete of drafts and non-drafts, XLSX and PDF exports of the filtered list (issue 4, must show 1)."""
from __future__ import annotations

import datetime as dt

from tests.e2e.test_browser import Visit, visit  # noqa: F401  (fixture)


def _data(db, users):
    from app.domain.clock import now
    from app.models import Department
    from tests import factories

    agent = db.session.merge(users["atendente"])
    moment = now()
    outage = factories.subject(db.session, name="Queda de fibra", sla_hours=4)
    invoice = factories.subject(db.session, name="Segunda via de boleto", sla_hours=48)
    network = db.session.query(Department).order_by(Department.id).first()
    billing = Department(name="Cobrança")
    db.session.add(billing)
    db.session.flush()
    company = factories.customer(db.session, name="Mercado Bom Preço")
    outage_tickets = [factories.ticket(db.session, agent, subject=outage, department=network,
                                       opened_at=moment - dt.timedelta(hours=i + 1),
                                       opening_description=f"Sem sinal na rua {i}") for i in range(22)]
    other = [factories.ticket(db.session, agent, subject=invoice, department=billing,
                              opened_at=moment - dt.timedelta(hours=2)) for _ in range(3)]
    formula = factories.ticket(db.session, agent, company, subject=outage, department=network,
                               opened_at=moment - dt.timedelta(minutes=30),
                               opening_description='=HYPERLINK("http://x.example";"abrir")')
    drafts = [factories.ticket(db.session, agent, company, subject=invoice, is_draft=True,
                               opened_at=moment - dt.timedelta(hours=3)) for _ in range(2)]
    old = factories.ticket(db.session, agent, subject=invoice, opened_at=moment - dt.timedelta(days=20))
    db.session.commit()
    return {
        "outage": outage.id, "network": network.id, "old": old.protocol, "formula": formula.protocol,
        "outage_protocols": {t.protocol for t in outage_tickets} | {formula.protocol},
        "drafts": [t.protocol for t in drafts], "others": [t.protocol for t in other],
    }


def _protocols(visit: Visit) -> list[str]:
    return visit.page.eval_on_selector_all("#ticket-list tbody tr", "rows => rows.map(r => r.dataset.protocol)")


def _choose(visit: Visit, name: str, option: str) -> None:
    """Pick one option of a multi-select (select2) of the filter panel."""
    visit.page.click(f"select#flt-{name} + .select2-container .select2-selection")
    visit.page.locator(".select2-container--open .select2-results__option", has_text=option).first.click()
    visit.page.keyboard.press("Escape")


def test_manager_filters_mass_acts_and_exports(visit: Visit, db, users, tmp_path):
    data = _data(db, users)
    visit.login("gestor")

    # 1. the list opens on the last 7 days (R13)
    text = visit.goto("/ticketview/list/", "40-manager-default-list")
    week_ago = (dt.date.today() - dt.timedelta(days=7)).strftime("%d/%m/%Y")
    assert "date_from=" in visit.page.url and visit.page.input_value("#flt-date_from") == week_ago
    assert data["old"] not in _protocols(visit) and "28 registros" in text

    # 2. four filters combined: subject, department, situation, draft
    _choose(visit, "subject", "Queda de fibra")
    _choose(visit, "department", visit.page.locator(f"#flt-department option[value='{data['network']}']").inner_text())
    _choose(visit, "status_category", "Em aberto (qualquer)")
    visit.page.click("#toggle-more-filters")
    visit.page.locator("#flt-draft").wait_for(state="visible")
    visit.page.select_option("#flt-draft", "0")
    text = visit.submit("#filter-submit", "41-manager-four-filters")
    for argument in ("subject=", "department=", "status_category=open", "draft=0"):
        assert argument in visit.page.url, argument
    assert "23 registros" in text and len(_protocols(visit)) == 20
    assert set(_protocols(visit)) <= data["outage_protocols"]
    filtered_url = visit.page.url

    # 3. exports of the filtered list: same rows, same order (R15)
    with visit.page.expect_download() as download:
        visit.page.click("#export-xlsx")
    path = tmp_path / "atendimentos.xlsx"
    download.value.save_as(path)
    import openpyxl

    sheet = openpyxl.load_workbook(path).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "Protocolo" and len(rows) == 24
    assert [row[0] for row in rows[1:21]] == _protocols(visit)
    description = rows[0].index("Descrição da abertura")
    formula_row = next(row for row in rows if row[0] == data["formula"])
    assert formula_row[description].startswith("=HYPERLINK")
    assert isinstance(rows[1][rows[0].index("Abertura")], dt.datetime)
    with visit.page.expect_download() as download:
        visit.page.click("#export-pdf")
    pdf = tmp_path / "atendimentos.pdf"
    download.value.save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF")

    # 4. select every ticket of the filter (more than one page) and close them at once (R14)
    visit.page.check("#check-all")
    visit.page.click("#select-all-matching")
    assert visit.page.is_visible("#select-all-done")
    visit.page.screenshot(path=str(visit.folder / "42-manager-select-all.png"), full_page=True)
    text = visit.submit("#mass_close", "43-manager-mass-close-form")
    assert "23 atendimentos selecionados" in text
    visit.page.fill("#closing_description", "Rompimento de fibra reparado pela equipe de rede.")
    text = visit.submit("#mass-save", "44-manager-mass-closed")
    assert "23 atendimentos fechados" in text
    assert visit.page.url.startswith(filtered_url.split("?")[0])
    visit.goto(filtered_url, "45-manager-filter-after-close")
    assert _protocols(visit) == []

    # 5. mass delete of drafts and non-drafts: the non-drafts are refused by protocol
    visit.goto("/ticketview/list/?date_from=&order=protocol&direction=asc&psize=100", "46-manager-all-tickets")
    chosen = data["drafts"] + data["others"][:2]
    for protocol in chosen:
        visit.page.check(f"tr[data-protocol='{protocol}'] input.row-check")
    text = visit.submit("#mass_delete_drafts", "47-manager-delete-confirmation")
    assert all(p in text for p in chosen) and "Sim, apagar!" in text
    assert "não é rascunho" in text
    text = visit.submit("#mass-confirm-delete", "48-manager-drafts-deleted")
    assert "2 rascunhos apagados" in text
    assert all(p in text for p in data["others"][:2]) and "recusado" in text
    remaining = _protocols(visit)
    assert not set(data["drafts"]) & set(remaining) and set(data["others"][:2]) <= set(remaining)
    visit.assert_ptbr()
