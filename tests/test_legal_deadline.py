"""R24: the legal answer deadline (7 calendar days from registration) through every door, in the list, its filter,
the export, the workspace and the manager's dashboard card."""
from __future__ import annotations

import datetime as dt
import html
import re
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select

from app.domain.clock import now
from app.models import Ticket
from tests import factories
from tests.support import session, user
from tests.test_rules import load_ticket, ticket_form

WEEK = dt.timedelta(days=7)


def text(response: Any) -> str:
    return html.unescape(response.get_data(as_text=True))


def deadline(app: Any, pk: int) -> tuple[Any, Any, Any]:
    with session(app) as s:
        row = s.execute(sa.text("SELECT opened_at, registered_at, legal_due_at FROM ticket WHERE id = :id"),
                        {"id": pk}).one()
        t = s.get(Ticket, pk)
        return t.opened_at, t.registered_at, t.legal_due_at


def assert_registered_between(app: Any, pk: int, before: dt.datetime, after: dt.datetime) -> None:
    _opened, registered, due = deadline(app, pk)
    assert registered is not None and before <= registered <= after, (before, registered, after)
    assert due == registered + WEEK


# ---------------------------------------------------------------- every door that registers


def test_a_draft_has_no_deadline_and_saving_it_starts_one_from_the_registration(app, monkeypatch):
    """A draft started two days ago and registered now: 7 days from now, not from its start; the SLA is apart."""
    from app.domain import tickets

    with session(app) as s:
        agent = user(s, "atendente")
        draft = tickets.start_ticket(s, agent, customer=factories.customer(s))
        draft.opened_at = dt.datetime(2026, 3, 10, 9, 0)
        s.commit()
        assert (draft.registered_at, draft.legal_due_at) == (None, None)
        pk = draft.id

    registration = dt.datetime(2026, 3, 12, 16, 45)
    monkeypatch.setattr(tickets, "now", lambda: registration)
    with session(app) as s:
        agent, subject, t = user(s, "atendente"), factories.subject(s, sla_hours=4), load_ticket(s, pk)
        t.subject, t.opening_description, t.is_draft = subject, "Sem conexão", False
        tickets.update_ticket(s, t, agent)
        s.commit()
    opened, registered, due = deadline(app, pk)
    assert opened == dt.datetime(2026, 3, 10, 9, 0)
    assert registered == registration and due == dt.datetime(2026, 3, 19, 16, 45)


def test_the_deadline_is_never_moved_by_later_changes(app):
    from app.domain import tickets

    with session(app) as s:
        agent = user(s, "atendente")
        t = factories.ticket(s, agent, opened_at=dt.datetime(2026, 3, 1, 8, 0))
        assert (t.registered_at, t.legal_due_at) == (dt.datetime(2026, 3, 1, 8, 0), dt.datetime(2026, 3, 8, 8, 0))
        subject, pending = factories.subject(s, sla_hours=72), factories.status(s, "pending")
        agent = user(s, "atendente")
        t.subject, t.status = subject, pending
        tickets.update_ticket(s, t, agent)
        s.commit()
        assert t.due_at == dt.datetime(2026, 3, 4, 8, 0), "the subject's SLA moved"
        assert t.legal_due_at == dt.datetime(2026, 3, 8, 8, 0), "the legal deadline did not"


def test_registered_by_the_agent_form(app, login, users):
    from tests.test_agent import start

    with session(app) as s:
        customer_id, subject_id = factories.customer(s).id, factories.subject(s).id
        s.commit()
    client = login("atendente")
    pk = start(client, customer_id)
    assert deadline(app, pk)[1:] == (None, None)
    with session(app) as s:
        form = ticket_form(load_ticket(s, pk), subject=subject_id, opening_description="Sem sinal")
    before = now()
    response = client.post(f"/ticketview/edit/{pk}", data=form)
    assert response.status_code == 302
    assert_registered_between(app, pk, before, now())


