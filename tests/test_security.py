"""CSRF on every form post, no deletion by GET, and a real SECRET_KEY outside debug/test."""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.support import session
from tests import factories

ROOT = Path(__file__).resolve().parent.parent
WATCHED = ["ticket", "ticket_event", "service_order", "customer", "contract", "subject", "ticket_message"]


def snapshot(app: Any) -> dict[str, list]:
    with session(app) as s:
        return {name: [tuple(r) for r in s.execute(sa.text(f"SELECT * FROM {name} ORDER BY 1"))] for name in WATCHED}


def _tickets(app: Any) -> dict[str, Any]:
    from app.extensions import appbuilder

    with session(app) as s:
        user = appbuilder.sm.find_user(username="atendente")
        saved = factories.ticket(s, user, opening_description="Original")
        draft = factories.ticket(s, user, is_draft=True)
        return {"saved": saved.id, "draft": draft.id, "customer": saved.customer_id, "subject": saved.subject_id,
                "status": saved.status_id, "version": saved.version}


def _exists(app: Any, pk: int) -> bool:
    with session(app) as s:
        return s.scalar(sa.text("SELECT count(*) FROM ticket WHERE id = :id"), {"id": pk}) == 1


def test_form_posts_without_csrf_token_are_refused(app, login, users):
    t = _tickets(app)
    client = login("gestor").client  # the raw client: posts carry no token
    before = snapshot(app)
    posts = [
        (f"/ticketview/edit/{t['saved']}", {"type": "customer", "customer": str(t["customer"]),
                                            "subject": str(t["subject"]), "status": str(t["status"]),
                                            "direction": "inbound", "opening_description": "Forjado",
                                            "expected_version": str(t["version"])}),
        (f"/ticketview/delete/{t['draft']}", {}),
        ("/ticketview/add", {"type": "customer", "customer": str(t["customer"])}),
        ("/ticketview/action_post", {"action": "delete_drafts", "rowid": [str(t["draft"])]}),
        ("/ticketview/action_post", {"action": "mass_close", "rowid": [str(t["saved"])]}),
        ("/customerview/add", {"person_type": "PF", "name": "Forjado", "document": "52998224725"}),
        ("/subjectview/add", {"name": "Forjado", "sla_hours": "4"}),
        ("/serviceorderview/add", {"ticket": str(t["saved"]), "description": "Forjado"}),
        ("/ticketmessageview/add", {"ticket": str(t["saved"]), "body": "Forjado"}),
    ]
    for url, data in posts:
        response = client.post(url, data=data)
        assert response.status_code == 400, (url, response.status_code)
    assert snapshot(app) == before


def test_form_post_with_a_wrong_csrf_token_is_refused(app, login, users):
    t = _tickets(app)
    client = login("gestor")
    before = snapshot(app)
    response = client.post(f"/ticketview/delete/{t['draft']}", data={"csrf_token": "forjado"})
    assert response.status_code == 400
    assert snapshot(app) == before


def test_token_of_another_session_is_refused(app, login, users):
    t = _tickets(app)
    victim, attacker = login("gestor"), login("atendente")
    response = victim.client.post(f"/ticketview/delete/{t['draft']}", data={"csrf_token": attacker.token})
    assert response.status_code == 400
    assert _exists(app, t["draft"])


def test_get_never_deletes(app, login, users):
    t = _tickets(app)
    client = login("admin")
    before = snapshot(app)
    response = client.get(f"/ticketview/delete/{t['draft']}", follow_redirects=True)
    assert response.status_code in (200, 302, 400, 403, 405)
    assert _exists(app, t["draft"])
    for url in (f"/customerview/delete/{t['customer']}", f"/subjectview/delete/{t['subject']}"):
        client.get(url)
    assert snapshot(app) == before
    # the same draft goes away with a proper POST
    client.post(f"/ticketview/delete/{t['draft']}")
    assert not _exists(app, t["draft"])


def test_login_form_needs_csrf_token(app, users):
    from tests.conftest import PASSWORD

    client = app.test_client()
    response = client.post("/login/", data={"username": "admin", "password": PASSWORD})
    assert response.status_code in (200, 400)
    assert client.get("/users/list/").status_code != 200


# ---------------------------------------------------------------- SECRET_KEY


def _start(secret_key: str | None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items()
           if k not in ("ATENDE_TESTING", "FLASK_DEBUG", "SECRET_KEY", "DATABASE_URL", "FLASK_APP")}
    env["DATABASE_URL"] = "sqlite:///" + os.path.join(tempfile.mkdtemp(prefix="atende-key-"), "start.db")
    if secret_key is not None:
        env["SECRET_KEY"] = secret_key
    return subprocess.run(
        [sys.executable, "-c", "from app import create_app; create_app()"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )


@pytest.mark.parametrize("key", [None, "", "curta", "x" * 31])
def test_app_refuses_to_start_without_a_strong_secret_key(key):
    result = _start(key)
    assert result.returncode != 0
    assert "SECRET_KEY ausente ou curta" in result.stderr
    assert "pelo menos 32 bytes" in result.stderr


def test_app_starts_with_a_64_hex_secret_key():
    result = _start("0123456789abcdef" * 4)
    assert result.returncode == 0, result.stderr[-2000:]
