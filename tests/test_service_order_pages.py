"""The service-order list page: filters, paging, mass actions through their forms, permissions and export."""
from __future__ import annotations

import datetime as dt
import html
import io
import re
from typing import Any

from sqlalchemy import event, select

from tests.support import session, user
from tests.test_service_order_list import _events, _order, _row, dataset, orders  # noqa: F401 (fixtures)

OPEN = "status=open,scheduled,in_progress"


def ids_on(page: str) -> list[int]:
    return [int(v) for v in re.findall(r'data-order="(\d+)"', page)]


def text_of(response: Any) -> str:
    return html.unescape(response.get_data(as_text=True))


def row_html(page: str, order_id: int) -> re.Match:
    return re.search(r'<tr class="([^"]*)" data-order="%d">(.*?)</tr>' % order_id, page, re.S)


# ---------------------------------------------------------------- the list


def test_list_opens_on_the_open_orders(app, login, dataset):
    client = login("gestor")
    first = client.get("/serviceorderview/list/")
    assert first.status_code == 302 and "status=open,scheduled,in_progress" in first.headers["Location"].replace("%2C", ",")
    page = client.get(first.headers["Location"]).get_data(as_text=True)
    assert set(ids_on(page)) == {dataset["a"], dataset["c"], dataset["d"]}
    everything = client.get("/serviceorderview/list/?date_field=opened").get_data(as_text=True)
    assert len(ids_on(everything)) == 5  # a submitted panel never falls back to the default


def test_rows_show_protocol_link_status_technician_city_and_late_highlight(app, login, dataset):
    d = dataset
    page = text_of(login("gestor").get(f"/serviceorderview/list/?{OPEN}"))
    late = row_html(page, d["a"])
    assert "atende-sla-overdue" in late.group(1)
    with session(app) as s:
        from app.models import ServiceOrder

        ticket_id = s.get(ServiceOrder, d["a"]).ticket_id
    assert f'href="/ticketview/edit/{ticket_id}">{d["protocols"]["ana"]}</a>' in late.group(2)
    assert "Ana Souza" in late.group(2) and "Agendada" in late.group(2) and "Tecnico Teste" in late.group(2)
    assert "Porto Alegre/RS" in late.group(2)
    assert f'/serviceorderview/edit/{d["a"]}' in late.group(2) and f'/serviceorderview/show/{d["a"]}' in late.group(2)
    future = row_html(page, d["d"])
    assert "atende-sla-overdue" not in future.group(1)
    assert "Torre Norte" in future.group(2) and "Canoas/RS" in future.group(2) and "Em execução" in future.group(2)
    assert "Sem técnico" in row_html(page, d["c"]).group(2)
    assert re.search(r"\d{2}/\d{2}/\d{4} \d{2}:\d{2}", late.group(2))


def test_filters_combine_and_survive_paging(app, login, dataset):
    d = dataset
    client = login("gestor")
    query = f"{OPEN}&technician={d['tech']}&city={d['poa']}&order=id&direction=asc"
    page = text_of(client.get(f"/serviceorderview/list/?{query}"))
    assert ids_on(page) == [d["a"]] and "1 registro" in page
    with session(app) as s:
        from app.models import ServiceOrder

        ticket = s.get(ServiceOrder, d["a"]).ticket
        extra = [_order(s, user(s, "atendente"), ticket, technician=user(s, "tecnico")).id for _ in range(24)]
    first = text_of(client.get(f"/serviceorderview/list/?{query}"))
    assert "25 registros" in first and ids_on(first) == [d["a"], *extra[:19]]
    next_link = re.search(r'href="([^"]+)" rel="next"', first).group(1)
    assert "technician=" in next_link and "city=" in next_link and "page=2" in next_link
    second = text_of(client.get(next_link))
    assert ids_on(second) == extra[19:]


def test_page_reads_rows_in_a_fixed_number_of_queries(app, login, dataset):
    client = login("gestor")
    from app.extensions import db

    def statements(url: str) -> int:
        with app.app_context():
            engine = db.engine
        seen: list[str] = []
        listener = lambda *args: seen.append(args[2])  # noqa: E731
        event.listen(engine, "before_cursor_execute", listener)
        try:
            assert client.get(url).status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        return len(seen)

    statements("/serviceorderview/list/?date_field=opened")  # warm-up
    few = statements(f"/serviceorderview/list/?technician={dataset['tech']}")
    with session(app) as s:
        from app.models import Ticket

        tickets = list(s.scalars(select(Ticket)))
        for index in range(15):
            _order(s, user(s, "atendente"), tickets[index % len(tickets)], technician=user(s, "tecnico"))
    many = statements(f"/serviceorderview/list/?technician={dataset['tech']}")
    assert few == many


