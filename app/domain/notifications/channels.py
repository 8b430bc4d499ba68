"""How a notification leaves: e-mail over SMTP (Flask-Mailman) and SMS through a provider (log or HTTP)."""
from __future__ import annotations

import json
import logging
import os
import re
import urllib.error
import urllib.request
from email.utils import parseaddr
from typing import Any, Callable, Optional

from flask import Flask, current_app
from flask_mailman import EmailMessage, Mail
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Attachment, Notification

log = logging.getLogger(__name__)
mail = Mail()
SMS_TIMEOUT = 15


class DeliveryError(Exception):
    """The channel refused or could not take the message; the worker retries later."""


def init_mail(app: Flask) -> None:
    """Flask-Mailman always over SMTP (never its in-memory backend under TESTING): the tests use a real server."""
    app.config.setdefault("MAIL_BACKEND", "smtp")
    mail.init_app(app)


def configured(channel: str) -> bool:
    """Whether a channel can send now; an unconfigured one leaves its messages waiting in the outbox."""
    config = current_app.config
    if channel == "email":
        return bool(config.get("MAIL_SERVER"))
    if channel == "sms":
        provider = config.get("SMS_PROVIDER") or "log"
        return provider == "log" or (provider == "http" and bool(config.get("SMS_HTTP_URL")))
    return False


def message_id(key: str) -> str:
    """A Message-ID derived from the idempotency key: a message delivered twice would show as one."""
    sender = parseaddr(current_app.config.get("MAIL_DEFAULT_SENDER") or "")[1]
    domain = sender.rsplit("@", 1)[-1] if "@" in sender else "atende.local"
    return f"<{re.sub(r'[^A-Za-z0-9.+_-]', '.', key)}@{domain}>"


def send_email(session: Session, notification: Notification) -> None:
    config = current_app.config
    message = EmailMessage(subject=notification.subject or "", body=notification.body,
                           from_email=config.get("MAIL_DEFAULT_SENDER"), to=[notification.recipient],
                           headers={"Message-ID": message_id(notification.idempotency_key)})
    if notification.attachment_ids:
        folder = config["UPLOAD_FOLDER"]
        for attachment in session.scalars(select(Attachment).where(Attachment.id.in_(notification.attachment_ids))
                                          .order_by(Attachment.id)):
            with open(os.path.join(folder, attachment.stored_name), "rb") as stored:
                message.attach(attachment.filename, stored.read(), attachment.content_type)
    connection = mail.get_connection(
        backend=config.get("MAIL_BACKEND") or "smtp", host=config.get("MAIL_SERVER"),
        port=int(config.get("MAIL_PORT") or 25), username=config.get("MAIL_USERNAME") or "",
        password=config.get("MAIL_PASSWORD") or "", use_tls=bool(config.get("MAIL_USE_TLS")),
        use_ssl=bool(config.get("MAIL_USE_SSL")), timeout=config.get("MAIL_TIMEOUT") or 20)
    if connection.send_messages([message]) != 1:
        raise DeliveryError("o servidor de e-mail não aceitou a mensagem")


def send_sms_log(notification: Notification) -> None:
    log.info("SMS para %s: %s", notification.recipient, notification.body)


def send_sms_http(notification: Notification) -> None:
    """POST {"to", "text"} to SMS_HTTP_URL with the bearer token; anything but 2xx is an error to retry."""
    config = current_app.config
    request = urllib.request.Request(
        config["SMS_HTTP_URL"], data=json.dumps({"to": notification.recipient, "text": notification.body}).encode(),
        method="POST", headers={"Content-Type": "application/json", "Accept": "application/json",
                                "Authorization": f"Bearer {config.get('SMS_HTTP_TOKEN') or ''}"})
    try:
        with urllib.request.urlopen(request, timeout=SMS_TIMEOUT) as response:  # noqa: S310 - the configured URL
            if not 200 <= response.status < 300:
                raise DeliveryError(f"provedor de SMS respondeu {response.status}")
    except urllib.error.HTTPError as error:
        raise DeliveryError(f"provedor de SMS respondeu {error.code}: {_snippet(error)}") from error
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise DeliveryError(f"provedor de SMS inacessível: {reason}") from error


def _snippet(error: urllib.error.HTTPError) -> str:
    try:
        return error.read(300).decode("utf-8", "replace").strip() or str(error.reason)
    except Exception:  # noqa: BLE001
        return str(error.reason)


SMS_PROVIDERS: dict[str, Callable[[Notification], None]] = {"log": send_sms_log, "http": send_sms_http}


def send(session: Session, notification: Notification) -> None:
    """Hand one notification to its channel; raise on any failure."""
    if notification.channel == "email":
        send_email(session, notification)
        return
    provider: Optional[Any] = SMS_PROVIDERS.get(current_app.config.get("SMS_PROVIDER") or "log")
    if provider is None:
        raise DeliveryError(f"SMS_PROVIDER desconhecido: {current_app.config.get('SMS_PROVIDER')}")
    provider(notification)
