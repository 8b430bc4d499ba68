"""The demo and benchmark seeders."""
from __future__ import annotations

from sqlalchemy import func, select

from app.domain.documents import is_valid_cnpj, is_valid_cpf
from app.models import (
    City,
    Contract,
    Customer,
    CustomerPhone,
    ProtocolSequence,
    ServiceOrder,
    Subject,
    Ticket,
    TicketEvent,
    TicketMessage,
    TicketStatus,
    ticket_assignee,
)
from app.demo.seed import ALREADY_LOADED, MARKER_CPF, seed_demo
from app.demo.bench import seed_bench

COUNTED = (City, Subject, Customer, Contract, CustomerPhone, Ticket, TicketEvent, TicketMessage, ServiceOrder)


def _counts(session) -> dict[str, int]:
    return {model.__name__: session.scalar(select(func.count()).select_from(model)) for model in COUNTED}


def test_seed_demo_creates_each_thing_once(db) -> None:
    session = db.session
    summary = seed_demo(session)
    assert "carregados" in summary and not summary.startswith(ALREADY_LOADED)
    first = _counts(session)
    assert first["City"] == 8 and first["Customer"] == 41 and first["Ticket"] == 71
    assert first["ServiceOrder"] >= 8 and first["TicketMessage"] > 0
    assert session.scalar(select(Customer.id).where(Customer.document == MARKER_CPF))

    assert seed_demo(session).splitlines()[0] == ALREADY_LOADED
    assert _counts(session) == first


def test_seed_demo_gives_the_agent_a_knowledge_base_and_the_technician_a_day(db) -> None:
    from app.domain.clock import now
    from app.models import KnowledgeArticle, User

    session = db.session
    seed_demo(session)
    articles = session.scalars(select(KnowledgeArticle).where(KnowledgeArticle.active.is_(True))).all()
    assert len(articles) >= 8 and all(a.solution and a.operator_guidance and a.keywords for a in articles)
    assert any(a.subject is None and "Roteiro" in a.title for a in articles)  # scripts for any call
    technician = session.scalar(select(User).where(User.username == "tecnico"))
    today = now().date()
    todays = [o for o in session.scalars(select(ServiceOrder).where(ServiceOrder.technician_id == technician.id))
              if o.scheduled_start and o.scheduled_start.date() == today and o.status == "scheduled"]
    assert len(todays) >= 3
    session.execute(KnowledgeArticle.__table__.delete())
    session.commit()
    assert seed_demo(session).splitlines()[0] == ALREADY_LOADED
    assert session.scalar(select(func.count()).select_from(KnowledgeArticle)) == len(articles)  # restored once


def test_seed_demo_covers_every_status_category_and_a_draft(db) -> None:
    session = db.session
    seed_demo(session)
    categories = set(session.scalars(
        select(TicketStatus.category).join(Ticket, Ticket.status_id == TicketStatus.id).where(Ticket.is_draft.is_(False))
    ))
    assert categories == {"new", "pending", "in_progress", "resolved", "cancelled"}
    assert session.scalar(select(func.count()).where(Ticket.is_draft.is_(True))) > 0
    resolved = session.scalars(
        select(Ticket).join(TicketStatus, Ticket.status_id == TicketStatus.id).where(TicketStatus.category == "resolved")
    ).all()
    assert all(t.closing_description and t.closing_reason_id and t.closed_at for t in resolved)
    assert all(is_valid_cpf(c.document) or is_valid_cnpj(c.document) for c in session.scalars(select(Customer)))
    assert session.scalar(select(func.count()).select_from(ticket_assignee)) > 0
    assert session.scalar(select(func.count()).where(ServiceOrder.status == "done",
                                                       ServiceOrder.closing_notes.is_not(None))) > 0


