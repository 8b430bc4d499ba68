"""Accounts: login throttling shared by every gunicorn worker, progressive locks, the password policy wherever a
password is set, and `flask init` without ADMIN_PASSWORD (a generated password printed once, never admin/admin)."""
from __future__ import annotations

import datetime as dt
import http.client
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Iterator, Optional
from urllib.parse import urlencode

import pytest
import sqlalchemy as sa

from tests.conftest import PASSWORD, _database_url, csrf_token
from tests.support import session

ROOT = Path(__file__).resolve().parents[1]
LOCKED = "conta bloqueada temporariamente"
STRONG = "Alvo-da-forca-bruta-77"
WEAK = ["1", "admin", "demo12345", "senha12345", "1234567890", "qwertyuiop", "aaaaaaaaaaaa"]


# ---------------------------------------------------------------- a real gunicorn with 4 workers


class Server:
    """HTTP to the gunicorn under test; cookies are kept by hand (they are Secure, the test speaks plain HTTP)."""

    def __init__(self, port: int, log: Path) -> None:
        self.port = port
        self.log = log

    def request(self, method: str, path: str, body: Optional[bytes] = None, headers: Optional[dict] = None
                ) -> tuple[int, dict[str, str], list[str], str]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            text = response.read().decode("utf-8", "replace")
            return response.status, dict(response.getheaders()), response.headers.get_all("Set-Cookie") or [], text
        finally:
            connection.close()

    def form_session(self) -> tuple[str, str]:
        """A session cookie and its CSRF token, from the login page."""
        status, _headers, cookies, html = self.request("GET", "/login/")
        assert status == 200
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
        cookie = next(c for c in cookies if c.startswith("session="))
        return cookie.split(";")[0], token

    def form_login(self, cookie: str, token: str, username: str, password: str) -> tuple[int, dict, str]:
        body = urlencode({"username": username, "password": password, "csrf_token": token}).encode()
        status, headers, _cookies, text = self.request("POST", "/login/", body, {
            "Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"})
        return status, headers, text

    def api_login(self, username: str, password: str) -> tuple[int, dict, dict]:
        body = json.dumps({"username": username, "password": password, "provider": "db"}).encode()
        status, headers, _cookies, text = self.request("POST", "/api/v1/security/login", body,
                                                       {"Content-Type": "application/json"})
        return status, headers, json.loads(text)

    def workers_that_served(self, path: str) -> set[str]:
        """The worker pids of the POSTs to a path (gunicorn's access log, '%(p)s')."""
        return {line.split()[0] for line in self.log.read_text().splitlines() if f"POST {path} " in line}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _env(database_url: str, folder: str) -> dict[str, str]:
    """Production settings (no ATENDE_TESTING, Secure cookies, the limiter in memory per worker)."""
    env = {k: v for k, v in os.environ.items() if k not in (
        "ATENDE_TESTING", "FLASK_DEBUG", "SESSION_COOKIE_SECURE", "RATELIMIT_ENABLED", "ADMIN_PASSWORD",
        "ADMIN_USERNAME", "DEMO_PASSWORD", "FLASK_APP")}
    env.update(SECRET_KEY="fedcba9876543210" * 4, DATABASE_URL=database_url, JOBS_IN_PROCESS_WORKER="0",
               JOBS_URL=f"sqlite:///{folder}/jobs.sqlite3", CACHE_DIR=f"{folder}/cache", EXPORT_FOLDER=f"{folder}/exp",
               UPLOAD_FOLDER=f"{folder}/uploads")
    return env


def flask(env: dict[str, str], *args: str, **extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "flask", "--app", "run", *args], cwd=ROOT, env={**env, **extra},
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def prepared() -> Iterator[dict[str, Any]]:
    """A database built by the migrations, with the admin made by `flask init` (twice) and a Gestor."""
    url, drop = _database_url()
    folder = tempfile.mkdtemp(prefix="atende-accounts-")
    env = _env(url, folder)
    try:
        assert flask(env, "db", "upgrade").returncode == 0
        first, second = flask(env, "init"), flask(env, "init")
        created = flask(env, "fab", "create-user", "--role", "Gestor", "--username", "alvo", "--firstname", "Alvo",
                        "--lastname", "Teste", "--email", "alvo@example.com", "--password", STRONG)
        assert created.returncode == 0 and "created" in created.stdout, created.stdout + created.stderr
        yield {"env": env, "url": url, "folder": folder, "first": first, "second": second}
    finally:
        drop()


