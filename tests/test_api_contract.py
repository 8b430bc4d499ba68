"""The REST API keeps its contract: schemathesis, with every check, over every operation of the OpenAPI spec.

The app is served on a free local port with the demo data; schemathesis (configured by schemathesis.toml)
generates valid and invalid requests from the spec and fails on any server error, any answer the spec does
not describe (status, content type, headers, body), any invalid request accepted, and any undeclared method
that does not answer 405. The run is bounded (max examples per operation, fixed seed).
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAX_EXAMPLES = os.environ.get("ATENDE_SCHEMATHESIS_EXAMPLES", "15")
REPORT = ROOT / "test-artifacts" / "schemathesis.txt"


def test_every_operation_keeps_the_contract(app, db, live_server):
    from app.demo.seed import seed_demo
    from tests.conftest import PASSWORD

    seed_demo(db.session)
    db.session.commit()
    login = app.test_client().post("/api/v1/security/login", json={
        "username": "admin", "password": PASSWORD, "provider": "db", "refresh": False})
    token = login.json["access_token"]
    command = [sys.executable, "-m", "schemathesis.cli", "run", f"{live_server}/api/v1/_openapi",
               "--checks", "all", "--max-examples", MAX_EXAMPLES, "--seed", "20261203", "--no-color",
               "-H", f"Authorization: Bearer {token}"]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=900)
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(result.stdout + result.stderr, encoding="utf-8")
    summary = result.stdout[result.stdout.rfind("SUMMARY") - 40:] if "SUMMARY" in result.stdout else result.stdout[-3000:]
    assert result.returncode == 0, f"schemathesis (relatório completo em {REPORT}):\n{result.stdout[:6000]}\n{summary}"