# ---------------------------------------------------------------- mass actions


def test_mass_assign_through_the_form(app, login, orders):
    o = orders
    client = login("gestor")
    ids = [o["mine1"], o["mine2"], o["done"]]
    form = text_of(client.post("/serviceorderview/mass_assign/", data={"rowid": ids}))
    assert "3 ordens de serviço selecionadas" in form
    options = re.search(r'<select[^>]*id="technician".*?</select>', form, re.S).group(0)
    assert "Tecnico Teste" in options and "Tecnico2 Teste" in options
    assert "Atendente Teste" not in options and "Gestor Teste" not in options
    missing = text_of(client.post("/serviceorderview/mass_assign/", data={"rowid": ids, "confirm": "1"}))
    assert "Escolha um técnico" in missing
    with session(app) as s:
        tech2 = user(s, "tecnico2").id
    back = f"/serviceorderview/list/?{OPEN}"
    response = client.post("/serviceorderview/mass_assign/", data={
        "rowid": ids, "confirm": "1", "technician": str(tech2), "back": back})
    assert response.status_code == 302 and response.headers["Location"].endswith(back)
    text = text_of(client.get(back))
    assert (f"2 OS atribuídas a Tecnico2 Teste; 1 recusada: {o['done']} "
            "(OS já finalizada não aceita alterações)") in text
    with session(app) as s:
        assert _row(s, o["mine1"])["technician_id"] == tech2 and _row(s, o["mine2"])["technician_id"] == tech2
        assert _row(s, o["done"])["technician_id"] == user(s, "tecnico").id
        assert _events(s, o["t1"]) == [("service_order.technician_id", "Tecnico2 Teste")]  # the name, never the id
        assert _events(s, o["t3"]) == []


def test_mass_assign_unassigns_and_refuses_a_non_technician(app, login, orders):
    o = orders
    client = login("gestor")
    text = text_of(client.post("/serviceorderview/mass_assign/", data={
        "rowid": [o["mine1"]], "confirm": "1", "technician": ""}, follow_redirects=True))
    assert "1 OS ficou sem técnico" in text
    with session(app) as s:
        assert _row(s, o["mine1"])["technician_id"] is None
        agent = user(s, "atendente").id
    forged = text_of(client.post("/serviceorderview/mass_assign/", data={
        "rowid": [o["mine2"]], "confirm": "1", "technician": str(agent)}, follow_redirects=True))
    assert f"{o['mine2']} (Atendente Teste não é um técnico ativo)" in forged
    with session(app) as s:
        assert _row(s, o["mine2"])["technician_id"] == user(s, "tecnico").id
        assert _events(s, o["t2"]) == []


def test_mass_reschedule_through_the_form(app, login, orders):
    o = orders
    client = login("gestor")
    ids = [o["mine1"], o["mine2"], o["cancelled"]]
    assert "Reagendar ordens de serviço" in text_of(client.post("/serviceorderview/mass_reschedule/",
                                                                   data={"rowid": ids}))
    bad = text_of(client.post("/serviceorderview/mass_reschedule/", data={
        "rowid": ids, "confirm": "1", "scheduled_start": "31/02/2030 08:00"}))
    assert "Início agendado inválido: use dd/mm/aaaa hh:mm." in bad
    assert 'value="31/02/2030 08:00"' in bad  # the form comes back with what was typed
    text = text_of(client.post("/serviceorderview/mass_reschedule/", data={
        "rowid": ids, "confirm": "1", "scheduled_start": "02/03/2030 08:00", "scheduled_end": "02/03/2030 12:30",
    }, follow_redirects=True))
    assert f"2 OS reagendadas; 1 recusada: {o['cancelled']} (OS já cancelada não aceita alterações)" in text
    with session(app) as s:
        row = _row(s, o["mine1"])
        assert row["status"] == "scheduled"
        assert (row["scheduled_start"], row["scheduled_end"]) == (dt.datetime(2030, 3, 2, 8), dt.datetime(2030, 3, 2, 12, 30))
        assert [field for field, _new in _events(s, o["t1"])] == [
            "service_order.status", "service_order.scheduled_start", "service_order.scheduled_end"]


