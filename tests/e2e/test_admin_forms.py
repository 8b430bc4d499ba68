"""Every add and edit form of every menu an Admin reaches, saved in a browser (issue 9, must show 1).

The crawler opens each menu, and on each list its "add" form and an "edit" form; it unticks every
checkbox, fills what is empty with valid values, clicks Salvar and fails on any refusal, English text or
a landing page that is not the record's (its list with the row highlighted, or its own page). What was
stored is read back from the database: every checkbox unticked is stored as False.
"""
from __future__ import annotations

import itertools
import re
from typing import Any, Optional
from urllib.parse import parse_qs, urlparse

import pytest

from tests.e2e.test_browser import Visit, visit  # noqa: F401  (fixture)

SKIP_MENUS = ("/logout/", "/atendeuserstatschartview/chart/")
FIXED = {
    "email": lambda n: f"cadastro{n}@exemplo.com.br",
    "state": lambda n: "SP",
    "ibge_code": lambda n: f"{3590000 + n}",
    "zip_code": lambda n: "01310100",
    "color": lambda n: "#336699",
    "level": lambda n: "3", "sla_hours": lambda n: "12", "order": lambda n: "5",
    "download_mbps": lambda n: "300", "upload_mbps": lambda n: "150", "price": lambda n: "99.90",
    "number": lambda n: f"CT-ADM{n:04d}", "login": lambda n: f"cliente.adm{n}",
    "username": lambda n: f"usuario{n}", "first_name": lambda n: "Teste", "last_name": lambda n: f"Cadastro {n}",
    "password": lambda n: "Senha-forte-123", "conf_password": lambda n: "Senha-forte-123",
    "attachment_extensions": lambda n: "pdf,png", "attachment_max_mb": lambda n: "10",
    "default_list_days": lambda n: "7", "street_number": lambda n: str(100 + n),
}
_numbers = itertools.count(1)


def _value(name: str, kind: str, n: int) -> str:
    from tests.factories import make_cpf

    if name == "document":
        return make_cpf(987650 + n)
    if name in FIXED:
        return FIXED[name](n)
    if "atende_datetime" in kind:
        return "01/12/2026 10:00"
    if "atende_date" in kind:
        return "01/12/2026"
    return f"Cadastro {name} {n}"


def _fields(visit: Visit) -> list[dict[str, Any]]:
    return visit.page.eval_on_selector_all(
        "#model_form input[name], #model_form select[name], #model_form textarea[name]",
        """els => els.map(e => ({name: e.name, id: e.id, tag: e.tagName.toLowerCase(), type: e.type,
             value: e.value, cls: e.className, multiple: !!e.multiple, disabled: e.disabled,
             required: e.required || e.getAttribute('aria-required') === 'true',
             options: e.tagName === 'SELECT' ? Array.from(e.options).map(o => o.value).filter(
                 v => v && v !== '__None') : []}))""",
    )


def _pick_lookup(visit: Visit, field_id: str, typed: str) -> None:
    visit.page.click(f"select#{field_id} + .select2-container .select2-selection")
    visit.page.fill(".select2-container--open .select2-search__field", typed)
    option = visit.page.locator(".select2-container--open .select2-results__option[role=option]:not(.loading-results)").first
    option.wait_for()
    option.click()


def _fill(visit: Visit, adding: bool, lookups: dict[str, str]) -> Optional[str]:
    """Untick every checkbox, fill what is empty; return the unique text typed in the first text field."""
    n = next(_numbers)
    marker = None
    for field in _fields(visit):
        name, kind, selector = field["name"], field["cls"], f"#model_form [name='{field['name']}']"
        if field["type"] == "hidden" or field["disabled"] or name == "csrf_token":
            continue
        if field["type"] == "checkbox":
            if visit.page.is_checked(selector):
                visit.page.uncheck(selector)
            continue
        if field["tag"] == "select":
            if "atende_lookup" in kind:
                if not field["value"] and field["id"] in lookups:
                    _pick_lookup(visit, field["id"], lookups[field["id"]])
                continue
            if field["multiple"]:
                if adding and field["options"] and not visit.page.eval_on_selector(
                        selector, "e => Array.from(e.selectedOptions).length"):
                    visit.page.select_option(selector, field["options"][:1])
                continue
            if field["value"] in ("", "__None") and field["options"]:
                visit.page.select_option(selector, field["options"][0])
            continue
        if field["value"] == "" and (adding or field["required"]):
            value = _value(name, kind, n)
            visit.page.fill(selector, value)
            if marker is None and field["type"] in ("text", "textarea") and "atende_date" not in kind \
                    and value.startswith("Cadastro"):
                marker = value
    return marker


