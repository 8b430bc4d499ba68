"""Look-ups for remote selects and the customer search box."""
from __future__ import annotations

from typing import Any, Optional

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from app.domain.access import ticket_condition
from app.domain.documents import digits, format_document
from app.domain.errors import ValidationError
from app.domain.labels import choice_label
from app.models import Contract, Customer, CustomerPhone, Ticket

LIMIT = 20


def find_customers(session: Session, text: str, limit: int = LIMIT) -> list[Customer]:
    """Find customers by name prefix, CPF/CNPJ, phone, protocol or contract login."""
    text = (text or "").strip()
    if not text:
        return []
    number = digits(text)
    conditions = [func.lower(Customer.name).like(f"{_escape(text.lower())}%", escape="\\")]
    if number and len(number) >= 3 and len(number) >= len(text.replace(" ", "")) - 4:
        conditions.append(Customer.document.like(f"{number}%"))
        conditions.append(Customer.id.in_(select(CustomerPhone.customer_id).where(CustomerPhone.number.like(f"{number}%"))))
        if len(number) == 14:
            conditions.append(Customer.id.in_(select(Ticket.customer_id).where(Ticket.protocol == number)))
    conditions.append(Customer.id.in_(select(Contract.customer_id).where(Contract.login == text)))
    query = select(Customer).where(or_(*conditions)).order_by(Customer.name).limit(limit)
    return list(session.scalars(query))


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def lookup(session: Session, kind: str, text: str, customer_id: Optional[str], user: Any) -> Optional[list[tuple[int, str]]]:
    """Return up to 20 (id, label) pairs for a remote select."""
    text = (text or "").strip()
    if kind == "customer":
        return [(c.id, f"{c.name} — {format_document(c.document)}") for c in find_customers(session, text)]
    if kind == "contract":
        query = select(Contract).order_by(Contract.number).limit(LIMIT)
        if customer_id and str(customer_id).isdigit():
            query = query.where(Contract.customer_id == int(customer_id))
        elif not text:
            return []
        if text:
            query = query.where(or_(Contract.number.like(f"{_escape(text)}%", escape="\\"),
                                    Contract.login.like(f"{_escape(text)}%", escape="\\")))
        return [(c.id, f"{c} ({choice_label('contract_status', c.status)})") for c in session.scalars(query)]
    if kind == "ticket":
        if not text:
            return []
        query = select(Ticket).where(Ticket.protocol.like(f"{digits(text)}%")).order_by(Ticket.protocol.desc()).limit(LIMIT)
        condition = ticket_condition(user)
        if condition is not None:
            query = query.where(condition)
        return [(t.id, t.protocol) for t in session.scalars(query)]
    return None


def customer_and_contract(session: Session, customer_id: Optional[str], contract_id: Optional[str]) -> tuple[Optional[Customer], Optional[Contract]]:
    """Resolve the ids posted by the start-ticket form."""
    customer = session.get(Customer, int(customer_id)) if customer_id and customer_id.isdigit() else None
    contract = session.get(Contract, int(contract_id)) if contract_id and contract_id.isdigit() else None
    if contract is not None and customer is None:
        customer = contract.customer
    if contract is not None and contract.customer_id != customer.id:
        raise ValidationError(_l("O contrato escolhido não pertence ao cliente."), "contract")
    return customer, contract
