"""The customer's "Meus dados" page in Chromium at 360×740: the data on file, the message preferences saved and read
back, and a new password that ends the session and is the one that logs in afterwards."""
from __future__ import annotations

from tests import factories
from tests.e2e.test_browser import Visit, visit  # noqa: F401  (fixture)
from tests.e2e.test_portal import _no_horizontal_scroll
from tests.support import session

CPF = "862.883.667-57"
NAME = "Helena Duarte Lima"
EMAIL = "helena.lima@example.com"
PASSWORD = "Girassol-azul-na-janela-77"
NEW_PASSWORD = "Mandacaru-florido-no-sertao-42"
WIDTH, HEIGHT = 360, 740


def _login(visit: Visit, password: str, name: str) -> str:
    visit.page.fill("#document", CPF)
    visit.page.fill("#password", password)
    return visit.submit("#login-submit", name)


def test_customer_reads_their_data_sets_preferences_and_changes_the_password(visit, app, live_server, users):
    from app.domain.portal import accounts as portal_accounts
    from app.models import Customer, CustomerEmail

    with session(app) as s:
        helena = factories.customer(s, name=NAME, document=CPF.replace(".", "").replace("-", ""))
        helena.emails.append(CustomerEmail(email=EMAIL, is_primary=True))
        s.commit()
        portal_accounts.set_portal_password(s, helena, PASSWORD)
        helena_id, phone = helena.id, helena.phones[0].number
    visit.page.set_viewport_size({"width": WIDTH, "height": HEIGHT})

    visit.goto("/central/", "portal-perfil-01-entrar")
    text = _login(visit, PASSWORD, "portal-perfil-02-meus-atendimentos")
    assert "Meus atendimentos" in text and "Meus dados" in text
    _no_horizontal_scroll(visit, WIDTH, "meus-atendimentos")

    text = visit.submit("#profile-link", "portal-perfil-03-meus-dados")
    assert "/central/meus-dados" in visit.page.url
    assert visit.page.inner_text("#profile-name") == NAME
    assert visit.page.inner_text("#profile-document") == CPF
    assert visit.page.inner_text("#profile-email") == EMAIL
    assert visit.page.inner_text("#profile-phone") == f"({phone[:2]}) {phone[2:7]}-{phone[7:]}"
    assert "ligue para a nossa central de atendimento" in text
    assert "O número de protocolo de cada atendimento é enviado sempre, como exige a lei." in text
    assert visit.page.is_checked("#accepts_email") and visit.page.is_checked("#accepts_sms")
    _no_horizontal_scroll(visit, WIDTH, "meus-dados")

    visit.page.uncheck("#accepts_email")
    text = visit.submit("#preferences-submit", "portal-perfil-04-preferencias-salvas")
    assert "Preferências salvas." in text
    assert not visit.page.is_checked("#accepts_email") and visit.page.is_checked("#accepts_sms")
    with session(app) as s:
        stored = s.get(Customer, helena_id)
        assert (stored.accepts_email, stored.accepts_sms) == (False, True)

    # a wrong current password: the message at the field, nothing typed comes back
    visit.page.fill("#current", "Senha-errada-000")
    visit.page.fill("#password", NEW_PASSWORD)
    visit.page.fill("#confirm", NEW_PASSWORD)
    with visit.page.expect_navigation() as refused:
        visit.page.click("#password-submit")
    assert refused.value.status == 400
    visit.page.screenshot(path=str(visit.folder / "portal-perfil-05-senha-atual-incorreta.png"), full_page=True)
    assert "Senha atual incorreta." in visit.page.inner_text("#change-password")
    assert [visit.page.input_value(f) for f in ("#current", "#password", "#confirm")] == ["", "", ""]
    _no_horizontal_scroll(visit, WIDTH, "senha-atual-incorreta")

    visit.page.fill("#current", PASSWORD)
    visit.page.fill("#password", NEW_PASSWORD)
    visit.page.fill("#confirm", NEW_PASSWORD)
    text = visit.submit("#password-submit", "portal-perfil-06-senha-alterada")
    assert "Senha alterada. Entre de novo com a nova senha." in text
    assert "/central/entrar" in visit.page.url and "Meus dados" not in text  # logged out

    text = _login(visit, PASSWORD, "portal-perfil-07-senha-antiga-recusada")
    assert "CPF/CNPJ ou senha incorretos." in text
    text = _login(visit, NEW_PASSWORD, "portal-perfil-08-entrou-com-a-nova")
    assert "Meus atendimentos" in text and visit.page.url.endswith("/central/atendimentos")
    assert not visit.problems, visit.problems
