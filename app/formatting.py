"""pt-BR display of dates, documents and phones."""
from __future__ import annotations

import datetime as dt
from typing import Any

from app.domain.documents import format_document, format_phone


def format_date(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.strftime("%d/%m/%Y %H:%M")
    if isinstance(value, dt.date):
        return value.strftime("%d/%m/%Y")
    return str(value)


def format_bool(value: Any) -> str:
    from flask_babel import gettext

    return gettext("Sim") if value else gettext("Não")


FILTERS = {
    "br_date": format_date,
    "br_document": format_document,
    "br_phone": format_phone,
    "br_bool": format_bool,
}
