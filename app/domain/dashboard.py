"""The Gestor's dashboards: SQL aggregates over the visible, non-draft tickets, each with its list link."""
from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any, Optional

from flask_appbuilder.security.sqla.models import Role, User, assoc_user_role
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from app.domain import legal_deadline
from app.domain.access import ticket_condition
from app.domain.criteria import day_bounds
from app.domain.ticket_filters import ticket_list_url
from app.models import OPEN_CATEGORIES, Customer, Department, Subject, Ticket, TicketStatus, ticket_assignee
from app.security import ROLE_AGENT, ROLE_MANAGER

TOP = 10
AGEING = [  # (label, minimum age, maximum age) in calendar days since opening
    (_l("< 1 dia"), 0, 0),
    (_l("1–3 dias"), 1, 2),
    (_l("3–7 dias"), 3, 6),
    (_l("7–30 dias"), 7, 29),
    (_l("> 30 dias"), 30, None),
]
WITHIN_DUE = Ticket.closed_at <= Ticket.due_at


def hours_between(session: Session, start: Any, end: Any) -> Any:
    """SQL expression of the hours from start to end (PostgreSQL epoch, SQLite julianday)."""
    if session.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", end - start) / 3600.0
    return (func.julianday(end) - func.julianday(start)) * 24.0


def _in_categories(session: Session, *categories: str) -> Any:
    """Tickets whose status is of these categories, with the status ids written out (the ticket table alone is
    read, from the report indexes of migration 0005)."""
    ids = list(session.scalars(select(TicketStatus.id).where(TicketStatus.category.in_(categories))))
    return Ticket.status_id.in_(ids)


def _tickets(user: Any, *conditions: Any) -> Any:
    """SELECT FROM the user's non-draft tickets."""
    scope = ticket_condition(user)
    query = select().select_from(Ticket)
    return query.where(Ticket.is_draft.is_(False), *conditions, *([] if scope is None else [scope]))


def _url(**criteria: Any) -> str:
    return ticket_list_url(**criteria, draft=False)


def _percent(part: int, total: int) -> Optional[float]:
    return round(100.0 * part / total, 1) if total else None


def _hours(value: Any) -> Optional[float]:
    return None if value is None else round(float(value), 1)


def _day(value: Any) -> dt.date:
    return dt.date.fromisoformat(value[:10]) if isinstance(value, str) else value


