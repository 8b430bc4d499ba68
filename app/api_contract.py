"""The REST API tells the truth: its OpenAPI spec says what each operation takes and answers, and an
address answers 405 (with its Allow header) to a method it does not take.

FAB's generated spec types ids as strings, `_info` column lists as objects, dates as RFC 3339 with a time
zone (the API sends the company's local time without one), error messages as strings only, and leaves out
most of the error statuses an operation can answer. The spec is corrected here, once, for every resource.
"""
from __future__ import annotations

import copy
from typing import Any, Callable, Optional

from flask import Flask, Response, abort, current_app, jsonify, request
from werkzeug.exceptions import MethodNotAllowed
from flask_babel import gettext
from jsonschema import Draft4Validator
from jsonschema.exceptions import best_match
from flask_appbuilder.api import BaseApi, expose, protect, safe
from flask_appbuilder.api.manager import OpenApi, SwaggerView
from sqlalchemy import inspect as sa_inspect

from app.apibase import status_message
from app.domain.inputs import has_bad_characters
from app.domain.inputs import MAX_ID, MAX_INTEGER

METHODS = ("get", "put", "post", "delete", "patch")
LOCAL_DATETIME = {
    "type": "string",
    "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$",
    "description": "Data e hora locais (America/Sao_Paulo), sem fuso: AAAA-MM-DDTHH:MM:SS",
}
MESSAGE_SCHEMA = {
    "type": "object",
    "properties": {
        "message": {"oneOf": [{"type": "string"}, {"type": "object"}],
                    "description": "Mensagem em português; erros de validação vêm por campo"},
        "field": {"type": "string", "nullable": True, "description": "Campo a que a mensagem se refere"},
    },
    "required": ["message"],
}
ERRORS = {
    "400": "Requisição inválida (dados, filtros ou paginação)",
    "401": "Não autenticado",
    "403": "Sem permissão",
    "404": "Não encontrado (ou fora do que o usuário pode ver)",
    "405": "Método não permitido neste endereço",
    "409": "Conflito: versão desatualizada ou regra que impede a operação",
    "413": "Corpo da requisição grande demais",
    "414": "Endereço (URL) longo demais",
    "415": "Tipo de conteúdo não suportado",
    "422": "Dados que não puderam ser processados",
    "428": "Falta a versão lida (If-Match ou version)",
    "429": "Muitas requisições em pouco tempo",
    "500": "Erro interno",
}
COMMON = ("400", "401", "403", "404", "405", "413", "414", "415", "422", "429", "500")
WRITES = ("409",)
INFO_COLUMN = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "label": {"type": "string"}, "description": {"type": "string"},
                   "type": {"type": "string"}, "required": {"type": "boolean"}, "unique": {"type": "boolean"}},
}


