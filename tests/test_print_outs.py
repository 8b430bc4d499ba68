"""Print outs people can read: list PDF cells wrap instead of being cut; the ticket print names people and fields
in pt-BR, never by login, id or raw key (issue 9, must show 7)."""
from __future__ import annotations

import datetime as dt
import html.parser
import io
import re
from typing import Any

from tests.support import session
from tests import factories
from tests.conftest import PASSWORD

# people with names that differ from their logins, so a login in a print out is noticed
PEOPLE = {
    "mvieira": ("Mariana", "Vieira Campos", "Atendente"),
    "rcosta": ("Renata", "Costa Almeida", "Gestor"),
    "jferreira": ("Joaquim", "Ferreira Lopes", "Tecnico"),
    "lprado": ("Luíza", "Prado Nogueira", "Tecnico"),
}
FIRST = ["Maria Aparecida", "José Carlos", "Ana Beatriz", "Francisco de Assis", "Antônia Conceição",
         "João Batista", "Luíza Helena", "Sebastião Raimundo", "Raimunda Nonata", "Paulo Roberto"]
LAST = ["dos Santos", "Oliveira", "de Albuquerque", "Cavalcanti", "Nascimento", "Pereira Lima", "Guimarães",
        "Figueiredo", "Magalhães", "Vasconcelos", "Bittencourt", "Carvalho"]


def long_name(n: int) -> str:
    """A distinct customer name of 60 to 90 characters."""
    words = [FIRST[n % len(FIRST)]]
    step = 0
    while len(" ".join(words)) < 60 + (n * 7) % 25:
        words.append(LAST[(n + step * 5) % len(LAST)])
        step += 1
    name = " ".join(words)
    return f"{name} {n:02d}" if len(name) <= 87 else f"{name[:86].rstrip()} {n:02d}"


def pdf_cells(data: bytes, key: str, headers: list[str], key_pattern: str) -> dict[str, dict[str, list[str]]]:
    """The lines of each cell of a PDF table, by row key and column header, found by where each text is drawn.

    A column is the x where its header starts; a row starts where its key (e.g. a protocol) is drawn, and a cell's
    lines are the texts of its column from there down to the next row's start.
    """
    from pypdf import PdfReader

    found: dict[str, dict[str, list[str]]] = {}
    for page in PdfReader(io.BytesIO(data)).pages:
        parts: list[tuple[float, float, str]] = []

        def keep(text: str, cm: Any, tm: Any, font: Any, size: Any, parts: list = parts) -> None:
            if text.strip():
                parts.append((round(tm[4] + cm[4], 1), round(tm[5] + cm[5], 1), text.strip()))

        page.extract_text(visitor_text=keep)
        top = next(y for x, y, text in parts if text == key)
        left = {name: next(x for x, y, text in parts if abs(y - top) < 0.5 and name.startswith(text)
                           and text.split()[0] == name.split()[0]) for name in [key, *headers]}
        starts = sorted(((y, text) for x, y, text in parts
                         if abs(x - left[key]) < 0.5 and y < top - 0.5 and re.fullmatch(key_pattern, text)),
                        reverse=True)
        for _, row in starts:
            found[row] = {name: [] for name in headers}
        for name in headers:
            for x, y, text in sorted((p for p in parts if abs(p[0] - left[name]) < 0.5 and p[1] < top - 0.5),
                                     key=lambda p: -p[1]):
                owners = [row for start, row in starts if start >= y - 0.5]
                if owners:
                    found[owners[-1]][name].append(text)
    return found


def add_people(session: Any) -> dict[str, Any]:
    from app.extensions import appbuilder

    sm = appbuilder.sm
    people = {}
    for username, (first, last, role) in PEOPLE.items():
        people[username] = sm.find_user(username=username) or sm.add_user(
            username, first, last, f"{username}@example.com", sm.find_role(role), PASSWORD)
    session.commit()
    return {username: session.merge(user) for username, user in people.items()}


# ---------------------------------------------------------------- list PDFs


