"""Refuse malformed requests at the door, before any view or query runs (one guard for the pages and the API).

- ids in the path past 64 bits (or not numbers), unknown FAB actions, chart groups or files: 404;
- a NUL byte or a lone surrogate in the query string, the form or a JSON body: 400;
- FAB's paging (``page_*``, ``psize_*``), ordering (``_oc_*``) and filter (``_flt_*``) arguments that are not what
  the view can use: 400;
- a JSON body that is not an object, or nested deeper than any API needs: 400.

Errors are answered by the application's pt-BR error pages (app.pages.errors): the page in the layout with the reason
flashed, or JSON ``{"message"}`` for the API.
"""
from __future__ import annotations

import re
from typing import Any, Iterable, NoReturn, Optional

import prison
from dateutil import parser as date_parser
from flask import abort, current_app, flash, jsonify, make_response, request
from flask_babel import gettext

from app.domain.inputs import (
    JSON_MAX_DEPTH,
    MAX_ID,
    PAGE_MAX,
    PAGE_SIZE_MAX,
    has_bad_characters,
    in_date_range,
    parse_id,
)

_FAB_FILTER = re.compile(r"_flt_(\d)_(.*)")
_DIGITS = re.compile(r"[0-9]{1,8}")
_JSON_TOKENS = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def refuse(code: int, message: str) -> NoReturn:
    """Stop the request with a pt-BR error: JSON for the API, the error page (reason flashed) otherwise."""
    from app.pages.errors import wants_json

    if wants_json():
        abort(make_response(jsonify(message=message), code))
    flash(message, "danger")
    abort(code)


def check_request() -> None:
    """The guard itself (a before_request hook)."""
    view = _view()
    _check_path(view)
    _check_texts()
    _check_selection()
    _check_paging()
    if view is not None:
        _check_fab_list_args(view)
        _check_fab_action(view)
        _check_api_query(view)
    _check_json_body()


# ---------------------------------------------------------------- path


def _view() -> Optional[Any]:
    """The FAB view (or API) object whose method answers this request."""
    function = current_app.view_functions.get(request.endpoint or "")
    return getattr(function, "__self__", None)


def _check_path(view: Optional[Any]) -> None:
    for name, value in (request.view_args or {}).items():
        if isinstance(value, int) and value > MAX_ID:
            abort(404)
        if isinstance(value, str) and has_bad_characters(value):
            abort(404)
        if (name == "pk" or name.endswith("_id")) and parse_id(value) is None:
            abort(404)
    args = request.view_args or {}
    if "group_by" in args:  # FAB's charts: an index into the view's definitions
        raw = str(args["group_by"])
        if not _DIGITS.fullmatch(raw) or int(raw) >= len(getattr(view, "definitions", None) or []):
            abort(404)
    if "filename" in args and (request.endpoint or "").endswith(".download") and "_sep_" not in str(args["filename"]):
        abort(404)  # FAB's file download: only names it stored ("<uuid>_sep_<name>")


# ---------------------------------------------------------------- texts


def _check_texts() -> None:
    for values in (request.args, request.form) if request.method != "GET" else (request.args,):
        for key, items in values.lists():
            if any(has_bad_characters(text) for text in (key, *items)):
                refuse(400, gettext("O texto enviado contém caracteres inválidos (caractere nulo ou fora do padrão "
                                    "Unicode). Corrija e tente de novo."))


def _check_selection() -> None:
    """The rows ticked in a list (FAB's and the mass actions' ``rowid``) are record ids."""
    if request.method == "POST" and any(parse_id(value) is None for value in request.form.getlist("rowid")):
        refuse(400, gettext("Seleção inválida: marque os registros na lista e tente de novo."))


# ---------------------------------------------------------------- paging, ordering and filters of lists


def _check_paging() -> None:
    for key, value in request.args.items(multi=True):
        if "psize_" in key or key == "psize":  # FAB reads any argument containing "psize_" or "page_" as a number
            limit = PAGE_SIZE_MAX
        elif "page_" in key or key == "page":
            limit = PAGE_MAX
        else:
            continue
        if not _DIGITS.fullmatch(value) or int(value) > limit:
            refuse(400, gettext("Paginação inválida: a página e o tamanho da página são números inteiros sem sinal "
                                "(no máximo %(max)d registros por página).", max=PAGE_SIZE_MAX))


def _views_by_name() -> dict[str, Any]:
    from app.extensions import appbuilder

    return {type(view).__name__: view for view in appbuilder.baseviews}


def _check_fab_list_args(view: Any) -> None:
    """FAB's ``_oc_<View>`` must name a column the view orders by; ``_flt_<n>_<column>`` a filter it has, with a
    value of the column's type."""
    views: Optional[dict[str, Any]] = None
    for key, value in request.args.items(multi=True):
        if key.startswith("_oc_"):
            views = views or _views_by_name()
            target = views.get(key[4:])
            if target is not None and value not in (getattr(target, "order_columns", None) or []):
                refuse(400, gettext("Ordenação inválida: escolha uma das colunas da lista."))
        match = _FAB_FILTER.fullmatch(key)
        if match is None:
            continue
        filters = getattr(getattr(view, "_filters", None), "_all_filters", None) or {}
        column = match.group(2)
        if column in filters and (int(match.group(1)) >= len(filters[column]) or not _filter_value_ok(view, column,
                                                                                                     value)):
            refuse(400, gettext("Filtro inválido: confira o valor informado em “%(column)s”.", column=column))


