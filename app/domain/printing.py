"""A ticket on paper: one dict of printable data, rendered as HTML (print page) and as a PDF (fpdf2)."""
from __future__ import annotations

import os
import re
from typing import Any

from flask_babel import format_decimal, gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

from app.domain.access import can_see_ticket
from app.domain.clock import now
from app.domain.documents import format_document
from app.domain.errors import NotAllowed
from app.domain.history import EVENT_KINDS
from app.domain.labels import choice_label
from app.domain.ticket_fields import FIELD_LABELS, field_label, history_values, person_name
from app.formatting import format_date
from app.models import Attachment, ServiceOrder, Ticket, TicketEvent, TicketMessage

FONT_DIR = os.path.join(os.path.dirname(os.path.dirname(__file__)), "fonts")
FONT = "DejaVu"
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def _text(value: Any) -> str:
    """A printable string: no None, no control characters, Unix line ends."""
    if value is None:
        return ""
    text = str(value).replace("\r\n", "\n").replace("\r", "\n").replace("\t", "    ")
    return _CONTROL.sub("", text)


def _user(user: Any) -> str:
    return _text(person_name(user))


def ticket_print_data(session: Session, user: Any, ticket_id: int) -> dict[str, Any]:
    """Gather everything printed about a ticket, only for a user who may see it.

    Returns plain strings (already pt-BR and formatted), so the HTML page and the PDF show the same.
    """
    if not can_see_ticket(session, user, ticket_id):
        raise NotAllowed(_("Atendimento não encontrado ou sem permissão."))
    ticket = session.scalar(
        select(Ticket)
        .where(Ticket.id == ticket_id)
        .options(
            joinedload(Ticket.customer), joinedload(Ticket.contract), joinedload(Ticket.site),
            joinedload(Ticket.subject), joinedload(Ticket.department), joinedload(Ticket.priority),
            joinedload(Ticket.channel), joinedload(Ticket.status), joinedload(Ticket.sub_status),
            joinedload(Ticket.closing_reason), joinedload(Ticket.opened_by), joinedload(Ticket.cancelled_by),
            joinedload(Ticket.related_ticket), selectinload(Ticket.assignees),
        )
    )
    if ticket is None:
        raise NotAllowed(_("Atendimento não encontrado ou sem permissão."))

    customer = ticket.customer
    contract = ticket.contract
    fields: list[tuple[str, str]] = [
        (_("Protocolo"), ticket.protocol),
        (_("Tipo"), choice_label("type", ticket.type)),
    ]
    if customer is not None:
        fields.append((_("Cliente"), _text(customer.name)))
        fields.append((_("CPF/CNPJ"), format_document(customer.document)))
    if ticket.site is not None:
        fields.append((str(FIELD_LABELS["site"]), _text(ticket.site)))
    if contract is not None:
        login = f" — {_('Login')}: {contract.login}" if contract.login else ""
        fields.append((str(FIELD_LABELS["contract"]), _text(contract) + login))
    fields += [
        (str(FIELD_LABELS["service_address"]), _text(ticket.service_address)),
        (str(FIELD_LABELS["subject"]), _text(ticket.subject)),
        (str(FIELD_LABELS["department"]), _text(ticket.department)),
        (str(FIELD_LABELS["priority"]), _text(ticket.priority)),
        (str(FIELD_LABELS["channel"]), _text(ticket.channel)),
        (str(FIELD_LABELS["direction"]), choice_label("direction", ticket.direction)),
        (str(FIELD_LABELS["status"]), _text(ticket.status)),
        (str(FIELD_LABELS["sub_status"]), _text(ticket.sub_status)),
        (str(FIELD_LABELS["closing_reason"]), _text(ticket.closing_reason)),
        (_("Data de abertura"), format_date(ticket.opened_at)),
        (str(FIELD_LABELS["received_at"]), format_date(ticket.received_at)),
        (str(FIELD_LABELS["due_at"]), format_date(ticket.due_at)),
        (str(FIELD_LABELS["closed_at"]), format_date(ticket.closed_at)),
        (_("Aberto por"), _user(ticket.opened_by)),
        (str(FIELD_LABELS["assignees"]), ", ".join(_user(u) for u in ticket.assignees)),
    ]
    if ticket.is_draft:
        fields.append((str(FIELD_LABELS["is_draft"]), _("Sim")))
    if ticket.related_ticket is not None:
        fields.append((str(FIELD_LABELS["related_ticket"]), ticket.related_ticket.protocol))
    if ticket.rating:
        fields.append((str(FIELD_LABELS["rating"]), str(ticket.rating)))
    if ticket.cancelled_by is not None or ticket.cancel_reason:
        fields.append((_("Cancelado por"), _user(ticket.cancelled_by)))
        fields.append((str(FIELD_LABELS["cancel_reason"]), _text(ticket.cancel_reason)))

    descriptions = [
        (str(FIELD_LABELS["opening_description"]), _text(ticket.opening_description)),
        (str(FIELD_LABELS["closing_description"]), _text(ticket.closing_description)),
    ]

    events = session.scalars(
        select(TicketEvent).where(TicketEvent.ticket_id == ticket.id)
        .options(joinedload(TicketEvent.user)).order_by(TicketEvent.created_at, TicketEvent.id)
    ).all()
    history = []
    for e, (old, new) in zip(events, history_values(session, events)):
        kind, field = _text(EVENT_KINDS.get(e.kind, "")), _text(field_label(e.field))
        history.append({
            "when": format_date(e.created_at),
            "user": _user(e.user),
            "kind": kind,
            "field": field,
            "what": ": ".join(part for part in (kind, field) if part),
            "old": _text(old),
            "new": _text(new),
            "note": _text(e.note),
        })
    messages = [
        {
            "when": format_date(m.created_at),
            "author": _user(m.author),
            "visibility": _("Nota interna") if m.is_internal else _("Mensagem ao cliente"),
            "body": _text(m.body),
        }
        for m in session.scalars(
            select(TicketMessage).where(TicketMessage.ticket_id == ticket.id)
            .options(joinedload(TicketMessage.author)).order_by(TicketMessage.created_at, TicketMessage.id)
        )
    ]
    attachments = [
        {
            "filename": _text(a.filename),
            "size": f"{format_decimal(a.size / 1024, format='#,##0.0')} KB",
            "when": format_date(a.created_at),
            "user": _user(a.uploaded_by),
        }
        for a in session.scalars(
            select(Attachment).where(Attachment.ticket_id == ticket.id)
            .options(joinedload(Attachment.uploaded_by)).order_by(Attachment.id)
        )
    ]
    orders = [
        {
            "number": str(o.id),
            "type": _text(o.type),
            "status": choice_label("service_order_status", o.status),
            "technician": _user(o.technician),
            "opened_at": format_date(o.opened_at),
            "description": _text(o.description),
        }
        for o in session.scalars(
            select(ServiceOrder).where(ServiceOrder.ticket_id == ticket.id)
            .options(joinedload(ServiceOrder.type), joinedload(ServiceOrder.technician)).order_by(ServiceOrder.id)
        )
    ]
    return {
        "id": ticket.id,
        "protocol": ticket.protocol,
        "title": _("Atendimento %(protocol)s", protocol=ticket.protocol),
        "customer_name": _text(customer.name) if customer is not None else _text(ticket.site),
        "status": _text(ticket.status),
        "fields": fields,
        "descriptions": descriptions,
        "history": history,
        "messages": messages,
        "attachments": attachments,
        "service_orders": orders,
        "printed_at": format_date(now()),
        "printed_by": _user(user),
    }


