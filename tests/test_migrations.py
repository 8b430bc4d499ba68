"""The migrations build exactly the models: `flask db check` finds nothing to generate on the test database."""
from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_migrations_match_the_models(app):
    env = {**os.environ, "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"], "FLASK_APP": "run",
           "ATENDE_TESTING": "1"}
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "run", "db", "check"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No new upgrade operations detected" in result.stdout + result.stderr


def _flask(url: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": url, "FLASK_APP": "run", "ATENDE_TESTING": "1",
           "ADMIN_PASSWORD": "Migracao-Forte-2026", "DEMO_PASSWORD": "Demonstracao-Forte-2026"}
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "run", *args], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, (args, result.stdout[-3000:] + result.stderr[-3000:])
    return result


def test_migrations_go_down_and_up_again_over_real_data(tmp_path):
    """A database in use (the demo data) goes back to 0005 and up again: no table rebuild is blocked by the
    rows that reference it, and what the models describe is what comes out."""
    import uuid

    import sqlalchemy as sa

    base = os.environ.get("DATABASE_URL", "")
    drop = None
    if base.startswith("postgresql"):
        name = f"atende_mig_{uuid.uuid4().hex[:8]}"
        admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        url = sa.engine.make_url(base).set(database=name).render_as_string(hide_password=False)

        def drop() -> None:
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    else:
        url = f"sqlite:///{tmp_path}/migracao.db"
    try:
        _flask(url, "db", "upgrade")
        _flask(url, "init")
        _flask(url, "seed-demo")
        _flask(url, "db", "downgrade", "0005")
        _flask(url, "db", "upgrade")
        check = _flask(url, "db", "check")
        assert "No new upgrade operations detected" in check.stdout + check.stderr
        engine = sa.create_engine(url)
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM ticket")).scalar() >= 60
            assert conn.execute(sa.text("SELECT count(*) FROM subject")).scalar() >= 10
            # 0012 backfilled the legal deadline (R24) of every registered ticket from its opening, to the microsecond
            ticket = sa.Table("ticket", sa.MetaData(), autoload_with=conn)
            rows = conn.execute(sa.select(ticket.c.is_draft, ticket.c.opened_at, ticket.c.registered_at,
                                          ticket.c.legal_due_at)).all()
            assert {bool(row.is_draft) for row in rows} == {False, True}
            for row in rows:
                expected = (None, None) if row.is_draft else (row.opened_at, row.opened_at + dt.timedelta(days=7))
                assert (row.registered_at, row.legal_due_at) == expected, row
        engine.dispose()
    finally:
        if drop is not None:
            drop()
