"""Ticket attachments: size limit, allowed types, safe names, stored outside the web root."""
from __future__ import annotations

import os
import re
import unicodedata
import uuid
from typing import Any, BinaryIO

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from app.domain import history
from app.domain.access import can_see_ticket
from app.domain.clock import now
from app.domain.errors import Conflict, NotAllowed, ValidationError
from app.domain.params import get_parameters
from app.models import Attachment, Ticket

MAGIC = {
    "pdf": [b"%PDF"],
    "png": [b"\x89PNG\r\n\x1a\n"],
    "jpg": [b"\xff\xd8\xff"],
    "jpeg": [b"\xff\xd8\xff"],
    "gif": [b"GIF87a", b"GIF89a"],
    "zip": [b"PK\x03\x04", b"PK\x05\x06"],
    "xlsx": [b"PK\x03\x04"],
    "docx": [b"PK\x03\x04"],
    "odt": [b"PK\x03\x04"],
}
CONTENT_TYPES = {
    "pdf": "application/pdf", "png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "gif": "image/gif",
    "txt": "text/plain", "csv": "text/csv", "zip": "application/zip",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "odt": "application/vnd.oasis.opendocument.text",
}
SAFE_NAME = re.compile(r"^[\w\-. ()À-ÿ,+&'#!@=\[\]{}~]+$")
TEXT_EXTENSIONS = {"txt", "csv"}
MAX_NAME_LENGTH = 200


def clean_filename(name: str) -> str:
    """Refuse names that carry a path or odd characters; keep a readable, safe file name.

    The name is refused, never silently rewritten: "../../etc/passwd" is an attack to report, not a
    name to fix (werkzeug's secure_filename would turn it into "etc_passwd" and hide it).
    """
    name = unicodedata.normalize("NFC", name or "").strip()
    invalid = ValidationError(_l("Nome de arquivo inválido: %(name)s", name=name[:100]), "file")
    if not name or "/" in name or "\\" in name or ".." in name or name.startswith(".") or "\x00" in name:
        raise invalid
    if any(unicodedata.category(c).startswith("C") for c in name):
        raise invalid
    if not SAFE_NAME.match(name) or len(name) > MAX_NAME_LENGTH:
        raise invalid
    return name


def allowed_extensions(params: Any) -> list[str]:
    """The extensions an administrator allows, lower-case, without dots."""
    return sorted({e.strip().lower().lstrip(".") for e in (params.attachment_extensions or "").split(",") if e.strip()})


def remove_stored_file(folder: str, stored_name: str) -> None:
    """Remove a stored file whose row was not saved (a failed commit)."""
    try:
        os.remove(os.path.join(folder, stored_name))
    except OSError:
        pass


def add_attachment(session: Session, ticket: Ticket, user: Any, filename: str, stream: BinaryIO, folder: str) -> Attachment:
    """Check and store an uploaded file of a ticket."""
    if ticket.status is not None and ticket.status.category == "cancelled":
        raise Conflict(_l("Atendimento cancelado não aceita alterações."))
    params = get_parameters(session)
    name = clean_filename(filename)
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    allowed = set(allowed_extensions(params))
    if extension not in allowed:
        raise ValidationError(
            _l("Tipo de arquivo não permitido (.%(ext)s). Permitidos: %(allowed)s.", ext=extension,
               allowed=", ".join(sorted(allowed))), "file")
    limit = params.attachment_max_mb * 1024 * 1024
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise ValidationError(
            _l("Arquivo maior que o limite de %(mb)d MB.", mb=params.attachment_max_mb), "file")
    if not data:
        raise ValidationError(_l("O arquivo está vazio."), "file")
    signatures = MAGIC.get(extension)
    mismatch = signatures and not any(data.startswith(s) for s in signatures)
    if extension in TEXT_EXTENSIONS and b"\x00" in data[:8192]:
        mismatch = True  # a binary (an executable renamed .txt) is not text
    if mismatch:
        raise ValidationError(_l("O conteúdo do arquivo não corresponde à extensão .%(ext)s.", ext=extension), "file")
    stored_name = uuid.uuid4().hex
    attachment = Attachment(
        ticket=ticket, filename=name, stored_name=stored_name,
        content_type=CONTENT_TYPES.get(extension, "application/octet-stream"), size=len(data),
        uploaded_by_id=getattr(user, "id", None), created_at=now(),
    )
    session.add(attachment)
    history.record(session, ticket, user, "attachment", new=name, note=_l("Arquivo anexado"))
    os.makedirs(folder, exist_ok=True)
    try:
        with open(os.path.join(folder, stored_name), "xb") as target:
            target.write(data)
    except OSError:
        remove_stored_file(folder, stored_name)
        raise ValidationError(_l("Não foi possível gravar o arquivo; tente novamente."), "file")
    return attachment


def download_path(session: Session, user: Any, attachment_id: int, folder: str) -> tuple[Attachment, str]:
    """Return the attachment and its file path, only for who may see its ticket."""
    attachment = session.get(Attachment, attachment_id)
    if attachment is None or not can_see_ticket(session, user, attachment.ticket_id):
        raise NotAllowed(_l("Arquivo não encontrado ou sem permissão."))
    return attachment, os.path.join(folder, attachment.stored_name)
