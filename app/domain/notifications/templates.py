"""The texts of the notifications: pt-BR defaults, the administrator's versions, sandboxed rendering and preview."""
from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import Any, NamedTuple, Optional

from flask_babel import lazy_gettext as _l
from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.clock import now
from app.domain.errors import ValidationError
from app.models import NOTE_TEXT, OUTBOX_TEXT, MessageTemplate

KIND_LABELS = {
    "protocol": _l("Protocolo do atendimento"),
    "message": _l("Mensagem ao cliente"),
    "resolved": _l("Atendimento concluído (resposta)"),
    "first_access": _l("Primeiro acesso à central"),
    "reset": _l("Nova senha da central"),
}
CHANNEL_LABELS = {"email": _l("E-mail"), "sms": _l("SMS")}
VARIABLES = {
    "protocolo": _l("número do protocolo"),
    "data_hora": _l("data e hora da abertura (dd/mm/aaaa hh:mm)"),
    "cliente": _l("nome do cliente"),
    "assunto": _l("assunto do atendimento"),
    "empresa": _l("nome da empresa"),
    "link": _l("endereço da central do assinante (ou o link de acesso)"),
    "titulo": _l("assunto do e-mail escrito pelo atendente"),
    "mensagem": _l("texto da mensagem ao cliente"),
    "resposta": _l("descrição do fechamento"),
    "data_conclusao": _l("data e hora da conclusão"),
}
SMS_LIMIT = 480


class Text(NamedTuple):
    subject: Optional[str]
    body: str


DEFAULTS: dict[tuple[str, str], Text] = {
    ("protocol", "email"): Text(
        "Protocolo {{ protocolo }}: seu atendimento foi registrado",
        "Olá, {{ cliente }}.\n\n"
        "Registramos o seu atendimento.\n\n"
        "Protocolo: {{ protocolo }}\n"
        "Aberto em: {{ data_hora }}\n"
        "{% if assunto %}Assunto: {{ assunto }}\n{% endif %}"
        "\nGuarde este número: ele identifica a sua solicitação em qualquer contato conosco. "
        "Acompanhe o andamento na Central do Assinante: {{ link }}\n\n"
        "{{ empresa }}\n"),
    ("protocol", "sms"): Text(
        None, "{{ empresa }}: atendimento registrado. Protocolo {{ protocolo }} em {{ data_hora }}."),
    ("message", "email"): Text(
        "{{ titulo or 'Protocolo ' ~ protocolo ~ ': mensagem do atendimento' }}",
        "Olá, {{ cliente }}.\n\n"
        "{{ mensagem }}\n\n"
        "Protocolo: {{ protocolo }} (aberto em {{ data_hora }})\n\n"
        "{{ empresa }}\n"),
    ("message", "sms"): Text(
        None, "{{ empresa }}: nova mensagem no protocolo {{ protocolo }}: {{ mensagem|truncate(300) }}"),
    ("resolved", "email"): Text(
        "Protocolo {{ protocolo }}: atendimento concluído",
        "Olá, {{ cliente }}.\n\n"
        "O seu atendimento foi concluído em {{ data_conclusao }}.\n\n"
        "Protocolo: {{ protocolo }} (aberto em {{ data_hora }})\n"
        "{% if assunto %}Assunto: {{ assunto }}\n{% endif %}"
        "\nResposta:\n{{ resposta }}\n\n"
        "Se precisar, reabra ou avalie o atendimento na Central do Assinante: {{ link }}\n\n"
        "{{ empresa }}\n"),
    ("resolved", "sms"): Text(
        None, "{{ empresa }}: o atendimento {{ protocolo }} foi concluído em {{ data_conclusao }}. "
              "Resposta: {{ resposta|truncate(300) }}"),
    ("first_access", "email"): Text(
        "Crie a sua senha da Central do Assinante",
        "Olá, {{ cliente }}.\n\n"
        "Para criar a sua senha da Central do Assinante, abra o link abaixo:\n\n"
        "{{ link }}\n\n"
        "O link vale por tempo limitado e só pode ser usado uma vez. "
        "Se você não pediu este acesso, ignore esta mensagem.\n\n"
        "{{ empresa }}\n"),
    ("reset", "email"): Text(
        "Nova senha da Central do Assinante",
        "Olá, {{ cliente }}.\n\n"
        "Recebemos um pedido de nova senha para a Central do Assinante. Para escolher a nova senha, abra o link:\n\n"
        "{{ link }}\n\n"
        "O link vale por tempo limitado e só pode ser usado uma vez. "
        "Se você não fez este pedido, ignore esta mensagem: a sua senha continua a mesma.\n\n"
        "{{ empresa }}\n"),
}


def sample_context(kind: str) -> dict[str, Any]:
    """Made-up data for the administrator's preview."""
    opened = now().replace(second=0) - dt.timedelta(days=2)
    return {
        "protocolo": opened.strftime("%Y%m%d") + "000042", "data_hora": opened.strftime("%d/%m/%Y %H:%M"),
        "cliente": "Maria da Silva", "assunto": "Sem conexão", "empresa": "Atende",
        "link": "https://exemplo.com.br/central/" + ("acesso/exemplo" if kind in ("first_access", "reset") else ""),
        "titulo": "Visita técnica agendada", "mensagem": "A visita técnica foi agendada para amanhã, das 8h às 12h.",
        "resposta": "O cabo de fibra foi substituído e a conexão foi normalizada.",
        "data_conclusao": now().strftime("%d/%m/%Y %H:%M"),
    }


