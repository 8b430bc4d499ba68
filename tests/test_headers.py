"""Headers and sessions: every page carries CSP (nonce, no framing), nosniff and Referrer-Policy; production cookies
are Secure, HttpOnly and SameSite; logout, a new password and deactivation end sessions and tokens on the server."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import PASSWORD
from tests.support import session
from tests.test_i18n import crawl, sample  # noqa: F401  (sample is a fixture)

ROOT = Path(__file__).resolve().parents[1]
SECRET = "0123456789abcdef" * 4


class Recorder:
    """A client whose GETs are kept, to check each page's headers after the crawl."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.pages: dict[str, Any] = {}

    def get(self, url: str, **kwargs: Any) -> Any:
        response = self.client.get(url, **kwargs)
        if response.mimetype == "text/html":
            self.pages[url] = response
        return response


class Scripts(HTMLParser):
    """The nonces of a page's <script> tags, and the inline handlers or javascript: URLs a CSP would block."""

    def __init__(self) -> None:
        super().__init__()
        self.nonces: list[str] = []
        self.blocked: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name.startswith("on"):
                self.blocked.append(f"<{tag} {name}=…>")
            if name in ("href", "src", "action", "formaction") and (value or "").strip().lower().startswith("javascript:"):
                self.blocked.append(f"<{tag} {name}={value}>")
        if tag == "script":
            self.nonces.append(dict(attrs).get("nonce") or "")


def csp(response: Any) -> dict[str, str]:
    header = response.headers.get("Content-Security-Policy", "")
    return {part.split(" ", 1)[0]: part.split(" ", 1)[1] if " " in part else ""
            for part in (p.strip() for p in header.split(";")) if part}


def header_problems(url: str, response: Any) -> list[str]:
    """What a browser would not protect on this page (clickjacking, sniffing, injected scripts, leaking referrers)."""
    problems = []
    policy = csp(response)
    script = policy.get("script-src", "")
    nonce = re.search(r"'nonce-([^']+)'", script)
    if not nonce or "'unsafe-inline'" in script or "'unsafe-eval'" in script or "*" in script:
        problems.append(f"script-src {script!r}")
    if policy.get("frame-ancestors") != "'none'" or response.headers.get("X-Frame-Options") != "DENY":
        problems.append("framing allowed")
    if policy.get("object-src") != "'none'" or policy.get("default-src") != "'self'":
        problems.append(f"default/object-src {policy}")
    if response.headers.get("X-Content-Type-Options") != "nosniff":
        problems.append("no nosniff")
    if response.headers.get("Referrer-Policy") != "same-origin":
        problems.append(f"Referrer-Policy {response.headers.get('Referrer-Policy')!r}")
    scripts = Scripts()
    scripts.feed(response.get_data(as_text=True))
    if nonce and any(value != nonce.group(1) for value in scripts.nonces):
        problems.append("a <script> without the page's nonce")
    problems += scripts.blocked
    return [f"{url}: {problem}" for problem in problems]


@pytest.mark.parametrize("username", ["admin", "gestor", "atendente", "tecnico"])
def test_every_page_of_each_role_carries_the_security_headers(login, sample, username):  # noqa: F811
    recorder = Recorder(login(username).client)
    crawl(recorder)
    assert len(recorder.pages) > (20 if username != "tecnico" else 3), sorted(recorder.pages)
    problems = [problem for url, response in recorder.pages.items() for problem in header_problems(url, response)]
    assert not problems, "\n".join(problems)
    nonces = {csp(response)["script-src"] for response in recorder.pages.values()}
    assert len(nonces) == len(recorder.pages)  # a new nonce on every page


def test_pages_without_login_and_error_pages_carry_the_headers(app, login):
    client = app.test_client()
    answers = {"/login/": client.get("/login/"), "/nada/": client.get("/nada/"),
               "/ticketview/list/": client.get("/ticketview/list/", follow_redirects=True),
               "refused CSRF": client.post("/login/", data={"username": "admin", "password": PASSWORD}),
               "403": login("tecnico").get("/users/list/")}
    assert [r.status_code for r in answers.values()] == [200, 404, 200, 400, 403]
    problems = [problem for url, response in answers.items() for problem in header_problems(url, response)]
    assert not problems, "\n".join(problems)
    api = client.post("/api/v1/security/login", json={"username": "x", "password": "y", "provider": "db"})
    assert api.headers["X-Content-Type-Options"] == "nosniff" and "frame-ancestors 'none'" in api.headers[
        "Content-Security-Policy"]


