"""CPF, CNPJ (numeric or alphanumeric) and phone numbers: validation by check digits, storage without punctuation (R23)."""
from __future__ import annotations

import re
from typing import Literal, Optional

from flask_babel import lazy_gettext as _l
from validate_docbr import CNPJ, CPF

from app.domain.errors import ValidationError

_CPF = CPF()
_CNPJ = CNPJ()
_PUNCTUATION = re.compile(r"[\s./\-\u2010-\u2015]")
CPF_PATTERN = re.compile(r"[0-9]{11}")
CNPJ_PATTERN = re.compile(r"[0-9A-Z]{12}[0-9]{2}")  # IN RFB 2.229/2024: 12 letters or digits, 2 check digits
DOCUMENT_PREFIX = re.compile(r"[0-9A-Z]{1,14}")


def digits(value: str | None) -> str:
    """Return only the digits 0-9 of a value typed with or without punctuation."""
    return re.sub(r"[^0-9]", "", value or "")


def normalize_document(value: str | None) -> str:
    """Return a CPF/CNPJ as stored: without punctuation or spaces, letters in upper case."""
    number = _PUNCTUATION.sub("", value or "")
    return number.upper() if number.isascii() else number  # "ß".upper() is "SS": never turn other letters into A-Z


def document_kind(value: str | None) -> Optional[Literal["CPF", "CNPJ"]]:
    """Tell a CPF (11 digits) from a CNPJ (14 characters) by its length once cleaned, without checking digits."""
    number = normalize_document(value)
    if CPF_PATTERN.fullmatch(number):
        return "CPF"
    if CNPJ_PATTERN.fullmatch(number):
        return "CNPJ"
    return None


def document_prefix(text: str | None) -> Optional[str]:
    """Return the stored form of a CPF/CNPJ typed in full or in part, or None when the text cannot be one."""
    number = normalize_document(text)
    return number if DOCUMENT_PREFIX.fullmatch(number) else None


def is_valid_cpf(value: str | None) -> bool:
    """A CPF of 11 digits whose check digits are right (validate-docbr)."""
    number = normalize_document(value)
    return bool(CPF_PATTERN.fullmatch(number)) and _CPF.validate(number)


def is_valid_cnpj(value: str | None) -> bool:
    """A numeric or alphanumeric CNPJ whose check digits are right (validate-docbr)."""
    number = normalize_document(value)
    return bool(CNPJ_PATTERN.fullmatch(number)) and _CNPJ.validate(number)


def clean_document(value: str | None, person_type: str) -> str:
    """Return the document as stored (no punctuation, upper case), or refuse one invalid for the person type."""
    number = normalize_document(value)
    kind = document_kind(number)
    if person_type == "PJ":
        if kind == "CPF":
            raise ValidationError(_l("Este documento é um CPF: escolha pessoa física ou informe o CNPJ."), "document")
        if kind != "CNPJ":
            raise ValidationError(
                _l("CNPJ inválido: informe 14 caracteres, 12 letras ou números seguidos de 2 dígitos."), "document")
        if not is_valid_cnpj(number):
            raise ValidationError(_l("CNPJ inválido: confira os dígitos verificadores."), "document")
        return number
    if kind == "CNPJ":
        raise ValidationError(_l("Este documento é um CNPJ: escolha pessoa jurídica ou informe o CPF."), "document")
    if kind != "CPF":
        raise ValidationError(_l("CPF inválido: informe os 11 dígitos."), "document")
    if not is_valid_cpf(number):
        raise ValidationError(_l("CPF inválido: confira os dígitos."), "document")
    return number


def format_document(number: str | None) -> str:
    """Show a stored CPF as 000.000.000-00 and a CNPJ as AA.AAA.AAA/AAAA-00."""
    number = normalize_document(number)
    kind = document_kind(number)
    if kind == "CPF":
        return _CPF.mask(number)
    if kind == "CNPJ":
        return _CNPJ.mask(number)
    return number


def clean_phone(value: str | None) -> str:
    number = digits(value)
    if number.startswith("55") and len(number) > 11:
        number = number[2:]
    if len(number) not in (10, 11):
        raise ValidationError(
            _l("Telefone inválido: informe DDD e número (10 ou 11 dígitos)."), "number"
        )
    return number


def clean_zip_code(value: str | None) -> str | None:
    """A CEP typed with or without its hyphen, stored as its 8 digits."""
    number = digits(value)
    if not number:
        return None
    if len(number) != 8:
        raise ValidationError(_l("CEP inválido: informe os 8 dígitos."), "zip_code")
    return number


def format_phone(number: str | None) -> str:
    number = digits(number)
    if len(number) == 11:
        return f"({number[:2]}) {number[2:7]}-{number[7:]}"
    if len(number) == 10:
        return f"({number[:2]}) {number[2:6]}-{number[6:]}"
    return number
