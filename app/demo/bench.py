"""Bulk synthetic data for benchmarks: COPY on PostgreSQL, batched inserts on SQLite.

Rows are written directly (not through the ORM) with explicit ids taken after the
current maximum, so a second run adds more data without clashes: documents skip
the ones already stored, contract numbers and logins carry the contract id, and
protocols continue each day's `protocol_sequence`.
"""
from __future__ import annotations

import datetime as dt
import random
import time
from typing import Any, Callable, Iterable, Optional, Sequence

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.domain.clock import now
from app.domain.legal_deadline import LEGAL_ANSWER_DAYS
from app.domain.protocol import SEQUENCE_DIGITS
from app.models import Model
from app.demo.seed import CITIES, DISTRICTS, FIRST_NAMES, STREETS, SURNAMES, cnpj_from, cpf_from, ensure_configuration, slug

DAYS = 365
MAX_SEQUENCE = 10**SEQUENCE_DIGITS - 1
SQLITE_BATCH = 5_000
OPENINGS = [
    "Cliente sem conexão desde a manhã; luz LOS acesa na ONU.",
    "Lentidão no período da noite; teste de velocidade abaixo do contratado.",
    "Conexão cai várias vezes ao dia.",
    "Solicita a 2ª via do boleto por e-mail.",
    "Quer trocar a senha da rede Wi-Fi.",
    "Pede mudança de endereço da instalação.",
    "Interessado em upgrade para um plano mais rápido.",
    "Solicita cancelamento do contrato.",
]
CLOSINGS = [
    "Sinal óptico normalizado após reprovisionamento; cliente confirmou a navegação.",
    "Cliente orientado; solicitação atendida.",
    "Técnico substituiu o conector; conexão estável.",
    "Boleto enviado por e-mail.",
]
CANCEL_REASONS = ["Aberto em duplicidade.", "Cliente desistiu da solicitação."]
# age > 14 days / recent: cumulative thresholds for new, pending, in_progress, resolved (rest: cancelled)
OLD_MIX = (0.02, 0.05, 0.08, 0.94)
RECENT_MIX = (0.20, 0.40, 0.60, 0.93)
CATEGORIES = ("new", "pending", "in_progress", "resolved", "cancelled")


class _Loader:
    """Write rows to one table: COPY on PostgreSQL, batched Core inserts elsewhere."""

    def __init__(self, session: Session, table: str, columns: Sequence[str]) -> None:
        self.session = session
        self.table = table
        self.columns = tuple(columns)
        self.count = 0
        self.postgres = session.get_bind().dialect.name == "postgresql"
        self._rows: list[tuple] = []

    def __enter__(self) -> "_Loader":
        if self.postgres:
            raw = self.session.connection().connection.driver_connection
            self._cursor = raw.cursor()
            self._copy_cm = self._cursor.copy(f"COPY {self.table} ({', '.join(self.columns)}) FROM STDIN")
            self._copy = self._copy_cm.__enter__()
        return self

    def write(self, row: tuple) -> None:
        self.count += 1
        if self.postgres:
            self._copy.write_row(row)
        else:
            self._rows.append(row)
            if len(self._rows) >= SQLITE_BATCH:
                self._flush()

    def _flush(self) -> None:
        if self._rows:
            table = Model.metadata.tables[self.table]
            cols = self.columns
            self.session.execute(table.insert(), [dict(zip(cols, r)) for r in self._rows])
            self._rows = []

    def __exit__(self, kind: Any, value: Any, tb: Any) -> None:
        if self.postgres:
            self._copy_cm.__exit__(kind, value, tb)
            self._cursor.close()
        elif kind is None:
            self._flush()


def _next_id(session: Session, table: str) -> int:
    return (session.execute(sa.text(f"SELECT MAX(id) FROM {table}")).scalar() or 0) + 1


def _ids(session: Session, sql: str) -> list:
    return [r[0] for r in session.execute(sa.text(sql))]