LIST_OPERATORS = ("in", "not_in")
TRUTH = ("y", "n", "true", "false", "1", "0")


def _filter_value_ok(view: Any, column: str, value: Any, operator: str = "") -> bool:
    """A filter value the column can be compared with: a number in range for ids and integers, a date in range, a
    text for a text column, true/false for a flag; a list only for ``in``."""
    datamodel = view.datamodel
    if isinstance(value, list):
        return operator in LIST_OPERATORS and all(_filter_value_ok(view, column, item) for item in value)
    if isinstance(value, dict) or value is None:
        return False
    if column not in datamodel.list_columns and not datamodel.is_relation(column):
        return True  # FAB refuses unknown columns itself
    text = value.strip() if isinstance(value, str) else ""
    if datamodel.is_relation(column) or datamodel.is_integer(column):
        if isinstance(value, int) and not isinstance(value, bool):
            return abs(value) <= MAX_ID
        number = text[1:] if text.startswith("-") else text
        return isinstance(value, str) and (text == "" or (number.isascii() and number.isdigit()
                                                          and int(number) <= MAX_ID))
    if datamodel.is_boolean(column):
        return isinstance(value, bool) or text.lower() in TRUTH
    if datamodel.is_date(column) or datamodel.is_datetime(column):
        try:
            return isinstance(value, str) and (text == "" or in_date_range(date_parser.parse(text)))
        except (ValueError, OverflowError):
            return False
    if datamodel.is_string(column) or datamodel.is_text(column):
        return isinstance(value, str)
    return not isinstance(value, bool)


def _check_api_query(view: Any) -> None:
    """The REST API's ``q`` (Rison): pages and page sizes are numbers in range, filter values fit their columns."""
    raw = request.args.get("q")
    if not raw or not request.path.startswith("/api/") or getattr(view, "datamodel", None) is None:
        return
    try:
        query = prison.loads(raw)
    except RecursionError:
        refuse(400, gettext("Parâmetro “q” inválido: aninhamento demais."))
    except Exception:  # noqa: BLE001 - not Rison: FAB answers it (400)
        return
    if not _paging_ok(query):
        refuse(400, gettext("Paginação inválida: “page” e “page_size” são números inteiros a partir de 0 (acima de "
                            "%(max)d registros por página, a página traz %(max)d).", max=PAGE_SIZE_MAX))
    for found in query.get("filters") or [] if isinstance(query, dict) else []:
        if isinstance(found, dict) and isinstance(found.get("col"), str) and "value" in found \
                and not _filter_value_ok(view, found["col"], found["value"], str(found.get("opr", ""))):
            refuse(400, gettext("Filtro inválido: confira o valor informado em “%(column)s”.", column=found["col"]))


def _paging_ok(value: Any) -> bool:
    """Every "page" and "page_size" in the query, at any depth (``_info`` pages related lists too), is a whole number
    from 0 (FAB brings a page size above FAB_API_MAX_PAGE_SIZE down to it)."""
    if isinstance(value, list):
        return all(_paging_ok(item) for item in value)
    if not isinstance(value, dict):
        return True
    for key, item in value.items():
        if key in ("page", "page_size"):
            if isinstance(item, bool) or not isinstance(item, int) or not 0 <= item <= PAGE_MAX:
                return False
        elif not _paging_ok(item):
            return False
    return True


def _check_fab_action(view: Any) -> None:
    """FAB's ``action/<name>/<pk>`` and ``action_post``: only the view's own actions."""
    endpoint = request.endpoint or ""
    if endpoint.endswith(".action"):
        name = (request.view_args or {}).get("name")
    elif endpoint.endswith(".action_post") and request.method == "POST":
        name = request.form.get("action", "")
    else:
        return
    if name not in (getattr(view, "actions", None) or {}):
        abort(404)


# ---------------------------------------------------------------- JSON bodies


def _check_json_body() -> None:
    if request.method not in ("POST", "PUT", "PATCH") or not request.is_json or not request.content_length:
        return
    raw = request.get_data(cache=True)
    if _depth(_JSON_TOKENS.findall(raw)) > JSON_MAX_DEPTH:
        refuse(400, gettext("O corpo da requisição tem níveis demais (no máximo %(max)d).", max=JSON_MAX_DEPTH))
    body = request.get_json(silent=True)
    if body is None and raw.strip() not in (b"null",):
        refuse(400, gettext("O corpo da requisição deve ser JSON."))
    if not isinstance(body, dict):
        refuse(400, gettext("O corpo da requisição deve ser um objeto JSON."))
    if any(has_bad_characters(text) for text in _strings(body)):
        refuse(400, gettext("O texto enviado contém caracteres inválidos (caractere nulo ou fora do padrão "
                            "Unicode). Corrija e tente de novo."))


def _depth(tokens: Iterable[bytes]) -> int:
    depth = deepest = 0
    for token in tokens:
        if token in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
        elif token in (b"]", b"}"):
            depth -= 1
    return deepest


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def register(appbuilder: Any) -> None:
    """Run the guard before every request (after FAB has set the user, CSRF and the body size were checked)."""
    current_app.before_request(check_request)
