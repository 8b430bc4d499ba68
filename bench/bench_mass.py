"""Mass-edit bench: 2,000 tickets edited through the real route (POST /ticketview/mass_edit/) as a background job.

Prints the time the request takes to queue the job (what the user waits for, far below gunicorn's 30 s), the
job's duration, tickets per second and the peak memory of the process (web request + in-process worker).

Usage (on the seed-bench database, see bench/README.md):
  DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1/atende_bench .venv/bin/python bench/bench_mass.py \
      [--tickets 2000]

With MASS_SYNC_MAX=5000 in the environment the same selection runs the old way, inside the request, for comparison.

It changes data: the department of the N most recent tickets goes to "Bench A" or "Bench B" (whichever they
are not in), so every run changes them all again; cancelled tickets are refused, as the rules say.
"""
from __future__ import annotations

import argparse
import os
import re
import resource
import sys
import time
from collections import Counter

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.common import make_app, user_client  # noqa: E402

DEPARTMENTS = ("Bench A", "Bench B")


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def prepare(app, count: int) -> tuple[list[int], int]:
    """The N most recent tickets, and the bench department they are not in (created when missing)."""
    from sqlalchemy import select

    from app.extensions import db
    from app.models import Department, Ticket

    with app.app_context():
        session = db.session
        ids = list(session.scalars(select(Ticket.id).order_by(Ticket.id.desc()).limit(count)))
        if len(ids) < count:
            raise SystemExit(f"A base tem só {len(ids)} atendimentos; rode seed-bench antes (bench/README.md).")
        departments = {}
        for name in DEPARTMENTS:
            department = session.scalar(select(Department).where(Department.name == name))
            if department is None:
                department = Department(name=name, active=True)
                session.add(department)
                session.flush()
            departments[name] = department.id
        session.commit()
        current = session.scalar(select(Ticket.department_id).where(Ticket.id == ids[0]))
        target = departments[DEPARTMENTS[1]] if current == departments[DEPARTMENTS[0]] else departments[DEPARTMENTS[0]]
        session.remove()
    return ids, target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tickets", type=int, default=2000)
    parser.add_argument("--timeout", type=int, default=1800, help="seconds to wait for the job")
    args = parser.parse_args()
    app = make_app()
    from sqlalchemy import func, select

    from app.extensions import db
    from app.models import MassJob, MassJobItem, Ticket

    ids, target = prepare(app, args.tickets)
    client = user_client(app, "bench_gestor", "Gestor")
    with app.app_context():
        total = db.session.scalar(select(func.count(Ticket.id)))
        backend = db.engine.url.get_backend_name()
        db.session.remove()
    print(f"base: {total} atendimentos ({backend}); limite síncrono MASS_SYNC_MAX={app.config['MASS_SYNC_MAX']}")
    rss_before = peak_mb()

    page = client.get("/ticketview/list/?date_from=").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    started = time.perf_counter()
    response = client.post("/ticketview/mass_edit/", data={
        "rowid": [str(i) for i in ids], "confirm": "1", "change_department": "1", "department": str(target),
        "csrf_token": csrf})
    queued = time.perf_counter() - started
    location = response.headers.get("Location", "")
    assert response.status_code == 302, response.status_code
    if "/tarefas/" not in location:  # MASS_SYNC_MAX above the selection: the old way, inside the request
        print(f"executado dentro do pedido em {queued:.1f} s ({len(ids) / queued:.1f} atendimentos/s; "
              f"o gunicorn encerra o worker após 30 s); pico de memória {peak_mb():.0f} MB")
        return
    job_id = int(location.rstrip("/").rsplit("/", 1)[1])
    print(f"pedido respondido em {queued * 1000:.0f} ms (redireciona para {location})")

    deadline = time.monotonic() + args.timeout
    last = -1
    while True:
        with app.app_context():
            job = db.session.get(MassJob, job_id)
            status, processed = job.status, job.processed
            db.session.remove()
        if processed // 500 != last // 500:
            print(f"  {time.perf_counter() - started:6.1f} s: {processed}/{len(ids)} ({status})")
            last = processed
        if status in ("done", "failed"):
            break
        if time.monotonic() > deadline:
            raise SystemExit(f"a tarefa {job_id} não terminou em {args.timeout} s ({processed}/{len(ids)})")
        time.sleep(0.5)
    wall = time.perf_counter() - started
    with app.app_context():
        job = db.session.get(MassJob, job_id)
        reasons = Counter(db.session.scalars(select(MassJobItem.reason).where(
            MassJobItem.job_id == job_id, MassJobItem.changed.is_(False))))
        duration = (job.finished_at - job.started_at).total_seconds() if job.started_at and job.finished_at else wall
        print(f"tarefa {job_id}: {job.status}; {job.changed} alterados, {job.refused} recusados"
              + (f" ({', '.join(f'{n}× {r}' for r, n in reasons.most_common())})" if reasons else ""))
        if job.error:
            print(f"  erro: {job.error}")
        db.session.remove()
    print(f"duração da tarefa: {duration:.1f} s (do pedido ao fim: {wall:.1f} s); "
          f"{len(ids) / wall:.1f} atendimentos/s")
    print(f"pico de memória do processo: {peak_mb():.0f} MB (antes do pedido: {rss_before:.0f} MB)")


if __name__ == "__main__":
    main()
