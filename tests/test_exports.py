"""Exports: XLSX/PDF writers, the /exportar route (at once or in the background) and "Minhas exportações"."""
from __future__ import annotations

import datetime as dt
import io
import os
import re
import time
import tracemalloc
from typing import Any, Iterator

import openpyxl
import pytest
import sqlalchemy as sa

from app.domain.errors import NotAllowed
from app.domain.exports import ExportColumn, ExportData, register_source, write_pdf, write_xlsx
from tests.support import session
from tests import factories

SOURCE = "teste"
BASE = dt.datetime(2026, 11, 27, 8, 30)
COLUMNS = [
    ExportColumn("Protocolo", width=16),
    ExportColumn("Abertura", "datetime", 16),
    ExportColumn("Descrição", width=40),
    ExportColumn("Número", "int", 8),
    ExportColumn("Agendado para", "date", 12),
]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
built_for: list[str] = []


def _rows(count: int, broken: bool = False) -> Iterator[tuple]:
    for n in range(count):
        if broken and n == 1:
            raise RuntimeError("falha simulada")
        description = "=1+1" if n == 0 else f"Cliente sem conexão {n}"
        yield (f"P{n:06d}", BASE + dt.timedelta(minutes=n), description, n, None if n % 2 else BASE.date())


def _builder(session: Any, user: Any, args: dict[str, list[str]]) -> ExportData:
    """A tiny export source: ?n=<rows>, ?negar=1 refuses, ?quebrar=1 fails while writing."""
    built_for.append(user.username)
    if args.get("negar"):
        raise NotAllowed("Você não pode exportar estes registros.")
    count = int(args.get("n", ["3"])[0])
    return ExportData("Atendimentos de teste", "Período: 01/11/2026 a 27/11/2026", COLUMNS,
                      _rows(count, broken=bool(args.get("quebrar"))), lambda: count, "atendimentos")


register_source(SOURCE, _builder)


@pytest.fixture
def settings(app: Any, tmp_path: Any) -> Iterator[Any]:
    """Exports go to a temporary folder; config changes are undone and jobs deleted after the test."""
    saved = {key: app.config.get(key) for key in ("EXPORT_FOLDER", "EXPORT_SYNC_MAX_ROWS")}
    app.config["EXPORT_FOLDER"] = str(tmp_path / "exports")
    yield app.config
    app.config.update(saved)
    with session(app) as s:
        s.execute(sa.text("DELETE FROM export_job"))
        s.commit()


def _flashes(client: Any) -> list[str]:
    with client.client.session_transaction() as sess:
        return [message for _category, message in sess.get("_flashes", [])]


def _read_xlsx(data: bytes | str) -> Any:
    return openpyxl.load_workbook(io.BytesIO(data) if isinstance(data, bytes) else data).active


def _pdf_text(data: bytes) -> str:
    return factories.pdf_text(data)


def _job(app: Any, username: str) -> Any:
    from app.extensions import appbuilder
    from app.models import ExportJob

    with session(app) as s:
        user = appbuilder.sm.find_user(username=username)
        job = s.scalars(sa.select(ExportJob).where(ExportJob.user_id == user.id).order_by(ExportJob.id.desc())).first()
        s.expunge_all()
        return job


def _wait(app: Any, job_id: int, seconds: float = 20) -> Any:
    from app.models import ExportJob

    deadline = time.monotonic() + seconds
    while True:
        with session(app) as s:
            job = s.get(ExportJob, job_id)
            s.expunge_all()
        if job.status in ("done", "failed") or time.monotonic() > deadline:
            return job
        time.sleep(0.2)


# ---------------------------------------------------------------- writers


def test_xlsx_has_real_dates_a_frozen_bold_header_and_formulas_stay_text(tmp_path):
    path = tmp_path / "a.xlsx"
    assert write_xlsx(path, "Atendimentos: novembro/2026", COLUMNS, _rows(4)) == 4
    sheet = _read_xlsx(str(path))
    assert sheet.title == "Atendimentos  novembro 2026"
    assert [c.value for c in sheet[1]] == ["Protocolo", "Abertura", "Descrição", "Número", "Agendado para"]
    assert all(c.font.bold for c in sheet[1])
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:E5"
    assert [row[0].value for row in sheet.iter_rows(min_row=2)] == ["P000000", "P000001", "P000002", "P000003"]
    opened = sheet["B2"]
    assert opened.value == BASE and opened.is_date and opened.number_format == "dd/mm/yyyy hh:mm"
    assert sheet["E2"].value == dt.datetime(2026, 11, 27) and sheet["E2"].number_format == "dd/mm/yyyy"
    assert sheet["E3"].value is None  # None → blank
    formula = sheet["C2"]
    assert formula.value == "=1+1" and formula.data_type == "s"
    assert sheet["D4"].value == 2