def manager_dashboard(session: Session, user: Any, start: dt.date, end: dt.date, now: dt.datetime) -> dict:
    """Every figure of the manager's dashboard for the period [start, end] (inclusive days).

    Five grouped queries: open tickets, resolved in the period, opened and resolved per day, top customers;
    the small grouped results (statuses × departments × subjects) are added up here.
    """
    low, high = day_bounds(start)[0], day_bounds(end)[1]
    is_open, is_resolved = _in_categories(session, *OPEN_CATEGORIES), _in_categories(session, "resolved")
    opened_args = {"date_field": "opened", "date_from": start, "date_to": end}
    resolved_args = {"date_field": "closed", "date_from": start, "date_to": end, "status_category": "resolved"}
    opened_in = and_(Ticket.opened_at >= low, Ticket.opened_at < high)
    resolved_in = and_(is_resolved, Ticket.closed_at >= low, Ticket.closed_at < high)
    ageing = _ageing_buckets(now.date())
    open_rows = session.execute(
        _tickets(user, is_open).add_columns(
            Ticket.status_id, Ticket.department_id, Ticket.subject_id, func.count().label("n"),
            func.count(case((Ticket.due_at < now, 1))).label("overdue"),
            *(func.count(case((condition, 1))).label(f"age{i}") for i, (_label, condition, _args) in enumerate(ageing)))
        .group_by(Ticket.status_id, Ticket.department_id, Ticket.subject_id)).all()
    hours = hours_between(session, Ticket.opened_at, Ticket.closed_at)
    resolved_rows = session.execute(
        _tickets(user, resolved_in).add_columns(
            Ticket.subject_id, Ticket.department_id, func.count().label("n"),
            func.count(case((WITHIN_DUE, 1))).label("within"), func.sum(hours).label("hours"))
        .group_by(Ticket.subject_id, Ticket.department_id)).all()
    daily = _daily(session, user, start, end, opened_in, resolved_in)
    legal = _legal_deadline(session, user, now, is_open, resolved_in, resolved_args)

    fields = ("n", "within", "hours")
    resolved = {name: _sum(resolved_rows, name) for name in fields}
    headline = {
        "open": {"value": _sum(open_rows, "n"), "url": _url(status_category="open")},
        "overdue": {"value": _sum(open_rows, "overdue"), "url": _url(due_window="overdue")},
        "opened": {"value": sum(day["opened"] for day in daily), "url": _url(**opened_args)},
        "resolved": {"value": resolved["n"], "url": _url(**resolved_args)},
        "sla": {"value": _percent(resolved["within"], resolved["n"]), "within": resolved["within"],
                "total": resolved["n"], "url": _url(**resolved_args), "within_url": None},
        "avg_close_hours": {"value": _average(resolved), "url": _url(**resolved_args)},
    }

    statuses = {row.id: row for row in session.execute(
        select(TicketStatus.id, TicketStatus.name, TicketStatus.color, TicketStatus.order)
        .where(TicketStatus.id.in_({row.status_id for row in open_rows})))}
    by_status = [
        {"id": key, "label": statuses[key].name, "color": statuses[key].color, "value": totals["n"],
         "url": _url(status=key)}
        for key, totals in sorted(_rollup(open_rows, "status_id", ("n",)).items(),
                                  key=lambda pair: (statuses[pair[0]].order, pair[0]))
    ]
    open_args = {"status_category": "open"}
    by_subject = _ranked(session, Subject, _rollup(open_rows, "subject_id", ("n",)), "subject", open_args)
    if len(by_subject) > TOP:
        rest = by_subject[TOP:]
        ids = [item["id"] for item in rest]
        by_subject = by_subject[:TOP] + [{
            "id": None, "label": str(_l("Outros")), "value": sum(item["value"] for item in rest),
            "url": None if None in ids else _url(subject=ids, **open_args),
        }]

    sla_by_subject = _ranked(session, Subject, _rollup(resolved_rows, "subject_id", fields), "subject", resolved_args)
    close_time_by_subject = sorted(
        ({key: item[key] for key in ("id", "label", "value", "hours", "url")} for item in sla_by_subject),
        key=lambda item: (-(item["hours"] or 0), item["label"].casefold()),
    )
    top = session.execute(
        _tickets(user, opened_in, Ticket.customer_id.is_not(None))
        .add_columns(Ticket.customer_id, func.count().label("n"))
        .group_by(Ticket.customer_id).order_by(func.count().desc(), Ticket.customer_id).limit(TOP)).all()
    customers = _names(session, Customer, [row.customer_id for row in top])

    return {
        "start": start, "end": end, "now": now,
        "headline": headline,
        "legal": legal,
        "by_status": by_status,
        "by_department": _ranked(session, Department, _rollup(open_rows, "department_id", ("n",)), "department",
                                 open_args),
        "by_subject": by_subject,
        "daily": daily,
        "sla_by_subject": sla_by_subject,
        "sla_by_department": _ranked(session, Department, _rollup(resolved_rows, "department_id", fields),
                                     "department", resolved_args),
        "ageing": [
            {"label": str(label), "value": _sum(open_rows, f"age{i}"), "url": _url(**args)}
            for i, (label, _condition, args) in enumerate(ageing)
        ],
        "close_time_by_subject": close_time_by_subject,
        "top_customers": [
            {"id": row.customer_id, "label": customers[row.customer_id], "value": row.n,
             "url": _url(customer=row.customer_id, **opened_args)}
            for row in top
        ],
    }


def _legal_deadline(session: Session, user: Any, now: dt.datetime, is_open: Any, resolved_in: Any,
                    resolved_args: dict) -> dict:
    """R24: open tickets near (within the warning hours) and past the legal deadline, and those resolved in the
    period after it; two queries on the (status, legal deadline) index and the closing-date index."""
    hours = legal_deadline.warning_hours(session)
    near_end = now + dt.timedelta(hours=hours)
    row = session.execute(
        _tickets(user, is_open, Ticket.legal_due_at < near_end).add_columns(
            func.count(case((Ticket.legal_due_at >= now, 1))).label("soon"),
            func.count(case((Ticket.legal_due_at < now, 1))).label("overdue"))).one()
    late = session.scalar(_tickets(user, legal_deadline.answered_late(resolved_in)).add_columns(func.count())) or 0
    return {
        "hours": hours,
        "soon": {"value": row.soon, "url": _url(legal_due="soon")},
        "overdue": {"value": row.overdue, "url": _url(legal_due="overdue")},
        "answered_late": {"value": late, "url": _url(legal_due="answered_late", **resolved_args)},
    }


def _rollup(rows: list, key: str, fields: tuple[str, ...]) -> dict[Optional[int], dict[str, float]]:
    """Add up the fields of grouped rows by one of their keys."""
    totals: dict[Optional[int], dict[str, float]] = {}
    for row in rows:
        bucket = totals.setdefault(getattr(row, key), dict.fromkeys(fields, 0))
        for name in fields:
            bucket[name] += getattr(row, name) or 0
    return totals


def _sum(rows: list, name: str) -> float:
    return sum(getattr(row, name) or 0 for row in rows)


def _average(totals: dict[str, float]) -> Optional[float]:
    return _hours(float(totals["hours"]) / totals["n"]) if totals["n"] else None


def _names(session: Session, model: Any, ids: Any) -> dict[int, str]:
    return dict(session.execute(select(model.id, model.name).where(model.id.in_(set(ids)))).all())


