"""The technician's day: which OS it shows, Iniciar / Finalizar / Reagendar and their history, scope and CSRF."""
from __future__ import annotations

import datetime as dt
import html
import re
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from tests import factories
from tests.support import session, user
from tests.test_service_order_list import _order, _row

DAY = dt.timedelta(days=1)


def text_of(response: Any) -> str:
    return html.unescape(response.get_data(as_text=True))


def _events(s: Any, ticket_id: int) -> list[tuple[str, str, str, str]]:
    return [tuple(row) for row in s.execute(sa.text(
        "SELECT field, old_value, new_value, note FROM ticket_event WHERE ticket_id = :t AND kind = 'service_order' "
        "ORDER BY id"), {"t": ticket_id})]


def _ticket(s: Any, agent: Any, name: str, description: str) -> Any:
    from app.domain import messages
    from app.models import TicketMessage

    customer = factories.customer(s, name)
    contract = factories.contract(s, customer)
    ticket = factories.ticket(s, agent, customer, contract=contract, opening_description=description)
    for body, internal in (("Cliente pede visita à tarde", False), ("Cliente inadimplente, cobrar", True),
                           ("Portão azul, tocar a campainha", False)):
        messages.add_message(s, TicketMessage(ticket=ticket, body=body, is_internal=internal), agent)
    s.commit()
    return ticket


@pytest.fixture
def field(app: Any) -> dict[str, Any]:
    """Orders of the technician "tecnico": today's, late, in progress, unscheduled, future, closed; one of tecnico2."""
    from app.domain.clock import now

    with session(app) as s:
        agent, tech, tech2 = user(s, "atendente"), user(s, "tecnico"), user(s, "tecnico2")
        today = dt.datetime.combine(now().date(), dt.time.min)
        ana = _ticket(s, agent, "Ana Souza", "Sem internet desde ontem")
        bruno = _ticket(s, agent, "Bruno Lima", "Wi-Fi cai toda noite")
        ids = {
            "today": _order(s, agent, ana, technician=tech, status="scheduled", description="Trocar o roteador",
                            scheduled_start=today + dt.timedelta(hours=8),
                            scheduled_end=today + dt.timedelta(hours=10)).id,
            "late": _order(s, agent, bruno, technician=tech, status="scheduled",
                           scheduled_start=today - DAY + dt.timedelta(hours=14),
                           scheduled_end=today - DAY + dt.timedelta(hours=16)).id,
            "in_progress": _order(s, agent, bruno, technician=tech, status="in_progress",
                                  scheduled_start=today - 3 * DAY).id,
            "unscheduled": _order(s, agent, ana, technician=tech).id,
            "future": _order(s, agent, ana, technician=tech, status="scheduled",
                             scheduled_start=today + DAY + dt.timedelta(hours=9)).id,
            "other": _order(s, agent, ana, technician=tech2, status="scheduled",
                            scheduled_start=today + dt.timedelta(hours=9)).id,
        }
        old = _order(s, agent, bruno, technician=tech, status="in_progress")
        old.status, old.closing_notes = "done", "Feito"
        from app.domain import service_orders

        service_orders.update_service_order(s, old, agent)
        old.closed_at = now() - 2 * DAY
        s.commit()
        ids["closed_before"] = old.id
        ids["ana"], ids["bruno"] = ana.id, bruno.id
        ids["protocol"] = ana.protocol
        ids["phone"] = ana.customer.phones[0].number
        return ids


# ---------------------------------------------------------------- the day


def test_day_holds_today_late_in_progress_and_unscheduled_orders_of_the_user_only(app, field):
    from app.domain.service_orders import technician_day

    with session(app) as s:
        cards = technician_day(s, user(s, "tecnico"))
        assert [(c.section, c.order.id) for c in cards] == [
            ("in_progress", field["in_progress"]), ("late", field["late"]),
            ("today", field["today"]), ("unscheduled", field["unscheduled"]),
        ]
        today = cards[2]
        assert today.actions == ["start", "reschedule"] and cards[0].actions == ["finish", "reschedule"]
        assert cards[1].late
        assert today.phones == [field["phone"]] and "Rua das Flores" in today.address
        assert [m.body for m in today.messages] == ["Cliente pede visita à tarde", "Portão azul, tocar a campainha"]
        assert technician_day(s, user(s, "tecnico2"))[0].order.id == field["other"]
        assert technician_day(s, user(s, "gestor")) == []