def _reference(session: Session) -> dict[str, Any]:
    """Read the configuration rows the synthetic data points at."""
    ref: dict[str, Any] = {}
    ref["statuses"] = {
        c: [r[0] for r in session.execute(sa.text(
            "SELECT id FROM ticket_status WHERE active = :t AND category = :c ORDER BY sort_order"), {"t": True, "c": c})]
        for c in CATEGORIES
    }
    missing = [c for c, ids in ref["statuses"].items() if not ids]
    if missing:
        raise RuntimeError(f"Nenhum status ativo nas categorias: {', '.join(missing)}.")
    ref["subjects"] = [tuple(r) for r in session.execute(sa.text(
        "SELECT id, sla_hours, default_department_id, default_priority_id, requires_contract FROM subject"
        " WHERE requires_sub_status = :f AND requires_login = :f"), {"f": False})]
    ref["channels"] = _ids(session, "SELECT id FROM channel")
    ref["departments"] = _ids(session, "SELECT id FROM department")
    ref["priorities"] = _ids(session, "SELECT id FROM priority")
    ref["reasons"] = _ids(session, "SELECT id FROM closing_reason")
    ref["sub_statuses"] = _ids(session, "SELECT id FROM sub_status") or [None]
    ref["os_types"] = _ids(session, "SELECT id FROM service_order_type") or [None]
    ref["cities"] = [tuple(r) for r in session.execute(sa.text("SELECT id, name, state FROM city ORDER BY id"))]
    ref["plans"] = _ids(session, "SELECT id FROM plan")
    ref["groups"] = _ids(session, "SELECT id FROM customer_group") or [None]
    roles = {}
    for user_id, role in session.execute(sa.text(
            "SELECT u.id, r.name FROM ab_user u LEFT JOIN ab_user_role ur ON ur.user_id = u.id"
            " LEFT JOIN ab_role r ON r.id = ur.role_id")):
        roles.setdefault(user_id, set()).add(role)
    users = sorted(roles)
    if not users:
        raise RuntimeError("Nenhum usuário cadastrado: rode 'flask --app run init' antes.")
    ref["agents"] = [u for u in users if roles[u] & {"Atendente", "Gestor"}] or users
    ref["technicians"] = [u for u in users if "Tecnico" in roles[u]] or users
    return ref


def _pg(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def seed_bench(session: Session, ticket_count: int, customer_count: int,
               echo: Callable[[str], Any] = print) -> dict[str, int]:
    """Load `customer_count` customers and `ticket_count` tickets of synthetic data; return the counts."""
    if ticket_count < 0 or customer_count < 0:
        raise ValueError("As quantidades devem ser positivas.")
    if ticket_count and not customer_count:
        raise ValueError("Atendimentos sintéticos precisam de pelo menos um cliente.")
    started = time.monotonic()
    rnd = random.Random()
    ensure_configuration(session)
    ref = _reference(session)
    moment = now()
    counts: dict[str, int] = {}

    def say(text: str) -> None:
        echo(f"[{time.monotonic() - started:7.1f}s] {text}")

    contracts = _load_customers(session, rnd, ref, customer_count, moment, counts)
    say(f"{counts['customers']} clientes, {counts['phones']} telefones, {counts['emails']} e-mails, "
        f"{counts['contracts']} contratos")
    _load_tickets(session, rnd, ref, ticket_count, contracts, moment, counts, say)
    if _pg(session):
        for table in ("customer", "customer_phone", "customer_email", "contract", "ticket", "ticket_event",
                      "service_order"):
            session.execute(sa.text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT COALESCE(MAX(id), 1) FROM {table}))"))
    session.commit()
    say("dados gravados")
    if _pg(session):
        session.execute(sa.text("ANALYZE"))
        session.commit()
        say("ANALYZE concluído")
    counts["seconds"] = round(time.monotonic() - started)
    echo(f"Criados {counts['customers']} clientes, {counts['contracts']} contratos, {counts['tickets']} atendimentos, "
         f"{counts['events']} movimentações, {counts['assignees']} responsáveis e {counts['service_orders']} OS "
         f"em {time.monotonic() - started:.1f}s.")
    return counts