def truthful(spec: dict[str, Any], apis: Optional[dict[str, Any]] = None) -> dict[str, Any]:
    """Correct FAB's generated spec so that it matches what the API really takes and answers.

    ``apis`` maps the class names of the model APIs to the APIs (their relations and versions).
    """
    apis = apis or {}
    versioned = {name: api.resource_name for name, api in apis.items()
                 if sa_inspect(api.datamodel.obj).version_id_col is not None}
    spec = copy.deepcopy(spec)
    components = spec.setdefault("components", {})
    responses = components.setdefault("responses", {})
    for code, description in ERRORS.items():
        responses[code] = {"description": description,
                           "content": {"application/json": {"schema": copy.deepcopy(MESSAGE_SCHEMA)}}}
    # refused by the HTTP server itself before the application reads the request
    responses["414"]["content"]["text/html"] = {"schema": {"type": "string"}}
    for path, operations in spec.get("paths", {}).items():
        for method, operation in operations.items():
            if method not in METHODS:
                continue
            answers = operation.setdefault("responses", {})
            for code in COMMON + (WRITES if method != "get" else ()):
                answers.setdefault(code, {"$ref": f"#/components/responses/{code}"})
            if path.endswith("/_info") and "200" in answers:
                _info_schema(answers["200"])
            for code in ("200", "201"):
                if code in answers:
                    _ids_are_integers(answers[code])
            body = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
            if "schema" in body and "$ref" not in body["schema"]:
                body["schema"].setdefault("type", "object")
    for name, schema in components.get("schemas", {}).items():
        api_name, _, kind = name.partition(".")
        if name.endswith("Input"):  # an object inside a request body (e.g. a customer's phone): as declared
            continue
        if kind in ("post", "put") and api_name in apis:
            _no_blank_required_text(schema)
            _relations_by_id(schema, apis[api_name])
            if kind == "put":  # an update sends only the fields it changes
                schema.pop("required", None)
        else:  # what the API answers: a record may come with only the columns asked for, relations may be null
            schema.pop("required", None)
            _nullable_relations(schema)
        if any(name == f"{api}.put" for api in versioned):
            schema.setdefault("properties", {})["version"] = {
                "type": "integer", "description": "A versão lida (R29); ou envie o cabeçalho If-Match"}
    for path, operations in spec.get("paths", {}).items():
        if "put" in operations and any(path.startswith(f"/api/v1/{name}/") for name in versioned.values()):
            operations["put"].setdefault("parameters", []).append({
                "in": "header", "name": "If-Match", "required": False, "schema": {"type": "string"},
                "description": "ETag devolvido pelo GET do registro (ou envie version no corpo)"})
            operations["put"]["responses"].setdefault("428", {"$ref": "#/components/responses/428"})
    _query_operations(spec)
    login = spec.get("paths", {}).get("/api/v1/security/login", {}).get("post", {})
    provider = (login.get("requestBody", {}).get("content", {}).get("application/json", {})
                .get("schema", {}).get("properties", {}).get("provider"))
    if provider is not None:
        provider["enum"] = ["db"]  # AUTH_DB only
    _walk(spec, _local_datetimes)
    return spec


def _walk(node: Any, change: Callable[[dict], None]) -> None:
    if isinstance(node, dict):
        change(node)
        for value in node.values():
            _walk(value, change)
    elif isinstance(node, list):
        for value in node:
            _walk(value, change)


def _local_datetimes(node: dict) -> None:
    if node.get("format") == "date-time":
        node.pop("format")
        node.update({key: value for key, value in LOCAL_DATETIME.items() if key != "type"})


def _schema_of(answer: dict) -> Optional[dict]:
    return answer.get("content", {}).get("application/json", {}).get("schema")


def _ids_are_integers(answer: dict) -> None:
    schema = _schema_of(answer)
    if not schema:
        return
    properties = schema.get("properties", {})
    if "ids" in properties:
        properties["ids"]["items"] = {"type": "integer"}
    if "id" in properties and properties["id"].get("type") == "string":
        properties["id"] = {"type": "integer"}


def _info_schema(answer: dict) -> None:
    schema = _schema_of(answer)
    if not schema:
        return
    properties = schema.setdefault("properties", {})
    for name in ("add_columns", "edit_columns"):
        properties[name] = {"type": "array", "items": copy.deepcopy(INFO_COLUMN)}
    properties["filters"] = {"type": "object"}
    properties["permissions"] = {"type": "array", "items": {"type": "string"}}
    for name in ("add_title", "edit_title"):
        properties.setdefault(name, {"type": "string"})


def _no_blank_required_text(schema: dict) -> None:
    """A required text is refused when blank (the domain strips and checks it)."""
    for name in schema.get("required", []):
        prop = schema.get("properties", {}).get(name, {})
        if prop.get("type") == "string":
            prop.setdefault("minLength", 1)


