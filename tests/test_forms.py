"""The shared form mechanism of every generated screen (app/viewbase.py FormSavingMixin), through HTTP.

Booleans never required; after Salvar the user lands on the record's natural page; a refused save
re-renders the form with what was typed and the message at its field; selects offer only active
options while a record keeps its current one (R6); a draft saves itself (R2).
"""
from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import pytest
import sqlalchemy as sa
from wtforms import BooleanField

from tests import factories
from tests.support import session, user


def _location(response) -> tuple[str, dict]:
    url = urlparse(response.headers["Location"])
    return url.path, parse_qs(url.query)


def _errors(html: str) -> str:
    return " ".join(re.findall(r'<div class="alert alert-danger">\s*(.*?)\s*</div>', html, re.S))


def test_no_generated_form_requires_a_checkbox(app):
    from app.extensions import appbuilder

    checked = 0
    with app.test_request_context("/"):
        for view in appbuilder.baseviews:
            for form_class in (getattr(view, "add_form", None), getattr(view, "edit_form", None)):
                if form_class is None:
                    continue
                form = form_class()
                for field in form:
                    if isinstance(field, BooleanField):
                        checked += 1
                        assert not field.flags.required, (view.__class__.__name__, field.name)
                        assert not re.search(r"\srequired[\s=>]", str(field())), (view.__class__.__name__, field.name)
    assert checked >= 15


def test_unticked_flags_are_saved_and_the_list_shows_the_row(app, login):
    client = login("admin")
    response = client.post("/subjectview/add", data={"name": "Sem flags", "sla_hours": "6"})
    assert response.status_code == 302
    path, args = _location(response)
    assert path == "/subjectview/list/"
    with session(app) as s:
        row = s.execute(sa.text("SELECT * FROM subject WHERE name = 'Sem flags'")).mappings().one()
    assert args["salvo"] == [str(row["id"])]
    assert not any(row[name] for name in ("requires_contract", "requires_login", "requires_channel",
                                          "requires_sub_status", "requires_closing_reason", "active"))
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Registro salvo: Sem flags." in page and "Sem flags" in page


