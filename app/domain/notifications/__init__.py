"""Notifications to the customer (R25, R27): outbox rows written in the event's own transaction.

Nothing is sent here. Each event renders its texts and adds `Notification` rows to the caller's session; the rows
commit (or roll back) with the event. After the commit their delivery is queued on the job queue
(app.domain.notifications.delivery), which sends each row at most once. An idempotency key per event, subject
(ticket, message, link) and channel keeps a repeated call or a double click from queueing the same message twice.
"""
from __future__ import annotations

import hashlib
import uuid
from contextlib import contextmanager
from typing import Any, Iterable, Iterator, Optional

from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from app.domain.clock import now
from app.domain.errors import Conflict, ValidationError
from app.domain.notifications import templates
from app.models import (
    Attachment,
    Customer,
    CustomerEmail,
    CustomerPhone,
    Notification,
    Ticket,
    TicketMessage,
)

MOBILE_KINDS = ("mobile", "whatsapp")
ALWAYS_SENT = ("protocol", "first_access", "reset")  # the law's protocol and the access links ignore opt-outs
PORTAL_PURPOSES = ("first_access", "reset")
STATUS_LABELS = {
    "pending": _l("Aguardando envio"),
    "sending": _l("Enviando"),
    "sent": _l("Enviada"),
    "failed": _l("Falhou"),
}
_SESSION_KEYS = "atende_notification_keys"
_SESSION_IDS = "atende_notification_ids"
_SESSION_MUTED = "atende_notifications_muted"


# ---------------------------------------------------------------- the events


def ticket_registered(session: Session, ticket: Ticket) -> list[Notification]:
    """Queue the protocol with the date and time of the opening (R25): e-mail and SMS; never opted out."""
    return _for_ticket(session, ticket, "protocol", f"protocol:{ticket.protocol}", {})


def resend_protocol(session: Session, ticket: Ticket, user: Any, request_key: Optional[str] = None
                    ) -> list[Notification]:
    """Queue the protocol again on a person's request: a new key per request (the form's), recorded in the history."""
    from app.domain import history

    if ticket.is_draft:
        raise Conflict(_l("Rascunho não tem protocolo registrado: salve o atendimento primeiro."))
    request_key = _clean_key(request_key) or uuid.uuid4().hex
    queued = _for_ticket(session, ticket, "protocol", f"protocol:{ticket.protocol}:again:{request_key}", {},
                         user=user)
    if not queued and not _already_queued(session, f"protocol:{ticket.protocol}:again:{request_key}:"):
        raise ValidationError(_l("O cliente não tem e-mail nem celular cadastrado para receber o protocolo."))
    if queued:
        history.record(session, ticket, user, "action", field="notification",
                       new=", ".join(n.recipient for n in queued), note=_l("Protocolo reenviado ao cliente"))
    return queued


def message_to_customer(session: Session, ticket: Ticket, message: TicketMessage,
                        attachments: Iterable[Attachment] = (), title: Optional[str] = None,
                        channels: Iterable[str] = ("email", "sms"), user: Any = None, key: Optional[str] = None
                        ) -> list[Notification]:
    """Queue a public message (or an agent's e-mail with the chosen attachments) to the customer."""
    if message.is_internal:
        return []
    if key is None and message.id is None:
        session.flush()
    extra = {"mensagem": message.body, "titulo": (title or "").strip()}
    return _for_ticket(session, ticket, "message", key or f"message:{message.id}", extra, channels=tuple(channels),
                       attachments=[a.id for a in attachments], user=user)


def ticket_resolved(session: Session, ticket: Ticket) -> list[Notification]:
    """Queue the answer (closing description) when the demand is concluded (R24)."""
    closed = ticket.closed_at or now()
    extra = {"resposta": ticket.closing_description or "", "data_conclusao": closed.strftime("%d/%m/%Y %H:%M")}
    return _for_ticket(session, ticket, "resolved", f"resolved:{ticket.protocol}:{closed:%Y%m%d%H%M%S}", extra)


