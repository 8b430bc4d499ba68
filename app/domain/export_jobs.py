"""Start an export: a small one is streamed at once, a large one becomes an ExportJob run in the background."""
from __future__ import annotations

import datetime as dt
import logging
import os
import secrets
import time
from typing import Any

from flask import current_app, g
from flask_appbuilder.security.sqla.models import User
from flask_babel import gettext as _, lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.domain import exports
from app.domain.clock import now
from app.domain.errors import DomainError, NotAllowed, ValidationError
from app.jobs import background, enqueue
from app.models import ExportJob

log = logging.getLogger(__name__)

EXPORT_TASK = "export"
ACTIVE = ("queued", "running")
STATUS_LABELS = {
    "queued": _l("Na fila"),
    "running": _l("Em andamento"),
    "done": _l("Concluída"),
    "failed": _l("Falhou"),
}
JOB_LIST_SIZE = 50


def export_folder() -> str:
    return current_app.config.get("EXPORT_FOLDER") or os.path.join(current_app.instance_path, "exports")


def start_export(
    session: Session, user: Any, source: str, fmt: str, args: dict[str, list[str]]
) -> tuple[ExportJob | None, exports.ExportData]:
    """Ask the source for the data (it checks the user's permission: NotAllowed).

    Up to EXPORT_SYNC_MAX_ROWS rows: (None, data) and the caller streams the file now. Above: a queued
    ExportJob, committed and enqueued, with the data (its total() gives the count).
    """
    builder = exports.get_source(source)
    if builder is None or fmt not in exports.FORMATS:
        raise ValidationError(_("Exportação desconhecida."))
    data = builder(session, user, args)
    if data.total() <= int(current_app.config.get("EXPORT_SYNC_MAX_ROWS", 2000)):
        return None, data
    job = ExportJob(user_id=user.id, source=source, fmt=fmt, args=args, status="queued",
                    download_name=exports.download_name(data, fmt))
    session.add(job)
    session.commit()
    try:
        enqueue(EXPORT_TASK, job.id)
    except Exception:
        log.exception("could not enqueue export job %s", job.id)
        message = _("Não foi possível colocar a exportação na fila. Tente novamente em alguns minutos.")
        _finish(session, job.id, status="failed", error=message)
        raise DomainError(message)
    return job, data


@background(EXPORT_TASK)
def export_task(job_id: int) -> None:
    from app.extensions import db

    run_export(db.session, job_id, export_folder(), int(current_app.config.get("EXPORT_KEEP_DAYS", 7)))


def run_export(session: Session, job_id: int, folder: str, keep_days: int) -> None:
    """Write the job's file (a temporary name, then renamed) and record the outcome; a failure is kept in pt-BR."""
    claimed = session.execute(
        update(ExportJob).where(ExportJob.id == job_id, ExportJob.status == "queued")
        .values(status="running", started_at=now())
    ).rowcount
    session.commit()
    if not claimed:
        return
    remove_old_exports(session, folder, keep_days)
    job = session.get(ExportJob, job_id)
    name = f"{secrets.token_hex(16)}.{job.fmt}"
    partial = os.path.join(folder, name + ".part")
    try:
        builder = exports.get_source(job.source)
        if builder is None:
            raise ValidationError(_("Exportação desconhecida."))
        user = session.get(User, job.user_id)
        g.user = user  # sources built on FAB filters read g.user, as in a request
        data = builder(session, user, job.args or {})
        os.makedirs(folder, exist_ok=True)
        count = exports.write(job.fmt, partial, data)
        os.replace(partial, os.path.join(folder, name))
    except Exception as error:
        session.rollback()
        _remove(partial)
        if isinstance(error, DomainError):
            message = error.message
        else:
            log.exception("export job %s failed", job_id)
            message = _("Não foi possível gerar o arquivo. Tente novamente; se o erro continuar, "
                        "filtre um período menor.")
        _finish(session, job_id, status="failed", error=message)
        return
    _finish(session, job_id, status="done", row_count=count, file_name=name)


def _finish(session: Session, job_id: int, **values: Any) -> None:
    session.execute(update(ExportJob).where(ExportJob.id == job_id).values(finished_at=now(), **values))
    session.commit()


def _remove(path: str) -> None:
    try:
        os.remove(path)
    except FileNotFoundError:
        pass


def remove_old_exports(session: Session, folder: str, keep_days: int) -> None:
    """Forget jobs older than keep_days and delete their files (and stray files of crashed runs)."""
    cutoff = now() - dt.timedelta(days=keep_days)
    for job in session.scalars(select(ExportJob).where(ExportJob.created_at < cutoff)):
        if job.file_name:
            _remove(os.path.join(folder, job.file_name))
        session.delete(job)
    session.commit()
    if os.path.isdir(folder):
        oldest = time.time() - keep_days * 86400
        for entry in os.scandir(folder):
            if entry.is_file() and entry.stat().st_mtime < oldest:
                _remove(entry.path)


def user_jobs(session: Session, user: Any) -> list[ExportJob]:
    """The user's own export jobs, newest first."""
    return list(session.scalars(
        select(ExportJob).where(ExportJob.user_id == user.id)
        .order_by(ExportJob.created_at.desc(), ExportJob.id.desc()).limit(JOB_LIST_SIZE)
    ))


def downloadable_job(session: Session, user: Any, job_id: int, folder: str) -> ExportJob:
    """The user's finished job whose file still exists; anything else is NotAllowed (answered as 404)."""
    job = session.get(ExportJob, job_id)
    if (job is None or user is None or job.user_id != user.id or job.status != "done" or not job.file_name
            or not os.path.isfile(os.path.join(folder, job.file_name))):
        raise NotAllowed(_("Exportação não encontrada."))
    return job
