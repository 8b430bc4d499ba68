"""Look-ups for remote selects and the customer search box."""
from __future__ import annotations

from typing import Any, Optional

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Session

from app.domain.access import contract_condition, customer_condition, ticket_condition, valid_id
from app.domain.documents import digits, document_prefix, format_document
from app.domain.errors import ValidationError
from app.domain.inputs import parse_id
from app.domain.labels import choice_label
from app.models import Contract, Customer, CustomerEmail, CustomerPhone, Ticket

LIMIT = 20


def find_customers(session: Session, text: str, limit: int = LIMIT, scope: Optional[Any] = None) -> list[Customer]:
    """Find customers by name (prefix or any word), CPF/CNPJ, phone, e-mail, protocol or contract login/number.

    The kind of text picks the criteria (digits: document, phone, protocol; "@": e-mail; else name, and an
    alphanumeric CNPJ in any case, with or without punctuation, whole or its beginning);
    each runs as its own small indexed query (LIMIT ``limit``) and the ids are merged in that order,
    so no OR across tables defeats the indexes (migration 0003 has the PostgreSQL indexes).
    ``scope`` (a condition on Customer, app.domain.access) limits every criterion to the customers a user may see.
    """
    text = (text or "").strip()
    if not text:
        return []
    ids: list[int] = []
    for query in _criteria(text):
        if scope is not None:
            query = query.where(query.selected_columns[0].in_(select(Customer.id).where(scope)))
        for customer_id in session.scalars(query.limit(limit)):
            if customer_id is not None and customer_id not in ids:
                ids.append(customer_id)
        if len(ids) >= limit:
            break
    if not ids:
        return []
    return list(session.scalars(select(Customer).where(Customer.id.in_(ids[:limit])).order_by(Customer.name, Customer.id)))


def _criteria(text: str) -> list[Any]:
    """The id queries (customer ids) that apply to the text, most specific first."""
    number = digits(text)
    only_digits = bool(number) and not any(ch.isalpha() for ch in text) and "@" not in text
    queries: list[Any] = []
    if only_digits:
        if number.startswith("55") and len(number) in (12, 13):  # +55 (11) 9xxxx-xxxx: no country code stored
            queries.append(select(CustomerPhone.customer_id).where(CustomerPhone.number == number[2:]))
        if len(number) in (11, 14):
            queries.append(select(Customer.id).where(Customer.document == number))
        if len(number) == 14:
            queries.append(select(Ticket.customer_id).where(Ticket.protocol == number, Ticket.customer_id.isnot(None)))
        if len(number) in (10, 11):
            queries.append(select(CustomerPhone.customer_id).where(CustomerPhone.number == number))
        if len(number) in (8, 9):  # phone without DDD: the end of the stored number
            queries.append(select(CustomerPhone.customer_id).where(CustomerPhone.number.like(f"%{number}")))
        if 3 <= len(number) < 14 and len(number) != 11:  # CPF/CNPJ typed in part
            queries.append(select(Customer.id).where(Customer.document.like(f"{number}%")))
        if 6 <= len(number) < 10:  # phone with DDD typed in part
            queries.append(select(CustomerPhone.customer_id).where(CustomerPhone.number.like(f"{number}%")))
    elif "@" in text:
        queries.append(select(CustomerEmail.customer_id)
                       .where(func.lower(CustomerEmail.email).like(f"{_escape(text.lower())}%", escape="\\")))
    else:
        document = document_prefix(text)  # an alphanumeric CNPJ, whole or in part, as stored (upper case)
        by_document = [_by_document(document)] if document and len(document) >= 3 else []
        shaped = any(ch.isdigit() or ch in "./-" for ch in text)
        if shaped:
            queries += by_document
        lowered = _escape(" ".join(text.lower().split()))
        queries.append(select(Customer.id).where(func.lower(Customer.name).like(f"{lowered}%", escape="\\")))
        queries.append(select(Customer.id).where(func.lower(Customer.name).like(f"% {lowered}%", escape="\\")))
        if not shaped:  # letters only: a name first, then a CNPJ that starts so
            queries += by_document
    if " " not in text and len(text) >= 3:
        escaped = _escape(text)
        queries.append(select(Contract.customer_id).where(or_(Contract.login == text, Contract.number == text)))
        queries.append(select(Contract.customer_id).where(or_(Contract.login.like(f"{escaped}%", escape="\\"),
                                                             Contract.number.like(f"{escaped}%", escape="\\"))))
    return queries


