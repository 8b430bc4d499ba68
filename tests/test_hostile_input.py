"""Hostile input never breaks a page (issue 10, must show 4): every route, every role, forged ids and values.

Each UI route of ``app.url_map`` is called with its path parameters filled with hostile values (ids past 64 bits,
negative, not a number, a NUL byte, a long string), the list, filter, search, look-up and paging arguments with
hostile values, and a POST of hostile form fields (with the CSRF token) where the route accepts POST; as every staff
role and an Assinante. No answer is a 500, and every error is a pt-BR 4xx: a page in the layout, or JSON with a
pt-BR ``message``. The REST API gets the same with hostile ids, paging, rison and bodies.
"""
from __future__ import annotations

import json
import re
from typing import Any, Iterator, Optional
from urllib.parse import quote, urlencode

import pytest

from tests import factories
from tests.support import session

BIG = str(2**64)
PATH_VALUES = [BIG, "-1", "abc", "\x00", "9" * 2000]
ARG_VALUES = [BIG, "-1", "abc", "a\x00b", "9999-12-31", "31/12/0001", "²", "x" * 3000, "1,2," + BIG]
ROLES = ["admin", "gestor", "atendente", "tecnico", "assinante"]
# routes a sweep must not call: they end the session, or change the logged-in user's password
SKIPPED = {"AuthDBView.logout", "AuthDBView.login", "ResetMyPasswordView.this_form_post",
           "ResetPasswordView.this_form_post", "static", "appbuilder.static"}
ENGLISH = re.compile(r"\b(not found|forbidden|bad request|not allowed|internal server error|traceback|invalid|"
                     r"unauthorized|required field|must be|missing|not a valid|error)\b", re.I)
PORTUGUESE = re.compile(r"[ãõçáéíóúâêô]|\b(não|inválid|inexistente|obrigatóri|requisição|caracteres|página|"
                        r"encontrad|permitid|acesso|campo|informe|use)\w*", re.I)
ENGLISH_PAGES = ["Not Found", "Forbidden", "Bad Request", "Method Not Allowed", "Internal Server Error", "Traceback",
                 "Unauthorized", "Not authorized", "Access is Denied", "Redirecting", "Invalid"]
FAB_LIST_ARGS = ["page_{view}", "psize_{view}", "_oc_{view}", "_od_{view}", "_flt_0_name", "_flt_1_id",
                 "_flt_0_opened_at", "_flt_2_status", "_flt_0_active"]


def criteria_names() -> list[str]:
    from app.domain.service_order_filters import SERVICE_ORDER_CRITERIA
    from app.domain.ticket_filters import TICKET_CRITERIA

    names = {criterion.name for found in (TICKET_CRITERIA, SERVICE_ORDER_CRITERIA) for criterion in found.criteria}
    return sorted(names | {"q", "customer", "cliente", "subject", "cancelados", "page", "psize", "order",
                           "direction", "salvo", "scope", "layout", "back", "atualizar", "periodo", "dias"})


def fill(rule: Any, value: str) -> str:
    """The rule's URL with every path parameter replaced by the (percent-encoded) value."""
    return re.sub(r"<[^>]+>", lambda _match: quote(value, safe=""), rule.rule)


def ui_rules(app: Any) -> list[Any]:
    return sorted((rule for rule in app.url_map.iter_rules()
                   if rule.endpoint not in SKIPPED and not rule.rule.startswith(("/api/", "/static"))),
                  key=lambda rule: rule.rule)


def problem(response: Any, what: str) -> Optional[str]:
    """Why an answer is not acceptable (a 5xx, or an error that is not pt-BR), or None."""
    status = response.status_code
    if status >= 500:
        return f"{status} {what}"
    if status < 400:
        return None
    if response.is_json:
        message = (response.get_json(silent=True) or {}).get("message")
        text = json.dumps(message, ensure_ascii=False) if not isinstance(message, str) else message
        if not message or ENGLISH.search(text) or not PORTUGUESE.search(text):
            return f"{status} {what}: JSON message not pt-BR: {text[:200]}"
        return None
    html = response.get_data(as_text=True)
    english = [phrase for phrase in ENGLISH_PAGES if phrase in html]
    layout = 'class="navbar' in html or '<body class="portal">' in html  # the back office's or the portal's
    if '<html lang="pt-BR">' not in html or not layout or english:
        return f"{status} {what}: not a pt-BR page in the layout ({english}): {html[:200]!r}"
    return None


