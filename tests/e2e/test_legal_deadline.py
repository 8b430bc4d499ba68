"""R24 in a browser: a Gestor reads the legal deadline card, follows it and uses the "Prazo legal" filter and column;
an Atendente sees the deadline on the ticket's workspace (issue 11, must show 4)."""
from __future__ import annotations

import datetime as dt
import re

from tests.e2e.test_browser import Visit, visit  # noqa: F401  (fixture)


def _data(db, users):
    from app.domain.clock import now
    from tests import factories

    agent = db.session.merge(users["atendente"])
    moment = now()
    customer = factories.customer(db.session, name="Vilma Correia")
    overdue = factories.ticket(db.session, agent, customer, opened_at=moment - dt.timedelta(days=8, hours=2),
                               opening_description="Sem sinal há mais de uma semana", assignees=[agent])
    soon = factories.ticket(db.session, agent, customer, opened_at=moment - dt.timedelta(days=6),
                            opening_description="Lentidão à noite", assignees=[agent])
    fresh = factories.ticket(db.session, agent, customer, opened_at=moment - dt.timedelta(hours=1),
                             opening_description="Troca de senha do Wi-Fi", assignees=[agent])
    db.session.commit()
    return {"overdue": (overdue.id, overdue.protocol, overdue.legal_due_at), "soon": soon.protocol,
            "fresh": fresh.protocol}


def _protocols(visit: Visit) -> list[str]:
    return visit.page.eval_on_selector_all("#ticket-list tbody tr", "rows => rows.map(r => r.dataset.protocol)")


def test_manager_follows_the_legal_deadline_and_the_agent_sees_it(visit: Visit, db, users):
    data = _data(db, users)
    overdue_id, overdue_protocol, overdue_due = data["overdue"]
    visit.login("gestor")

    # 1. the dashboard's card: one open ticket near the deadline, one past it; the number leads to its tickets
    visit.goto("/painel/", "70-legal-dashboard-card")
    card = visit.page.locator("#legal-deadline-card")
    assert "Prazo legal de resposta" in card.inner_text()
    assert card.locator("#legal-soon a").inner_text().strip() == "1"
    assert card.locator("#legal-overdue a").inner_text().strip() == "1"
    visit.submit("#legal-overdue a", "71-legal-overdue-list")
    assert "legal_due=overdue" in visit.page.url
    assert _protocols(visit) == [overdue_protocol]
    cell = visit.page.locator(f"tr[data-protocol='{overdue_protocol}'] td.atende-legal")
    assert overdue_due.strftime("%d/%m/%Y %H:%M") in cell.inner_text() and "vencido há 1 d" in cell.inner_text()

    # 2. the filter on the default list (last 7 days): "Vencendo" clears the opening period and finds the ticket
    visit.goto("/ticketview/list/", "72-legal-default-list")
    assert visit.page.locator("#ticket-list th", has_text="Prazo legal").count() == 1
    assert set(_protocols(visit)) == {data["soon"], data["fresh"]}
    visit.page.select_option("#flt-legal_due", "soon")
    assert visit.page.input_value("#flt-date_from") == ""
    visit.submit("#filter-submit", "73-legal-filter-soon")
    assert "legal_due=soon" in visit.page.url
    assert _protocols(visit) == [data["soon"]]
    assert re.search(r"vence em (23 h 5\d min|1 d 00 h)", visit.page.locator("td.atende-legal").inner_text())

    # 3. ordered by the legal deadline
    visit.page.select_option("#flt-legal_due", "")
    visit.page.select_option("#flt-order", "legal_due_at")
    visit.page.select_option("#flt-direction", "asc")
    visit.submit("#filter-submit", "74-legal-order")
    assert _protocols(visit) == [overdue_protocol, data["soon"], data["fresh"]]
    visit.assert_ptbr()

    # 4. the agent on the ticket's workspace
    visit.page.goto("/logout/")
    visit.suffix = "-atendente"
    visit.login("atendente")
    visit.goto(f"/ticketview/edit/{overdue_id}", "75-legal-workspace")
    line = visit.page.locator("#legal-deadline").inner_text()
    assert "Prazo legal de resposta" in line and overdue_due.strftime("%d/%m/%Y %H:%M") in line
    assert "vencido há 1 d" in line
    assert visit.page.locator("#legal-deadline .atende-legal-overdue").count() == 1
    visit.assert_ptbr()