def test_registered_through_the_api_at_once_or_from_a_draft(app, api, users):
    with session(app) as s:
        customer_id, subject_id = factories.customer(s).id, factories.subject(s).id
        s.commit()
    client = api("atendente")
    before = now()
    created = client.post("/api/v1/ticket/", json={"customer": customer_id, "subject": subject_id,
                                                   "opening_description": "Sem sinal", "is_draft": False})
    assert created.status_code == 201, created.json
    assert_registered_between(app, created.json["id"], before, now())
    shown = client.get(f"/api/v1/ticket/{created.json['id']}").json["result"]
    assert dt.datetime.fromisoformat(shown["legal_due_at"]) == dt.datetime.fromisoformat(shown["registered_at"]) + WEEK

    draft = client.post("/api/v1/ticket/", json={"customer": customer_id, "subject": subject_id, "is_draft": True,
                                                 "opening_description": "Rascunho"})
    assert draft.status_code == 201 and deadline(app, draft.json["id"])[1:] == (None, None)
    before = now()
    saved = client.put(f"/api/v1/ticket/{draft.json['id']}", json={"is_draft": False, "version": 1})
    assert saved.status_code == 200, saved.json
    assert_registered_between(app, draft.json["id"], before, now())


def test_registered_through_the_portal(app, users):
    from app.domain import tickets
    from app.extensions import appbuilder

    with session(app) as s:
        subscriber = appbuilder.sm.find_user(username="assinante")
        customer = factories.customer(s, portal_user=subscriber)
        subject = factories.subject(s, portal_available=True)
        before = now()
        ticket = tickets.open_portal_ticket(s, subscriber, customer, subject, description="Internet caiu")
        s.commit()
        pk = ticket.id
    assert_registered_between(app, pk, before, now())


# ---------------------------------------------------------------- the list filter, on a hand-built data set

NOW = dt.datetime(2026, 3, 20, 15, 0)
# key: registration (hours before NOW), status category, closed (hours before NOW) — legal deadline = +168 h
DATA = {
    "overdue": (8 * 24, "new", None),            # due 1 day ago
    "overdue_pending": (9 * 24, "pending", None),  # due 2 days ago
    "soon": (6 * 24, "in_progress", None),       # due in 24 h
    "edge": (5 * 24, "new", None),               # due in exactly 48 h: not yet "vencendo"
    "later": (5 * 24 - 1, "new", None),          # due in 49 h
    "fresh": (24, "new", None),                  # due in 6 days
    "late": (10 * 24, "resolved", 2 * 24),       # answered 1 day after its deadline
    "in_time": (10 * 24, "resolved", 9 * 24),    # answered in time
    "cancelled": (10 * 24, "cancelled", 9 * 24),
    "draft": (10 * 24, "new", None),             # a draft: no deadline
}


@pytest.fixture
def legal(app: Any, users: Any) -> dict[str, str]:
    with session(app) as s:
        agent = user(s, "atendente")
        made = {}
        for key, (age, category, closed) in DATA.items():
            opened = NOW - dt.timedelta(hours=age)
            t = factories.ticket(s, agent, status=factories.status(s, category), opened_at=opened,
                                 closed_at=NOW - dt.timedelta(hours=closed) if closed else None,
                                 closing_description="Resolvido" if category == "resolved" else None,
                                 assignees=[agent], is_draft=key == "draft")
            made[key] = t.protocol
        s.commit()
        return made


def selected(app: Any, query: str, when: dt.datetime = NOW) -> set[str]:
    from werkzeug.datastructures import MultiDict

    from app.domain.ticket_filters import TICKET_CRITERIA

    with app.test_request_context("/"), session(app) as s:
        selection = TICKET_CRITERIA.parse(MultiDict(parse_qsl(query)))
        assert not selection.errors, selection.errors
        return set(s.scalars(select(Ticket.protocol).where(*TICKET_CRITERIA.conditions(selection.values, when))))


def test_the_filter_selects_exactly_near_past_and_answered_late(app, legal):
    p = legal
    assert selected(app, "legal_due=soon") == {p["soon"]}
    assert selected(app, "legal_due=overdue") == {p["overdue"], p["overdue_pending"]}
    assert selected(app, "legal_due=answered_late") == {p["late"]}
    assert selected(app, "legal_due=overdue&status_category=pending") == {p["overdue_pending"]}
    with session(app) as s:
        s.execute(sa.text("UPDATE general_parameters SET legal_warning_hours = 72"))
        s.commit()
    assert selected(app, "legal_due=soon") == {p["soon"], p["edge"], p["later"]}
    assert selected(app, "legal_due=soon", NOW + dt.timedelta(hours=1)) == {p["soon"], p["edge"], p["later"]}
    assert selected(app, "legal_due=overdue", NOW + dt.timedelta(hours=24)) == {p["overdue"], p["overdue_pending"]}
    assert selected(app, "legal_due=overdue", NOW + dt.timedelta(hours=25)) == {
        p["overdue"], p["overdue_pending"], p["soon"]}


