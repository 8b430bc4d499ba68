"""Mass actions (R14) at any size: a small selection is changed at once, a large one becomes a MassJob.

The job runs on the job queue (app.jobs). Each record still goes through the single-record rules and is
committed alone with its history, and its line of the report (MassJobItem) and the job's counters are written
in that same transaction: the report always matches the database, and a job whose worker died resumes at the
first record without a line (or, after MAX_ATTEMPTS interruptions, is marked failed with what was done so far).
"""
from __future__ import annotations

import datetime as dt
import io
import logging
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Optional, Union

from flask import current_app, g
from flask_appbuilder.security.sqla.models import User
from flask_babel import gettext as _, lazy_gettext as _l, ngettext
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from app.domain import service_orders, ticket_mass
from app.domain.access import ticket_list_scope, valid_id
from app.domain.clock import now, parse_local
from app.domain.errors import DomainError, NotAllowed, ValidationError
from app.domain.mass import NOUNS, MassResult, unique_ids
from app.jobs import background, enqueue
from app.models import MassJob, MassJobItem
from app.security import ROLE_ADMIN, role_names

log = logging.getLogger(__name__)

MASS_TASK = "mass"
MAX_SELECTION = 2000
ACTIVE = ("queued", "running")
MAX_ATTEMPTS = 3
STALL_SECONDS = 120
CHUNK = 100
JOB_LIST_SIZE = 50
STATUS_LABELS = {
    "queued": _l("Na fila"),
    "running": _l("Em andamento"),
    "done": _l("Concluída"),
    "failed": _l("Interrompida"),
}
EDIT_FIELDS = ("status", "department", "priority", "subject", "due_at")


@dataclass(frozen=True)
class MassKind:
    """One kind of mass action: its records, its title and how it runs on a list of ids."""

    noun: str  # "ticket" or "service_order"
    title: Any
    done_text: Callable[[int], str]
    run: Callable[[Session, Any, list, dict, Optional[Any], MassResult], MassResult]


def _ticket_edit(session: Session, user: Any, ids: list, params: dict, scope: Optional[Any],
                 result: MassResult) -> MassResult:
    edit = ticket_mass.edit_from_form(session, MultiDict([tuple(pair) for pair in params.get("form", [])]))
    return ticket_mass.mass_edit(session, user, ids, edit, scope, result)


def _ticket_close(session: Session, user: Any, ids: list, params: dict, scope: Optional[Any],
                  result: MassResult) -> MassResult:
    from app.domain.actions import closing_reason_from

    return ticket_mass.mass_close(session, user, ids, params.get("closing_description") or "",
                                  closing_reason_from(session, params), scope, params.get("service_orders"), result)


def _ticket_delete_drafts(session: Session, user: Any, ids: list, params: dict, scope: Optional[Any],
                          result: MassResult) -> MassResult:
    return ticket_mass.mass_delete_drafts(session, user, ids, scope, result)


def _order_assign(session: Session, user: Any, ids: list, params: dict, scope: Optional[Any],
                  result: MassResult) -> MassResult:
    technician = service_orders.technician_from(session, params)
    return service_orders.mass_assign_technician(session, user, ids, technician, scope, result)


def _order_reschedule(session: Session, user: Any, ids: list, params: dict, scope: Optional[Any],
                      result: MassResult) -> MassResult:
    start = parse_local(params.get("scheduled_start"), "scheduled_start", _l("Início agendado"))
    end = parse_local(params.get("scheduled_end"), "scheduled_end", _l("Fim agendado"))
    return service_orders.mass_reschedule(session, user, ids, start, end, scope, result)


def _order_close(session: Session, user: Any, ids: list, params: dict, scope: Optional[Any],
                 result: MassResult) -> MassResult:
    return service_orders.mass_close(session, user, ids, params.get("closing_notes") or "",
                                     params.get("status") or "", scope, result)