def test_day_page_shows_cards_with_phone_map_ticket_and_public_messages_only(app, login, field):
    page = text_of(login("tecnico").get("/tecnico/"))
    assert "Meu dia" in page
    shown = [int(v) for v in re.findall(r'data-order="(\d+)"', page)]
    assert shown == [field["in_progress"], field["late"], field["today"], field["unscheduled"]]
    card = re.search(r'<article[^>]*id="os-%d".*?</article>' % field["today"], page, re.S).group(0)
    for expected in ("Ana Souza", "Trocar o roteador", field["protocol"], "Sem internet desde ontem",
                     "Agendada", "08:00–10:00", "Portão azul, tocar a campainha", "Iniciar", "Reagendar"):
        assert expected in card, expected
    assert f'href="tel:+55{field["phone"]}"' in card
    assert re.search(r'href="https://www\.google\.com/maps/search/\?api=1&query=Rua%20das%20Flores[^"]*"', card)
    assert "inadimplente" not in page  # internal notes stay in the back office
    assert "Finalizar" in re.search(r'<article[^>]*id="os-%d".*?</article>' % field["in_progress"], page, re.S).group(0)
    assert "Em execução" in page and "Atrasadas" in page and "Sem data agendada" in page


def test_day_page_reads_cards_in_a_fixed_number_of_queries(app, login, field):
    from app.extensions import db

    client = login("tecnico")

    def statements() -> int:
        with app.app_context():
            engine = db.engine
        seen: list[str] = []
        listener = lambda *args: seen.append(args[2])  # noqa: E731
        event.listen(engine, "before_cursor_execute", listener)
        try:
            assert client.get("/tecnico/").status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        return len(seen)

    statements()
    few = statements()
    from app.domain.clock import now

    with session(app) as s:
        agent, tech = user(s, "atendente"), user(s, "tecnico")
        for index in range(8):
            ticket = _ticket(s, agent, f"Cliente Extra {index}", "Lento")
            _order(s, agent, ticket, technician=tech, status="scheduled", scheduled_start=now())
    assert statements() == few


def test_menu_and_home_lead_the_technician_to_the_day(app, login):
    page = login("tecnico").get("/tecnico/")
    assert page.status_code == 200
    assert 'href="/tecnico/"' in text_of(page)


@pytest.mark.parametrize("username, status", [("atendente", 403), ("gestor", 200), ("admin", 200)])
def test_who_opens_the_day(app, login, username, status):
    assert login(username).get("/tecnico/").status_code == status


# ---------------------------------------------------------------- Iniciar


def test_start_records_status_time_and_history(app, login, field):
    client = login("tecnico")
    response = client.post(f"/tecnico/os/{field['today']}/iniciar")
    assert response.status_code == 302 and response.headers["Location"].endswith("/tecnico/")
    page = text_of(client.get("/tecnico/"))
    assert re.search(r"OS %d iniciada às \d{2}:\d{2}" % field["today"], page)
    with session(app) as s:
        row = _row(s, field["today"])
        assert row["status"] == "in_progress" and row["started_at"] is not None
        events = _events(s, field["ana"])
        assert ("service_order.status", "Agendada", "Em execução", f"OS {field['today']}: Situação") in events
        assert events[-1] == ("service_order.started_at", None, row["started_at"].strftime("%d/%m/%Y %H:%M"),
                              f"OS {field['today']} iniciada")


def test_start_is_refused_twice_and_on_a_closed_order(app, field):
    from app.domain import service_orders
    from app.domain.errors import Conflict
    from app.models import ServiceOrder

    with session(app) as s:
        tech = user(s, "tecnico")
        with pytest.raises(Conflict, match="já está em execução"):
            service_orders.start_service_order(s, s.get(ServiceOrder, field["in_progress"]), tech)
        s.rollback()
        with pytest.raises(Conflict, match="OS já finalizada não aceita alterações"):
            service_orders.start_service_order(s, s.get(ServiceOrder, field["closed_before"]), tech)


# ---------------------------------------------------------------- Finalizar


def test_finish_requires_notes_and_a_started_order(app, field):
    from app.domain import service_orders
    from app.domain.errors import ValidationError
    from app.models import ServiceOrder

    with session(app) as s:
        tech = user(s, "tecnico")
        before = _row(s, field["in_progress"])
        with pytest.raises(ValidationError, match="observações de fechamento") as refused:
            service_orders.finish_service_order(s, s.get(ServiceOrder, field["in_progress"]), tech, "   ")
        assert refused.value.field == "closing_notes"
        s.rollback()
        with pytest.raises(ValidationError, match="Inicie a OS antes de finalizá-la"):
            service_orders.finish_service_order(s, s.get(ServiceOrder, field["today"]), tech, "Feito")
        s.rollback()
        assert _row(s, field["in_progress"]) == before


