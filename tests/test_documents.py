"""R23 as the law now stands: CPF and CNPJ, numeric or alphanumeric (IN RFB 2.229/2024), checked by their digits,
stored upper-case without punctuation, shown formatted, registered by the form, the API and the quick registration."""
from __future__ import annotations

import html
import random
import re
import string
from typing import Any

import pytest
import sqlalchemy as sa

from tests import factories
from tests.factories import make_cnpj
from tests.support import session

RECEITA_EXAMPLE = "12.ABC.345/01DE-35"  # the example of the Receita Federal's technical note
CHECK_DIGITS = "CNPJ inválido: confira os dígitos verificadores."
CNPJ_SHAPE = "CNPJ inválido: informe 14 caracteres, 12 letras ou números seguidos de 2 dígitos."
CPF_SHAPE = "CPF inválido: informe os 11 dígitos."
IS_A_CNPJ = "Este documento é um CNPJ: escolha pessoa jurídica ou informe o CPF."
IS_A_CPF = "Este documento é um CPF: escolha pessoa física ou informe o CNPJ."


def text(response: Any) -> str:
    return html.unescape(response.get_data(as_text=True))


def stored(app: Any) -> list[tuple[str, str]]:
    with session(app) as s:
        return [tuple(r) for r in s.execute(sa.text("SELECT name, document FROM customer ORDER BY id"))]


# ---------------------------------------------------------------- the rule, without the web


@pytest.mark.parametrize("base", ["12ABC34501DE", "A1B2C3D4E5F6", "ZZZZZZZZZZZ1", "AB0000000001", "TESTEATENDE0",
                                  "112223330001", "000000000001"])
def test_computed_cnpjs_are_valid_for_the_app_and_the_library(base):
    from validate_docbr import CNPJ

    from app.domain.documents import is_valid_cnpj

    cnpj = make_cnpj(base)
    assert is_valid_cnpj(cnpj) and CNPJ().validate(cnpj)
    assert is_valid_cnpj(cnpj.lower())
    wrong = cnpj[:13] + str((int(cnpj[13]) + 1) % 10)
    assert not is_valid_cnpj(wrong) and not CNPJ().validate(wrong)


def test_the_receita_example_is_valid_and_the_algorithm_agrees_with_the_library():
    from validate_docbr import CNPJ

    from app.domain.documents import format_document, is_valid_cnpj

    assert is_valid_cnpj(RECEITA_EXAMPLE)
    assert format_document(make_cnpj("12ABC34501DE")) == RECEITA_EXAMPLE
    rnd = random.Random(2229)
    alphabet = string.digits + string.ascii_uppercase
    library = CNPJ()
    for _ in range(300):
        base = "".join(rnd.choice(alphabet) for _ in range(12))
        cnpj = make_cnpj(base)
        assert is_valid_cnpj(cnpj), cnpj
        for digit in "0123456789":
            candidate = cnpj[:12] + cnpj[12] + digit
            assert is_valid_cnpj(candidate) == library.validate(candidate) == (digit == cnpj[13]), candidate
    for generated in (library.generate(digits_only=False) for _ in range(50)):
        assert make_cnpj(generated[:12]) == generated  # the library computes what the Receita prescribes