KINDS: dict[str, MassKind] = {
    "ticket_edit": MassKind("ticket", _l("Edição de atendimentos em massa"), lambda n: ngettext(
        "%(num)d atendimento alterado", "%(num)d atendimentos alterados", n), _ticket_edit),
    "ticket_close": MassKind("ticket", _l("Fechamento de atendimentos em massa"), lambda n: ngettext(
        "%(num)d atendimento fechado", "%(num)d atendimentos fechados", n), _ticket_close),
    "ticket_delete_drafts": MassKind("ticket", _l("Exclusão de rascunhos em massa"), lambda n: ngettext(
        "%(num)d rascunho apagado", "%(num)d rascunhos apagados", n), _ticket_delete_drafts),
    "order_assign": MassKind("service_order", _l("Atribuição de técnico em massa"), lambda n: ngettext(
        "%(num)d OS atribuída", "%(num)d OS atribuídas", n), _order_assign),
    "order_reschedule": MassKind("service_order", _l("Reagendamento de OS em massa"), lambda n: ngettext(
        "%(num)d OS reagendada", "%(num)d OS reagendadas", n), _order_reschedule),
    "order_close": MassKind("service_order", _l("Finalização ou cancelamento de OS em massa"), lambda n: ngettext(
        "%(num)d OS finalizada ou cancelada", "%(num)d OS finalizadas ou canceladas", n), _order_close),
}


def edit_params(form: Any) -> dict:
    """The mass-edit choices of a form (or of the API's "changes") as JSON: the fields ticked and their values."""
    pairs = [[key, str(form.get(key) or "")] for name in EDIT_FIELDS
             for key in (f"change_{name}", name) if key in form]
    pairs += [[name, str(value)] for name in ("assignees_add", "assignees_remove") for value in form.getlist(name)]
    return {"form": pairs}


def scope_of(kind: MassKind, user: Any, mine: bool) -> Optional[Any]:
    """The records a job may touch: those the user's list shows (all they may see, or only their own)."""
    if kind.noun == "ticket":
        return ticket_list_scope(user, mine)
    return service_orders.list_scope(user, mine)


def sync_max() -> int:
    return int(current_app.config.get("MASS_SYNC_MAX", 50))


def start(session: Session, user: Any, kind_name: str, ids: Iterable[Any], params: dict, mine: bool = False,
          back: str = "") -> Union[MassResult, MassJob]:
    """Run a mass action: up to MASS_SYNC_MAX records at once (the MassResult), more as a queued MassJob.

    The choices are checked before anything is queued: a broken one is refused now, with nothing changed.
    """
    kind = KINDS[kind_name]
    wanted = unique_ids(ids)
    if not wanted:
        raise ValidationError(_("Selecione ao menos um registro."))
    if len(wanted) > MAX_SELECTION:
        raise ValidationError(_("A seleção tem mais de %(max)d registros; refine os filtros.", max=MAX_SELECTION))
    scope = scope_of(kind, user, mine)
    if len(wanted) <= sync_max():
        return kind.run(session, user, wanted, params, scope, MassResult(kind=kind.noun))
    kind.run(session, user, [], params, scope, MassResult(kind=kind.noun))  # checks the choices, changes nothing
    job = MassJob(user_id=user.id, kind=kind_name, params={**params, "mine": bool(mine), "back": back},
                  ids=wanted, status="queued", total=len(wanted), created_at=now(), heartbeat_at=now())
    session.add(job)
    session.commit()
    try:
        enqueue(MASS_TASK, job.id)
    except Exception:
        log.exception("could not enqueue mass job %s", job.id)
        message = _("Não foi possível colocar a tarefa na fila; nenhum registro foi alterado. "
                    "Tente novamente em alguns minutos.")
        _finish(session, job.id, "failed", message)
        raise DomainError(message)
    return job


