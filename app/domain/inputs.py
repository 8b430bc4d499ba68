"""Input limits and clean values: one rule for every door, checked before anything reaches the database.

- ids are positive 64-bit integers; dates fall between 1900 and 2100;
- no text holds a NUL byte or a lone surrogate;
- every text fits its column (the limit is declared once, on the column: ``String(n)`` or ``LimitedText(n)``),
  and a required text is never blank — checked on every flush, whatever the door;
- a database refusal that still happens is told as what it is, at the field it concerns.
"""
from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache
from typing import Any, Optional

from flask_babel import lazy_gettext as _l
from sqlalchemy import BigInteger, Date, DateTime, Integer, String, event, inspect
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import Session

from app.domain.errors import Conflict, DomainError, ValidationError
from app.labels import COLUMN_LABELS

MAX_INTEGER = 2**31 - 1  # an Integer column (PostgreSQL int4)
MAX_ID = MAX_INTEGER  # ids are Integer columns: a larger one names no record
DATE_MIN = dt.date(1900, 1, 1)
DATE_MAX = dt.date(2100, 12, 31)
JSON_MAX_DEPTH = 32
PAGE_SIZE_MAX = 100
PAGE_MAX = 1_000_000
BAD_CHARACTERS = re.compile("[\x00\ud800-\udfff]")
_ID = re.compile(r"[0-9]{1,19}")

BAD_TEXT = _l("o texto contém caracteres inválidos (caractere nulo ou fora do padrão Unicode).")
DATE_RANGE = _l("informe uma data entre 01/01/1900 e 31/12/2100.")
REQUIRED = _l("preenchimento obrigatório.")
OUT_OF_RANGE = _l("número fora do intervalo permitido.")
# the configurable options users pick by name: "Já existe um canal com este nome."
RECORDS = {
    "Channel": _l("um canal"), "Subject": _l("um assunto"), "Department": _l("um departamento"),
    "Priority": _l("uma prioridade"), "ClosingReason": _l("um motivo de fechamento"), "TicketStatus": _l("um status"),
    "SubStatus": _l("um status complementar"), "ServiceOrderType": _l("um tipo de OS"),
    "CustomerGroup": _l("um grupo de clientes"), "City": _l("uma cidade"), "Plan": _l("um plano"),
    "Site": _l("uma estrutura própria"), "Contract": _l("um contrato"), "Customer": _l("um cliente"),
}
CHECKS = {  # CHECK constraints of app.models: (field, what the user is told)
    "ck_subject_sla": ("sla_hours", _l("O SLA deve ser de 0 a 8.760 horas (um ano).")),
    "ck_subject_sla_max": ("sla_hours", _l("O SLA deve ser de 0 a 8.760 horas (um ano).")),
    "ck_ticket_status_category": ("category", _l(
        "Categoria inválida: use new, pending, in_progress, resolved ou cancelled.")),
    "ck_ticket_rating": ("rating", _l("A avaliação deve ser de 1 a 5.")),
    "ck_ticket_type": ("type", _l("Tipo de atendimento inválido: use customer ou site.")),
    "ck_ticket_direction": ("direction", _l("Informe se o atendimento é ativo ou receptivo (outbound ou inbound).")),
    "ck_contract_status": ("status", _l("Situação de contrato inválida: use active, suspended ou cancelled.")),
    "ck_customer_person_type": ("person_type", _l("Informe pessoa física ou jurídica (PF ou PJ).")),
    "ck_service_order_status": ("status", _l(
        "Situação de OS inválida: use open, scheduled, in_progress, done ou cancelled.")),
    "ck_service_order_window": ("scheduled_end", _l("O fim agendado não pode ser antes do início.")),
    "ck_reopen_window": ("reopen_window_hours", _l("O prazo para reabrir deve ser 0, 24, 48 ou 72 horas.")),
    "ck_default_list_days": ("default_list_days", _l("O período padrão da lista deve ser de 1 a 3.660 dias.")),
    "ck_default_list_days_max": ("default_list_days", _l("O período padrão da lista deve ser de 1 a 3.660 dias.")),
    "ck_legal_warning_hours": ("legal_warning_hours", _l("O alerta do prazo legal deve ser de 1 a 168 horas.")),
}


# ---------------------------------------------------------------- values