def _ranked(session: Session, model: Any, totals: dict, criterion: str, criteria: dict) -> list[dict]:
    """One item per subject/department, biggest first; tickets without one have no list criterion (no link)."""
    names = _names(session, model, [key for key in totals if key is not None])
    items = []
    for key, figures in totals.items():
        if key is None:
            item = {"id": None, "label": str(_l("Não informado")), "value": figures["n"], "url": None}
        else:
            item = {"id": key, "label": names[key], "value": figures["n"], "url": _url(**{criterion: key}, **criteria)}
        if "within" in figures:
            item.update(total=figures["n"], within=figures["within"], percent=_percent(figures["within"], figures["n"]),
                        hours=_average(figures), within_url=None)
        items.append(item)
    return sorted(items, key=lambda item: (-item["value"], item["id"] is None, item["label"].casefold()))


def _daily(session: Session, user: Any, start: dt.date, end: dt.date, opened_in: Any, resolved_in: Any) -> list[dict]:
    """Opened and resolved per day, every day of the period present."""
    counts: dict[tuple[str, dt.date], int] = {}
    for kind, column, condition in (("opened", Ticket.opened_at, opened_in), ("resolved", Ticket.closed_at, resolved_in)):
        day = func.date(column)
        for value, n in session.execute(_tickets(user, condition).add_columns(day, func.count()).group_by(day)):
            counts[kind, _day(value)] = n
    days = []
    for offset in range((end - start).days + 1):
        day = start + dt.timedelta(days=offset)
        days.append({
            "day": day,
            "opened": counts.get(("opened", day), 0),
            "opened_url": _url(date_field="opened", date_from=day, date_to=day),
            "resolved": counts.get(("resolved", day), 0),
            "resolved_url": _url(date_field="closed", date_from=day, date_to=day, status_category="resolved"),
        })
    return days


def _ageing_buckets(today: dt.date) -> list[tuple[Any, Any, dict]]:
    """(label, SQL condition, list criteria) of each age of open tickets, in calendar days since opening."""
    buckets = []
    for label, youngest, oldest in AGEING:
        date_to = today - dt.timedelta(days=youngest)
        date_from = None if oldest is None else today - dt.timedelta(days=oldest)
        condition = Ticket.opened_at < day_bounds(date_to)[1]
        args = {"date_field": "opened", "date_from": date_from, "date_to": date_to, "status_category": "open"}
        if date_from is None:
            del args["date_from"]
        else:
            condition = and_(condition, Ticket.opened_at >= day_bounds(date_from)[0])
        buckets.append((label, condition, args))
    return buckets


def team_workload(session: Session, user: Any, now: dt.datetime) -> list[dict]:
    """Per team member: open assigned, overdue, still due today and resolved in the last 7 days (today included)."""
    today_end = day_bounds(now.date())[1]
    is_open, is_resolved = _in_categories(session, *OPEN_CATEGORIES), _in_categories(session, "resolved")
    week_from = now.date() - dt.timedelta(days=6)
    week_start = day_bounds(week_from)[0]
    resolved_week = and_(is_resolved, Ticket.closed_at >= week_start, Ticket.closed_at < today_end)
    user_id = ticket_assignee.c.user_id
    open_rows = session.execute(
        _tickets(user, is_open)
        .join(ticket_assignee, ticket_assignee.c.ticket_id == Ticket.id)
        .add_columns(
            user_id,
            func.count().label("open"),
            func.count(case((Ticket.due_at < now, 1))).label("overdue"),
            func.count(case((and_(Ticket.due_at >= now, Ticket.due_at < today_end), 1))).label("due_today"),
        )
        .group_by(user_id)
    ).all()
    resolved = dict(session.execute(
        _tickets(user, resolved_week).join(ticket_assignee, ticket_assignee.c.ticket_id == Ticket.id)
        .add_columns(user_id, func.count()).group_by(user_id)).all())
    empty = {"open": 0, "overdue": 0, "due_today": 0}
    rows = [SimpleNamespace(user_id=key, resolved_week=resolved.get(key, 0),
                            **({name: getattr(row, name) for name in empty} if row else empty))
            for key, row in {**dict.fromkeys(resolved), **{row.user_id: row for row in open_rows}}.items()]
    figures = {row.user_id: row for row in rows}
    team_roles = select(assoc_user_role.c.user_id).join(Role, Role.id == assoc_user_role.c.role_id).where(
        Role.name.in_((ROLE_AGENT, ROLE_MANAGER)))
    with_open = [row.user_id for row in rows if row.open]
    members = session.execute(
        select(User.id, User.first_name, User.last_name)
        .where(User.active.is_(True), or_(User.id.in_(team_roles), User.id.in_(with_open)))
        .order_by(User.first_name, User.last_name, User.id)
    )
    criteria = {
        "open": {"status_category": "open"},
        "overdue": {"due_window": "overdue"},
        "due_today": {"due_window": "today"},
        "resolved_week": {"date_field": "closed", "date_from": week_from, "date_to": now.date(),
                          "status_category": "resolved"},
    }
    team = []
    for member in members:
        row = figures.get(member.id)
        entry: dict[str, Any] = {"id": member.id, "label": f"{member.first_name} {member.last_name}".strip()}
        for key, args in criteria.items():
            entry[key] = {"value": getattr(row, key) if row else 0, "url": _url(assignee=member.id, **args)}
        team.append(entry)
    return team
