"""List filters declared once: parsed from the query string, turned into SQL, rendered as a panel.

A `CriteriaSet` is the single mechanism behind a list page, its exports, its mass actions
"on everything the filter selects" and the dashboards' links to it.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping, Optional, Sequence
from urllib.parse import urlencode

from flask_babel import gettext
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.inputs import BAD_CHARACTERS, has_bad_characters, in_date_range, parse_id

Condition = Callable[[Any, dict, dt.datetime], Any]


@dataclass
class Criterion:
    """One filter of a list.

    kind: ``ids`` (one or more ids, comma separated), ``choice`` (one code of ``options``),
    ``choices`` (several codes), ``bool`` (1/0), ``date`` (dd/mm/aaaa or aaaa-mm-dd), ``text``,
    ``lookup`` (one id picked with a remote search).
    """

    name: str
    label: Any
    kind: str
    condition: Optional[Condition] = None
    options: Any = None  # a model (ids), a list of (code, label) or a callable returning one
    lookup: Optional[str] = None
    group: str = "main"

    def parse(self, raw: str) -> Any:
        raw = raw.strip()
        if has_bad_characters(raw):
            raise ValueError(raw)
        if self.kind == "ids" or self.kind == "lookup":
            values = [parse_id(part) for part in raw.split(",") if part.strip()]
            if None in values:
                raise ValueError(raw)
            return values
        if self.kind == "bool":
            if raw not in ("0", "1"):
                raise ValueError(raw)
            return raw == "1"
        if self.kind == "date":
            return parse_date(raw)
        if self.kind in ("choice", "choices"):
            codes = [str(code) for code, _label in self.option_list()]
            values = [part.strip() for part in raw.split(",") if part.strip()]
            if not values or any(value not in codes for value in values):
                raise ValueError(raw)
            return values[0] if self.kind == "choice" else values
        return raw[:200]

    def option_list(self) -> list[tuple[Any, Any]]:
        options = self.options() if callable(self.options) and not isinstance(self.options, type) else self.options
        return list(options or [])


def parse_date(raw: str) -> dt.date:
    """A day typed as dd/mm/aaaa or aaaa-mm-dd, between 1900 and 2100."""
    for pattern in ("%d/%m/%Y", "%Y-%m-%d", "%Y-%m-%d %H:%M:%S"):
        try:
            day = dt.datetime.strptime(raw, pattern).date()
        except ValueError:
            continue
        if in_date_range(day):
            return day
    raise ValueError(raw)


@dataclass
class Selection:
    """Parsed criteria: the values, the pt-BR errors of rejected ones, and whether any was given."""

    values: dict[str, Any] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    given: bool = False


class CriteriaSet:
    def __init__(self, criteria: Sequence[Criterion]) -> None:
        self.criteria = list(criteria)
        self.by_name = {criterion.name: criterion for criterion in self.criteria}

    def parse(self, args: Mapping[str, Any]) -> Selection:
        """Read criteria from a query string (MultiDict or dict of lists); bad values are reported and ignored."""
        selection = Selection()
        for criterion in self.criteria:
            raw = _raw_values(args, criterion.name)
            if raw is None:
                continue
            selection.given = True
            if not raw.strip():
                continue
            try:
                selection.values[criterion.name] = criterion.parse(raw)
            except (ValueError, TypeError):
                selection.errors.append(
                    gettext("Filtro “%(label)s”: valor inválido (%(value)s); o filtro foi ignorado.",
                            label=criterion.label, value=BAD_CHARACTERS.sub("", raw[:40]))
                )
        return selection

    def conditions(self, values: dict[str, Any], when: dt.datetime) -> list[Any]:
        result = []
        for name, value in values.items():
            criterion = self.by_name[name]
            if criterion.condition is None:
                continue
            clause = criterion.condition(value, values, when)
            if clause is not None:
                result.append(clause)
        return result

    def query_args(self, **values: Any) -> dict[str, str]:
        """Query-string arguments for the given criteria values (ids, codes, dates, booleans)."""
        args = {}
        for name, value in values.items():
            if name not in self.by_name:
                raise KeyError(name)
            args[name] = format_value(value)
        return args

    def query_string(self, **values: Any) -> str:
        return urlencode(self.query_args(**values))

    def normalized(self, args: Mapping[str, Any]) -> Optional[dict[str, str]]:
        """Arguments with repeated criteria joined by commas, or None when nothing needs joining."""
        changed = False
        result: dict[str, Any] = {}
        for key in args.keys():
            values = args.getlist(key) if hasattr(args, "getlist") else list(_as_list(args[key]))
            if key in self.by_name and len(values) > 1:
                result[key] = ",".join(value for value in values if value)
                changed = True
            else:
                result[key] = values if len(values) > 1 else (values[0] if values else "")
        return result if changed else None

    def panel(self, session: Session, values: dict[str, Any]) -> list[dict[str, Any]]:
        """What the filter panel template needs: each criterion with its options and current value."""
        fields = []
        for criterion in self.criteria:
            options: list[tuple[Any, Any]] = []
            if criterion.kind == "ids" and isinstance(criterion.options, type):
                options = model_options(session, criterion.options)
            elif criterion.kind == "ids" and callable(criterion.options):
                options = criterion.options(session)
            elif criterion.kind in ("choice", "choices"):
                options = criterion.option_list()
            elif criterion.kind == "lookup" and criterion.options is not None and values.get(criterion.name):
                options = criterion.options(session, values[criterion.name])
            value = values.get(criterion.name)
            fields.append({
                "name": criterion.name, "label": criterion.label, "kind": criterion.kind,
                "group": criterion.group, "lookup": criterion.lookup, "options": options,
                "selected": {str(v) for v in _as_list(value)} if value is not None else set(),
                "value": format_date(value) if isinstance(value, dt.date) else ("" if value is None else value),
            })
        return fields

    def describe(self, session: Session, values: dict[str, Any]) -> str:
        """The active filters in words, for export headers: "Status: Pendente; Cidade: Porto Alegre/RS"."""
        parts = []
        fields = {field["name"]: field for field in self.panel(session, values)}
        for name, value in values.items():
            entry = fields[name]
            if entry["kind"] in ("ids", "lookup", "choice", "choices"):
                text = ", ".join(str(label) for code, label in entry["options"] if str(code) in entry["selected"])
            elif entry["kind"] == "bool":
                text = gettext("Sim") if value else gettext("Não")
            else:
                text = str(entry["value"])
            parts.append(f"{entry['label']}: {text}")
        return "; ".join(parts)

    def matching_ids(self, id_column: Any, values: dict[str, Any], when: dt.datetime, scope: Any = None) -> Any:
        """A SELECT of the ids of every record the criteria match, within a scope condition."""
        query = select(id_column).where(*self.conditions(values, when))
        return query if scope is None else query.where(scope)

    def list_url(self, view: str, **values: Any) -> str:
        """The list page of a view filtered by the given criteria; ``order`` and ``direction`` pass through."""
        from flask import url_for

        order = {key: str(values.pop(key)) for key in ("order", "direction") if key in values}
        query = self.query_args(**values)
        query.update(order)
        return url_for(f"{view}.list") + "?" + urlencode(query)


def first_arg(args: Mapping[str, Any], name: str) -> Optional[str]:
    """One query-string value, whether args is a MultiDict, a dict of strings or a dict of lists."""
    value = args.get(name)
    if isinstance(value, (list, tuple)):
        value = value[0] if value else None
    return None if value is None else str(value)


def total_order(orderings: dict[str, tuple[Any, Any]], args: Mapping[str, Any], id_column: Any,
                default: str) -> list[Any]:
    """ORDER BY of a list: the chosen column and direction (empty dates last), then the id, so the order is total."""
    _label, column = orderings.get(first_arg(args, "order") or default, orderings[default])
    descending = (first_arg(args, "direction") or "desc") != "asc"
    tie = id_column.desc() if descending else id_column.asc()
    if column is id_column:
        return [tie]
    key = column.desc() if descending else column.asc()
    nullable = getattr(getattr(column, "expression", None), "nullable", True)
    return [key.nulls_last() if nullable else key, tie]


def period_criteria(columns: dict[str, Any], labels: list[tuple[str, Any]]) -> list[Criterion]:
    """"Tipo de data", "Data inicial" and "Data final" (inclusive days) over the date columns of a list."""
    from flask_babel import lazy_gettext as _l

    default = next(iter(columns))

    def column(values: dict) -> Any:
        return columns[values.get("date_field", default)]

    return [
        Criterion("date_field", _l("Tipo de data"), "choice", options=labels, group="period"),
        Criterion("date_from", _l("Data inicial"), "date", group="period",
                  condition=lambda day, values, when: column(values) >= day_bounds(day)[0]),
        Criterion("date_to", _l("Data final"), "date", group="period",
                  condition=lambda day, values, when: column(values) < day_bounds(day)[1]),
    ]


def user_options(session: Session, *conditions: Any) -> list[tuple[int, str]]:
    from app.models import User

    rows = session.execute(select(User.id, User.first_name, User.last_name).where(*conditions)
                           .order_by(User.first_name, User.last_name))
    return [(row.id, f"{row.first_name} {row.last_name}".strip()) for row in rows]


def city_options(session: Session) -> list[tuple[int, str]]:
    from app.models import City

    return [(row.id, f"{row.name}/{row.state}") for row in session.execute(
        select(City.id, City.name, City.state).order_by(City.name, City.state))]


def customer_labels(session: Session, ids: list[int]) -> list[tuple[int, str]]:
    from app.models import Customer

    return [(row.id, row.name) for row in session.execute(select(Customer.id, Customer.name).where(Customer.id.in_(ids)))]


def model_options(session: Session, model: Any) -> list[tuple[int, str]]:
    column = getattr(model, "name")
    return [(row.id, row.name) for row in session.execute(select(model.id, column.label("name")).order_by(column))]


def format_value(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (dt.datetime, dt.date)):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, (list, tuple, set)):
        return ",".join(format_value(item) for item in value)
    if hasattr(value, "id"):
        return str(value.id)
    return str(value)


def format_date(value: dt.date) -> str:
    return value.strftime("%d/%m/%Y")


def day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(day, dt.time())
    return start, start + dt.timedelta(days=1)


def _as_list(value: Any) -> Iterable[Any]:
    return value if isinstance(value, (list, tuple, set)) else [value]


def _raw_values(args: Mapping[str, Any], name: str) -> Optional[str]:
    if hasattr(args, "getlist"):
        values = args.getlist(name)
        if not values and name not in args:
            return None
    elif name in args:
        values = list(_as_list(args[name]))
    else:
        return None
    return ",".join(str(value) for value in values if value is not None)