@pytest.fixture(scope="module")
def server(prepared: dict[str, Any]) -> Iterator[Server]:
    port = _free_port()
    log = Path(prepared["folder"]) / "access.log"
    errors = Path(prepared["folder"]) / "error.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", "4", "--worker-class", "sync", "--bind", f"127.0.0.1:{port}",
         "--access-logfile", str(log), "--access-logformat", "%(p)s %(r)s %(s)s", "--error-logfile", str(errors),
         "run:app"], cwd=ROOT, env=prepared["env"], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    server = Server(port, log)
    try:
        deadline = time.monotonic() + 120
        while True:
            assert process.poll() is None, errors.read_text()[-3000:]
            try:
                if server.request("GET", "/login/")[0] == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, errors.read_text()[-3000:]
            time.sleep(0.5)
        time.sleep(3)  # let the other workers finish booting
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def _admin_password(prepared: dict[str, Any]) -> str:
    match = re.search(r"criado com a senha gerada: (\S+)", prepared["first"].stdout)
    assert match, prepared["first"].stdout + prepared["first"].stderr
    return match.group(1)


def test_init_without_admin_password_prints_a_generated_password_once(prepared, server):
    first, second = prepared["first"], prepared["second"]
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    password = _admin_password(prepared)
    assert password != "admin" and len(password) >= 10
    assert "Anote-a agora: ela não será mostrada de novo." in first.stdout
    assert "Administrador admin já existe." in second.stdout and password not in second.stdout + second.stderr
    assert server.api_login("admin", "admin")[0] == 401
    status, _headers, tokens = server.api_login("admin", password)
    assert status == 200 and tokens["access_token"]


def test_eleventh_wrong_password_on_the_form_is_refused_across_workers(server):
    cookie, token = server.form_session()
    with ThreadPoolExecutor(max_workers=6) as pool:  # in parallel: the count must hold between processes
        answers = list(pool.map(lambda n: server.form_login(cookie, token, "admin", f"errada-{n}"), range(14)))
    statuses = sorted(status for status, _headers, _text in answers)
    assert statuses == [302] * 10 + [429] * 4, statuses
    status, headers, text = server.form_login(cookie, token, "admin", "errada-15")
    assert status == 429 and LOCKED in text and 'name="username"' in text and '<html lang="pt-BR">' in text
    assert 0 < int(headers["Retry-After"]) <= 60
    assert len(server.workers_that_served("/login/")) >= 2, server.log.read_text()


def test_eleventh_wrong_password_on_the_jwt_login_is_refused_too(server, prepared):
    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(lambda n: server.api_login("alvo", f"errada-{n}"), range(14)))
    statuses = sorted(status for status, _headers, _body in answers)
    assert statuses == [401] * 10 + [429] * 4, statuses
    status, headers, body = server.api_login("alvo", STRONG)  # even the right password waits for the lock
    assert status == 429 and LOCKED in body["message"] and "Retry-After" in headers
    assert len(server.workers_that_served("/api/v1/security/login")) >= 2


def test_the_lock_does_not_tell_whether_the_account_exists(server):
    answers = [server.api_login("ninguem-aqui", f"errada-{n}") for n in range(11)]
    assert [status for status, _h, _b in answers] == [401] * 10 + [429]
    status, _headers, body = server.api_login("alvo", "errada")  # locked above: the same answer
    assert (status, body["message"]) == (answers[-1][0], answers[-1][2]["message"])


