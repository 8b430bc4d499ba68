"""The manager's ticket list: seed 000's filters, ordering, paging, and the mass actions (R13, R14)."""
from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from sqlalchemy import func, select

from app.domain.clock import now
from app.models import (
    Channel,
    City,
    ClosingReason,
    CustomerGroup,
    Department,
    Priority,
    ServiceOrder,
    ServiceOrderType,
    Ticket,
    TicketEvent,
)
from tests import factories
from tests.support import session, user


def protocols_on(page: str) -> list[str]:
    return re.findall(r'data-protocol="(\d+)"', page)


def matching(app: Any, query: str) -> set[str]:
    """Protocols the ticket criteria select for a query string, straight from the domain."""
    from urllib.parse import parse_qsl

    from werkzeug.datastructures import MultiDict

    from app.domain.ticket_filters import TICKET_CRITERIA

    with app.test_request_context("/"), session(app) as s:
        selection = TICKET_CRITERIA.parse(MultiDict(parse_qsl(query, keep_blank_values=True)))
        assert not selection.errors, selection.errors
        conditions = TICKET_CRITERIA.conditions(selection.values, now())
        return set(s.scalars(select(Ticket.protocol).where(*conditions)))


@pytest.fixture
def data(app: Any, users: Any) -> dict[str, Any]:
    """A small ISP day: tickets spread over statuses, places, people and dates."""
    with session(app) as s:
        me, other, tech = user(s, "atendente"), user(s, "atendente2"), user(s, "tecnico")
        moment = now()
        poa = City(name="Porto Alegre", state="RS")
        canoas = City(name="Canoas", state="RS")
        group = CustomerGroup(name="Empresarial")
        s.add_all([poa, canoas, group])
        s.flush()
        support = s.scalar(select(Department).order_by(Department.id))
        billing = Department(name="Financeiro")
        whatsapp = Channel(name="WhatsApp Teste")
        high = Priority(name="Alta Teste", level=9)
        reason = s.scalar(select(ClosingReason).order_by(ClosingReason.id))
        os_type = s.scalar(select(ServiceOrderType).order_by(ServiceOrderType.id))
        s.add_all([billing, whatsapp, high])
        s.flush()
        no_signal = factories.subject(s, "Sem sinal", sla_hours=4)
        invoice = factories.subject(s, "Segunda via", sla_hours=48)
        company = factories.customer(s, "Padaria Central", group=group)
        person = factories.customer(s, "Maria Souza")
        poa_contract = factories.contract(s, company)
        poa_contract.city = poa
        canoas_contract = factories.contract(s, person)
        canoas_contract.city = canoas
        s.flush()
        pending = factories.status(s, "pending")
        resolved = factories.status(s, "resolved")
        t = {}
        t["overdue"] = factories.ticket(s, me, company, subject=no_signal, contract=poa_contract,
                                        department=support, channel=whatsapp, priority=high,
                                        assignees=[me], opened_at=moment - dt.timedelta(hours=10))
        t["today"] = factories.ticket(s, other, person, subject=no_signal, contract=canoas_contract,
                                      department=billing, assignees=[other], opened_at=moment - dt.timedelta(hours=1),
                                      opening_description="Roteador reiniciando sozinho")
        t["week"] = factories.ticket(s, me, person, subject=invoice, contract=canoas_contract, status=pending,
                                     assignees=[me, other], opened_at=moment - dt.timedelta(days=1))
        t["closed"] = factories.ticket(s, me, company, subject=invoice, opened_at=moment - dt.timedelta(days=3))
        t["closed"].status = resolved
        t["closed"].closing_description = "Boleto enviado"
        t["closed"].closing_reason = reason
        t["closed"].rating = 5
        from app.domain import tickets as ticket_rules

        ticket_rules.update_ticket(s, t["closed"], me)
        t["old"] = factories.ticket(s, me, person, subject=invoice, opened_at=moment - dt.timedelta(days=40))
        t["draft"] = factories.ticket(s, me, person, is_draft=True, opened_at=moment - dt.timedelta(hours=2))
        s.flush()
        t["today"].due_at = dt.datetime.combine(moment.date(), dt.time(23, 59))
        if t["today"].due_at <= moment:
            t["today"].due_at = moment + dt.timedelta(minutes=30)
        monday = dt.datetime.combine(moment.date() - dt.timedelta(days=moment.weekday()), dt.time())
        t["week"].due_at = max(moment + dt.timedelta(hours=1), monday + dt.timedelta(days=6, hours=20))
        if t["week"].due_at.date() == moment.date():
            t["week"].due_at = monday + dt.timedelta(days=6, hours=23)
        t["overdue"].due_at = moment - dt.timedelta(hours=6)
        t["draft"].due_at = moment + dt.timedelta(days=10)
        s.add(ServiceOrder(ticket=t["overdue"], type=os_type, status="open", technician=tech, opened_at=moment,
                           created_by=me))
        s.add(ServiceOrder(ticket=t["week"], type=os_type, status="done", opened_at=moment, created_by=me))
        s.commit()
        ids = {
            "support": support.id, "billing": billing.id, "whatsapp": whatsapp.id, "high": high.id,
            "reason": reason.id, "os_type": os_type.id, "poa": poa.id, "canoas": canoas.id, "group": group.id,
            "no_signal": no_signal.id, "invoice": invoice.id, "company": company.id, "me": me.id, "other": other.id,
            "pending": pending.id,
        }
        return {"p": {key: value.protocol for key, value in t.items()}, "id": {key: v.id for key, v in t.items()},
                **ids}


