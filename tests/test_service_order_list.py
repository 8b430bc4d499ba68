"""The service-order list: its filters and order, its mass operations and its export source."""
from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import select

from tests import factories
from tests.support import session, user

DAY = dt.timedelta(days=1)


def _order(s: Any, agent: Any, ticket: Any, **kw: Any) -> Any:
    from app.domain import service_orders
    from app.models import ServiceOrder

    order = ServiceOrder(ticket=ticket, description=kw.pop("description", "Visita técnica"), **kw)
    service_orders.create_service_order(s, order, agent)
    s.commit()
    return order


def _named(s: Any, model: Any, index: int = 0) -> Any:
    return s.scalars(select(model).order_by(model.id)).all()[index]


def _extra_user(s: Any, username: str, role: str, active: bool = True) -> Any:
    from app.extensions import appbuilder

    sm = appbuilder.sm
    extra = sm.add_user(username, username.capitalize(), "Extra", f"{username}@example.com", sm.find_role(role),
                        "Senha-forte-123")
    extra.active = active
    s.commit()
    return extra


def _matching(s: Any, args: dict[str, Any], scope: Any = None) -> set[int]:
    from app.domain.clock import now
    from app.domain.service_order_filters import SERVICE_ORDER_CRITERIA
    from app.models import ServiceOrder

    selection = SERVICE_ORDER_CRITERIA.parse(args)
    assert not selection.errors, selection.errors
    return set(s.scalars(SERVICE_ORDER_CRITERIA.matching_ids(ServiceOrder.id, selection.values, now(), scope)))


def _events(s: Any, ticket_id: int) -> list[tuple[str, str]]:
    return [tuple(row) for row in s.execute(sa.text(
        "SELECT field, new_value FROM ticket_event WHERE ticket_id = :t AND kind = 'service_order' "
        "AND field <> 'service_order' ORDER BY id"), {"t": ticket_id})]


def _row(s: Any, order_id: int) -> dict[str, Any]:
    from app.models import ServiceOrder

    table = ServiceOrder.__table__
    return dict(s.execute(select(table).where(table.c.id == order_id)).mappings().one())


# ---------------------------------------------------------------- filters and order


@pytest.fixture
def dataset(app: Any) -> dict[str, Any]:
    """Five OS that differ in every criterion."""
    from app.domain import tickets
    from app.domain.clock import now
    from app.models import City, Department, ServiceOrderType, Site, Ticket

    with session(app) as s:
        agent, tech, tech2 = user(s, "atendente"), user(s, "tecnico"), user(s, "tecnico2")
        poa, canoas = City(name="Porto Alegre", state="RS"), City(name="Canoas", state="RS")
        s.add_all([poa, canoas])
        repair, install = _named(s, ServiceOrderType, 0), _named(s, ServiceOrderType, 1)
        support, field_team = _named(s, Department, 0), Department(name="Campo")
        s.add(field_team)
        wifi, fiber = factories.subject(s, "Wi-Fi lento"), factories.subject(s, "Fibra rompida")
        ana = factories.customer(s, "Ana Souza")
        ana_contract = factories.contract(s, ana)
        ana_contract.city = poa
        bruno = factories.customer(s, "Bruno Lima")
        tower = Site(name="Torre Norte", kind="tower", city=canoas)
        s.add(tower)
        s.flush()
        t_ana = factories.ticket(s, agent, ana, contract=ana_contract, subject=wifi, department=support)
        t_bruno = factories.ticket(s, agent, bruno, subject=fiber, department=field_team)
        t_site = Ticket(type="site", site=tower, subject=fiber, department=field_team, is_draft=False,
                        opening_description="Torre sem energia")
        tickets.create_ticket(s, t_site, agent)
        s.commit()
        moment = now()
        a = _order(s, agent, t_ana, type=repair, technician=tech, status="scheduled",
                   scheduled_start=moment - 3 * DAY, scheduled_end=moment - 3 * DAY + dt.timedelta(hours=2),
                   opened_at=moment - 10 * DAY)
        b = _order(s, agent, t_ana, type=install, technician=tech2, status="done", closing_notes="Feito",
                   scheduled_start=moment - 2 * DAY, scheduled_end=moment - 2 * DAY + dt.timedelta(hours=2),
                   opened_at=moment - 5 * DAY)
        b.closed_at = moment - 2 * DAY
        c = _order(s, agent, t_bruno, type=repair, status="open", opened_at=moment - 5 * DAY)
        d = _order(s, agent, t_site, type=install, technician=tech, status="in_progress",
                   scheduled_start=moment + 1 * DAY, scheduled_end=moment + 1 * DAY + dt.timedelta(hours=2),
                   opened_at=moment - 1 * DAY)
        e = _order(s, agent, t_bruno, type=repair, technician=tech2, status="cancelled",
                   scheduled_start=moment - 4 * DAY, scheduled_end=moment - 4 * DAY + dt.timedelta(hours=1),
                   opened_at=moment)
        e.closed_at = moment - DAY
        s.commit()
        return {
            "a": a.id, "b": b.id, "c": c.id, "d": d.id, "e": e.id, "moment": moment,
            "poa": poa.id, "canoas": canoas.id, "repair": repair.id, "install": install.id,
            "support": support.id, "field": field_team.id, "wifi": wifi.id, "fiber": fiber.id,
            "tech": tech.id, "tech2": tech2.id, "ana": ana.id, "bruno": bruno.id,
            "protocols": {"ana": t_ana.protocol, "bruno": t_bruno.protocol, "site": t_site.protocol},
        }


