"""A customer's phones and e-mails set as whole lists (an ERP creates and updates customers with their contacts).

Each entry is checked by the customer rules (app.domain.customers: phone normalization, e-mail format, one
customer per e-mail) and a refusal names the entry, e.g. ``phones[1].number``.
"""
from __future__ import annotations

from typing import Any, Optional, Sequence

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from app.domain.customers import check_email, check_email_owner
from app.domain.documents import clean_phone, format_phone
from app.domain.errors import ValidationError
from app.models import PHONE_KINDS, Customer, CustomerEmail, CustomerPhone

MAX_CONTACTS = 20


class ContactError(ValidationError):
    """A phone or e-mail of a contact list is refused; ``field`` names the entry (``emails[0].email``)."""

    status = 422


def set_contacts(session: Session, customer: Customer, phones: Optional[Sequence[dict]] = None,
                 emails: Optional[Sequence[dict]] = None) -> bool:
    """Make the customer's phones and/or e-mails exactly these lists; None leaves a list as it is.

    An entry with a number or address the customer already has keeps its record; the others are added, and the
    records not listed are removed. A change of the contacts is a change of the customer: its version moves (R29).
    Return whether anything changed.
    """
    changed = False
    with session.no_autoflush:
        if phones is not None:
            changed |= _set_phones(customer, phones)
        if emails is not None:
            changed |= _set_emails(session, customer, emails)
    if changed and customer.id is not None:
        flag_modified(customer, "name")
    return changed


def _set_phones(customer: Customer, items: Sequence[dict]) -> bool:
    _check_size(items, "phones")
    current = {phone.number: phone for phone in customer.phones}
    result: list[CustomerPhone] = []
    changed = False
    for index, item in enumerate(items):
        where = f"phones[{index}]"
        number = _refused_as(f"{where}.number", clean_phone, item.get("number"))
        if any(phone.number == number for phone in result):
            raise ContactError(_l("O telefone %(number)s foi informado mais de uma vez.", number=format_phone(number)),
                               f"{where}.number")
        kind = item.get("kind") or "mobile"
        if kind not in PHONE_KINDS:
            raise ContactError(_l("Tipo de telefone inválido: use mobile, landline ou whatsapp."), f"{where}.kind")
        phone = current.get(number) or CustomerPhone(number=number)
        values = {"kind": kind, "is_primary": bool(item.get("is_primary")),
                  "contact_name": (item.get("contact_name") or "").strip() or None}
        changed |= _assign(phone, values)
        result.append(phone)
    _one_primary(result, "phones", _l("Marque apenas um telefone como principal."))
    changed |= [id(p) for p in result] != [id(p) for p in customer.phones]
    customer.phones = result
    return changed


def _set_emails(session: Session, customer: Customer, items: Sequence[dict]) -> bool:
    _check_size(items, "emails")
    current = {(email.email or "").lower(): email for email in customer.emails}
    result: list[CustomerEmail] = []
    changed = False
    for index, item in enumerate(items):
        where = f"emails[{index}].email"
        typed = CustomerEmail(email=item.get("email"))
        _refused_as(where, check_email, typed)
        email = current.get(typed.email.lower())
        if any(other.email.lower() == typed.email.lower() for other in result):
            raise ContactError(_l("O e-mail %(email)s foi informado mais de uma vez.", email=typed.email), where)
        if email is None:
            email = typed
        changed |= _assign(email, {"email": typed.email, "is_primary": bool(item.get("is_primary"))})
        result.append(email)
    _one_primary(result, "emails", _l("Marque apenas um e-mail como principal."))
    changed |= [id(e) for e in result] != [id(e) for e in customer.emails]
    customer.emails = result
    for index, email in enumerate(result):
        _refused_as(f"emails[{index}].email", check_email_owner, session, email, customer)
    return changed


def _assign(record: Any, values: dict[str, Any]) -> bool:
    changed = False
    for name, value in values.items():
        if getattr(record, name) != value:
            setattr(record, name, value)
            changed = True
    return changed


def _one_primary(items: list[Any], field: str, message: Any) -> None:
    """At most one primary; a list without one gets its first entry as the primary."""
    primaries = [item for item in items if item.is_primary]
    if len(primaries) > 1:
        raise ContactError(message, field)
    if items and not primaries:
        items[0].is_primary = True


def _check_size(items: Sequence[dict], field: str) -> None:
    if len(items) > MAX_CONTACTS:
        raise ContactError(_l("Informe no máximo %(max)d contatos por lista.", max=MAX_CONTACTS), field)


def _refused_as(field: str, check: Any, *args: Any) -> Any:
    """Run a customer rule; its refusal names the entry of the list."""
    try:
        return check(*args)
    except ContactError:
        raise
    except ValidationError as error:
        raise ContactError(error.message, field) from error
