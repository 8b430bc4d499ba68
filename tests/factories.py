"""Build test data through the domain layer."""
from __future__ import annotations

import itertools
from typing import Any, Optional

from sqlalchemy import select

from app.domain import customers, tickets
from app.models import Channel, Contract, Customer, CustomerPhone, Subject, Ticket, TicketStatus

_counter = itertools.count(1)


def make_cpf(seed: int) -> str:
    base = [int(c) for c in f"{seed:09d}"[-9:]]
    if len(set(base)) == 1:
        base[-1] = (base[-1] + 1) % 10
    for size in (9, 10):
        total = sum(n * w for n, w in zip(base, range(size + 1, 1, -1)))
        rest = total % 11
        base.append(0 if rest < 2 else 11 - rest)
    return "".join(map(str, base))


def make_cnpj(base: str) -> str:
    """Complete 12 characters 0-9/A-Z with the 2 check digits of IN RFB 2.229/2024 (ASCII code minus 48, module 11)."""
    values = [ord(c) - 48 for c in base.upper()]
    for weights in ([5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2], [6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2]):
        rest = sum(v * w for v, w in zip(values, weights)) % 11
        values.append(0 if rest < 2 else 11 - rest)
    return base.upper() + "".join(str(v) for v in values[12:])


def customer(session: Any, name: Optional[str] = None, **kw: Any) -> Customer:
    n = next(_counter)
    obj = Customer(person_type=kw.pop("person_type", "PF"), name=name or f"Cliente {n}", document=kw.pop("document", make_cpf(123450 + n)), **kw)
    obj.phones.append(CustomerPhone(number=f"119{n:08d}"[:11], is_primary=True))
    customers.save_customer(session, obj)
    session.flush()
    return obj


def contract(session: Any, owner: Customer, status: str = "active", login: Optional[str] = None) -> Contract:
    n = next(_counter)
    obj = Contract(
        customer=owner, number=f"C{n:06d}", login=login or f"login{n}", status=status, street="Rua das Flores", district="Centro")
    customers.save_contract(session, obj)
    session.flush()
    return obj


def subject(session: Any, name: Optional[str] = None, **flags: Any) -> Subject:
    obj = Subject(name=name or f"Assunto {next(_counter)}", sla_hours=flags.pop("sla_hours", 24), active=flags.pop("active", True), **flags)
    session.add(obj)
    session.flush()
    return obj


def status(session: Any, category: str) -> TicketStatus:
    return session.scalar(select(TicketStatus).where(TicketStatus.category == category).order_by(TicketStatus.order))


def channel(session: Any, name: str = "Telefone") -> Channel:
    return session.scalar(select(Channel).where(Channel.name == name))


def ticket(session: Any, user: Any, owner: Optional[Customer] = None, **kw: Any) -> Ticket:
    owner = owner or customer(session)
    obj = Ticket(type="customer", customer=owner, subject=kw.pop("subject", None) or subject(session),
                 opening_description=kw.pop("opening_description", "Cliente sem conexão"), is_draft=kw.pop("is_draft", False), **kw)
    tickets.create_ticket(session, obj, user)
    session.commit()
    return obj


def pdf_text(data: bytes) -> str:
    """The text of a PDF in reading order (pypdf's layout mode), each page ended by a form feed like pdftotext."""
    import io

    from pypdf import PdfReader

    return "".join(page.extract_text(extraction_mode="layout") + "\f" for page in PdfReader(io.BytesIO(data)).pages)
