"""The company's wall clock: naive datetimes in the configured time zone."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

TIMEZONE = ZoneInfo("America/Sao_Paulo")


def now() -> dt.datetime:
    """Return the current local time, naive, to the second."""
    return dt.datetime.now(TIMEZONE).replace(tzinfo=None, microsecond=0)
