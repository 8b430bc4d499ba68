"""Customers and contracts: documents (R23), phones with one primary, one customer per e-mail, contract ownership."""
from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, inspect, select
from sqlalchemy.orm import Session

from app.domain.documents import clean_document, clean_phone, clean_zip_code
from app.domain.errors import ValidationError
from app.models import CONTRACT_STATUSES, Contract, Customer, CustomerEmail, CustomerPhone
from app.domain.clock import now


def save_customer(session: Session, customer: Customer) -> Customer:
    """Check a customer before it is saved."""
    with session.no_autoflush:
        if customer.person_type not in ("PF", "PJ"):
            raise ValidationError(_l("Informe pessoa física ou jurídica."), "person_type")
        if not (customer.name or "").strip():
            raise ValidationError(_l("O nome é obrigatório."), "name")
        customer.name = customer.name.strip()
        customer.document = clean_document(customer.document, customer.person_type)
        clash = session.scalar(
            select(Customer.id).where(Customer.document == customer.document, Customer.id != customer.id)
            if customer.id
            else select(Customer.id).where(Customer.document == customer.document)
        )
        if clash:
            raise ValidationError(_l("Já existe um cliente com este CPF/CNPJ."), "document")
        _one_primary(customer.phones, _l("telefone"))
        _one_primary(customer.emails, _l("e-mail"))
        _one_primary(customer.addresses, _l("endereço"))
        for phone in customer.phones:
            phone.number = clean_phone(phone.number)
        for email in customer.emails:
            check_email(email)
            check_email_owner(session, email, customer)
    session.add(customer)
    return customer


def _one_primary(items: list[Any], label: str) -> None:
    primaries = [item for item in items if item.is_primary]
    if len(primaries) > 1:
        raise ValidationError(_l("Marque apenas um %(item)s como principal.", item=label), "is_primary")
    if items and not primaries:
        items[0].is_primary = True


def save_phone(session: Session, phone: CustomerPhone) -> None:
    """Check one phone; marking it primary unmarks the customer's others."""
    phone.number = clean_phone(phone.number)
    if phone.customer is None:
        raise ValidationError(_l("O telefone precisa de um cliente."), "customer")
    _make_primary(phone, phone.customer.phones)


def save_email(session: Session, email: CustomerEmail) -> None:
    with session.no_autoflush:  # check_email_owner reads what changed before anything is written
        check_email(email)
        if email.customer is None:
            raise ValidationError(_l("O e-mail precisa de um cliente."), "customer")
        check_email_owner(session, email, email.customer)
        _make_primary(email, email.customer.emails)


def save_address(session: Session, address: Any) -> None:
    address.zip_code = clean_zip_code(address.zip_code)
    if address.customer is None:
        raise ValidationError(_l("O endereço precisa de um cliente."), "customer")
    _make_primary(address, address.customer.addresses)


def _make_primary(item: Any, siblings: list[Any]) -> None:
    others = [s for s in siblings if s is not item]
    if item.is_primary:
        for other in others:
            other.is_primary = False
    elif not any(o.is_primary for o in others):
        item.is_primary = True


def check_email(email: CustomerEmail) -> None:
    from email_validator import EmailNotValidError, validate_email

    try:
        email.email = validate_email(email.email or "", check_deliverability=False).normalized
    except EmailNotValidError:
        raise ValidationError(_l("E-mail inválido: %(email)s", email=email.email or ""), "email")


def check_email_owner(session: Session, email: CustomerEmail, customer: Customer) -> None:
    """A contact e-mail belongs to one customer, whatever its case (the portal sends its access links there).

    A row marked ``legacy_duplicate`` (already shared when the rule came, migration 0011) is kept as it is; once its
    address changes it is checked like any other and the mark goes.
    """
    address = (email.email or "").lower()
    if email.legacy_duplicate:
        if email.id is not None and not inspect(email).attrs.email.history.has_changes():
            return
        email.legacy_duplicate = False
    if any(other is not email and not other.legacy_duplicate and (other.email or "").lower() == address
           for other in customer.emails):
        raise ValidationError(_l("O e-mail %(email)s foi informado mais de uma vez.", email=email.email), "email")
    query = select(CustomerEmail.id).where(func.lower(CustomerEmail.email) == address,
                                           CustomerEmail.legacy_duplicate.is_(False))
    if customer.id is not None:
        query = query.where(CustomerEmail.customer_id != customer.id)  # the customer's own rows: checked above
    if session.scalar(query.limit(1)) is not None:
        raise ValidationError(_l("O e-mail %(email)s já pertence a outro cliente: um e-mail de contato é de um só "
                                 "cliente.", email=email.email), "email")


def save_contract(session: Session, contract: Contract) -> Contract:
    """Check a contract before it is saved."""
    with session.no_autoflush:
        if contract.customer is None:
            raise ValidationError(_l("O contrato precisa de um cliente."), "customer")
        contract.zip_code = clean_zip_code(contract.zip_code)
        if contract.status not in CONTRACT_STATUSES:
            raise ValidationError(_l("Situação de contrato inválida."), "status")
        if not (contract.number or "").strip():
            raise ValidationError(_l("O número do contrato é obrigatório."), "number")
        contract.login = (contract.login or "").strip() or None
        if contract.login:
            clash = select(Contract.id).where(Contract.login == contract.login)
            if contract.id:
                clash = clash.where(Contract.id != contract.id)
            if session.scalar(clash):
                raise ValidationError(_l("O login %(login)s já pertence a outro contrato.", login=contract.login), "login")
        if contract.status == "cancelled" and contract.cancelled_at is None:
            contract.cancelled_at = now().date()
        if contract.status != "cancelled":
            contract.cancelled_at = None
    session.add(contract)
    return contract


def set_contact_preferences(session: Session, customer: Customer, accepts_email: bool, accepts_sms: bool) -> None:
    """Record whether the customer takes messages and answers by e-mail and by SMS (the protocol goes all the same,
    R25: notifications.ALWAYS_SENT). The caller commits."""
    customer.accepts_email = bool(accepts_email)
    customer.accepts_sms = bool(accepts_sms)
    session.add(customer)
