"""GET /health for load balancers: the database and the job queue, no login (a plain JSON answer)."""
from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

from app.extensions import csrf, db, talisman

log = logging.getLogger(__name__)
blueprint = Blueprint("health", __name__)


@blueprint.route("/health", methods=["GET"])
@talisman(force_https=False)  # a load balancer probes over plain HTTP inside the network
def health() -> Any:
    """200 with each part's state; 503 when the database does not answer."""
    from app.domain.notifications import counts
    from app.jobs import jobs

    answer: dict[str, Any] = {}
    try:
        db.session.execute(text("SELECT 1"))
        outbox = counts(db.session)
        answer["database"] = "ok"
        answer["outbox"] = {"pending": outbox["pending"], "sending": outbox["sending"], "failed": outbox["failed"]}
    except Exception:  # noqa: BLE001 - any database failure is the answer itself
        log.exception("health: database")
        db.session.rollback()
        answer["database"] = "error"
    finally:
        db.session.remove()
    queue = jobs()
    try:
        answer["jobs"] = "ok"
        answer["queued_jobs"] = int(queue.huey.pending_count())
    except Exception:  # noqa: BLE001
        log.exception("health: job queue")
        answer["jobs"] = "error"
    in_process = bool(current_app.config.get("JOBS_IN_PROCESS_WORKER", True))
    answer["worker"] = ("running" if queue.worker_alive() else "idle") if in_process else "external"
    answer["email"] = "configured" if current_app.config.get("MAIL_SERVER") else "not configured"
    status = 200 if answer["database"] == "ok" else 503
    answer["status"] = "ok" if status == 200 and answer["jobs"] == "ok" else "degraded"
    return jsonify(answer), status


def register(appbuilder: Any) -> None:
    csrf.exempt(blueprint)
    current_app.register_blueprint(blueprint)