def portal_link(session: Session, customer: Customer, email: str, url: str, purpose: str) -> list[Notification]:
    """Queue the portal's first-access or reset link to one e-mail address; never opted out."""
    if purpose not in PORTAL_PURPOSES:
        raise ValueError(purpose)
    email = (email or "").strip()
    if not email:
        return []
    context = {**_customer_context(customer), "link": url}
    digest = hashlib.sha256(url.encode()).hexdigest()[:32]
    found = _queue(session, purpose, "email", email, f"{purpose}:{customer.id}:{digest}:email", context,
                   customer=customer)
    return [found] if found is not None else []


# ---------------------------------------------------------------- who and what


def primary_email(session: Session, customer: Customer) -> Optional[str]:
    row = session.scalar(select(CustomerEmail.email).where(CustomerEmail.customer_id == customer.id)
                         .order_by(CustomerEmail.is_primary.desc(), CustomerEmail.id).limit(1))
    return row or None


def mobile_phone(session: Session, customer: Customer) -> Optional[str]:
    number = session.scalar(select(CustomerPhone.number).where(CustomerPhone.customer_id == customer.id,
                                                               CustomerPhone.kind.in_(MOBILE_KINDS))
                            .order_by(CustomerPhone.is_primary.desc(), CustomerPhone.id).limit(1))
    return sms_number(number) if number else None


def sms_number(number: str) -> Optional[str]:
    """A Brazilian mobile number in E.164 (+55 DDD number); None for what cannot receive an SMS."""
    digits = "".join(c for c in number if c.isdigit())
    if len(digits) in (10, 11):
        return "+55" + digits
    if len(digits) in (12, 13) and digits.startswith("55"):
        return "+" + digits
    return None


def recipients(session: Session, customer: Optional[Customer], kind: str,
               channels: Iterable[str] = ("email", "sms")) -> dict[str, str]:
    """The address per channel for a kind of message, after the customer's opt-outs."""
    found: dict[str, str] = {}
    if customer is None or customer.id is None:
        return found
    if "email" in channels and (kind in ALWAYS_SENT or customer.accepts_email is not False):
        email = primary_email(session, customer)
        if email:
            found["email"] = email
    if "sms" in channels and (kind in ALWAYS_SENT or customer.accepts_sms is not False):
        phone = mobile_phone(session, customer)
        if phone:
            found["sms"] = phone
    return found


def _customer_context(customer: Optional[Customer]) -> dict[str, Any]:
    app_name = current_app.config.get("APP_NAME", "Atende") if has_app_context() else "Atende"
    base = current_app.config.get("PUBLIC_BASE_URL", "") if has_app_context() else ""
    return {"cliente": customer.name if customer is not None else "", "empresa": app_name,
            "link": f"{base}/central/"}


def ticket_context(ticket: Ticket) -> dict[str, Any]:
    opened = ticket.opened_at or now()
    return {**_customer_context(ticket.customer), "protocolo": ticket.protocol,
            "data_hora": opened.strftime("%d/%m/%Y %H:%M"), "assunto": str(ticket.subject or ""),
            "titulo": "", "mensagem": "", "resposta": ticket.closing_description or "",
            "data_conclusao": ticket.closed_at.strftime("%d/%m/%Y %H:%M") if ticket.closed_at else ""}


def _for_ticket(session: Session, ticket: Ticket, kind: str, key: str, extra: dict[str, Any],
                channels: tuple[str, ...] = ("email", "sms"), attachments: Optional[list[int]] = None,
                user: Any = None) -> list[Notification]:
    if ticket.type != "customer" or ticket.customer is None:
        return []
    context = {**ticket_context(ticket), **extra}
    queued = []
    for channel, recipient in recipients(session, ticket.customer, kind, channels).items():
        found = _queue(session, kind, channel, recipient, f"{key}:{channel}", context, ticket=ticket,
                       customer=ticket.customer, attachments=attachments if channel == "email" else None, user=user)
        if found is not None:
            queued.append(found)
    return queued


