"""The agent's one search box (R23): name, word, CPF/CNPJ with or without punctuation, phone, e-mail, protocol, login."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests import factories
from tests.test_rules import session, user


@pytest.fixture
def people(app, users):
    from app.models import CustomerEmail

    with session(app) as s:
        maria = factories.customer(s, name="Maria Aparecida Souza", document="52998224725")
        maria.emails.append(CustomerEmail(email="maria.souza@example.com", is_primary=True))
        company = factories.customer(s, name="Padaria Pão Quente Ltda", document="11222333000181", person_type="PJ")
        other = factories.customer(s, name="João Pereira")
        contract = factories.contract(s, maria, login="maria.souza")
        ticket = factories.ticket(s, user(s, "atendente"), owner=maria)
        s.commit()
        phone = s.execute(sa.text("SELECT number FROM customer_phone WHERE customer_id = :c"), {"c": maria.id}).scalar()
        return {"maria": maria.id, "company": company.id, "other": other.id, "contract": contract.number,
                "protocol": ticket.protocol, "phone": phone}


def found(app, text):
    from app.domain.search import find_customers

    with session(app) as s:
        return [c.id for c in find_customers(s, text)]


@pytest.mark.parametrize("text", [
    "maria apa", "Aparecida", "souza", "529.982.247-25", "52998224725", "529982", "maria.souza@example.com", "maria.souza",
])
def test_each_criterion_finds_the_customer(app, people, text):
    assert people["maria"] in found(app, text)
    assert people["other"] not in found(app, text)


def test_phone_protocol_cnpj_and_contract_number(app, people):
    phone = people["phone"]
    formatted = f"({phone[:2]}) {phone[2:7]}-{phone[7:]}"
    assert found(app, formatted) == [people["maria"]]
    assert found(app, people["protocol"]) == [people["maria"]]
    assert found(app, "11.222.333/0001-81") == [people["company"]]
    assert found(app, people["contract"]) == [people["maria"]]
    assert found(app, "ninguém com esse nome") == []


def test_results_show_city_contracts_and_open_count_in_fixed_queries(app, people):
    from sqlalchemy import event

    from app.domain.search import customer_results, find_customers
    from app.extensions import db

    with session(app) as s:
        one = find_customers(s, "maria")
        several = find_customers(s, "a") + find_customers(s, "padaria") + find_customers(s, "joão")
        assert len(several) > len(one)
        statements = []
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            rows = customer_results(s, one)
            few = len(statements)
            statements.clear()
            customer_results(s, several)
            many = len(statements)
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
    assert many == few, "the query count does not grow with the number of customers"
    maria = rows[0]
    assert maria["document"] == "529.982.247-25" and maria["open_count"] == 1
    assert [c["status_label"] for c in maria["contracts"]] == ["Ativo"]
