"""The agent's one search box (R23): name, word, CPF/CNPJ with or without punctuation, phone, e-mail, protocol,
contract login or number; and the result rows (city, contracts, open-ticket count R8) in fixed queries."""
from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from tests import factories
from tests.support import session, user


@pytest.fixture
def people(app, users):
    from app.models import City, CustomerAddress, CustomerEmail

    with session(app) as s:
        maria = factories.customer(s, name="Maria Aparecida Souza", document="52998224725")
        maria.emails.append(CustomerEmail(email="Maria.Souza@Example.com", is_primary=True))
        company = factories.customer(s, name="Padaria Pão Quente Ltda", document="11222333000181", person_type="PJ")
        other = factories.customer(s, name="João Pereira")
        contract = factories.contract(s, maria, login="maria.souza")
        suspended = factories.contract(s, maria, status="suspended")
        factories.contract(s, other)
        campinas = City(name="Campinas", state="SP")
        s.add(campinas)
        s.flush()
        maria.addresses.append(CustomerAddress(city=campinas, is_primary=True, street="Rua A"))
        ticket = factories.ticket(s, user(s, "atendente"), owner=maria)
        s.commit()
        phone = s.execute(sa.text("SELECT number FROM customer_phone WHERE customer_id = :c"), {"c": maria.id}).scalar()
        return {"maria": maria.id, "company": company.id, "other": other.id, "contract": contract.number,
                "suspended": suspended.number, "protocol": ticket.protocol, "phone": phone}


def found(app: Any, text: str) -> list[int]:
    from app.domain.search import find_customers

    with session(app) as s:
        return [c.id for c in find_customers(s, text)]


@pytest.mark.parametrize("text", [
    "maria apa",            # prefix of the whole name
    "MARIA",                # case does not matter
    "Aparecida",            # a word from the middle of the name
    "souza",                # the last word
    "529.982.247-25",       # CPF with punctuation
    "52998224725",          # CPF digits only
    "529982",               # CPF prefix
    "maria.souza@example.com",  # e-mail, any case
    "MARIA.SOUZA@",         # e-mail prefix
    "maria.souza",          # contract login
    "maria.sou",            # contract login prefix
])
def test_each_criterion_finds_the_customer(app, people, text):
    result = found(app, text)
    assert people["maria"] in result
    assert people["other"] not in result


def test_phone_with_and_without_punctuation_and_ddd(app, people):
    phone = people["phone"]
    assert len(phone) == 11
    for text in (phone, f"({phone[:2]}) {phone[2:7]}-{phone[7:]}", f"+55 {phone[:2]} {phone[2:]}",
                 f"{phone[2:7]}-{phone[7:]}", phone[2:]):
        assert found(app, text) == [people["maria"]], text


def test_protocol_cnpj_and_contract_number(app, people):
    assert found(app, people["protocol"]) == [people["maria"]]
    assert found(app, "11.222.333/0001-81") == [people["company"]]
    assert found(app, "11222333000181") == [people["company"]]
    assert found(app, "padaria") == [people["company"]]
    assert found(app, "quente") == [people["company"]]
    assert found(app, people["contract"]) == [people["maria"]]
    assert found(app, people["suspended"]) == [people["maria"]]


def test_nothing_found_and_wildcards_are_literal(app, people):
    assert found(app, "ninguém com esse nome") == []
    assert found(app, "") == []
    assert found(app, "%") == []
    assert found(app, "_aria") == []
    assert found(app, "000.000.000-00") == []


def _count_queries(engine: Any) -> Any:
    from sqlalchemy import event

    statements: list[str] = []

    def listener(conn, cursor, statement, *rest):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", listener)
    return statements, lambda: event.remove(engine, "before_cursor_execute", listener)


