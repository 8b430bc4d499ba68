"""The customer's portal account: access links (first access, new password) and the Assinante user.

A customer logs in with their CPF/CNPJ and a password of their own. The account is an FAB user with the role
Assinante linked by ``Customer.portal_user``; it is created the first time a password is set through a link.
A link is sent to the customer's e-mail on file; it is single use, expires (PORTAL_LINK_HOURS, 1 h by default) and
only the SHA-256 hash of its secret is stored (``PortalToken``). Asking for a link never tells whether a document
exists.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Any, NamedTuple, Optional

from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.domain import accounts
from app.domain.clock import now
from app.domain.documents import document_kind, normalize_document
from app.domain.errors import ValidationError
from app.models import Customer, CustomerEmail, PortalToken
from app.security import ROLE_CUSTOMER

FIRST_ACCESS = "first_access"
RESET = "reset"
LINK_PATHS = {FIRST_ACCESS: "/central/primeiro-acesso/", RESET: "/central/nova-senha/"}
LINK_HOURS = 1
LINKS_PER_HOUR = 5  # links a customer may receive in an hour …
LINK_INTERVAL = dt.timedelta(seconds=60)  # … and at least this far apart (a double click sends one)
USERNAME_PREFIX = "cliente."
USER_EMAIL_DOMAIN = "central.invalid"  # the FAB user's e-mail; the customer's real ones stay on the customer
INVALID_LINK = _l("Este link é inválido, expirou ou já foi usado. Peça um novo link na Central do Assinante.")


class InvalidLink(ValidationError):
    """A link that does not exist, expired, was used, or serves another purpose: one message for all."""

    def __init__(self) -> None:
        super().__init__(str(INVALID_LINK), "token")


class Link(NamedTuple):
    """A link just queued: its address (with the secret) and where it goes."""

    url: str
    email: str
    purpose: str


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def link_hours() -> float:
    hours = current_app.config.get("PORTAL_LINK_HOURS", LINK_HOURS) if has_app_context() else LINK_HOURS
    return float(hours)


# ---------------------------------------------------------------- who the customer is


def find_customer(session: Session, typed: Optional[str]) -> Optional[Customer]:
    """The customer of a CPF/CNPJ typed with or without punctuation (R23); None when there is none."""
    number = normalize_document(typed)
    if document_kind(number) is None:
        return None
    return session.scalar(select(Customer).where(Customer.document == number))


def login_name(session: Session, typed: Optional[str]) -> str:
    """The user name whose password a portal login checks: the customer's user, or one no one has."""
    customer = find_customer(session, typed)
    if customer is not None and customer.portal_user is not None:
        return customer.portal_user.username
    number = normalize_document(typed)[:40].lower()
    return f"{USERNAME_PREFIX}{number or '-'}"


def access_email(customer: Customer) -> Optional[str]:
    """Where the customer's links go: the primary e-mail, else the first one; never one shared with another
    customer before the one-customer-per-e-mail rule (``legacy_duplicate``)."""
    emails = [email for email in customer.emails if not email.legacy_duplicate and email.email]
    emails.sort(key=lambda email: (not email.is_primary, email.id or 0))
    return emails[0].email if emails else None


def personal_words(customer: Customer) -> list[Optional[str]]:
    """What the customer's password must not be built from: their name, document and e-mails."""
    return [customer.name, customer.trade_name, customer.document,
            *(email.email for email in customer.emails)]


def purpose_for(customer: Customer) -> str:
    """A customer without a portal user gets a first-access link; one with a user, a new-password link."""
    return FIRST_ACCESS if customer.portal_user is None else RESET


def check_confirmation(password: str, confirmation: Optional[str]) -> None:
    """Refuse a new password typed differently in its second field (None: there was no second field)."""
    if confirmation is not None and confirmation != password:
        raise ValidationError(str(_l("As senhas não conferem: digite a mesma senha nos dois campos.")), "confirm")


# ---------------------------------------------------------------- links


def _recent_links(session: Session, customer: Customer, moment: dt.datetime) -> tuple[int, Optional[dt.datetime]]:
    count, last = session.execute(
        select(func.count(PortalToken.id), func.max(PortalToken.created_at))
        .where(PortalToken.customer_id == customer.id, PortalToken.created_at > moment - dt.timedelta(hours=1))
    ).one()
    return count or 0, last


def issue_link(session: Session, customer: Customer, base_url: str, requested_by: Any = None) -> Optional[Link]:
    """Queue a first-access or new-password link to the customer's e-mail (older unused links end).

    Returns None when the customer has no e-mail to send it to. The caller commits.
    """
    from app.domain import notifications

    email = access_email(customer)
    if email is None:
        return None
    moment = now()
    purpose = purpose_for(customer)
    secret = secrets.token_urlsafe(32)
    session.execute(update(PortalToken).where(PortalToken.customer_id == customer.id, PortalToken.used_at.is_(None))
                    .values(used_at=moment))
    session.add(PortalToken(customer=customer, purpose=purpose, token_hash=_hash(secret), email=email,
                            requested_by_id=getattr(requested_by, "id", None), created_at=moment,
                            expires_at=moment + dt.timedelta(hours=link_hours())))
    url = f"{base_url.rstrip('/')}{LINK_PATHS[purpose]}{secret}"
    notifications.portal_link(session, customer, email, url, purpose)
    return Link(url, email, purpose)