def test_every_criterion_filters(app, dataset):
    d = dataset
    a, b, c, o, e = d["a"], d["b"], d["c"], d["d"], d["e"]
    day = lambda delta: (d["moment"] + delta * DAY).strftime("%d/%m/%Y")  # noqa: E731
    expectations = [
        ({}, {a, b, c, o, e}),
        ({"status": "open,scheduled"}, {a, c}),
        ({"status": ["done", "cancelled"]}, {b, e}),
        ({"type": str(d["repair"])}, {a, c, e}),
        ({"technician": str(d["tech"])}, {a, o}),
        ({"technician": f"{d['tech']},{d['tech2']}"}, {a, b, o, e}),
        ({"unassigned": "1"}, {c}),
        ({"unassigned": "0"}, {a, b, o, e}),
        ({"city": str(d["poa"])}, {a, b}),
        ({"city": str(d["canoas"])}, {o}),
        ({"city": f"{d['poa']},{d['canoas']}"}, {a, b, o}),
        ({"department": str(d["support"])}, {a, b}),
        ({"department": str(d["field"])}, {c, o, e}),
        ({"subject": str(d["fiber"])}, {c, o, e}),
        ({"overdue": "1"}, {a}),
        ({"overdue": "0"}, {b, c, o, e}),
        ({"customer": str(d["bruno"])}, {c, e}),
        ({"protocol": d["protocols"]["ana"]}, {a, b}),
        ({"protocol": d["protocols"]["bruno"]}, {c, e}),
        ({"protocol": d["protocols"]["site"][:8]}, {a, b, c, o, e}),
        ({"protocol": "abc"}, set()),
        ({"date_from": day(-5), "date_to": day(-5)}, {b, c}),
        ({"date_from": day(-5)}, {b, c, o, e}),
        ({"date_to": day(-6)}, {a}),
        ({"date_field": "scheduled", "date_from": day(-3), "date_to": day(-2)}, {a, b}),
        ({"date_field": "scheduled", "date_from": day(1)}, {o}),
        ({"date_field": "closed", "date_from": day(-2), "date_to": day(-1)}, {b, e}),
        ({"date_field": "closed", "date_to": day(-2)}, {b}),
        ({"status": "open,scheduled,in_progress", "technician": str(d["tech"]), "city": str(d["poa"])}, {a}),
    ]
    with session(app) as s:
        for args, expected in expectations:
            assert _matching(s, args) == expected, args