def call(client: Any, method: str, url: str, what: str, **kwargs: Any) -> tuple[Optional[str], int]:
    """Call the route: (the problem found or None, the status); an exception escaping the application is a 500."""
    try:
        response = getattr(client, method)(url, **kwargs)
    except Exception as error:  # noqa: BLE001 - with TESTING, an unhandled error reaches the test client
        frame = error.__traceback__
        while frame.tb_next is not None:
            frame = frame.tb_next
        where = f"{frame.tb_frame.f_code.co_filename}:{frame.tb_lineno}"
        return f"500 {what}: {type(error).__name__}: {str(error)[:150]} at {where}", 500
    return problem(response, what), response.status_code


def sweep(client: Any, token: str, rules: list[Any], role: str) -> Iterator[Optional[str]]:
    """Call every route with hostile path values, list arguments and form fields; yield each problem found.

    Role i fills each route's path with hostile value i (+ the route's number), so over the five roles every value
    meets every route. A list the role may open (not a 403) also gets the criteria and FAB's paging, ordering and
    filter arguments with two hostile values (2i and 2i+1, in turn), and a forged selection of rows."""
    turn = ROLES.index(role)
    for number, rule in enumerate(rules):
        methods = rule.methods - {"HEAD", "OPTIONS"}
        value = PATH_VALUES[(number + turn) % len(PATH_VALUES)] if rule.arguments else ""
        url = fill(rule, value)
        allowed = False
        if "GET" in methods:
            found, status = call(client, "get", url, f"GET {url[:120]!r} as {role}")
            allowed = status != 403
            yield found
        if "POST" in methods:
            hostile = ARG_VALUES[(number + turn) % len(ARG_VALUES)]
            data = {name: hostile for name in POST_FIELDS}
            data.update(csrf_token=token, rowid=["1"], action=value or hostile)
            found, status = call(client, "post", url, f"POST {url[:120]!r} ({hostile[:20]!r}) as {role}", data=data)
            allowed = allowed or status != 403
            yield found
        if rule.arguments or not allowed:
            continue
        if "POST" in methods:
            data = {"csrf_token": token, "rowid": [BIG, "abc", "-1"], "confirm": "1"}
            yield call(client, "post", rule.rule, f"POST {rule.rule} rowid as {role}", data=data)[0]
        if "GET" in methods and rule.rule.endswith("/"):
            view = rule.endpoint.split(".")[0]
            for names in (criteria_names(), [name.format(view=view) for name in FAB_LIST_ARGS]):
                for step in range(2):
                    value = ARG_VALUES[(number + 2 * turn + step) % len(ARG_VALUES)]
                    url = f"{rule.rule}?{urlencode({name: value for name in names})}"
                    yield call(client, "get", url, f"GET {rule.rule}?{names[0]}…={value[:30]!r} as {role}")[0]
    for number, (method, path) in enumerate(ARGUMENT_PAGES):  # pages whose path is fixed, with hostile arguments
        for step in range(2):
            value = ARG_VALUES[(number + 2 * turn + step) % len(ARG_VALUES)]
            url = f"{path}?{urlencode({name: value for name in criteria_names()})}"
            data = {"csrf_token": token} if method == "post" else None
            yield call(client, method, url, f"{method.upper()} {path}?…={value[:30]!r} as {role}", data=data)[0]


ARGUMENT_PAGES = [("get", "/lookup/customer"), ("get", "/lookup/contract"), ("get", "/lookup/ticket"),
                  ("get", "/atendimento/base-de-conhecimento"), ("post", "/exportar/tickets/xlsx"),
                  ("post", "/exportar/service_orders/pdf")]


POST_FIELDS = ["q", "name", "body", "text", "reason", "closing_description", "closing_reason", "select_all",
               "confirm", "status", "subject", "department", "priority", "customer", "contract", "type", "visibility",
               "closing_notes", "scheduled_start", "scheduled_end", "due_at", "change_status", "change_due_at",
               "service_orders", "technician", "assignees_add", "expected_version", "opening_description",
               "document", "person_type", "phone", "email", "street", "city", "sla_hours", "category", "notes"]