def request_link(session: Session, typed_document: Optional[str], base_url: str) -> Optional[Link]:
    """A customer asks for a link by typing their document: it goes out only when the document exists, has an
    e-mail on file, an active account (if any) and few recent links. The door answers the same in every case."""
    customer = find_customer(session, typed_document)
    if customer is None:
        return None
    if customer.portal_user is not None and not customer.portal_user.active:
        return None
    count, last = _recent_links(session, customer, now())
    if count >= LINKS_PER_HOUR or (last is not None and now() - last < LINK_INTERVAL):
        return None
    return issue_link(session, customer, base_url)


def check_link(session: Session, secret: Any, purpose: str) -> PortalToken:
    """The link of a secret, if it exists, serves ``purpose``, is unused and has not expired."""
    if not isinstance(secret, str) or not 20 <= len(secret) <= 100:
        raise InvalidLink()
    token = session.scalar(select(PortalToken).where(PortalToken.token_hash == _hash(secret)))
    if token is None or token.purpose != purpose or token.used_at is not None or token.expires_at <= now():
        raise InvalidLink()
    return token


def use_link(session: Session, secret: Any, purpose: str, password: str, confirmation: Optional[str] = None) -> Any:
    """Set the customer's password through a link (creating their user on first access); the link is used up.

    Returns the customer's user; commits (the security manager saves users itself).
    """
    token = check_link(session, secret, purpose)
    customer = token.customer
    check_confirmation(password, confirmation)
    accounts.check_password(password, personal_words(customer))
    claimed = session.execute(update(PortalToken).where(PortalToken.id == token.id, PortalToken.used_at.is_(None))
                              .values(used_at=now())).rowcount
    if claimed != 1:  # another request used it a moment ago
        session.rollback()
        raise InvalidLink()
    return set_portal_password(session, customer, password)


# ---------------------------------------------------------------- the customer's user


def username_for(session: Session, customer: Customer) -> str:
    """A user name derived from the document, unique among the users (a taken one gets a suffix)."""
    from app.extensions import appbuilder

    base = f"{USERNAME_PREFIX}{customer.document.lower()}"
    name, counter = base, 1
    while appbuilder.sm.find_user(username=name) is not None:
        counter += 1
        name = f"{base}.{counter}"
    return name


def _names(customer: Customer) -> tuple[str, str]:
    parts = (customer.name or "").split()
    first = (parts[0] if parts else customer.document)[:64]
    return first, " ".join(parts[1:])[:64]


def set_portal_password(session: Session, customer: Customer, password: str) -> Any:
    """Give a customer a portal password (the policy applies); their Assinante user is created when missing.

    Used by the first-access and new-password links, the customer's own change (Meus dados) and by seed-demo for
    the demo customer. Every other session of the user ends. Commits.
    """
    from app.extensions import appbuilder

    sm = appbuilder.sm
    accounts.check_password(password, personal_words(customer))
    user = customer.portal_user
    if user is not None:
        sm.reset_password(user.id, password)  # ends the user's sessions and lifts a lock
        return user
    role = sm.find_role(ROLE_CUSTOMER)
    if role is None:
        raise ValidationError(str(_l("O perfil Assinante não existe: rode flask init.")), "role")
    username = username_for(session, customer)
    first, last = _names(customer)
    user = sm.add_user(username, first, last, f"{username}@{USER_EMAIL_DOMAIN}", role, password=password,
                       commit=False)
    if not user:
        session.rollback()
        raise ValidationError(str(_l("Não foi possível criar o acesso à central; tente de novo.")), "password")
    customer.portal_user = user
    session.commit()
    return user


def change_password(session: Session, customer: Customer, current: str, password: str,
                    confirmation: Optional[str] = None) -> Any:
    """The logged-in customer changes their own password: the current one first (counted and locked like a login),
    then the confirmation and the policy. Every session of the user ends; the caller logs the customer out. Commits.
    """
    from app.extensions import appbuilder

    user = customer.portal_user
    if user is None or appbuilder.sm.auth_user_db(user.username, current or "") is None:
        raise ValidationError(str(_l("Senha atual incorreta.")), "current")
    check_confirmation(password, confirmation)
    return set_portal_password(session, customer, password)


def shared_emails(session: Session, customer: Customer) -> list[str]:
    """The customer's e-mails marked as shared with another customer (to be fixed by an agent)."""
    return [email.email for email in session.scalars(
        select(CustomerEmail).where(CustomerEmail.customer_id == customer.id, CustomerEmail.legacy_duplicate.is_(True)))]