def test_a_value_that_is_not_an_option_is_reported_and_ignored(app, legal):
    from werkzeug.datastructures import MultiDict

    from app.domain.ticket_filters import TICKET_CRITERIA

    with app.test_request_context("/"):
        selection = TICKET_CRITERIA.parse(MultiDict({"legal_due": "vencido"}))
    assert selection.values == {} and "Prazo legal" in selection.errors[0]


def test_the_list_page_filters_shows_the_column_and_sorts_by_it(app, login, users):
    """On the real clock: a Gestor filters "Prazo legal", sees the column and orders by the deadline."""
    moment = now()
    with session(app) as s:
        agent = user(s, "atendente")
        made = {key: factories.ticket(s, agent, opened_at=moment - dt.timedelta(hours=hours)).protocol
                for key, hours in (("overdue", 200), ("soon", 150), ("fresh", 2))}
        s.commit()
    client = login("gestor")
    page = text(client.get("/ticketview/list/?date_from=&legal_due=overdue"))
    assert re.findall(r'data-protocol="(\d+)"', page) == [made["overdue"]]
    assert '<option value="overdue" selected>Vencido</option>' in page and "Prazo legal" in page
    assert 'data-legal-state="overdue"' in page and "vencido há 1 d 08 h" in page

    page = text(client.get("/ticketview/list/?date_from=&legal_due=soon"))
    assert re.findall(r'data-protocol="(\d+)"', page) == [made["soon"]]
    assert 'data-legal-state="soon"' in page and re.search(r"vence em (17 h 5\d|18 h 00) min", page)

    page = text(client.get("/ticketview/list/?date_from=&order=legal_due_at&direction=asc"))
    assert re.findall(r'data-protocol="(\d+)"', page) == [made["overdue"], made["soon"], made["fresh"]]
    assert '<option value="legal_due_at" selected>Prazo legal</option>' in page


def test_the_export_follows_the_filter_with_the_deadline_columns(app, legal):
    from urllib.parse import parse_qs

    from app.domain import ticket_exports

    with app.test_request_context("/"), session(app) as s:
        export = ticket_exports.build_ticket_export(
            s, user(s, "gestor"), parse_qs("date_from=&legal_due=answered_late", keep_blank_values=True))
        headers = [column.header for column in export.columns]
        rows = [dict(zip(headers, row)) for row in export.rows]
    assert "Prazo legal" in headers and "Situação do prazo legal" in headers
    assert [(r["Protocolo"], r["Prazo legal"], r["Situação do prazo legal"]) for r in rows] == [
        (legal["late"], NOW - dt.timedelta(hours=10 * 24) + WEEK, "respondido fora do prazo")]


# ---------------------------------------------------------------- the workspace


def test_the_agent_sees_the_deadline_and_its_state_on_the_workspace(app, login, users):
    moment = now()
    with session(app) as s:
        agent = user(s, "atendente")
        fresh = factories.ticket(s, agent, opened_at=moment - dt.timedelta(hours=1))
        late = factories.ticket(s, agent, opened_at=moment - dt.timedelta(days=9))
        draft = factories.ticket(s, agent, is_draft=True)
        s.commit()
        fresh_id, fresh_due, late_id, draft_id = fresh.id, fresh.legal_due_at, late.id, draft.id
    client = login("atendente")
    page = text(client.get(f"/ticketview/edit/{fresh_id}"))
    line = re.search(r'<p id="legal-deadline".*?</p>', page, re.S).group(0)
    assert "Prazo legal de resposta" in line and fresh_due.strftime("%d/%m/%Y %H:%M") in line
    assert re.search(r"vence em 6 d 2[23] h", line) and 'data-legal-state="ok"' in line
    line = re.search(r'<p id="legal-deadline".*?</p>', text(client.get(f"/ticketview/edit/{late_id}")), re.S).group(0)
    assert "vencido há 2 d 00 h" in line and 'data-legal-state="overdue"' in line
    line = re.search(r'<p id="legal-deadline".*?</p>', text(client.get(f"/ticketview/edit/{draft_id}")), re.S).group(0)
    assert "começa a contar quando o atendimento for salvo" in line