class JobReport(MassResult):
    """A MassResult that writes each record's line and the job's progress with the record's own change."""

    def __init__(self, job_id: int, attempt: int, offset: int, noun: str) -> None:
        super().__init__(kind=noun)
        self.job_id, self.attempt, self.offset = job_id, attempt, offset

    def stage(self, session: Session, label: Any, reason: Any = None) -> None:
        changed = reason is None
        owned = session.execute(
            update(MassJob).where(MassJob.id == self.job_id, MassJob.attempts == self.attempt,
                                  MassJob.status == "running")
            .values(processed=MassJob.processed + 1, changed=MassJob.changed + int(changed),
                    refused=MassJob.refused + int(not changed), heartbeat_at=now())
        ).rowcount
        if not owned:
            raise Superseded()
        session.add(MassJobItem(job_id=self.job_id, position=self.offset + self.settled, label=str(label)[:60],
                                changed=changed, reason=None if changed else str(reason).rstrip(".")))


class Superseded(Exception):
    """Another worker took the job over (this one was thought dead): stop without touching anything."""


@background(MASS_TASK)
def mass_task(job_id: int) -> None:
    from app.extensions import db

    run_job(db.session, job_id)


def run_job(session: Session, job_id: int) -> None:
    """Run (or resume) a queued job from its first record without a line in the report."""
    session.execute(update(MassJob).where(MassJob.id == job_id, MassJob.status == "queued").values(
        status="running", attempts=MassJob.attempts + 1, heartbeat_at=now(),
        started_at=func.coalesce(MassJob.started_at, now())))
    session.commit()
    job = session.get(MassJob, job_id)
    if job is None or job.status != "running":
        return
    attempt, total, ids, params = job.attempts, job.total, list(job.ids), dict(job.params)
    if attempt > MAX_ATTEMPTS:
        _finish(session, job_id, "failed", _(
            "A tarefa foi interrompida %(times)d vezes e não será retomada: %(done)d de %(total)d registros foram "
            "processados e estão no relatório; os demais não foram alterados.",
            times=attempt - 1, done=job.processed, total=total))
        return
    kind = KINDS[job.kind]
    user = session.get(User, job.user_id)
    g.user = user  # anything that reads the current user sees the job's owner, as in their request
    try:
        if user is None or not user.active:
            raise ValidationError(_("O usuário que pediu a tarefa está inativo."))
        scope = scope_of(kind, user, bool(params.get("mine")))
        for offset in range(job.processed, total, CHUNK):
            report_part = JobReport(job_id, attempt, offset, kind.noun)
            kind.run(session, user, ids[offset:offset + CHUNK], params, scope, report_part)
    except Superseded:
        session.rollback()
        return
    except Exception as error:
        session.rollback()
        if isinstance(error, DomainError):
            reason = error.message
        else:
            log.exception("mass job %s failed", job_id)
            reason = _("Erro inesperado.")
        done = session.scalar(select(MassJob.processed).where(MassJob.id == job_id)) or 0
        _finish(session, job_id, "failed", _(
            "%(reason)s A tarefa parou depois de %(done)d de %(total)d registros; o relatório mostra o que foi "
            "feito e os demais não foram alterados.", reason=reason, done=done, total=total), attempt)
        return
    _finish(session, job_id, "done", None, attempt)


def _finish(session: Session, job_id: int, status: str, error: Optional[str], attempt: Optional[int] = None) -> None:
    query = update(MassJob).where(MassJob.id == job_id)
    if attempt is not None:
        query = query.where(MassJob.attempts == attempt)
    session.execute(query.values(status=status, error=error, finished_at=now(), heartbeat_at=now()))
    session.commit()


def recover(session: Session) -> int:
    """Queue again the jobs whose worker stopped (killed, restarted): they resume where they stopped."""
    cutoff = now() - dt.timedelta(seconds=int(current_app.config.get("MASS_JOB_STALL_SECONDS", STALL_SECONDS)))
    stalled = list(session.scalars(select(MassJob.id).where(
        MassJob.status.in_(ACTIVE), func.coalesce(MassJob.heartbeat_at, MassJob.created_at) < cutoff)))
    count = 0
    for job_id in stalled:
        claimed = session.execute(update(MassJob).where(
            MassJob.id == job_id, MassJob.status.in_(ACTIVE),
            func.coalesce(MassJob.heartbeat_at, MassJob.created_at) < cutoff,
        ).values(status="queued", heartbeat_at=now())).rowcount
        session.commit()
        if claimed:
            log.warning("mass job %s stalled: queued again", job_id)
            enqueue(MASS_TASK, job_id)
            count += 1
    return count