def test_invalid_values_are_reported_and_ignored(app, dataset):
    from app.domain.service_order_filters import SERVICE_ORDER_CRITERIA

    with app.test_request_context():
        selection = SERVICE_ORDER_CRITERIA.parse({"status": "open,lost", "technician": "x", "type": str(dataset["repair"])})
    assert set(selection.values) == {"type"}
    assert len(selection.errors) == 2 and "Situação" in selection.errors[0]


def test_scope_limits_a_technician_to_own_orders(app, dataset):
    from app.domain.access import service_order_condition

    with session(app) as s:
        assert _matching(s, {}, service_order_condition(user(s, "tecnico"))) == {dataset["a"], dataset["d"]}
        assert _matching(s, {"status": "open"}, service_order_condition(user(s, "tecnico"))) == set()


def _ordered(s: Any, args: dict[str, Any]) -> list[int]:
    from app.domain.service_order_filters import service_order_order
    from app.models import ServiceOrder

    return list(s.scalars(select(ServiceOrder.id).order_by(*service_order_order(args))))


def test_order_is_total_with_the_id_as_tiebreak(app, users):
    from app.domain.clock import now

    with session(app) as s:
        agent = user(s, "atendente")
        ticket = factories.ticket(s, agent)
        same = now() - DAY
        ids = [_order(s, agent, ticket, opened_at=same).id for _ in range(3)]
        later = _order(s, agent, ticket, opened_at=now(), scheduled_start=now() + DAY).id
        early = _order(s, agent, ticket, opened_at=same - DAY, scheduled_start=now() + 2 * DAY).id
        assert _ordered(s, {}) == [later, *reversed(ids), early]
        assert _ordered(s, {"order": "opened_at", "direction": "asc"}) == [early, *ids, later]
        assert _ordered(s, {"order": ["scheduled_start"], "direction": ["asc"]}) == [later, early, *ids]
        assert _ordered(s, {"order": "scheduled_start"}) == [early, later, *reversed(ids)]
        assert _ordered(s, {"order": "closed_at"}) == sorted(ids + [later, early], reverse=True)
        assert _ordered(s, {"order": "id", "direction": "asc"}) == sorted(ids + [later, early])
        assert _ordered(s, {"order": "nonsense", "direction": "sideways"}) == _ordered(s, {})


def test_list_url_carries_the_criteria(app):
    from urllib.parse import parse_qs, urlsplit

    from app.domain.service_order_filters import service_order_list_url

    with app.test_request_context():
        url = service_order_list_url(status=["open", "scheduled"], overdue=True, technician=[3, 4],
                                     date_from=dt.date(2026, 11, 2), order="scheduled_start")
    parts = urlsplit(url)
    assert parts.path == "/serviceorderview/list/"
    assert parse_qs(parts.query) == {"status": ["open,scheduled"], "overdue": ["1"], "technician": ["3,4"],
                                     "date_from": ["2026-11-02"], "order": ["scheduled_start"]}
    with pytest.raises(KeyError):
        service_order_list_url(colour="blue")


# ---------------------------------------------------------------- mass operations


@pytest.fixture
def orders(app: Any, users: Any) -> dict[str, Any]:
    """Two open OS of tecnico on two tickets, one of tecnico2, one finished, one cancelled."""
    with session(app) as s:
        agent, tech, tech2 = user(s, "atendente"), user(s, "tecnico"), user(s, "tecnico2")
        t1, t2, t3 = factories.ticket(s, agent), factories.ticket(s, agent), factories.ticket(s, agent)
        mine1 = _order(s, agent, t1, technician=tech)
        mine2 = _order(s, agent, t2, technician=tech, status="scheduled")
        other = _order(s, agent, t3, technician=tech2)
        done = _order(s, agent, t3, technician=tech, status="done", closing_notes="Resolvido")
        cancelled = _order(s, agent, t3, technician=tech, status="cancelled")
        return {"mine1": mine1.id, "mine2": mine2.id, "other": other.id, "done": done.id,
                "cancelled": cancelled.id, "t1": t1.id, "t2": t2.id, "t3": t3.id}