@pytest.fixture
def records(app: Any, users: dict[str, Any]) -> None:
    """A ticket with a service order, so that lists and look-ups have something to read."""
    from app.domain import service_orders
    from app.models import ServiceOrder

    with session(app) as s:
        agent = s.merge(users["atendente"])
        ticket = factories.ticket(s, agent)
        service_orders.create_service_order(s, ServiceOrder(ticket=ticket, technician=s.merge(users["tecnico"]),
                                                            description="Trocar ONU"), agent)
        s.commit()


def test_every_ui_route_answers_hostile_input_in_portuguese_without_a_500(app, login, records):
    rules = ui_rules(app)
    assert len(rules) > 150
    problems: list[str] = []
    for role in ROLES:
        client = login(role)
        problems += [found for found in sweep(client, client.token, rules, role) if found]
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems[:60])


# ---------------------------------------------------------------- the REST API

RISON = ["(page:-1)", "(page:abc)", "(page_size:-5)", "(page_size:!t)", "(page:" + BIG + ")", "!(1,2)", "'texto'",
         "(filters:!((col:id,opr:eq,value:" + BIG + ")))", "(filters:!((col:customer,opr:rel_o_m,value:abc)))",
         "(filters:!((col:opened_at,opr:gt,value:'9999-99-99')))", "(filters:!((col:name,opr:eq,value:!(1))))",
         "(filters:!((col:status,opr:rel_o_m,value:(id:1))))", "(order_column:nao_existe,order_direction:asc)",
         "(columns:!(1,2))", "(keys:!(nao_existe))", "(a:" * 3000 + "1" + ")" * 3000, "(filters:'a\x00b')",
         "(add_columns:(customer:(page:-1,page_size:-1)))", "(filters:!((col:status,opr:rel_o_m,value:!t)))"]
BODIES = ["[]", '"texto"', "null", "1", "[" * 5000 + "]" * 5000, '{"name": "\\ud800"}', '{"name": "a\\u0000b"}',
          '{"status": ' + BIG + '}', '{"subject": 1099511627776}', '{"status": 999999}', '{"customer": {"id": 1}}',
          '{"name": "   "}', '{"name": ""}', '{"sla_hours": -5}', '{"category": "nao_existe"}',
          '{"opening_description": "' + "x" * 10_001 + '"}', '{"ids": [' + BIG + ', -1]}', "{"]


def api_problem(response: Any, what: str) -> Optional[str]:
    if response.status_code >= 500:
        return f"{response.status_code} {what}: {response.get_data(as_text=True)[:200]}"
    if response.status_code >= 400:
        return problem(response, what) if response.is_json else f"{response.status_code} {what}: not JSON"
    return None


def api_sweep(client: Any, app: Any) -> Iterator[Optional[str]]:
    rules = [rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/v1/")
             and "security" not in rule.rule]
    for number, rule in enumerate(sorted(rules, key=lambda rule: rule.rule)):
        methods = sorted(rule.methods - {"HEAD", "OPTIONS"})
        for value in [*PATH_VALUES[:3], "1"] if rule.arguments else [""]:
            url = fill(rule, value)
            for method in methods:
                if method == "DELETE" and value == "1":
                    continue  # a real record: hostile bodies are for writes that refuse them
                if method == "GET":
                    for q in RISON if not rule.arguments or rule.rule.endswith("_info") else [""]:
                        target = f"{url}?{urlencode({'q': q})}" if q else url
                        yield api_problem(client.get(target), f"GET {target[:100]!r}")
                    continue
                for body in [BODIES[(number + len(value) + step) % len(BODIES)] for step in range(4)]:
                    response = getattr(client, method.lower())(url, data=body, content_type="application/json")
                    yield api_problem(response, f"{method} {url[:80]!r} {body[:40]!r}")


def test_every_api_operation_answers_hostile_ids_paging_and_bodies_in_portuguese(app, api, records):
    problems: list[str] = []
    for role in ROLES:
        problems += [found for found in api_sweep(api(role), app) if found]
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems[:60])
