"""Base classes for Atende's views and APIs: labels, pt-BR formats, domain errors → answers."""
from __future__ import annotations

from typing import Any, Callable, Optional

from flask import abort, flash, g, redirect, request, url_for
from flask_appbuilder import ModelView
from flask_appbuilder.exceptions import DatabaseException, FABException
from flask_appbuilder.fields import QuerySelectField
from flask_appbuilder.validators import Unique
from flask_appbuilder.urltools import get_filter_args, get_order_args, get_page_args, get_page_size_args
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import gettext, lazy_gettext as _l
from wtforms import BooleanField, HiddenField
from wtforms.fields.core import UnboundField
from wtforms.validators import DataRequired, InputRequired, Length, Optional as Optional_, StopValidation
from wtforms.widgets import HiddenInput
from sqlalchemy import Boolean, Date, DateTime, inspect
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm.exc import StaleDataError

from app.domain.errors import Conflict, DomainError
from app.domain.inputs import database_error, too_long, unique_message
from app.domain.versions import check_version
from app.domain.labels import choice_label
from app.extensions import db
from app.formatting import format_bool, format_date
from app.forms import BRDateField, BRDateTimeField, ZipCodeField
from app.labels import COLUMN_LABELS, MODEL_NAMES

STALE_MESSAGE = _l(
    "Este registro foi alterado por outro usuário enquanto você editava. "
    "Recarregue a página para ver a versão atual; nada foi salvo."
)
DATABASE_MESSAGE = _l("Não foi possível salvar: os dados conflitam com outro registro.")
class AtendeInterface(SQLAInterface):
    """SQLAInterface that turns a stale save into a domain conflict (R12) and a database refusal into what it means
    (app.domain.inputs.database_error), for the forms and the API alike."""

    def add(self, item: Any, commit: bool = True) -> None:
        try:
            super().add(item, commit)
        except SQLAlchemyError as exc:
            raise database_error(exc) from exc

    def edit(self, item: Any, commit: bool = True) -> None:
        try:
            super().edit(item, commit)
        except Exception as exc:
            if isinstance(exc.__cause__, StaleDataError) or isinstance(exc, StaleDataError):
                self.session.rollback()
                raise Conflict(STALE_MESSAGE) from exc
            if isinstance(exc, (SQLAlchemyError, DatabaseException)):
                raise database_error(exc) from exc
            raise

    def delete(self, item: Any, commit: bool = True) -> None:
        try:
            super().delete(item, commit)
        except (SQLAlchemyError, DatabaseException) as exc:
            raise database_error(exc) from exc


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


NOT_SAVED_MESSAGE = _l("Não foi possível salvar: corrija o campo indicado.")
SAVED_ARG = "salvo"
PAGE_LOOKUP_MAX = 5000


def relax_booleans(form_class: Any) -> None:
    """A checkbox is never required: unticked is a value (FAB makes non-nullable booleans required)."""
    if form_class is None:
        return
    for name in dir(form_class):
        unbound = getattr(form_class, name, None)
        if isinstance(unbound, UnboundField) and issubclass(unbound.field_class, BooleanField):
            validators = unbound.kwargs.get("validators") or []
            unbound.kwargs["validators"] = [
                v for v in validators if not isinstance(v, (InputRequired, DataRequired))
            ]


class TextLimit(Length):
    """The length limit of a text column, refused with the limit in pt-BR: "No máximo 10.000 caracteres (…)"."""

    def __init__(self, limit: int) -> None:
        super().__init__(max=limit)

    def __call__(self, form: Any, field: Any) -> None:
        length = len(field.data or "")
        if length > self.max:
            raise StopValidation(too_long(self.max, length))


def explain_limits(form_class: Any) -> None:
    """The length and uniqueness checks FAB derives from the columns answer in pt-BR, naming the limit or the record."""
    if form_class is None:
        return
    for name in dir(form_class):
        unbound = getattr(form_class, name, None)
        if not isinstance(unbound, UnboundField) or not unbound.kwargs.get("validators"):
            continue
        validators = list(unbound.kwargs["validators"])
        for index, validator in enumerate(validators):
            if type(validator) is Length and (validator.max or -1) > 0:
                validators[index] = TextLimit(validator.max)
            elif isinstance(validator, Unique):
                validator.message = unique_message(validator.datamodel.obj.__name__, [validator.col_name])
        unbound.kwargs["validators"] = validators