def test_mass_assign_technician(app, orders):
    from app.domain.service_orders import mass_assign_technician

    with session(app) as s:
        result = mass_assign_technician(s, user(s, "gestor"), [orders["mine1"], orders["mine2"], orders["done"]],
                                        user(s, "tecnico2"))
        tech2 = user(s, "tecnico2").id
        assert result.done == [str(orders["mine1"]), str(orders["mine2"])]
        assert result.refused == [(str(orders["done"]), "OS já finalizada não aceita alterações")]
        for key, ticket in (("mine1", "t1"), ("mine2", "t2")):
            assert _row(s, orders[key])["technician_id"] == tech2
            assert _events(s, orders[ticket]) == [("service_order.technician_id", "Tecnico2 Teste")]  # the name, never the id
        assert _row(s, orders["done"])["technician_id"] == user(s, "tecnico").id
        assert _events(s, orders["t3"]) == []
        assert result.summary() == (f"2 ordens alteradas; 1 recusada: {orders['done']} "
                                    "(OS já finalizada não aceita alterações)")


def test_mass_assign_refuses_an_invalid_technician(app, orders):
    from app.domain.service_orders import mass_assign_technician

    with session(app) as s:
        retired = _extra_user(s, "aposentado", "Tecnico", active=False)
        for candidate, name in ((user(s, "atendente"), "Atendente Teste"), (retired, "Aposentado Extra")):
            result = mass_assign_technician(s, user(s, "gestor"), [orders["mine1"], orders["mine2"]], candidate)
            assert result.done == []
            assert result.refused == [(str(orders[k]), f"{name} não é um técnico ativo") for k in ("mine1", "mine2")]
        assert _row(s, orders["mine1"])["technician_id"] == user(s, "tecnico").id
        assert _events(s, orders["t1"]) == [] and _events(s, orders["t2"]) == []


def test_mass_assign_unchanged_and_unassign(app, orders):
    from app.domain.service_orders import mass_assign_technician

    with session(app) as s:
        result = mass_assign_technician(s, user(s, "gestor"), [orders["mine1"]], user(s, "tecnico"))
        assert result.done == [] and result.refused == [(str(orders["mine1"]), "nada a alterar")]
        result = mass_assign_technician(s, user(s, "gestor"), [orders["mine1"]], None)
        assert result.done == [str(orders["mine1"])]
        assert _row(s, orders["mine1"])["technician_id"] is None
        assert _events(s, orders["t1"]) == [("service_order.technician_id", None)]


def test_mass_reschedule(app, orders):
    from app.domain.clock import now
    from app.domain.errors import ValidationError
    from app.domain.service_orders import mass_reschedule

    start = now().replace(microsecond=0) + 2 * DAY
    end = start + dt.timedelta(hours=3)
    with session(app) as s:
        gestor = user(s, "gestor")
        result = mass_reschedule(s, gestor, [orders["mine1"], orders["mine2"], orders["cancelled"]], start, end)
        assert result.done == [str(orders["mine1"]), str(orders["mine2"])]
        assert result.refused == [(str(orders["cancelled"]), "OS já cancelada não aceita alterações")]
        row = _row(s, orders["mine1"])
        assert (row["status"], row["scheduled_start"], row["scheduled_end"]) == ("scheduled", start, end)
        assert [field for field, _new in _events(s, orders["t1"])] == [
            "service_order.status", "service_order.scheduled_start", "service_order.scheduled_end"]
        assert [field for field, _new in _events(s, orders["t2"])] == [
            "service_order.scheduled_start", "service_order.scheduled_end"]

        bad = mass_reschedule(s, gestor, [orders["mine1"]], end + DAY, end)
        assert bad.done == [] and bad.refused == [(str(orders["mine1"]), "O fim agendado deve ser depois do início")]
        assert _row(s, orders["mine1"])["scheduled_start"] == start
        assert len(_events(s, orders["t1"])) == 3
        with pytest.raises(ValidationError):
            mass_reschedule(s, gestor, [orders["mine1"]], None, end)


