"""Ticket actions in a browser: the workspace offers only what applies; finalizing with an open OS asks about it."""
from __future__ import annotations

import pytest

from tests.e2e.test_browser import Visit, visit  # noqa: F401  (fixture)


def _action_buttons(visit: Visit) -> list[str]:
    return visit.page.eval_on_selector_all("#ticket-actions a[id^=action-]", "els => els.map(e => e.id)")


@pytest.mark.parametrize("role", ["atendente", "gestor"])
def test_agent_sees_only_what_applies_and_decides_about_open_orders(visit: Visit, db, users, role):
    from app.domain import actions, tickets
    from app.domain.service_orders import create_service_order
    from app.models import ServiceOrder, Ticket, TicketEvent
    from tests import factories

    agent = db.session.merge(users["atendente"])
    technician = db.session.merge(users["tecnico"])
    cancelled = factories.ticket(db.session, agent)
    actions.cancel(db.session, cancelled, agent, "Aberto por engano")
    draft = tickets.start_ticket(db.session, agent, customer=factories.customer(db.session, name="Rita Rascunho"))
    working = factories.ticket(db.session, agent, owner=factories.customer(db.session, name="Osvaldo Fibra"))
    order = create_service_order(db.session, ServiceOrder(ticket=working, technician=technician,
                                                          description="Trocar a ONU"), agent)
    db.session.commit()
    cancelled_id, draft_id, working_id, order_id = cancelled.id, draft.id, working.id, order.id

    visit.suffix = "" if role == "atendente" else f"-{role}"
    visit.login(role)
    visit.goto(f"/ticketview/edit/{cancelled_id}", "acoes-01-cancelado-sem-acoes")
    assert _action_buttons(visit) == [] and visit.page.locator("#ticket-actions").count() == 0
    assert visit.page.get_by_role("button", name="Salvar").count() == 0, "Salvar hidden by ws.actions['save']"

    visit.goto(f"/ticketview/edit/{draft_id}", "acoes-02-rascunho-so-o-que-se-aplica")
    assert _action_buttons(visit) == ["action-finalize", "action-cancel"]
    assert visit.page.get_by_role("button", name="Salvar").count() == 1

    visit.goto(f"/ticketview/edit/{working_id}", "acoes-03-atendimento-com-os")
    assert _action_buttons(visit) == ["action-finalize", "action-reiterate", "action-cancel"]
    visit.submit("#action-finalize", "acoes-04-finalizar-pergunta-as-os")
    question = visit.page.inner_text("#open-service-orders")
    assert "Este atendimento tem 1 ordem de serviço em aberto." in question
    assert str(order_id) in question and "Tecnico Teste" in question and "O que fazer com elas?" in question
    visit.page.fill("#closing_description", "ONU trocada na visita; cliente navegando.")
    visit.page.check("#service-orders-finalize")
    visit.page.screenshot(path=str(visit.folder / f"acoes-05-finalizar-as-os{visit.suffix}.png"), full_page=True)
    text = visit.submit("#action-form [type=submit]", "acoes-06-finalizado-no-workspace")
    assert visit.page.url.endswith(f"/ticketview/edit/{working_id}"), visit.page.url
    assert "Atendimento finalizado." in text
    assert _action_buttons(visit) == ["action-reopen"]

    db.session.expire_all()
    ticket = db.session.get(Ticket, working_id)
    assert ticket.status.category == "resolved" and ticket.closed_at is not None
    done = db.session.get(ServiceOrder, order_id)
    assert done.status == "done" and done.closing_notes == "ONU trocada na visita; cliente navegando."
    fields = [e.field for e in db.session.query(TicketEvent).filter(TicketEvent.ticket_id == working_id)]
    assert "service_order.status" in fields and "service_order.closing_notes" in fields and "status" in fields
    visit.assert_ptbr()
