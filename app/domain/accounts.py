"""Accounts: the password policy, login throttling shared by every worker, and session versions (logout)."""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Iterable, Optional

import sqlalchemy as sa
from flask_babel import gettext
from sqlalchemy.orm import Session
from zxcvbn import zxcvbn

from app.domain.clock import now as clock_now
from app.domain.errors import DomainError, ValidationError
from app.models import LoginThrottle, SessionVersion

MIN_LENGTH = 10
MAX_LENGTH = 128
MIN_SCORE = 4  # zxcvbn's top score: about 10^10 guesses or more ("Primavera2026", a name and a year: no)
APP_WORDS = ("atende", "atendimento", "senha", "admin", "administrador", "usuario", "teste", "demo")

ACCOUNT_STEP = 10  # each 10 failures in a row lock the account (by the name or e-mail typed) …
IP_STEP = 50  # … and each 50 failures lock the address the attempts come from
LOCK_MINUTES = (1, 15, 60)  # the 1st, 2nd, 3rd and later locks
FORGET_AFTER = dt.timedelta(hours=24)  # failures older than this are forgotten


class TooManyAttempts(DomainError):
    """A login refused before its password is checked: the account or the address is locked for a while."""

    status = 429

    def __init__(self, retry_after: int) -> None:
        self.retry_after = max(1, retry_after)
        super().__init__(gettext(
            "Muitas tentativas de acesso: conta bloqueada temporariamente. Tente de novo em %(minutes)d min.",
            minutes=math.ceil(self.retry_after / 60)))


def check_password(password: str, personal: Iterable[Optional[str]] = ()) -> None:
    """Refuse a password that is short or easy to guess (common, a sequence, the user's own name)."""
    password = password or ""
    if len(password) < MIN_LENGTH:
        raise ValidationError(gettext("A senha deve ter pelo menos %(num)d caracteres.", num=MIN_LENGTH), "password")
    if len(password) > MAX_LENGTH:
        raise ValidationError(gettext("A senha deve ter no máximo %(num)d caracteres.", num=MAX_LENGTH), "password")
    words = [*APP_WORDS]
    for value in personal:
        if value:
            words.append(value.lower())
            words.extend(part for part in value.lower().replace("@", " ").replace(".", " ").split() if len(part) > 2)
    if zxcvbn(password, user_inputs=words)["score"] < MIN_SCORE:
        raise ValidationError(gettext(
            "Senha fácil de adivinhar: evite senhas comuns, sequências, repetições e dados pessoais (nome, usuário, "
            "e-mail). Use uma frase ou combine palavras, números e símbolos."), "password")


# ---------------------------------------------------------------- login throttling


@dataclass
class LoginAttempt:
    """The counters one login attempt reserved; ``end_login`` settles them."""

    account: str
    address: str
    locked: dict[str, dt.datetime] = field(default_factory=dict)  # the locks this attempt started


def account_key(user_id: Optional[int], typed: str) -> str:
    """One counter per account: its id when the typed name or e-mail exists, else the typed text itself."""
    return f"user:{user_id}" if user_id is not None else "name:" + (typed or "").strip().lower()[:200]


def lock_minutes(level: int) -> int:
    """How long the level-th lock lasts."""
    return LOCK_MINUTES[min(level, len(LOCK_MINUTES)) - 1]


def begin_login(s: Session, account: str, address: str, now: Optional[dt.datetime] = None) -> LoginAttempt:
    """Count an attempt for the account and the address before its password is checked; refuse a locked one."""
    now = now or clock_now()
    attempt = LoginAttempt(account=account, address="ip:" + (address or "?")[:64])
    try:
        for key, step in ((attempt.account, ACCOUNT_STEP), (attempt.address, IP_STEP)):
            until = _reserve(s, key, step, now)
            if until is not None:
                attempt.locked[key] = until
    except TooManyAttempts:
        s.rollback()  # nothing counted: a refused attempt checks no password
        raise
    s.commit()
    return attempt


def end_login(s: Session, attempt: LoginAttempt, success: bool, now: Optional[dt.datetime] = None) -> None:
    """A success clears the account's failures and gives the address its attempt back; a failure stays counted."""
    if not success:
        return
    now = now or clock_now()
    table = LoginThrottle.__table__
    key = table.c.key
    s.execute(sa.update(table).where(key == attempt.account).values(failures=0, locked_until=None))
    s.execute(sa.update(table).where(key == attempt.address, table.c.failures > 0)
              .values(failures=table.c.failures - 1))
    if attempt.address in attempt.locked:
        s.execute(sa.update(table).where(key == attempt.address, table.c.locked_until == attempt.locked[attempt.address])
                  .values(locked_until=None))
    s.execute(sa.delete(table).where(table.c.last_attempt_at < now - FORGET_AFTER,
                                     sa.or_(table.c.locked_until.is_(None), table.c.locked_until < now)))
    s.commit()


def unlock(s: Session, user_id: int) -> None:
    """Forget an account's failures (its password was reset by an administrator)."""
    s.execute(sa.delete(LoginThrottle.__table__).where(LoginThrottle.__table__.c.key == account_key(user_id, "")))


def _reserve(s: Session, key: str, step: int, now: dt.datetime) -> Optional[dt.datetime]:
    """Add one to the key's counter unless it is locked; every ``step``-th attempt starts the next lock."""
    table = LoginThrottle.__table__
    insert = _insert(s)(table).values(key=key, failures=0, last_attempt_at=now).on_conflict_do_nothing()
    s.execute(insert)  # the row exists from here on; on SQLite this also takes the write lock
    counted = s.execute(
        sa.update(table)
        .where(table.c.key == key, sa.or_(table.c.locked_until.is_(None), table.c.locked_until <= now))
        .values(failures=sa.case((table.c.last_attempt_at < now - FORGET_AFTER, 1), else_=table.c.failures + 1),
                last_attempt_at=now)
    ).rowcount
    if not counted:
        until = s.scalar(sa.select(table.c.locked_until).where(table.c.key == key))
        raise TooManyAttempts(int((until - now).total_seconds()) if until else 60)
    failures = s.scalar(sa.select(table.c.failures).where(table.c.key == key))
    if failures % step:
        return None
    until = now + dt.timedelta(minutes=lock_minutes(failures // step))
    s.execute(sa.update(table).where(table.c.key == key).values(locked_until=until))
    return until


def _insert(s: Session) -> object:
    """The dialect's INSERT, which knows ON CONFLICT DO NOTHING (PostgreSQL and SQLite alike)."""
    if s.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


# ---------------------------------------------------------------- session versions


def session_version(s: Session, user_id: int) -> int:
    """The version a session or token of the user must carry to be valid."""
    return s.scalar(sa.select(SessionVersion.version).where(SessionVersion.user_id == user_id)) or 0


def end_sessions(s: Session, user_id: int) -> int:
    """End every session and token of the user (logout, new password, deactivation); return the new version."""
    table = SessionVersion.__table__
    s.execute(_insert(s)(table).values(user_id=user_id, version=0).on_conflict_do_nothing())
    s.execute(sa.update(table).where(table.c.user_id == user_id).values(version=table.c.version + 1))
    version = session_version(s, user_id)
    s.commit()
    return version