def test_results_show_city_contracts_and_open_count(app, people):
    from app.domain.search import customer_results, find_customers
    from app.models import Ticket, TicketStatus

    with session(app) as s:
        agent = user(s, "atendente")
        maria = s.get(factories.Customer, people["maria"])
        factories.ticket(s, agent, owner=maria)                       # open: counts
        factories.ticket(s, agent, owner=maria, is_draft=True)        # draft: excluded
        resolved = factories.ticket(s, agent, owner=maria)            # resolved: excluded
        cancelled = factories.ticket(s, agent, owner=maria)           # cancelled: excluded
        for t, category in ((resolved, "resolved"), (cancelled, "cancelled")):
            status_id = s.scalar(sa.select(TicketStatus.id).where(TicketStatus.category == category))
            s.execute(sa.update(Ticket).where(Ticket.id == t.id).values(status_id=status_id))
        s.commit()
        everyone = find_customers(s, "maria") + find_customers(s, "padaria") + find_customers(s, "joão")
        rows = {r["id"]: r for r in customer_results(s, everyone)}
    maria = rows[people["maria"]]
    assert maria["name"] == "Maria Aparecida Souza"
    assert maria["document"] == "529.982.247-25"
    assert maria["city"] == "Campinas/SP"
    assert maria["open_count"] == 2
    assert [(c["number"], c["status_label"]) for c in maria["contracts"]] == [
        (people["contract"], "Ativo"), (people["suspended"], "Suspenso")]
    assert maria["contracts"][0]["login"] == "maria.souza"
    assert rows[people["company"]]["document"] == "11.222.333/0001-81"
    assert rows[people["company"]]["open_count"] == 0 and rows[people["company"]]["contracts"] == []
    assert rows[people["other"]]["open_count"] == 0


def test_city_comes_from_the_contract_without_an_address(app, users):
    from app.domain.search import customer_results
    from app.models import City

    with session(app) as s:
        owner = factories.customer(s, name="Sem Endereço")
        contract = factories.contract(s, owner)
        contract.city = City(name="Santos", state="SP")
        s.commit()
        assert customer_results(s, [owner])[0]["city"] == "Santos/SP"
        assert customer_results(s, []) == []


def test_customer_results_query_count_does_not_grow(app, users):
    from app.domain.search import customer_results, find_customers
    from app.extensions import db

    with session(app) as s:
        agent = user(s, "atendente")
        everyone = []
        for i in range(10):
            owner = factories.customer(s, name=f"Cliente Contagem {i}")
            factories.contract(s, owner)
            factories.contract(s, owner, status="cancelled")
            factories.ticket(s, agent, owner=owner)
            everyone.append(owner)
        s.commit()
        statements, stop = _count_queries(db.engine)
        try:
            customer_results(s, everyone[:2])
            two = len(statements)
            statements.clear()
            rows = customer_results(s, everyone)
            ten = len(statements)
            s.expire_all()
            fresh = find_customers(s, "Cliente Contagem")
            statements.clear()
            customer_results(s, fresh[:2])
            fresh_two = len(statements)
            statements.clear()
            customer_results(s, fresh)
            fresh_ten = len(statements)
        finally:
            stop()
    assert len(fresh) == 10
    assert two == ten <= 4, (two, ten)  # expired objects (after commit) are refreshed in one query
    assert fresh_two == fresh_ten == 3, (fresh_two, fresh_ten)  # contracts, addresses, grouped open count
    assert [r["open_count"] for r in rows] == [1] * 10
    assert all([c["status_label"] for c in r["contracts"]] == ["Ativo", "Cancelado"] for r in rows)


