"""Base class of Atende's REST APIs: broken rules answer 4xx with a pt-BR message, never 500."""
from __future__ import annotations

from typing import Any, Callable

from flask_appbuilder.api import ModelRestApi
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import SQLAlchemyError

from app.domain.errors import DomainError
from app.extensions import db
from app.labels import COLUMN_LABELS
from app.viewbase import DATABASE_MESSAGE, DomainHooks

SCHEMA_MESSAGES = {
    "Missing data for required field.": _l("Campo obrigatório."),
    "Field may not be null.": _l("Este campo não pode ficar vazio."),
    "Unknown field.": _l("Campo desconhecido."),
    "Not a valid integer.": _l("Número inteiro inválido."),
    "Not a valid number.": _l("Número inválido."),
    "Not a valid string.": _l("Texto inválido."),
    "Not a valid boolean.": _l("Valor lógico inválido (use true ou false)."),
    "Not a valid datetime.": _l("Data e hora inválidas (use AAAA-MM-DDTHH:MM:SS)."),
    "Not a valid date.": _l("Data inválida (use AAAA-MM-DD)."),
    "Invalid input type.": _l("Tipo de dado inválido."),
    "Not a valid list.": _l("Lista inválida."),
    "Related object doesn't exist": _l("Registro relacionado não encontrado."),
}


def translate_schema_errors(messages: Any) -> Any:
    """Translate marshmallow's English validation messages to pt-BR."""
    if isinstance(messages, dict):
        return {key: translate_schema_errors(value) for key, value in messages.items()}
    if isinstance(messages, list):
        return [translate_schema_errors(value) for value in messages]
    if isinstance(messages, str):
        return str(SCHEMA_MESSAGES.get(messages, messages))
    return messages


class AtendeApi(DomainHooks, ModelRestApi):
    """A FAB ModelRestApi whose broken rules answer 4xx with a pt-BR message, never 500."""

    allow_browser_login = False

    def __init__(self) -> None:
        self.description_columns = {
            name: str(label) for name, label in COLUMN_LABELS.items()
        }
        super().__init__()

    def _answer(self, handler: Callable[[], Any]) -> Any:
        try:
            return handler()
        except DomainError as error:
            db.session.rollback()
            return self.response(error.status, message=error.message, field=error.field)
        except SQLAlchemyError:
            db.session.rollback()
            return self.response_422(message=str(DATABASE_MESSAGE))

    def post_headless(self) -> Any:
        return self._answer(super().post_headless)

    def put_headless(self, pk: Any) -> Any:
        def handler() -> Any:
            # the schema loads related rows while it fills the item: no autoflush of half-applied changes
            with db.session.no_autoflush:
                return super(AtendeApi, self).put_headless(pk)

        return self._answer(handler)

    def delete_headless(self, pk: Any) -> Any:
        return self._answer(lambda: super(AtendeApi, self).delete_headless(pk))

    def response_422(self, message: Any = None) -> Any:
        if isinstance(message, str) and "Database exception" in message:
            message = str(DATABASE_MESSAGE)
        return super().response_422(message=translate_schema_errors(message))
