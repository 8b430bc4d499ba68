"""Explicit versions (R12, R29): a save names the version it read; a missing or stale one saves nothing."""
from __future__ import annotations

import re
from typing import Any, Optional

from flask_babel import lazy_gettext as _l

from app.domain.errors import Conflict, DomainError, ValidationError

VERSION_REQUIRED = _l(
    "Informe a versão que você leu: envie o cabeçalho If-Match com o ETag recebido na consulta (GET) "
    "ou o campo “version”. Nada foi salvo."
)
INVALID_VERSION = _l("Versão inválida: envie em If-Match o ETag recebido na consulta, ou o número em “version”.")
STALE = _l(
    "Este registro foi alterado por outro usuário enquanto você editava. "
    "Recarregue para ver a versão atual; nada foi salvo."
)
_ETAG = re.compile(r'^(?:[Ww]/)?"?(\d{1,18})"?$')


class VersionRequired(DomainError):
    """An update that does not name the version it read: 428 Precondition Required (R29)."""

    status = 428


def etag(version: int) -> str:
    """The ETag of a version, as GET answers it."""
    return f'W/"{version}"'


def parse_version(raw: Any) -> Optional[int]:
    """The version named by an ETag (W/"3", "3") or a `version` value (3, "3"); None when none is named."""
    if raw is None or (isinstance(raw, str) and raw.strip() in ("", "*")):
        return None
    if isinstance(raw, int) and not isinstance(raw, bool) and 0 <= raw < 10**18:
        return raw
    match = _ETAG.match(raw.strip()) if isinstance(raw, str) else None
    if match is None:
        raise ValidationError(INVALID_VERSION, "version")
    return int(match.group(1))


def required_version(if_match: Optional[str], body_version: Any) -> int:
    """The version an API update names in If-Match or `version`; naming none is refused (R29)."""
    version = parse_version(body_version)
    if version is None:
        version = parse_version(if_match)
    if version is None:
        raise VersionRequired(VERSION_REQUIRED)
    return version


def check_version(current: int, expected: Any, stale_message: Any = STALE) -> None:
    """Refuse a save that names no version or not the current one (R12): the other person's change stays."""
    try:
        named = parse_version(expected)
    except ValidationError:
        named = None
    if named is None or named != current:
        raise Conflict(stale_message)
