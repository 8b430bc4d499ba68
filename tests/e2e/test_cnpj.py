"""An alphanumeric CNPJ in a browser (R23, issue 10 must show 9): refused with a wrong check digit, registered by the
quick registration in lower case, shown formatted and found by search with and without punctuation."""
from __future__ import annotations

import sqlalchemy as sa

from tests.e2e.test_browser import Visit, visit  # noqa: F401  (fixture)


def test_quick_registration_of_an_alphanumeric_cnpj_then_search(visit: Visit, db, users):
    visit.login("atendente")
    text = visit.goto("/atendimento/?q=12.abc.345%2F01de-35", "cnpj-01-busca-sem-resultado")
    assert "Alfa Tecnologia" not in text
    visit.page.select_option("#quick-person_type", "PJ")
    visit.page.fill("#quick-name", "Alfa Tecnologia Ltda")
    visit.page.fill("#quick-document", "12.abc.345/01de-36")
    text = visit.submit("#quick-customer-form [type=submit]", "cnpj-02-digito-errado-recusado")
    assert "Cliente não cadastrado" in text
    field = visit.page.locator("#quick-document").locator("xpath=..").inner_text()
    assert "CNPJ inválido: confira os dígitos verificadores." in field
    assert visit.page.input_value("#quick-document") == "12.abc.345/01de-36"
    assert db.session.execute(sa.text("SELECT COUNT(*) FROM customer")).scalar() == 0

    visit.page.fill("#quick-document", "12.abc.345/01de-35")
    text = visit.submit("#quick-customer-form [type=submit]", "cnpj-03-cadastrado")
    assert "Cliente Alfa Tecnologia Ltda cadastrado" in text and "12.ABC.345/01DE-35" in text
    customer_id, document = db.session.execute(
        sa.text("SELECT id, document FROM customer WHERE name = 'Alfa Tecnologia Ltda'")).one()
    assert document == "12ABC34501DE35"

    for typed, shot in (("12abc34501de35", "cnpj-04-busca-sem-pontuacao"), ("12.ABC", "cnpj-05-busca-pelo-inicio")):
        visit.goto("/atendimento/", f"{shot}-a")
        visit.page.fill("#q", typed)
        text = visit.submit("#customer-search [type=submit]", shot)
        assert "Alfa Tecnologia Ltda" in text and "12.ABC.345/01DE-35" in text, typed

    text = visit.goto(f"/customerview/show/{customer_id}", "cnpj-06-ficha-do-cliente")
    assert "12.ABC.345/01DE-35" in text and "12ABC34501DE35" not in text
    visit.assert_ptbr()