def test_situation_texts():
    from app.domain.legal_deadline import situation

    words = {"days": "%(days)d d %(hours)02d h", "hours": "%(hours)d h %(minutes)02d min", "minutes": "%(minutes)d min",
             "due_in": "vence em %(time)s", "overdue_for": "vencido há %(time)s", "answered": "no prazo",
             "answered_late": "fora do prazo", "draft": "rascunho", "cancelled": "cancelado"}
    due = NOW + dt.timedelta(hours=30)
    assert situation(due, "new", None, NOW, 48, words) == {"text": "vence em 1 d 06 h", "state": "soon"}
    assert situation(due, "new", None, NOW, 24, words)["state"] == "ok"
    assert situation(NOW - dt.timedelta(minutes=5), "pending", None, NOW, 48, words) == {
        "text": "vencido há 5 min", "state": "overdue"}
    assert situation(NOW, "resolved", NOW + dt.timedelta(seconds=1), NOW, 48, words)["state"] == "missed"
    assert situation(NOW, "resolved", NOW, NOW, 48, words)["state"] == "met"
    assert situation(NOW, "cancelled", NOW, NOW, 48, words)["state"] == "cancelled"
    assert situation(None, "new", None, NOW, 48, words) == {"text": "rascunho", "state": "none"}


# ---------------------------------------------------------------- the dashboard card

START, END = dt.date(2026, 3, 1), dt.date(2026, 3, 20)


def linked(app: Any, url: str) -> set[str]:
    assert url.startswith("/ticketview/list/?"), url
    return selected(app, urlsplit(url).query)


def test_the_dashboard_card_counts_near_past_and_answered_late_and_links_to_them(app, legal):
    from app.domain.dashboard import manager_dashboard

    with app.test_request_context("/"), session(app) as s:
        card = manager_dashboard(s, user(s, "gestor"), START, END, NOW)["legal"]
    assert card["hours"] == 48
    assert {key: card[key]["value"] for key in ("soon", "overdue", "answered_late")} == {
        "soon": 1, "overdue": 2, "answered_late": 1}
    assert dict(parse_qsl(urlsplit(card["soon"]["url"]).query)) == {"legal_due": "soon", "draft": "0"}
    assert dict(parse_qsl(urlsplit(card["overdue"]["url"]).query)) == {"legal_due": "overdue", "draft": "0"}
    assert dict(parse_qsl(urlsplit(card["answered_late"]["url"]).query)) == {
        "legal_due": "answered_late", "date_field": "closed", "date_from": "2026-03-01", "date_to": "2026-03-20",
        "status_category": "resolved", "draft": "0"}
    assert linked(app, card["soon"]["url"]) == {legal["soon"]}
    assert linked(app, card["overdue"]["url"]) == {legal["overdue"], legal["overdue_pending"]}
    assert linked(app, card["answered_late"]["url"]) == {legal["late"]}

    with app.test_request_context("/"), session(app) as s:
        outside = manager_dashboard(s, user(s, "gestor"), dt.date(2026, 3, 1), dt.date(2026, 3, 17), NOW)["legal"]
        technician = manager_dashboard(s, user(s, "tecnico"), START, END, NOW)["legal"]
    assert outside["answered_late"]["value"] == 0, "answered on 18/03, outside the period"
    assert (outside["soon"]["value"], outside["overdue"]["value"]) == (1, 2), "open ones do not depend on it"
    assert [technician[key]["value"] for key in ("soon", "overdue", "answered_late")] == [0, 0, 0]


def test_the_dashboard_page_shows_the_card(app, legal, login):
    page = text(login("gestor").get("/painel/?date_from=01/03/2026&date_to=20/03/2026"))
    card = re.search(r'<div class="panel panel-default" id="legal-deadline-card">.*?</div>\s*</div>\s*</div>',
                     page, re.S).group(0)
    assert "Prazo legal de resposta" in card and "menos de 48 h" in card
    assert 'href="/ticketview/list/?legal_due=overdue&draft=0"' in card
    assert 'href="/ticketview/list/?legal_due=soon&draft=0"' in card


@pytest.mark.parametrize("hours,saved", [("72", 72), ("0", 48), ("169", 48)])
def test_the_warning_is_a_general_parameter_from_1_to_168_hours(app, login, hours, saved):
    with session(app) as s:
        params_id = s.scalar(sa.text("SELECT id FROM general_parameters"))
    response = login("admin").post(f"/generalparametersview/edit/{params_id}", data={
        "reopen_window_hours": "72", "default_list_days": "7", "legal_warning_hours": hours,
        "attachment_max_mb": "10", "attachment_extensions": "pdf"}, follow_redirects=True)
    with session(app) as s:
        assert s.scalar(sa.text("SELECT legal_warning_hours FROM general_parameters")) == saved
    if saved == 48:
        assert "O alerta do prazo legal deve ser de 1 a 168 horas." in text(response)