@pytest.fixture
def companies(app, users):
    """Two alphanumeric CNPJs sharing their first characters, one starting with letters, and a CPF customer."""
    with session(app) as s:
        alfa = factories.customer(s, name="Alfa Tecnologia Ltda", person_type="PJ", document=factories.make_cnpj("12ABC34501DE"))
        beta = factories.customer(s, name="Beta Comércio Ltda", person_type="PJ", document=factories.make_cnpj("12ABD0000001"))
        letters = factories.customer(s, name="Gama Serviços", person_type="PJ", document=factories.make_cnpj("ABCDEF000001"))
        other = factories.customer(s, name="João Pereira")
        ticket = factories.ticket(s, user(s, "atendente"), owner=alfa)
        s.commit()
        return {"alfa": alfa.id, "beta": beta.id, "letters": letters.id, "other": other.id,
                "letters_document": letters.document, "protocol": ticket.protocol}


@pytest.mark.parametrize("text,expected", [
    ("12.ABC.345/01DE-35", {"alfa"}),   # whole, formatted
    ("12ABC34501DE35", {"alfa"}),       # whole, as stored
    ("12.abc.345/01de-35", {"alfa"}),   # lower case
    ("12abc34501de35", {"alfa"}),
    ("  12.Abc.345/01De-35 ", {"alfa"}),
    ("12.ABC", {"alfa"}),               # its beginning, with or without punctuation, any case
    ("12abc345", {"alfa"}),
    ("12.ab", {"alfa", "beta"}),
    ("12AB", {"alfa", "beta"}),
    ("123", set()),                     # the digits of a CNPJ with letters are not its beginning
    ("12.ABC.345/01DE-36", set()),      # a wrong check digit finds nobody
    ("ab.cde", {"letters"}),            # a CNPJ starting with letters
    ("abcdef0", {"letters"}),
])
def test_alphanumeric_cnpj_is_found_whole_or_by_its_beginning(app, companies, text, expected):
    assert set(found(app, text)) == {companies[name] for name in expected}, text


def test_a_name_and_a_cnpj_starting_with_the_same_letters_are_both_found(app, companies):
    result = found(app, "gama")
    assert result == [companies["letters"]]
    assert found(app, companies["letters_document"][:6].lower()) == [companies["letters"]]


def test_agent_search_page_finds_and_formats_the_alphanumeric_cnpj(app, login, companies):
    import html

    client = login("atendente")
    for text in ("12.ABC.345/01DE-35", "12abc34501de35", "12.abc.345/01de-35"):
        page = html.unescape(client.get("/atendimento/", query_string={"q": text}).get_data(as_text=True))
        assert "Alfa Tecnologia Ltda" in page and "12.ABC.345/01DE-35" in page, text
        assert "Beta Comércio" not in page and "João Pereira" not in page, text
    page = html.unescape(client.get("/atendimento/?q=12.ab").get_data(as_text=True))
    assert "Alfa Tecnologia Ltda" in page and "Beta Comércio Ltda" in page
    assert "12.ABD.000/0001-" in page


def test_customer_lookup_and_ticket_list_find_the_alphanumeric_cnpj(app, login, companies):
    client = login("atendente")
    rows = client.get("/lookup/customer?q=12.abc.345/01de-35").json["results"]
    assert rows == [{"id": companies["alfa"], "text": "Alfa Tecnologia Ltda — 12.ABC.345/01DE-35"}]
    page = login("gestor").get("/ticketview/list/?date_from=&text=12.abc.345").get_data(as_text=True)
    assert companies["protocol"] in page


def test_document_search_uses_the_index_on_postgresql(app, companies):
    from app.domain.search import _criteria

    with session(app) as s:
        dialect = s.get_bind().dialect
        if dialect.name != "postgresql":
            pytest.skip("índices de busca só no PostgreSQL")
        s.execute(sa.text("SET LOCAL enable_seqscan = off"))
        for text in ("12.abc", "12abc34501de35"):
            query = _criteria(text)[0]
            compiled = query.compile(dialect=dialect)  # bound parameters, as the application sends them
            plan = "\n".join(row[0] for row in s.connection().exec_driver_sql(f"EXPLAIN {compiled}", compiled.params))
            assert "ix_search_customer_document" in plan or "customer_document_key" in plan, plan