def _view_of(app: Any, path: str) -> Any:
    from app.extensions import appbuilder

    for view in appbuilder.baseviews:
        base = getattr(view, "route_base", None)
        if base and path.startswith(base + "/") and getattr(view, "datamodel", None) is not None:
            return view
    return None


def _boolean_columns(view: Any, columns: list[str]) -> list[str]:
    from sqlalchemy import Boolean, inspect

    model = view.datamodel.obj
    mapped = {c.key: c for c in inspect(model).columns}
    return [name for name in columns if name in mapped and isinstance(mapped[name].type, Boolean)]


def _saved_pk(url: str) -> Optional[int]:
    parsed = urlparse(url)
    saved = parse_qs(parsed.query).get("salvo")
    if saved:
        return int(saved[0])
    match = re.search(r"/(show|edit)/(\d+)$", parsed.path)
    return int(match.group(2)) if match else None


def _check_landing(visit: Visit, app: Any, db: Any, view: Any, list_path: str, text: str, marker: Optional[str],
                   columns: list[str], where: str, problems: list[str]) -> Optional[int]:
    page = visit.page
    refusals = [t.strip() for t in page.locator(".alert-danger").all_inner_texts() if t.strip()]
    if refusals:
        problems.append(f"{where}: recusado: {refusals}")
        return None
    path = urlparse(page.url).path
    pk = _saved_pk(page.url)
    route = view.route_base
    own_pages = (list_path, f"{route}/show/{pk}", f"{route}/edit/{pk}")
    if pk is None or path not in own_pages:
        problems.append(f"{where}: caiu em {page.url} (esperado a lista com a linha salva ou a página do registro)")
        return None
    if path == list_path and page.locator("#saved-row").count() != 1:
        problems.append(f"{where}: a lista não mostra a linha salva ({page.url})")
    if "salvo" not in text.lower():
        problems.append(f"{where}: nenhuma mensagem de registro salvo")
    if marker and marker not in text:
        problems.append(f"{where}: a página de chegada não mostra o que foi digitado ({marker!r})")
    booleans = _boolean_columns(view, columns)
    if booleans:
        model = view.datamodel.obj
        db.session.expire_all()
        record = db.session.get(model, pk)
        still_true = [name for name in booleans if getattr(record, name) is not False]
        if still_true:
            problems.append(f"{where}: caixas desmarcadas gravadas como marcadas: {still_true}")
    return pk


def _menus(visit: Visit) -> list[tuple[str, str]]:
    links = visit.page.eval_on_selector_all(
        ".navbar .dropdown-menu a[href]", "els => els.map(e => [e.textContent.trim(), e.getAttribute('href')])")
    return [(label, href) for label, href in links if href.startswith("/") and href not in SKIP_MENUS]


def test_admin_saves_every_form_of_every_menu(visit: Visit, app, db, users):
    from app.domain.service_orders import create_service_order
    from app.models import ServiceOrder
    from tests import factories

    admin = db.session.merge(users["admin"])
    customer = factories.customer(db.session, name="Mariana Cadastro Completo")
    factories.contract(db.session, customer)
    ticket = factories.ticket(db.session, admin, owner=customer, assignees=[admin])
    create_service_order(db.session, ServiceOrder(ticket=ticket, description="Instalar roteador"), admin)
    db.session.commit()
    lookups = {"customer": "Mariana Cadastro", "ticket": ticket.protocol}

    visit.login("admin")
    visit.goto("/", "100-admin-inicio")
    menus = _menus(visit)
    assert len(menus) >= 25, menus
    problems: list[str] = []
    saved: list[str] = []
    for index, (label, href) in enumerate(menus, start=101):
        slug = re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")
        text = visit.goto(href, f"{index}-admin-{slug}")
        view = _view_of(app, urlparse(visit.page.url).path)
        if view is None:
            continue  # pages that are not generated CRUD (search, dashboards, exports, the technician's day)
        list_path = urlparse(visit.page.url).path
        route = view.route_base
        add = visit.page.locator(f"a[href^='{route}/add']")
        saved_pk = None
        if add.count():
            visit.goto(f"{route}/add", f"{index}-admin-{slug}-novo")
            marker = _fill(visit, adding=True, lookups=lookups)
            text = visit.submit("#model_form [type=submit]", f"{index}-admin-{slug}-novo-salvo")
            saved_pk = _check_landing(visit, app, db, view, list_path, text, marker, view.add_columns,
                                      f"{label} (novo)", problems)
            saved.append(f"{label} (novo)")
        if saved_pk is None:
            visit.goto(href, f"{index}-admin-{slug}-lista")
            edit = visit.page.locator(f"a[href^='{route}/edit/']")
            if not edit.count():
                continue
            saved_pk = int(edit.first.get_attribute("href").rstrip("/").rsplit("/", 1)[1])
        visit.goto(f"{route}/edit/{saved_pk}", f"{index}-admin-{slug}-editar")
        if not visit.page.locator("#model_form").count():
            problems.append(f"{label} (editar): sem formulário")
            continue
        _fill(visit, adding=False, lookups=lookups)
        button = "#save-ticket" if visit.page.locator("#save-ticket").count() else "#model_form [type=submit]"
        text = visit.submit(button, f"{index}-admin-{slug}-editar-salvo")
        _check_landing(visit, app, db, view, list_path, text, None, view.edit_columns, f"{label} (editar)",
                       problems)
        saved.append(f"{label} (editar)")
    if problems:
        pytest.fail("formulários que não servem ao administrador:\n  " + "\n  ".join(problems), pytrace=False)
    configuration = ["Assuntos", "Status de atendimento", "Status complementares", "Departamentos",
                     "Canais de atendimento", "Prioridades", "Motivos de fechamento", "Tipos de OS",
                     "Grupos de clientes", "Planos", "Cidades", "Estruturas próprias", "Base de conhecimento",
                     "Clientes", "Contratos", "Usuários", "Perfis", "Grupos"]
    expected = {f"{name} ({kind})" for name in configuration for kind in ("novo", "editar")}
    expected |= {"Parâmetros gerais (editar)", "Atendimentos (editar)",
                 "Ordens de serviço (editar)"}
    assert expected <= set(saved), sorted(expected - set(saved))
    visit.assert_ptbr()


