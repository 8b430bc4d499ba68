"""The agent's call in a browser, as the agent lives it (issue 9, must show 2 and 3).

From the search page to a registered ticket: a save refused by a rule keeps every typed value and shows
the message at its field; a successful save stays on the same ticket's workspace; a draft left behind
(the tab closed while typing) keeps what was typed; inactive and portal-only options are never offered
for new data while old tickets still show theirs.
"""
from __future__ import annotations

import re

import pytest

from tests.e2e.test_browser import Visit, visit  # noqa: F401  (fixture)


def _ticket(db, protocol: str):
    from app.models import Ticket

    db.session.expire_all()
    return db.session.query(Ticket).filter(Ticket.protocol == protocol).one()


def _options(visit: Visit, select_id: str) -> dict[str, str]:
    return dict(visit.page.eval_on_selector_all(
        f"select#{select_id} option", "els => els.map(e => [e.value, e.textContent.trim()])"))


def _start_from_search(visit: Visit, document: str, contract_id: int, shot: str) -> tuple[str, str]:
    visit.goto("/atendimento/", f"{shot}-a-busca")
    visit.page.fill("#q", document)
    visit.submit("#customer-search [type=submit]", f"{shot}-b-resultado")
    text = visit.submit(f".atende-open-ticket:has(input[name=contract][value='{contract_id}']) button",
                        f"{shot}-c-atendimento-iniciado")
    protocol = re.search(r"Protocolo (\d{14})", text).group(1)
    return protocol, visit.page.url


@pytest.mark.parametrize("role", ["atendente", "gestor"])
def test_agent_call_refusal_keeps_input_save_stays_and_draft_keeps_text(visit: Visit, db, users, role):
    from app.models import Channel
    from tests import factories

    agent = db.session.merge(users["atendente"])
    customer = factories.customer(db.session, name="Joana Batista Lemos", document="11144477735")
    contract = factories.contract(db.session, customer, login="joana.lemos")
    cancelled = factories.contract(db.session, customer, status="cancelled", login="joana.antigo")
    subject = factories.subject(db.session, name="Sem sinal na fibra", requires_channel=True)
    old = factories.ticket(db.session, agent, owner=customer)
    phone = db.session.query(Channel).filter(Channel.name == "Telefone").one()
    db.session.commit()
    ids = {"contract": contract.id, "cancelled": cancelled.id, "subject": subject.id, "phone": phone.id,
           "old": old.id}

    visit.suffix = "" if role == "atendente" else f"-{role}"
    visit.login(role)
    # a tab chosen on another ticket must not be where a new ticket opens
    visit.goto(f"/ticketview/edit/{ids['old']}", "60-outro-atendimento")
    visit.page.click("a[href='#history']")

    # F2 from anywhere: the one "Novo atendimento" flow (search → contract → ticket)
    visit.goto("/", "61-inicio")
    with visit.page.expect_navigation():
        visit.page.keyboard.press("F2")
    assert visit.page.url.endswith("/atendimento/"), visit.page.url
    visit.page.fill("#q", "111.444.777-35")
    text = visit.submit("#customer-search [type=submit]", "62-busca-por-cpf")
    assert "Joana Batista Lemos" in text
    assert visit.page.locator(f"input[name=contract][value='{ids['cancelled']}']").count() == 0, "cancelado à vista"
    with visit.page.expect_navigation() as navigation:
        visit.page.check("input[name=cancelados]")
    visit.check(navigation.value, "63-exibir-cancelados")
    assert visit.page.locator(f"input[name=contract][value='{ids['cancelled']}']").count() == 1

    text = visit.submit(f".atende-open-ticket:has(input[name=contract][value='{ids['contract']}']) button",
                        "64-atendimento-iniciado")
    protocol = re.search(r"Protocolo (\d{14})", text).group(1)
    workspace = visit.page.url
    assert re.search(r"/ticketview/edit/\d+$", workspace), workspace
    assert visit.page.is_visible("#model_form"), "novo atendimento não abriu na aba Atendimento"
    assert visit.page.locator("li.active > a[href='#Home']").count() == 1

    # 1. a save refused by a rule: same page, every typed value kept, the message at its field
    visit.page.select_option("select#subject", str(ids["subject"]))
    description = "Cliente sem sinal desde as 8h; LED LOS aceso na ONU."
    visit.page.fill("#opening_description", description)
    visit.page.fill("#received_at", "03/12/2026 08:15")
    text = visit.submit("#save-ticket", "65-salvar-recusado")
    assert visit.page.url == workspace, visit.page.url
    channel_row = visit.page.locator("#channel").locator("xpath=ancestor::tr")
    assert "exige o canal de atendimento" in channel_row.inner_text(), channel_row.inner_text()
    assert visit.page.input_value("#opening_description") == description
    assert visit.page.input_value("select#subject") == str(ids["subject"])
    assert visit.page.input_value("#received_at") == "03/12/2026 08:15"
    assert f"Protocolo {protocol}" in text
    assert _ticket(db, protocol).is_draft, "a refused save registered the ticket"

    # 2. a successful save stays on the same ticket's workspace with its protocol
    visit.page.select_option("select#channel", str(ids["phone"]))
    text = visit.submit("#save-ticket", "66-salvo")
    assert visit.page.url == workspace, visit.page.url
    assert f"Atendimento salvo: protocolo {protocol}" in text
    assert f"Protocolo {protocol}" in text
    saved = _ticket(db, protocol)
    assert not saved.is_draft and saved.opening_description == description
    assert saved.channel_id == ids["phone"] and saved.subject_id == ids["subject"]
    assert saved.received_at.strftime("%d/%m/%Y %H:%M") == "03/12/2026 08:15"
    assert saved.due_at is not None, "registration did not apply the subject's SLA"
    assert visit.page.locator("#autosave-status").count() == 0 or "Rascunho" not in \
        visit.page.inner_text("#autosave-status"), "a registered ticket still autosaves"

    # 3. a draft left behind keeps what was typed: type, close the tab at once, reopen
    draft_protocol, draft_url = _start_from_search(visit, "11144477735", ids["contract"], "67")
    typed = "Cliente pede segunda via e relata cobrança em duplicidade."
    visit.page.fill("#opening_description", typed)
    context = visit.page.context
    visit.page.close(run_before_unload=True)  # at once: before the debounced autosave
    tab = context.new_page()
    visit.page = tab
    for _ in range(50):  # the beacon is delivered after the tab is gone
        if (_ticket(db, draft_protocol).opening_description or "") == typed:
            break
        tab.wait_for_timeout(100)
    visit.goto(draft_url, "68-rascunho-reaberto")
    assert visit.page.input_value("#opening_description") == typed
    draft = _ticket(db, draft_protocol)
    assert draft.is_draft and draft.opening_description == typed
    visit.assert_ptbr()


