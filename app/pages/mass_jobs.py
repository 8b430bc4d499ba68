"""The user's mass-action jobs: their list, a job's progress and report, the report as XLSX (R14)."""
from __future__ import annotations

import io
from typing import Any

from flask import Response, abort, request, send_file
from flask_appbuilder import BaseView, expose, has_access
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext, lazy_gettext as _l

from app.domain import mass_jobs
from app.domain.errors import NotAllowed
from app.domain.exports import MIMETYPES
from app.extensions import db
from app.pages.responses import private
from app.viewbase import current_user


class MassJobView(BaseView):
    """/tarefas/: "Minhas tarefas em massa", one job's page and its report."""

    route_base = "/tarefas"
    default_view = "jobs"

    @expose("/")
    @has_access
    @permission_name("list")
    def jobs(self) -> Any:
        items = mass_jobs.user_jobs(db.session, current_user())
        active = any(job.status in mass_jobs.ACTIVE for job in items)
        mass_jobs.keep_running(db.session, active)
        return private(Response(self.render_template(
            "mass_jobs/list.html", jobs=items, refresh=active, labels=mass_jobs.STATUS_LABELS, kinds=mass_jobs.KINDS,
            summary=mass_jobs.summary, percent=mass_jobs.percent, title=gettext("Minhas tarefas em massa"),
        )))

    @expose("/<int:job_id>")
    @has_access
    @permission_name("list")
    def show(self, job_id: int) -> Any:
        job = self._job(job_id)
        active = job.status in mass_jobs.ACTIVE
        mass_jobs.keep_running(db.session, active)
        refused_only = request.args.get("recusados") == "1"
        lines = [] if active else mass_jobs.report(db.session, job, refused_only)
        back = str(job.params.get("back") or "")
        return private(Response(self.render_template(
            "mass_jobs/show.html", job=job, kind=mass_jobs.KINDS[job.kind], active=active, lines=lines,
            refused_only=refused_only, summary=mass_jobs.summary(job), percent=mass_jobs.percent(job),
            labels=mass_jobs.STATUS_LABELS, back=back if back.startswith("/") and not back.startswith("//") else "",
            title=str(mass_jobs.KINDS[job.kind].title),
        )))

    @expose("/<int:job_id>/relatorio.xlsx")
    @has_access
    @permission_name("list")
    def spreadsheet(self, job_id: int) -> Any:
        job = self._job(job_id)
        content = mass_jobs.report_xlsx(db.session, job)
        return private(send_file(io.BytesIO(content), mimetype=MIMETYPES["xlsx"], as_attachment=True,
                                  download_name=mass_jobs.report_name(job), max_age=0))

    @staticmethod
    def _job(job_id: int) -> Any:
        try:
            return mass_jobs.visible_job(db.session, current_user(), job_id)
        except NotAllowed:
            abort(404)


def register(appbuilder: Any) -> None:
    """Add "Minhas tarefas em massa" next to "Minhas exportações" in the Service menu."""
    appbuilder.add_view(MassJobView, "MyMassJobs", label=_l("Minhas tarefas em massa"), icon="fa-tasks",
                        category="Service", category_label=_l("Atendimento"), category_icon="fa-headset")