def test_mass_close(app, orders):
    from app.domain.errors import ValidationError
    from app.domain.service_orders import mass_close

    with session(app) as s:
        gestor = user(s, "gestor")
        missing = mass_close(s, gestor, [orders["mine1"], orders["mine2"]], "  ")
        assert missing.done == []
        assert [reason for _label, reason in missing.refused] == [
            "Para finalizar a OS informe as observações de fechamento"] * 2
        assert _row(s, orders["mine1"])["status"] == "open" and _events(s, orders["t1"]) == []

        result = mass_close(s, gestor, [orders["mine1"], orders["done"], orders["cancelled"]], "Cabo trocado")
        assert result.done == [str(orders["mine1"])]
        assert [reason for _label, reason in result.refused] == [
            "OS já finalizada não aceita alterações", "OS já cancelada não aceita alterações"]
        row = _row(s, orders["mine1"])
        assert row["status"] == "done" and row["closing_notes"] == "Cabo trocado" and row["closed_at"] is not None
        assert _events(s, orders["t1"]) == [("service_order.status", "Finalizada"),
                                            ("service_order.closing_notes", "Cabo trocado")]
        assert _row(s, orders["done"])["closing_notes"] == "Resolvido"

        cancelled = mass_close(s, gestor, [orders["mine2"]], "", status="cancelled")
        assert cancelled.done == [str(orders["mine2"])]
        assert _row(s, orders["mine2"])["status"] == "cancelled"
        assert _events(s, orders["t2"]) == [("service_order.status", "Cancelada")]
        with pytest.raises(ValidationError):
            mass_close(s, gestor, [orders["other"]], "x", status="open")


def test_mass_close_refuses_orders_of_a_cancelled_ticket(app, orders):
    from app.domain.service_orders import mass_close
    from app.models import Ticket, TicketStatus

    with session(app) as s:  # a ticket cancelled before R28 left its OS open (a legacy record)
        cancelled = s.scalar(sa.select(TicketStatus.id).where(TicketStatus.category == "cancelled"))
        s.execute(sa.update(Ticket).where(Ticket.id == orders["t1"]).values(status_id=cancelled))
        s.commit()
        result = mass_close(s, user(s, "gestor"), [orders["mine1"]], "Feito")
        assert result.refused == [(str(orders["mine1"]), "Atendimento cancelado não aceita alterações")]
        assert _row(s, orders["mine1"])["status"] == "open"


def test_forged_ids_of_invisible_orders_are_refused_untouched(app, orders):
    from app.domain.service_orders import mass_assign_technician, mass_close, mass_reschedule

    with session(app) as s:
        tech = user(s, "tecnico")
        before = _row(s, orders["other"])
        forged = [orders["mine1"], orders["other"], 987654, "abc", orders["mine1"]]
        result = mass_close(s, tech, forged, "Feito")
        assert result.done == [str(orders["mine1"])]
        assert result.refused == [(str(orders["other"]), "não encontrada ou fora da sua visão"),
                                  ("987654", "não encontrada ou fora da sua visão"),
                                  ("abc", "não encontrada ou fora da sua visão")]
        later = dt.datetime(2030, 1, 1, 8)
        assert mass_reschedule(s, tech, [orders["other"]], later, later).done == []
        assert mass_assign_technician(s, tech, [orders["other"]], tech).done == []
        assert _row(s, orders["other"]) == before
        assert _events(s, orders["t3"]) == []
        assert mass_close(s, user(s, "assinante"), [orders["mine2"]], "x").done == []
        assert _row(s, orders["mine2"])["status"] == "scheduled"