def test_behind_a_proxy_the_client_address_is_counted(prepared):
    script = """
from app import create_app
client = create_app().test_client()
answer = client.post("/api/v1/security/login", json={"username": "proxy", "password": "errada", "provider": "db"},
                     headers={"X-Forwarded-For": "203.0.113.7"})
print(answer.status_code)
"""
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env={**prepared["env"], "PROXY_COUNT": "1"},
                          capture_output=True, text=True, timeout=180)
    assert done.stdout.strip().endswith("401"), done.stderr[-2000:]
    engine = sa.create_engine(prepared["url"])
    try:
        with engine.connect() as conn:
            keys = set(conn.scalars(sa.text("SELECT key FROM login_throttle")))
    finally:
        engine.dispose()
    assert {"ip:203.0.113.7", "name:proxy"} <= keys


def _redis_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return True
    except OSError:
        return False


@pytest.mark.skipif(not _redis_up(), reason="Redis não está rodando em 127.0.0.1:6379")
def test_with_redis_the_request_limit_of_both_logins_is_shared_between_processes(prepared):
    """Flask-Limiter (AUTH_RATE_LIMIT) on the form and the JWT login, counted in Redis by every process."""
    script = """
import sys
from app import create_app
app = create_app(AUTH_RATE_LIMIT="3 per 1 minute", RATELIMIT_KEY_PREFIX=sys.argv[1], WTF_CSRF_ENABLED=False)
client = app.test_client()
for n in range(int(sys.argv[2])):
    api = client.post("/api/v1/security/login", json={"username": f"u{n}", "password": "x", "provider": "db"})
    form = client.post("/login/", data={"username": f"u{n}", "password": "x"})
    print(api.status_code, form.status_code, api.get_json()["message"])
"""
    env = {**prepared["env"], "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/15"}
    prefix = f"atende-test-{os.getpid()}-{time.time_ns()}"
    answers = []
    for count in (2, 2):  # two processes: the second one's 2nd try is the 4th within the minute
        done = subprocess.run([sys.executable, "-c", script, prefix, str(count)], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=180)
        assert done.returncode == 0, done.stderr[-2000:]
        answers += done.stdout.strip().splitlines()
    assert [line.split(" ", 2)[:2] for line in answers] == [["401", "302"]] * 3 + [["429", "429"]]
    assert answers[-1].split(" ", 2)[2] == "Muitas requisições em pouco tempo. Aguarde um minuto e tente de novo."


# ---------------------------------------------------------------- progressive locks, unlock (the domain, in time)


def test_locks_grow_and_end_and_a_success_resets_the_account(app):
    from app.domain import accounts

    start = dt.datetime(2026, 11, 27, 9, 0)
    with session(app) as s:
        def attempt(minute: float, success: bool = False) -> None:
            when = start + dt.timedelta(minutes=minute)
            accounts.end_login(s, accounts.begin_login(s, "name:vitima", "10.0.0.1", when), success, when)

        for _ in range(10):
            attempt(0)
        with pytest.raises(accounts.TooManyAttempts) as locked:
            attempt(0.5)
        assert locked.value.status == 429 and "1 min" in locked.value.message
        for _ in range(10):  # after a minute: ten more, then 15 minutes
            attempt(1.1)
        with pytest.raises(accounts.TooManyAttempts) as locked:
            attempt(10)
        assert "7 min" in locked.value.message  # 15 minutes from 1.1, asked at 10
        for _ in range(10):
            attempt(16.2)
        with pytest.raises(accounts.TooManyAttempts):
            attempt(70)
        attempt(77, success=True)  # the lock is over; the right password clears everything
        for _ in range(9):
            attempt(78)
        attempt(78, success=True)  # the 10th attempt is right: no lock
        attempt(78)
        assert s.scalar(sa.text("SELECT failures FROM login_throttle WHERE key = 'name:vitima'")) == 1


def test_one_address_trying_many_accounts_is_locked(app):
    from app.domain import accounts

    now = dt.datetime(2026, 11, 27, 9, 0)
    with session(app) as s:
        for n in range(accounts.IP_STEP):
            accounts.begin_login(s, f"name:conta-{n}", "10.9.9.9", now)
        with pytest.raises(accounts.TooManyAttempts):
            accounts.begin_login(s, "name:outra", "10.9.9.9", now)
        accounts.begin_login(s, "name:outra", "10.9.9.10", now)  # another address is not affected