def test_xlsx_of_no_rows_has_the_header_only(tmp_path):
    assert write_xlsx(tmp_path / "v.xlsx", "Vazio", COLUMNS, []) == 0
    assert _read_xlsx(str(tmp_path / "v.xlsx")).max_row == 1


def test_pdf_is_landscape_with_a_repeated_header_page_numbers_and_the_total(app):
    buffer = io.BytesIO()
    rows = list(_rows(100))
    rows[5] = ("P000005", None, "descrição muito longa " * 20, 5, None)
    with app.app_context():
        assert write_pdf(buffer, "Atendimentos", "Período: 01/11/2026 a 27/11/2026", COLUMNS, rows) == 100
    data = buffer.getvalue()
    assert data.startswith(b"%PDF")
    text = _pdf_text(data)
    pages = text.count("\f")
    assert pages >= 3
    assert text.count("Protocolo") == pages and text.count("Período: 01/11/2026 a 27/11/2026") == pages
    assert f"Página 1 de {pages}" in text and f"Página {pages} de {pages}" in text
    assert "Total: 100 registros" in text
    assert "27/11/2026 08:30" in text and "=1+1" in text
    # the long description wraps inside its cell: every word is there, none is cut
    assert "descrição muito longa descrição muito longa" in text and "…" not in text
    assert re.findall(r"descrição|muito|longa", text) == ["descrição", "muito", "longa"] * 20


def test_xlsx_memory_stays_flat_on_100000_rows(tmp_path):
    """Streamed rows: about 3 MB traced (64 MB without constant_memory); two columns keep tracemalloc quick."""
    columns = [ExportColumn("Descrição", width=40), ExportColumn("Abertura", "datetime")]
    rows = ((f"Cliente sem conexão {n}", BASE) for n in range(100_000))
    tracemalloc.start()
    try:
        count = write_xlsx(tmp_path / "big.xlsx", "Grande", columns, rows)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert count == 100_000
    assert peak < 30 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB"


# ---------------------------------------------------------------- route: at once


def test_small_export_is_downloaded_at_once(app, login, settings):
    client = login("gestor")
    response = client.post(f"/exportar/{SOURCE}/xlsx?n=3&status=1&status=2")
    assert response.status_code == 200
    assert response.mimetype == XLSX
    disposition = response.headers["Content-Disposition"]
    assert re.fullmatch(r'attachment; filename=atendimentos-\d{8}-\d{4}\.xlsx', disposition), disposition
    assert response.headers["Cache-Control"] == "private, no-store"
    sheet = _read_xlsx(response.data)
    assert sheet.max_row == 4 and sheet["C2"].value == "=1+1"
    assert _job(app, "gestor") is None

    response = client.post(f"/exportar/{SOURCE}/pdf?n=2")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")
    assert "Total: 2 registros" in _pdf_text(response.data)


@pytest.mark.parametrize("url", [f"/exportar/{SOURCE}/csv", "/exportar/nada/xlsx"])
def test_unknown_source_or_format_is_404(login, settings, url):
    assert login("gestor").post(url).status_code == 404


def test_source_refusal_is_flashed_and_sends_the_user_back(login, settings):
    client = login("gestor")
    response = client.post(f"/exportar/{SOURCE}/xlsx?negar=1", headers={"Referer": "http://localhost/ticketview/list/?x=1"})
    assert response.status_code == 302
    assert response.headers["Location"] == "http://localhost/ticketview/list/?x=1"
    assert "Você não pode exportar estes registros." in _flashes(client)


def test_atendente_may_not_export(login, settings):
    client = login("atendente")
    assert client.post(f"/exportar/{SOURCE}/xlsx").status_code == 403
    assert client.get("/exportacoes/").status_code == 403


def test_anonymous_is_sent_to_login(app, settings):
    from tests.conftest import csrf_token

    client = app.test_client()
    response = client.post(f"/exportar/{SOURCE}/xlsx", data={"csrf_token": csrf_token(client)})
    assert response.status_code == 302 and "/login/" in response.headers["Location"]


def test_an_export_starts_only_by_post_with_the_csrf_token(app, login, settings):
    """A link, an image or a forged form on another site cannot start an export: GET is refused, so is a post
    without the session's token; the list's buttons post the token."""
    client = login("gestor")
    built_for.clear()
    get = client.get(f"/exportar/{SOURCE}/xlsx?n=3")
    assert get.status_code == 405 and get.mimetype == "text/html"
    assert "Operação não permitida" in get.get_data(as_text=True)
    assert client.client.post(f"/exportar/{SOURCE}/xlsx?n=3").status_code == 400
    assert client.post(f"/exportar/{SOURCE}/xlsx?n=3", data={"csrf_token": "forjado"}).status_code == 400
    assert built_for == [] and _job(app, "gestor") is None
    page = client.get("/ticketview/list/", follow_redirects=True).get_data(as_text=True)
    form = re.search(r'<form method="post" id="export-form"><input type="hidden" name="csrf_token" value="([^"]+)"', page)
    button = re.search(r'<button type="submit" form="export-form"[^>]*id="export-xlsx"\s+formaction="([^"]+)"', page)
    assert form and button and button.group(1).startswith("/exportar/tickets/xlsx?")
    response = client.post(f"/exportar/{SOURCE}/xlsx?n=3", data={"csrf_token": form.group(1)})
    assert response.status_code == 200 and response.mimetype == XLSX and built_for == ["gestor"]


