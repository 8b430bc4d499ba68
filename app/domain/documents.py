"""CPF, CNPJ and phone numbers: validation by check digits, digits-only storage (R23)."""
from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l

from app.domain.errors import ValidationError


def digits(value: str | None) -> str:
    """Return only the digits of a value typed with or without punctuation."""
    return re.sub(r"\D", "", value or "")


def _check_digit(numbers: list[int], weights: list[int]) -> int:
    rest = sum(n * w for n, w in zip(numbers, weights)) % 11
    return 0 if rest < 2 else 11 - rest


def is_valid_cpf(value: str | None) -> bool:
    number = digits(value)
    if len(number) != 11 or number == number[0] * 11:
        return False
    nums = [int(c) for c in number]
    first = _check_digit(nums[:9], list(range(10, 1, -1)))
    second = _check_digit(nums[:10], list(range(11, 1, -1)))
    return nums[9] == first and nums[10] == second


def is_valid_cnpj(value: str | None) -> bool:
    number = digits(value)
    if len(number) != 14 or number == number[0] * 14:
        return False
    nums = [int(c) for c in number]
    weights1 = [5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2]
    weights2 = [6] + weights1
    first = _check_digit(nums[:12], weights1)
    second = _check_digit(nums[:13], weights2)
    return nums[12] == first and nums[13] == second


def clean_document(value: str | None, person_type: str) -> str:
    """Return the document digits-only, or refuse an invalid CPF/CNPJ."""
    number = digits(value)
    if person_type == "PJ":
        if not is_valid_cnpj(number):
            raise ValidationError(_l("CNPJ inválido: confira os dígitos."), "document")
    elif not is_valid_cpf(number):
        raise ValidationError(_l("CPF inválido: confira os dígitos."), "document")
    return number


def format_document(number: str | None) -> str:
    number = digits(number)
    if len(number) == 11:
        return f"{number[:3]}.{number[3:6]}.{number[6:9]}-{number[9:]}"
    if len(number) == 14:
        return f"{number[:2]}.{number[2:5]}.{number[5:8]}/{number[8:12]}-{number[12:]}"
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