def pdf_filename(data: dict[str, Any]) -> str:
    return f"atendimento-{data['protocol']}.pdf"


LINE = 4.0  # mm from one line of 8 pt text to the next
PAD = 1.0  # mm of padding in a table cell
HISTORY_VALUE_MAX = 300  # characters of a history value in the PDF: the full texts are printed in their own sections


def a4_pdf(title: str, subtitle: str, footer: str, margin: float) -> Any:
    """A portrait A4 document with a Unicode font (pt-BR accents), the title and subtitle atop every page and the
    footer with "Página n de N" at its foot; the caller breaks pages itself (auto page break off)."""
    from fpdf import FPDF

    class Document(FPDF):
        def header(self) -> None:
            self.set_font(FONT, "B", 12)
            self.cell(0, 7, title, new_x="LMARGIN", new_y="NEXT")
            self.set_font(FONT, "", 8)
            self.set_text_color(90, 90, 90)
            self.cell(0, 5, subtitle, new_x="LMARGIN", new_y="NEXT")
            self.set_text_color(0, 0, 0)
            self.set_draw_color(150, 150, 150)
            self.line(self.l_margin, self.get_y() + 1, self.w - self.r_margin, self.get_y() + 1)
            self.ln(4)

        def footer(self) -> None:
            self.set_y(-12)
            self.set_font(FONT, "", 7)
            self.set_text_color(90, 90, 90)
            self.cell(0, 5, footer, align="L")
            self.set_x(self.l_margin)
            self.cell(0, 5, _("Página %(page)d de %(total)s", page=self.page_no(), total="{nb}"), align="R")
            self.set_text_color(0, 0, 0)

    pdf = Document(orientation="portrait", unit="mm", format="A4")
    pdf.set_title(title)
    pdf.set_author("Atende")
    pdf.set_creator("Atende")
    pdf.set_margins(margin, 12, margin)
    pdf.set_auto_page_break(False)
    pdf.add_font(FONT, "", os.path.join(FONT_DIR, "DejaVuSans.ttf"))
    pdf.add_font(FONT, "B", os.path.join(FONT_DIR, "DejaVuSans-Bold.ttf"))
    pdf.add_page()
    return pdf