def _load_customers(session: Session, rnd: random.Random, ref: dict[str, Any], total: int,
                    moment: dt.datetime, counts: dict[str, int]) -> list[tuple[int, int, int, str]]:
    """Write customers, phones, e-mails and contracts; return (first contract id, how many, customer id, address)."""
    taken = set(_ids(session, "SELECT document FROM customer"))
    first_customer = _next_id(session, "customer")
    customer_id = first_customer
    phone_id = _next_id(session, "customer_phone")
    email_id = _next_id(session, "customer_email")
    contract_id = _next_id(session, "contract")
    cpf_base = 200_000_000 + first_customer
    cnpj_root = 20_000_000 + first_customer
    cities, plans, groups = ref["cities"], ref["plans"] or [None], ref["groups"]
    ddds = {name: ddd for name, _, _, ddd, _ in CITIES}
    rows_customer, rows_phone, rows_email = [], [], []
    owners: list[tuple[int, int, int, str]] = []
    rows_contract = []
    today = moment.date()
    for _ in range(total):
        if rnd.random() < 0.1:
            while True:
                document = cnpj_from(cnpj_root)
                cnpj_root += 1
                if document not in taken:
                    break
            surname = rnd.choice(SURNAMES)
            name = f"{surname} {rnd.choice(('Comércio', 'Serviços', 'Distribuidora', 'Transportes'))} Ltda"
            row = (customer_id, "PJ", name, f"{surname} {rnd.choice(('Store', 'Tech', 'Express'))}", document,
                   None, groups[min(1, len(groups) - 1)], True, moment)
        else:
            while True:
                document = cpf_from(cpf_base)
                cpf_base += 1
                if document not in taken:
                    break
            name = f"{rnd.choice(FIRST_NAMES)} {rnd.choice(SURNAMES)} {rnd.choice(SURNAMES)}"
            birth = dt.date(rnd.randint(1945, 2005), rnd.randint(1, 12), rnd.randint(1, 28))
            row = (customer_id, "PF", name, None, document, birth, groups[0], True, moment)
        rows_customer.append(row)
        city_id, city_name, state = rnd.choice(cities) if cities else (None, "", "")
        ddd = ddds.get(city_name, "11")
        rows_phone.append((phone_id, customer_id, f"{ddd}9{rnd.randint(10_000_000, 99_999_999)}", "mobile", True))
        phone_id += 1
        handle = slug(name.split()[0] + "." + name.split()[-1])
        rows_email.append((email_id, customer_id, f"{handle}{customer_id}@exemplo.com.br", True))
        email_id += 1
        how_many = 2 if rnd.random() < 0.2 else 1
        street, district = rnd.choice(STREETS), rnd.choice(DISTRICTS)
        address = f"{street}, {rnd.randint(1, 3000)}"
        owners.append((contract_id, how_many, customer_id, f"{address}, {district} - {city_name}/{state}"))
        for n in range(how_many):
            roll = rnd.random()
            status = "active" if roll < 0.85 else ("suspended" if roll < 0.95 else "cancelled")
            activated = today - dt.timedelta(days=rnd.randint(30, 2000))
            rows_contract.append((
                contract_id, customer_id, f"BC{contract_id:010d}", rnd.choice(plans), f"bench{contract_id}", status,
                city_id, address, district, f"{rnd.randint(1000000, 99999999):08d}", activated,
                today - dt.timedelta(days=rnd.randint(1, 29)) if status == "cancelled" else None, moment,
            ))
            contract_id += 1
        customer_id += 1
    _write(session, "customer", ("id", "person_type", "name", "trade_name", "document", "birth_date", "group_id",
                                 "active", "created_at"), rows_customer)
    _write(session, "customer_phone", ("id", "customer_id", "number", "kind", "is_primary"), rows_phone)
    _write(session, "customer_email", ("id", "customer_id", "email", "is_primary"), rows_email)
    _write(session, "contract", ("id", "customer_id", "number", "plan_id", "login", "status", "city_id", "street",
                                 "district", "zip_code", "activated_at", "cancelled_at", "created_at"), rows_contract)
    counts.update(customers=len(rows_customer), phones=len(rows_phone), emails=len(rows_email),
                  contracts=len(rows_contract))
    return owners


def _write(session: Session, table: str, columns: Sequence[str], rows: Iterable[tuple]) -> int:
    with _Loader(session, table, columns) as loader:
        for row in rows:
            loader.write(row)
    return loader.count