def test_no_https_redirect_or_hsts_unless_configured(app):
    response = app.test_client().get("/login/", base_url="https://localhost")
    assert response.status_code == 200 and "Strict-Transport-Security" not in response.headers


# ---------------------------------------------------------------- production settings, in another process


def _production(database_url: str, script: str, **env: str) -> Any:
    """Run a script against an app built from config with production settings (no ATENDE_TESTING, no debug)."""
    environment = {k: v for k, v in os.environ.items()
                   if k not in ("ATENDE_TESTING", "FLASK_DEBUG", "SESSION_COOKIE_SECURE", "FORCE_HTTPS")}
    environment.update(SECRET_KEY=SECRET, DATABASE_URL=database_url, RATELIMIT_ENABLED="0",
                       JOBS_IN_PROCESS_WORKER="0", CACHE_TYPE="NullCache", **env)
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(script)], cwd=ROOT, env=environment,
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


LOGIN_SCRIPT = f"""
    import json, re
    from app import create_app
    app = create_app()
    client = app.test_client()
    page = client.get("/login/", base_url="https://localhost")
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.get_data(as_text=True)).group(1)
    done = client.post("/login/", base_url="https://localhost", headers={{"Referer": "https://localhost/login/"}},
                       data={{"username": "gestor", "password": "{PASSWORD}", "csrf_token": token}})
    plain = app.test_client().get("/login/")
    print(json.dumps({{"config": [app.config["SESSION_COOKIE_SECURE"], app.config["REMEMBER_COOKIE_SECURE"]],
                      "cookies": done.headers.getlist("Set-Cookie") + page.headers.getlist("Set-Cookie"),
                      "login": done.status_code, "plain": [plain.status_code, plain.headers.get("Location")],
                      "hsts": done.headers.get("Strict-Transport-Security")}}))
"""


def test_production_cookies_are_secure_httponly_and_samesite(app):
    found = _production(app.config["SQLALCHEMY_DATABASE_URI"], LOGIN_SCRIPT)
    assert found["login"] == 302 and found["config"] == [True, True]
    assert found["cookies"]
    for cookie in found["cookies"]:
        flags = {part.strip().split("=")[0].lower(): part for part in cookie.split(";")[1:]}
        assert "secure" in flags and "httponly" in flags, cookie
        assert flags.get("samesite", "").strip().lower() == "samesite=lax", cookie
    assert found["plain"] == [200, None] and found["hsts"] is None  # no https redirect unless FORCE_HTTPS


def test_force_https_redirects_and_sends_hsts(app):
    found = _production(app.config["SQLALCHEMY_DATABASE_URI"], LOGIN_SCRIPT, FORCE_HTTPS="1")
    assert found["login"] == 302
    assert found["plain"][0] == 302 and found["plain"][1].startswith("https://localhost/login/")
    assert found["hsts"].startswith("max-age=")


def test_local_demo_flag_keeps_the_cookie_on_plain_http(app):
    found = _production(app.config["SQLALCHEMY_DATABASE_URI"], LOGIN_SCRIPT, SESSION_COOKIE_SECURE="0")
    assert found["config"] == [False, False]
    assert all("secure" not in cookie.lower() and "httponly" in cookie.lower() for cookie in found["cookies"])


# ---------------------------------------------------------------- logout ends the session on the server


def _session_cookie(client: Any) -> str:
    return client.get_cookie("session").value


def _replay(app: Any, cookie: str, url: str = "/ticketview/list/") -> Any:
    other = app.test_client()
    other.set_cookie("session", cookie)
    return other.get(url)


