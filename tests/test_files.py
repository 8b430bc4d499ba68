"""Ticket files (upload/download, R11 history) and the printable ticket (HTML and PDF)."""
from __future__ import annotations

import io
import os
from typing import Any

import pytest
import sqlalchemy as sa

from tests.support import session
from tests import factories

PDF = b"%PDF-1.4\n% teste\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _find(username: str) -> Any:
    from app.extensions import appbuilder

    return appbuilder.sm.find_user(username=username)


def _ticket(app: Any, name: str = "João da Conceição", technician: str | None = None) -> dict[str, Any]:
    from app.domain import service_orders
    from app.models import ServiceOrder

    with session(app) as s:
        agent = _find("atendente")
        tech = _find(technician) if technician else None
        owner = factories.customer(s, name=name)
        t = factories.ticket(s, agent, owner=owner, opening_description="Sem conexão")
        if technician:
            service_orders.create_service_order(
                s, ServiceOrder(ticket=t, technician=tech, description="Trocar ONU"), agent)
            s.commit()
        return {"id": t.id, "protocol": t.protocol, "document": owner.document}


def _count(app: Any, table: str) -> int:
    with session(app) as s:
        return s.scalar(sa.text(f"SELECT count(*) FROM {table}"))


def _stored_files(app: Any) -> set[str]:
    folder = app.config["UPLOAD_FOLDER"]
    return set(os.listdir(folder)) if os.path.isdir(folder) else set()


def _upload(client: Any, ticket_id: int, content: bytes, name: str, **kwargs: Any) -> Any:
    return client.post(f"/ticketfile/{ticket_id}/upload", data={"file": (io.BytesIO(content), name)},
                       content_type="multipart/form-data", **kwargs)


def _flashes(client: Any) -> list[str]:
    with client.client.session_transaction() as sess:
        return [message for _category, message in sess.get("_flashes", [])]


@pytest.fixture
def parameters(app: Any) -> Any:
    def _set(**values: Any) -> None:
        from app.domain.params import get_parameters

        with session(app) as s:
            params = get_parameters(s)
            for key, value in values.items():
                setattr(params, key, value)
            s.commit()

    return _set


# ---------------------------------------------------------------- upload


def test_upload_stores_the_file_outside_the_web_root_and_records_history(app, login, users):
    t = _ticket(app)
    client = login("atendente")
    before = _stored_files(app)
    response = _upload(client, t["id"], PDF, "Contrato assinado.pdf")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/ticketview/edit/{t['id']}#files")
    assert "Arquivo anexado." in _flashes(client)
    from app.models import Attachment, TicketEvent

    with session(app) as s:
        attachment = s.scalars(sa.select(Attachment).where(Attachment.ticket_id == t["id"])).one()
        assert attachment.filename == "Contrato assinado.pdf"
        assert attachment.size == len(PDF) and attachment.content_type == "application/pdf"
        assert attachment.uploaded_by_id == _find("atendente").id
        events = s.scalars(sa.select(TicketEvent).where(TicketEvent.ticket_id == t["id"], TicketEvent.kind == "attachment")).all()
        assert [e.new_value for e in events] == ["Contrato assinado.pdf"]
        stored = attachment.stored_name
    assert _stored_files(app) - before == {stored}
    path = os.path.realpath(os.path.join(app.config["UPLOAD_FOLDER"], stored))
    assert not path.startswith(os.path.realpath(app.static_folder) + os.sep)
    with open(path, "rb") as handle:
        assert handle.read() == PDF
    # nothing under the static URL
    assert client.get(f"/static/{stored}").status_code == 404


def test_upload_form_shows_limits_in_portuguese(app, login, users, parameters):
    parameters(attachment_max_mb=7, attachment_extensions="pdf, png,jpg")
    t = _ticket(app)
    response = login("atendente").get(f"/ticketfile/{t['id']}/upload")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Tamanho máximo: 7 MB." in html
    assert "Tipos permitidos: jpg, pdf, png." in html
    assert 'name="csrf_token"' in html and 'enctype="multipart/form-data"' in html


