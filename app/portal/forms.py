"""The portal's forms (Flask-WTF: every one carries its CSRF token)."""
from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, HiddenField, PasswordField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from app.domain.documents import is_valid_cnpj, is_valid_cpf
from app.models import LONG_TEXT, NOTE_TEXT

REQUIRED = _l("Preencha este campo.")


def valid_document(form: Any, field: Any) -> None:
    """A CPF or CNPJ (numeric or alphanumeric) with right check digits, typed with or without punctuation."""
    if not (is_valid_cpf(field.data) or is_valid_cnpj(field.data)):
        raise ValidationError(str(_l("Informe um CPF ou CNPJ válido.")))


class LoginForm(FlaskForm):
    document = StringField(_l("CPF/CNPJ"), validators=[DataRequired(REQUIRED), Length(max=30)])
    password = PasswordField(_l("Senha"), validators=[DataRequired(REQUIRED), Length(max=128)])


class DocumentForm(FlaskForm):
    document = StringField(_l("CPF/CNPJ"), validators=[DataRequired(REQUIRED), Length(max=30), valid_document])


class PasswordForm(FlaskForm):
    password = PasswordField(_l("Nova senha"), validators=[DataRequired(REQUIRED), Length(max=128)])
    confirm = PasswordField(_l("Repita a nova senha"), validators=[DataRequired(REQUIRED), Length(max=128)])


class ChangePasswordForm(PasswordForm):
    current = PasswordField(_l("Senha atual"), validators=[DataRequired(REQUIRED), Length(max=128)])


class PreferencesForm(FlaskForm):
    """The customer's opt-outs; an unticked box is a False, never a missing answer."""

    accepts_email = BooleanField(_l("Receber mensagens e respostas por e-mail"))
    accepts_sms = BooleanField(_l("Receber mensagens e respostas por SMS"))


class NewTicketForm(FlaskForm):
    contract = SelectField(_l("Contrato"), choices=[], validate_choice=False)
    subject = SelectField(_l("Assunto"), choices=[], validate_choice=False,
                          validators=[DataRequired(_l("Escolha o assunto."))])
    description = TextAreaField(_l("Descreva o que está acontecendo"),
                                validators=[DataRequired(REQUIRED), Length(max=LONG_TEXT)])
    file = FileField(_l("Anexar um arquivo (opcional)"))


class ReiterateForm(FlaskForm):
    text = TextAreaField(_l("Informações adicionais"), validators=[DataRequired(REQUIRED), Length(max=LONG_TEXT)])
    file = FileField(_l("Anexar um arquivo (opcional)"))


class ComplaintForm(FlaskForm):
    text = TextAreaField(_l("Descreva a reclamação"), validators=[DataRequired(REQUIRED), Length(max=LONG_TEXT)])


class ReopenForm(FlaskForm):
    reason = TextAreaField(_l("Por que o problema continua?"),
                           validators=[DataRequired(REQUIRED), Length(max=NOTE_TEXT)])


class RateForm(FlaskForm):
    rating = RadioField(_l("Sua nota"), choices=[(str(n), str(n)) for n in range(1, 6)], validate_choice=False,
                        validators=[DataRequired(_l("Escolha uma nota de 1 a 5."))])
    comment = TextAreaField(_l("Comentário (opcional)"), validators=[Optional(), Length(max=NOTE_TEXT)])
    version = HiddenField()


class LogoutForm(FlaskForm):
    pass
