"""Agent bench: customer search by each criterion and the ticket page, on the seed-bench data.

Usage: DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1/atende_bench .venv/bin/python bench/bench_search.py [--repeat 30]
"""
from __future__ import annotations

import argparse
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.common import make_app, measure, report, user_client  # noqa: E402

TARGET_MS = 100


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    app = make_app()
    from sqlalchemy import func, select

    from app.domain.documents import format_document, format_phone
    from app.domain.search import customer_results, find_customers
    from app.extensions import db
    from app.models import Contract, Customer, CustomerEmail, CustomerPhone, Ticket

    rnd = random.Random(42)
    with app.app_context():
        session = db.session
        engine = db.engine
        total = session.scalar(select(func.count(Customer.id)))
        tickets = session.scalar(select(func.count(Ticket.id)))
        print(f"base: {total} clientes, {tickets} atendimentos ({engine.url.get_backend_name()})")
        customer = session.scalar(select(Customer).where(Customer.person_type == "PF")
                                  .offset(rnd.randrange(max(total - 1, 1))).limit(1))
        phone = session.scalar(select(CustomerPhone.number).where(CustomerPhone.customer_id == customer.id).limit(1))
        contract = session.scalar(select(Contract).where(Contract.customer_id == customer.id).limit(1))
        busy = session.execute(select(Ticket.customer_id, func.count()).group_by(Ticket.customer_id)
                               .order_by(func.count().desc()).limit(1)).first()
        ticket = session.scalar(select(Ticket).where(Ticket.customer_id == customer.id).limit(1)) or \
            session.scalar(select(Ticket).limit(1))
        busy_ticket = session.scalar(select(Ticket).where(Ticket.customer_id == busy[0]).limit(1))
        words = customer.name.split()
        email = session.scalar(select(CustomerEmail.email).where(CustomerEmail.customer_id == customer.id).limit(1)) \
            or session.scalar(select(CustomerEmail.email).limit(1))
        company = session.scalar(select(Customer.document).where(Customer.person_type == "PJ").limit(1))
        cases = {
            f"nome (prefixo) '{words[0][:5]}'": words[0][:5],
            f"nome (palavra do meio) '{words[1]}'": words[1],
            f"CPF com pontuação {format_document(customer.document)}": format_document(customer.document),
            f"telefone {format_phone(phone)}": format_phone(phone),
            f"telefone sem DDD {format_phone(phone)[5:]}": format_phone(phone)[5:],
            f"protocolo {ticket.protocol}": ticket.protocol,
            f"login do contrato {contract.login}": contract.login,
        }
        if email:
            cases[f"e-mail {email}"] = email
        if company:
            cases[f"CNPJ {format_document(company)}"] = format_document(company)
        rows = []
        for name, text in cases.items():
            def search(text: str = text) -> None:
                customer_results(session, find_customers(session, text))
                session.rollback()
            median, p95, queries = measure(engine, search, args.repeat)
            rows.append((f"busca: {name}"[:44], median, p95, queries))
        # customer_results alone: the same number of queries for 1 and for 20 customers
        one = find_customers(session, format_document(customer.document))[:1]
        many = find_customers(session, words[1])
        for label, found in ((f"{len(one)} cliente", one), (f"{len(many)} clientes", many)):
            median, p95, queries = measure(engine, lambda found=found: customer_results(session, found), args.repeat)
            rows.append((f"resultados (customer_results) {label}"[:44], median, p95, queries))
        ticket_ids = [(ticket.id, "cliente comum"), (busy_ticket.id, f"cliente c/ {busy[1]} atend.")]
        db.session.remove()
    client = user_client(app, "bench_atendente", "Atendente")
    with app.app_context():
        engine = db.engine
    for pk, label in ticket_ids:
        for page in ("show", "edit"):
            def render(pk: int = pk, page: str = page) -> None:
                response = client.get(f"/ticketview/{page}/{pk}")
                assert response.status_code == 200, response.status_code
            median, p95, queries = measure(engine, render, args.repeat)
            rows.append((f"GET /ticketview/{page} ({label})"[:44], median, p95, queries))
    report(rows, TARGET_MS)


if __name__ == "__main__":
    main()