def _day_counts(total: int, days: list[dt.date]) -> list[int]:
    """Spread `total` over the days, fewer on weekends, summing exactly to `total`."""
    weights = [0.45 if d.weekday() == 6 else 0.7 if d.weekday() == 5 else 1.0 for d in days]
    scale = total / sum(weights)
    raw = [w * scale for w in weights]
    counts = [int(r) for r in raw]
    order = sorted(range(len(days)), key=lambda i: raw[i] - counts[i], reverse=True)
    for i in order[: total - sum(counts)]:
        counts[i] += 1
    return counts


def _sequences(session: Session, days: list[dt.date]) -> dict[dt.date, int]:
    rows = session.execute(
        sa.text("SELECT day, last_value FROM protocol_sequence WHERE day >= :a AND day <= :b"),
        {"a": days[0], "b": days[-1]},
    )
    found = {}
    for day, last in rows:
        if isinstance(day, str):
            day = dt.date.fromisoformat(day[:10])
        found[day] = int(last)
    return found


def _save_sequences(session: Session, last: dict[dt.date, int]) -> None:
    table = Model.metadata.tables["protocol_sequence"]
    if _pg(session):
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    stmt = insert(table)
    stmt = stmt.on_conflict_do_update(index_elements=["day"], set_={"last_value": stmt.excluded.last_value})
    rows = [{"day": day, "last_value": value} for day, value in sorted(last.items())]
    if rows:
        session.execute(stmt, rows)


TICKET_COLUMNS = (
    "id", "protocol", "type", "customer_id", "contract_id", "subject_id", "department_id", "priority_id", "channel_id",
    "direction", "status_id", "sub_status_id", "closing_reason_id", "opening_description", "closing_description",
    "service_address", "received_at", "opened_at", "due_at", "closed_at", "updated_at", "is_draft", "rating",
    "opened_by_id", "cancelled_by_id", "cancel_reason", "version", "registered_at", "legal_due_at",
)


