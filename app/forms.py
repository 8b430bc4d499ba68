"""Form fields for pt-BR dates and remote (AJAX) look-ups of big tables."""
from __future__ import annotations

import datetime as dt
from typing import Any, Optional

from flask import url_for
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from wtforms import Field
from wtforms.fields import DateField, DateTimeField, StringField

from app.domain.inputs import parse_id
from app.extensions import db


class BRDateWidget:
    """A text input with the pt-BR date picker (dd/mm/aaaa)."""

    css_class = "atende_date"
    placeholder = "dd/mm/aaaa"

    def __call__(self, field: Field, **kwargs: Any) -> Markup:
        kwargs.setdefault("id", field.id)
        kwargs.setdefault("name", field.name)
        kwargs["class"] = f"form-control {self.css_class}"
        value = field._value()
        return Markup(
            '<div class="input-group"><span class="input-group-addon"><i class="fa fa-calendar"></i></span>'
            f'<input type="text" autocomplete="off" placeholder="{self.placeholder}" value="{escape(value)}" '
            + " ".join(k if v is True else f'{k}="{escape(v)}"' for k, v in kwargs.items() if v not in (None, False))
            + "></div>"
        )


class BRDateTimeWidget(BRDateWidget):
    css_class = "atende_datetime"
    placeholder = "dd/mm/aaaa hh:mm"


class BRDateField(DateField):
    widget = BRDateWidget()

    def __init__(self, label: Any = None, validators: Any = None, **kwargs: Any) -> None:
        super().__init__(label, validators, format="%d/%m/%Y", **kwargs)
        self.gettext_message = _l("Data inválida: use dd/mm/aaaa.")

    def process_formdata(self, valuelist: list[str]) -> None:
        if not valuelist or not " ".join(valuelist).strip():
            self.data = None  # an empty date is no date (a required one is refused by its validators)
            return
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(str(self.gettext_message))


class BRDateTimeField(DateTimeField):
    widget = BRDateTimeWidget()

    def __init__(self, label: Any = None, validators: Any = None, **kwargs: Any) -> None:
        super().__init__(label, validators, format=["%d/%m/%Y %H:%M", "%d/%m/%Y"], **kwargs)

    def _value(self) -> str:
        if self.raw_data:
            return " ".join(self.raw_data)
        return self.data.strftime("%d/%m/%Y %H:%M") if self.data else ""

    def process_formdata(self, valuelist: list[str]) -> None:
        if not valuelist or not " ".join(valuelist).strip():
            self.data = None
            return
        text = " ".join(valuelist).strip()
        for fmt in self.strptime_format:
            try:
                self.data = dt.datetime.strptime(text, fmt)
                return
            except ValueError:
                continue
        self.data = None
        raise ValueError(str(_l("Data e hora inválidas: use dd/mm/aaaa hh:mm.")))


class DigitsField(StringField):
    """A code typed with punctuation and stored as its digits (CEP, phone): the form accepts what people type."""

    def process_formdata(self, valuelist: list[str]) -> None:
        super().process_formdata(valuelist)
        self.data = "".join(c for c in (self.data or "") if c.isdigit()) or None


class ZipCodeField(DigitsField):
    def pre_validate(self, form: Any) -> None:
        if self.data and len(self.data) != 8:
            raise ValueError(str(_l("CEP inválido: informe os 8 dígitos.")))


class LookupWidget:
    """A select filled on demand from a look-up endpoint (select2 with AJAX)."""

    def __call__(self, field: "LookupField", **kwargs: Any) -> Markup:
        url = url_for("LookupView.lookup", kind=field.kind)
        options = '<option value=""></option>'
        if field.data is not None:
            options += f'<option value="{field.data.id}" selected>{escape(str(field.data))}</option>'
        select = Markup(
            f'<select id="{field.id}" name="{field.name}" class="form-control atende_lookup" '
            f'data-url="{url}" data-min-length="{0 if field.kind == "contract" else 2}" data-placeholder="{escape(str(_l("Digite para buscar…")))}"'
            + (" disabled" if kwargs.get("disabled") else "") + f'>{options}</select>'
        )
        if field.kind != "contract":
            return select
        return select + Markup(
            f'<label class="checkbox-inline atende-show-cancelled"><input type="checkbox" data-for="{field.id}" '
            f'id="{field.id}-cancelados"> {escape(str(_l("Exibir cancelados")))}</label>'
        )


class LookupField(Field):
    """A many-to-one field that loads only the chosen row, never the whole table."""

    widget = LookupWidget()

    def __init__(self, label: Any = None, validators: Any = None, model: Any = None, kind: str = "", **kwargs: Any) -> None:
        super().__init__(label, validators, **kwargs)
        self.model = model
        self.kind = kind

    def process_formdata(self, valuelist: list[str]) -> None:
        raw = (valuelist[0] if valuelist else "").strip()
        if not raw:
            self.data = None
            return
        pk = parse_id(raw)
        self.data = db.session.get(self.model, pk) if pk is not None else None
        if self.data is None:
            raise ValueError(str(_l("Escolha inválida.")))

    def _value(self) -> str:
        return str(self.data.id) if self.data is not None else ""


class ReadOnlyWidget:
    def __call__(self, field: Field, **kwargs: Any) -> Markup:
        return Markup(f'<p class="form-control-static atende-protocol" id="{field.id}">{escape(field._value())}</p>')


class ReadOnlyField(Field):
    """Shows a value in a form; never writes it back to the object."""

    widget = ReadOnlyWidget()

    def process_formdata(self, valuelist: list[str]) -> None:
        pass

    def _value(self) -> str:
        return str(self.data) if self.data is not None else ""

    def populate_obj(self, obj: Any, name: str) -> None:
        pass


def lookup_field(label: Any, model: Any, kind: str, validators: Optional[list] = None) -> LookupField:
    return LookupField(label, validators or [], model=model, kind=kind)