def usable_choice(obj: Any) -> bool:
    """Only active options are offered for new data (R6)."""
    return getattr(obj, "active", True) is not False


EXPECTED_VERSION = "expected_version"


class FormSavingMixin:
    """What every generated form does on Salvar: keep what was typed on a refusal, land on the record.

    - booleans are never required (a checkbox can be switched off);
    - selects offer only active options, plus the record's current ones (R6);
    - a refused save (broken rule, stale record, database conflict) re-renders the form with every
      typed value and the pt-BR message at its field;
    - a versioned record's edit form carries the version it read: a save over someone else's saves nothing (R12);
    - after a save the user lands on the record's natural page (``saved_url``).
    """

    choice_rules: dict[str, Callable[[Any], bool]] = {}
    after_save = "list"  # "list": the list with the saved row highlighted; "show": the record's page
    after_save_parent: Optional[tuple[str, str]] = None  # (relation, endpoint): the parent record's page
    stale_message: Any = STALE_MESSAGE

    def _init_forms(self) -> None:
        super()._init_forms()  # type: ignore[misc]
        for form_class in (self.add_form, self.edit_form):
            relax_booleans(form_class)
            explain_limits(form_class)
        if self.edit_form is not None and self._version_attribute() and not hasattr(self.edit_form, EXPECTED_VERSION):
            setattr(self.edit_form, EXPECTED_VERSION, HiddenField())

    def _version_attribute(self) -> Optional[str]:
        """The attribute SQLAlchemy counts the record's versions in, when the model has one."""
        mapper = inspect(self.datamodel.obj)
        column = mapper.version_id_col
        return mapper.get_property_by_column(column).key if column is not None else None

    # ------------------------------------------------------------ choices
    def limit_choices(self, form: Any, item: Any = None) -> None:
        """Offer only usable options in related selects, keeping the record's current ones."""
        for field in form:
            if not isinstance(field, QuerySelectField) or not self.datamodel.is_relation(field.name):
                continue
            model = self.datamodel.get_related_model(field.name)
            rule = self.choice_rules.get(field.name)
            if rule is None:
                if not hasattr(model, "active"):
                    continue
                rule = usable_choice
            current = getattr(item, field.name, None) if item is not None else None
            keep = list(current) if isinstance(current, (list, tuple, set)) else ([current] if current is not None else [])
            field.query_func = _limited(field.query_func, rule, keep)
            field._object_list = None

    # ------------------------------------------------------------ add / edit
    def _add(self) -> Any:
        get_filter_args(self._filters, disallow_if_not_in_search=False)
        exclude_cols = self._filters.get_relation_cols()
        form = self.add_form.refresh()
        self.limit_choices(form)
        if request.method == "POST":
            self._fill_form_exclude_cols(exclude_cols, form)
            if form.validate():
                self.process_form(form, True)
                item = self.datamodel.obj()
                if self._save(form, item, adding=True):
                    return None
        return self._get_add_widget(form=form, exclude_cols=exclude_cols)

    def _edit(self, pk: Any) -> Any:
        get_filter_args(self._filters, disallow_if_not_in_search=False)
        exclude_cols = self._filters.get_relation_cols()
        item = self.datamodel.get(pk, self._base_filters)
        if not item:
            abort(404)
        pk = self.datamodel.get_pk_value(item)
        if request.method == "POST":
            form = self.edit_form.refresh(obj=item)  # the posted values win; read-only fields keep the record's
            self.limit_choices(form, item)
            self._fill_form_exclude_cols(exclude_cols, form)
            form._id = pk
            if form.validate():
                self.process_form(form, False)
                if self._save(form, item, adding=False):
                    return None
                item = self.datamodel.get(pk, self._base_filters)
                if not item:
                    abort(404)
        else:
            form = self.edit_form.refresh(obj=item)
            self.limit_choices(form, item)
            self.prefill_form(form, pk)
            version = self._version_attribute()
            if version:
                form[EXPECTED_VERSION].data = getattr(item, version)
        widgets = self._get_edit_widget(form=form, exclude_cols=exclude_cols)
        return self._get_related_views_widgets(
            item, filters={}, orders=get_order_args(), pages=get_page_args(), page_sizes=get_page_size_args(),
            widgets=widgets,
        )

    def _save(self, form: Any, item: Any, adding: bool) -> bool:
        """Fill, check and store the record; on a refusal put the message on the form and store nothing."""
        try:
            version = None if adding else self._version_attribute()
            if version:
                check_version(getattr(item, version), form[EXPECTED_VERSION].data, self.stale_message)
            form.populate_obj(item)
            if adding:
                self.pre_add(item)
                self.datamodel.add(item)
                self.post_add(item)
            else:
                self.pre_update(item)
                self.datamodel.edit(item)
                self.post_update(item)
        except DomainError as error:
            db.session.rollback()
            self._refuse(form, error.message, error.field)
            return False
        except (SQLAlchemyError, DatabaseException) as error:
            db.session.rollback()
            refusal = database_error(error)
            self._refuse(form, refusal.message, refusal.field)
            return False
        except FABException as error:  # FAB's own refusals (e.g. a role that still has users)
            db.session.rollback()
            self._refuse(form, str(error), None)
            return False
        g.atende_saved = item
        flash(self.saved_message(item), "success")
        return True

    def _refuse(self, form: Any, message: str, field: Optional[str]) -> None:
        target = form._fields.get(field) if field else None
        if target is not None and not isinstance(target.widget, HiddenInput):
            target.errors = [*target.errors, message]
            flash(str(NOT_SAVED_MESSAGE), "danger")
        else:
            flash(message, "danger")

    def saved_message(self, item: Any) -> str:
        return gettext("Registro salvo: %(name)s.", name=str(item))

    # ------------------------------------------------------------ where the user lands
    def saved_url(self, item: Any) -> str:
        """The record's natural page: its parent's, its own, or the list page that shows it highlighted."""
        if self.after_save_parent is not None:
            relation, endpoint = self.after_save_parent
            parent = getattr(item, relation, None)
            if parent is not None:
                return url_for(endpoint, pk=parent.id)
        if self.after_save == "show":
            return url_for(".show", pk=self.datamodel.get_pk_value(item))
        args: dict[str, Any] = {SAVED_ARG: self.datamodel.get_pk_value(item)}
        page = self._page_of(item)
        if page:
            args[f"page_{self.__class__.__name__}"] = page
        return url_for(".list", **args)

    def _page_of(self, item: Any) -> int:
        """The list page (0-based) where the item appears in the default order."""
        order_column, order_direction = self.base_order or ("", "")
        pk_name = self.datamodel.get_pk_name()
        count, rows = self.datamodel.query(
            self._base_filters, order_column, order_direction, page=0, page_size=PAGE_LOOKUP_MAX,
            select_columns=[pk_name],
        )
        if count > PAGE_LOOKUP_MAX:
            return 0
        wanted = self.datamodel.get_pk_value(item)
        for index, row in enumerate(rows):
            if getattr(row, pk_name) == wanted:
                return index // (self.page_size or 25)
        return 0

    def post_add_redirect(self) -> Any:
        return self._after_save()

    def post_edit_redirect(self) -> Any:
        return self._after_save()

    def post_delete_redirect(self) -> Any:
        return redirect(url_for(".list"))

    def _after_save(self) -> Any:
        item = getattr(g, "atende_saved", None)
        return redirect(self.saved_url(item) if item is not None else url_for(".list"))


def _limited(query_func: Callable[[], Any], rule: Callable[[Any], bool], keep: list) -> Callable[[], list]:
    def query() -> list:
        rows = [row for row in query_func() if rule(row) or row in keep]
        return rows + [row for row in keep if row not in rows]

    return query


class AtendeModelView(FormSavingMixin, DomainHooks, ModelView):
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
        if "zip_code" in kinds or hasattr(model, "zip_code"):
            for extra in (self.add_form_extra_fields, self.edit_form_extra_fields):
                extra.setdefault("zip_code", ZipCodeField(COLUMN_LABELS.get("zip_code", "CEP"),
                                                          validators=[Optional_(), Length(max=9)]))
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
