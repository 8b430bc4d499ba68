"""Remaining time to a ticket's due date (R10), as the list and the exports show it."""
from __future__ import annotations

import datetime as dt
from typing import Optional

from flask_babel import gettext

from app.models import OPEN_CATEGORIES


def texts() -> dict[str, str]:
    """The translated templates, looked up once (an export formats them for every row)."""
    return {
        "days": gettext("%(days)d d %(hours)02d h"),
        "hours": gettext("%(hours)d h %(minutes)02d min"),
        "minutes": gettext("%(minutes)d min"),
        "overdue": gettext("Vencido há %(time)s"),
        "met": gettext("Dentro do prazo"),
        "missed": gettext("Fora do prazo"),
    }


def duration_text(delta: dt.timedelta, words: Optional[dict[str, str]] = None) -> str:
    words = words or texts()
    minutes = int(abs(delta).total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return words["days"] % {"days": days, "hours": hours}
    if hours:
        return words["hours"] % {"hours": hours, "minutes": minutes}
    return words["minutes"] % {"minutes": minutes}


def remaining(due_at: Optional[dt.datetime], category: Optional[str], closed_at: Optional[dt.datetime],
              when: dt.datetime, words: Optional[dict[str, str]] = None) -> dict[str, str]:
    """{"text", "state"}: state is ok, soon (under 2 h), overdue, met, missed or none."""
    if due_at is None:
        return {"text": "—", "state": "none"}
    if category not in OPEN_CATEGORIES:
        if closed_at is None:
            return {"text": "—", "state": "none"}
        words = words or texts()
        return {"text": words["met"], "state": "met"} if closed_at <= due_at else {"text": words["missed"],
                                                                                   "state": "missed"}
    words = words or texts()
    left = due_at - when
    if left.total_seconds() < 0:
        return {"text": words["overdue"] % {"time": duration_text(left, words)}, "state": "overdue"}
    state = "soon" if left <= dt.timedelta(hours=2) else "ok"
    return {"text": duration_text(left, words), "state": state}