def test_every_filter_of_seed_000_selects_the_right_tickets(app, data):
    p, d = data["p"], data
    everything = set(p.values())
    cases = {
        "": everything,
        f"status={d['pending']}": {p["week"]},
        "status_category=open": everything - {p["closed"]},
        "status_category=resolved": {p["closed"]},
        f"subject={d['no_signal']}": {p["overdue"], p["today"]},
        f"subject={d['no_signal']},{d['invoice']}": everything - {p["draft"]},
        f"channel={d['whatsapp']}": {p["overdue"]},
        f"department={d['billing']}": {p["today"]},
        f"priority={d['high']}": {p["overdue"]},
        f"assignee={d['other']}": {p["today"], p["week"]},
        f"opened_by={d['other']}": {p["today"]},
        f"closing_reason={d['reason']}": {p["closed"]},
        f"service_order_type={d['os_type']}": {p["overdue"], p["week"]},
        "open_service_orders=1": {p["overdue"]},
        "open_service_orders=0": everything - {p["overdue"]},
        # a customer's only contract is filled in on the ticket (R7): the city follows it
        f"city={d['poa']}": {p["overdue"], p["closed"]},
        f"city={d['canoas']}": {p["today"], p["week"], p["old"], p["draft"]},
        f"customer_group={d['group']}": {p["overdue"], p["closed"]},
        f"customer={d['company']}": {p["overdue"], p["closed"]},
        "due_window=overdue": {p["overdue"], p["old"]},
        "due_window=today": {p["today"]},
        "draft=1": {p["draft"]},
        "type=customer": everything,
        "type=site": set(),
        "draft=0": everything - {p["draft"]},
        "rating=5": {p["closed"]},
        f"protocol={p['old']}": {p["old"]},
        "text=roteador": {p["today"]},
        "text=padaria": {p["overdue"], p["closed"]},
        "date_field=opened&date_from=" + (now() - dt.timedelta(days=2)).strftime("%d/%m/%Y"):
            everything - {p["closed"], p["old"]},
        "date_field=closed&date_from=" + now().strftime("%d/%m/%Y"): {p["closed"]},
        "date_field=opened&date_to=" + (now() - dt.timedelta(days=30)).strftime("%d/%m/%Y"): {p["old"]},
    }
    for query, expected in cases.items():
        assert matching(app, query) == expected, query
    week = matching(app, "due_window=week")
    assert p["week"] in week and p["overdue"] not in week and p["closed"] not in week


def test_four_filters_combine_on_the_page_and_survive_paging(app, login, data):
    client = login("gestor")
    d, p = data, data["p"]
    query = (f"date_from=&subject={d['no_signal']},{d['invoice']}&status_category=open"
             f"&assignee={d['me']}&open_service_orders=0")
    page = client.get(f"/ticketview/list/?{query}").get_data(as_text=True)
    assert set(protocols_on(page)) == {p["week"]}
    assert "1 registro" in page
    with session(app) as s:
        me = user(s, "atendente")
        extra = [factories.ticket(s, me, subject=s.get(type(s.get(Ticket, d["id"]["week"]).subject), d["invoice"]),
                                  assignees=[me]) for _ in range(24)]
        s.commit()
    first = client.get(f"/ticketview/list/?{query}").get_data(as_text=True)
    assert "25 registros" in first and len(protocols_on(first)) == 20
    next_link = re.search(r'href="([^"]+)" rel="next"', first).group(1).replace("&amp;", "&")
    assert "assignee=" in next_link and "status_category=open" in next_link and "page=2" in next_link
    second = client.get(next_link).get_data(as_text=True)
    assert len(protocols_on(second)) == 5
    assert not set(protocols_on(first)) & set(protocols_on(second))