def test_a_session_cookie_replayed_after_logout_gets_the_login_page(app, login):
    client = login("gestor")
    stolen = _session_cookie(client.client)
    assert _replay(app, stolen).status_code in (200, 302)
    assert "/login/" not in _replay(app, stolen).headers.get("Location", "")
    client.get("/logout/")
    for url in ("/ticketview/list/", "/users/userinfo/", "/painel/"):
        response = _replay(app, stolen, url)
        assert response.status_code == 302 and "/login/" in response.headers["Location"], url
    assert "Entrar" in _replay(app, stolen, "/login/").get_data(as_text=True)
    again = login("gestor")  # a new login works as before
    assert again.get("/users/userinfo/").status_code == 200


def _api_login(app: Any, username: str, password: str = PASSWORD) -> dict[str, str]:
    response = app.test_client().post("/api/v1/security/login", json={
        "username": username, "password": password, "provider": "db", "refresh": True})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.json


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_tokens_issued_before_a_logout_stop_working(app, login):
    tokens = _api_login(app, "gestor")
    client = app.test_client()
    assert client.get("/api/v1/ticket/", headers=_bearer(tokens["access_token"])).status_code == 200
    login("gestor").get("/logout/")
    refused = client.get("/api/v1/ticket/", headers=_bearer(tokens["access_token"]))
    assert refused.status_code == 401 and refused.json["message"] == "Token inválido ou expirado."
    assert client.post("/api/v1/security/refresh", headers=_bearer(tokens["refresh_token"])).status_code == 401
    fresh = _api_login(app, "gestor")
    assert client.get("/api/v1/ticket/", headers=_bearer(fresh["access_token"])).status_code == 200


def _set_password(app: Any, username: str, password: str) -> None:
    from app.extensions import appbuilder

    with session(app):
        user = appbuilder.sm.find_user(username=username)
        appbuilder.sm.reset_password(user.id, password)


def test_a_new_password_ends_the_other_sessions_and_tokens_but_not_the_one_that_changed_it(app, login):
    tokens = _api_login(app, "atendente")
    laptop, phone = login("atendente"), login("atendente")
    phone_cookie = _session_cookie(phone.client)
    try:
        response = laptop.post("/resetmypassword/form", data={"password": "Outra-senha-forte-42",
                                                               "conf_password": "Outra-senha-forte-42"})
        assert response.status_code == 302
        assert laptop.get("/users/userinfo/").status_code == 200
        replay = _replay(app, phone_cookie, "/users/userinfo/")
        assert replay.status_code == 302 and "/login/" in replay.headers["Location"]
        assert phone.get("/users/userinfo/").status_code == 302
        assert app.test_client().get("/api/v1/ticket/", headers=_bearer(tokens["access_token"])).status_code == 401
        _api_login(app, "atendente", "Outra-senha-forte-42")
    finally:
        _set_password(app, "atendente", PASSWORD)


def test_deactivating_a_user_ends_their_sessions_and_tokens(app, login):
    from app.extensions import appbuilder

    with session(app) as s:
        sm = appbuilder.sm
        user = sm.add_user("temporario", "Tempo", "Rário", "temporario@example.com", sm.find_role("Atendente"),
                           PASSWORD)
        s.commit()
        user_id, role_id = user.id, sm.find_role("Atendente").id
    tokens = _api_login(app, "temporario")
    worker = login("temporario")
    cookie = _session_cookie(worker.client)
    response = login("admin").post(f"/users/edit/{user_id}", data={
        "first_name": "Tempo", "last_name": "Rário", "username": "temporario", "email": "temporario@example.com",
        "roles": [str(role_id)]})  # "Ativo?" left unticked
    assert response.status_code == 302
    with session(app):
        assert appbuilder.sm.get_user_by_id(user_id).active is False
        appbuilder.sm.get_user_by_id(user_id).active = True  # reactivated: the old session stays ended
        appbuilder.sm.update_user(appbuilder.sm.get_user_by_id(user_id))
    replay = _replay(app, cookie, "/users/userinfo/")
    assert replay.status_code == 302 and "/login/" in replay.headers["Location"]
    assert app.test_client().get("/api/v1/ticket/", headers=_bearer(tokens["access_token"])).status_code == 401

