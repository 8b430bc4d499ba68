"""Protocol numbers (R1): YYYYMMDD + a 6-digit daily sequence kept in the database."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import update
from sqlalchemy.orm import Session

from app.models import ProtocolSequence

SEQUENCE_DIGITS = 6


def _insert_ignore(session: Session):
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    else:  # pragma: no cover - other databases are not supported
        return None
    return dialect_insert(ProtocolSequence).on_conflict_do_nothing(index_elements=["day"])


def reserve(session: Session, day: dt.date, count: int = 1) -> int:
    """Reserve `count` sequence numbers of `day`; return the last one.

    The row update locks the day's counter until the caller's transaction ends,
    so concurrent processes get distinct, increasing numbers.
    """
    stmt = _insert_ignore(session)
    session.execute(stmt.values(day=day, last_value=0))
    result = session.execute(
        update(ProtocolSequence)
        .where(ProtocolSequence.day == day)
        .values(last_value=ProtocolSequence.last_value + count)
        .returning(ProtocolSequence.last_value)
    )
    return int(result.scalar_one())


def format_protocol(day: dt.date, sequence: int) -> str:
    return f"{day:%Y%m%d}{sequence:0{SEQUENCE_DIGITS}d}"


def next_protocol(session: Session, when: dt.datetime) -> str:
    """Return a new protocol for a ticket started at `when`."""
    day = when.date()
    return format_protocol(day, reserve(session, day))