def build_pdf(data: dict[str, Any]) -> bytes:
    """Render the printable data as an A4 PDF with a Unicode font (pt-BR accents).

    Text is wrapped once per cell with the font's widths (app.domain.exports.wrap) and drawn line by line, so a
    ticket with every text at its limit prints in well under two seconds; a row taller than a page goes on over the
    next ones, its headings repeated."""

    from app.domain.exports import wrap

    header_text = _("Atendimento — Protocolo %(protocol)s", protocol=data["protocol"])
    footer_left = _("Emitido em %(when)s por %(user)s", when=data["printed_at"], user=data["printed_by"])

    subtitle = _text(data["customer_name"])[:150] + (f" — {data['status']}" if data["status"] else "")
    pdf = a4_pdf(header_text, subtitle, footer_left, margin=12)
    bottom = pdf.h - 16

    def room(height: float) -> None:
        """A new page when the next ``height`` mm do not fit on this one."""
        if pdf.get_y() + height > bottom:
            pdf.add_page()

    def section(title: str) -> None:
        room(6 + 3 * LINE)
        pdf.ln(3)
        pdf.set_font(FONT, "B", 10)
        pdf.cell(0, 6, title, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(FONT, "", 8)

    def paragraph(text: str) -> None:
        for part in (text or "—").split("\n"):
            for line in wrap(pdf, part, pdf.epw) or [""]:
                room(LINE)
                pdf.text(pdf.l_margin, pdf.get_y() + LINE - 1, line)
                pdf.set_y(pdf.get_y() + LINE)

    def table(headings: list[str], rows: list[list[str]], widths: tuple[int, ...], bold_first: bool = False) -> None:
        """Rows of wrapped cells under repeated headings; the columns share the page width in these proportions."""
        sizes = [width * pdf.epw / sum(widths) for width in widths]
        styles = ["B" if bold_first and index == 0 else "" for index in range(len(widths))]

        def font(style: str) -> None:
            if pdf.font_style != style:
                pdf.set_font(FONT, style, 8)

        def lines_of(values: list[str], bold: bool = False) -> list[list[str]]:
            found = []
            for value, size, style in zip(values, sizes, styles):
                font("B" if bold else style)
                found.append([line for part in (value or "").split("\n") for line in wrap(pdf, part, size - 2 * PAD)])
            font("")
            return found

        def draw(cells: list[list[str]], start: int, stop: int, bold: bool = False) -> None:
            y, x = pdf.get_y(), pdf.l_margin
            height = (stop - start) * LINE + PAD
            if bold:
                pdf.set_fill_color(230, 230, 230)
                pdf.rect(pdf.l_margin, y, pdf.epw, height, style="F")
                pdf.set_fill_color(0, 0, 0)  # text() wraps every string in a colour change unless fill == text colour
            for lines, size, style in zip(cells, sizes, styles):
                font("B" if bold else style)
                for index, line in enumerate(lines[start:stop]):
                    pdf.text(x + PAD, y + PAD + (index + 1) * LINE - 1, line)
                x += size
            font("")
            pdf.set_draw_color(200, 200, 200)
            pdf.line(pdf.l_margin, y + height, pdf.l_margin + pdf.epw, y + height)
            pdf.set_y(y + height)

        head = lines_of(headings, bold=True) if headings else []
        head_lines = max(map(len, head), default=0)

        def new_page() -> None:
            pdf.add_page()
            if head:
                draw(head, 0, head_lines, bold=True)

        if head:
            room((head_lines + 2) * LINE + 2 * PAD)
            draw(head, 0, head_lines, bold=True)
        capacity = max(int((bottom - pdf.t_margin - 20 - head_lines * LINE - PAD) // LINE), 1)
        for values in rows:
            cells = lines_of([value or ("—" if bold_first else "") for value in values])
            total, start = max(max(map(len, cells)), 1), 0
            while True:
                fits = int((bottom - pdf.get_y() - PAD) // LINE)
                if total - start <= fits:
                    draw(cells, start, total)
                    break
                if total - start <= capacity and start == 0:
                    new_page()  # the row moves whole to the next page
                    continue
                if fits > 0:
                    draw(cells, start, start + fits)  # a row taller than a page goes on over the next ones
                    start += fits
                new_page()

    section(_("Dados do atendimento"))
    table([], [[label, value] for label, value in data["fields"]], (32, 68), bold_first=True)

    for label, value in data["descriptions"]:
        section(label)
        paragraph(value)

    def short(value: str) -> str:
        return value if len(value) <= HISTORY_VALUE_MAX else value[:HISTORY_VALUE_MAX].rstrip() + " […]"

    section(_("Histórico (%(count)d movimentações)", count=len(data["history"])))
    table(
        [_("Data"), _("Usuário"), _("Movimentação"), _("Valor anterior"), _("Novo valor"), _("Observação")],
        [[h["when"], h["user"], h["what"], short(h["old"]), short(h["new"]), short(h["note"])]
         for h in data["history"]],
        (17, 15, 19, 19, 19, 16),
    )

    section(_("Mensagens"))
    for message in data["messages"]:  # the whole width for the text: a long message reads like a letter
        room(3 * LINE)
        pdf.set_font(FONT, "B", 8)
        paragraph(" — ".join(part for part in (message["when"], message["author"], message["visibility"]) if part))
        pdf.set_font(FONT, "", 8)
        paragraph(message["body"])
        pdf.set_draw_color(200, 200, 200)
        pdf.line(pdf.l_margin, pdf.get_y() + 1, pdf.l_margin + pdf.epw, pdf.get_y() + 1)
        pdf.set_y(pdf.get_y() + 2)
    if not data["messages"]:
        pdf.cell(0, 5, _("Nenhuma mensagem."), new_x="LMARGIN", new_y="NEXT")

    section(_("Arquivos"))
    if data["attachments"]:
        table([_("Arquivo"), _("Tamanho"), _("Enviado em"), _("Enviado por")],
              [[a["filename"], a["size"], a["when"], a["user"]] for a in data["attachments"]], (45, 13, 17, 25))
    else:
        pdf.cell(0, 5, _("Nenhum arquivo."), new_x="LMARGIN", new_y="NEXT")

    if data["service_orders"]:
        section(_("Ordens de serviço"))
        table([_("OS"), _("Tipo"), _("Situação"), _("Técnico"), _("Abertura"), _("Descrição")],
              [[o["number"], o["type"], o["status"], o["technician"], o["opened_at"], o["description"]]
               for o in data["service_orders"]], (7, 15, 12, 16, 17, 33))
    return bytes(pdf.output())