def _relations_by_id(schema: dict, api: Any) -> None:
    """A relation is written as the id of an existing record (a list of ids for many-to-many)."""
    datamodel = api.datamodel
    nested = getattr(api, "nested_columns", ())  # relations written as lists of objects (customer's contacts)
    for name in list(schema.get("properties", {})):
        if not datamodel.is_relation(name) or name in nested:
            continue
        id_schema = {"type": "integer", "format": "int32", "minimum": 1, "maximum": MAX_ID}
        if datamodel.is_relation_many_to_many(name) or datamodel.is_relation_one_to_many(name):
            schema["properties"][name] = {"type": "array", "items": id_schema}
        else:
            schema["properties"][name] = {**id_schema, "nullable": datamodel.is_nullable(name)}


def _nullable_relations(schema: dict) -> None:
    """A many-to-one relation answers null when it is not set."""
    for name, prop in list(schema.get("properties", {}).items()):
        if "$ref" in prop:
            schema["properties"][name] = {"nullable": True, "allOf": [{"$ref": prop["$ref"]}]}


class AtendeOpenApi(OpenApi):
    """FAB's /api/<version>/_openapi, corrected by `truthful`."""

    class_permission_name = "OpenApi"

    @expose("/<version>/_openapi")
    @protect()
    @safe
    def get(self, version: str) -> Response:
        """The OpenAPI spec of one API version, as the API really behaves.
        ---
        get:
          parameters:
          - in: path
            schema:
              type: string
            name: version
          responses:
            200:
              description: A especificação OpenAPI
              content:
                application/json:
                  schema:
                    type: object
            404:
              $ref: '#/components/responses/404'
        """
        api_spec = self._create_api_spec(version)
        found = False
        for view in current_app.appbuilder.baseviews:
            if isinstance(view, BaseApi) and view.version == version:
                view.add_api_spec(api_spec)
                found = True
        if not found:
            return self.response_404()
        apis = {api.__class__.__name__: api for api in _model_apis()}
        return self.response(200, **truthful(api_spec.to_dict(), apis))


# ---------------------------------------------------------------- the `q` argument of each resource

QUERY_KINDS = {"get_list": "list", "get": "item", "info": "info"}
PAGE = {"type": "integer", "minimum": 0, "maximum": 1_000_000}
LIST_KEYS = ["list_columns", "order_columns", "label_columns", "description_columns", "list_title", "none"]
ITEM_KEYS = ["show_columns", "description_columns", "label_columns", "show_title", "none"]
INFO_KEYS = ["add_columns", "edit_columns", "filters", "permissions", "add_title", "edit_title", "none"]


def query_schema(api: Any, kind: str) -> dict[str, Any]:
    """The JSON schema of a resource's `q` argument: what the spec publishes is what the API accepts."""
    if kind == "list":
        filters = [
            {"type": "object", "additionalProperties": False, "required": ["col", "opr", "value"],
             "properties": {"col": {"type": "string", "enum": [column]},
                            "opr": {"type": "string", "enum": sorted(oprs)}, "value": value}}
            for column, found in api._filters.get_search_filters().items()
            for value, oprs in _filter_values(api.datamodel, column, [f.arg_name for f in found])
        ]
        columns = {"type": "array", "items": {"type": "string", "enum": list(api.list_columns)}}
        properties: dict[str, Any] = {
            "columns": columns, "select_columns": copy.deepcopy(columns),
            "keys": {"type": "array", "items": {"type": "string", "enum": LIST_KEYS}},
            "order_direction": {"type": "string", "enum": ["asc", "desc"]},
            "page": PAGE, "page_size": PAGE,
        }
        if filters:
            properties["filters"] = {"type": "array", "items": {"oneOf": filters}}
        if api.order_columns:
            properties["order_column"] = {"type": "string", "enum": list(api.order_columns)}
        return {"type": "object", "additionalProperties": False, "properties": properties}
    if kind == "item":
        return {"type": "object", "additionalProperties": False, "properties": {
            "columns": {"type": "array", "items": {"type": "string", "enum": list(api.show_columns)}},
            "keys": {"type": "array", "items": {"type": "string", "enum": ITEM_KEYS}}}}
    paging = {"type": "object", "additionalProperties": False, "properties": {"page": PAGE, "page_size": PAGE}}
    properties = {"keys": {"type": "array", "items": {"type": "string", "enum": INFO_KEYS}}}
    for name, columns in (("add_columns", api.add_columns), ("edit_columns", api.edit_columns)):
        relations = [c for c in columns if api.datamodel.is_relation(c)]
        properties[name] = {"type": "object", "additionalProperties": False,
                            "properties": {c: copy.deepcopy(paging) for c in relations}}
    return {"type": "object", "additionalProperties": False, "properties": properties}


