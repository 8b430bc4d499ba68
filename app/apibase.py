"""Base class of Atende's REST APIs: broken rules answer 4xx with a pt-BR message, never 500."""
from __future__ import annotations

from typing import Any, Callable

from flask import Response
from flask_appbuilder.api import BaseApi, ModelRestApi
from flask_appbuilder.security.api import SecurityApi
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import BadRequest

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


STATUS_MESSAGES = {
    400: _l("Requisição inválida."),
    401: _l("Não autorizado: entre com usuário e senha válidos ou envie um token válido."),
    403: _l("Acesso negado: seu perfil não permite esta operação."),
    404: _l("Recurso não encontrado."),
    405: _l("Método não permitido neste endereço."),
    422: _l("Não foi possível processar os dados enviados."),
    429: _l("Muitas requisições em pouco tempo. Aguarde um minuto e tente de novo."),
    500: _l("Erro interno: a operação não foi concluída."),
}
FAB_MESSAGES = {
    "Request is not JSON": _l("O corpo da requisição deve ser JSON."),
    "Request payload is not JSON": _l("O corpo da requisição deve ser JSON."),
    "Not a valid rison argument": _l("Parâmetro “q” inválido: use Rison ou JSON."),
    "Not a valid rison/json argument": _l("Parâmetro “q” inválido: use Rison ou JSON."),
}
FAB_DEFAULTS = {"Arguments are not correct", "Not authorized", "Forbidden", "Not found", "Could not process entity",
                "Internal error", "Fatal error", BadRequest.description}


def status_message(code: int) -> str:
    """The API's pt-BR message for an HTTP error status."""
    return str(STATUS_MESSAGES.get(code) or STATUS_MESSAGES[500 if code >= 500 else 400])


def api_message(code: int, message: Any) -> Any:
    """FAB's and Werkzeug's English error messages in pt-BR; the application's own pass through."""
    if not isinstance(message, str):
        return translate_schema_errors(message)
    prefix = f"{code} {BadRequest.name}: "
    if code == 400 and message.startswith(prefix):  # a BadRequest caught by FAB's @safe
        message = message[len(prefix):]
    if message in FAB_MESSAGES:
        return str(FAB_MESSAGES[message])
    if message.startswith("Not a valid rison schema"):
        return str(FAB_MESSAGES["Not a valid rison argument"])
    if not message or message in FAB_DEFAULTS:
        return status_message(code)
    return message


def api_response(code: int, **kwargs: Any) -> Response:
    """FAB's JSON answer, with a pt-BR ``message`` on every error."""
    if code >= 400 and "message" in kwargs:
        kwargs["message"] = api_message(code, kwargs["message"])
    return BaseApi.response(code, **kwargs)


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

    response = staticmethod(api_response)

    def response_422(self, message: Any = None) -> Any:
        if isinstance(message, str) and "Database exception" in message:
            message = str(DATABASE_MESSAGE)
        return super().response_422(message=translate_schema_errors(message))


class AtendeSecurityApi(SecurityApi):
    """FAB's JWT login and refresh (/api/v1/security/…) answering errors in pt-BR."""

    response = staticmethod(api_response)