def test_repeated_values_are_joined_and_bad_values_are_reported(app, login, data):
    client = login("gestor")
    joined = client.get(f"/ticketview/list/?status={data['pending']}&status=999&date_from=")
    location = joined.headers["Location"].replace("%2C", ",")
    assert joined.status_code == 302 and f"status={data['pending']},999" in location
    page = client.get("/ticketview/list/?date_from=31/02/2026&draft=talvez", follow_redirects=True).get_data(as_text=True)
    assert "Filtro “Data inicial”: valor inválido" in page and "Filtro “Rascunho”: valor inválido" in page
    assert set(protocols_on(page)) == set(data["p"].values())


def test_order_is_the_chosen_column_then_total(app, login, data):
    client = login("gestor")
    page = client.get("/ticketview/list/?date_from=&order=protocol&direction=asc").get_data(as_text=True)
    assert protocols_on(page) == sorted(data["p"].values())
    page = client.get("/ticketview/list/?date_from=&order=opened_at&direction=desc").get_data(as_text=True)
    with session(app) as s:
        expected = list(s.scalars(select(Ticket.protocol).order_by(Ticket.opened_at.desc(), Ticket.id.desc())))
    assert protocols_on(page) == expected


def test_list_shows_status_colour_remaining_time_and_overdue_highlight(app, login, data):
    page = login("gestor").get("/ticketview/list/?date_from=").get_data(as_text=True)
    row = re.search(r'<tr class="([^"]*)" data-protocol="%s">(.*?)</tr>' % data["p"]["overdue"], page, re.S)
    assert "atende-sla-overdue" in row.group(1) and "Vencido há" in row.group(2)
    assert "background-color: #" in row.group(2) and "Padaria Central" in row.group(2)
    assert ">1/1<" in row.group(2)  # one open OS of one
    draft = re.search(r'data-protocol="%s">(.*?)</tr>' % data["p"]["draft"], page, re.S).group(1)
    assert "Rascunho" in draft


def history_count(app: Any, ticket_id: int, field: str | None = None) -> int:
    with session(app) as s:
        query = select(func.count(TicketEvent.id)).where(TicketEvent.ticket_id == ticket_id)
        if field:
            query = query.where(TicketEvent.field == field)
        return s.scalar(query)


def test_mass_edit_applies_chosen_fields_with_one_history_entry_per_ticket(app, login, data):
    client = login("gestor")
    ids = [data["id"]["overdue"], data["id"]["today"], data["id"]["closed"]]
    form = client.post("/ticketview/mass_edit/", data={"rowid": ids})
    assert form.status_code == 200 and "3 atendimentos selecionados" in form.get_data(as_text=True)
    before = {i: history_count(app, i, "department") for i in ids}
    response = client.post("/ticketview/mass_edit/", data={
        "rowid": ids, "confirm": "1", "change_department": "1", "department": data["billing"],
        "assignees_add": [data["other"]], "back": "/ticketview/list/?date_from=",
    }, follow_redirects=True)
    text = response.get_data(as_text=True)
    assert "3 atendimentos alterados" in text
    with session(app) as s:
        for ticket_id in ids:
            ticket = s.get(Ticket, ticket_id)
            assert ticket.department_id == data["billing"]
            assert data["other"] in {u.id for u in ticket.assignees}
    assert history_count(app, data["id"]["overdue"], "department") == before[data["id"]["overdue"]] + 1
    assert history_count(app, data["id"]["overdue"], "assignees") >= 1


