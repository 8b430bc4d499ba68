"""The history of a customer's demands (R26; Decreto 11.034/2022 art. 12) as a PDF.

One document for both doors: the customer downloads it in the portal, an agent produces it when the customer asks
by phone ("Histórico do cliente"). It holds the protocols, dates, status changes, the messages to and from the
customer and the answers of their registered tickets; never internal notes, staff-only fields or staff names
(whatever the reader's role, the public conditions of app.domain.access apply).
"""
from __future__ import annotations

from collections import defaultdict
from typing import Any, Optional

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from app.domain import access
from app.domain.clock import now
from app.domain.documents import format_document
from app.domain.errors import NotAllowed
from app.domain.history import EVENT_KINDS
from app.domain.printing import FONT, _text, a4_pdf
from app.domain.ticket_fields import field_label, history_values
from app.formatting import format_date
from app.models import Customer, Ticket, TicketEvent, TicketMessage

VALUE_MAX = 300  # characters of a changed value: the descriptions are printed in full in their own lines
MESSAGE_ACTIONS = ("reiterate",)  # the entry of a reiteration is printed as the customer's message


def _short(value: str) -> str:
    return value if len(value) <= VALUE_MAX else value[:VALUE_MAX].rstrip() + " […]"


def history_data(session: Session, user: Any, customer_id: Any, ticket_id: Any = None) -> dict[str, Any]:
    """What the document says about a customer's registered tickets (or one of them) for a user who may see them.

    Raises NotAllowed (the doors answer 404) for a customer or ticket outside the user's scope.
    """
    if not access.can_see(session, user, Customer, customer_id):
        raise NotAllowed(_("Cliente não encontrado."))
    customer = session.get(Customer, customer_id)
    query = select(Ticket).where(Ticket.customer_id == customer.id, Ticket.is_draft.is_(False))
    scope = access.ticket_condition(user)
    if scope is not None:
        query = query.where(scope)
    if ticket_id is not None:
        if not access.valid_id(ticket_id):
            raise NotAllowed(_("Atendimento não encontrado."))
        query = query.where(Ticket.id == ticket_id)
    found = session.scalars(query.options(joinedload(Ticket.status), joinedload(Ticket.subject),
                                          joinedload(Ticket.contract), joinedload(Ticket.channel))
                            .order_by(Ticket.opened_at, Ticket.id)).all()
    if ticket_id is not None and not found:
        raise NotAllowed(_("Atendimento não encontrado."))
    own = customer.portal_user_id or 0
    ids = [ticket.id for ticket in found]
    events = session.scalars(
        select(TicketEvent).where(TicketEvent.ticket_id.in_(ids), access.public_event_condition(own))
        .order_by(TicketEvent.created_at, TicketEvent.id)).all() if ids else []
    messages = session.scalars(
        select(TicketMessage).where(TicketMessage.ticket_id.in_(ids), access.public_message_condition())
        .order_by(TicketMessage.created_at, TicketMessage.id)).all() if ids else []
    return _document(session, customer, found, events, messages, ticket_id is not None)


