"""Errors answer in pt-BR: a page inside the layout for the back office, JSON {"message"} for the REST API."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from tests import factories

ENGLISH = ["Not Found", "Forbidden", "Bad Request", "Method Not Allowed", "Request Entity Too Large",
           "Too Many Requests", "Internal Server Error", "Traceback", "Unauthorized", "Not authorized",
           "Fatal error", "Access is Denied", "Redirecting"]
ROOT = Path(__file__).resolve().parents[1]


def page_text(response: Any) -> str:
    html = response.get_data(as_text=True)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def assert_page(response: Any, status: int, *expected: str, logged_in: bool = True, home: bool = True) -> str:
    """An error page in pt-BR, inside the application layout, with the right status."""
    html = response.get_data(as_text=True)
    assert response.status_code == status, (status, response.status_code, html[:500])
    assert response.mimetype == "text/html"
    assert '<html lang="pt-BR">' in html
    assert 'class="navbar' in html, "not inside the application layout"
    assert ('href="/logout/"' in html) is logged_in
    assert not home or ('href="/"' in html and "Voltar ao início" in html)
    body = page_text(response)
    for words in expected:
        assert words in body, (words, body[-800:])
    english = [word for word in ENGLISH if word in html]
    assert not english, english
    return body


def assert_json(response: Any, status: int, message: str | None = None) -> str:
    assert response.status_code == status, (status, response.status_code, response.get_data(as_text=True))
    assert response.is_json, response.get_data(as_text=True)
    found = response.json["message"]
    assert isinstance(found, str) and found, response.json
    assert not any(word.lower() in found.lower() for word in ENGLISH + ["Not found", "Request is not JSON"])
    if message:
        assert found == message, found
    return found


@pytest.fixture
def ticket_id(app: Any, users: dict[str, Any]) -> int:
    from app.extensions import db

    with app.app_context():
        ticket = factories.ticket(db.session, db.session.merge(users["atendente"]))
        pk = ticket.id
        db.session.remove()
    return pk


@pytest.mark.parametrize("username", ["admin", "gestor", "atendente", "tecnico", "assinante"])
def test_404_is_a_ptbr_page_in_the_layout_for_every_role(login, username):
    client = login(username)
    for url in ("/nao-existe", "/ticketview/show/999999"):
        response = client.get(url)
        if username == "assinante" and url.startswith("/ticketview"):
            continue  # refused before the record is looked up: the portal pointer (below)
        assert_page(response, 404, "Página não encontrada", "O endereço não existe", "Código do erro: 404")


def test_404_for_a_visitor_offers_the_login(app):
    body = assert_page(app.test_client().get("/nao-existe"), 404, "Página não encontrada", logged_in=False)
    assert "Entrar" in body


@pytest.mark.parametrize("username, url", [
    ("atendente", "/subjectview/add"),
    ("gestor", "/subjectview/add"),
    ("tecnico", "/ticketview/list/"),
    ("tecnico", "/subjectview/list/"),
])
def test_403_from_has_access_is_a_ptbr_page_in_the_layout(login, username, url):
    assert_page(login(username).get(url), 403, "Acesso negado", "O seu perfil não tem permissão",
                "Código do erro: 403")


@pytest.mark.parametrize("url", ["/ticketview/list/", "/subjectview/add", "/painel/", "/atendimento/",
                                 "/users/userinfo/"])
def test_a_customer_refused_in_the_back_office_is_pointed_to_the_portal(login, url):
    response = login("assinante").get(url)
    body = assert_page(response, 403, "Esta é a área da equipe de atendimento", "Central do Assinante", home=False)
    assert 'href="/central/"' in response.get_data(as_text=True)
    assert "Acesso negado" not in body


def test_400_a_form_without_its_token_is_a_ptbr_page(login):
    client = login("atendente")
    response = client.client.post("/ticketview/add", data={"type": "site"})
    assert_page(response, 400, "Solicitação inválida", "a página pode ter expirado")


def test_405_is_a_ptbr_page_that_says_what_is_allowed(login):
    response = login("gestor").post("/painel/")
    assert_page(response, 405, "Operação não permitida")
    assert "GET" in response.headers["Allow"]


def test_413_on_a_form_goes_back_to_it_with_the_message(app, login, ticket_id, monkeypatch):
    client = login("atendente")
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1024 * 1024)
    big = "x" * (2 * 1024 * 1024)
    response = client.post(f"/ticketview/edit/{ticket_id}", data={"opening_description": big})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/ticketview/edit/{ticket_id}")
    workspace = f"/ticketview/edit/{ticket_id}"
    response = client.post(f"/atendimento/atendimento/{ticket_id}/mensagem", data={"body": big},
                           headers={"Referer": f"http://localhost{workspace}"})
    assert response.status_code == 302 and response.headers["Location"].endswith(workspace)
    assert "O arquivo é grande demais: o limite do servidor é de 1 MB. Nada foi salvo." in page_text(client.get(workspace))


def test_413_without_a_form_to_go_back_to_is_a_ptbr_page(app, login, ticket_id, monkeypatch):
    client = login("atendente")
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1024 * 1024)
    response = client.post(f"/atendimento/atendimento/{ticket_id}/mensagem", data={"body": "x" * (2 * 1024 * 1024)})
    assert_page(response, 413, "Arquivo grande demais", "o limite do servidor é de 1 MB")


def test_429_a_stand_in_for_the_limiter_is_a_ptbr_page(app, monkeypatch):
    from flask import abort

    monkeypatch.setitem(app.view_functions, "AuthDBView.login", lambda: abort(429))
    assert_page(app.test_client().get("/login/"), 429, "Muitas tentativas", "Aguarde um minuto", logged_in=False)


def test_429_from_flask_limiter_on_the_login_is_ptbr(tmp_path):
    """The session app runs without the limiter: a fresh one, with it, in another process."""
    script = textwrap.dedent(f"""
        import re
        from app import create_app
        app = create_app(TESTING=True, RATELIMIT_ENABLED=True, AUTH_RATE_LIMIT="2 per 1 minute",
                         FAB_CREATE_DB=True, SQLALCHEMY_DATABASE_URI="sqlite:///{tmp_path}/limit.db",
                         CACHE_TYPE="NullCache", WTF_CSRF_ENABLED=False)
        client = app.test_client()
        for attempt in range(3):
            response = client.post("/login/", data={{"username": "ninguem", "password": "errada"}})
        print(response.status_code)
        print(response.get_data(as_text=True))
    """)
    env = {**os.environ, "ATENDE_TESTING": "1", "RATELIMIT_ENABLED": "1"}
    env.pop("DATABASE_URL", None)
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    status, html = done.stdout.split("\n", 1)
    assert status == "429", done.stdout[:500]
    assert '<html lang="pt-BR">' in html and 'class="navbar' in html
    assert "Muitas tentativas" in html and "Aguarde um minuto e tente de novo." in html
    assert not [word for word in ENGLISH if word in html]


def test_500_rolls_back_and_shows_no_traceback(app, login, monkeypatch):
    from app.extensions import db

    def broken() -> Any:
        db.session.execute(text("SELECT * FROM tabela_que_nao_existe"))

    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    monkeypatch.setitem(app.view_functions, "AgentView.search", broken)
    client = login("atendente")
    response = client.get("/atendimento/")
    body = assert_page(response, 500, "Erro interno", "a operação não foi concluída", "Código do erro: 500")
    assert "tabela_que_nao_existe" not in response.get_data(as_text=True)
    assert "sqlite" not in body.lower() and "psycopg" not in body.lower()
    monkeypatch.undo()
    assert client.get("/").status_code == 200


def test_500_in_the_api_is_ptbr_json_without_details(app, api, monkeypatch):
    from app.api import TicketApi

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("segredo interno")

    client = api("atendente")
    monkeypatch.setattr(TicketApi, "get_list_headless", broken)  # inside FAB's @safe
    found = assert_json(client.get("/api/v1/ticket/"), 500)
    assert "segredo" not in found
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    monkeypatch.setitem(app.view_functions, "TicketApi.info", broken)  # outside it
    response = client.get("/api/v1/ticket/_info")
    assert_json(response, 500, found)
    assert "segredo" not in response.get_data(as_text=True)


def test_api_errors_answer_json_with_a_ptbr_message(app, api, ticket_id):
    agent, technician = api("atendente"), api("tecnico")
    assert_json(agent.get("/api/v1/ticket/999999"), 404, "Recurso não encontrado.")
    assert_json(agent.get("/api/v1/nao-existe/"), 404, "Recurso não encontrado.")
    assert_json(technician.delete(f"/api/v1/ticket/{ticket_id}"), 403,
                "Acesso negado: seu perfil não permite esta operação.")
    assert_json(technician.get("/api/v1/subject/"), 403)
    response = agent.client.patch("/api/v1/ticket/", headers=agent.headers, json={})
    assert_json(response, 405, "Método não permitido neste endereço.")
    assert "GET" in response.headers["Allow"]
    assert_json(agent.put(f"/api/v1/ticket/{ticket_id}", data="x", content_type="text/plain"), 400,
                "O corpo da requisição deve ser JSON.")
    assert_json(agent.get("/api/v1/subject/?q=abc"), 400, "Parâmetro “q” inválido: use Rison ou JSON.")
    assert_json(app.test_client().get("/api/v1/ticket/"), 401)


def test_api_413_is_ptbr_json(app, api, monkeypatch):
    client = api("atendente")
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1024 * 1024)
    response = client.post("/api/v1/ticket/", json={"opening_description": "x" * (2 * 1024 * 1024)})
    assert_json(response, 413, "O arquivo é grande demais: o limite do servidor é de 1 MB. Nada foi salvo.")


def test_remote_selects_asking_for_json_get_json(app):
    response = app.test_client().get("/lookup/customer?q=ana", headers={"Accept": "application/json, */*; q=0.01"})
    assert_json(response, 401, "Não autorizado: entre com usuário e senha válidos ou envie um token válido.")


def test_fab_security_api_answers_ptbr(app):
    from app.apibase import AtendeSecurityApi
    from app.extensions import appbuilder

    with app.test_request_context():
        assert AtendeSecurityApi.response(401, message="Not authorized").json["message"].startswith("Não autorizado")
    assert issubclass(appbuilder.sm.security_api, AtendeSecurityApi)
    client = app.test_client()
    response = client.post("/api/v1/security/login", json={"username": "x", "password": "y", "provider": "db"})
    assert_json(response, 401)
    assert_json(client.post("/api/v1/security/login", data="x", content_type="text/plain"), 400,
                "O corpo da requisição deve ser JSON.")