def _by_document(document: str) -> Any:
    """Customers whose stored CPF/CNPJ is the document, or starts with it (index ix_search_customer_document)."""
    if len(document) == 14:
        return select(Customer.id).where(Customer.document == document)
    return select(Customer.id).where(Customer.document.like(f"{document}%"))


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def lookup(session: Session, kind: str, text: str, customer_id: Optional[str], user: Any,
           show_cancelled: bool = False) -> Optional[list[tuple[int, str]]]:
    """Return up to 20 (id, label) pairs for a remote select, only of what the user may see (app.domain.access);
    cancelled contracts only on request (R7)."""
    text = (text or "").strip()
    if kind == "customer":
        found = find_customers(session, text, scope=customer_condition(user))
        return [(c.id, f"{c.name} — {format_document(c.document)}") for c in found]
    if kind == "contract":
        query = select(Contract).order_by(Contract.number).limit(LIMIT)
        condition = contract_condition(user)
        if condition is not None:
            query = query.where(condition)
        if not show_cancelled:
            query = query.where(Contract.status != "cancelled")
        if customer_id and str(customer_id).isascii() and str(customer_id).isdigit():
            if not valid_id(int(customer_id)):
                return []
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
    customer = session.get(Customer, parse_id(customer_id)) if parse_id(customer_id) else None
    contract = session.get(Contract, parse_id(contract_id)) if parse_id(contract_id) else None
    if contract is not None and customer is None:
        customer = contract.customer
    if contract is not None and contract.customer_id != customer.id:
        raise ValidationError(_l("O contrato escolhido não pertence ao cliente."), "contract")
    return customer, contract


def customer_results(session: Session, found: list[Customer]) -> list[dict[str, Any]]:
    """Name, document, city, contracts (pt-BR status) and open-ticket count (R8) of each customer.

    Three queries whatever the number of customers: contracts (with plan and city), addresses (with city)
    and one grouped count of open, non-draft tickets (plus one refresh when the customers were expired by a commit).
    """
    from sqlalchemy.orm import joinedload

    from app.models import OPEN_CATEGORIES, CustomerAddress, TicketStatus

    if not found:
        return []
    ids = [sa_inspect(c).identity[0] if sa_inspect(c).identity else c.id for c in found]  # no refresh per customer
    if any(sa_inspect(c).expired_attributes & {"name", "document"} for c in found):
        session.scalars(select(Customer).where(Customer.id.in_(ids))).all()  # refresh expired ones in one query
    contracts: dict[int, list[Contract]] = {i: [] for i in ids}
    for contract in session.scalars(select(Contract).options(joinedload(Contract.plan), joinedload(Contract.city))
                                    .where(Contract.customer_id.in_(ids)).order_by(Contract.id)):
        contracts[contract.customer_id].append(contract)
    cities: dict[int, str] = {}
    for address in session.scalars(select(CustomerAddress).options(joinedload(CustomerAddress.city))
                                   .where(CustomerAddress.customer_id.in_(ids), CustomerAddress.city_id.isnot(None))
                                   .order_by(CustomerAddress.is_primary.desc(), CustomerAddress.id)):
        if address.city is not None:
            cities.setdefault(address.customer_id, str(address.city))
    open_counts = dict(session.execute(
        select(Ticket.customer_id, func.count(Ticket.id)).join(TicketStatus, Ticket.status_id == TicketStatus.id)
        .where(Ticket.customer_id.in_(ids), Ticket.is_draft.is_(False), TicketStatus.category.in_(OPEN_CATEGORIES))
        .group_by(Ticket.customer_id)
    ).all())
    results = []
    for customer in found:
        own = contracts[customer.id]
        city = cities.get(customer.id) or next((str(c.city) for c in own if c.city is not None), "")
        results.append({
            "id": customer.id, "name": customer.name, "document": format_document(customer.document), "city": city,
            "open_count": open_counts.get(customer.id, 0),
            "contracts": [{"id": c.id, "number": c.number, "plan": str(c.plan or ""), "login": c.login or "",
                           "status": c.status, "status_label": choice_label("contract_status", c.status)}
                          for c in own],
        })
    return results
