"""The migrations build exactly the models: `flask db check` finds nothing to generate on the test database."""
from __future__ import annotations

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
