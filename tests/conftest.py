"""Test fixtures: one app per session on a fresh database built by the migrations."""
from __future__ import annotations

import os
import re
import tempfile
import threading
import uuid
from typing import Any, Iterator

import pytest
import sqlalchemy as sa

os.environ.setdefault("ATENDE_TESTING", "1")
os.environ["RATELIMIT_ENABLED"] = "0"

PASSWORD = "Senha-forte-123"
USERS = {
    "admin": "Admin",
    "gestor": "Gestor",
    "atendente": "Atendente",
    "atendente2": "Atendente",
    "tecnico": "Tecnico",
    "tecnico2": "Tecnico",
    "assinante": "Assinante",
}
TRANSACTIONAL = [
    "notification", "message_template", "mass_job_item", "mass_job",
    "portal_token", "export_job", "ticket_event", "ticket_message", "attachment", "service_order", "ticket_assignee", "ticket",
    "contract", "customer_phone", "customer_email", "customer_address", "customer", "protocol_sequence",
    "knowledge_article", "site", "plan", "city", "login_throttle",
]
CONFIGURATION = [
    "general_parameters", "subject", "ticket_status", "sub_status", "closing_reason", "channel",
    "priority", "department", "service_order_type", "customer_group",
]


def _database_url() -> tuple[str, Any]:
    base = os.environ.get("DATABASE_URL", "")
    if base.startswith("postgresql"):
        name = f"atende_test_{uuid.uuid4().hex[:8]}"
        admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        url = sa.engine.make_url(base).set(database=name).render_as_string(hide_password=False)

        def drop() -> None:
            with admin.connect() as conn:
                conn.execute(sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n AND pid <> pg_backend_pid()"
                ), {"n": name})
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
            admin.dispose()

        return url, drop
    folder = tempfile.mkdtemp(prefix="atende-test-")
    return f"sqlite:///{folder}/test.db", lambda: None


@pytest.fixture(scope="session")
def app() -> Iterator[Any]:
    url, drop = _database_url()
    os.environ["DATABASE_URL"] = url
    from app import create_app

    application = create_app(
        TESTING=True,
        SQLALCHEMY_DATABASE_URI=url,
        RATELIMIT_ENABLED=False,
        CACHE_TYPE="NullCache",
        UPLOAD_FOLDER=tempfile.mkdtemp(prefix="atende-uploads-"),
        SERVER_NAME=None,
        NOTIFY_IN_BACKGROUND=False,  # the outbox is written; tests of delivery turn the worker on (tests/mailbox.py)
        MAIL_SERVER="",
        SMS_PROVIDER="log",
    )
    from flask_migrate import upgrade

    from app.cli import ensure_roles
    from app.extensions import appbuilder, db

    with application.app_context():
        upgrade()
        ensure_roles()
        sm = appbuilder.sm
        for username, role in USERS.items():
            if sm.find_user(username=username) is None:
                sm.add_user(username, username.capitalize(), "Teste", f"{username}@example.com",
                            sm.find_role(role), PASSWORD)
        db.session.commit()
        application.config["_CONFIG_SNAPSHOT"] = {
            name: [dict(r) for r in db.session.execute(sa.text(f"SELECT * FROM {name}")).mappings()]
            for name in CONFIGURATION
        }
        application.config["_USER_IDS"] = {u.id for u in sm.get_all_users()}
        application.config["_ROLE_IDS"] = set(db.session.scalars(sa.text("SELECT id FROM ab_role")))
        application.config["_GROUP_IDS"] = set(db.session.scalars(sa.text("SELECT id FROM ab_group")))
        db.session.remove()
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()
    drop()