# ---------------------------------------------------------------- route: in the background


def test_large_export_runs_in_the_background_and_only_its_owner_downloads_it(app, login, settings):
    settings["EXPORT_SYNC_MAX_ROWS"] = 2
    client = login("gestor")
    built_for.clear()
    response = client.post(f"/exportar/{SOURCE}/xlsx?n=5&status=1&status=2")
    assert response.status_code == 302 and response.headers["Location"].endswith("/exportacoes/")
    assert ("A exportação de 5 registros foi colocada na fila; o arquivo ficará disponível em "
            "Minhas exportações.") in _flashes(client)
    queued = _job(app, "gestor")
    assert queued.fmt == "xlsx" and queued.args == {"n": ["5"], "status": ["1", "2"]}
    assert re.fullmatch(r"atendimentos-\d{8}-\d{4}\.xlsx", queued.download_name)

    job = _wait(app, queued.id)
    assert job.status == "done", job.error
    assert job.row_count == 5 and job.started_at and job.finished_at and job.error is None
    assert built_for == ["gestor", "gestor"]  # counted in the request, written by the worker as the same user
    folder = settings["EXPORT_FOLDER"]
    assert os.listdir(folder) == [job.file_name]  # no partial file left

    page = client.get("/exportacoes/").get_data(as_text=True)
    assert "Concluída" in page and f"/exportacoes/{job.id}/download" in page
    assert 'http-equiv="refresh"' not in page
    assert job.created_at.strftime("%d/%m/%Y %H:%M") in page

    download = client.get(f"/exportacoes/{job.id}/download")
    assert download.status_code == 200 and download.mimetype == XLSX
    assert f"filename={job.download_name}" in download.headers["Content-Disposition"]
    sheet = _read_xlsx(download.data)
    assert [row[0].value for row in sheet.iter_rows(min_row=2)] == [f"P{n:06d}" for n in range(5)]

    assert login("admin").get(f"/exportacoes/{job.id}/download").status_code == 404
    assert f"/exportacoes/{job.id}/download" not in login("admin").get("/exportacoes/").get_data(as_text=True)
    assert client.get("/exportacoes/999999/download").status_code == 404


def test_a_failed_background_export_keeps_a_portuguese_error(app, login, settings):
    settings["EXPORT_SYNC_MAX_ROWS"] = 1
    client = login("gestor")
    client.post(f"/exportar/{SOURCE}/pdf?n=3&quebrar=1")
    job = _wait(app, _job(app, "gestor").id)
    assert job.status == "failed" and job.file_name is None
    assert job.error.startswith("Não foi possível gerar o arquivo.")
    assert os.listdir(settings["EXPORT_FOLDER"]) == []
    page = client.get("/exportacoes/").get_data(as_text=True)
    assert "Falhou" in page and "Não foi possível gerar o arquivo." in page
    assert client.get(f"/exportacoes/{job.id}/download").status_code == 404


def test_jobs_page_refreshes_while_a_job_is_queued(app, login, settings, users):
    from app.models import ExportJob

    with session(app) as s:
        s.add(ExportJob(user_id=users["gestor"].id, source="nada", fmt="pdf", args={}, status="queued",
                        download_name="atendimentos-20261127-0830.pdf"))
        s.commit()
    page = login("gestor").get("/exportacoes/").get_data(as_text=True)
    assert '<meta http-equiv="refresh" content="5">' in page
    assert "Na fila" in page and "atendimentos-20261127-0830.pdf" in page


def test_old_exports_are_removed(app, settings, users, tmp_path):
    from app.domain.clock import now
    from app.domain.export_jobs import remove_old_exports
    from app.models import ExportJob

    folder = tmp_path / "old"
    folder.mkdir()
    for name in ("velho.xlsx", "novo.xlsx", "perdido.part"):
        (folder / name).write_bytes(b"x")
    stale = time.time() - 8 * 86400
    os.utime(folder / "perdido.part", (stale, stale))
    with session(app) as s:
        for name, age in (("velho.xlsx", 8), ("novo.xlsx", 1)):
            s.add(ExportJob(user_id=users["gestor"].id, source=SOURCE, fmt="xlsx", args={}, status="done",
                            file_name=name, download_name=name, created_at=now() - dt.timedelta(days=age)))
        s.commit()
        remove_old_exports(s, str(folder), 7)
        assert s.scalars(sa.select(ExportJob.file_name)).all() == ["novo.xlsx"]
    assert sorted(os.listdir(folder)) == ["novo.xlsx"]
