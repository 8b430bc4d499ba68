"""Export a list as XLSX or PDF (small: at once; large: in the background) and the user's exports page."""
from __future__ import annotations

import io
from typing import Any
from urllib.parse import urlsplit

from flask import Response, abort, current_app, flash, redirect, request, send_file, send_from_directory, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_appbuilder.security.decorators import permission_name
from flask_babel import format_decimal, gettext, lazy_gettext as _l

from app.domain import export_jobs, exports
from app.domain.errors import DomainError, NotAllowed
from app.extensions import db
from app.jobs import jobs
from app.pages.responses import private
from app.viewbase import current_user


def _back() -> str:
    """The page the user came from (same site only), else the home page."""
    referrer = request.referrer or ""
    if referrer and urlsplit(referrer).netloc in ("", request.host):
        return referrer
    from app.extensions import appbuilder

    return appbuilder.get_url_for_index


class ExportView(BaseView):
    """POST /exportar/<source>/<fmt>?<the list's query string> (with the CSRF token) and "Minhas exportações"."""

    route_base = ""
    default_view = "jobs"

    @expose("/exportar/<source>/<fmt>", methods=["POST"])
    @has_access
    @permission_name("export")
    def export(self, source: str, fmt: str) -> Any:
        if fmt not in exports.FORMATS or exports.get_source(source) is None:
            abort(404)
        args = request.args.to_dict(flat=False)
        try:
            job, data = export_jobs.start_export(db.session, current_user(), source, fmt, args)
        except DomainError as error:
            db.session.rollback()
            flash(error.message, "danger")
            return redirect(_back())
        if job is None:
            buffer = io.BytesIO()
            exports.write(fmt, buffer, data)
            buffer.seek(0)
            return private(send_file(buffer, mimetype=exports.MIMETYPES[fmt], as_attachment=True,
                                      download_name=exports.download_name(data, fmt), max_age=0))
        flash(gettext("A exportação de %(count)s registros foi colocada na fila; o arquivo ficará disponível "
                      "em Minhas exportações.", count=format_decimal(data.total())), "info")
        return redirect(url_for("ExportView.jobs"))

    @expose("/exportacoes/")
    @has_access
    @permission_name("list")
    def jobs(self) -> Any:
        items = export_jobs.user_jobs(db.session, current_user())
        pending = any(job.status in export_jobs.ACTIVE for job in items)
        if pending and current_app.config.get("JOBS_IN_PROCESS_WORKER", True):
            jobs().start_worker()  # jobs queued before a restart
        return private(Response(self.render_template(
            "exports/jobs.html", jobs=items, refresh=pending, labels=export_jobs.STATUS_LABELS,
            title=gettext("Minhas exportações"),
        )))

    @expose("/exportacoes/<int:job_id>/download")
    @has_access
    @permission_name("list")
    def download(self, job_id: int) -> Any:
        folder = export_jobs.export_folder()
        try:
            job = export_jobs.downloadable_job(db.session, current_user(), job_id, folder)
        except NotAllowed:
            abort(404)
        return private(send_from_directory(folder, job.file_name, as_attachment=True, max_age=0,
                                            download_name=job.download_name, mimetype=exports.MIMETYPES[job.fmt]))


def register(appbuilder: Any) -> None:
    """Add "Minhas exportações" to the Service menu."""
    appbuilder.add_view(ExportView, "MyExports", label=_l("Minhas exportações"), icon="fa-download",
                        category="Service", category_label=_l("Atendimento"), category_icon="fa-headset")
