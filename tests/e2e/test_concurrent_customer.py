"""Two people edit the same customer's record at once (R12 on every versioned form, not only the ticket): the
second Salvar is refused with a pt-BR message, what the second person typed is still on the form, and the first
person's change is what is stored."""
from __future__ import annotations

from tests import factories
from tests.e2e.test_browser import PASSWORD, Visit
from tests.support import session


def _login(page, username: str) -> None:
    page.goto("/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("form [type=submit]")


def test_second_editor_of_a_customer_is_refused_and_keeps_what_he_typed(browser, live_server, page, screenshots,
                                                                        app, users):
    from app.models import Customer

    with session(app) as s:
        customer_id = factories.customer(s, name="Marina Costa").id
        s.commit()
    first = Visit(page, screenshots)
    first.login("atendente")
    other = browser.new_context(base_url=live_server, locale="pt-BR", viewport={"width": 1366, "height": 900})
    try:
        second = Visit(other.new_page(), screenshots)
        second.suffix = "-segundo"
        _login(second.page, "gestor")

        first.goto(f"/customerview/edit/{customer_id}", "concorrencia-01-primeiro-edita")
        second.goto(f"/customerview/edit/{customer_id}", "concorrencia-02-segundo-edita")
        first.page.fill("#notes", "Prefere contato à tarde.")
        text = first.submit("form#model_form [type=submit]", "concorrencia-03-primeiro-salva")
        assert "Registro salvo" in text and "Prefere contato à tarde." in text
        assert f"/customerview/show/{customer_id}" in first.page.url

        second.page.fill("#name", "Marina Costa Lima")
        text = second.submit("form#model_form [type=submit]", "concorrencia-04-segundo-recusado")
        assert "foi alterado por outro usuário enquanto você editava" in text and "nada foi salvo" in text
        assert second.page.input_value("#name") == "Marina Costa Lima", "what he typed is kept"

        with session(app) as s:
            stored = s.get(Customer, customer_id)
            assert (stored.name, stored.notes) == ("Marina Costa", "Prefere contato à tarde.")

        second.goto(f"/customerview/edit/{customer_id}", "concorrencia-05-segundo-recarrega")
        assert second.page.input_value("#notes") == "Prefere contato à tarde."
        second.page.fill("#name", "Marina Costa Lima")
        text = second.submit("form#model_form [type=submit]", "concorrencia-06-segundo-salva")
        assert "Registro salvo" in text
        with session(app) as s:
            stored = s.get(Customer, customer_id)
            assert (stored.name, stored.notes) == ("Marina Costa Lima", "Prefere contato à tarde.")
        assert not first.problems and not second.problems, first.problems + second.problems
    finally:
        other.close()