def keep_running(session: Session, active: bool) -> None:
    """While someone watches an unfinished job: resume stalled ones, and run queued ones in this process when
    it has the worker (jobs queued before a restart)."""
    if not active:
        return
    recover(session)
    if current_app.config.get("JOBS_IN_PROCESS_WORKER", True):
        from app.jobs import jobs

        jobs().start_worker()


# ---------------------------------------------------------------- what the owner sees


def visible_job(session: Session, user: Any, job_id: int) -> MassJob:
    """The job, for its owner or an Admin; anyone else is NotAllowed (answered as 404)."""
    job = session.get(MassJob, job_id) if valid_id(job_id) else None
    if job is None or user is None or (job.user_id != user.id and ROLE_ADMIN not in role_names(user)):
        raise NotAllowed(_("Tarefa não encontrada."))
    return job


def user_jobs(session: Session, user: Any) -> list[MassJob]:
    """The user's own jobs, newest first."""
    return list(session.scalars(select(MassJob).where(MassJob.user_id == user.id)
                                .order_by(MassJob.created_at.desc(), MassJob.id.desc()).limit(JOB_LIST_SIZE)))


def report(session: Session, job: MassJob, refused_only: bool = False) -> list[MassJobItem]:
    """The job's lines so far, in the order of the selection."""
    query = select(MassJobItem).where(MassJobItem.job_id == job.id)
    if refused_only:
        query = query.where(MassJobItem.changed.is_(False))
    return list(session.scalars(query.order_by(MassJobItem.position)))


def summary(job: MassJob) -> str:
    """E.g. "1950 atendimentos alterados; 50 recusados"."""
    kind = KINDS[job.kind]
    done_text = kind.done_text(job.changed)
    if not job.refused:
        return done_text
    return f"{done_text}; {NOUNS[kind.noun](job.changed, job.refused)[1]}"


def percent(job: MassJob) -> int:
    return int(job.processed * 100 / job.total) if job.total else 100


def report_xlsx(session: Session, job: MassJob) -> bytes:
    """The report as a spreadsheet: one line per record; every cell is text, never a formula (R15)."""
    from app.domain.exports import ExportColumn, write_xlsx

    kind = KINDS[job.kind]
    columns = [ExportColumn(_("Protocolo") if kind.noun == "ticket" else _("OS"), width=20),
               ExportColumn(_("Resultado"), width=12), ExportColumn(_("Motivo"), width=80)]
    rows = ((item.label, _("Alterado") if item.changed else _("Recusado"), item.reason or "")
            for item in report(session, job))
    buffer = io.BytesIO()
    write_xlsx(buffer, str(kind.title), columns, rows)
    return buffer.getvalue()


def report_name(job: MassJob) -> str:
    return f"tarefa-{job.id}-{job.created_at:%Y%m%d-%H%M}.xlsx"


def job_data(session: Session, job: MassJob) -> dict[str, Any]:
    """The job as the API answers it: progress, and once it ended the summary and the report."""
    data: dict[str, Any] = {
        "id": job.id, "kind": job.kind, "status": job.status, "total": job.total, "processed": job.processed,
        "changed": job.changed, "refused": job.refused, "error": job.error,
        "created_at": _iso(job.created_at), "started_at": _iso(job.started_at), "finished_at": _iso(job.finished_at),
    }
    if job.status not in ACTIVE:
        data["message"] = summary(job)
        data["report"] = [{"label": item.label, "changed": item.changed, "reason": item.reason}
                          for item in report(session, job)]
    return data


def _iso(moment: Optional[dt.datetime]) -> Optional[str]:
    return moment.isoformat() if moment else None