@pytest.mark.parametrize("value,person_type,expected", [
    ("12.ABC.345/01DE-35", "PJ", "12ABC34501DE35"),
    ("12.abc.345/01de-35", "PJ", "12ABC34501DE35"),
    ("12abc34501de35", "PJ", "12ABC34501DE35"),
    (" 12 ABC 345 01DE 35 ", "PJ", "12ABC34501DE35"),
    ("12.ABC.345/01DE–35", "PJ", "12ABC34501DE35"),        # en dash pasted from a document
    ("11.222.333/0001-81", "PJ", "11222333000181"),        # numeric CNPJs still valid
    ("11222333000181", "PJ", "11222333000181"),
    ("529.982.247-25", "PF", "52998224725"),
    ("52998224725", "PF", "52998224725"),
    ("12.ABC.345/01DE-36", "PJ", CHECK_DIGITS),
    ("12.ABC.345/01DE-53", "PJ", CHECK_DIGITS),
    ("11.222.333/0001-80", "PJ", CHECK_DIGITS),
    ("00.000.000/0000-00", "PJ", CHECK_DIGITS),
    ("12.ABC.345/01DE-3", "PJ", CNPJ_SHAPE),                # 13 characters
    ("12.ABC.345/01DE-355", "PJ", CNPJ_SHAPE),              # 15 characters
    ("12.ABC.345/01DE-3A", "PJ", CNPJ_SHAPE),               # a letter in the check digits
    ("12.ÀBC.345/01DE-35", "PJ", CNPJ_SHAPE),               # only A-Z
    ("１２.ABC.345/01DE-35", "PJ", CNPJ_SHAPE),              # only 0-9
    ("12.ABC.345/01DE-35 ltda", "PJ", CNPJ_SHAPE),
    ("", "PJ", CNPJ_SHAPE),
    ("12.ABC.345/01DE-35", "PF", IS_A_CNPJ),
    ("11.222.333/0001-81", "PF", IS_A_CNPJ),
    ("529.982.247-25", "PJ", IS_A_CPF),
    ("529.982.247-2", "PF", CPF_SHAPE),
    ("529.982.247-2A", "PF", CPF_SHAPE),
    ("", "PF", CPF_SHAPE),
    ("529.982.247-24", "PF", "CPF inválido: confira os dígitos."),
    ("111.111.111-11", "PF", "CPF inválido: confira os dígitos."),
])
def test_clean_document_stores_or_refuses_in_ptbr(app, value, person_type, expected):
    from app.domain.documents import clean_document
    from app.domain.errors import ValidationError

    with app.test_request_context("/"):
        if expected.isalnum():
            assert clean_document(value, person_type) == expected
        else:
            with pytest.raises(ValidationError) as refused:
                clean_document(value, person_type)
            assert str(refused.value.message) == expected
            assert refused.value.field == "document"


def test_documents_are_told_apart_by_length_and_shown_formatted():
    from app.domain.documents import document_kind, format_document, is_valid_cpf

    assert document_kind("529.982.247-25") == "CPF" and document_kind("12.abc.345/01de-35") == "CNPJ"
    assert document_kind("11.222.333/0001-81") == "CNPJ" and document_kind("12345") is None
    assert document_kind("12ABC345012") is None  # 11 characters, but a CPF has digits only
    assert format_document("12ABC34501DE35") == "12.ABC.345/01DE-35"
    assert format_document("12abc34501de35") == "12.ABC.345/01DE-35"
    assert format_document("11222333000181") == "11.222.333/0001-81"
    assert format_document("52998224725") == "529.982.247-25"
    assert format_document(None) == ""
    assert not is_valid_cpf("52998224") and not is_valid_cpf("000.000.000-00")  # no zero padding, no repeats


# ---------------------------------------------------------------- every door


def test_alphanumeric_cnpj_through_the_form_is_stored_and_shown_formatted(app, login, users):
    client = login("atendente")
    response = client.post("/customerview/add", data={"person_type": "PJ", "name": "Alfa Tecnologia Ltda",
                                                      "document": "12.abc.345/01de-35", "active": "y"},
                           follow_redirects=True)
    assert response.status_code == 200
    assert stored(app) == [("Alfa Tecnologia Ltda", "12ABC34501DE35")]
    page = text(response)
    assert "Alfa Tecnologia Ltda" in page and RECEITA_EXAMPLE in page, "the customer's page after saving"
    listing = text(client.get("/customerview/list/"))
    assert RECEITA_EXAMPLE in listing and "12ABC34501DE35" not in listing


