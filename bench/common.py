"""Shared helpers of the bench scripts: the app on DATABASE_URL, timing and SQL query counting."""
from __future__ import annotations

import os
import re
import statistics
import time
from contextlib import contextmanager
from typing import Any, Callable, Iterator

os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-0123456789abcdef")
os.environ.setdefault("RATELIMIT_ENABLED", "0")

BENCH_PASSWORD = "Bench-senha-123"


def make_app() -> Any:
    from app import create_app

    return create_app(RATELIMIT_ENABLED=False)


@contextmanager
def counting(engine: Any) -> Iterator[list[str]]:
    """Collect the SQL statements run on the engine inside the block."""
    from sqlalchemy import event

    statements: list[str] = []
    listener = lambda conn, cursor, statement, *rest: statements.append(statement)  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", listener)


def measure(engine: Any, call: Callable[[], Any], repeat: int) -> tuple[float, float, int]:
    """Return median ms, p95 ms and the SQL statements of one call (after a warm-up)."""
    call()
    times = []
    queries = 0
    for _ in range(repeat):
        with counting(engine) as statements:
            start = time.perf_counter()
            call()
            times.append((time.perf_counter() - start) * 1000)
        queries = len(statements)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1], queries


def user_client(app: Any, username: str, role: str) -> Any:
    """A logged-in test client for a bench user of the given role (created when missing)."""
    from app.extensions import appbuilder, db

    with app.app_context():
        sm = appbuilder.sm
        if sm.find_user(username=username) is None:
            sm.add_user(username, username, "Bench", f"{username}@bench.local", sm.find_role(role), BENCH_PASSWORD)
            db.session.commit()
        db.session.remove()
    client = app.test_client()
    page = client.get("/login/").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    response = client.post("/login/", data={"username": username, "password": BENCH_PASSWORD, "csrf_token": token})
    assert response.status_code == 302, "bench login failed"
    return client


def report(rows: list[tuple[str, float, float, int]], target_ms: float) -> None:
    print(f"{'caso':<44} {'mediana ms':>10} {'p95 ms':>8} {'consultas':>9}  alvo {target_ms:.0f} ms")
    for name, median, p95, queries in rows:
        verdict = "OK" if median < target_ms else "ACIMA DO ALVO"
        print(f"{name:<44} {median:>10.1f} {p95:>8.1f} {queries:>9}  {verdict}")