def _assert_refused(app: Any, client: Any, ticket_id: int, response: Any, message: str) -> None:
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/ticketfile/{ticket_id}/upload")
    flashes = _flashes(client)
    assert any(message in f for f in flashes), flashes
    assert _count(app, "attachment") == 0
    with session(app) as s:
        assert s.scalar(sa.text("SELECT count(*) FROM ticket_event WHERE kind = 'attachment'")) == 0


def test_oversize_file_is_refused_and_nothing_is_stored(app, login, users, parameters):
    parameters(attachment_max_mb=1)
    t = _ticket(app)
    client = login("atendente")
    before = _stored_files(app)
    response = _upload(client, t["id"], b"%PDF" + b"0" * (1536 * 1024), "grande.pdf")
    _assert_refused(app, client, t["id"], response, "Arquivo maior que o limite de 1 MB.")
    assert _stored_files(app) == before


def test_request_above_the_server_limit_gets_a_portuguese_message(app, login, users):
    t = _ticket(app)
    client = login("atendente")
    before = _stored_files(app)
    original = app.config["MAX_CONTENT_LENGTH"]
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024
    try:
        response = _upload(client, t["id"], b"%PDF" + b"0" * (2 * 1024 * 1024), "enorme.pdf")
    finally:
        app.config["MAX_CONTENT_LENGTH"] = original
    _assert_refused(app, client, t["id"], response, "O arquivo é grande demais: o limite do servidor é de 1 MB.")
    assert _stored_files(app) == before
    page = client.get(f"/ticketfile/{t['id']}/upload").get_data(as_text=True)
    assert "grande demais" in page


@pytest.mark.parametrize("name, content, message", [
    ("programa.exe", b"MZ\x90\x00", "Tipo de arquivo não permitido (.exe)"),
    ("sem-extensao", b"abc", "Tipo de arquivo não permitido"),
    ("falso.pdf", b"MZ\x90\x00 nao sou um pdf", "O conteúdo do arquivo não corresponde à extensão .pdf."),
    ("falso.png", PDF, "O conteúdo do arquivo não corresponde à extensão .png."),
    ("binario.txt", b"MZ\x90\x00\x03\x00\x00\x00", "O conteúdo do arquivo não corresponde à extensão .txt."),
    ("vazio.txt", b"", "O arquivo está vazio."),
])
def test_disallowed_or_mismatched_files_are_refused(app, login, users, name, content, message):
    t = _ticket(app)
    client = login("atendente")
    before = _stored_files(app)
    _assert_refused(app, client, t["id"], _upload(client, t["id"], content, name), message)
    assert _stored_files(app) == before


@pytest.mark.parametrize("name", ["../../etc/passwd.pdf", "..\\x.pdf", "/etc/passwd.pdf", "C:\\temp\\x.pdf",
                                  ".htaccess.pdf", "a\x00b.pdf", "nome<script>.pdf"])
def test_path_traversal_and_odd_names_are_refused(app, login, users, name):
    t = _ticket(app)
    client = login("atendente")
    before = _stored_files(app)
    _assert_refused(app, client, t["id"], _upload(client, t["id"], PDF, name), "Nome de arquivo inválido")
    assert _stored_files(app) == before


def test_clean_filename_refuses_rather_than_rewrites(app):
    from app.domain.attachments import clean_filename
    from app.domain.errors import ValidationError

    with app.test_request_context():
        assert clean_filename("Relatório técnico (1).pdf") == "Relatório técnico (1).pdf"
        assert clean_filename("  foto_da-ONU.jpeg ") == "foto_da-ONU.jpeg"
        for bad in ("../../etc/passwd", "..\\x.pdf", "a/b.pdf", "", "   ", ".bashrc", "x" * 201 + ".pdf", "a\nb.pdf"):
            with pytest.raises(ValidationError):
                clean_filename(bad)


def test_upload_without_csrf_token_is_refused(app, login, users):
    t = _ticket(app)
    raw = login("atendente").client
    before = _stored_files(app)
    response = raw.post(f"/ticketfile/{t['id']}/upload", data={"file": (io.BytesIO(PDF), "a.pdf")},
                        content_type="multipart/form-data")
    assert response.status_code == 400
    assert _count(app, "attachment") == 0
    assert _stored_files(app) == before