@lru_cache(maxsize=1)
def _environment() -> SandboxedEnvironment:
    return SandboxedEnvironment(autoescape=False, undefined=StrictUndefined, keep_trailing_newline=True)


@lru_cache(maxsize=256)
def _compile(source: str) -> Any:
    return _environment().from_string(source)


class TemplateProblem(ValidationError):
    """A template that does not render: the administrator reads why, in pt-BR."""


def render_text(source: str, context: dict[str, Any], field: str, limit: int) -> str:
    """Render one template text in the sandbox; any error becomes a pt-BR TemplateProblem naming the field."""
    try:
        text = _compile(source).render(**context)
    except TemplateError as error:
        line = getattr(error, "lineno", None)
        where = _l(" (linha %(line)d)", line=line) if line else ""
        raise TemplateProblem(_l("O modelo não pôde ser usado%(where)s: %(reason)s", where=where,
                                 reason=_explain(error)), field) from error
    except Exception as error:  # noqa: BLE001 - a division by zero, a bad filter argument…: a message, never a 500
        raise TemplateProblem(_l("O modelo não pôde ser usado: %(reason)s", reason=str(error) or type(error).__name__),
                              field) from error
    return text[:limit]


def _explain(error: TemplateError) -> str:
    text = str(error.message or error)
    if "is undefined" in text:
        name = text.split("'")[1] if "'" in text else text
        return str(_l("a variável “%(name)s” não existe (veja a lista de variáveis).", name=name))
    if "unsafe" in text or "not safely callable" in text or "access to attribute" in text:
        return str(_l("operação não permitida no modelo."))
    return text


def stored(session: Session, kind: str, channel: str) -> Optional[MessageTemplate]:
    return session.scalar(select(MessageTemplate).where(MessageTemplate.kind == kind,
                                                        MessageTemplate.channel == channel))


def current(session: Session, kind: str, channel: str) -> Optional[Text]:
    """The administrator's version of a template, or the shipped default; None when the pair does not exist."""
    row = stored(session, kind, channel)
    if row is not None:
        return Text(row.subject, row.body)
    return DEFAULTS.get((kind, channel))


def render(session: Session, kind: str, channel: str, context: dict[str, Any]) -> Optional[Text]:
    """The subject and body of one notification; a broken stored template falls back to the default."""
    text = current(session, kind, channel)
    if text is None:
        return None
    try:
        return _render_pair(text, channel, context)
    except TemplateProblem:
        default = DEFAULTS.get((kind, channel))
        if default is None or default == text:
            raise
        return _render_pair(default, channel, context)


def _render_pair(text: Text, channel: str, context: dict[str, Any]) -> Text:
    subject = None
    if channel == "email":
        subject = " ".join(render_text(text.subject or "", context, "subject", 300).split())
    body = render_text(text.body, context, "body", SMS_LIMIT if channel == "sms" else OUTBOX_TEXT)
    return Text(subject, body.strip() if channel == "sms" else body)


def preview(kind: str, channel: str, subject: Optional[str], body: str) -> Text:
    """Render an edited template on sample data; a TemplateProblem tells what is wrong."""
    if (kind, channel) not in DEFAULTS:
        raise ValidationError(_l("Tipo de mensagem ou canal desconhecido."), "kind")
    if len(body or "") > NOTE_TEXT:
        raise ValidationError(_l("O texto do modelo tem mais de %(max)d caracteres.", max=NOTE_TEXT), "body")
    if not (body or "").strip():
        raise ValidationError(_l("O texto do modelo não pode ficar vazio."), "body")
    if channel == "email" and not (subject or "").strip():
        raise ValidationError(_l("Informe o assunto do e-mail."), "subject")
    return _render_pair(Text(subject, body), channel, sample_context(kind))


def check(template: MessageTemplate) -> None:
    """Refuse to save a template that does not render on the sample data (R27: no message lost to a typo)."""
    if template.channel == "sms":
        template.subject = None
    preview(template.kind, template.channel, template.subject, template.body)
    template.updated_at = now()


def restore_default(session: Session, template: MessageTemplate) -> None:
    """Put the shipped text back on an administrator's template."""
    default = DEFAULTS.get((template.kind, template.channel))
    if default is not None:
        template.subject, template.body, template.updated_at = default.subject, default.body, now()


def ensure_defaults(session: Session) -> int:
    """Write the shipped templates that have no row yet (flask init); the administrator's versions are kept."""
    existing = {(row.kind, row.channel) for row in session.scalars(select(MessageTemplate))}
    added = 0
    for (kind, channel), text in DEFAULTS.items():
        if (kind, channel) not in existing:
            session.add(MessageTemplate(kind=kind, channel=channel, subject=text.subject, body=text.body,
                                        updated_at=now()))
            added += 1
    return added
