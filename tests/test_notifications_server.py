"""Must-show 6: the application served as `make run` serves it (flask db upgrade, init, seed-demo, then gunicorn with 4
sync workers and the in-process job worker) sends the protocol e-mail to the SMTP server named by MAIL_SERVER/MAIL_PORT
with no other process started; without a mail server it serves all the same and the e-mails wait in the outbox, where
the administrator sees them. `flask jobs-worker` (the production worker) sweeps the outbox too."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Iterator

import pytest
import sqlalchemy as sa

from tests.conftest import _database_url
from tests.mailbox import Mailbox, body_of, free_port, wait_for
from tests.test_accounts import Server

ROOT = Path(__file__).resolve().parents[1]
ADMIN_PASSWORD = "Admin-Forte-Notifica-2026"
CUSTOMER_EMAIL = "assinante.gunicorn@example.com"


def _env(url: str, folder: str, **extra: str) -> dict[str, str]:
    """The environment `make run` gives the app: no test switches, SECRET_KEY, cookies over plain HTTP."""
    env = {k: v for k, v in os.environ.items() if k not in (
        "ATENDE_TESTING", "FLASK_DEBUG", "RATELIMIT_ENABLED", "JOBS_IN_PROCESS_WORKER", "MAIL_SERVER", "MAIL_PORT",
        "SMS_PROVIDER", "NOTIFY_IN_BACKGROUND", "FLASK_APP")}
    env.update(SECRET_KEY="0123456789abcdef" * 4, DATABASE_URL=url, SESSION_COOKIE_SECURE="0",
               ADMIN_PASSWORD=ADMIN_PASSWORD, DEMO_PASSWORD="Demonstracao-Forte-2026",
               JOBS_URL=f"sqlite:///{folder}/jobs.sqlite3", CACHE_DIR=f"{folder}/cache",
               EXPORT_FOLDER=f"{folder}/exports", UPLOAD_FOLDER=f"{folder}/uploads", **extra)
    return env


def _flask(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "run", *args], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, (args, result.stdout[-2000:] + result.stderr[-2000:])
    return result


class Running:
    """A process started for the test, stopped (and waited for) at the end."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path) -> None:
        self.log = log
        self.process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


def _gunicorn(env: dict[str, str], folder: str, name: str) -> tuple[Running, Server]:
    """gunicorn exactly as the Makefile's `run` target starts it."""
    port = free_port()
    log = Path(folder) / f"{name}.log"
    running = Running([sys.executable, "-m", "gunicorn", "--workers", "4", "--worker-class", "sync", "--bind",
                       f"127.0.0.1:{port}", "--access-logfile", "-", "run:app"], env, log)
    server = Server(port, log)
    deadline = time.monotonic() + 120
    while True:
        assert running.process.poll() is None, log.read_text()[-3000:]
        try:
            if server.request("GET", "/health")[0] == 200:
                break
        except OSError:
            pass
        assert time.monotonic() < deadline, log.read_text()[-3000:]
        time.sleep(0.5)
    return running, server


@pytest.fixture(scope="module")
def installed() -> Iterator[dict[str, Any]]:
    """`make run`'s steps before gunicorn: migrations, init, demo data; plus one customer with an e-mail."""
    url, drop = _database_url()
    folder = tempfile.mkdtemp(prefix="atende-notify-")
    env = _env(url, folder)
    try:
        _flask(env, "db", "upgrade")
        _flask(env, "init")
        _flask(env, "seed-demo")
        engine = sa.create_engine(url)
        with engine.begin() as conn:
            customer = conn.execute(sa.text(
                "INSERT INTO customer (person_type, name, document, active, created_at, accepts_email, accepts_sms) "
                "VALUES ('PF', 'Cliente do Gunicorn', '39053344705', :t, CURRENT_TIMESTAMP, :t, :t) RETURNING id"),
                {"t": True}).scalar()
            conn.execute(sa.text("INSERT INTO customer_email (customer_id, email, is_primary) VALUES (:c, :e, :t)"),
                         {"c": customer, "e": CUSTOMER_EMAIL, "t": True})
            subject = conn.execute(sa.text("SELECT id FROM subject WHERE active = :t AND requires_contract = :f "
                                           "AND requires_login = :f AND requires_channel = :f "
                                           "AND requires_sub_status = :f ORDER BY id LIMIT 1"),
                                   {"t": True, "f": False}).scalar()
        yield {"env": env, "url": url, "folder": folder, "engine": engine, "customer": customer, "subject": subject}
        engine.dispose()
    finally:
        drop()


