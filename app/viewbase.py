"""Base classes for Atende's views and APIs: labels, pt-BR formats, domain errors → answers."""
from __future__ import annotations

from typing import Any, Callable, Optional

from flask import g
from flask_appbuilder import ModelView
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import lazy_gettext as _l
from sqlalchemy import Boolean, Date, DateTime, inspect
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm.exc import StaleDataError

from app.domain.errors import Conflict, DomainError
from app.domain.labels import choice_label
from app.extensions import db
from app.formatting import format_bool, format_date
from app.forms import BRDateField, BRDateTimeField
from app.labels import COLUMN_LABELS, MODEL_NAMES

STALE_MESSAGE = _l(
    "Este registro foi alterado por outro usuário enquanto você editava. "
    "Recarregue a página para ver a versão atual; nada foi salvo."
)
DATABASE_MESSAGE = _l("Não foi possível salvar: os dados conflitam com outro registro.")
class AtendeInterface(SQLAInterface):
    """SQLAInterface that turns a stale save into a domain conflict (R12)."""

    def edit(self, item: Any, commit: bool = True) -> None:
        try:
            super().edit(item, commit)
        except Exception as exc:
            if isinstance(exc.__cause__, StaleDataError) or isinstance(exc, StaleDataError):
                self.session.rollback()
                raise Conflict(STALE_MESSAGE) from exc
            raise


def current_user() -> Any:
    return getattr(g, "user", None)


def column_kinds(model: Any) -> dict[str, type]:
    kinds = {}
    for column in inspect(model).columns:
        for kind in (DateTime, Date, Boolean):
            if isinstance(column.type, kind):
                kinds[column.key] = kind
                break
    return kinds


CHOICE_COLUMNS = {
    "person_type": "person_type",
    "type": "type",
    "direction": "direction",
    "category": "category",
    "kind": "phone_kind",
}


def blank_none(value: Any) -> Any:
    """Show an empty cell, not "None", for a missing value."""
    if value is None:
        return ""
    if isinstance(value, (list, tuple, set)):
        return ", ".join(str(item) for item in value)
    return value


class DomainHooks:
    """Route pre_add/pre_update/pre_delete through the domain; a broken rule saves nothing."""

    rules_add: Optional[Callable[[Any], None]] = None
    rules_update: Optional[Callable[[Any], None]] = None
    rules_delete: Optional[Callable[[Any], None]] = None

    def _run(self, rule: Optional[Callable[[Any], None]], item: Any) -> None:
        if rule is None:
            return
        try:
            rule(item)
        except DomainError:
            db.session.rollback()
            raise

    def pre_add(self, item: Any) -> None:
        self._run(self.rules_add, item)

    def pre_update(self, item: Any) -> None:
        self._run(self.rules_update, item)

    def pre_delete(self, item: Any) -> None:
        self._run(self.rules_delete, item)


def _without_autoflush(form_class: Any) -> Any:
    """Fill the object from the form without flushing half-filled changes.

    Loading a lazy relationship (e.g. the assignees) while the form is copied
    into the object would autoflush: the row would be written (and its version
    bumped) before the domain compares the stored and the new state.
    """
    if form_class is None or getattr(form_class, "_atende_no_autoflush", False):
        return form_class

    class Form(form_class):  # type: ignore[misc, valid-type]
        _atende_no_autoflush = True

        def populate_obj(self, obj: Any) -> None:
            with db.session.no_autoflush:
                super().populate_obj(obj)

    Form.__name__ = form_class.__name__
    return Form


class AtendeModelView(DomainHooks, ModelView):
    """A FAB ModelView with pt-BR labels, dates as dd/mm/aaaa and domain rules."""

    label_columns = COLUMN_LABELS
    page_size = 25
    choice_kinds: dict[str, str] = {}

    def __init__(self, **kwargs: Any) -> None:
        model = self.datamodel.obj
        kinds = column_kinds(model)
        self.formatters_columns = dict(self.formatters_columns or {})
        self.add_form_extra_fields = dict(self.add_form_extra_fields or {})
        self.edit_form_extra_fields = dict(self.edit_form_extra_fields or {})
        for name, kind in kinds.items():
            if kind is Boolean:
                self.formatters_columns.setdefault(name, format_bool)
                continue
            self.formatters_columns.setdefault(name, format_date)
            field_class = BRDateTimeField if kind is DateTime else BRDateField
            for extra in (self.add_form_extra_fields, self.edit_form_extra_fields):
                extra.setdefault(name, field_class(COLUMN_LABELS.get(name, name)))
        for name, kind in {**CHOICE_COLUMNS, **self.choice_kinds}.items():
            if hasattr(model, name) and name not in kinds:
                self.formatters_columns.setdefault(name, lambda v, k=kind: choice_label(k, v))
        for name in inspect(model).attrs.keys():
            self.formatters_columns.setdefault(name, blank_none)
        singular, plural = MODEL_NAMES.get(model.__name__, (model.__name__, model.__name__))
        self.list_title = self.list_title or plural
        self.show_title = self.show_title or singular
        self.add_title = self.add_title or _l("Adicionar: %(name)s", name=singular)
        self.edit_title = self.edit_title or _l("Editar: %(name)s", name=singular)
        super().__init__(**kwargs)
        self.add_form = _without_autoflush(self.add_form)
        self.edit_form = _without_autoflush(self.edit_form)

    def _delete(self, pk: Any) -> None:
        try:
            return super()._delete(pk)
        except SQLAlchemyError:
            db.session.rollback()
            raise


class ReadOnlyModelView(AtendeModelView):
    base_permissions = ["can_list", "can_show"]