def test_admin_switches_things_off_and_lands_on_the_list(visit: Visit, db):
    """The issue's own steps: subject with every flag off then two on; deactivate; general parameters."""
    from app.models import Channel, GeneralParameters, Subject, TicketStatus

    visit.login("admin")
    visit.goto("/subjectview/add", "130-assunto-novo")
    visit.page.fill("#name", "Visita técnica agendada")
    visit.page.fill("#sla_hours", "48")
    for box in visit.page.locator("#model_form input[type=checkbox]").all():
        box.uncheck()
    text = visit.submit("#model_form [type=submit]", "131-assunto-salvo")
    row = visit.page.locator("#saved-row")
    assert row.count() == 1 and "Visita técnica agendada" in row.inner_text(), text[:400]
    assert urlparse(visit.page.url).path == "/subjectview/list/"
    db.session.expire_all()
    subject = db.session.query(Subject).filter(Subject.name == "Visita técnica agendada").one()
    assert not any((subject.requires_contract, subject.requires_login, subject.requires_channel,
                    subject.requires_sub_status, subject.requires_closing_reason, subject.active))

    visit.goto(f"/subjectview/edit/{subject.id}", "132-assunto-editar")
    visit.page.check("#requires_contract")
    visit.page.check("#requires_channel")
    visit.page.check("#portal_available")  # "Disponível na central" (R30)
    visit.page.check("#active")
    visit.submit("#model_form [type=submit]", "133-assunto-editado")
    assert "Sim" in visit.page.locator("#saved-row").inner_text()
    db.session.expire_all()
    subject = db.session.get(Subject, subject.id)
    assert (subject.requires_contract, subject.requires_channel, subject.requires_login, subject.active) == \
        (True, True, False, True)
    assert subject.portal_available is True

    for model, name, url, shot in ((Channel, "WhatsApp", "/channelview", "134"),
                                   (TicketStatus, "Aguardando análise", "/ticketstatusview", "135"),
                                   (Subject, "Visita técnica agendada", "/subjectview", "136")):
        pk = db.session.query(model.id).filter(model.name == name).scalar()
        visit.goto(f"{url}/edit/{pk}", f"{shot}-desativar")
        visit.page.uncheck("#active")
        visit.submit("#model_form [type=submit]", f"{shot}-desativado")
        row = visit.page.locator("#saved-row")
        assert urlparse(visit.page.url).path == f"{url}/list/" and name in row.inner_text(), visit.page.url
        cells = row.locator("td").all_inner_texts()
        assert cells[-1].strip() == "Não", cells
        db.session.expire_all()
        assert db.session.get(model, pk).active is False

    params_id = db.session.query(GeneralParameters.id).scalar()
    visit.goto(f"/generalparametersview/edit/{params_id}", "137-parametros")
    for box in visit.page.locator("#model_form input[type=checkbox]").all():
        box.uncheck()
    text = visit.submit("#model_form [type=submit]", "138-parametros-salvos")
    assert urlparse(visit.page.url).path == "/generalparametersview/list/" and "Registro salvo" in text
    assert visit.page.locator("#saved-row").inner_text().count("Não") >= 2
    db.session.expire_all()
    params = db.session.get(GeneralParameters, params_id)
    assert params.subject_required is False and params.closing_reason_required is False
    visit.assert_ptbr()
