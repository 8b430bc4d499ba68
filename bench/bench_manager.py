"""Manager bench: ticket list pages, dashboards and a 100,000-row XLSX export on the seed-bench data.

Usage:
  DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1/atende_bench .venv/bin/python bench/bench_manager.py [--repeat 20]
  ... bench/bench_manager.py --export-only   # the export alone, so the peak memory is the export's
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import sys
import time
from itertools import islice

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.common import make_app, measure, report, user_client  # noqa: E402

TARGET_MS = 150
EXPORT_ROWS = 100_000


def login_as(app, user_id: int):
    """A client logged in as an existing user (the bench never knows the users' passwords)."""
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = str(user_id)
        session["_fresh"] = True
    return client


def export_figures(app) -> None:
    from sqlalchemy import func, select

    from app.domain import ticket_exports
    from app.domain.exports import prefetched, write_xlsx
    from app.extensions import appbuilder, db
    from app.models import Ticket

    with app.test_request_context("/"):
        session = db.session
        user = appbuilder.sm.find_user(username="bench_gestor")
        newest = session.scalar(select(func.max(Ticket.opened_at)))
        # a period that holds a little more than EXPORT_ROWS tickets
        days = 1
        while session.scalar(select(func.count(Ticket.id)).where(
                Ticket.opened_at >= newest - dt.timedelta(days=days))) < EXPORT_ROWS and days < 400:
            days += 5
        since = (newest - dt.timedelta(days=days)).strftime("%d/%m/%Y")
        args = {"date_field": ["opened"], "date_from": [since], "order": ["opened_at"], "direction": ["desc"]}
        path = "/tmp/atende-bench-export.xlsx"
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        start = time.perf_counter()
        data = ticket_exports.build_ticket_export(session, user, args)
        rows = write_xlsx(path, data.title, data.columns, prefetched(islice(data.rows, EXPORT_ROWS)))
        elapsed = time.perf_counter() - start
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        size = os.path.getsize(path) / 1024 / 1024
    print(f"exportação XLSX: {rows} linhas em {elapsed:.1f} s (alvo 20 s), pico de memória do processo "
          f"{peak:.0f} MB (antes: {rss_before:.0f} MB; alvo 300 MB), arquivo {size:.1f} MB  "
          f"{'OK' if elapsed < 20 and peak < 300 else 'ACIMA DO ALVO'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--export-only", action="store_true")
    args = parser.parse_args()
    app = make_app()
    from sqlalchemy import func, select

    from app.extensions import db
    from app.models import Department, Subject, Ticket, TicketStatus, ticket_assignee

    user_client(app, "bench_gestor", "Gestor")  # creates the user when missing
    if args.export_only:
        export_figures(app)
        return
    with app.app_context():
        session = db.session
        tickets = session.scalar(select(func.count(Ticket.id)))
        print(f"base: {tickets} atendimentos ({db.engine.url.get_backend_name()})")
        busiest = session.execute(select(ticket_assignee.c.user_id, func.count().label("n"))
                                  .group_by(ticket_assignee.c.user_id).order_by(func.count().desc()).limit(1)).one()
        department = session.scalar(select(Department.id).order_by(Department.id))
        subjects = list(session.scalars(select(Subject.id).order_by(Subject.id).limit(3)))
        pending = session.scalar(select(TicketStatus.id).where(TicketStatus.category == "pending"))
        newest = session.scalar(select(func.max(Ticket.opened_at)))
        engine = db.engine
        session.remove()
    gestor = user_client(app, "bench_gestor", "Gestor")
    mine = login_as(app, busiest.user_id)
    since = (newest - dt.timedelta(days=7)).strftime("%d/%m/%Y")
    month = (newest - dt.timedelta(days=30)).strftime("%d/%m/%Y")
    subject_ids = ",".join(str(s) for s in subjects)
    cases = [
        ("lista padrão (últimos 7 dias)", gestor, f"/ticketview/list/?date_field=opened&date_from={since}"),
        ("lista padrão, página 50", gestor, f"/ticketview/list/?date_field=opened&date_from={since}&page=50"),
        (f"meus atendimentos ({busiest.n} atribuídos)", mine, "/myticketview/list/"),
        ("meus atendimentos em aberto", mine, "/myticketview/list/?status_category=open"),
        ("quatro filtros", gestor,
         f"/ticketview/list/?date_from={month}&department={department}&subject={subject_ids}"
         f"&status_category=open&order=due_at&direction=asc"),
        ("quatro filtros (situação, prazo, cidade, OS)", gestor,
         f"/ticketview/list/?date_from=&status={pending}&due_window=overdue&open_service_orders=1&draft=0"),
        ("painel gerencial (30 dias, do cache)", gestor, "/painel/"),
        ("painel gerencial (30 dias, recalculado)", gestor, "/painel/?atualizar=1"),
        ("equipe (do cache)", gestor, "/equipe/"),
        ("equipe (recalculada)", gestor, "/equipe/?atualizar=1"),
    ]
    rows = []
    for name, client, url in cases:
        def call(client=client, url=url) -> None:
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)

        median, p95, queries = measure(engine, call, args.repeat)
        rows.append((name, median, p95, queries))
    report(rows, TARGET_MS)
    print("(a exportação: rode de novo com --export-only, para medir a memória só dela)")


if __name__ == "__main__":
    main()