def test_mass_close_through_the_form(app, login, orders):
    o = orders
    client = login("gestor")
    form = text_of(client.post("/serviceorderview/mass_close_orders/", data={"rowid": [o["mine1"], o["mine2"]]}))
    assert "Finalizada" in form and "Cancelada" in form and "2 ordens de serviço selecionadas" in form
    without_notes = text_of(client.post("/serviceorderview/mass_close_orders/", data={
        "rowid": [o["mine1"]], "confirm": "1", "status": "done", "closing_notes": " "}, follow_redirects=True))
    # pt-BR plural rule (n > 1): zero takes the singular
    assert f"0 OS finalizada; 1 recusada: {o['mine1']} (Para finalizar a OS informe" in without_notes
    text = text_of(client.post("/serviceorderview/mass_close_orders/", data={
        "rowid": [o["mine1"], o["done"]], "confirm": "1", "status": "done", "closing_notes": "Cabo trocado",
    }, follow_redirects=True))
    assert f"1 OS finalizada; 1 recusada: {o['done']} (OS já finalizada não aceita alterações)" in text
    cancelled = text_of(client.post("/serviceorderview/mass_close_orders/", data={
        "rowid": [o["mine2"]], "confirm": "1", "status": "cancelled"}, follow_redirects=True))
    assert "1 OS cancelada" in cancelled
    invalid = text_of(client.post("/serviceorderview/mass_close_orders/", data={
        "rowid": [o["other"]], "confirm": "1", "status": "open", "closing_notes": "x"}))
    assert "Situação de OS inválida." in invalid
    with session(app) as s:
        assert _row(s, o["mine1"])["status"] == "done" and _row(s, o["mine1"])["closing_notes"] == "Cabo trocado"
        assert _row(s, o["mine2"])["status"] == "cancelled"
        assert _row(s, o["other"])["status"] == "open"
        assert _events(s, o["t1"]) == [("service_order.status", "Finalizada"),
                                       ("service_order.closing_notes", "Cabo trocado")]


def test_select_all_acts_on_everything_the_filter_matches(app, login, dataset):
    d = dataset
    client = login("gestor")
    query = f"{OPEN}&technician={d['tech']}"
    page = text_of(client.get(f"/serviceorderview/list/?{query}&psize=20"))
    assert set(ids_on(page)) == {d["a"], d["d"]}
    form = text_of(client.post("/serviceorderview/mass_close_orders/", data={"select_all": query}))
    assert "2 ordens de serviço selecionadas" in form and f'name="select_all" value="{query}"' in form
    text = text_of(client.post("/serviceorderview/mass_close_orders/", data={
        "select_all": query, "confirm": "1", "status": "cancelled", "closing_notes": "Cliente desistiu"},
        follow_redirects=True))
    assert "2 OS canceladas" in text
    with session(app) as s:
        assert {_row(s, d[k])["status"] for k in ("a", "d")} == {"cancelled"}
        assert _row(s, d["c"])["status"] == "open" and _row(s, d["b"])["status"] == "done"


def test_list_offers_mass_actions_and_exports_to_gestor(app, login, dataset):
    page = text_of(login("gestor").get(f"/serviceorderview/list/?{OPEN}"))
    for name in ("mass_assign", "mass_reschedule", "mass_close_orders"):
        assert f'id="{name}"' in page
    assert 'id="export-xlsx"' in page and 'id="export-pdf"' in page and 'class="row-check"' in page


def test_atendente_cannot_use_mass_actions_nor_export(app, login, orders):
    client = login("atendente")
    for name, extra in (("mass_assign", {"technician": ""}), ("mass_reschedule", {"scheduled_start": "01/01/2030 08:00"}),
                        ("mass_close_orders", {"status": "cancelled"})):
        response = client.post(f"/serviceorderview/{name}/", data={"rowid": [orders["mine1"]], "confirm": "1", **extra})
        assert response.status_code == 403, name
    page = text_of(client.get(f"/serviceorderview/list/?{OPEN}"))
    assert orders["mine1"] in ids_on(page)
    assert 'id="mass-actions"' not in page and 'class="row-check"' not in page
    assert 'id="export-xlsx"' not in page and "/exportar/" not in page
    assert client.post(f"/exportar/service_orders/xlsx?{OPEN}").status_code == 403
    with session(app) as s:
        row = _row(s, orders["mine1"])
        assert row["technician_id"] == user(s, "tecnico").id and row["status"] == "open"