def test_mass_edit_refuses_per_ticket_by_protocol_and_changes_nothing_on_them(app, login, data):
    client = login("gestor")
    with session(app) as s:
        resolved = factories.status(s, "resolved").id
    ids = [data["id"]["overdue"], data["id"]["closed"]]
    text = client.post("/ticketview/mass_edit/", data={
        "rowid": ids, "confirm": "1", "change_status": "1", "status": resolved,
    }, follow_redirects=True).get_data(as_text=True)
    # an open ticket cannot be resolved without closing description (R9): refused, reported by protocol
    assert data["p"]["overdue"] in text and "recusado" in text
    with session(app) as s:
        assert s.get(Ticket, data["id"]["overdue"]).status.category == "new"


def test_mass_edit_without_a_chosen_field_says_so(app, login, data):
    text = login("gestor").post("/ticketview/mass_edit/", data={"rowid": [data["id"]["overdue"]], "confirm": "1"},
                                follow_redirects=True).get_data(as_text=True)
    assert "Escolha ao menos um campo para alterar." in text


def test_mass_close_finalizes_open_tickets_and_reports_the_rest(app, login, data):
    client = login("gestor")
    ids = [data["id"]["overdue"], data["id"]["week"], data["id"]["closed"]]
    empty = client.post("/ticketview/mass_close/", data={"rowid": ids, "confirm": "1", "closing_description": " "})
    assert "Informe a descrição do fechamento." in empty.get_data(as_text=True)
    text = client.post("/ticketview/mass_close/", data={
        "rowid": ids, "confirm": "1", "closing_description": "Normalizado após manutenção na OLT",
        "closing_reason": data["reason"], "service_orders": "finalize",
    }, follow_redirects=True).get_data(as_text=True)
    assert "2 atendimentos fechados" in text and data["p"]["closed"] in text
    with session(app) as s:
        for key in ("overdue", "week"):
            ticket = s.get(Ticket, data["id"][key])
            assert ticket.status.category == "resolved" and ticket.closed_at is not None
            assert ticket.closing_description == "Normalizado após manutenção na OLT"
        # the open OS of "overdue" was finalized with the closing description (R28)
        assert [(o.status, o.closing_notes) for o in s.get(Ticket, data["id"]["overdue"]).service_orders] == [
            ("done", "Normalizado após manutenção na OLT")]
    assert history_count(app, data["id"]["overdue"], "mass_close") == 1
    assert history_count(app, data["id"]["closed"], "mass_close") == 0


def test_mass_close_across_the_whole_filter(app, login, data):
    client = login("gestor")
    query = f"date_from=&subject={data['no_signal']}&status_category=open"
    text = client.post("/ticketview/mass_close/", data={
        "select_all": query, "confirm": "1", "closing_description": "Queda geral resolvida",
        "service_orders": "cancel",
    }, follow_redirects=True).get_data(as_text=True)
    assert "2 atendimentos fechados" in text
    assert matching(app, query.replace("date_from=&", "")) == set()


def test_mass_delete_confirms_then_deletes_only_drafts(app, login, data):
    client = login("gestor")
    ids = [data["id"]["draft"], data["id"]["overdue"], data["id"]["closed"]]
    preview = client.post("/ticketview/mass_delete_drafts/", data={"rowid": ids}).get_data(as_text=True)
    assert data["p"]["draft"] in preview and "Sim, apagar!" in preview
    assert data["p"]["overdue"] in preview and data["p"]["closed"] in preview and "não é rascunho" in preview
    with session(app) as s:
        assert s.get(Ticket, data["id"]["draft"]) is not None  # nothing deleted before confirming
    text = client.post("/ticketview/mass_delete_drafts/", data={"rowid": ids, "confirm": "1"},
                       follow_redirects=True).get_data(as_text=True)
    assert "1 rascunho apagado" in text and data["p"]["overdue"] in text and data["p"]["closed"] in text
    with session(app) as s:
        assert s.get(Ticket, data["id"]["draft"]) is None
        assert s.get(Ticket, data["id"]["overdue"]) is not None


def test_atendente_cannot_mass_edit_close_or_export(app, login, data):
    client = login("atendente")
    for name in ("mass_edit", "mass_close"):
        response = client.post(f"/ticketview/{name}/", data={"rowid": [data["id"]["overdue"]], "confirm": "1",
                                                             "closing_description": "x", "change_department": "1",
                                                             "department": data["billing"]})
        assert response.status_code == 403, name
    page = client.get("/ticketview/list/?date_from=").get_data(as_text=True)
    assert 'id="mass_close"' not in page and 'id="mass_edit"' not in page and 'id="export-xlsx"' not in page
    with session(app) as s:
        assert s.get(Ticket, data["id"]["overdue"]).department_id == data["support"]