def test_customer_edit_form_changes_to_an_alphanumeric_cnpj(app, login, users):
    with session(app) as s:
        pk = factories.customer(s, name="Beta Comércio", person_type="PJ", document="11222333000181").id
        s.commit()
    response = login("atendente").post(f"/customerview/edit/{pk}", data={
        "person_type": "PJ", "name": "Beta Comércio", "document": "a1b2c3d4e5f668", "active": "y", "expected_version": "1"},
        follow_redirects=True)
    assert response.status_code == 200
    assert stored(app) == [("Beta Comércio", "A1B2C3D4E5F668")]
    assert "A1.B2C.3D4/E5F6-68" in text(response)


def test_alphanumeric_cnpj_through_the_api(app, api, users):
    client = api("atendente")
    response = client.post("/api/v1/customer/", json={"person_type": "PJ", "name": "Gama Serviços",
                                                      "document": "zz.zzz.zzz/zzz1-05"})
    assert response.status_code == 201, response.json
    assert stored(app) == [("Gama Serviços", "ZZZZZZZZZZZ105")]
    shown = client.get(f"/api/v1/customer/{response.json['id']}")
    assert shown.json["result"]["document"] == "ZZZZZZZZZZZ105"
    found = client.get("/api/v1/customer/?q=(filters:!((col:document,opr:eq,value:ZZZZZZZZZZZ105)))")
    assert [row["name"] for row in found.json["result"]] == ["Gama Serviços"]


def test_alphanumeric_cnpj_through_the_quick_registration_then_found(app, login, users):
    client = login("atendente")
    response = client.post("/atendimento/cliente", data={"person_type": "PJ", "name": "Delta Telecom",
                                                         "document": "12.abc.345/01de-35", "phone": "(11) 3333-4444"})
    assert response.status_code == 302
    assert "q=12ABC34501DE35" in response.headers["Location"]
    assert stored(app) == [("Delta Telecom", "12ABC34501DE35")]
    page = text(client.get(response.headers["Location"]))
    assert "Cliente Delta Telecom cadastrado." in page
    assert re.search(r"Delta Telecom.*12\.ABC\.345/01DE-35", page, re.S), "the search result row, formatted"


def test_the_same_cnpj_in_another_case_is_a_duplicate(app, api, users):
    client = api("atendente")
    first = client.post("/api/v1/customer/", json={"person_type": "PJ", "name": "Primeira", "document": RECEITA_EXAMPLE})
    assert first.status_code == 201
    second = client.post("/api/v1/customer/", json={"person_type": "PJ", "name": "Segunda", "document": "12abc34501de35"})
    assert second.status_code in (400, 409, 422)
    assert second.json["message"] == "Já existe um cliente com este CPF/CNPJ."
    assert stored(app) == [("Primeira", "12ABC34501DE35")]


@pytest.mark.parametrize("person_type,document,message", [
    ("PJ", "12.ABC.345/01DE-36", CHECK_DIGITS),
    ("PJ", "12.abc.345/01de-3", CNPJ_SHAPE),
    ("PF", "12.ABC.345/01DE-35", IS_A_CNPJ),
])
def test_invalid_cnpj_is_refused_in_ptbr_by_every_door_with_nothing_saved(app, api, login, users,
                                                                          person_type, document, message):
    client = login("atendente")
    form = client.post("/customerview/add", data={"person_type": person_type, "name": "Recusada",
                                                  "document": document, "active": "y"}, follow_redirects=True)
    assert form.status_code == 200
    page = text(form)
    assert message in page
    assert f'value="{document}"' in page, "the typed value stays in the form"
    response = api("atendente").post("/api/v1/customer/", json={"person_type": person_type, "name": "Recusada",
                                                                 "document": document})
    assert response.status_code in (400, 422)
    assert response.json["message"] == message
    quick = client.post("/atendimento/cliente", data={"person_type": person_type, "name": "Recusada",
                                                      "document": document})
    assert quick.status_code == 200
    page = text(quick)
    assert "Cliente não cadastrado: corrija o campo indicado." in page
    assert re.search(r'id="quick-document"[^>]*>\s*<span class="help-block atende-field-error">'
                     + re.escape(message), page), "the message under the document field"
    assert stored(app) == []
