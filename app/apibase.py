"""Base class of Atende's REST APIs: broken rules answer 4xx with a pt-BR message, never 500."""
from __future__ import annotations

import threading
from typing import Any, Callable

from flask import Response, g, request
from flask_appbuilder.api import BaseApi, ModelRestApi
from flask_appbuilder.security.api import SecurityApi
from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError, fields, validate
from marshmallow_sqlalchemy.fields import Related, RelatedList
from sqlalchemy import inspect
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import BadRequest

from app.domain.errors import DomainError
from app.domain.inputs import DATE_RANGE, MAX_ID, database_error, in_date_range, missing, too_long
from app.domain.versions import check_version, etag, required_version
from app.extensions import db
from app.labels import COLUMN_LABELS, MODEL_NAMES
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
        self.label_columns = {**self.description_columns, **(self.label_columns or {})}
        singular, plural = MODEL_NAMES.get(self.datamodel.obj.__name__, (None, None))
        if singular is not None:  # FAB would title them "List Ticket", "Add Ticket"…
            self.list_title = self.list_title or str(plural)
            self.show_title = self.show_title or str(singular)
            self.add_title = self.add_title or str(_l("Adicionar: %(name)s", name=singular))
            self.edit_title = self.edit_title or str(_l("Editar: %(name)s", name=singular))
        super().__init__()

    def _init_model_schemas(self) -> None:
        super()._init_model_schemas()
        for schema in (self.add_model_schema, self.edit_model_schema):
            for field in getattr(schema, "fields", {}).values():
                strict_field(field)
                explain_limits(field)

    def _answer(self, handler: Callable[[], Any]) -> Any:
        try:
            return handler()
        except DomainError as error:
            db.session.rollback()
            return self.response(error.status, message=error.message, field=error.field)
        except SQLAlchemyError as error:
            db.session.rollback()
            refusal = database_error(error)
            return self.response(refusal.status, message=refusal.message, field=refusal.field)

    # marshmallow-sqlalchemy keeps the instance being loaded on the schema, which every request shares: in a threaded
    # server two writes at once would mix their records, so one process loads and saves one record at a time
    _schema_lock = threading.RLock()

    def post_headless(self) -> Any:
        with self._schema_lock:
            return self._answer(super().post_headless)

    def put_headless(self, pk: Any) -> Any:
        def handler() -> Any:
            if self._version_key() and request.is_json and self.datamodel.get(pk, self._base_filters) is not None:
                body = request.get_json(silent=True)
                named = body.pop("version", None) if isinstance(body, dict) else None
                # per request: the API object is shared by all requests
                g.atende_expected_version = required_version(request.headers.get("If-Match"), named)
            # the schema loads related rows while it fills the item: no autoflush of half-applied changes
            with self._schema_lock, db.session.no_autoflush:
                response = super(AtendeApi, self).put_headless(pk)
            return self._with_etag(response, pk)

        return self._answer(handler)

    def get_headless(self, pk: Any, **kwargs: Any) -> Any:
        return self._with_etag(super().get_headless(pk, **kwargs), pk)

    def pre_update(self, item: Any) -> None:
        """An update names the version it read (R29) and that version is still the current one (R12)."""
        key = self._version_key()
        if key:
            check_version(getattr(item, key), g.pop("atende_expected_version", None))
        super().pre_update(item)

    def _version_key(self) -> str:
        """The attribute holding the model's version (SQLAlchemy's version_id_col), or ""."""
        mapper = inspect(self.datamodel.obj)
        return mapper.get_property_by_column(mapper.version_id_col).key if mapper.version_id_col is not None else ""

    def _with_etag(self, response: Any, pk: Any) -> Any:
        """Give a record's answer its ETag: the version a later update names in If-Match (R29)."""
        key = self._version_key()
        if key and response.status_code == 200:
            item = self.datamodel.get(pk, self._base_filters)
            if item is not None:
                response.headers["ETag"] = etag(getattr(item, key))
        return response

    def delete_headless(self, pk: Any) -> Any:
        return self._answer(lambda: super(AtendeApi, self).delete_headless(pk))

    response = staticmethod(api_response)

    def response_422(self, message: Any = None) -> Any:
        if isinstance(message, str) and "Database exception" in message:
            message = str(DATABASE_MESSAGE)
        return super().response_422(message=translate_schema_errors(message))


NOT_AN_ID = _l("Informe o id (número inteiro) do registro relacionado.")
RELATED_NOT_FOUND = _l("Registro relacionado não encontrado.")


def strict_field(field: fields.Field) -> None:
    """Take only the JSON type the spec declares: true/false for a boolean (never 0, 1 or "sim"), a number
    for a number, and for a relation the id of an existing record (never an object, which marshmallow-sqlalchemy
    would turn into a new row)."""
    if isinstance(field, RelatedList):
        strict_field(field.inner)
    elif isinstance(field, Related):
        field._deserialize = _existing_related(field)
    elif isinstance(field, fields.Boolean):
        field._deserialize = _typed(field, field._deserialize, lambda v: isinstance(v, bool))
    elif isinstance(field, fields.Integer):
        field._deserialize = _typed(field, field._deserialize,
                                    lambda v: isinstance(v, int) and not isinstance(v, bool))
    elif isinstance(field, fields.Number):
        field._deserialize = _typed(field, field._deserialize,
                                    lambda v: isinstance(v, (int, float)) and not isinstance(v, bool))


def _typed(field: fields.Field, original: Callable[..., Any], accepts: Callable[[Any], bool]) -> Callable[..., Any]:
    def deserialize(value: Any, attr: Any, data: Any, **kwargs: Any) -> Any:
        if not accepts(value):
            raise field.make_error("invalid")
        return original(value, attr, data, **kwargs)

    return deserialize


def _existing_related(field: Related) -> Callable[..., Any]:
    def deserialize(value: Any, attr: Any = None, *args: Any, **kwargs: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_ID:
            raise ValidationError(str(NOT_AN_ID))
        found = db.session.get(field.related_model, value)
        if found is None:  # "Status inexistente."
            raise ValidationError(missing(attr) if attr in COLUMN_LABELS else str(RELATED_NOT_FOUND))
        return found

    return deserialize


def explain_limits(field: fields.Field) -> None:
    """The length limits the schema derives from the columns answer in pt-BR with the limit (like the forms), and
    dates stay between 1900 and 2100."""
    validators = getattr(field, "validators", None)
    if validators is None:
        return
    for index, validator in enumerate(validators):
        if isinstance(validator, validate.Length) and validator.max is not None:
            validators[index] = _text_limit(validator.max)
    if isinstance(field, (fields.DateTime, fields.Date)):
        validators.append(_date_range)


def _text_limit(limit: int) -> Callable[[Any], None]:
    def check(value: Any) -> None:
        if isinstance(value, str) and len(value) > limit:
            raise ValidationError(too_long(limit, len(value)))

    return check


def _date_range(value: Any) -> None:
    if not in_date_range(value):
        raise ValidationError(str(DATE_RANGE)[:1].upper() + str(DATE_RANGE)[1:])


class AtendeSecurityApi(SecurityApi):
    """FAB's JWT login and refresh (/api/v1/security/…) answering errors in pt-BR."""

    response = staticmethod(api_response)