def test_finish_form_keeps_what_was_typed_when_refused(app, login, field):
    client = login("tecnico")
    page = text_of(client.post(f"/tecnico/os/{field['today']}/finalizar",
                               data={"closing_notes": "Troquei o conector óptico"}))
    assert "Inicie a OS antes de finalizá-la." in page
    assert re.search(r'<textarea[^>]*id="closing_notes"[^>]*>Troquei o conector óptico</textarea>', page)
    empty = text_of(client.post(f"/tecnico/os/{field['in_progress']}/finalizar", data={"closing_notes": ""}))
    assert "Para finalizar a OS informe as observações de fechamento." in empty and "has-error" in empty
    with session(app) as s:
        assert _row(s, field["in_progress"])["status"] == "in_progress"


def test_finish_records_end_notes_and_history(app, login, field):
    client = login("tecnico")
    response = client.post(f"/tecnico/os/{field['in_progress']}/finalizar",
                           data={"closing_notes": "Conector trocado, sinal -19 dBm"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/tecnico/")
    page = text_of(client.get("/tecnico/"))
    assert f"OS {field['in_progress']} finalizada." in page
    assert re.search(r'id="section-closed".*data-order="%d"' % field["in_progress"], page, re.S)
    with session(app) as s:
        row = _row(s, field["in_progress"])
        assert row["status"] == "done" and row["closed_at"] is not None
        assert row["closing_notes"] == "Conector trocado, sinal -19 dBm"
        events = _events(s, field["bruno"])
        assert ("service_order.closing_notes", None, "Conector trocado, sinal -19 dBm",
                f"OS {field['in_progress']}: Observações de fechamento") in events
        assert events[-1][0] == "service_order.closed_at" and events[-1][3] == f"OS {field['in_progress']} finalizada"
    detail = text_of(client.get(f"/tecnico/os/{field['in_progress']}"))
    assert f"OS {field['in_progress']} finalizada" in detail and "Iniciar" not in detail and "Reagendar" not in detail


# ---------------------------------------------------------------- Reagendar


def test_reschedule_requires_a_valid_window_and_a_reason(app, field):
    from app.domain import service_orders
    from app.domain.clock import now
    from app.domain.errors import ValidationError
    from app.models import ServiceOrder

    tomorrow = dt.datetime.combine(now().date() + DAY, dt.time(9))
    cases = [
        (None, tomorrow, "Cliente ausente", "Informe o novo início agendado", "scheduled_start"),
        (tomorrow, None, "Cliente ausente", "Informe o novo fim agendado", "scheduled_end"),
        (tomorrow, tomorrow - dt.timedelta(hours=1), "Cliente ausente", "fim agendado deve ser depois", "scheduled_end"),
        (tomorrow - 3 * DAY, tomorrow - 3 * DAY + dt.timedelta(hours=2), "Cliente ausente", "já passou",
         "scheduled_start"),
        (tomorrow, tomorrow + dt.timedelta(hours=2), "  ", "Informe o motivo do reagendamento", "reason"),
    ]
    with session(app) as s:
        tech = user(s, "tecnico")
        before, events = _row(s, field["today"]), _events(s, field["ana"])
        for start, end, reason, message, name in cases:
            with pytest.raises(ValidationError, match=message) as refused:
                service_orders.reschedule_service_order(s, s.get(ServiceOrder, field["today"]), tech, start, end, reason)
            assert refused.value.field == name
            s.rollback()
        assert _row(s, field["today"]) == before and _events(s, field["ana"]) == events


def test_reschedule_records_new_window_reason_and_history(app, login, field):
    from app.domain.clock import now

    day = (now().date() + 2 * DAY).strftime("%d/%m/%Y")
    client = login("tecnico")
    response = client.post(f"/tecnico/os/{field['in_progress']}/reagendar", data={
        "scheduled_start": f"{day} 13:00", "scheduled_end": f"{day} 15:30", "reason": "Falta o cabo drop"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/tecnico/")
    assert f"OS {field['in_progress']} reagendada para {day} 13:00–15:30." in text_of(client.get("/tecnico/"))
    with session(app) as s:
        row = _row(s, field["in_progress"])
        assert row["status"] == "scheduled"
        assert row["scheduled_start"].strftime("%d/%m/%Y %H:%M") == f"{day} 13:00"
        assert row["scheduled_end"].strftime("%d/%m/%Y %H:%M") == f"{day} 15:30"
        last = _events(s, field["bruno"])[-1]
        assert last[0] == "service_order.rescheduled" and last[2] == f"{day} 13:00–15:30"
        assert last[3] == f"OS {field['in_progress']} reagendada: Falta o cabo drop"


def test_reschedule_form_keeps_what_was_typed_when_refused(app, login, field):
    client = login("tecnico")
    page = text_of(client.post(f"/tecnico/os/{field['today']}/reagendar", data={
        "scheduled_start": "31/02/2030 25:00", "scheduled_end": "", "reason": "Chuva forte"}))
    assert "Novo início inválido: use dd/mm/aaaa hh:mm." in page
    assert 'value="31/02/2030 25:00"' in page and ">Chuva forte</textarea>" in page
    with session(app) as s:
        assert _row(s, field["today"])["status"] == "scheduled"


# ---------------------------------------------------------------- scope, CSRF, cancelled tickets


def test_another_technicians_order_is_a_404_and_stays_untouched(app, login, field):
    client = login("tecnico2")
    order_id = field["today"]
    with session(app) as s:
        before, events = _row(s, order_id), _events(s, field["ana"])
    assert client.get(f"/tecnico/os/{order_id}").status_code == 404
    assert client.get(f"/tecnico/os/{order_id}/finalizar").status_code == 404
    assert client.post(f"/tecnico/os/{order_id}/iniciar").status_code == 404
    assert client.post(f"/tecnico/os/{order_id}/finalizar", data={"closing_notes": "x"}).status_code == 404
    assert client.post(f"/tecnico/os/{order_id}/reagendar", data={
        "scheduled_start": "01/01/2099 08:00", "scheduled_end": "01/01/2099 09:00", "reason": "x"}).status_code == 404
    assert client.get("/tecnico/os/999999").status_code == 404
    assert client.get("/tecnico/os/99999999999999999999999").status_code == 404
    with session(app) as s:
        assert _row(s, order_id) == before and _events(s, field["ana"]) == events


def test_domain_refuses_another_technician(app, field):
    from app.domain import service_orders
    from app.domain.errors import NotAllowed
    from app.models import ServiceOrder

    with session(app) as s:
        order = s.get(ServiceOrder, field["today"])
        with pytest.raises(NotAllowed, match="não está atribuída a você"):
            service_orders.start_service_order(s, order, user(s, "tecnico2"))
        s.rollback()
        assert service_orders.visible_service_order(s, user(s, "tecnico2"), field["today"]) is None
        assert service_orders.visible_service_order(s, user(s, "gestor"), field["today"]).id == field["today"]


def test_post_without_csrf_token_changes_nothing(app, login, field):
    client = login("tecnico")
    response = client.client.post(f"/tecnico/os/{field['today']}/iniciar")
    assert response.status_code == 400
    with session(app) as s:
        assert _row(s, field["today"])["status"] == "scheduled"


def test_cancelled_ticket_offers_no_action_and_refuses_them(app, login, field):
    from app.models import Ticket

    with session(app) as s:
        cancelled = factories.status(s, "cancelled")
        s.execute(sa.update(Ticket).where(Ticket.id == field["ana"]).values(status_id=cancelled.id))
        s.commit()
    client = login("tecnico")
    card = re.search(r'<article[^>]*id="os-%d".*?</article>' % field["today"],
                     text_of(client.get("/tecnico/")), re.S).group(0)
    assert "Iniciar" not in card and "Reagendar" not in card
    client.post(f"/tecnico/os/{field['today']}/iniciar")
    assert "Atendimento cancelado não aceita alterações." in text_of(client.get("/tecnico/"))
    with session(app) as s:
        assert _row(s, field["today"])["status"] == "scheduled"


# ---------------------------------------------------------------- "Minhas OS"


def test_my_orders_lead_the_technician_to_the_field_page(app, login, field):
    client = login("tecnico")
    page = text_of(client.get("/myserviceorderview/list/?date_field=opened"))
    assert f'href="/tecnico/os/{field["today"]}"' in page
    assert "/myserviceorderview/edit/" not in page
    response = client.get(f"/myserviceorderview/edit/{field['today']}")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/tecnico/os/{field['today']}")
    assert client.get(f"/myserviceorderview/edit/{field['other']}").status_code == 404
    assert client.post(f"/myserviceorderview/edit/{field['other']}", data={"status": "cancelled"}).status_code == 404
    assert client.get("/myserviceorderview/edit/abc").status_code == 404


def test_my_orders_keep_the_edit_form_for_other_roles(app, login, field):
    from app.models import ServiceOrder

    with session(app) as s:
        s.execute(sa.update(ServiceOrder).where(ServiceOrder.id == field["future"]).values(
            technician_id=user(s, "gestor").id))
        s.commit()
    client = login("gestor")
    page = text_of(client.get("/myserviceorderview/list/?date_field=opened"))
    assert f"/myserviceorderview/edit/{field['future']}" in page and "/tecnico/os/" not in page
    assert client.get(f"/myserviceorderview/edit/{field['future']}").status_code == 200