def test_forged_row_id_outside_my_tickets_is_refused(app, login, data):
    """On "Meus atendimentos" a draft assigned to someone else cannot be deleted by posting its id."""
    with session(app) as s:
        colleague = user(s, "atendente2")
        foreign = factories.ticket(s, colleague, is_draft=True, assignees=[colleague])
        mine = factories.ticket(s, user(s, "atendente"), is_draft=True, assignees=[user(s, "atendente")])
        s.commit()
        foreign_id, mine_id = foreign.id, mine.id
    client = login("atendente")
    preview = client.post("/myticketview/mass_delete_drafts/", data={"rowid": [foreign_id, mine_id]})
    assert preview.status_code == 200
    text = client.post("/myticketview/mass_delete_drafts/", data={"rowid": [foreign_id, mine_id], "confirm": "1"},
                       follow_redirects=True).get_data(as_text=True)
    assert f"#{foreign_id}" in text and "fora da sua visão" in text
    with session(app) as s:
        assert s.get(Ticket, foreign_id) is not None
        assert s.get(Ticket, mine_id) is None


def test_mass_actions_require_csrf_and_a_selection(app, login, data):
    client = login("gestor")
    raw = client.client.post("/ticketview/mass_close/", data={"rowid": [data["id"]["overdue"]], "confirm": "1",
                                                              "closing_description": "x"})
    assert raw.status_code == 400
    empty = client.post("/ticketview/mass_close/", data={}, follow_redirects=True).get_data(as_text=True)
    assert "Selecione ao menos um registro." in empty


def test_my_tickets_list_uses_the_same_filters(app, login, data):
    page = login("atendente").get(f"/myticketview/list/?subject={data['invoice']}").get_data(as_text=True)
    assert set(protocols_on(page)) == {data["p"]["week"]}


def test_xlsx_export_has_the_filtered_rows_in_screen_order(app, login, data):
    """R15: same filters and order as on screen, pt-BR headers, real dates, formulas kept as text."""
    import io

    import openpyxl

    from app.domain import ticket_exports
    from app.domain.exports import write_xlsx

    with session(app) as s:
        ticket = s.get(Ticket, data["id"]["week"])
        ticket.opening_description = '=HYPERLINK("http://evil.example","clique")'
        s.commit()
    query = f"date_from=&subject={data['invoice']},{data['no_signal']}&draft=0&order=protocol&direction=asc"
    client = login("gestor")
    on_screen = protocols_on(client.get(f"/ticketview/list/?{query}").get_data(as_text=True))
    from urllib.parse import parse_qs

    with app.test_request_context("/"), session(app) as s:
        export = ticket_exports.build_ticket_export(s, user(s, "gestor"), parse_qs(query, keep_blank_values=True))
        buffer = io.BytesIO()
        count = write_xlsx(buffer, export.title, export.columns, export.rows)
        assert export.total() == count == len(on_screen)
    sheet = openpyxl.load_workbook(io.BytesIO(buffer.getvalue())).active
    rows = list(sheet.iter_rows(values_only=True))
    headers = rows[0]
    assert headers[:4] == ("Protocolo", "Status", "Usuários responsáveis", "Cliente")
    assert [row[0] for row in rows[1:]] == on_screen
    opened = headers.index("Abertura")
    assert all(isinstance(row[opened], dt.datetime) for row in rows[1:])
    description = headers.index("Descrição da abertura")
    week = next(row for row in rows[1:] if row[0] == data["p"]["week"])
    assert week[description].startswith("=HYPERLINK")
    cell = sheet.cell(row=[r[0] for r in rows].index(data["p"]["week"]) + 1, column=description + 1)
    assert cell.data_type == "s"