def _load_tickets(session: Session, rnd: random.Random, ref: dict[str, Any], total: int,
                  owners: list[tuple[int, int, int, str]], moment: dt.datetime, counts: dict[str, int],
                  say: Callable[[str], None]) -> None:
    today = moment.date()
    days = [today - dt.timedelta(days=DAYS - 1 - i) for i in range(DAYS)]
    per_day = _day_counts(total, days)
    sequences = _sequences(session, days)
    ticket_id = _next_id(session, "ticket")
    event_id = _next_id(session, "ticket_event")
    order_id = _next_id(session, "service_order")
    statuses = ref["statuses"]
    subjects = ref["subjects"] or [(None, 24, None, None, False)]
    channels, departments, priorities = ref["channels"], ref["departments"] or [None], ref["priorities"] or [None]
    reasons, sub_statuses, os_types = ref["reasons"] or [None], ref["sub_statuses"], ref["os_types"]
    agents, technicians = ref["agents"], ref["technicians"]
    random_, choice, randrange = rnd.random, rnd.choice, rnd.randrange
    hour = dt.timedelta(hours=1)
    legal_days = dt.timedelta(days=LEGAL_ANSWER_DAYS)
    n_owners = len(owners)
    events: list[tuple] = []
    assignees: list[tuple] = []
    orders: list[tuple] = []
    last_values: dict[dt.date, int] = {}
    midnight_now = (moment - dt.datetime.combine(today, dt.time())).total_seconds()
    with _Loader(session, "ticket", TICKET_COLUMNS) as loader:
        for day, count in zip(days, per_day):
            if not count:
                continue
            sequence = sequences.get(day, 0)
            if sequence + count > MAX_SEQUENCE:
                raise RuntimeError(f"O dia {day:%d/%m/%Y} passaria de {MAX_SEQUENCE} protocolos.")
            age = (today - day).days
            mix = OLD_MIX if age > 14 else RECENT_MIX
            span = max(1, int(midnight_now)) if day == today else 86_400
            start = dt.datetime.combine(day, dt.time())
            prefix = f"{day:%Y%m%d}"
            for second in sorted(randrange(span) for _ in range(count)):
                sequence += 1
                opened = start + dt.timedelta(seconds=second)
                roll = random_()
                category = ("new" if roll < mix[0] else "pending" if roll < mix[1] else
                            "in_progress" if roll < mix[2] else "resolved" if roll < mix[3] else "cancelled")
                subject_id, sla, dept, prio, needs_contract = choice(subjects)
                first_contract, n_contracts, customer_id, address = owners[randrange(n_owners)]
                if needs_contract or random_() < 0.8:
                    contract_id = first_contract + (randrange(n_contracts) if n_contracts > 1 else 0)
                    service_address = address
                else:
                    contract_id = service_address = None
                agent = choice(agents)
                closed = closing = reason = rating = cancelled_by = cancel_reason = sub_status = None
                if category in ("resolved", "cancelled"):
                    closed = min(opened + dt.timedelta(minutes=randrange(20, 4320)), moment)
                    if category == "resolved":
                        closing, reason = choice(CLOSINGS), choice(reasons)
                        rating = randrange(1, 6) if random_() < 0.3 else None
                    else:
                        cancelled_by, cancel_reason = agent, choice(CANCEL_REASONS)
                elif category == "pending" and random_() < 0.5:
                    sub_status = choice(sub_statuses)
                is_draft = category == "new" and random_() < 0.05
                loader.write((
                    ticket_id, f"{prefix}{sequence:0{SEQUENCE_DIGITS}d}", "customer", customer_id, contract_id,
                    subject_id, dept or choice(departments), prio or choice(priorities),
                    choice(channels) if channels else None, "outbound" if random_() < 0.1 else "inbound",
                    choice(statuses[category]), sub_status, reason, choice(OPENINGS), closing, service_address,
                    opened, opened, opened + sla * hour, closed, closed, is_draft, rating, agent, cancelled_by,
                    cancel_reason, 1, None if is_draft else opened, None if is_draft else opened + legal_days,
                ))
                events.append((event_id, ticket_id, opened, agent, "created", "Atendimento iniciado"))
                event_id += 1
                if not is_draft and random_() < 0.5:
                    assignees.append((ticket_id, agent))
                    if random_() < 0.1:
                        other = choice(agents)
                        if other != agent:
                            assignees.append((ticket_id, other))
                if not is_draft and random_() < 0.1:
                    orders.append(_order(order_id, ticket_id, category, opened, closed, service_address, agent,
                                         choice(technicians), choice(os_types), moment, rnd))
                    order_id += 1
                ticket_id += 1
            last_values[day] = sequence
            if loader.count // 100_000 != (loader.count - count) // 100_000:
                say(f"{loader.count} atendimentos")
    counts["tickets"] = loader.count
    say(f"{loader.count} atendimentos gravados")
    _save_sequences(session, last_values)
    counts["events"] = _write(session, "ticket_event",
                              ("id", "ticket_id", "created_at", "user_id", "kind", "note"), events)
    del events
    say(f"{counts['events']} movimentações")
    counts["assignees"] = _write(session, "ticket_assignee", ("ticket_id", "user_id"), assignees)
    say(f"{counts['assignees']} responsáveis")
    counts["service_orders"] = _write(session, "service_order", (
        "id", "ticket_id", "type_id", "status", "technician_id", "scheduled_start", "scheduled_end", "address",
        "description", "closing_notes", "opened_at", "started_at", "closed_at", "created_by_id"), orders)
    say(f"{counts['service_orders']} ordens de serviço")


def _order(order_id: int, ticket_id: int, category: str, opened: dt.datetime, closed: Optional[dt.datetime],
           address: Optional[str], creator: int, technician: int, type_id: Optional[int], moment: dt.datetime,
           rnd: random.Random) -> tuple:
    start = (opened + dt.timedelta(hours=rnd.randint(2, 48))).replace(minute=0, second=0)
    end = start + dt.timedelta(hours=2)
    notes = started = finished = None
    if category == "resolved":
        status, notes, started, finished = "done", "Serviço executado; conexão normalizada.", start, max(closed, min(end, moment))
    elif category == "cancelled":
        status, finished = "cancelled", closed
    elif end < moment:
        status, started = "in_progress", start
    else:
        status = rnd.choice(("open", "scheduled"))
    return (order_id, ticket_id, type_id, status, technician, start, end, address, "Visita técnica para o atendimento",
            notes, opened, started, finished, creator)
