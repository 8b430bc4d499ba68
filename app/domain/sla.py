"""Remaining time to a ticket's due date (R10), as the list shows it."""
from __future__ import annotations

import datetime as dt
from typing import Optional

from flask_babel import gettext

from app.models import OPEN_CATEGORIES


def duration_text(delta: dt.timedelta) -> str:
    minutes = int(abs(delta).total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return gettext("%(days)d d %(hours)02d h", days=days, hours=hours)
    if hours:
        return gettext("%(hours)d h %(minutes)02d min", hours=hours, minutes=minutes)
    return gettext("%(minutes)d min", minutes=minutes)


def remaining(due_at: Optional[dt.datetime], category: Optional[str], closed_at: Optional[dt.datetime],
              when: dt.datetime) -> dict[str, str]:
    """{"text", "state"}: state is ok, soon (under 2 h), overdue, met, missed or none."""
    if due_at is None:
        return {"text": "—", "state": "none"}
    if category not in OPEN_CATEGORIES:
        if closed_at is None:
            return {"text": "—", "state": "none"}
        if closed_at <= due_at:
            return {"text": gettext("No prazo"), "state": "met"}
        return {"text": gettext("Fora do prazo"), "state": "missed"}
    left = due_at - when
    if left.total_seconds() < 0:
        return {"text": gettext("Vencido há %(time)s", time=duration_text(left)), "state": "overdue"}
    state = "soon" if left <= dt.timedelta(hours=2) else "ok"
    return {"text": duration_text(left), "state": state}