def test_mass_actions_through_the_api_follow_the_same_rules(app, api, data):
    """The API door: same per-ticket rules, refusals by protocol, history, and the role's permissions."""
    gestor = api("gestor")
    ids = [data["id"]["overdue"], data["id"]["closed"], 999999]
    answer = gestor.post("/api/v1/ticket/mass_close", json={"ids": ids, "closing_description": "Normalizado",
                                                             "service_orders": "finalize"})
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert body["done"] == [data["p"]["overdue"]]
    assert {item["label"] for item in body["refused"]} == {data["p"]["closed"], "#999999"}
    assert history_count(app, data["id"]["overdue"], "mass_close") == 1
    edited = gestor.post("/api/v1/ticket/mass_edit", json={
        "ids": [data["id"]["today"], data["id"]["week"]], "changes": {"department": data["billing"],
                                                                     "assignees_add": [data["me"]]}})
    assert edited.status_code == 200 and len(edited.get_json()["done"]) == 2
    with session(app) as s:
        assert s.get(Ticket, data["id"]["week"]).department_id == data["billing"]
    bad = gestor.post("/api/v1/ticket/mass_edit", json={"ids": [data["id"]["today"]], "changes": {"status": 99999}})
    assert bad.status_code == 400 and "valor válido" in bad.get_json()["message"]
    assert gestor.post("/api/v1/ticket/mass_close", json={"ids": "1,2"}).status_code == 400
    agent = api("atendente")
    assert agent.post("/api/v1/ticket/mass_close", json={"ids": [data["id"]["today"]],
                                                         "closing_description": "x"}).status_code == 403
    deleted = agent.post("/api/v1/ticket/mass_delete_drafts", json={"ids": [data["id"]["draft"], data["id"]["today"]]})
    assert deleted.status_code == 200
    assert deleted.get_json()["done"] == [data["p"]["draft"]]
    assert deleted.get_json()["refused"][0]["label"] == data["p"]["today"]


def test_ticket_list_runs_a_fixed_number_of_queries(app, login, data):
    """No N+1: a page of 6 tickets and a page of 20 run the same number of statements."""
    import sqlalchemy as sa

    from app.extensions import db

    client = login("gestor")
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    def queries(url: str) -> int:
        statements.clear()
        with app.app_context():
            engine = db.engine
        sa.event.listen(engine, "before_cursor_execute", count)
        try:
            assert client.get(url).status_code == 200
        finally:
            sa.event.remove(engine, "before_cursor_execute", count)
        return len(statements)

    few = queries("/ticketview/list/?date_from=")
    with session(app) as s:
        me = user(s, "atendente")
        for _ in range(20):
            factories.ticket(s, me, assignees=[me, user(s, "atendente2")])
        s.commit()
    many = queries("/ticketview/list/?date_from=")
    assert few == many, (few, many)


def test_full_layout_exports_every_field(app, data):
    from urllib.parse import parse_qs

    from app.domain import ticket_exports

    with app.test_request_context("/"), session(app) as s:
        export = ticket_exports.build_ticket_export(
            s, user(s, "gestor"), parse_qs(f"layout=completo&date_from=&protocol={data['p']['closed']}",
                                           keep_blank_values=True))
        headers = [column.header for column in export.columns]
        rows = list(export.rows)
    assert len(headers) == 25 and "Setor" in headers and "Descrição do fechamento" in headers
    assert "Prazo legal" in headers and "Situação do prazo legal" in headers
    assert len(rows) == 1 and len(rows[0]) == 25
    row = dict(zip(headers, rows[0]))
    assert row["Protocolo"] == data["p"]["closed"] and row["Descrição do fechamento"] == "Boleto enviado"
    assert row["Avaliação"] == 5 and row["Rascunho"] == "Não" and row["Tempo restante"] in ("Dentro do prazo",
                                                                                            "Fora do prazo")
    assert row["Prazo legal"] == row["Abertura"] + dt.timedelta(days=7)
    assert row["Situação do prazo legal"] == "respondido no prazo"


def test_my_tickets_export_holds_only_my_tickets(app, login, data):
    """The export link of "Meus atendimentos" carries its scope: the file has the same rows as the page."""
    import io

    import openpyxl

    client = login("gestor")
    with session(app) as s:
        gestor = user(s, "gestor")
        mine = factories.ticket(s, gestor, assignees=[gestor])
        s.commit()
        protocol = mine.protocol
    page = client.get("/myticketview/list/").get_data(as_text=True)
    assert protocols_on(page) == [protocol]
    link = re.search(r'id="export-xlsx"\s+formaction="([^"]+)"', page).group(1).replace("&amp;", "&")
    assert "scope=mine" in link
    token = re.search(r'id="export-form"><input type="hidden" name="csrf_token" value="([^"]+)"', page).group(1)
    sheet = openpyxl.load_workbook(io.BytesIO(client.post(link, data={"csrf_token": token}).data)).active
    assert [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)] == [protocol]