def test_the_saved_row_is_on_the_page_the_list_opens_at(app, login):
    with session(app) as s:
        for n in range(30):
            s.add(__import__("app.models", fromlist=["City"]).City(name=f"Cidade {n:02d}", state="MG"))
        s.commit()
    client = login("admin")
    response = client.post("/cityview/add", data={"name": "Zé Doca", "state": "MA"})
    path, args = _location(response)
    assert path == "/cityview/list/" and args["page_CityView"] == ["1"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Zé Doca" in page


@pytest.mark.parametrize("case", ["customer", "phone", "contract", "ticket", "parameters", "service_order"])
def test_each_record_lands_on_its_natural_page(app, login, case):
    client = login("admin")
    with session(app) as s:
        agent = user(s, "atendente")
        ticket = factories.ticket(s, agent)
        customer_id, ticket_id = ticket.customer_id, ticket.id
        contract_id = factories.contract(s, ticket.customer).id
        from app.domain.service_orders import create_service_order
        from app.models import GeneralParameters, ServiceOrder

        order = create_service_order(s, ServiceOrder(ticket=ticket, description="Instalar"), agent)
        s.commit()
        order_id = order.id
        params_id = s.scalar(sa.select(GeneralParameters.id))
    if case == "customer":
        response = client.post("/customerview/add", data={"person_type": "PF", "name": "Nova Cliente",
                                                          "document": "390.533.447-05", "active": "y"})
        with session(app) as s:
            new_id = s.scalar(sa.text("SELECT id FROM customer WHERE name = 'Nova Cliente'"))
        assert _location(response)[0] == f"/customerview/show/{new_id}"
    elif case == "phone":
        response = client.post("/customerphoneview/add", data={"customer": customer_id, "number": "(11) 3333-4444",
                                                               "kind": "landline"})
        assert response.status_code == 302, _errors(response.get_data(as_text=True))
        assert _location(response)[0] == f"/customerview/show/{customer_id}"
    elif case == "contract":
        response = client.post(f"/contractview/edit/{contract_id}", data={
            "customer": customer_id, "number": "CT-777", "status": "active"})
        assert _location(response)[0] == f"/contractview/show/{contract_id}"
    elif case == "ticket":
        with session(app) as s:
            version = s.scalar(sa.text(f"SELECT version FROM ticket WHERE id = {ticket_id}"))
            subject_id = s.scalar(sa.text(f"SELECT subject_id FROM ticket WHERE id = {ticket_id}"))
            status_id = s.scalar(sa.text(f"SELECT status_id FROM ticket WHERE id = {ticket_id}"))
        response = client.post(f"/ticketview/edit/{ticket_id}", data={
            "type": "customer", "customer": customer_id, "subject": subject_id, "status": status_id,
            "direction": "inbound", "opening_description": "Atualizado", "expected_version": version})
        assert _location(response)[0] == f"/ticketview/edit/{ticket_id}"
        assert "Atendimento salvo: protocolo" in client.get(f"/ticketview/edit/{ticket_id}").get_data(as_text=True)
    elif case == "parameters":
        response = client.post(f"/generalparametersview/edit/{params_id}", data={
            "reopen_window_hours": "24", "default_list_days": "7", "legal_warning_hours": "48",
            "attachment_max_mb": "10", "attachment_extensions": "pdf"})
        path, args = _location(response)
        assert path == "/generalparametersview/list/" and args["salvo"] == [str(params_id)]
        with session(app) as s:
            row = s.execute(sa.text("SELECT * FROM general_parameters")).mappings().one()
        assert row["subject_required"] is False or row["subject_required"] == 0
        assert row["reopen_window_hours"] == 24
    else:
        response = client.post(f"/serviceorderview/edit/{order_id}", data={
            "status": "scheduled", "scheduled_start": "10/12/2026 09:00", "description": "Instalar"})
        assert _location(response)[0] == f"/serviceorderview/show/{order_id}"


def test_a_refused_save_keeps_what_was_typed_and_says_why_at_the_field(app, login):
    client = login("admin")
    data = {"person_type": "PF", "name": "Cliente Recusado da Silva", "document": "123.456.789-00",
            "trade_name": "Mercadinho", "notes": "Prefere contato à tarde", "birth_date": "12/05/1980"}
    response = client.post("/customerview/add", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "CPF" in _errors(html) and "Não foi possível salvar" in html
    for value in ("Cliente Recusado da Silva", "123.456.789-00", "Mercadinho", "Prefere contato à tarde",
                  "12/05/1980"):
        assert value in html, value
    with session(app) as s:
        assert s.scalar(sa.text("SELECT count(*) FROM customer")) == 0


def test_a_ticket_refused_by_a_rule_keeps_the_input_and_stays_a_draft(app, login):
    with session(app) as s:
        agent = user(s, "atendente")
        subject = factories.subject(s, name="Exige canal", requires_channel=True)
        customer = factories.customer(s)
        from app.domain.tickets import start_ticket

        ticket = start_ticket(s, agent, customer=customer)
        s.commit()
        ticket_id, version, status_id, subject_id = ticket.id, ticket.version, ticket.status_id, subject.id
        customer_id = customer.id
    client = login("atendente")
    response = client.post(f"/ticketview/edit/{ticket_id}", data={
        "type": "customer", "customer": customer_id, "subject": subject_id, "status": status_id,
        "direction": "inbound", "opening_description": "Texto que não pode se perder",
        "expected_version": version})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "exige o canal de atendimento" in _errors(html)
    assert "Texto que não pode se perder" in html
    assert re.search(rf'<option selected value="{subject_id}">|<option value="{subject_id}" selected', html)
    with session(app) as s:
        assert s.scalar(sa.text(f"SELECT is_draft FROM ticket WHERE id = {ticket_id}")) in (True, 1)


def test_selects_offer_active_options_and_keep_the_current_one(app, login):
    with session(app) as s:
        from app.models import Department

        old = Department(name="Setor extinto", active=False)
        s.add(old)
        s.flush()
        subject = factories.subject(s, name="Com setor antigo", default_department=old)
        s.commit()
        subject_id, old_id = subject.id, old.id
    client = login("admin")
    add = client.get("/subjectview/add").get_data(as_text=True)
    assert "Setor extinto" not in add
    edit = client.get(f"/subjectview/edit/{subject_id}").get_data(as_text=True)
    assert re.search(rf'value="{old_id}"[^>]*>Setor extinto|selected[^>]*value="{old_id}"', edit), "current lost"
    response = client.post(f"/subjectview/edit/{subject_id}", data={
        "name": "Com setor antigo", "sla_hours": "8", "default_department": old_id, "active": "y"})
    assert response.status_code == 302  # keeping the current inactive value is not choosing it anew
    other = client.post("/subjectview/add", data={"name": "Novo", "sla_hours": "8", "default_department": old_id})
    assert other.status_code == 200 and "Escolha inválida" in _errors(other.get_data(as_text=True))


def test_new_ticket_always_goes_through_the_search(app, login):
    client = login("atendente")
    response = client.get("/ticketview/add?q=Maria")
    assert response.status_code == 302 and response.headers["Location"].endswith("/atendimento/?q=Maria")


# ---------------------------------------------------------------- draft autosave (R2)


def _draft(app):
    with session(app) as s:
        from app.domain.tickets import start_ticket

        agent = user(s, "atendente")
        ticket = start_ticket(s, agent, customer=factories.customer(s))
        s.commit()
        return {"id": ticket.id, "version": ticket.version, "customer": ticket.customer_id,
                "status": ticket.status_id, "events": len(ticket.events)}


def _events(app, ticket_id):
    with session(app) as s:
        return s.scalar(sa.text(f"SELECT count(*) FROM ticket_event WHERE ticket_id = {ticket_id}"))


def test_autosave_keeps_what_was_typed_in_a_draft_without_history(app, login):
    t = _draft(app)
    client = login("atendente")
    before = _events(app, t["id"])
    response = client.post(f"/ticketview/autosave/{t['id']}", data={
        "type": "customer", "customer": t["customer"], "status": t["status"], "direction": "inbound",
        "opening_description": "Digitado e não salvo", "received_at": "32/13/2026 99:99",
        "expected_version": t["version"]})
    assert response.status_code == 200, response.json
    assert response.json["version"] == t["version"] + 1 and "Rascunho salvo" in response.json["message"]
    with session(app) as s:
        row = s.execute(sa.text(f"SELECT * FROM ticket WHERE id = {t['id']}")).mappings().one()
    assert row["opening_description"] == "Digitado e não salvo" and row["is_draft"] in (True, 1)
    assert row["received_at"] is None  # a half-typed date is left out, the rest is kept
    assert _events(app, t["id"]) == before
    stale = client.post(f"/ticketview/autosave/{t['id']}", data={"opening_description": "x",
                                                                 "expected_version": t["version"]})
    assert stale.status_code == 409 and "alterado por outro usuário" in stale.json["message"]


def test_registration_records_every_value_and_autosave_stops(app, login):
    t = _draft(app)
    client = login("atendente")
    with session(app) as s:
        subject_id = factories.subject(s, name="Lentidão à noite", sla_hours=10).id
        s.commit()
    client.post(f"/ticketview/autosave/{t['id']}", data={
        "type": "customer", "customer": t["customer"], "status": t["status"], "direction": "inbound",
        "subject": subject_id, "opening_description": "Rascunho", "expected_version": t["version"]})
    response = client.post(f"/ticketview/edit/{t['id']}", data={
        "type": "customer", "customer": t["customer"], "status": t["status"], "direction": "inbound",
        "subject": subject_id, "opening_description": "Cliente com lentidão", "expected_version": t["version"] + 1})
    assert response.status_code == 302
    with session(app) as s:
        events = s.execute(sa.text(
            f"SELECT field, old_value, new_value FROM ticket_event WHERE ticket_id = {t['id']} AND kind = 'field'"
        )).all()
        due_at = s.scalar(sa.text(f"SELECT due_at FROM ticket WHERE id = {t['id']}"))
    recorded = {field: new for field, old, new in events}
    assert recorded["opening_description"] == "Cliente com lentidão"
    assert recorded["subject"] == "Lentidão à noite" and recorded["is_draft"] == "Não"
    assert "customer" in recorded and "status" in recorded and due_at is not None
    refused = client.post(f"/ticketview/autosave/{t['id']}", data={"opening_description": "depois"})
    assert refused.status_code == 409 and "Só rascunhos" in refused.json["message"]


def test_autosave_needs_the_csrf_token_and_the_ticket_in_scope(app, login):
    t = _draft(app)
    agent = login("atendente")
    no_token = agent.client.post(f"/ticketview/autosave/{t['id']}", data={"opening_description": "x"})
    assert no_token.status_code == 400
    technician = login("tecnico")
    assert technician.post(f"/ticketview/autosave/{t['id']}", data={"opening_description": "x"}).status_code in (
        403, 404)
    with session(app) as s:
        assert s.scalar(sa.text(f"SELECT opening_description FROM ticket WHERE id = {t['id']}")) is None