def test_upload_on_a_missing_ticket_is_404(app, login, users):
    assert _upload(login("atendente"), 999999, PDF, "a.pdf").status_code == 404


def test_upload_on_a_cancelled_ticket_is_refused(app, login, users):
    t = _ticket(app)
    from app.models import Ticket

    with session(app) as s:
        ticket = s.get(Ticket, t["id"])
        ticket.status = factories.status(s, "cancelled")
        s.commit()
    client = login("atendente")
    _assert_refused(app, client, t["id"], _upload(client, t["id"], PDF, "a.pdf"),
                    "Atendimento cancelado não aceita alterações.")


# ---------------------------------------------------------------- download and who may reach the files


def _attach(app: Any, login: Any, ticket_id: int, content: bytes = PDF, name: str = "Relatório técnico.pdf") -> int:
    assert _upload(login("atendente"), ticket_id, content, name).status_code == 302
    from app.models import Attachment

    with session(app) as s:
        return s.scalars(sa.select(Attachment.id).where(Attachment.ticket_id == ticket_id)).all()[-1]


def test_download_sends_the_original_name_as_attachment(app, login, users):
    t = _ticket(app)
    attachment_id = _attach(app, login, t["id"])
    for username in ("atendente", "gestor", "admin"):
        response = login(username).get(f"/ticketfile/download/{attachment_id}")
        assert response.status_code == 200, username
        assert response.data == PDF
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Content-Type"] == "application/pdf"
        disposition = response.headers["Content-Disposition"]
        assert disposition.startswith("attachment;")
        assert "Relat%C3%B3rio%20t%C3%A9cnico.pdf" in disposition


def test_technician_without_an_order_on_the_ticket_gets_404(app, login, users):
    t = _ticket(app, technician="tecnico2")
    attachment_id = _attach(app, login, t["id"])
    client = login("tecnico")
    assert client.get(f"/ticketfile/download/{attachment_id}").status_code == 404
    assert client.get(f"/ticketprint/{t['id']}").status_code == 404
    assert client.get(f"/ticketprint/{t['id']}/pdf").status_code == 404
    assert client.get(f"/ticketfile/download/999999").status_code == 404


def test_technician_cannot_upload(app, login, users):
    t = _ticket(app, technician="tecnico")
    client = login("tecnico")
    assert client.get(f"/ticketfile/{t['id']}/upload").status_code == 403
    assert _upload(client, t["id"], PDF, "a.pdf").status_code == 403
    assert _count(app, "attachment") == 0


def test_technician_with_an_order_downloads_and_prints(app, login, users):
    t = _ticket(app, technician="tecnico")
    attachment_id = _attach(app, login, t["id"])
    client = login("tecnico")
    assert client.get(f"/ticketfile/download/{attachment_id}").status_code == 200
    assert client.get(f"/ticketprint/{t['id']}").status_code == 200
    assert client.get(f"/ticketprint/{t['id']}/pdf").status_code == 200


def test_customer_role_reaches_no_file_page(app, login, users):
    t = _ticket(app)
    attachment_id = _attach(app, login, t["id"])
    client = login("assinante")
    assert client.get(f"/ticketfile/download/{attachment_id}").status_code == 403
    assert client.get(f"/ticketprint/{t['id']}").status_code == 403
    assert _upload(client, t["id"], PDF, "a.pdf").status_code == 403


def test_anonymous_is_sent_to_login(app, users):
    t = _ticket(app)
    client = app.test_client()
    for url in (f"/ticketfile/{t['id']}/upload", f"/ticketprint/{t['id']}", f"/ticketprint/{t['id']}/pdf"):
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response.headers["Location"]


# ---------------------------------------------------------------- printing