def _document(session: Session, customer: Customer, found: list[Ticket], events: list[TicketEvent],
              messages: list[TicketMessage], single: bool) -> dict[str, Any]:
    """The printable strings: each ticket's facts and one timeline of its public history and messages."""

    def person(user_id: Optional[int]) -> str:
        return _("Cliente") if user_id and user_id == customer.portal_user_id else _("Atendimento")

    def message_item(message: TicketMessage) -> dict[str, str]:
        own_message = message.author_id is not None and message.author_id == customer.portal_user_id
        return {"when": format_date(message.created_at), "who": person(message.author_id),
                "what": _("Mensagem do cliente") if own_message else _("Mensagem ao cliente"),
                "text": _text(message.body)}

    unmatched = list(messages)

    def take(event: TicketEvent, whole: bool) -> Optional[TicketMessage]:
        """The message an entry records (a message's entry keeps its first 500 characters, a reiteration all)."""
        for message in unmatched:
            body = message.body if whole else message.body[:500]
            if message.ticket_id == event.ticket_id and message.author_id == event.user_id and \
                    body == event.new_value:
                unmatched.remove(message)
                return message
        return None

    timeline: dict[int, list[tuple[Any, int, dict[str, str]]]] = defaultdict(list)
    for position, (event, (old, new)) in enumerate(zip(events, history_values(session, events))):
        if event.kind == "message" or (event.kind == "action" and event.field in MESSAGE_ACTIONS):
            message = take(event, whole=event.kind == "action")
            if message is not None:
                timeline[event.ticket_id].append((event.created_at, position, message_item(message)))
                continue
            if event.kind == "message":
                continue
        label = field_label(event.field)
        what = ": ".join(part for part in (str(EVENT_KINDS.get(event.kind, "")), label) if part)
        if event.kind == "field":
            old, new = _short(_text(old)), _short(_text(new)) or "—"
            text = f"{old} → {new}" if old else new
        elif event.kind in ("action", "attachment"):
            text = _text(new) or _text(event.note)
        else:
            text = _text(event.note)
        timeline[event.ticket_id].append((event.created_at, position, {
            "when": format_date(event.created_at), "who": person(event.user_id), "what": what, "text": text}))
    for message in unmatched:  # a message without its history entry (imported data) keeps its time
        timeline[message.ticket_id].append((message.created_at, len(events) + message.id, message_item(message)))

    entries = []
    for ticket in found:
        legal = getattr(ticket, "legal_due_at", None)
        fields = [
            (_("Assunto"), _text(ticket.subject)),
            (_("Contrato"), _text(ticket.contract.number) if ticket.contract else ""),
            (_("Canal"), _text(ticket.channel)),
            (_("Aberto em"), format_date(ticket.opened_at)),
            (_("Prazo de atendimento"), format_date(ticket.due_at)),
            (_("Prazo legal de resposta"), format_date(legal)),
            (_("Status"), _text(ticket.status)),
            (_("Encerrado em"), format_date(ticket.closed_at)),
            (_("Avaliação"), f"{ticket.rating}/5" if ticket.rating else ""),
            (_("Comentário da avaliação"), _text(ticket.rating_comment)),
        ]
        entries.append({
            "protocol": ticket.protocol,
            "fields": [(label, value) for label, value in fields if value],
            "opening": _text(ticket.opening_description),
            "answer": _text(ticket.closing_description),
            "timeline": [item for _when, _order, item in sorted(timeline[ticket.id], key=lambda t: (t[0], t[1]))],
        })
    return {
        "customer": _text(customer.name),
        "document": format_document(customer.document),
        "tickets": entries,
        "single": single,
        "issued_at": format_date(now()),
    }


def pdf_filename(data: dict[str, Any]) -> str:
    if data["single"] and data["tickets"]:
        return f"historico-{data['tickets'][0]['protocol']}.pdf"
    return "historico-de-atendimentos.pdf"


LINE = 4.2


def build_pdf(data: dict[str, Any]) -> bytes:
    """Render the history as an A4 PDF with a Unicode font (pt-BR accents)."""

    from app.domain.exports import wrap

    title = _("Histórico de atendimentos")
    footer = _("Emitido em %(when)s — Decreto nº 11.034/2022, art. 12", when=data["issued_at"])

    pdf = a4_pdf(title, f"{data['customer'][:120]} — {_('CPF/CNPJ')} {data['document']}", footer, margin=14)
    bottom = pdf.h - 16

    def room(height: float) -> None:
        if pdf.get_y() + height > bottom:
            pdf.add_page()

    def lines(text: str, style: str = "", size: int = 9, indent: float = 0.0) -> None:
        pdf.set_font(FONT, style, size)
        for part in (text or "").split("\n"):
            for line in wrap(pdf, part, pdf.epw - indent) or [""]:
                room(LINE)
                pdf.text(pdf.l_margin + indent, pdf.get_y() + LINE - 1, line)
                pdf.set_y(pdf.get_y() + LINE)

    count = len(data["tickets"])
    lines(_("Cliente: %(name)s", name=data["customer"]))
    lines(_("CPF/CNPJ: %(document)s", document=data["document"]))
    lines(_("Atendimentos neste documento: %(count)d", count=count))
    pdf.ln(1)
    lines(_("Este documento reúne os protocolos, as datas, as mudanças de status, as mensagens trocadas com o "
            "cliente e as respostas dos seus atendimentos. Anotações internas da equipe não fazem parte dele."),
          size=8)
    if not count:
        pdf.ln(3)
        lines(_("Nenhum atendimento registrado."))
    for ticket in data["tickets"]:
        room(6 * LINE)
        pdf.ln(3)
        pdf.set_draw_color(200, 200, 200)
        pdf.line(pdf.l_margin, pdf.get_y(), pdf.l_margin + pdf.epw, pdf.get_y())
        pdf.ln(1)
        lines(_("Protocolo %(protocol)s", protocol=ticket["protocol"]), style="B", size=11)
        for label, value in ticket["fields"]:
            lines(f"{label}: {value}")
        if ticket["opening"]:
            lines(_("Descrição da abertura"), style="B")
            lines(ticket["opening"], indent=3)
        if ticket["answer"]:
            lines(_("Resposta"), style="B")
            lines(ticket["answer"], indent=3)
        lines(_("Movimentações"), style="B")
        for item in ticket["timeline"]:
            room(2 * LINE)
            lines(f"{item['when']} — {item['who']} — {item['what']}", size=8, indent=3)
            if item["text"]:
                lines(item["text"], indent=6)
        if not ticket["timeline"]:
            lines(_("Nenhuma movimentação."), indent=3)
    return bytes(pdf.output())