def test_summary_is_short_and_in_portuguese(app):
    from app.domain.mass import MassResult

    with app.test_request_context():
        result = MassResult(kind="service_order", done=["1"])
        assert result.summary() == "1 ordem alterada"
        for n in range(12):
            result.refuse(100 + n, "já finalizada.")
        assert result.summary() == ("1 ordem alterada; 12 recusadas: " + ", ".join(
            f"{100 + n} (já finalizada)" for n in range(10)) + " e mais 2")
        assert MassResult(done=["2026"]).summary() == "1 atendimento alterado"
        assert MassResult(done=["2026"]).summary("1 atendimento fechado") == "1 atendimento fechado"


def test_single_update_shares_the_rules(app, orders):
    from app.domain.errors import Conflict, ValidationError
    from app.domain.service_orders import create_service_order, update_service_order
    from app.models import ServiceOrder, Ticket

    with session(app) as s:
        gestor, agent = user(s, "gestor"), user(s, "atendente")
        done = s.get(ServiceOrder, orders["done"])
        done.description = "Outra coisa"
        with pytest.raises(Conflict):
            update_service_order(s, done, gestor)
        s.rollback()
        order = s.get(ServiceOrder, orders["mine1"])
        order.technician = agent
        with pytest.raises(ValidationError):
            update_service_order(s, order, gestor)
        s.rollback()
        with pytest.raises(ValidationError):
            create_service_order(s, ServiceOrder(ticket=s.get(Ticket, orders["t1"]), technician=gestor), gestor)
        s.rollback()


# ---------------------------------------------------------------- export source


def _export(app: Any, username: str, args: dict[str, Any]) -> Any:
    from app.domain import service_order_exports  # noqa: F401  (registers the source)
    from app.domain.exports import get_source

    builder = get_source("service_orders")
    with session(app) as s, app.test_request_context():
        data = builder(s, user(s, username), args)
        return data, list(data.rows), data.total()


def test_export_rows_follow_filter_and_order(app, dataset):
    d = dataset
    data, rows, count = _export(app, "gestor", {"status": ["open", "scheduled", "done"],
                                                "order": ["opened_at"], "direction": ["asc"]})
    assert [row[0] for row in rows] == [d["a"], d["b"], d["c"]] and count == 3
    assert len(data.columns) == len(rows[0]) == 12
    assert data.filename_stem == "ordens-de-servico" and "Situação: Aberta, Agendada, Finalizada" in data.subtitle
    first = rows[0]
    assert first[1] == d["protocols"]["ana"] and first[2] == "Ana Souza" and first[4] == "Agendada"
    assert first[5] == "Tecnico Teste" and first[6] == "Porto Alegre/RS"
    assert isinstance(first[7], dt.datetime) and first[11] == "Visita técnica"
    assert rows[2][5] is None and rows[2][6] is None

    _data, rows, count = _export(app, "gestor", {"city": [str(d["canoas"])]})
    assert [(row[0], row[2], row[6]) for row in rows] == [(d["d"], "Torre Norte", "Canoas/RS")] and count == 1

    _data, rows, count = _export(app, "gestor", {})
    assert [row[0] for row in rows] == [d["e"], d["d"], d["c"], d["b"], d["a"]] and count == 5


def test_export_is_scoped_to_the_user(app, dataset):
    from app.domain.errors import NotAllowed

    _data, rows, count = _export(app, "tecnico", {"order": "id", "direction": "asc"})
    assert [row[0] for row in rows] == [dataset["a"], dataset["d"]] and count == 2
    with pytest.raises(NotAllowed):
        _export(app, "assinante", {})