def test_an_administrator_reset_lifts_the_lock(app, login, users):
    client = app.test_client()
    token = csrf_token(client)
    for n in range(10):
        response = client.post("/login/", data={"username": "tecnico2", "password": f"errada-{n}", "csrf_token": token})
        assert response.status_code == 302
    locked = client.post("/login/", data={"username": "tecnico2", "password": PASSWORD, "csrf_token": token})
    assert locked.status_code == 429 and LOCKED in locked.get_data(as_text=True)
    admin = login("admin")
    response = admin.post(f"/resetpassword/form?pk={users['tecnico2'].id}",
                          data={"password": PASSWORD, "conf_password": PASSWORD})
    assert response.status_code == 302
    response = client.post("/login/", data={"username": "tecnico2", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302 and "/login/" not in response.headers["Location"]


# ---------------------------------------------------------------- the password policy wherever a password is set


def _policy_message(text: str) -> bool:
    return ("A senha deve ter pelo menos 10 caracteres." in text
            or "Senha fácil de adivinhar" in text)


def test_policy_refuses_short_and_common_passwords():
    from app.domain import accounts
    from app.domain.errors import ValidationError

    for password in WEAK + ["Bruna.Teixeira", "Primavera2026", "Flamengo1981!"]:
        with pytest.raises(ValidationError):
            accounts.check_password(password, ["bruna", "Teixeira", "bruna@atende.demo"])
    for password in (PASSWORD, STRONG, "Atende-demo-2026", "minha casa amarela"):
        accounts.check_password(password)


def test_new_user_form_refuses_a_weak_password_in_portuguese(app, login):
    from app.extensions import appbuilder

    admin = login("admin")
    with session(app):
        role = appbuilder.sm.find_role("Atendente").id
    for password in ("1", "senha12345", "fulano1234"):
        response = admin.post("/users/add", data={
            "first_name": "Fulano", "last_name": "Teste", "username": "fulano", "active": "y",
            "email": "fulano@example.com", "roles": [str(role)], "password": password, "conf_password": password})
        assert response.status_code == 200 and _policy_message(response.get_data(as_text=True)), password
    with session(app):
        assert appbuilder.sm.find_user(username="fulano") is None
    page = admin.get("/users/add").get_data(as_text=True)
    assert "Pelo menos 10 caracteres" in page


def test_reset_password_and_reset_my_password_refuse_a_weak_one(app, login, users):
    admin, agent = login("admin"), login("atendente2")
    for client, url in ((admin, f"/resetpassword/form?pk={users['atendente2'].id}"), (agent, "/resetmypassword/form")):
        page = client.get(url).get_data(as_text=True)
        assert "Pelo menos 10 caracteres" in page and "não verifica" not in page
        for password in ("1", "12345678901", "atendente2-2026"[:10]):
            response = client.post(url, data={"password": password, "conf_password": password})
            assert response.status_code == 200 and _policy_message(response.get_data(as_text=True)), (url, password)
    assert login("atendente2").get("/users/userinfo/").status_code == 200  # the password did not change
    for pk in ("abc", "99999999999999999999", "999999"):
        response = admin.post(f"/resetpassword/form?pk={pk}", data={"password": STRONG, "conf_password": STRONG})
        assert response.status_code == 404, pk


def test_cli_refuses_weak_passwords_in_portuguese(prepared):
    env = prepared["env"]
    results = [
        flask(env, "init", ADMIN_USERNAME="outroadmin", ADMIN_PASSWORD="admin"),
        flask(env, "fab", "create-admin", "--username", "fraco", "--firstname", "F", "--lastname", "R",
              "--email", "fraco@example.com", "--password", "123456"),
        flask(env, "fab", "reset-password", "--username", "alvo", "--password", "admin"),
        flask(env, "seed-demo", DEMO_PASSWORD="demo12345"),
    ]
    for result in results:
        assert result.returncode != 0, result.stdout
        assert "A senha deve ter pelo menos 10 caracteres." in result.stderr, result.stderr[-2000:]
        assert "Traceback" not in result.stderr
    engine = sa.create_engine(prepared["url"])
    try:
        with engine.connect() as conn:
            names = set(conn.scalars(sa.text("SELECT username FROM ab_user")))
    finally:
        engine.dispose()
    assert names == {"admin", "alvo"}