def _open_ticket(server: Server, installed: dict[str, Any], text: str) -> str:
    status, _headers, tokens = server.api_login("admin", ADMIN_PASSWORD)
    assert status == 200, tokens
    import json

    body = json.dumps({"customer": installed["customer"], "subject": installed["subject"],
                       "opening_description": text}).encode()
    status, _headers, _cookies, answer = server.request("POST", "/api/v1/ticket/", body, {
        "Content-Type": "application/json", "Authorization": f"Bearer {tokens['access_token']}"})
    assert status == 201, answer
    with installed["engine"].connect() as conn:
        return conn.execute(sa.text("SELECT protocol FROM ticket WHERE id = :i"), {"i": json.loads(answer)["id"]}).scalar()


def _outbox(installed: dict[str, Any], protocol: str) -> list[Any]:
    with installed["engine"].connect() as conn:
        return list(conn.execute(sa.text(
            "SELECT n.status, n.attempts, n.recipient FROM notification n JOIN ticket t ON t.id = n.ticket_id "
            "WHERE t.protocol = :p AND n.channel = 'email'"), {"p": protocol}))


def test_make_run_without_a_mail_server_serves_and_keeps_the_emails_then_a_worker_sends_them(installed):
    running, server = _gunicorn(installed["env"], installed["folder"], "no-mail")
    try:
        status, _headers, _cookies, health = server.request("GET", "/health")
        assert status == 200 and '"worker":"running"' in health.replace(" ", ""), "the worker runs before any job"
        protocol = _open_ticket(server, installed, "Sem conexão, aberto sem servidor de e-mail")
        time.sleep(3)  # several sweeps of every worker
        assert [tuple(r) for r in _outbox(installed, protocol)] == [("pending", 0, CUSTOMER_EMAIL)]
        cookie, token = server.form_session()
        status, headers, _text = server.form_login(cookie, token, "admin", ADMIN_PASSWORD)
        assert status == 302, _text[:500]
        session_cookie = next((c.split(";")[0] for c in headers.get("Set-Cookie", "").split(", ") if
                               c.startswith("session=")), cookie)
        status, _headers, _cookies, page = server.request("GET", "/notificationview/list/",
                                                          headers={"Cookie": session_cookie})
        assert status == 200 and 'id="mail-not-configured"' in page and CUSTOMER_EMAIL in page, page[:3000]
        status, _headers, _cookies, health = server.request("GET", "/health")
        assert status == 200 and '"pending":' in health and '"worker":"running"' in health.replace(" ", "")
    finally:
        running.stop()
    box = Mailbox().start()
    worker = Running([sys.executable, "-m", "flask", "--app", "run", "jobs-worker"],
                     {**installed["env"], "JOBS_IN_PROCESS_WORKER": "0", "MAIL_SERVER": "127.0.0.1",
                      "MAIL_PORT": str(box.port)}, Path(installed["folder"]) / "jobs-worker.log")
    try:
        [message] = wait_for(lambda: box.with_text(protocol), 60, "jobs-worker did not send the waiting e-mail")
        assert message["To"] == CUSTOMER_EMAIL
        assert [tuple(r)[0] for r in _outbox(installed, protocol)] == ["sent"]
    finally:
        worker.stop()
        box.stop()


def test_make_run_with_mail_server_sends_the_protocol_email(installed):
    box = Mailbox().start()
    running, server = _gunicorn({**installed["env"], "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": str(box.port)},
                                installed["folder"], "with-mail")
    try:
        protocol = _open_ticket(server, installed, "Lentidão, aberto com o servidor de e-mail no ar")
        [message] = wait_for(lambda: box.with_text(protocol), 60, Path(running.log).read_text()[-3000:])
        assert message["To"] == CUSTOMER_EMAIL
        with installed["engine"].connect() as conn:
            opened = conn.execute(sa.text("SELECT opened_at FROM ticket WHERE protocol = :p"), {"p": protocol}).scalar()
        opened = opened if not isinstance(opened, str) else __import__("datetime").datetime.fromisoformat(opened)
        assert opened.strftime("%d/%m/%Y %H:%M") in body_of(message)
        assert re.search(r"\d{2}/\d{2}/\d{4} \d{2}:\d{2}", body_of(message))
        time.sleep(4)  # four workers sweeping: still one e-mail
        assert len(box.with_text(protocol)) == 1
        assert [tuple(r)[:2] for r in _outbox(installed, protocol)] == [("sent", 1)]
    finally:
        running.stop()
        box.stop()