def _changed_ticket(app: Any) -> dict[str, Any]:
    """A ticket with three recorded field changes, one message and one attachment."""
    from app.domain import messages, tickets
    from app.models import Ticket, TicketMessage

    t = _ticket(app)
    with session(app) as s:
        user = _find("gestor")
        for field, value in (("opening_description", "Troca-Alfa"), ("service_address", "Rua Beta 12"),
                             ("direction", "outbound")):
            ticket = s.get(Ticket, t["id"])
            setattr(ticket, field, value)
            assert tickets.update_ticket(s, ticket, user) == [field]
            s.commit()
        messages.add_message(s, TicketMessage(ticket=s.get(Ticket, t["id"]), body="Técnico agendado para amanhã",
                                              is_internal=False), user)
        s.commit()
    return t


def _pdf_text(data: bytes) -> str:
    return factories.pdf_text(data)


def test_pdf_has_the_whole_ticket_with_accents(app, login, users):
    t = _changed_ticket(app)
    attachment_id = _attach(app, login, t["id"], name="Relatório técnico.pdf")
    assert attachment_id
    response = login("atendente").get(f"/ticketprint/{t['id']}/pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == f'attachment; filename="atendimento-{t["protocol"]}.pdf"'
    assert response.data.startswith(b"%PDF")
    text = _pdf_text(response.data)
    assert t["protocol"] in text
    assert "Descrição da abertura" in text
    assert "João da Conceição" in text
    from app.domain.documents import format_document

    assert format_document(t["document"]) in text
    # the three changes, old and new values
    for value in ("Sem conexão", "Troca-Alfa", "Rua Beta 12", "Receptivo", "Ativo"):
        assert value in text, value
    # table cells wrap ("Alteração: Descrição / da abertura"), so look at the pieces
    assert text.count("Alteração:") == 3
    assert "Descrição" in text and "Endereço" in text and "Ativo/Receptivo" in text
    assert "Abertura" in text and "Anexo" in text and "Mensagem" in text
    assert "Técnico agendado para amanhã" in text
    assert "Relatório técnico.pdf" in text
    pages = text.count("\f")
    assert f"Página 1 de {pages}" in text and f"Página {pages} de {pages}" in text


def test_pdf_of_a_long_history_has_numbered_pages_and_every_entry(app, login, users):
    from app.domain import history
    from app.models import Ticket

    t = _ticket(app)
    with session(app) as s:
        ticket = s.get(Ticket, t["id"])
        for n in range(120):
            history.record(s, ticket, _find("gestor"), "field", field="opening_description",
                           old=f"antigo-{n:03d}", new=f"novo-{n:03d} " + "texto longo que quebra linha " * 3)
        s.commit()
    text = _pdf_text(login("gestor").get(f"/ticketprint/{t['id']}/pdf").data)
    pages = text.count("\f")
    assert pages >= 3
    assert f"Página 1 de {pages}" in text and f"Página {pages} de {pages}" in text
    for n in range(120):
        assert f"antigo-{n:03d}" in text and f"novo-{n:03d}" in text


def test_print_page_is_clean_and_complete(app, login, users):
    t = _changed_ticket(app)
    response = login("atendente").get(f"/ticketprint/{t['id']}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "navbar" not in html
    assert "window.print()" in html
    assert t["protocol"] in html
    assert "João da Conceição" in html
    from app.domain.documents import format_document

    assert format_document(t["document"]) in html
    for value in ("Troca-Alfa", "Rua Beta 12", "Receptivo", "Ativo", "Descrição da abertura",
                  "Técnico agendado para amanhã", "Alteração: Ativo/Receptivo"):
        assert value in html, value
    import re

    assert re.search(r"\d{2}/\d{2}/\d{4} \d{2}:\d{2}", html)


def test_print_data_is_refused_to_who_cannot_see_the_ticket(app, users):
    from app.domain.errors import NotAllowed
    from app.domain.printing import ticket_print_data

    t = _ticket(app)
    with app.test_request_context(), session(app) as s:
        with pytest.raises(NotAllowed):
            ticket_print_data(s, _find("tecnico"), t["id"])
        data = ticket_print_data(s, _find("gestor"), t["id"])
        assert data["protocol"] == t["protocol"]
        assert [h["kind"] for h in data["history"]] == ["Abertura"]