def test_ticket_list_pdf_shows_every_long_name_and_remaining_time_whole(app, login, users, monkeypatch):
    from app.domain import tickets
    from app.domain.clock import now
    from app.domain.sla import remaining

    when = now().replace(second=0) + dt.timedelta(minutes=1)
    monkeypatch.setattr("app.domain.ticket_exports.now", lambda: when)
    expected: dict[str, tuple[str, str]] = {}
    with session(app) as s:
        agent = s.merge(users["atendente"])
        subject = factories.subject(s, name="Lentidão na conexão")
        resolved = factories.status(s, "resolved")
        for n in range(50):
            ticket = factories.ticket(s, agent, owner=factories.customer(s, name=long_name(n)), subject=subject,
                                      opening_description=f"Cliente {n} relata lentidão à noite")
            situation = n % 5
            if situation == 0:  # overdue
                ticket.due_at = when - dt.timedelta(days=n % 3, hours=n % 7, minutes=n)
            elif situation == 1:  # due soon
                ticket.due_at = when + dt.timedelta(minutes=10 + 2 * n)
            elif situation == 2:
                ticket.due_at = when + dt.timedelta(days=n % 4, hours=3 + n % 5)
            else:  # closed within or past the deadline
                ticket.status = resolved
                ticket.closing_description = "Conexão normalizada"
                ticket.closed_at = when - dt.timedelta(hours=1)
                ticket.due_at = when + dt.timedelta(hours=2) if situation == 3 else when - dt.timedelta(hours=3)
            tickets.update_ticket(s, ticket, agent)
            s.commit()
            text = remaining(ticket.due_at, ticket.status.category, ticket.closed_at, when)["text"]
            expected[ticket.protocol] = (ticket.customer.name, text)
    names = [name for name, _ in expected.values()]
    assert len(set(names)) == 50 and all(60 <= len(name) <= 90 for name in names)
    states = {text.split(" ")[0] for _, text in expected.values()}
    assert {"Vencido", "Dentro", "Fora"} <= states and any("min" in text for _, text in expected.values())

    response = login("gestor").post("/exportar/tickets/pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    cells = pdf_cells(response.data, "Protocolo", ["Cliente", "Tempo restante"], r"\d{14}")
    assert set(cells) == set(expected)
    for protocol, (name, text) in expected.items():
        assert " ".join(cells[protocol]["Cliente"]) == name, protocol
        assert " ".join(cells[protocol]["Tempo restante"]) == text, protocol
    assert sum(len(row["Cliente"]) > 1 for row in cells.values()) >= 25  # the long names did wrap
    plain = factories.pdf_text(response.data)
    assert "…" not in plain
    assert "Total: 50 registros" in plain

    # every field of the ticket: a smaller font, narrow cells that may split a long word, still nothing cut
    response = login("gestor").post("/exportar/tickets/pdf?layout=completo")
    cells = pdf_cells(response.data, "Protocolo", ["Cliente", "Tempo restante"], r"\d{14}")
    assert set(cells) == set(expected)
    for protocol, (name, text) in expected.items():
        assert "".join(cells[protocol]["Cliente"]).replace(" ", "") == name.replace(" ", ""), protocol
        assert " ".join(cells[protocol]["Tempo restante"]) == text, protocol


def test_service_order_list_pdf_wraps_customer_and_description(app, login, users):
    from app.domain import service_orders
    from app.models import ServiceOrder

    description = "Trocar a ONU e o cabo drop do poste até a casa; " * 4
    expected = {}
    with session(app) as s:
        agent = s.merge(users["atendente"])
        for n in range(6):
            ticket = factories.ticket(s, agent, owner=factories.customer(s, name=long_name(n)))
            service_orders.create_service_order(s, ServiceOrder(ticket=ticket, description=f"{description}{n}"), agent)
            s.commit()
            expected[ticket.protocol] = (long_name(n), f"{description}{n}")
    response = login("gestor").post("/exportar/service_orders/pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    cells = pdf_cells(response.data, "Protocolo", ["Cliente", "Descrição"], r"\d{14}")
    assert set(cells) == set(expected)
    for protocol, (name, text) in expected.items():
        assert " ".join(cells[protocol]["Cliente"]) == name
        assert " ".join(cells[protocol]["Descrição"]) == " ".join(text.split())
    assert "…" not in factories.pdf_text(response.data)


def test_wrap_breaks_at_spaces_and_splits_only_words_wider_than_the_cell(app):
    from fpdf import FPDF

    from app.domain.exports import FONT, FONT_DIR, text_width, wrap

    pdf = FPDF()
    pdf.add_font(FONT, "", f"{FONT_DIR}/DejaVuSans.ttf")
    pdf.set_font(FONT, "", 7)
    text = "Rua Doutor Antônio Bento de Albuquerque Sobrinho, 1234 " + "x" * 80 + " fim"
    lines = wrap(pdf, text, 30)
    assert len(lines) > 3 and all(text_width(pdf, line) <= 30 for line in lines)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")
    assert " ".join(lines[:2]).startswith("Rua Doutor Antônio Bento")
    assert lines[-1].endswith("fim")
    assert wrap(pdf, "curto", 30) == ["curto"] and wrap(pdf, "", 30) == []


def test_a_row_taller_than_a_page_continues_on_the_next_ones(app):
    from app.domain.exports import ExportColumn, write_pdf

    columns = [ExportColumn("Protocolo", sample="20260101000000"), ExportColumn("Descrição", width=40)]
    words = [f"palavra{n:04d}" for n in range(2500)]
    buffer = io.BytesIO()
    with app.app_context():
        assert write_pdf(buffer, "Atendimentos", "Sem filtros", columns,
                         [("20261127000001", " ".join(words)), ("20261127000002", "curta")]) == 2
    text = factories.pdf_text(buffer.getvalue())
    pages = text.count("\f")
    assert pages >= 3 and text.count("Protocolo") == pages
    found = re.findall(r"palavra\d{4}", text)
    assert found == words
    assert "20261127000002" in text and "curta" in text and "…" not in text


# ---------------------------------------------------------------- ticket print


def full_history_ticket(app: Any) -> dict[str, Any]:
    """A ticket with history of every kind: opening, grouping, field changes (people too), messages, attachment,
    service order opened and changed, knowledge article, complaint, reiteration, mass close, reopening, cancelling."""
    from app.domain import actions, attachments, history, messages, service_orders, ticket_mass, tickets
    from app.domain.clock import now
    from app.models import KnowledgeArticle, Priority, ServiceOrder, ServiceOrderType, TicketMessage

    with session(app) as s:
        people = add_people(s)
        agent, manager = people["mvieira"], people["rcosta"]
        subject = factories.subject(s, name="Sem conexão")
        address = "Rua das Palmeiras, 100 - Centro"
        factories.ticket(s, agent, owner=factories.customer(s, name="Condomínio Solar das Palmeiras"),
                         subject=subject, service_address=address)  # the open ticket the next one is grouped with
        owner = factories.customer(s, name="Cooperativa Agropecuária do Vale do Ribeira")
        ticket = factories.ticket(s, agent, owner=owner, subject=subject, service_address=address,
                                  opening_description="Cliente sem conexão desde ontem")
        urgent = s.query(Priority).order_by(Priority.id.desc()).first()
        ticket.assignees = [agent, manager]
        ticket.direction = "outbound"
        ticket.priority = urgent
        ticket.due_at = now() - dt.timedelta(hours=5)
        ticket.rating = 4
        tickets.update_ticket(s, ticket, manager)
        s.commit()
        ticket.assignees = [agent]
        tickets.update_ticket(s, ticket, manager)
        s.commit()
        messages.add_message(s, TicketMessage(ticket=ticket, body="Técnico agendado para amanhã",
                                              is_internal=False), agent)
        messages.add_message(s, TicketMessage(ticket=ticket, body="Cliente exaltado ao telefone",
                                              is_internal=True), manager)
        attachments.add_attachment(s, ticket, agent, "Foto do roteador.png",
                                   io.BytesIO(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64), app.config["UPLOAD_FOLDER"])
        visit, repair = ServiceOrderType(name="Vistoria de rede", active=True), ServiceOrderType(name="Reparo de fibra",
                                                                                                active=True)
        s.add_all([visit, repair])
        s.flush()
        order = service_orders.create_service_order(
            s, ServiceOrder(ticket=ticket, type=visit, technician=people["jferreira"], description="Trocar ONU"),
            agent)
        s.commit()
        order.type, order.technician, order.status = repair, people["lprado"], "scheduled"
        order.scheduled_start = now().replace(second=0) + dt.timedelta(days=1)
        order.scheduled_end = order.scheduled_start + dt.timedelta(hours=2)
        service_orders.update_service_order(s, order, manager)
        s.commit()
        order.status, order.closing_notes = "done", "ONU trocada"
        service_orders.update_service_order(s, order, people["lprado"])
        s.commit()
        article = KnowledgeArticle(title="Como reiniciar a ONU", solution="Desligue por 30 segundos.", active=True)
        s.add(article)
        s.flush()
        history.record(s, ticket, agent, "action", field="article", new=article.title,
                       note="Artigo da base de conhecimento utilizado")
        actions.complaint(s, ticket, agent, "Cliente reclama da demora")
        actions.reiterate(s, ticket, agent, "Cliente liga de novo informando o mesmo problema")
        s.commit()
        result = ticket_mass.mass_close(s, manager, [ticket.id], "Conexão restabelecida", None, None)
        assert result.refused == [] and len(result.done) == 1, result
        s.commit()
        actions.reopen(s, ticket, manager, "Voltou a cair")
        s.commit()
        actions.cancel(s, ticket, manager, "Cliente desistiu do atendimento")
        s.commit()
        kinds = {(e.kind, e.field) for e in ticket.events}
        return {"id": ticket.id, "protocol": ticket.protocol, "kinds": kinds,
                "ids": {str(people["jferreira"].id), str(people["lprado"].id), str(visit.id), str(repair.id)}}


class VisibleText(html.parser.HTMLParser):
    """The text a person sees on a page: no tags, scripts or styles."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        self.hidden += tag in ("script", "style")

    def handle_endtag(self, tag: str) -> None:
        self.hidden -= tag in ("script", "style")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)


def visible_text(page: str) -> str:
    parser = VisibleText()
    parser.feed(page)
    return " ".join(" ".join(parser.parts).split())


def raw_identifiers() -> list[str]:
    """What must never be printed: model keys, event kinds, logins, Python literals."""
    from app.domain.history import EVENT_KINDS
    from app.domain.service_orders import TRACKED
    from app.domain.ticket_fields import FIELD_LABELS

    keys = set(FIELD_LABELS) | set(EVENT_KINDS) | {f"service_order.{name}" for name in TRACKED} | set(TRACKED)
    return sorted(keys | set(PEOPLE) | {"None", "True", "False", "service_order"})


def leaks(text: str) -> list[str]:
    return [word for word in raw_identifiers() if re.search(rf"(?<![\w.]){re.escape(word)}(?![\w.])", text)]


def test_every_recorded_history_key_has_a_label():
    """Keys written by history.record anywhere in the app, and the ticket and OS fields it tracks, all have labels."""
    import pathlib

    from app.domain import tickets
    from app.domain.service_orders import TRACKED
    from app.domain.ticket_fields import FIELD_LABELS

    root = pathlib.Path(__file__).resolve().parents[1] / "app"
    recorded = set()
    for path in root.rglob("*.py"):
        recorded |= set(re.findall(r"""record\([^)]*?field=["']([\w.]+)["']""", path.read_text(), re.DOTALL))
    tracked = set(tickets.COLUMNS) | set(tickets.RELATIONS) | {"assignees"} | {f"service_order.{n}" for n in TRACKED}
    assert {"cancel", "reopen", "service_order"} <= recorded
    assert sorted((recorded | tracked) - set(FIELD_LABELS)) == []


def test_history_line_on_the_screen_has_no_raw_key(app):
    from app.domain.history import describe
    from app.models import TicketEvent

    with app.test_request_context():
        line = describe(TicketEvent(kind="service_order", field="service_order", note="OS 7 aberta"))
        assert line == "Ordem de serviço — Abertura da OS — OS 7 aberta"
        assert describe(TicketEvent(kind="action", field="reiterate")) == "Ação — Reiteração"
        assert describe(TicketEvent(kind="service_order", field="service_order.status")).endswith("Situação da OS")
        assert describe(TicketEvent(kind="unknown_kind", field="unknown_field", note="Nota")) == "Nota"


def test_ticket_print_names_people_and_fields_in_portuguese(app, login):
    from app.domain.printing import ticket_print_data

    t = full_history_ticket(app)
    for kind in [("created", None), ("field", "assignees"), ("field", "due_at"), ("message", None),
                 ("attachment", None), ("service_order", "service_order"),
                 ("service_order", "service_order.technician_id"), ("service_order", "service_order.type_id"),
                 ("service_order", "service_order.status"), ("action", "article"), ("action", "complaint"),
                 ("action", "reiterate"), ("action", "mass_close"), ("action", "reopen"), ("action", "cancel"),
                 ("action", "grouped_with")]:
        assert kind in t["kinds"], kind

    from app.extensions import appbuilder

    with app.test_request_context(), session(app) as s:
        data = ticket_print_data(s, appbuilder.sm.find_user(username="rcosta"), t["id"])
    strings = [data["printed_by"], *(v for pair in data["fields"] for v in pair)]
    for group in ("history", "messages", "attachments", "service_orders"):
        strings += [value for row in data[group] for value in row.values()]
    assert leaks("\n".join(strings)) == []
    for row in data["history"]:
        assert row["what"] and row["old"] not in t["ids"] and row["new"] not in t["ids"], row
    history = {row["what"]: row for row in data["history"]}
    assert history["Ordem de serviço: Técnico da OS"]["old"] == "Joaquim Ferreira Lopes"
    assert history["Ordem de serviço: Técnico da OS"]["new"] == "Luíza Prado Nogueira"
    assert history["Ordem de serviço: Tipo de OS"]["new"] == "Reparo de fibra"
    assert history["Ordem de serviço: Situação da OS"]["new"] == "Finalizada"
    assert history["Ordem de serviço: Abertura da OS"]["note"].startswith("OS ")
    changes = [row for row in data["history"] if row["what"] == "Alteração: Usuários responsáveis"]
    assert [(row["old"], row["new"]) for row in changes] == [
        ("", "Mariana Vieira Campos, Renata Costa Almeida"), ("Mariana Vieira Campos, Renata Costa Almeida",
                                                              "Mariana Vieira Campos")]
    for what in ("Ação: Cancelamento", "Ação: Reiteração", "Ação: Reclamação", "Ação: Reabertura",
                 "Ação: Agrupamento", "Ação: Artigo da base de conhecimento", "Ação: Fechamento em massa"):
        assert what in history, what

    client = login("rcosta")
    page = client.get(f"/ticketprint/{t['id']}")
    assert page.status_code == 200
    text = visible_text(page.get_data(as_text=True))
    assert leaks(text) == []
    for name in ("Mariana Vieira Campos", "Renata Costa Almeida", "Joaquim Ferreira Lopes", "Luíza Prado Nogueira"):
        assert name in text, name
    assert "Emitido em" in text and "por Renata Costa Almeida" in text
    assert "Ordem de serviço: Abertura da OS" in text and "Cancelado por Renata Costa Almeida" in text
    for english in ("Print", "Download", "History", "User", "Date", "Message", "Attachment"):
        assert not re.search(rf"\b{english}\b", text), english

    response = client.get(f"/ticketprint/{t['id']}/pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    from pypdf import PdfReader

    layout = factories.pdf_text(response.data)
    plain = " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages).split())
    assert leaks(layout) == [] and leaks(plain) == []
    for name in ("Mariana Vieira Campos", "Renata Costa Almeida", "Joaquim Ferreira Lopes", "Luíza Prado Nogueira",
                 "Cooperativa Agropecuária do Vale do Ribeira"):
        assert name in plain, name