def _queue(session: Session, kind: str, channel: str, recipient: str, key: str, context: dict[str, Any],
           ticket: Optional[Ticket] = None, customer: Optional[Customer] = None,
           attachments: Optional[list[int]] = None, user: Any = None) -> Optional[Notification]:
    """Add one outbox row, unless its key was already queued (in this transaction or before)."""
    if session.info.get(_SESSION_MUTED):
        return None
    keys = session.info.setdefault(_SESSION_KEYS, set())
    if key in keys or session.scalar(select(Notification.id).where(Notification.idempotency_key == key)):
        return None
    text = templates.render(session, kind, channel, context)
    if text is None:
        return None
    if user is None and has_app_context():
        from flask import g, has_request_context

        user = getattr(g, "user", None) if has_request_context() else None
    moment = now()
    row = Notification(kind=kind, channel=channel, recipient=recipient[:200], subject=text.subject, body=text.body,
                       attachment_ids=list(attachments or []), ticket=ticket, customer=customer,
                       idempotency_key=key, status="pending", attempts=0, next_attempt_at=moment, created_at=moment,
                       created_by_id=getattr(user, "id", None))
    session.add(row)
    keys.add(key)
    return row


def _already_queued(session: Session, prefix: str) -> bool:
    return bool(session.scalar(select(func.count(Notification.id))
                               .where(Notification.idempotency_key.like(prefix + "%"))))


def _clean_key(value: Any) -> str:
    return "".join(c for c in value if c.isalnum())[:40] if isinstance(value, str) else ""


@contextmanager
def muted(session: Session) -> Iterator[None]:
    """Queue nothing inside (bulk imports of past tickets, demo data)."""
    before = session.info.get(_SESSION_MUTED)
    session.info[_SESSION_MUTED] = True
    try:
        yield
    finally:
        session.info[_SESSION_MUTED] = before


# ---------------------------------------------------------------- what the ticket shows


def of_ticket(session: Session, ticket_id: int) -> list[Notification]:
    """The ticket's notifications, newest first (R27: their state is visible on the ticket)."""
    return list(session.scalars(select(Notification).where(Notification.ticket_id == ticket_id)
                                .order_by(Notification.id.desc()).limit(100)))


def counts(session: Session) -> dict[str, int]:
    rows = session.execute(select(Notification.status, func.count(Notification.id)).group_by(Notification.status))
    found = {status: 0 for status in STATUS_LABELS}
    found.update({status: count for status, count in rows})
    return found


def resend(session: Session, original: Notification, user: Any) -> Notification:
    """Queue a sent or failed notification again as a new row (the administrator's "Reenviar").

    At most once per request: a copy is refused while an earlier copy of the same notification still waits, and
    its key (the original's plus the number of copies) is unique, so a repeated form queues nothing more.
    """
    from app.domain.notifications.delivery import stuck

    if original.status not in ("sent", "failed") and not stuck(original):
        raise Conflict(_l("Só notificações enviadas ou que falharam podem ser reenviadas."))
    copies = list(session.scalars(select(Notification).where(Notification.resend_of_id == original.id)))
    if any(copy.status in ("pending", "sending") for copy in copies):
        raise Conflict(_l("Já há um reenvio desta notificação aguardando na fila."))
    moment = now()
    copy = Notification(kind=original.kind, channel=original.channel, recipient=original.recipient,
                        subject=original.subject, body=original.body, attachment_ids=list(original.attachment_ids or []),
                        ticket_id=original.ticket_id, customer_id=original.customer_id, resend_of_id=original.id,
                        idempotency_key=f"{original.idempotency_key}:again{len(copies) + 1}"[:200], status="pending",
                        attempts=0, next_attempt_at=moment, created_at=moment, created_by_id=getattr(user, "id", None))
    session.add(copy)
    return copy


# ---------------------------------------------------------------- delivery is queued after the commit


@event.listens_for(Session, "after_flush")
def _remember_new_rows(session: Session, flush_context: Any) -> None:
    ids = [obj.id for obj in session.new if isinstance(obj, Notification)]
    if ids:
        session.info.setdefault(_SESSION_IDS, []).extend(ids)


@event.listens_for(Session, "after_commit")
def _deliver_after_commit(session: Session) -> None:
    ids = session.info.pop(_SESSION_IDS, None)
    session.info.pop(_SESSION_KEYS, None)
    if ids and has_app_context() and current_app.config.get("NOTIFY_IN_BACKGROUND", True):
        from app.domain.notifications.delivery import queue_delivery

        queue_delivery(ids)


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    session.info.pop(_SESSION_IDS, None)
    session.info.pop(_SESSION_KEYS, None)
