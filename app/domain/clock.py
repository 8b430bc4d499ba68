"""The company's wall clock: naive datetimes in the configured time zone."""
from __future__ import annotations

import datetime as dt
from typing import Any, Optional
from zoneinfo import ZoneInfo

TIMEZONE = ZoneInfo("America/Sao_Paulo")
# typed dd/mm/aaaa hh:mm, a date alone, or what a phone's datetime-local input sends
DATETIME_FORMATS = ("%d/%m/%Y %H:%M", "%d/%m/%Y", "%Y-%m-%dT%H:%M")


def now() -> dt.datetime:
    """Return the current local time, naive, to the second."""
    return dt.datetime.now(TIMEZONE).replace(tzinfo=None, microsecond=0)


def parse_local(raw: Optional[str], field: str, label: Any) -> Optional[dt.datetime]:
    """Read a local date and time typed in a form; refuse anything else with a pt-BR message at the field."""
    from flask_babel import gettext

    from app.domain.errors import ValidationError

    raw = (raw or "").strip()
    if not raw:
        return None
    for pattern in DATETIME_FORMATS:
        try:
            return dt.datetime.strptime(raw, pattern)
        except ValueError:
            continue
    raise ValidationError(gettext("%(field)s inválido: use dd/mm/aaaa hh:mm.", field=label), field)