def test_technician_cannot_touch_another_technicians_order(app, login, orders):
    o = orders
    client = login("tecnico")
    page = text_of(client.get("/myserviceorderview/list/"))
    assert o["other"] not in ids_on(page) and o["mine1"] in ids_on(page)
    assert 'id="mass-actions"' not in page and 'id="export-xlsx"' not in page
    assert f'href="/ticketview/show/{o["t1"]}"' in page  # no ticket workspace for a technician
    for name in ("mass_assign", "mass_reschedule", "mass_close_orders"):
        forged = client.post(f"/myserviceorderview/{name}/", data={
            "rowid": [o["other"]], "confirm": "1", "status": "cancelled", "technician": "",
            "scheduled_start": "01/01/2030 08:00"})
        assert forged.status_code == 403, name
        assert client.post(f"/serviceorderview/{name}/", data={"rowid": [o["other"]], "confirm": "1"}).status_code == 403
    edit = client.post(f"/myserviceorderview/edit/{o['other']}", data={"status": "cancelled"})
    assert edit.status_code == 404
    with session(app) as s:
        assert _row(s, o["other"])["status"] == "open" and _events(s, o["t3"]) == []


def test_my_orders_page_acts_only_on_the_users_own_orders(app, login, orders):
    """A role that may mass-act on "Minhas OS" (Gestor) still cannot reach an order outside that page by its id."""
    text = text_of(login("gestor").post("/myserviceorderview/mass_close_orders/", data={
        "rowid": [orders["other"]], "confirm": "1", "status": "cancelled"}, follow_redirects=True))
    assert f"{orders['other']} (não encontrada ou fora da sua visão)" in text
    with session(app) as s:
        assert _row(s, orders["other"])["status"] == "open"


def test_order_forms_offer_only_active_technicians(app, login, orders):
    client = login("gestor")
    with session(app) as s:
        from app.extensions import appbuilder

        sm = appbuilder.sm
        retired = sm.add_user("aposentado", "Aposentado", "Extra", "aposentado@example.com", sm.find_role("Tecnico"),
                              "Senha-forte-123")
        retired.active = False
        s.commit()
        agent = user(s, "atendente").id
    for url in ("/serviceorderview/add", f"/serviceorderview/edit/{orders['mine1']}"):
        form = text_of(client.get(url))
        options = re.search(r'<select[^>]*name="technician".*?</select>', form, re.S).group(0)
        assert "Tecnico Teste" in options and "Tecnico2 Teste" in options, url
        assert "Atendente" not in options and "Gestor" not in options and "Aposentado" not in options, url
    form = {"type": "", "status": "open", "description": "Visita técnica"}
    forged = client.post(f"/serviceorderview/edit/{orders['mine1']}", data={**form, "technician": str(agent)})
    assert forged.status_code == 200 and "Escolha inválida" in text_of(forged)
    with session(app) as s:
        assert _row(s, orders["mine1"])["technician_id"] == user(s, "tecnico").id
        tech2 = user(s, "tecnico2").id
    assert client.post(f"/serviceorderview/edit/{orders['mine1']}", data={**form, "technician": str(tech2)}).status_code == 302
    with session(app) as s:
        assert _row(s, orders["mine1"])["technician_id"] == tech2


# ---------------------------------------------------------------- export


def test_xlsx_export_link_of_the_filtered_list_matches_the_page(app, login, dataset):
    import openpyxl

    d = dataset
    client = login("gestor")
    query = f"status=open,scheduled,in_progress,cancelled&type={d['repair']},{d['install']}&order=scheduled_start&direction=asc"
    page = text_of(client.get(f"/serviceorderview/list/?{query}"))
    on_screen = ids_on(page)
    assert set(on_screen) == {d["a"], d["c"], d["d"], d["e"]}
    link = re.search(r'id="export-xlsx"\s+formaction="([^"]+)"', page).group(1)
    assert link.startswith("/exportar/service_orders/xlsx?") and "type=" in link
    response = client.post(link.replace("&amp;", "&"))
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    rows = list(openpyxl.load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True))
    header = next(index for index, row in enumerate(rows) if row and row[0] == "OS")
    data_rows = [row for row in rows[header + 1:] if row and row[0] is not None]
    assert [int(row[0]) for row in data_rows] == on_screen
    by_id = {int(row[0]): row for row in data_rows}
    names = rows[header]
    assert by_id[d["a"]][names.index("Situação")] == "Agendada"
    assert by_id[d["a"]][names.index("Técnico")] == "Tecnico Teste"
    assert isinstance(by_id[d["a"]][names.index("Início agendado")], dt.datetime)