def test_quick_registration_refused_keeps_what_was_typed(visit: Visit):
    visit.login("atendente")
    visit.goto("/atendimento/?q=Rog%C3%A9rio+Sampaio", "69-busca-sem-resultado")
    visit.page.fill("#quick-name", "Rogério Sampaio Farias")
    visit.page.fill("#quick-document", "123.456.789-00")
    visit.page.fill("#quick-phone", "(31) 98877-6655")
    visit.page.fill("#quick-email", "rogerio.farias@example.com")
    visit.page.fill("#quick-street", "Rua Guaicurus")
    text = visit.submit("#quick-customer-form [type=submit]", "70-cadastro-recusado")
    assert "CPF" in visit.page.locator("#quick-document").locator("xpath=..").inner_text()
    assert "Cliente não cadastrado" in text
    for field, value in (("name", "Rogério Sampaio Farias"), ("document", "123.456.789-00"),
                         ("phone", "(31) 98877-6655"), ("email", "rogerio.farias@example.com"),
                         ("street", "Rua Guaicurus")):
        assert visit.page.input_value(f"#quick-{field}") == value, field
    visit.page.fill("#quick-document", "529.982.247-25")
    text = visit.submit("#quick-customer-form [type=submit]", "71-cadastro-aceito")
    assert "Cliente Rogério Sampaio Farias cadastrado" in text and "529.982.247-25" in text
    visit.assert_ptbr()


def test_inactive_options_are_not_offered_but_old_tickets_keep_them(visit: Visit, db, users):
    """R6 in the browser: the admin deactivates; the agent no longer sees them for new data."""
    from app.models import Channel, TicketStatus
    from tests import factories

    agent = db.session.merge(users["atendente"])
    customer = factories.customer(db.session, name="Otávio Pereira Nunes", document="93541134780")
    contract = factories.contract(db.session, customer)
    subject = factories.subject(db.session, name="Troca de equipamento")
    chat = db.session.query(Channel).filter(Channel.name == "Chat").one()
    pending = db.session.query(TicketStatus).filter(TicketStatus.name == "Pendente").one()
    old = factories.ticket(db.session, agent, owner=customer, subject=subject, channel=chat, status=pending)
    db.session.commit()
    ids = {"subject": subject.id, "chat": chat.id, "pending": pending.id, "old": old.id, "contract": contract.id}

    visit.login("admin")
    for url, row_text, shot in ((f"/subjectview/edit/{ids['subject']}", "Troca de equipamento", "72"),
                                (f"/channelview/edit/{ids['chat']}", "Chat", "73"),
                                (f"/ticketstatusview/edit/{ids['pending']}", "Pendente", "74")):
        visit.goto(url, f"{shot}-a-desativar")
        visit.page.uncheck("#active")
        text = visit.submit("#model_form [type=submit]", f"{shot}-b-desativado")
        row = visit.page.locator("#saved-row")
        assert row.count() == 1 and row_text in row.inner_text() and "Não" in row.inner_text(), text[:300]
    visit.page.goto("/logout/")

    visit.login("atendente")
    protocol, _ = _start_from_search(visit, "93541134780", ids["contract"], "75")
    for select_id, value, label in (("subject", ids["subject"], "Troca de equipamento"),
                                    ("channel", ids["chat"], "Chat"), ("status", ids["pending"], "Pendente")):
        options = _options(visit, select_id)
        assert str(value) not in options and label not in options.values(), (select_id, options)
    channels = _options(visit, "channel").values()
    assert "Central do assinante" not in channels, "portal-only channel offered to the agent"

    visit.goto(f"/ticketview/edit/{ids['old']}", "76-atendimento-antigo")
    for select_id, value in (("subject", ids["subject"]), ("channel", ids["chat"]), ("status", ids["pending"])):
        assert visit.page.input_value(f"select#{select_id}") == str(value), select_id
    visit.page.fill("#opening_description", "Cliente confirmou a troca para sexta-feira.")
    text = visit.submit("#save-ticket", "77-antigo-salvo")
    assert "Atendimento salvo" in text, text[:400]
    ticket = _ticket(db, old.protocol)
    assert (ticket.subject_id, ticket.channel_id, ticket.status_id) == (ids["subject"], ids["chat"], ids["pending"])
    assert protocol
    visit.assert_ptbr()