def test_seed_bench_creates_the_counts_asked_for_and_runs_twice(db) -> None:
    session = db.session
    lines: list[str] = []
    counts = seed_bench(session, 500, 100, echo=lines.append)
    assert counts["tickets"] == 500 and counts["customers"] == 100
    assert lines and "500 atendimentos" in lines[-1]
    assert session.scalar(select(func.count()).select_from(Ticket)) == 500
    assert session.scalar(select(func.count()).select_from(Customer)) == 100
    assert session.scalar(select(func.count()).select_from(TicketEvent)) == 500

    again = seed_bench(session, 500, 100, echo=lines.append)
    assert again["tickets"] == 500 and again["customers"] == 100
    assert session.scalar(select(func.count()).select_from(Ticket)) == 1000
    assert session.scalar(select(func.count()).select_from(Customer)) == 200

    documents = list(session.scalars(select(Customer.document)))
    assert all(is_valid_cpf(d) or is_valid_cnpj(d) for d in documents)
    assert len(set(documents)) == len(documents)
    protocols = list(session.scalars(select(Ticket.protocol)))
    assert len(set(protocols)) == len(protocols) == 1000
    categories = set(session.scalars(
        select(TicketStatus.category).join(Ticket, Ticket.status_id == TicketStatus.id)
    ))
    assert categories == {"new", "pending", "in_progress", "resolved", "cancelled"}
    assert not session.scalar(select(func.count()).select_from(Ticket).join(TicketStatus).where(
        TicketStatus.category.in_(("resolved", "cancelled")), Ticket.closed_at.is_(None)))
    # Each day's counter stands at its highest protocol, so later tickets continue the sequence.
    for day, last in session.execute(select(ProtocolSequence.day, ProtocolSequence.last_value)):
        highest = session.scalar(select(func.max(Ticket.protocol)).where(Ticket.protocol.like(f"{day:%Y%m%d}%")))
        assert highest is None or int(highest[8:]) == last


def test_a_ticket_after_seed_bench_gets_a_fresh_protocol(db) -> None:
    from app.extensions import appbuilder
    from tests import factories

    session = db.session
    seed_bench(session, 300, 50, echo=lambda _: None)
    user = appbuilder.sm.find_user(username="atendente")
    ticket = factories.ticket(session, user)
    assert session.scalar(select(func.count()).where(Ticket.protocol == ticket.protocol)) == 1


def test_readme_lists_every_demo_user_with_its_role() -> None:
    from pathlib import Path

    from app.demo.seed import DEMO_USERS

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    rows = {line.split("|")[1].strip(): line for line in readme.splitlines() if line.startswith("| `")}
    for username, first, last, role in DEMO_USERS:
        row = rows.get(f"`{username}`")
        assert row is not None, username
        assert f"{first} {last}" in row and f"| {role} |" in row, row


def test_seed_demo_gives_a_subscriber_portal_access_and_a_ticket_in_every_state(db, monkeypatch) -> None:
    """The demo customer of the central do assinante: credentials printed once, a password that meets the policy,
    and the stories the portal shows (a draft it does not show)."""
    import re

    from app.demo.seed import PORTAL_CPF
    from app.domain import actions
    from app.domain.clock import now
    from app.domain.legal_deadline import situation
    from app.extensions import appbuilder
    from app.models import Attachment, Notification

    monkeypatch.delenv("DEMO_PASSWORD", raising=False)
    session = db.session
    summary = seed_demo(session)
    line = summary.splitlines()[-1]
    password = re.search(r"CPF 248\.163\.264-80, Helena Duarte Campos, senha: (\S+) ", line).group(1)
    customer = session.scalar(select(Customer).where(Customer.document == PORTAL_CPF))
    user = customer.portal_user
    assert user is not None and [role.name for role in user.roles] == ["Assinante"]
    assert appbuilder.sm.auth_user_db(user.username, password) is not None
    assert len(customer.contracts) == 2 and customer.emails[0].email.endswith("@example.com")

    tickets = session.scalars(select(Ticket).where(Ticket.customer_id == customer.id)).all()
    moment = now()
    states = {(t.is_draft, t.status.category) for t in tickets}
    assert states >= {(True, "new"), (False, "new"), (False, "pending"), (False, "in_progress"),
                      (False, "resolved"), (False, "cancelled")}
    registered = [t for t in tickets if not t.is_draft]
    assert any(t.status.is_open and t.due_at < moment and t.legal_due_at > moment for t in registered), "past its SLA"
    assert any(situation(t.legal_due_at, t.status.category, t.closed_at, moment)["state"] == "overdue"
               for t in registered), "past the legal deadline"
    resolved = next(t for t in registered if t.status.category == "resolved")
    assert actions.refusal(session, resolved, user, "reopen") is None, "within the reopen window"
    assert resolved.rating is None, "left for the subscriber to rate"
    assert any(t.channel is not None and t.channel.is_portal for t in registered), "one opened through the portal"
    messages = [m for t in registered for m in t.messages]
    assert {m.is_internal for m in messages} == {True, False}
    assert session.scalar(select(func.count()).select_from(Attachment).where(Attachment.uploaded_by_id == user.id)) == 1
    assert any(o.status == "scheduled" for t in registered for o in t.service_orders)
    assert session.scalar(select(func.count()).select_from(Notification)) == 0, "the demo's past sends nothing"

    again = seed_demo(session).splitlines()[-1]
    assert "CPF 248.163.264-80" in again and password not in again
    assert len(session.scalars(select(Ticket).where(Ticket.customer_id == customer.id)).all()) == len(tickets)