def has_bad_characters(text: str) -> bool:
    """A NUL byte or a lone surrogate: no database stores them and no person types them."""
    return BAD_CHARACTERS.search(text) is not None


def parse_id(raw: Any) -> Optional[int]:
    """A record id (1 … MAX_ID) from an int or a string of ASCII digits; anything else is None."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        value = raw
    elif isinstance(raw, str) and _ID.fullmatch(raw.strip()):
        value = int(raw.strip())
    else:
        return None
    return value if 1 <= value <= MAX_ID else None


def in_date_range(day: dt.date) -> bool:
    day = day.date() if isinstance(day, dt.datetime) else day
    return DATE_MIN <= day <= DATE_MAX


def check_date(value: Any, field: Optional[str] = None) -> Any:
    """Refuse a date (or date-time) outside 1900–2100; return it unchanged."""
    if value is not None and not in_date_range(value):
        raise ValidationError(_message(field, DATE_RANGE), field)
    return value


def number(value: int) -> str:
    """10000 → "10.000" (pt-BR thousands)."""
    return f"{value:,}".replace(",", ".")


def check_length(text: Optional[str], limit: int, field: Optional[str] = None, label: Any = None) -> Optional[str]:
    """Refuse a text longer than ``limit`` characters (or holding a NUL byte); return it unchanged."""
    if text is None:
        return text
    if has_bad_characters(text):
        raise ValidationError(_message(field, BAD_TEXT, label), field)
    if len(text) > limit:
        raise ValidationError(too_long(limit, len(text), field, label), field)
    return text


def too_long(limit: int, length: int, field: Optional[str] = None, label: Any = None) -> str:
    message = _l("no máximo %(max)s caracteres (o texto tem %(length)s).", max=number(limit), length=number(length))
    return _message(field, message, label)


def limit_of(attribute: Any) -> int:
    """The length limit declared on a model column, e.g. ``limit_of(Ticket.opening_description)``."""
    return attribute.property.columns[0].type.length


def _message(field: Optional[str], message: Any, label: Any = None) -> str:
    """"<label>: <message>", or the message alone (capitalised) when there is no label."""
    label = label or (COLUMN_LABELS.get(field) if field else None)
    text = str(message)
    return f"{label}: {text}" if label else text[:1].upper() + text[1:]


# ---------------------------------------------------------------- records, on every flush


def _kind(column: Any) -> Optional[str]:
    kind = getattr(column.type, "impl", column.type)
    if isinstance(kind, BigInteger):
        return None
    for found, name in ((String, "text"), (DateTime, "date"), (Date, "date"), (Integer, "int")):
        if isinstance(kind, found):
            return name
    return None


@lru_cache(maxsize=None)
def _columns(model: type) -> tuple[tuple[str, str, Optional[int], bool], ...]:
    """(attribute, kind, length limit, required) of each text, date and integer column of a model."""
    found = []
    for attribute in inspect(model).column_attrs:
        column = attribute.columns[0]
        kind = _kind(column)
        if kind is not None and not column.primary_key:
            found.append((attribute.key, kind, getattr(column.type, "length", None), not column.nullable))
    return tuple(found)


def check_record(obj: Any) -> None:
    """Every changed value of a record fits its column: texts (length, no NUL, not blank when required), dates
    (1900–2100) and integers (the column's range)."""
    state = inspect(obj)
    for key, kind, limit, required in _columns(type(obj)):
        if state.persistent and not state.attrs[key].history.has_changes():
            continue
        value = getattr(obj, key)
        if kind == "text" and isinstance(value, str):
            if required and not value.strip():
                raise ValidationError(_message(key, REQUIRED), key)
            check_length(value, limit or MAX_ID, key)
        elif kind == "date" and isinstance(value, dt.date):
            check_date(value, key)
        elif kind == "int" and isinstance(value, int) and not -MAX_INTEGER <= value <= MAX_INTEGER:
            raise ValidationError(_message(key, OUT_OF_RANGE), key)


@event.listens_for(Session, "before_flush")
def _check_values(session: Session, flush_context: Any, instances: Any) -> None:
    records = [obj for obj in (*session.new, *session.dirty) if type(obj).__module__ == "app.models"]
    # what the user typed is named before the history entries that copy it
    for obj in sorted(records, key=lambda obj: type(obj).__name__ == "TicketEvent"):
        check_record(obj)


# ---------------------------------------------------------------- database refusals


def database_error(error: BaseException) -> DomainError:
    """What a database refusal means to the user, at its field; the generic conflict message as a last resort."""
    cause = error
    while not isinstance(cause, (IntegrityError, DataError, DomainError)) and cause.__cause__ is not None:
        cause = cause.__cause__
    if isinstance(cause, DomainError):
        return cause
    if isinstance(cause, DataError):
        return ValidationError(_l("Valor fora do formato ou do intervalo permitido."))
    if isinstance(cause, IntegrityError):
        found = _integrity(cause)
        if found is not None:
            return found
    return Conflict(_l("Não foi possível salvar: os dados conflitam com outro registro."))


def _integrity(error: IntegrityError) -> Optional[DomainError]:
    original = error.orig
    text = str(original)
    diag = getattr(original, "diag", None)
    state = getattr(original, "sqlstate", None) or ""
    constraint = getattr(diag, "constraint_name", None) or _after(text, "CHECK constraint failed: ")
    if constraint and constraint in CHECKS:
        field, message = CHECKS[constraint]
        return ValidationError(message, field)
    if constraint and constraint.startswith("ck_") and constraint.endswith("_length"):
        field, limit = _length_column(constraint)
        return ValidationError(_message(field, _l("no máximo %(max)s caracteres.", max=number(limit or 0))), field)
    if state == "23505" or "UNIQUE constraint failed" in text:
        return _unique(text, getattr(diag, "table_name", None))
    if state == "23502" or "NOT NULL constraint failed" in text:
        field = getattr(diag, "column_name", None) or _after(text, "NOT NULL constraint failed: ").split(".")[-1]
        field = field[:-3] if field.endswith("_id") else field
        return ValidationError(_message(field, REQUIRED), field or None)
    if state == "23503" or "FOREIGN KEY constraint failed" in text:
        match = re.search(r"Key \((\w+)\)=", text)
        if match and "is still referenced" not in text:
            field = match.group(1)[:-3] if match.group(1).endswith("_id") else match.group(1)
            return ValidationError(missing(field), field)
        return Conflict(_l("Não foi possível concluir: o registro está em uso por outros registros ou aponta para "
                           "um registro inexistente."))
    return None


def missing(field: str) -> str:
    """"Status inexistente.": a related record that does not exist."""
    return str(_l("%(field)s inexistente.", field=COLUMN_LABELS.get(field, field)))


def _unique(text: str, table: Optional[str]) -> ValidationError:
    match = re.search(r"Key \(([^)]*)\)=", text)
    columns = [c.strip() for c in match.group(1).split(",")] if match else [
        part.strip().split(".")[-1] for part in _after(text, "UNIQUE constraint failed: ").split(",")]
    if table is None and "UNIQUE constraint failed: " in text:
        table = _after(text, "UNIQUE constraint failed: ").split(".")[0]
    return ValidationError(unique_message(_model_of(table), columns), columns[0] if columns else None)


def unique_message(model: Optional[str], columns: list[str]) -> Any:
    """"Já existe um canal com este nome.": a value that must be unique is taken."""
    labels = [str(COLUMN_LABELS.get(column, column)) for column in columns]
    what = " / ".join(label if label[:2].isupper() else label[:1].lower() + label[1:] for label in labels)
    record = RECORDS.get(model or "")
    if record is not None:
        return _l("Já existe %(record)s com este %(what)s.", record=record, what=what)
    return _l("Já existe um registro com este %(what)s.", what=what)


def _model_of(table: Optional[str]) -> Optional[str]:
    from app.models import Model

    for mapper in Model.registry.mappers:
        if getattr(mapper.local_table, "name", None) == table:
            return mapper.class_.__name__
    return None


def _length_column(constraint: str) -> tuple[str, Optional[int]]:
    """ck_<table>_<column>_length → (column, its limit), the table found among the models (longest name first)."""
    from app.models import Model

    middle = constraint[3:-7]
    for name, table in sorted(Model.metadata.tables.items(), key=lambda item: -len(item[0])):
        if middle.startswith(name + "_") and middle[len(name) + 1:] in table.c:
            column = middle[len(name) + 1:]
            return column, getattr(table.c[column].type, "length", None)
    return middle, None


def _after(text: str, marker: str) -> str:
    return text.split(marker, 1)[1].split("\n")[0].strip() if marker in text else ""

