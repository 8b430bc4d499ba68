"""Delivery of the outbox on the job queue: claim, send, retry with backoff, at most once (R27).

A worker claims a row with one UPDATE (pending and due → sending); only the worker whose UPDATE changed the row sends
it. A row left in "sending" (the process died between the SMTP server's answer and the commit) is never sent again
automatically: the administrator sees it and decides ("Reenviar" makes a new row). Failures go back to "pending" with
the error and a doubled delay, up to NOTIFY_MAX_ATTEMPTS, then "failed".
"""
from __future__ import annotations

import datetime as dt
import logging
from typing import Iterable

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.domain.clock import now
from app.domain.notifications.channels import configured, send
from app.jobs import background, enqueue, periodic
from app.models import NOTE_TEXT, Notification

log = logging.getLogger(__name__)

DELIVER_TASK = "notifications.deliver"
SWEEP_BATCH = 100
STUCK_AFTER = dt.timedelta(minutes=15)


def retry_delay(attempts: int) -> dt.timedelta:
    """1 minute after the first failure, then 2, 4, 8 … up to NOTIFY_RETRY_MAX_SECONDS."""
    config = current_app.config
    base = int(config.get("NOTIFY_RETRY_SECONDS", 60))
    cap = int(config.get("NOTIFY_RETRY_MAX_SECONDS", 3600))
    return dt.timedelta(seconds=min(cap, base * 2 ** max(0, min(attempts - 1, 20))))


def stuck(notification: Notification) -> bool:
    """A row claimed long ago and never finished: its worker died; only a person may send it again."""
    return (notification.status == "sending" and notification.claimed_at is not None
            and now() - notification.claimed_at > STUCK_AFTER)


def claim(session: Session, notification_id: int) -> bool:
    """Take one due, pending row for this worker (the single UPDATE is the lock)."""
    moment = now()
    taken = session.execute(
        update(Notification)
        .where(Notification.id == notification_id, Notification.status == "pending",
               Notification.next_attempt_at <= moment)
        .values(status="sending", attempts=Notification.attempts + 1, claimed_at=moment)
    ).rowcount
    session.commit()
    return bool(taken)


def deliver(session: Session, notification_id: int) -> str:
    """Send one notification if it is due and its channel is configured; return its status afterwards."""
    row = session.get(Notification, notification_id)
    if row is None:
        return "missing"
    if row.status != "pending" or not configured(row.channel):
        return row.status
    session.expire(row)
    if not claim(session, notification_id):
        return "busy"
    row = session.get(Notification, notification_id)
    try:
        send(session, row)
    except Exception as error:  # noqa: BLE001 - any failure of a channel is retried, then reported
        session.rollback()
        return _failed(session, notification_id, error)
    session.execute(update(Notification).where(Notification.id == notification_id, Notification.status == "sending")
                    .values(status="sent", sent_at=now(), last_error=None))
    session.commit()
    return "sent"


def _failed(session: Session, notification_id: int, error: Exception) -> str:
    row = session.get(Notification, notification_id)
    text = f"{type(error).__name__}: {error}"[:NOTE_TEXT] if not _plain(error) else str(error)[:NOTE_TEXT]
    maximum = int(current_app.config.get("NOTIFY_MAX_ATTEMPTS", 10))
    status = "failed" if row.attempts >= maximum else "pending"
    log.warning("notification %s (%s) attempt %s failed: %s", notification_id, row.channel, row.attempts, text)
    session.execute(update(Notification).where(Notification.id == notification_id, Notification.status == "sending")
                    .values(status=status, last_error=text, next_attempt_at=(row.claimed_at or now()) + retry_delay(row.attempts)))
    session.commit()
    return status


def _plain(error: Exception) -> bool:
    from app.domain.notifications.channels import DeliveryError

    return isinstance(error, DeliveryError)


def due_ids(session: Session, limit: int = SWEEP_BATCH) -> list[int]:
    channels = [channel for channel in ("email", "sms") if configured(channel)]
    if not channels:
        return []
    return list(session.scalars(
        select(Notification.id).where(Notification.status == "pending", Notification.next_attempt_at <= now(),
                                      Notification.channel.in_(channels))
        .order_by(Notification.next_attempt_at, Notification.id).limit(limit)))


def deliver_due(session: Session) -> int:
    """Send every due notification (the sweep): retries, and messages queued while a channel was down."""
    sent = 0
    for notification_id in due_ids(session):
        sent += deliver(session, notification_id) == "sent"
    return sent


def queue_delivery(ids: Iterable[int]) -> None:
    """Ask the job queue to deliver these rows now; if the queue is unreachable the sweep sends them later."""
    try:
        enqueue(DELIVER_TASK, sorted(set(int(i) for i in ids)))
    except Exception:  # noqa: BLE001 - the rows are committed: the sweep delivers them
        log.exception("could not queue the delivery of notifications %s", list(ids))


@background(DELIVER_TASK)
def deliver_task(ids: list[int]) -> None:
    from app.extensions import db

    for notification_id in ids:
        deliver(db.session, notification_id)


@periodic("notifications.sweep", "NOTIFY_SWEEP_SECONDS")
def sweep_task() -> None:
    from app.extensions import db

    if current_app.config.get("NOTIFY_IN_BACKGROUND", True):
        deliver_due(db.session)