def _column_kind(datamodel: Any, column: str) -> str:
    if datamodel.is_relation(column):
        return "relation"
    for kind, test in (("boolean", datamodel.is_boolean), ("datetime", datamodel.is_datetime),
                       ("date", datamodel.is_date), ("integer", datamodel.is_integer),
                       ("number", lambda c: datamodel.is_float(c) or datamodel.is_numeric(c))):
        if test(column):
            return kind
    return "text"


def filter_value_schema(kind: str, opr: str) -> dict[str, Any]:
    """The value a filter takes: the column's own type (an id for a relation), a list for in/not_in."""
    scalar = {
        "relation": {"type": "integer", "format": "int32", "minimum": 1, "maximum": MAX_ID},
        "boolean": {"type": "boolean"},
        "integer": {"type": "integer", "format": "int32", "minimum": -MAX_INTEGER - 1, "maximum": MAX_INTEGER},
        "number": {"type": "number"},
        "datetime": copy.deepcopy(LOCAL_DATETIME),
        "date": {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"},
        "text": {"type": "string", "maxLength": 200},
    }[kind]
    if opr in ("in", "not_in"):
        return {"type": "array", "items": scalar, "minItems": 1, "maxItems": 100}
    return scalar


def _filter_values(datamodel: Any, column: str, oprs: list[str]) -> list[tuple[dict[str, Any], list[str]]]:
    """The operators of a column grouped by the shape of the value they take."""
    kind = _column_kind(datamodel, column)
    groups: dict[str, tuple[dict[str, Any], list[str]]] = {}
    for opr in oprs:
        value = filter_value_schema(kind, opr)
        key = repr(sorted(value.items()))
        groups.setdefault(key, (value, []))[1].append(opr)
    return list(groups.values())


def _query_operations(spec: dict[str, Any]) -> None:
    """Publish each resource's own `q` schema instead of FAB's shared, permissive ones."""
    for api in _model_apis():
        base = f"/api/{api.version}/{api.resource_name}"
        for path, method, kind in ((f"{base}/", "get", "list"), (f"{base}/{{pk}}", "get", "item"),
                                   (f"{base}/_info", "get", "info")):
            operation = spec.get("paths", {}).get(path, {}).get(method)
            if operation is None:
                continue
            for parameter in operation.get("parameters", []):
                if parameter.get("name") == "q" and parameter.get("in") == "query":
                    parameter["content"] = {"application/json": {"schema": query_schema(api, kind)}}
                if parameter.get("name") == "pk" and parameter.get("in") == "path":
                    parameter["schema"] = {"type": "integer", "format": "int32", "minimum": 1, "maximum": MAX_ID}


def _model_apis() -> list[Any]:
    from flask_appbuilder.api import ModelRestApi

    from app.extensions import appbuilder

    return [view for view in appbuilder.baseviews if isinstance(view, ModelRestApi)]


def check_query() -> Optional[Response]:
    """Refuse a `q` argument that the resource's published schema does not allow (400, pt-BR)."""
    if not request.path.startswith("/api/") or "q" not in request.args or not request.endpoint:
        return None
    view_name, _, method = request.endpoint.partition(".")
    kind = QUERY_KINDS.get(method)
    api = next((view for view in _model_apis() if view.__class__.__name__ == view_name), None)
    if kind is None or api is None:
        return None
    value = _parse_query(request.args["q"])
    if not isinstance(value, dict):
        return _bad_query(gettext("Parâmetro “q” inválido: use Rison ou JSON."))
    error = best_match(Draft4Validator(query_schema(api, kind)).iter_errors(value))
    if error is not None:
        where = "/".join(str(part) for part in error.absolute_path) or "q"
        return _bad_query(gettext("Parâmetro “q” inválido em %(where)s.", where=where))
    for index, item in enumerate(value.get("filters", []) if kind == "list" else []):
        texts = item["value"] if isinstance(item["value"], list) else [item["value"]]
        if any(isinstance(text, str) and has_bad_characters(text) for text in texts):  # no database stores them
            return _bad_query(gettext("Parâmetro “q” inválido em %(where)s: caractere nulo ou fora do padrão "
                                      "Unicode.", where=f"filters/{index}/value"))
        if _column_kind(api.datamodel, item["col"]) in ("date", "datetime") and not _real_moment(item["value"]):
            return _bad_query(gettext("Parâmetro “q” inválido em %(where)s: data inexistente ou fora de 1900–2100.",
                                      where=f"filters/{index}/value"))
    return None


def _real_moment(value: Any) -> bool:
    """A date or date-time that exists, between 1900 and 2100 (the database would fail on anything else)."""
    import datetime as dt

    values = value if isinstance(value, list) else [value]
    try:
        return all(1900 <= dt.datetime.fromisoformat(v).year <= 2100 for v in values)
    except (TypeError, ValueError):
        return False


def _parse_query(raw: str) -> Any:
    import json

    import prison

    try:
        return prison.loads(raw)
    except Exception:  # noqa: BLE001 - FAB then tries JSON, and so do we
        try:
            return json.loads(raw)
        except (ValueError, RecursionError):
            return None


def _bad_query(message: str) -> Response:
    answer = jsonify(message=message)
    answer.status_code = 400
    return answer


# ---------------------------------------------------------------- methods an address does not take


def literal_methods(app: Flask, path: str) -> set[str]:
    """The methods of the rules written exactly as this path (no variable part): /_info, /mass_edit…"""
    methods: set[str] = set()
    for rule in app.url_map.iter_rules():
        if rule.rule == path and not rule.arguments:
            methods |= set(rule.methods or ())
    return methods


def refuse_undeclared_methods() -> Optional[Response]:
    """An API address with its own rule (e.g. /_info) is not a record id: other methods get 405 with its
    Allow header, not a look-up of a record called "_info"; a non-numeric id is simply not found."""
    if not request.path.startswith("/api/"):
        return None
    allowed = literal_methods(current_app, request.path)
    if allowed and request.method == "OPTIONS":
        answer = current_app.make_default_options_response()
        answer.headers["Allow"] = ", ".join(sorted(allowed | {"OPTIONS"}))
        return answer
    pk = (request.view_args or {}).get("pk")
    if pk is None and not allowed and isinstance(request.routing_exception, MethodNotAllowed):
        # GET /api/v1/ticket/abc: only PUT and DELETE take a non-numeric <pk>, so routing says 405; it is no record
        resource, _, last = request.path.rstrip("/").rpartition("/")
        if resource.count("/") == 3 and not last.isdigit():
            abort(404)
    if pk is None or str(pk).isdigit():
        return None
    if allowed and request.method not in allowed:
        answer = jsonify(message=status_message(405))
        answer.status_code = 405
        answer.headers["Allow"] = ", ".join(sorted(allowed | {"OPTIONS"}))
        return answer
    abort(404)


def register(appbuilder: Any) -> None:
    """Serve the corrected spec (and Swagger UI) and answer undeclared methods with 405."""
    appbuilder.add_api(AtendeOpenApi)
    appbuilder.add_view_no_menu(SwaggerView)
    hooks = current_app.before_request_funcs.setdefault(None, [])
    hooks[:0] = [refuse_undeclared_methods, check_query]  # before the input guards: an address comes first