@pytest.fixture(autouse=True)
def _clean_database(request: Any) -> Iterator[None]:
    yield
    if "app" not in request.fixturenames:
        return
    application = request.getfixturevalue("app")
    from app.extensions import db

    with application.app_context():
        db.session.rollback()
        with db.engine.begin() as conn:
            for name in TRANSACTIONAL:
                conn.execute(sa.text(f"DELETE FROM {name}"))
            keep = application.config["_USER_IDS"]
            extra = [r[0] for r in conn.execute(sa.text("SELECT id FROM ab_user")) if r[0] not in keep]
            for name in ("general_parameters",):
                conn.execute(sa.text(f"UPDATE {name} SET portal_user_id = NULL"))
            _delete_extra(conn, "ab_group", application.config["_GROUP_IDS"],
                          {"ab_group_role": "group_id", "ab_user_group": "group_id"})
            _delete_extra(conn, "ab_role", application.config["_ROLE_IDS"],
                          {"ab_permission_view_role": "role_id", "ab_user_role": "role_id", "ab_group_role": "role_id"})
            if extra:
                conn.execute(sa.text("DELETE FROM ab_user_group WHERE user_id IN :ids").bindparams(sa.bindparam("ids", expanding=True)), {"ids": extra})
                conn.execute(sa.text("DELETE FROM ab_user_role WHERE user_id IN :ids").bindparams(sa.bindparam("ids", expanding=True)), {"ids": extra})
                conn.execute(sa.text("DELETE FROM ab_user WHERE id IN :ids").bindparams(sa.bindparam("ids", expanding=True)), {"ids": extra})
            for name in CONFIGURATION:
                conn.execute(sa.text(f"DELETE FROM {name}"))
            for name in reversed(CONFIGURATION):
                rows = application.config["_CONFIG_SNAPSHOT"][name]
                if rows:
                    table = sa.Table(name, sa.MetaData(), autoload_with=conn)
                    conn.execute(table.insert(), rows)
        db.session.remove()


def _delete_extra(conn: Any, table: str, keep: set, links: dict[str, str]) -> None:
    """Remove the rows a test added to a security table, with their association rows."""
    extra = [row[0] for row in conn.execute(sa.text(f"SELECT id FROM {table}")) if row[0] not in keep]
    if not extra:
        return
    ids = sa.bindparam("ids", expanding=True)
    for link, column in links.items():
        conn.execute(sa.text(f"DELETE FROM {link} WHERE {column} IN :ids").bindparams(ids), {"ids": extra})
    conn.execute(sa.text(f"DELETE FROM {table} WHERE id IN :ids").bindparams(ids), {"ids": extra})


@pytest.fixture
def db(app: Any) -> Iterator[Any]:
    from app.extensions import db as database

    with app.app_context():
        yield database
        database.session.remove()


@pytest.fixture(scope="session")
def live_server(app: Any) -> Iterator[str]:
    """Serve the session app on a free localhost port in a background thread."""
    from werkzeug.serving import WSGIRequestHandler, make_server

    class QuietHandler(WSGIRequestHandler):
        def log_request(self, *args: Any, **kwargs: Any) -> None:  # no access log in the test output
            pass

    server = make_server("127.0.0.1", 0, app, threaded=False, request_handler=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="atende-live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


@pytest.fixture
def users(app: Any) -> dict[str, Any]:
    from app.extensions import appbuilder, db

    with app.app_context():
        found = {name: appbuilder.sm.find_user(username=name) for name in USERS}
        db.session.expunge_all()
        return found


def csrf_token(client: Any) -> str:
    html = client.get("/login/").get_data(as_text=True)
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'id="csrf_token"[^>]*value="([^"]+)"', html
    )
    assert match, "no CSRF token on the login page"
    return match.group(1)


class Browserless:
    """A logged-in test client that posts forms with their CSRF token."""

    def __init__(self, client: Any, username: str) -> None:
        self.client = client
        self.username = username
        token = csrf_token(client)
        response = client.post("/login/", data={"username": username, "password": PASSWORD, "csrf_token": token})
        assert response.status_code == 302, "login failed"
        self.token = token

    def get(self, url: str, **kwargs: Any) -> Any:
        return self.client.get(url, **kwargs)

    def post(self, url: str, data: dict | None = None, **kwargs: Any) -> Any:
        data = dict(data or {})
        data.setdefault("csrf_token", self.token)
        return self.client.post(url, data=data, **kwargs)


@pytest.fixture
def login(app: Any) -> Any:
    def _login(username: str) -> Browserless:
        return Browserless(app.test_client(), username)

    return _login


@pytest.fixture
def api(app: Any) -> Any:
    """Return a JWT-authenticated API client for a user."""

    class Api:
        def __init__(self, username: str) -> None:
            self.client = app.test_client()
            response = self.client.post("/api/v1/security/login", json={
                "username": username, "password": PASSWORD, "provider": "db", "refresh": False,
            })
            assert response.status_code == 200, response.get_data(as_text=True)
            self.headers = {"Authorization": f"Bearer {response.json['access_token']}"}

        def __getattr__(self, method: str) -> Any:
            call = getattr(self.client, method)
            return lambda url, **kw: call(url, headers={**self.headers, **kw.pop("headers", {})}, **kw)

    return Api
